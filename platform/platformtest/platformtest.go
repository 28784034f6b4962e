// Package platformtest builds engine stacks for tests: a BaseEngine over
// an in-memory loglet and an in-memory Pebble store.
package platformtest

import (
	"context"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"hourglass/internal/pebbledb"
	"hourglass/loglet/mem"
	"hourglass/platform"
)

// MemLog adapts one in-memory loglet to platform.Log.
type MemLog struct{ *mem.Loglet }

// CheckTail implements platform.Log.
func (m MemLog) CheckTail(ctx context.Context) (platform.Position, error) {
	t, _, err := m.Loglet.CheckTail(ctx)
	return t, err
}

// NewBase returns an unstarted BaseEngine over a fresh in-memory log and
// store, and the log. Both the engine and the store close when the test
// ends.
func NewBase(t testing.TB) (*platform.BaseEngine, MemLog) {
	t.Helper()
	db, err := pebbledb.Open("store", pebbledb.Options{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	log := MemLog{mem.New()}
	base, err := platform.NewBase(platform.BaseConfig{Log: log, Store: db})
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		base.Close()
		db.Close()
	})
	return base, log
}
