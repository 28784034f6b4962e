package striped

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"hourglass/loglet"
)

// readStripe reads stripe k from inner, using the caller's knowledge that
// everything below committed (if not 0) is committed.
func (l *Loglet) readStripe(ctx context.Context, k int, inner loglet.Position, max int, committed loglet.Position) ([][]byte, error) {
	if hr, ok := l.stripes[k].(loglet.HintedReader); ok && committed > inner {
		return hr.ReadNextCommitted(ctx, inner, max, committed)
	}
	return l.stripes[k].ReadNext(ctx, inner, max)
}

// fetch reads the global positions [from, from+max) that are committed
// together with every position below them, blocking until from is. It
// waits in every stripe for the stripe's last position at or below from
// (so nothing below from is missing) and takes whatever follows in one
// go; the result is the run of records from from on that it got. A stripe
// position below from that is trimmed counts as there (trimming never
// passes the tail). committed, if not 0, is a global position below which
// everything is known committed.
func (l *Loglet) fetch(ctx context.Context, from loglet.Position, max int, committed loglet.Position) ([]record, error) {
	lo := from - min(from, l.n-1)
	hi := from + loglet.Position(max)
	starts := make([]loglet.Position, l.n) // inner position each stripe read from
	got := make([][][]byte, l.n)
	errs := make([]error, l.n)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for k := range l.n {
		q := lo + (k+l.n-lo%l.n)%l.n // the stripe's first position >= lo
		if q > from {
			continue // only stripes with k > from: nothing of theirs is needed
		}
		_, starts[k] = l.place(q)
		count := int(l.below(hi, int(k)) - starts[k])
		wg.Add(1)
		go func() {
			defer wg.Done()
			es, err := l.readStripe(ctx, int(k), starts[k], count, l.below(committed, int(k)))
			if err != nil && !(errors.Is(err, loglet.ErrTrimmed) && q < from) {
				errs[k] = err
				cancel() // the read fails; stop waiting on the others
			}
			got[k] = es
		}()
	}
	wg.Wait()
	if err := firstError(errs); err != nil {
		return nil, err
	}
	var run []record
	for p := from; p < hi; p++ {
		k, inner := l.place(p)
		i := inner - starts[k]
		if inner < starts[k] || i >= loglet.Position(len(got[k])) {
			break
		}
		r, err := parseRecord(got[k][i])
		if err != nil {
			return nil, err
		}
		run = append(run, r)
	}
	return run, nil
}

// firstError picks the error a read reports: a stripe's own error rather
// than the cancellation it caused in the others.
func firstError(errs []error) error {
	var fallback error
	for _, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, context.Canceled) && fallback == nil:
			fallback = err
		case !errors.Is(err, context.Canceled):
			return err
		}
	}
	return fallback
}

// ReadNext implements loglet.Reader. It returns only whole batches, or a
// batch's first entries once its last is committed, so a reader never
// sees part of an append that a seal could cut off.
func (l *Loglet) ReadNext(ctx context.Context, from loglet.Position, max int) ([][]byte, error) {
	return l.read(ctx, from, max, 0)
}

// ReadNextCommitted implements loglet.HintedReader.
func (l *Loglet) ReadNextCommitted(ctx context.Context, from loglet.Position, max int, committed loglet.Position) ([][]byte, error) {
	if from < committed {
		max = min(max, int(min(committed-from, 1<<30)))
		return l.read(ctx, from, max, committed)
	}
	return l.read(ctx, from, max, 0)
}

func (l *Loglet) read(ctx context.Context, from loglet.Position, max int, committed loglet.Position) ([][]byte, error) {
	if max <= 0 {
		max = 1
	}
	if l.isClosed() {
		return nil, loglet.ErrClosed
	}
	run, err := l.fetch(ctx, from, max, committed)
	if err != nil {
		return nil, err
	}
	if len(run) == 0 { // a stripe broke its contract: it returned nothing
		return nil, fmt.Errorf("%w: striped: stripe %d returned no entry at %d", loglet.ErrUnavailable, from%l.n, from/l.n)
	}
	last := len(run) - 1
	r := run[last]
	// The last batch's last position; below committed, it is committed.
	if end := from + loglet.Position(last) + r.rest(); r.rest() > 0 && end >= committed {
		if start := last - int(r.index); start > 0 {
			run = run[:start] // whole batches only
		} else if _, err := l.fetch(ctx, end, 1, committed); err != nil {
			// from is inside a batch not wholly committed: its last
			// entry is waited for (ErrSealed if a seal cut it off).
			return nil, err
		}
	}
	out := make([][]byte, len(run))
	for i, r := range run {
		out[i] = r.data
	}
	return out, nil
}

func (l *Loglet) isClosed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mu.closed
}

// CheckTail implements loglet.Reader. It asks every stripe for its tail;
// if any is sealed, the loglet is being sealed and CheckTail finishes the
// seal.
func (l *Loglet) CheckTail(ctx context.Context) (loglet.Position, bool, error) {
	l.mu.Lock()
	closed, sealed, tail := l.mu.closed, l.mu.sealed, l.mu.tail
	l.mu.Unlock()
	switch {
	case closed:
		return 0, false, loglet.ErrClosed
	case sealed:
		return tail, true, nil
	}
	tails := make([]loglet.Position, l.n)
	anySealed := false
	var mu sync.Mutex
	err := l.each(func(k int) error {
		t, s, err := l.stripes[k].CheckTail(ctx)
		mu.Lock()
		tails[k], anySealed = t, anySealed || s
		mu.Unlock()
		return err
	})
	if err != nil {
		return 0, false, err
	}
	if anySealed {
		t, err := l.Seal(ctx)
		return t, err == nil, err
	}
	t, err := l.wholeBatches(ctx, tails)
	return t, false, err
}

// wholeBatches returns the tail for the stripes' tails: the raw tail,
// lowered to the first position of the batch it would split.
func (l *Loglet) wholeBatches(ctx context.Context, tails []loglet.Position) (loglet.Position, error) {
	raw := l.rawTail(tails)
	if raw == 0 {
		return 0, nil
	}
	k, inner := l.place(raw - 1)
	es, err := l.readStripe(ctx, k, inner, 1, tails[k])
	switch {
	case errors.Is(err, loglet.ErrTrimmed):
		return raw, nil // trimmed, so below a tail that was whole
	case err != nil:
		return 0, err
	case len(es) == 0:
		return 0, loglet.ErrUnavailable
	}
	r, err := parseRecord(es[0])
	if err != nil {
		return 0, err
	}
	if r.rest() > 0 {
		return raw - 1 - r.index, nil
	}
	return raw, nil
}

// each runs f for every stripe at once and returns the first error.
func (l *Loglet) each(f func(k int) error) error {
	errs := make([]error, l.n)
	var wg sync.WaitGroup
	for k := range int(l.n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[k] = f(k)
		}()
	}
	wg.Wait()
	return firstError(errs)
}

// Seal implements loglet.Loglet: it seals every stripe and computes the
// final tail from their sealed tails. Any handle may seal, and finish a
// seal another began; all get the same tail.
func (l *Loglet) Seal(ctx context.Context) (loglet.Position, error) {
	l.mu.Lock()
	closed, sealed, tail := l.mu.closed, l.mu.sealed, l.mu.tail
	l.mu.Unlock()
	switch {
	case closed:
		return 0, loglet.ErrClosed
	case sealed:
		return tail, nil
	}
	tails := make([]loglet.Position, l.n)
	if err := l.each(func(k int) (err error) {
		tails[k], err = l.stripes[k].Seal(ctx)
		return err
	}); err != nil {
		return 0, err
	}
	tail, err := l.wholeBatches(ctx, tails)
	if err != nil {
		return 0, err
	}
	l.mu.Lock()
	l.mu.sealed, l.mu.tail = true, tail
	l.mu.Unlock()
	return tail, nil
}

// PrefixTrim implements loglet.Loglet: pos is clamped to the tail, and
// stripe k trimmed below the positions under pos that it holds.
func (l *Loglet) PrefixTrim(ctx context.Context, pos loglet.Position) error {
	tail, _, err := l.CheckTail(ctx)
	if err != nil {
		return err
	}
	pos = min(pos, tail)
	return l.each(func(k int) error {
		return l.stripes[k].PrefixTrim(ctx, l.below(pos, k))
	})
}
