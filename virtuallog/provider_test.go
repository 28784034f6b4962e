package virtuallog_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"hourglass/loglet"
	"hourglass/loglet/mem"
	"hourglass/virtuallog"
	"hourglass/virtuallog/vlogpb"
)

// gatedKind is a loglet kind whose Open of the gated id blocks until the
// test lets it finish (with an error or not); other ids open at once.
type gatedKind struct {
	gated   uint64
	entered chan struct{} // receives once per Open of the gated id
	release chan error    // one value per Open of the gated id

	mu    sync.Mutex
	opens map[uint64]int
}

func newGatedKind(gated uint64) *gatedKind {
	return &gatedKind{gated: gated, entered: make(chan struct{}, 8), release: make(chan error), opens: map[uint64]int{}}
}

func (g *gatedKind) open(ctx context.Context, cfg *vlogpb.LogletConfig, fresh bool) (loglet.Loglet, error) {
	g.mu.Lock()
	g.opens[cfg.Id]++
	g.mu.Unlock()
	if cfg.Id == g.gated {
		g.entered <- struct{}{}
		select {
		case err := <-g.release:
			if err != nil {
				return nil, err
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return mem.New(), nil
}

func (g *gatedKind) count(id uint64) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.opens[id]
}

func newGatedKinds(t *testing.T, g *gatedKind) *virtuallog.Kinds {
	t.Helper()
	k, err := virtuallog.NewKinds("gated", map[string]virtuallog.Kind{"gated": {Open: g.open}})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func cfg(id uint64) *vlogpb.LogletConfig { return &vlogpb.LogletConfig{Kind: "gated", Id: id} }

type openResult struct {
	l   loglet.Loglet
	err error
}

func openAsync(k *virtuallog.Kinds, id uint64) chan openResult {
	ch := make(chan openResult, 1)
	go func() {
		l, err := k.Open(context.Background(), cfg(id))
		ch <- openResult{l, err}
	}()
	return ch
}

// await returns the result of an open, failing the test if it does not
// arrive within a generous deadline.
func await(t *testing.T, ch chan openResult, what string) openResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: still blocked", what)
		return openResult{}
	}
}

// TestKindsSlowOpenBlocksOnlyItsLoglet: while one loglet's Open is stuck
// (its servers slow to answer), a cached loglet and a loglet that opens
// fast are served; a second caller of the stuck loglet waits for the same
// open rather than opening it again, and both get the one handle.
func TestKindsSlowOpenBlocksOnlyItsLoglet(t *testing.T) {
	g := newGatedKind(1)
	k := newGatedKinds(t, g)
	defer k.Close()
	cached, err := k.Open(context.Background(), cfg(3))
	if err != nil {
		t.Fatal(err)
	}
	slow := openAsync(k, 1)
	<-g.entered
	if r := await(t, openAsync(k, 3), "open of a cached loglet during a slow open"); r.err != nil || r.l != cached {
		t.Fatalf("cached loglet: %v, %v; want the cached handle", r.l, r.err)
	}
	if r := await(t, openAsync(k, 2), "open of another loglet during a slow open"); r.err != nil || r.l == nil {
		t.Fatalf("another loglet: %v, %v", r.l, r.err)
	}
	second := openAsync(k, 1)
	g.release <- nil
	a, b := await(t, slow, "slow open"), await(t, second, "second open of the slow loglet")
	if a.err != nil || b.err != nil || a.l != b.l {
		t.Fatalf("two opens of one loglet: %v/%v and %v/%v; want one handle", a.l, a.err, b.l, b.err)
	}
	if n := g.count(1); n != 1 {
		t.Fatalf("loglet 1 opened %d times, want once", n)
	}
}

// TestKindsFailedOpenIsRetried: an open that fails (its caller's context
// ended, say) fails only its caller; the next caller opens anew.
func TestKindsFailedOpenIsRetried(t *testing.T) {
	g := newGatedKind(1)
	k := newGatedKinds(t, g)
	defer k.Close()
	first := openAsync(k, 1)
	<-g.entered
	second := openAsync(k, 1)
	g.release <- errors.New("injected: servers unreachable")
	if r := await(t, first, "failing open"); r.err == nil {
		t.Fatal("the failed open reported success")
	}
	<-g.entered // the second caller opens it itself
	g.release <- nil
	if r := await(t, second, "open after a failed one"); r.err != nil || r.l == nil {
		t.Fatalf("open after a failed one: %v, %v", r.l, r.err)
	}
	if n := g.count(1); n != 2 {
		t.Fatalf("loglet 1 opened %d times, want twice", n)
	}
}

// TestKindsCloseDuringOpen: Close waits for an open in progress, whose
// handle is closed rather than cached.
func TestKindsCloseDuringOpen(t *testing.T) {
	g := newGatedKind(1)
	k := newGatedKinds(t, g)
	slow := openAsync(k, 1)
	<-g.entered
	closed := make(chan error, 1)
	go func() { closed <- k.Close() }()
	// Once Close has begun, opens fail.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := k.Open(context.Background(), cfg(2)); errors.Is(err, loglet.ErrClosed) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("opens still succeed after Close began")
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) with an open in progress", err)
	default:
	}
	g.release <- nil
	if r := await(t, slow, "open during Close"); !errors.Is(r.err, loglet.ErrClosed) {
		t.Fatalf("open that finished after Close: %v, %v; want loglet.ErrClosed", r.l, r.err)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
}
