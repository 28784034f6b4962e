package native

import (
	"context"
	"errors"
	"fmt"
	"time"

	"hourglass/loglet"
)

// ReadNext implements loglet.Reader.
func (l *Loglet) ReadNext(ctx context.Context, from loglet.Position, max int) ([][]byte, error) {
	return l.ReadNextCommitted(ctx, from, max, 0)
}

// ReadNextCommitted is ReadNext for a caller that knows positions below
// committed are committed (the VirtualLog, for a sealed segment whose end
// the chain fixed). It implements loglet.HintedReader.
func (l *Loglet) ReadNextCommitted(ctx context.Context, from loglet.Position, max int, committed loglet.Position) ([][]byte, error) {
	l.learn(committed)
	backoff := time.Millisecond
	stalled := 0
	for {
		n := len(l.servers)
		first := int(l.preferred.Load()) % n
		// Wait on the preferred server, bounded, so that a partitioned
		// preferred server cannot hold the reader forever.
		entries, st, err := l.readFrom(ctx, first, from, max, true)
		switch {
		case err == nil && len(entries) > 0:
			return entries, nil
		case errors.Is(err, loglet.ErrTrimmed), errors.Is(err, loglet.ErrSealed), errors.Is(err, loglet.ErrClosed):
			return nil, err
		case ctx.Err() != nil:
			return nil, ctx.Err()
		}
		if n == 1 && err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return nil, err
		}
		// What the servers say of the loglet, for the checks below.
		var sealedNotFinal bool
		var held loglet.Position
		note := func(st Status, err error) {
			if err == nil || errors.Is(err, ErrNotHeld) || errors.Is(err, context.DeadlineExceeded) {
				sealedNotFinal = sealedNotFinal || st.Sealed && !st.Final
				if st.LocalTail > held {
					held = st.LocalTail
				}
			}
		}
		note(st, err)
		// Ask the others without waiting; move the preference to one that
		// answers with data.
		for k := 1; k < n; k++ {
			i := (first + k) % n
			entries, st, err := l.readFrom(ctx, i, from, max, false)
			if err == nil && len(entries) > 0 {
				l.preferred.Store(int32(i))
				return entries, nil
			}
			if errors.Is(err, loglet.ErrTrimmed) || errors.Is(err, loglet.ErrSealed) {
				return nil, err
			}
			note(st, err)
		}
		switch {
		case sealedNotFinal:
			// A sealed loglet whose final tail nobody told the servers
			// (its sealer stopped half-way): finish the seal, as any
			// client may.
			if stalled++; stalled >= 2 {
				if _, err := l.Seal(ctx); err != nil && ctx.Err() == nil {
					l.log.Debug("finishing a stalled seal", "err", err)
				}
				stalled = 0
			}
		case held > from && l.remote != nil:
			// Entries are there but, after a whole poll, nobody says
			// they are committed: ask the sequencer, whose silence means
			// it is gone and the loglet must be replaced.
			if stalled++; stalled >= 1 {
				stalled = 0
				c, err := l.remote.Committed(ctx, l.id)
				if err != nil {
					return nil, err
				}
				l.learn(c)
			}
		default:
			stalled = 0
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 50*time.Millisecond)
	}
}

// readPoll bounds one waiting read, after which the reader looks at the
// other servers: a preferred server cut off from the sequencer must not
// hold a reader up for long.
const readPoll = 250 * time.Millisecond

// readFrom reads from server i, waiting (up to readPoll) if asked.
func (l *Loglet) readFrom(ctx context.Context, i int, from loglet.Position, max int, wait bool) ([][]byte, Status, error) {
	limit := l.callTimeout
	if wait && len(l.servers) > 1 {
		limit = min(limit, readPoll)
	}
	cctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	entries, st, err := l.servers[i].Read(cctx, l.id, from, max, ReadOptions{Committed: l.known.Load(), Wait: wait})
	if err == nil || errors.Is(err, ErrNotHeld) {
		l.learn(st.Committed)
	}
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		err = context.DeadlineExceeded
	}
	return entries, st, err
}

// fetch reads what any server but skip holds from from (below tail),
// without telling it that tail is committed (it may not be).
func (l *Loglet) fetch(ctx context.Context, skip Server, from, tail loglet.Position) ([][]byte, error) {
	var errs []error
	for _, s := range l.servers {
		if s == skip {
			continue
		}
		entries, _, err := s.Read(ctx, l.id, from, int(min(tail-from, 1024)), ReadOptions{Committed: tail, Raw: true})
		if err == nil && len(entries) > 0 {
			return entries, nil
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return nil, fmt.Errorf("%w: no server holds position %d: %w", loglet.ErrUnavailable, from, errors.Join(errs...))
}
