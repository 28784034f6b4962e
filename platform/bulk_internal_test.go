package platform

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"hourglass/internal/pebbledb"
)

// memLog is a minimal in-memory Log for the internal test.
type memLog struct {
	mu      sync.Mutex
	entries [][]byte
	changed chan struct{}
}

func (m *memLog) Append(ctx context.Context, id AppendID, entries [][]byte) (Position, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	pos := Position(len(m.entries))
	m.entries = append(m.entries, entries...)
	close(m.changed)
	m.changed = make(chan struct{})
	return pos, nil
}
func (m *memLog) CheckTail(context.Context) (Position, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return Position(len(m.entries)), nil
}

func (m *memLog) ReadNext(ctx context.Context, from Position, max int) ([][]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for int(from) >= len(m.entries) {
		ch := m.changed
		m.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			m.mu.Lock()
			return nil, ctx.Err()
		}
		m.mu.Lock()
	}
	return m.entries[from:min(len(m.entries), int(from)+max)], nil
}
func (m *memLog) PrefixTrim(context.Context, Position) error { return nil }

// bulkApp bulk-writes n keys per entry "n" and records replays.
type bulkApp struct{ replayed []bool }

func (a *bulkApp) Apply(txn Txn, e *Entry, at Version) (Result, error) {
	a.replayed = append(a.replayed, BulkReplayed(txn))
	bw, err := Bulk(txn)
	if err != nil {
		return Result{}, err
	}
	var n int
	fmt.Sscan(string(e.Body), &n)
	for i := range n {
		if err := bw.Set([]byte(fmt.Sprintf("k%05d", i)), []byte(fmt.Sprintf("v%d-%d", at.Pos, i))); err != nil {
			return Result{}, err
		}
	}
	return Result{}, nil
}
func (a *bulkApp) PostApply(*Entry, Version) {}

// TestBulkReplayAfterIngest stops the apply loop between an entry's bulk
// ingest and its commit, as a crash would, and starts the engine again
// on the same store: the entry applies again as a replay, the marker
// goes, and the state and checksum are those of an engine that never
// stopped.
func TestBulkReplayAfterIngest(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	log := &memLog{changed: make(chan struct{})}
	start := func(fs vfs.FS) (*BaseEngine, *Mount, *bulkApp) {
		t.Helper()
		d, err := pebbledb.Open("store", pebbledb.Options{FS: fs})
		if err != nil {
			t.Fatal(err)
		}
		base, err := NewBase(BaseConfig{Log: log, Store: d, ScratchFS: fs, ScratchDir: "scratch"})
		if err != nil {
			t.Fatal(err)
		}
		app := &bulkApp{}
		m := NewRouter(base).Mount("m")
		m.RegisterUpcall(app)
		if err := base.Start(); err != nil {
			t.Fatal(err)
		}
		return base, m, app
	}
	fs := vfs.NewMem()
	base, m, _ := start(fs)
	if _, err := m.Propose(ctx, &Entry{Body: []byte("500")}); err != nil {
		t.Fatal(err)
	}
	crash := errors.New("stopped between the ingest and the commit")
	testHookAfterIngest = func() error { return crash }
	pctx, pcancel := context.WithTimeout(ctx, time.Second)
	m.Propose(pctx, &Entry{Body: []byte("700")})
	pcancel()
	if err := base.Err(); err == nil || !errors.Is(err, crash) {
		t.Fatalf("the apply loop did not stop at the hook: %v", err)
	}
	base.Close()
	base.Store().Close()
	testHookAfterIngest = nil // the apply loop is gone

	base, m, app := start(fs)
	defer func() { base.Close(); base.Store().Close() }()
	v, err := m.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v.Applied() != 2 {
		t.Fatalf("applied %d after the restart, want 2", v.Applied())
	}
	got, _, _ := v.Get([]byte("k00600"))
	v.Close()
	if string(got) != "v1-600" {
		t.Fatalf("k00600 = %q after the replay", got)
	}
	if len(app.replayed) != 1 || !app.replayed[0] {
		t.Fatalf("the restarted engine's applies were replays: %v, want [true]", app.replayed)
	}
	if _, ok, _ := (pebbleReader{base.Store()}).Get(keyBulk); ok {
		t.Fatal("the bulk marker is still in the store")
	}
	_, sum, err := base.Checksum(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	// An engine that never stopped, over the same log.
	clean, _, _ := start(vfs.NewMem())
	defer func() { clean.Close(); clean.Store().Close() }()
	_, cleanSum, err := clean.Checksum(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sum, cleanSum) {
		t.Fatal("the replayed store's checksum differs from a clean apply's")
	}
}
