package zk

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	gozk "github.com/go-zookeeper/zk"

	"hourglass/loglet"
)

// maxConflicts bounds the retries of one batch that lost the tail to
// other writers.
const maxConflicts = 100

// committer writes the queued appends, a batch at a time, until Close.
func (l *Loglet) committer() {
	defer close(l.done)
	for {
		select {
		case <-l.wake:
		case <-l.stop:
			return
		}
		for l.commitOnce() {
		}
	}
}

// commitOnce writes what is queued, up to MaxBatchBytes, in one multi; it
// reports whether it took anything.
func (l *Loglet) commitOnce() bool {
	l.mu.Lock()
	n, size := 0, 0
	for n < len(l.mu.queue) && (n == 0 || size+encodedSize(l.mu.queue[n].a) <= l.cfg.MaxBatchBytes) {
		size += encodedSize(l.mu.queue[n].a)
		n++
	}
	ops := l.mu.queue[:n:n]
	l.mu.queue = l.mu.queue[n:]
	sealed := l.mu.sealed
	l.mu.Unlock()
	if n == 0 {
		return false
	}
	var err error
	if sealed {
		err = loglet.ErrSealed
	} else {
		err = l.write(ops)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, o := range ops {
		o.err = err
		l.mu.ids.Finish(o.a.id, o, o.first, err == nil)
		close(o.done)
	}
	return true
}

// write appends ops as one batch znode at the tail, checking the seal and
// moving the tail in the same multi. It sets each op's first position.
func (l *Loglet) write(ops []*op) error {
	appends := make([]batchAppend, len(ops))
	total := 0
	for i, o := range ops {
		appends[i] = o.a
		total += len(o.a.entries)
	}
	data := appendBatch(nil, appends)
	ctx := context.Background()
	for range maxConflicts {
		l.mu.Lock()
		tail, ver, ok := l.mu.tail, l.mu.tailVer, l.mu.tailOK
		l.mu.Unlock()
		if !ok {
			var err error
			if tail, ver, err = l.getPosition(ctx, "tail"); err != nil {
				return err // nothing was sent
			}
		}
		res, err := call(l, ctx, func() ([]gozk.MultiResponse, error) {
			return l.conn.Multi(
				&gozk.CheckVersionRequest{Path: l.p("meta"), Version: 0},
				&gozk.SetDataRequest{Path: l.p("tail"), Data: []byte(strconv.FormatUint(tail+loglet.Position(total), 10)), Version: ver},
				&gozk.CreateRequest{Path: l.p("b/" + batchName(tail)), Data: data, Acl: gozk.WorldACL(gozk.PermAll)},
			)
		})
		l.mu.Lock()
		switch {
		case err == nil:
			l.mu.tail, l.mu.tailOK = tail+loglet.Position(total), false
			if len(res) == 3 && res[1].Stat != nil {
				l.mu.tailVer, l.mu.tailOK = res[1].Stat.Version, true
			}
			l.mu.Unlock()
			pos := tail
			for _, o := range ops {
				o.first = pos
				pos += loglet.Position(len(o.a.entries))
			}
			return nil
		case len(res) == 3 && res[0].Error != nil:
			// meta's version moved: sealed.
			l.mu.sealed, l.mu.tailOK = true, false
			l.mu.Unlock()
			return loglet.ErrSealed
		case len(res) == 3 && (res[1].Error != nil || res[2].Error != nil),
			errors.Is(err, gozk.ErrBadVersion), errors.Is(err, gozk.ErrNodeExists):
			// Another writer took the tail: retry at the new one.
			l.mu.tailOK = false
			l.mu.Unlock()
			continue
		case errors.Is(err, loglet.ErrClosed):
			l.mu.Unlock()
			return fmt.Errorf("%w: %w", loglet.ErrOutcomeUnknown, err)
		case errors.Is(err, loglet.ErrUnavailable):
			// The multi may or may not have been applied; a retry with
			// the same id looks for it in the batch at tail. Other
			// writers may take these positions if it was not, so the
			// error carries none.
			l.mu.tailOK = false
			for _, o := range ops {
				if !o.a.id.IsZero() {
					l.mu.unknown[o.a.id] = tail
				}
			}
			l.mu.Unlock()
			return fmt.Errorf("%w: %w", loglet.ErrOutcomeUnknown, err)
		default:
			l.mu.tailOK = false
			l.mu.Unlock()
			return fmt.Errorf("%w: zk: append: %w", loglet.ErrUnavailable, err)
		}
	}
	return fmt.Errorf("%w: zk: the tail moved %d times under one append", loglet.ErrUnavailable, maxConflicts)
}

// CheckTail implements loglet.Reader. It syncs the server it talks to with
// the ZooKeeper leader, so it sees every append acknowledged before.
func (l *Loglet) CheckTail(ctx context.Context) (loglet.Position, bool, error) {
	l.mu.Lock()
	closed, final, tail := l.mu.closed, l.mu.final, l.mu.tail
	l.mu.Unlock()
	switch {
	case closed:
		return 0, false, loglet.ErrClosed
	case final:
		return tail, true, nil
	}
	if err := l.call(ctx, func() error {
		_, err := l.conn.Sync(l.cfg.Root)
		return err
	}); err != nil {
		return 0, false, unavailable(err)
	}
	_, st, err := l.getData(ctx, "meta")
	if err != nil {
		return 0, false, unavailable(err)
	}
	tail, ver, err := l.getPosition(ctx, "tail")
	if err != nil {
		return 0, false, unavailable(err)
	}
	sealed := st.Version != 0
	l.mu.Lock()
	if sealed {
		// Read after the seal: final.
		l.mu.sealed, l.mu.final, l.mu.tail, l.mu.tailVer, l.mu.tailOK = true, true, tail, ver, true
	}
	l.mu.Unlock()
	return tail, sealed, nil
}

// unavailable wraps a ZooKeeper error the contract has no name for.
func unavailable(err error) error {
	if errors.Is(err, loglet.ErrUnavailable) || errors.Is(err, loglet.ErrClosed) {
		return err
	}
	return fmt.Errorf("%w: zk: %w", loglet.ErrUnavailable, err)
}

// Seal implements loglet.Loglet: a conditional setData of meta from its
// open version; losing to another sealer is the same success.
func (l *Loglet) Seal(ctx context.Context) (loglet.Position, error) {
	err := l.call(ctx, func() error {
		_, err := l.conn.Set(l.p("meta"), []byte("sealed"), 0)
		if errors.Is(err, gozk.ErrBadVersion) {
			return nil // sealed already
		}
		return err
	})
	if err != nil {
		return 0, unavailable(err)
	}
	l.mu.Lock()
	l.mu.sealed = true
	l.mu.Unlock()
	tail, _, err := l.CheckTail(ctx)
	return tail, err
}

// PrefixTrim implements loglet.Loglet: it raises root/trim to pos (clamped
// to the tail) and deletes the batches wholly below it.
func (l *Loglet) PrefixTrim(ctx context.Context, pos loglet.Position) error {
	tail, _, err := l.CheckTail(ctx)
	if err != nil {
		return err
	}
	pos = min(pos, tail)
	for {
		trim, ver, err := l.getPosition(ctx, "trim")
		if err != nil {
			return unavailable(err)
		}
		if pos <= trim {
			break
		}
		err = l.call(ctx, func() error {
			_, err := l.conn.Set(l.p("trim"), []byte(strconv.FormatUint(pos, 10)), ver)
			return err
		})
		if err == nil {
			break
		}
		if !errors.Is(err, gozk.ErrBadVersion) {
			return unavailable(err)
		}
	}
	l.mu.Lock()
	l.mu.trimmed = max(l.mu.trimmed, pos)
	l.mu.Unlock()
	starts, err := l.batches(ctx)
	if err != nil {
		return err
	}
	for i := 0; i+1 < len(starts) && starts[i+1] <= pos; i++ {
		err := l.call(ctx, func() error {
			err := l.conn.Delete(l.p("b/"+batchName(starts[i])), -1)
			if errors.Is(err, gozk.ErrNoNode) {
				return nil
			}
			return err
		})
		if err != nil {
			return unavailable(err)
		}
	}
	return nil
}

// Close implements loglet.Loglet: appends still queued fail with an
// unknown outcome (none was sent), and the session ends.
func (l *Loglet) Close() error {
	l.mu.Lock()
	if l.mu.closed {
		l.mu.Unlock()
		return nil
	}
	l.mu.closed = true
	close(l.stop)
	l.mu.Unlock()
	<-l.done
	l.mu.Lock()
	for _, o := range l.mu.queue {
		o.err = loglet.ErrClosed
		close(o.done)
	}
	l.mu.queue = nil
	l.mu.Unlock()
	l.conn.Close()
	return nil
}
