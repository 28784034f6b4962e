package striped_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hourglass/loglet"
	"hourglass/loglet/mem"
	"hourglass/loglet/striped"
)

// gated is a mem loglet whose appends wait while its gate is shut, so a
// test can hold one stripe behind the others.
type gated struct {
	*mem.Loglet
	mu   sync.Mutex
	gate chan struct{} // closed while appends may pass
	fail error         // if set, appends fail with it
	held atomic.Int32  // appends waiting at the gate
}

func newGated() *gated {
	g := &gated{Loglet: mem.New(), gate: make(chan struct{})}
	close(g.gate)
	return g
}

func (g *gated) shut() {
	g.mu.Lock()
	g.gate = make(chan struct{})
	g.mu.Unlock()
}

func (g *gated) open() {
	g.mu.Lock()
	close(g.gate)
	g.mu.Unlock()
}

func (g *gated) Append(ctx context.Context, id loglet.AppendID, entries [][]byte) (loglet.Position, error) {
	g.mu.Lock()
	gate, fail := g.gate, g.fail
	g.mu.Unlock()
	if fail != nil {
		return 0, fail
	}
	g.held.Add(1)
	defer g.held.Add(-1)
	select {
	case <-gate:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	return g.Loglet.Append(ctx, id, entries)
}

// waitHeld waits until an append waits at g's gate.
func (g *gated) waitHeld(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for g.held.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no append reached the gate")
		}
		time.Sleep(time.Millisecond)
	}
}

type result struct {
	pos loglet.Position
	err error
}

// appendAsync appends in the background.
func appendAsync(l loglet.Writer, entries ...string) chan result {
	ch := make(chan result, 1)
	go func() {
		var es [][]byte
		for _, e := range entries {
			es = append(es, []byte(e))
		}
		p, err := l.Append(context.Background(), loglet.AppendID{}, es)
		ch <- result{p, err}
	}()
	return ch
}

func waitResult(t *testing.T, ch chan result) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("append did not return")
		return result{}
	}
}

// pending fails the test if ch delivers within a short while.
func pending(t *testing.T, ch chan result) {
	t.Helper()
	select {
	case r := <-ch:
		t.Fatalf("append returned %d, %v while a lower position was unwritten", r.pos, r.err)
	case <-time.After(50 * time.Millisecond):
	}
}

// readTimesOut checks that ReadNext(from) blocks.
func readTimesOut(t *testing.T, l loglet.Reader, from loglet.Position) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if es, err := l.ReadNext(ctx, from, 10); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ReadNext(%d) = %q, %v; want it to block", from, es, err)
	}
}

func checkTail(t *testing.T, l loglet.Reader, want loglet.Position, wantSealed bool) {
	t.Helper()
	tail, sealed, err := l.CheckTail(context.Background())
	if err != nil || tail != want || sealed != wantSealed {
		t.Fatalf("CheckTail = %d, %v, %v; want %d, %v", tail, sealed, err, want, wantSealed)
	}
}

// twoStripes opens a writer over two gated stripes, and a second handle
// (not the writer) over the same stripes.
func twoStripes(t *testing.T) (s0, s1 *gated, w, r *striped.Loglet) {
	s0, s1 = newGated(), newGated()
	w = openStriped(t, []loglet.Loglet{s0, s1})
	t.Cleanup(func() { w.Close() })
	r, err := striped.Open(striped.Config{Stripes: []loglet.Loglet{s0, s1}})
	if err != nil {
		t.Fatal(err)
	}
	return s0, s1, w, r
}

// TestHoleHidesLaterEntries: an entry written to stripe 1 while stripe 0
// still lacks the position below it is neither acknowledged nor visible,
// to the writer or to another handle, until the hole is filled.
func TestHoleHidesLaterEntries(t *testing.T) {
	s0, s1, w, r := twoStripes(t)
	s0.shut()
	a := appendAsync(w, "a") // position 0, stripe 0: held
	s0.waitHeld(t)
	b := appendAsync(w, "b") // position 1, stripe 1: written
	pending(t, b)
	if tail, _, _ := s1.CheckTail(context.Background()); tail != 1 {
		t.Fatalf("stripe 1 tail = %d, want 1 (b written)", tail)
	}
	checkTail(t, w, 0, false)
	checkTail(t, r, 0, false)
	readTimesOut(t, r, 0)
	readTimesOut(t, r, 1)
	s0.open()
	if ra, rb := waitResult(t, a), waitResult(t, b); ra != (result{0, nil}) || rb != (result{1, nil}) {
		t.Fatalf("appends = %v, %v; want 0 and 1", ra, rb)
	}
	checkTail(t, r, 2, false)
	for p, want := range []string{"a", "b"} {
		es, err := r.ReadNext(context.Background(), loglet.Position(p), 10)
		if err != nil || string(es[0]) != want {
			t.Fatalf("ReadNext(%d) = %q, %v; want %s", p, es, err, want)
		}
	}
}

// TestSealCutsAtHole: a seal while stripe 0 has a hole ends the log at
// the hole; the entry stripe 1 holds above it is dropped, and both
// appends fail as sealed (neither is in the log).
func TestSealCutsAtHole(t *testing.T) {
	_, s1, w, r := twoStripes(t)
	ctx := context.Background()
	if p, err := w.Append(ctx, loglet.AppendID{}, [][]byte{[]byte("x")}); err != nil || p != 0 {
		t.Fatalf("Append = %d, %v", p, err)
	}
	s1.shut()
	a := appendAsync(w, "a") // position 1, stripe 1: held
	s1.waitHeld(t)
	b := appendAsync(w, "b") // position 2, stripe 0: written
	pending(t, b)
	tail, err := r.Seal(ctx) // another handle seals
	if err != nil || tail != 1 {
		t.Fatalf("Seal = %d, %v; want 1", tail, err)
	}
	s1.open()
	for _, ch := range []chan result{a, b} {
		if res := waitResult(t, ch); !errors.Is(res.err, loglet.ErrSealed) {
			t.Fatalf("append across the seal = %d, %v; want ErrSealed", res.pos, res.err)
		}
	}
	checkTail(t, w, 1, true)
	if _, err := r.ReadNext(ctx, 1, 1); !errors.Is(err, loglet.ErrSealed) {
		t.Fatalf("ReadNext(1) = %v; want ErrSealed", err)
	}
	if es, err := r.ReadNext(ctx, 0, 5); err != nil || len(es) != 1 || string(es[0]) != "x" {
		t.Fatalf("ReadNext(0) = %q, %v", es, err)
	}
}

// TestBatchNeverSplit: a batch whose middle entry is held is invisible as
// a whole, though its first entry is written; a seal then drops it whole.
func TestBatchNeverSplit(t *testing.T) {
	s0, s1 := newGated(), newGated()
	w := openStriped(t, []loglet.Loglet{s0, s1})
	defer w.Close()
	ctx := context.Background()
	if _, err := w.Append(ctx, loglet.AppendID{}, [][]byte{[]byte("p")}); err != nil {
		t.Fatal(err)
	}
	s0.shut()
	batch := appendAsync(w, "x", "y", "z") // 1 (stripe 1), 2 (stripe 0: held), 3 (stripe 1)
	pending(t, batch)
	// Stripe 1 holds x and z, stripe 0 only p: the raw tail 2 would
	// split the batch at x.
	checkTail(t, w, 1, false)
	readTimesOut(t, w, 1)
	if es, err := w.ReadNext(ctx, 0, 10); err != nil || len(es) != 1 || string(es[0]) != "p" {
		t.Fatalf("ReadNext(0) = %q, %v; want only p", es, err)
	}
	if tail, err := w.Seal(ctx); err != nil || tail != 1 {
		t.Fatalf("Seal = %d, %v; want 1", tail, err)
	}
	s0.open()
	if res := waitResult(t, batch); !errors.Is(res.err, loglet.ErrSealed) {
		t.Fatalf("split batch = %d, %v; want ErrSealed", res.pos, res.err)
	}
}

// TestBatchReadWhole: a reader that asks for fewer entries than a batch
// holds, or starts inside it, gets entries once the batch is whole.
func TestBatchReadWhole(t *testing.T) {
	s0, s1, s2 := newGated(), newGated(), newGated()
	w := openStriped(t, []loglet.Loglet{s0, s1, s2})
	defer w.Close()
	ctx := context.Background()
	s2.shut()
	batch := appendAsync(w, "a", "b", "c", "d") // c on stripe 2 is held
	pending(t, batch)
	readTimesOut(t, w, 0)
	readTimesOut(t, w, 1)
	done := make(chan []byte, 1)
	go func() {
		es, err := w.ReadNext(ctx, 1, 1)
		if err != nil {
			t.Error(err)
		}
		done <- es[0]
	}()
	s2.open()
	if res := waitResult(t, batch); res.err != nil || res.pos != 0 {
		t.Fatalf("batch = %d, %v", res.pos, res.err)
	}
	if e := <-done; string(e) != "b" {
		t.Fatalf("ReadNext(1, 1) = %q, want b", e)
	}
	checkTail(t, w, 4, false)
}

// TestWriterBreaks: a stripe that keeps failing stops the writer after
// RetryFor; the append under way has an unknown outcome, later ones fail
// as unavailable, and a seal still works.
func TestWriterBreaks(t *testing.T) {
	s0, s1 := newGated(), newGated()
	s1.fail = loglet.ErrUnavailable
	w, err := striped.Open(striped.Config{Stripes: []loglet.Loglet{s0, s1}, Fresh: true, RetryFor: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx := context.Background()
	if _, err := w.Append(ctx, loglet.AppendID{}, [][]byte{[]byte("a"), []byte("b")}); !errors.Is(err, loglet.ErrOutcomeUnknown) {
		t.Fatalf("Append over a failing stripe = %v; want ErrOutcomeUnknown", err)
	}
	if _, err := w.Append(ctx, loglet.AppendID{}, [][]byte{[]byte("c")}); !errors.Is(err, loglet.ErrUnavailable) {
		t.Fatalf("Append after the writer broke = %v; want ErrUnavailable", err)
	}
	if tail, err := w.Seal(ctx); err != nil || tail != 0 {
		t.Fatalf("Seal = %d, %v; want 0", tail, err)
	}
}

// TestForward: a handle that is not the writer hands its appends to the
// writer, and reads what the writer wrote.
func TestForward(t *testing.T) {
	stripes := memStripes(3)
	w := openStriped(t, stripes)
	defer w.Close()
	ctx := context.Background()
	other, err := striped.Open(striped.Config{Stripes: stripes})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Append(ctx, loglet.AppendID{}, [][]byte{[]byte("x")}); !errors.Is(err, loglet.ErrUnavailable) {
		t.Fatalf("Append on a reader handle = %v; want ErrUnavailable", err)
	}
	fwd, err := striped.Open(striped.Config{Stripes: stripes, Forward: w})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if p, err := fwd.Append(ctx, loglet.AppendID{}, [][]byte{{byte('a' + i)}}); err != nil || p != loglet.Position(i) {
			t.Fatalf("forwarded Append = %d, %v", p, err)
		}
	}
	checkTail(t, other, 5, false)
	es, err := other.ReadNext(ctx, 2, 10)
	if err != nil || string(es[0]) != "c" || len(es) != 3 {
		t.Fatalf("ReadNext(2) = %q, %v", es, err)
	}
}
