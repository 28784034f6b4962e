package mem_test

import (
	"testing"

	"hourglass/loglet"
	"hourglass/loglet/loglettest"
	"hourglass/loglet/mem"
)

func TestConformance(t *testing.T) {
	loglettest.Run(t, loglettest.Harness{
		New: func(t *testing.T) loglet.Loglet { return mem.New() },
	})
}
