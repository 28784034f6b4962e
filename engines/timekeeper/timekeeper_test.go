package timekeeper_test

import (
	"context"
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"hourglass/engines/timekeeper"
	"hourglass/platform"
	"hourglass/platform/platformtest"
)

// clockApp records the log time each proposal and each entry's hook saw.
type clockApp struct {
	mu           sync.Mutex
	times, hooks []int64
}

func (c *clockApp) Apply(txn platform.Txn, e *platform.Entry, at platform.Version) (platform.Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.times = append(c.times, timekeeper.Time(e).UnixMilli())
	return platform.Result{}, nil
}

func (c *clockApp) PostApply(*platform.Entry, platform.Version) {}

func (c *clockApp) ApplyEntry(txn platform.Txn, e *platform.Entry, at platform.Version) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hooks = append(c.hooks, timekeeper.Time(e).UnixMilli())
	return nil
}

func (c *clockApp) PostApplyEntry(*platform.Entry, platform.Version) {}

// TestLogTimeMonotonic: the log time never goes backwards even when a
// proposer's clock does, and the per-entry hook sees it too.
func TestLogTimeMonotonic(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var mu sync.Mutex
	now := time.UnixMilli(1_000_000)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	base, _ := platformtest.NewBase(t)
	tk := timekeeper.New(base, clock)
	app := &clockApp{}
	tk.RegisterUpcall(app)
	if err := base.Start(); err != nil {
		t.Fatal(err)
	}
	for _, step := range []time.Duration{0, time.Second, -5 * time.Second, 2 * time.Second, 10 * time.Second} {
		mu.Lock()
		now = now.Add(step)
		mu.Unlock()
		if _, err := tk.Propose(ctx, &platform.Entry{}); err != nil {
			t.Fatal(err)
		}
	}
	base.Close()
	app.mu.Lock()
	defer app.mu.Unlock()
	want := []int64{1_000_000, 1_001_000, 1_001_000, 1_001_000, 1_008_000}
	for i := range want {
		if app.times[i] != want[i] || app.hooks[i] != want[i] {
			t.Fatalf("log times %v, hooks saw %v, want %v", app.times, app.hooks, want)
		}
	}
}

// TestStoredFormatVersions: version 1 stores the log time alone, version
// 2 the time and the position of the entry that advanced it, switched at
// the entry where the version changes.
func TestStoredFormatVersions(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var mu sync.Mutex
	now, version := time.UnixMilli(1_000_000), uint32(1)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); now = now.Add(time.Second); return now }
	base, log := platformtest.NewBase(t)
	tk := timekeeper.New(base, clock)
	tk.SetVersion(func() uint32 { mu.Lock(); defer mu.Unlock(); return version })
	tk.RegisterUpcall(&clockApp{})
	if err := base.Start(); err != nil {
		t.Fatal(err)
	}
	stored := func() []byte {
		t.Helper()
		if _, err := tk.Propose(ctx, &platform.Entry{}); err != nil {
			t.Fatal(err)
		}
		v, err := base.Sync(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		b, _, err := platform.EngineReader(v, tk.Name()).Get([]byte("now"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if b := stored(); len(b) != 8 || int64(binary.BigEndian.Uint64(b)) != 1_001_000 {
		t.Fatalf("v1 record %x", b)
	}
	mu.Lock()
	version = 2
	mu.Unlock()
	b := stored()
	tail, _ := log.CheckTail(ctx)
	if len(b) != 16 || int64(binary.BigEndian.Uint64(b)) != 1_002_000 || binary.BigEndian.Uint64(b[8:]) != tail-1 {
		t.Fatalf("v2 record %x, want the time 1002000 and position %d", b, tail-1)
	}
	if lo, hi := timekeeper.Versions(); lo != 1 || hi < 1 {
		t.Fatalf("Versions() = %d, %d", lo, hi)
	}
}
