// Package platformtest builds engine stacks for tests: a BaseEngine over
// an in-memory log and an in-memory Pebble store.
package platformtest

import (
	"context"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"hourglass/internal/pebbledb"
	"hourglass/platform"
)

// MemLog is an in-memory platform.Log: appends are durable at once,
// ReadNext blocks until the position is written, PrefixTrim drops a
// prefix. It is safe for concurrent use.
type MemLog struct {
	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every append
	entries [][]byte      // entries[i] is at position trimmed+i
	trimmed platform.Position
}

var _ platform.Log = (*MemLog)(nil)

// NewMemLog returns an empty log.
func NewMemLog() *MemLog { return &MemLog{changed: make(chan struct{})} }

// Append implements platform.Log.
func (m *MemLog) Append(ctx context.Context, id platform.AppendID, entries [][]byte) (platform.Position, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	pos := m.trimmed + platform.Position(len(m.entries))
	for _, e := range entries {
		m.entries = append(m.entries, append([]byte(nil), e...))
	}
	close(m.changed)
	m.changed = make(chan struct{})
	return pos, nil
}

// CheckTail implements platform.Log.
func (m *MemLog) CheckTail(ctx context.Context) (platform.Position, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.trimmed + platform.Position(len(m.entries)), nil
}

// ReadNext implements platform.Log.
func (m *MemLog) ReadNext(ctx context.Context, from platform.Position, max int) ([][]byte, error) {
	for {
		m.mu.Lock()
		if from < m.trimmed {
			m.mu.Unlock()
			return nil, platform.ErrTrimmed
		}
		if i := int(from - m.trimmed); i < len(m.entries) {
			out := m.entries[i:min(len(m.entries), i+max)]
			m.mu.Unlock()
			return out, nil
		}
		ch := m.changed
		m.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// PrefixTrim implements platform.Log.
func (m *MemLog) PrefixTrim(ctx context.Context, pos platform.Position) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if pos <= m.trimmed {
		return nil
	}
	n := min(int(pos-m.trimmed), len(m.entries))
	m.entries = m.entries[n:]
	m.trimmed += platform.Position(n)
	return nil
}

// NewBase returns an unstarted BaseEngine over a fresh in-memory log and
// store, and the log. Both the engine and the store close when the test
// ends.
func NewBase(t testing.TB) (*platform.BaseEngine, *MemLog) {
	t.Helper()
	log := NewMemLog()
	return NewBaseOn(t, log), log
}

// NewBaseOn returns an unstarted BaseEngine over log (shared with other
// engines: each one a node's) and a fresh in-memory store, closed when
// the test ends.
func NewBaseOn(t testing.TB, log platform.Log) *platform.BaseEngine {
	t.Helper()
	fs := vfs.NewMem()
	db, err := pebbledb.Open("store", pebbledb.Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	base, err := platform.NewBase(platform.BaseConfig{Log: log, Store: db, ScratchFS: fs, ScratchDir: "scratch"})
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		base.Close()
		db.Close()
	})
	return base
}
