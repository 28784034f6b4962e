package batching_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"testing"
	"time"

	"hourglass/engines/batching"
	"hourglass/engines/timekeeper"
	"hourglass/platform"
	"hourglass/platform/platformtest"
)

// counter applies "incr" proposals to one counter, records the order and
// the versions proposals applied at, and counts PostApply and hook calls.
type counter struct {
	mu    sync.Mutex
	post  int
	order []string
	subs  map[platform.Position][]uint32 // Apply's sub-positions, per entry
	hooks map[platform.Position]uint32   // the hook's sub-position, per entry
}

func newCounter() *counter {
	return &counter{subs: map[platform.Position][]uint32{}, hooks: map[platform.Position]uint32{}}
}

func (c *counter) Apply(txn platform.Txn, e *platform.Entry, at platform.Version) (platform.Result, error) {
	c.mu.Lock()
	c.order = append(c.order, string(e.Body))
	c.subs[at.Pos] = append(c.subs[at.Pos], at.Sub)
	c.mu.Unlock()
	v, _, err := txn.Get([]byte("n"))
	if err != nil {
		return platform.Result{}, err
	}
	var n uint64
	if len(v) == 8 {
		n = binary.BigEndian.Uint64(v)
	}
	n++
	return platform.Result{Value: n}, txn.Set([]byte("n"), binary.BigEndian.AppendUint64(nil, n))
}

func (c *counter) PostApply(e *platform.Entry, at platform.Version) {
	c.mu.Lock()
	c.post++
	c.mu.Unlock()
}

func (c *counter) ApplyEntry(txn platform.Txn, e *platform.Entry, at platform.Version) error {
	c.mu.Lock()
	c.hooks[at.Pos] = at.Sub
	c.mu.Unlock()
	return nil
}

func (c *counter) PostApplyEntry(*platform.Entry, platform.Version) {}

// Name gives the counter a namespace (it sits right on the batching
// engine).
func (c *counter) Name() string { return "counter" }

func start(t *testing.T, cfg batching.Config) (*batching.Engine, *platformtest.MemLog, *platform.BaseEngine, *counter) {
	t.Helper()
	base, log := platformtest.NewBase(t)
	b := batching.New(base, cfg)
	app := newCounter()
	b.RegisterUpcall(app)
	if err := base.Start(); err != nil {
		t.Fatal(err)
	}
	return b, log, base, app
}

func TestBatchesConcurrentProposals(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, log, base, app := start(t, batching.Config{MaxProposals: 16})
	const proposers, each = 64, 20
	var mu sync.Mutex
	seen := map[uint64]bool{}
	var wg sync.WaitGroup
	for range proposers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				r, err := b.Propose(ctx, &platform.Entry{Body: []byte("incr")})
				if err != nil || r.Err != nil {
					t.Error(err, r.Err)
					return
				}
				n := r.Value.(uint64)
				mu.Lock()
				if seen[n] {
					t.Errorf("result %d returned twice", n)
				}
				seen[n] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != proposers*each {
		t.Fatalf("%d distinct results, want %d", len(seen), proposers*each)
	}
	entries, _ := log.CheckTail(ctx)
	if entries >= proposers*each {
		t.Fatalf("%d proposals took %d log entries: nothing was batched", proposers*each, entries)
	}
	// PostApply follows the results; the apply loop has run it for every
	// entry once it stops.
	base.Close()
	app.mu.Lock()
	defer app.mu.Unlock()
	if app.post != proposers*each {
		t.Fatalf("PostApply called %d times, want %d", app.post, proposers*each)
	}
	checkSubs(t, app, entries)
	t.Logf("%d proposals in %d log entries", proposers*each, entries)
}

// checkSubs: in every entry, the proposals applied at sub-positions 0, 1,
// ... and the hook ran once, at the next one.
func checkSubs(t *testing.T, app *counter, entries platform.Position) {
	t.Helper()
	for pos := range entries {
		subs := app.subs[pos]
		for i, s := range subs {
			if s != uint32(i) {
				t.Fatalf("entry %d: proposals at sub-positions %v", pos, subs)
			}
		}
		if hook, ok := app.hooks[pos]; !ok || hook != uint32(len(subs)) {
			t.Fatalf("entry %d with %d proposals: hook at %d (ran: %v)", pos, len(subs), hook, ok)
		}
	}
}

// TestStreamsKeepOrder: proposals made on one stream, without waiting,
// apply in the order made, while several streams and unordered proposers
// share batches.
func TestStreamsKeepOrder(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, log, base, app := start(t, batching.Config{MaxProposals: 8})
	const streams, each = 6, 200
	var wg sync.WaitGroup
	for s := range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := b.NewStream()
			var ps []*platform.Pending
			for i := range each {
				ps = append(ps, st.Propose(&platform.Entry{Body: []byte(fmt.Sprintf("s%d-%d", s, i))}))
			}
			var last uint64
			for i, p := range ps {
				r, err := p.Wait(ctx)
				if err != nil || r.Err != nil {
					t.Error(err, r.Err)
					return
				}
				if n := r.Value.(uint64); n <= last {
					t.Errorf("stream %d: proposal %d applied as %d, after %d", s, i, n, last)
				} else {
					last = n
				}
			}
		}()
	}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each / 4 {
				if _, err := b.Propose(ctx, &platform.Entry{Body: []byte("free")}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	entries, _ := log.CheckTail(ctx)
	base.Close()
	app.mu.Lock()
	defer app.mu.Unlock()
	next := make([]int, streams)
	for _, body := range app.order {
		var s, i int
		if _, err := fmt.Sscanf(body, "s%d-%d", &s, &i); err != nil {
			continue
		}
		if i != next[s] {
			t.Fatalf("stream %d: proposal %d applied when %d was next", s, i, next[s])
		}
		next[s]++
	}
	checkSubs(t, app, entries)
	t.Logf("%d proposals in %d entries", len(app.order), entries)
}

// timeApp records the log time each proposal saw.
type timeApp struct {
	mu    sync.Mutex
	times []int64
}

func (a *timeApp) Apply(txn platform.Txn, e *platform.Entry, at platform.Version) (platform.Result, error) {
	a.mu.Lock()
	a.times = append(a.times, timekeeper.Time(e).UnixMilli())
	a.mu.Unlock()
	return platform.Result{}, nil
}

func (a *timeApp) PostApply(*platform.Entry, platform.Version) {}

// TestProposalsInheritEntryHeaders: below the batching engine, the
// timekeeper stamps each batch once, and every proposal of the batch sees
// the batch's time.
func TestProposalsInheritEntryHeaders(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	base, _ := platformtest.NewBase(t)
	b := batching.New(timekeeper.New(base, func() time.Time { return time.UnixMilli(42_000) }), batching.Config{})
	app := &timeApp{}
	b.RegisterUpcall(app)
	if err := base.Start(); err != nil {
		t.Fatal(err)
	}
	s := b.NewStream()
	var ps []*platform.Pending
	for range 50 {
		ps = append(ps, s.Propose(&platform.Entry{}))
	}
	for _, p := range ps {
		if _, err := p.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	base.Close()
	app.mu.Lock()
	defer app.mu.Unlock()
	for i, tm := range app.times {
		if tm != 42_000 {
			t.Fatalf("proposal %d saw log time %d, want the batch's 42000", i, tm)
		}
	}
}
