package striped_test

import (
	"testing"

	"hourglass/loglet"
	"hourglass/loglet/loglettest"
	"hourglass/loglet/mem"
	"hourglass/loglet/striped"
)

func openStriped(t testing.TB, stripes []loglet.Loglet) *striped.Loglet {
	t.Helper()
	l, err := striped.Open(striped.Config{Stripes: stripes, Fresh: true})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func memStripes(n int) []loglet.Loglet {
	var s []loglet.Loglet
	for range n {
		s = append(s, mem.New())
	}
	return s
}

func TestConformanceMem(t *testing.T) {
	for _, n := range []int{1, 2, 3} {
		t.Run(string(rune('0'+n)), func(t *testing.T) {
			loglettest.Run(t, loglettest.Harness{
				New: func(t *testing.T) loglet.Loglet { return openStriped(t, memStripes(n)) },
			})
		})
	}
}
