package platform

import (
	"context"
	"sync"
	"time"
)

// tailRounds shares CheckTail calls among concurrent Syncs. A Sync may only
// use a CheckTail that began after the Sync did, so callers join the next
// round to start, never one already under way.
type tailRounds struct {
	check func(context.Context) (Position, error)
	mu    sync.Mutex
	// running is the round under way; waiting is the one that starts when
	// it finishes.
	running, waiting *tailRound
}

type tailRound struct {
	done chan struct{}
	tail Position
	err  error
}

func (t *tailRounds) get(ctx context.Context) (Position, error) {
	t.mu.Lock()
	if t.running == nil {
		// No round under way: run one here, in the caller's goroutine.
		r := &tailRound{done: make(chan struct{})}
		t.running = r
		t.mu.Unlock()
		t.finish(r)
		return r.tail, r.err
	}
	r := t.waiting
	if r == nil {
		r = &tailRound{done: make(chan struct{})}
		t.waiting = r
	}
	t.mu.Unlock()
	select {
	case <-r.done:
		return r.tail, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// finish runs round r, publishes its result, and starts the waiting round
// (on its own goroutine: its callers are blocked, not running).
func (t *tailRounds) finish(r *tailRound) {
	// Rounds serve many callers; bound them instead of using one
	// caller's context.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	r.tail, r.err = t.check(ctx)
	cancel()
	close(r.done)
	t.mu.Lock()
	next := t.waiting
	t.running, t.waiting = next, nil
	t.mu.Unlock()
	if next != nil {
		go t.finish(next)
	}
}
