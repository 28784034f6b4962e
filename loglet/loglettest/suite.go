// Package loglettest is the conformance suite for the loglet contract. Every
// implementation runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		loglettest.Run(t, loglettest.Harness{New: func(t *testing.T) loglet.Loglet { ... }})
//	}
package loglettest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hourglass/loglet"
)

// Harness tells the suite how to make loglets.
type Harness struct {
	// New returns a fresh, empty, unsealed loglet. The suite closes it.
	New func(t *testing.T) loglet.Loglet
	// Reopen, if set, abandons l as a crash would (no clean shutdown of
	// anything not yet durable) and opens the same loglet again from its
	// durable state. The suite then checks that acknowledged entries and
	// the seal bit survived.
	Reopen func(t *testing.T, l loglet.Loglet) loglet.Loglet
}

// Run runs every conformance test against h.
func Run(t *testing.T, h Harness) {
	t.Run("AppendRead", func(t *testing.T) { testAppendRead(t, h) })
	t.Run("ConcurrentAppenders", func(t *testing.T) { testConcurrentAppenders(t, h) })
	t.Run("ReadBlocksAcrossTail", func(t *testing.T) { testReadBlocksAcrossTail(t, h) })
	t.Run("SealRacesAppends", func(t *testing.T) { testSealRacesAppends(t, h) })
	t.Run("SealWakesReaders", func(t *testing.T) { testSealWakesReaders(t, h) })
	t.Run("PrefixTrim", func(t *testing.T) { testPrefixTrim(t, h) })
	t.Run("IdempotentRetry", func(t *testing.T) { testIdempotentRetry(t, h) })
	if h.Reopen != nil {
		t.Run("Recovery", func(t *testing.T) { testRecovery(t, h) })
	}
}

const waitLimit = 10 * time.Second

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	t.Cleanup(cancel)
	return ctx
}

func newLoglet(t *testing.T, h Harness) loglet.Loglet {
	l := h.New(t)
	t.Cleanup(func() { l.Close() })
	return l
}

func entry(s string) []byte { return []byte(s) }

// readRange reads [from, to) and fails the test if anything is missing.
func readRange(t *testing.T, ctx context.Context, l loglet.Reader, from, to loglet.Position) [][]byte {
	t.Helper()
	var out [][]byte
	for p := from; p < to; {
		es, err := l.ReadNext(ctx, p, int(to-p))
		if err != nil {
			t.Fatalf("ReadNext(%d): %v", p, err)
		}
		if len(es) == 0 {
			t.Fatalf("ReadNext(%d) returned no entries and no error", p)
		}
		if len(es) > int(to-p) {
			t.Fatalf("ReadNext(%d, max=%d) returned %d entries", p, to-p, len(es))
		}
		out = append(out, es...)
		p += loglet.Position(len(es))
	}
	return out
}

func testAppendRead(t *testing.T, h Harness) {
	ctx := ctxFor(t)
	l := newLoglet(t, h)
	tail, sealed, err := l.CheckTail(ctx)
	if err != nil || tail != 0 || sealed {
		t.Fatalf("fresh CheckTail = %d, %v, %v; want 0, false, nil", tail, sealed, err)
	}
	p, err := l.Append(ctx, loglet.AppendID{}, [][]byte{entry("a")})
	if err != nil || p != 0 {
		t.Fatalf("Append(a) = %d, %v; want 0", p, err)
	}
	batch := [][]byte{entry("b"), entry(""), entry("d")}
	p, err = l.Append(ctx, loglet.AppendID{}, batch)
	if err != nil || p != 1 {
		t.Fatalf("Append(b,'',d) = %d, %v; want 1", p, err)
	}
	batch[0][0] = 'X' // the loglet must have kept its own copy
	tail, sealed, err = l.CheckTail(ctx)
	if err != nil || tail != 4 || sealed {
		t.Fatalf("CheckTail = %d, %v, %v; want 4, false, nil", tail, sealed, err)
	}
	got := readRange(t, ctx, l, 0, 4)
	want := []string{"a", "b", "", "d"}
	for i := range want {
		if string(got[i]) != want[i] {
			t.Fatalf("entry %d = %q, want %q", i, got[i], want[i])
		}
	}
	es, err := l.ReadNext(ctx, 1, 2)
	if err != nil || len(es) < 1 || len(es) > 2 || string(es[0]) != "b" {
		t.Fatalf("ReadNext(1, max=2) = %q, %v", es, err)
	}
}

func testConcurrentAppenders(t *testing.T, h Harness) {
	ctx := ctxFor(t)
	l := newLoglet(t, h)
	const writers, perWriter = 8, 150
	var mu sync.Mutex
	acked := map[loglet.Position]string{}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				n := 1 + i%3 // batches of 1..3
				var batch [][]byte
				for j := range n {
					batch = append(batch, fmt.Appendf(nil, "w%d-%d-%d", w, i, j))
				}
				p, err := l.Append(ctx, loglet.AppendID{}, batch)
				if err != nil {
					errs <- fmt.Errorf("writer %d append %d: %w", w, i, err)
					return
				}
				mu.Lock()
				for j, e := range batch {
					if prev, dup := acked[p+loglet.Position(j)]; dup {
						mu.Unlock()
						errs <- fmt.Errorf("position %d acknowledged twice (%s and %s)", p+loglet.Position(j), prev, e)
						return
					}
					acked[p+loglet.Position(j)] = string(e)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	tail, _, err := l.CheckTail(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if int(tail) != len(acked) {
		t.Fatalf("tail %d, but %d positions acknowledged", tail, len(acked))
	}
	got := readRange(t, ctx, l, 0, tail)
	for p, e := range got {
		if want := acked[loglet.Position(p)]; string(e) != want {
			t.Fatalf("position %d holds %q, acknowledged %q", p, e, want)
		}
	}
	// Each writer's batch landed contiguously and in issue order.
	last := map[string]loglet.Position{}
	for p, e := range got {
		var w, i, j int
		if _, err := fmt.Sscanf(string(e), "w%d-%d-%d", &w, &i, &j); err != nil {
			t.Fatalf("bad entry %q", e)
		}
		key := fmt.Sprint(w)
		if prev, ok := last[key]; ok && prev >= loglet.Position(p) {
			t.Fatalf("writer %d's entries out of order at %d", w, p)
		}
		last[key] = loglet.Position(p)
	}
}

func testReadBlocksAcrossTail(t *testing.T, h Harness) {
	ctx := ctxFor(t)
	l := newLoglet(t, h)
	if _, err := l.Append(ctx, loglet.AppendID{}, [][]byte{entry("0")}); err != nil {
		t.Fatal(err)
	}
	// A read at the tail with a short deadline must time out, not return
	// something that was never written.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	es, err := l.ReadNext(short, 1, 10)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ReadNext at tail = %q, %v; want deadline exceeded", es, err)
	}
	// A reader that follows the log sees every later append in order.
	const n = 200
	done := make(chan error, 1)
	go func() {
		var p loglet.Position = 1
		for p < 1+n {
			es, err := l.ReadNext(ctx, p, 16)
			if err != nil {
				done <- err
				return
			}
			for _, e := range es {
				if want := fmt.Sprint(p); string(e) != want {
					done <- fmt.Errorf("position %d holds %q, want %q", p, e, want)
					return
				}
				p++
			}
		}
		done <- nil
	}()
	for i := 1; i <= n; i++ {
		if _, err := l.Append(ctx, loglet.AppendID{}, [][]byte{entry(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func testSealRacesAppends(t *testing.T, h Harness) {
	ctx := ctxFor(t)
	l := newLoglet(t, h)
	const writers = 8
	var (
		mu       sync.Mutex
		acked    = map[loglet.Position]string{}
		attempts = map[string]bool{}
		stop     atomic.Bool
		wg       sync.WaitGroup
		count    atomic.Int64
	)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				e := fmt.Sprintf("w%d-%d", w, i)
				mu.Lock()
				attempts[e] = true
				mu.Unlock()
				afterSeal := stop.Load()
				p, err := l.Append(ctx, loglet.AppendID{}, [][]byte{entry(e)})
				switch {
				case err == nil:
					mu.Lock()
					acked[p] = e
					mu.Unlock()
					if afterSeal {
						t.Errorf("append %q begun after Seal returned was acknowledged at %d", e, p)
						return
					}
					count.Add(1)
				case errors.Is(err, loglet.ErrSealed):
					return
				case errors.Is(err, loglet.ErrOutcomeUnknown):
					// allowed; the entry may or may not be in the log
				default:
					t.Errorf("append: %v", err)
					return
				}
			}
		}()
	}
	for count.Load() < 100 {
		time.Sleep(time.Millisecond)
	}
	sealTail, err := l.Seal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stop.Store(true)
	wg.Wait()
	if t.Failed() {
		return
	}
	for p := range acked {
		if p >= sealTail {
			t.Fatalf("acknowledged position %d at or beyond sealed tail %d", p, sealTail)
		}
	}
	tail, sealed, err := l.CheckTail(ctx)
	if err != nil || !sealed || tail != sealTail {
		t.Fatalf("CheckTail after seal = %d, %v, %v; want %d, true", tail, sealed, err, sealTail)
	}
	again, err := l.Seal(ctx)
	if err != nil || again != sealTail {
		t.Fatalf("second Seal = %d, %v; want %d", again, err, sealTail)
	}
	if _, err := l.Append(ctx, loglet.AppendID{}, [][]byte{entry("late")}); !errors.Is(err, loglet.ErrSealed) {
		t.Fatalf("Append after seal: %v, want ErrSealed", err)
	}
	got := readRange(t, ctx, l, 0, sealTail)
	seen := map[string]bool{}
	for p, e := range got {
		if want, ok := acked[loglet.Position(p)]; ok && want != string(e) {
			t.Fatalf("position %d holds %q, acknowledged %q", p, e, want)
		}
		if !attempts[string(e)] {
			t.Fatalf("position %d holds %q, which nobody appended", p, e)
		}
		if seen[string(e)] {
			t.Fatalf("entry %q appears twice", e)
		}
		seen[string(e)] = true
	}
	if _, err := l.ReadNext(ctx, sealTail, 1); !errors.Is(err, loglet.ErrSealed) {
		t.Fatalf("ReadNext at sealed tail: %v, want ErrSealed", err)
	}
}

func testSealWakesReaders(t *testing.T, h Harness) {
	ctx := ctxFor(t)
	l := newLoglet(t, h)
	if _, err := l.Append(ctx, loglet.AppendID{}, [][]byte{entry("x")}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := l.ReadNext(ctx, 1, 1)
		done <- err
	}()
	time.Sleep(20 * time.Millisecond) // let the reader block; the result does not depend on it
	if _, err := l.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, loglet.ErrSealed) {
		t.Fatalf("blocked ReadNext after Seal: %v, want ErrSealed", err)
	}
}

func testPrefixTrim(t *testing.T, h Harness) {
	ctx := ctxFor(t)
	l := newLoglet(t, h)
	for i := range 10 {
		if _, err := l.Append(ctx, loglet.AppendID{}, [][]byte{entry(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.PrefixTrim(ctx, 5); err != nil {
		t.Fatal(err)
	}
	// Trimming is a hint, but once a position reports trimmed it must
	// never come back, and everything from the trim point on stays.
	es, err := l.ReadNext(ctx, 5, 1)
	if err != nil || string(es[0]) != "5" {
		t.Fatalf("ReadNext(5) after trim = %q, %v", es, err)
	}
	if err := l.PrefixTrim(ctx, 3); err != nil { // going backwards is a no-op
		t.Fatal(err)
	}
	if err := l.PrefixTrim(ctx, 100); err != nil { // beyond the tail clamps
		t.Fatal(err)
	}
	tail, _, err := l.CheckTail(ctx)
	if err != nil || tail != 10 {
		t.Fatalf("tail after trim = %d, %v; want 10", tail, err)
	}
	if _, err := l.ReadNext(ctx, 9, 1); err != nil && !errors.Is(err, loglet.ErrTrimmed) {
		t.Fatalf("ReadNext(9) after trimming to the tail: %v", err)
	}
	p, err := l.Append(ctx, loglet.AppendID{}, [][]byte{entry("10")})
	if err != nil || p != 10 {
		t.Fatalf("Append after trim = %d, %v; want 10", p, err)
	}
	es, err = l.ReadNext(ctx, 10, 1)
	if err != nil || string(es[0]) != "10" {
		t.Fatalf("ReadNext(10) = %q, %v", es, err)
	}
	if _, err := l.ReadNext(ctx, 0, 1); !errors.Is(err, loglet.ErrTrimmed) {
		// Trim is allowed to be lazy only while the data is still there.
		t.Logf("ReadNext(0) after trim did not report ErrTrimmed (%v): trim is lazy", err)
	}
}

func testIdempotentRetry(t *testing.T, h Harness) {
	ctx := ctxFor(t)
	l := newLoglet(t, h)
	id := loglet.AppendID{Client: 7, Seq: 1}
	p1, err := l.Append(ctx, id, [][]byte{entry("once"), entry("twice")})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := l.Append(ctx, id, [][]byte{entry("once"), entry("twice")})
	if err != nil || p2 != p1 {
		t.Fatalf("retry = %d, %v; want original position %d", p2, err, p1)
	}
	other, err := l.Append(ctx, loglet.AppendID{Client: 7, Seq: 2}, [][]byte{entry("next")})
	if err != nil || other != p1+2 {
		t.Fatalf("next append = %d, %v; want %d", other, err, p1+2)
	}
	tail, _, err := l.CheckTail(ctx)
	if err != nil || tail != p1+3 {
		t.Fatalf("tail = %d, %v; want %d (the retry must not write)", tail, err, p1+3)
	}
	// Concurrent retries of one id still write once.
	id3 := loglet.AppendID{Client: 9, Seq: 3}
	var wg sync.WaitGroup
	positions := make([]loglet.Position, 8)
	for i := range positions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := l.Append(ctx, id3, [][]byte{entry("race")})
			if err != nil {
				t.Error(err)
			}
			positions[i] = p
		}()
	}
	wg.Wait()
	for _, p := range positions[1:] {
		if p != positions[0] {
			t.Fatalf("concurrent retries got positions %v", positions)
		}
	}
	tail2, _, _ := l.CheckTail(ctx)
	if tail2 != tail+1 {
		t.Fatalf("tail after concurrent retries = %d, want %d", tail2, tail+1)
	}
	// A retry after the loglet is sealed still learns the original position.
	if _, err := l.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	p3, err := l.Append(ctx, id, [][]byte{entry("once"), entry("twice")})
	if err != nil || p3 != p1 {
		t.Fatalf("retry after seal = %d, %v; want %d", p3, err, p1)
	}
}

func testRecovery(t *testing.T, h Harness) {
	ctx := ctxFor(t)
	l := h.New(t)
	var want [][]byte
	for i := range 50 {
		e := bytes.Repeat([]byte{byte('a' + i%26)}, 1+i)
		if _, err := l.Append(ctx, loglet.AppendID{}, [][]byte{e}); err != nil {
			t.Fatal(err)
		}
		want = append(want, e)
	}
	l = h.Reopen(t, l)
	tail, sealed, err := l.CheckTail(ctx)
	if err != nil || tail != 50 || sealed {
		t.Fatalf("after reopen CheckTail = %d, %v, %v; want 50, false", tail, sealed, err)
	}
	// A replicated loglet whose sequencer crashed is sealed before it is
	// read to its end (its servers may not know what was committed last);
	// sealing must keep every acknowledged entry.
	sealTail, err := l.Seal(ctx)
	if err != nil || sealTail != 50 {
		t.Fatalf("Seal = %d, %v; want 50", sealTail, err)
	}
	got := readRange(t, ctx, l, 0, 50)
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("entry %d changed across reopen", i)
		}
	}
	l = h.Reopen(t, l)
	t.Cleanup(func() { l.Close() })
	tail, sealed, err = l.CheckTail(ctx)
	if err != nil || tail != 50 || !sealed {
		t.Fatalf("after reopen of sealed loglet CheckTail = %d, %v, %v; want 50, true", tail, sealed, err)
	}
	if _, err := l.Append(ctx, loglet.AppendID{}, [][]byte{entry("late")}); !errors.Is(err, loglet.ErrSealed) {
		t.Fatalf("Append to reopened sealed loglet: %v, want ErrSealed", err)
	}
	if _, err := l.ReadNext(ctx, 50, 1); !errors.Is(err, loglet.ErrSealed) {
		t.Fatalf("ReadNext at the sealed tail after reopen: %v, want ErrSealed", err)
	}
}
