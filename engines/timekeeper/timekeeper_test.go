package timekeeper_test

import (
	"context"
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
