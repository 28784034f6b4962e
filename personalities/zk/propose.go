package zk

import (
	"context"
	"errors"

	"hourglass/engines/sessionorder"
	"hourglass/platform"
)

// queuedWrite is a write waiting for the proposer.
type queuedWrite struct {
	op   int32
	body []byte
	auth []ID
	st   *step
	// after is the last read sent before the write: the write must not
	// apply before that read has seen the state.
	after *step
}

// proposeLoop proposes the queued writes in order on the connection's
// stream, each once the read sent before it is done, until the connection
// closes and the queue is empty. Once a write failed (failed), the
// connection is closing, and the writes after it are not proposed.
func (c *conn) proposeLoop() {
	for {
		c.writes.Lock()
		for len(c.writes.queue) == 0 && !c.writes.closed {
			c.writes.cond.Wait()
		}
		if len(c.writes.queue) == 0 {
			c.writes.Unlock()
			return
		}
		w := c.writes.queue[0]
		c.writes.queue[0] = queuedWrite{}
		c.writes.queue = c.writes.queue[1:]
		last := len(c.writes.queue) == 0
		c.writes.Unlock()
		if w.after != nil {
			<-w.after.done
		}
		if !c.failed.Load() {
			if c.stream == nil {
				c.stream = c.s.engine.NewStream()
			}
			c.seq++
			seq := sessionorder.Seq(c.epoch.Load(), c.seq)
			w.st.p = c.stream.Propose(entry(w.op, c.sessionID(), seq, w.auth, w.body))
			if last {
				// The writes queued so far leave together.
				c.stream.Flush()
			}
		}
		close(w.st.done)
	}
}

// answerWrite waits for the write st's outcome and queues its reply. It
// reports false when the connection must close: the stack failed (a
// timeout, an unavailable log, a node stopping, a proposal overtaken by
// the session's resumption elsewhere), or an earlier write did, so the
// write was not proposed. Then no reply is sent: a client reading an
// error code would take the write as not done, and it may be; connection
// loss says "may or may not have happened". The exception is a write
// refused as stale after its session moved (see Server.sessionMoved):
// it certainly did not apply, and is answered SessionMoved (ZooKeeper's
// code for a request from a connection its session left). It also reports false for a session found expired. Only the
// responder calls it.
func (c *conn) answerWrite(st *step) bool {
	if st.p == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(c.s.ctx, c.s.cfg.ProposeTimeout)
	defer cancel()
	res, err := outcome(st.p.Wait(ctx))
	if errors.Is(err, sessionorder.ErrStale) && c.movedAway(ctx) {
		c.failed.Store(true) // the later writes would be stale too
		c.send(appendReplyHeader(nil, st.xid, c.lastZxid.Load(), errSessionMoved))
		return false
	}
	if err == nil {
		// The reply waits until the write's watch events are queued.
		err = c.s.notified.wait(ctx, res.zxid)
	}
	if errors.Is(err, platform.ErrStorageFailed) && !errors.Is(err, platform.ErrOutcomeUnknown) {
		// The log's disk failed and refused the write before taking
		// it: a definite failure the client is told with an error
		// code (the session stays; reads go on).
		c.reply(st.xid, c.lastZxid.Load(), errorCode(err), nil)
		return true
	}
	if err != nil {
		c.failed.Store(true)
		c.s.log.Debug("write outcome unknown to the client; closing its connection", "session", c.sessionID(), "err", err)
		return false
	}
	c.lastZxid.Store(res.zxid)
	if res.code == errOK && st.written != nil {
		c.s.stats.namespaces.write(st.written.path, st.written.bytes)
	}
	b := appendReplyHeader(make([]byte, 0, 16+len(res.body)), st.xid, res.zxid, res.code)
	if res.code == errOK {
		b = append(b, res.body...)
	}
	c.send(b)
	return res.code != errSessionExpired
}

// movedAway reports whether the connection's session has resumed on a
// newer connection: marked at apply (Server.sessionMoved), or, if a
// result overtook the mark, the session's epoch in a synced view is
// newer than the connection's.
func (c *conn) movedAway(ctx context.Context) bool {
	if c.moved.Load() {
		return true
	}
	v, _, err := c.s.readView(ctx)
	if err != nil {
		return false
	}
	defer v.Close()
	s, ok, err := loadSession(v, c.sessionID())
	return err == nil && ok && uint32(s.epoch) > c.epoch.Load()
}
