package lease_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hourglass/engines/lease"
	"hourglass/platform"
	"hourglass/platform/platformtest"
)

// kvApp stores each proposal's body under key "k" of its namespace.
type kvApp struct{}

func (kvApp) Name() string { return "app" }

func (kvApp) Apply(txn platform.Txn, e *platform.Entry, at platform.Version) (platform.Result, error) {
	return platform.Result{}, txn.Set([]byte("k"), e.Body)
}
func (kvApp) PostApply(*platform.Entry, platform.Version) {}

// node is one replica over the shared log: its base, its lease layer, and
// a log handle that can stop its reads (a node that lags) and counts its
// tail checks.
type node struct {
	base  *platform.BaseEngine
	lease *lease.Engine
	log   *stallLog
}

type stallLog struct {
	platform.Log
	mu      sync.Mutex
	stalled chan struct{} // non-nil while reads are held
	tails   atomic.Int64
}

func (s *stallLog) CheckTail(ctx context.Context) (platform.Position, error) {
	s.tails.Add(1)
	return s.Log.CheckTail(ctx)
}

func (s *stallLog) ReadNext(ctx context.Context, from platform.Position, max int) ([][]byte, error) {
	if err := s.wait(ctx); err != nil {
		return nil, err
	}
	out, err := s.Log.ReadNext(ctx, from, max)
	// A read under way when the stall began returns nothing either.
	if err := s.wait(ctx); err != nil {
		return nil, err
	}
	return out, err
}

func (s *stallLog) wait(ctx context.Context) error {
	s.mu.Lock()
	ch := s.stalled
	s.mu.Unlock()
	if ch == nil {
		return nil
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *stallLog) stall() {
	s.mu.Lock()
	s.stalled = make(chan struct{})
	s.mu.Unlock()
}

func (s *stallLog) resume() {
	s.mu.Lock()
	close(s.stalled)
	s.stalled = nil
	s.mu.Unlock()
}

func newNode(t *testing.T, log platform.Log, id string, term time.Duration) *node {
	t.Helper()
	sl := &stallLog{Log: log}
	base := platformtest.NewBaseOn(t, sl)
	l, err := lease.New(base, lease.Config{Node: id, Term: term})
	if err != nil {
		t.Fatal(err)
	}
	l.RegisterUpcall(kvApp{})
	if err := base.Start(); err != nil {
		t.Fatal(err)
	}
	l.Start()
	t.Cleanup(l.Close)
	return &node{base: base, lease: l, log: sl}
}

// push carries each node's applied position to the others while cut is
// false for the pair, as the node's peer streams do.
func push(t *testing.T, nodes map[string]*node, cut func(from, to string) bool) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	for from, n := range nodes {
		go func() {
			for {
				pos, ch := n.lease.Applied()
				for to, m := range nodes {
					if to != from && !cut(from, to) {
						m.lease.ObservePeer(from, pos)
						n.lease.Acked(to)
					}
				}
				select {
				case <-ch:
				case <-time.After(5 * time.Millisecond):
				case <-ctx.Done():
					return
				}
			}
		}()
	}
}

// leasedPair starts nodes a and b over one log, carrying their applied
// positions to each other except where cut says, and waits until both
// hold leases.
func leasedPair(t *testing.T, term time.Duration, cut func(from, to string) bool) (a, b *node) {
	t.Helper()
	log := platformtest.NewMemLog()
	a, b = newNode(t, log, "a", term), newNode(t, log, "b", term)
	push(t, map[string]*node{"a": a, "b": b}, cut)
	waitLeased(t, a)
	waitLeased(t, b)
	return a, b
}

func waitLeased(t *testing.T, n *node) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !n.lease.Leased() {
		if time.Now().After(deadline) {
			t.Fatal("no lease within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func read(t *testing.T, ctx context.Context, n *node) string {
	t.Helper()
	v, err := n.lease.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	raw, _, err := platform.EngineReader(v, "app").Get([]byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// TestLeasedReadsSkipTheTail: a node with a lease answers reads from its
// applied state without checking the log's tail, and sees its own writes.
func TestLeasedReadsSkipTheTail(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n := newNode(t, platformtest.NewMemLog(), "n1", 200*time.Millisecond)
	waitLeased(t, n)
	if _, err := n.lease.Propose(ctx, &platform.Entry{Body: []byte("v1")}); err != nil {
		t.Fatal(err)
	}
	before := n.log.tails.Load()
	for range 100 {
		if got := read(t, ctx, n); got != "v1" {
			t.Fatalf("read %q, want v1", got)
		}
	}
	if d := n.log.tails.Load() - before; d > 5 {
		t.Fatalf("100 leased reads checked the tail %d times", d)
	}
}

// TestWriteWaitsForLaggingHolder: a write is acknowledged only once every
// live lease holder applied it, or the holder's lease lapsed; the lagging
// holder, its lease gone, syncs with the tail and never answers from its
// stale state.
func TestWriteWaitsForLaggingHolder(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const term = 300 * time.Millisecond
	a, b := leasedPair(t, term, func(string, string) bool { return false })
	if _, err := a.lease.Propose(ctx, &platform.Entry{Body: []byte("v1")}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, ctx, b); got != "v1" {
		t.Fatalf("b read %q after the write was acknowledged, want v1", got)
	}

	// b stops applying (a paused or partitioned node), its lease live.
	b.log.stall()
	start := time.Now()
	if _, err := a.lease.Propose(ctx, &platform.Entry{Body: []byte("v2")}); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < term/2 {
		t.Fatalf("the write was acknowledged after %v while b, holding a lease, had not applied it", waited)
	}
	if b.lease.Leased() {
		t.Fatal("b still holds its lease after the write waited it out")
	}
	got := make(chan string, 1)
	go func() { got <- read(t, ctx, b) }()
	select {
	case v := <-got:
		t.Fatalf("b answered %q while it could not apply", v)
	case <-time.After(100 * time.Millisecond):
	}
	b.log.resume()
	if v := <-got; v != "v2" {
		t.Fatalf("b read %q, want v2", v)
	}
	waitLeased(t, b)
}

// TestReadWaitsForLaggingHolder: a read does not return state that a live
// lease holder has not applied (or a later read there could go back in
// time).
func TestReadWaitsForLaggingHolder(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const term = 300 * time.Millisecond
	var cutAB atomic.Bool
	a, b := leasedPair(t, term, func(from, to string) bool { return from == "b" && cutAB.Load() })
	// a hears nothing from b: b's applied position is unknown to it.
	cutAB.Store(true)
	time.Sleep(20 * time.Millisecond)
	if _, err := b.lease.Propose(ctx, &platform.Entry{Body: []byte("v1")}); err != nil {
		t.Fatal(err)
	}
	// a applied v1, but may answer a read of it only once b, holding a
	// lease, applied it too, which a cannot learn: it waits for b's
	// lease to lapse (b stops renewing, unheard by a).
	start := time.Now()
	if got := read(t, ctx, a); got != "v1" {
		t.Fatalf("a read %q, want v1", got)
	}
	if waited := time.Since(start); waited < term/4 {
		t.Fatalf("a answered after %v without hearing b", waited)
	}
}
