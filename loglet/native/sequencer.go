package native

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"hourglass/loglet"
)

// sequencer drives the sequencer's state machine (seqstate.go): one
// goroutine owns the state and steps it with each event, and one goroutine
// per server carries out the calls and timers the state asks of that
// server, posting each outcome back as an event. Append calls reach the
// owner over a channel and wait on their own answer.
type sequencer struct {
	l *Loglet

	// Owned by run.
	st      *seqState
	waiters map[ticket]*waiter

	tickets  atomic.Uint64
	appends  chan appendCall
	expiries chan ticket
	seals    chan struct{}
	// events carries the servers' outcomes to run; work[i] carries the
	// state's actions to server i's goroutine (one at a time, so one
	// slot is enough).
	events chan seqEvent
	work   []chan seqAction

	// ctx is cancelled by close, so calls under way end at once.
	ctx       context.Context
	cancel    context.CancelFunc
	stop      chan struct{}
	stopOnce  sync.Once
	done      chan struct{} // closed when run returns
	ioWG      sync.WaitGroup
	committed atomic.Uint64
	// queued mirrors the state's queue totals, for tests.
	queuedAppends, queuedEntries, queuedBytes atomic.Int64
}

// waiter is one Append call's answer, filled in by run before done is
// closed.
type waiter struct {
	done    chan struct{}
	pos     loglet.Position
	err     error
	expired bool
}

type appendCall struct {
	t       ticket
	w       *waiter
	id      loglet.AppendID
	entries [][]byte
}

func newSequencer(l *Loglet, start loglet.Position, sealed bool, limits seqLimits) *sequencer {
	n := len(l.servers)
	q := &sequencer{
		l:        l,
		st:       newSeqState(n, start, sealed, limits),
		waiters:  make(map[ticket]*waiter),
		appends:  make(chan appendCall),
		expiries: make(chan ticket),
		seals:    make(chan struct{}),
		events:   make(chan seqEvent, n),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	q.ctx, q.cancel = context.WithCancel(context.Background())
	q.committed.Store(start)
	for range n {
		q.work = append(q.work, make(chan seqAction, 1))
	}
	q.ioWG.Add(n)
	for i := range n {
		go q.serve(i)
	}
	go q.run()
	return q
}

// committedTail returns the highest tail the sequencer knows committed.
// Safe for concurrent use.
func (q *sequencer) committedTail() loglet.Position { return q.committed.Load() }

// append queues entries and waits for them to commit. The sequencer keeps
// its own copy of entries. When ctx ends first, the call answers at once:
// with an error matching ErrAppendExpired if the entries were never sent
// (they never will be), otherwise with one matching
// loglet.ErrOutcomeUnknown. Both also match ctx's error.
func (q *sequencer) append(ctx context.Context, id loglet.AppendID, entries [][]byte) (loglet.Position, error) {
	own := make([][]byte, len(entries))
	for i, e := range entries {
		own[i] = append([]byte(nil), e...)
	}
	w := &waiter{done: make(chan struct{})}
	t := ticket(q.tickets.Add(1))
	select {
	case q.appends <- appendCall{t: t, w: w, id: id, entries: own}:
	case <-q.done:
		return 0, loglet.ErrClosed
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	select {
	case <-w.done:
	case <-ctx.Done():
		select {
		case q.expiries <- t:
		case <-w.done:
		case <-q.done:
		}
		// run answers every call it took before it returns.
		<-w.done
	}
	if w.expired {
		return 0, fmt.Errorf("%w: %w", w.err, ctx.Err())
	}
	return w.pos, w.err
}

// seal tells the sequencer that a sealer began: it sends nothing more and
// fails what it had not sent. It returns once the state machine took it.
func (q *sequencer) seal() {
	select {
	case q.seals <- struct{}{}:
	case <-q.done:
	}
}

// close stops the sequencer and waits for its goroutines. Appends still
// queued fail (see seqState.close). Idempotent.
func (q *sequencer) close() {
	q.stopOnce.Do(func() {
		close(q.stop)
		q.cancel()
	})
	<-q.done
	q.ioWG.Wait()
}

// run owns the state: it steps it with each event and carries out the
// resulting actions, until close.
func (q *sequencer) run() {
	defer close(q.done)
	for {
		var ev seqEvent
		select {
		case c := <-q.appends:
			q.waiters[c.t] = c.w
			ev = evAppend{t: c.t, id: c.id, entries: c.entries}
		case t := <-q.expiries:
			ev = evExpire{t: t}
		case <-q.seals:
			ev = evSeal{}
		case ev = <-q.events:
		case <-q.stop:
			acts := q.st.step(evClose{})
			q.publish()
			q.execute(acts)
			for t, w := range q.waiters {
				// Not reached: the state answers every call it holds.
				w.err = loglet.ErrClosed
				close(w.done)
				delete(q.waiters, t)
			}
			return
		}
		acts := q.st.step(ev)
		// Publish before answering: an append that returned lies below
		// the committed tail CheckTail reports.
		q.publish()
		q.execute(acts)
	}
}

// publish mirrors what other goroutines read of the state.
func (q *sequencer) publish() {
	if c := q.st.committed; c > q.committed.Load() {
		q.committed.Store(c)
		q.l.learn(c)
	}
	q.queuedAppends.Store(int64(len(q.st.queue)))
	q.queuedEntries.Store(int64(q.st.entries))
	q.queuedBytes.Store(int64(q.st.bytes))
}

// execute carries out actions: answers here, calls and timers on the
// servers' goroutines.
func (q *sequencer) execute(acts []seqAction) {
	for _, a := range acts {
		var server int
		switch a := a.(type) {
		case actReply:
			w := q.waiters[a.t]
			delete(q.waiters, a.t)
			w.pos, w.err, w.expired = a.pos, a.err, a.expired
			close(w.done)
			continue
		case actDown:
			if errors.Is(a.err, loglet.ErrStorageFailed) {
				q.l.log.Warn("LogServer's disk failed; it takes no writes until it restarts", "server", a.server, "err", a.err)
				continue
			}
			q.l.log.Warn("LogServer unreachable; retrying in the background", "server", a.server, "err", a.err)
			continue
		case actUp:
			q.l.log.Info("LogServer reachable again", "server", a.server)
			continue
		case actStore:
			server = a.server
		case actCatchUp:
			server = a.server
		case actNotify:
			server = a.server
		case actBackoff:
			server = a.server
		}
		select {
		case q.work[server] <- a:
		default:
			panic(fmt.Sprintf("native: sequencer gave server %d a second call before the first answered", server))
		}
	}
}

// serve carries out server i's calls and timers, one at a time.
func (q *sequencer) serve(i int) {
	defer q.ioWG.Done()
	for {
		var a seqAction
		select {
		case a = <-q.work[i]:
		case <-q.stop:
			return
		}
		ev := q.do(i, a)
		if ev == nil {
			return
		}
		select {
		case q.events <- ev:
		case <-q.stop:
			return
		}
	}
}

// do carries out one action for server i and returns its outcome, or nil
// if the sequencer stopped meanwhile.
func (q *sequencer) do(i int, a seqAction) seqEvent {
	l, s := q.l, q.l.servers[i]
	switch a := a.(type) {
	case actStore:
		st, err := l.call(q.ctx, s, func(ctx context.Context, s Server) (Status, error) {
			return s.Store(ctx, l.id, a.first, a.entries, StoreOptions{Committed: a.committed})
		})
		return evStored{server: i, st: st, err: err}
	case actCatchUp:
		st, err := l.call(q.ctx, s, func(ctx context.Context, s Server) (Status, error) {
			return l.copyTo(ctx, s, a.from, a.to, StoreOptions{Committed: a.to})
		})
		return evStored{server: i, st: st, err: err}
	case actNotify:
		st, err := l.call(q.ctx, s, func(ctx context.Context, s Server) (Status, error) { return s.Commit(ctx, l.id, a.committed) })
		return evNoticed{server: i, st: st, err: err}
	case actBackoff:
		d := min(time.Millisecond<<min(a.attempt, 10), time.Second)
		t := time.NewTimer(d + time.Duration(rand.Int64N(int64(d))))
		defer t.Stop()
		select {
		case <-t.C:
			return evRetry{server: i}
		case <-q.stop:
			return nil
		}
	}
	panic(fmt.Sprintf("native: unknown sequencer action %T", a))
}
