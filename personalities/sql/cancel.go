package sql

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"time"

	"hourglass/personalities/sql/store"
	"hourglass/platform"
)

// randomKey draws a connection's cancel key.
func randomKey() uint32 {
	var b [4]byte
	rand.Read(b[:])
	return binary.BigEndian.Uint32(b[:])
}

// A process id is a positive int32 that carries the node owning the
// connection: the node's index (Config.Node) in bits 24 to 30, a
// connection number in the low 24 bits.
const (
	pidConnBits = 24
	pidConnMask = 1<<pidConnBits - 1
	// MaxNode is the largest node index a process id can carry.
	MaxNode = 1<<(31-pidConnBits) - 1
)

// forwardCancelTimeout bounds the forwarding of a cancel request to the
// node owning its process id.
const forwardCancelTimeout = 2 * time.Second

// makePID is the process id of connection number n on node.
func makePID(node int, n uint32) int32 {
	return int32(uint32(node)<<pidConnBits | n&pidConnMask)
}

// pidNode is the index of the node a process id belongs to.
func pidNode(pid uint32) int { return int(pid >> pidConnBits & MaxNode) }

// cancelRequest handles a CancelRequest: a process id of another node is
// forwarded to it through Config.ForwardCancel (best effort, bounded by
// forwardCancelTimeout, on the requesting connection's goroutine, so the
// accept loop never waits); one of this node is canceled here.
func (s *Server) cancelRequest(pid, key uint32) {
	owner := pidNode(pid)
	if owner == 0 || owner == s.cfg.Node || s.cfg.ForwardCancel == nil {
		s.Cancel(pid, key)
		return
	}
	ctx, cancel := context.WithTimeout(s.ctx, forwardCancelTimeout)
	defer cancel()
	if err := s.cfg.ForwardCancel(ctx, owner, pid, key); err != nil {
		s.log.Debug("forwarding a cancel request", "pid", pid, "node", owner, "err", err)
	}
}

// Cancel cancels the statement running on this node's connection with
// process id pid, if key is that connection's secret key, and reports
// whether such a connection exists. The statement ends with 57014, as
// for a CancelRequest sent to this node; Cancel never forwards. It may
// be called from any goroutine.
func (s *Server) Cancel(pid, key uint32) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	found := false
	for c := range s.mu.conns {
		if uint32(c.pid) == pid && c.key == key {
			c.cancelStatement()
			found = true
		}
	}
	return found
}

// cancelStatement cancels the statement the connection runs, if any. It
// may be called from any goroutine.
func (c *conn) cancelStatement() {
	c.running.Lock()
	defer c.running.Unlock()
	if c.running.cancel != nil {
		c.running.cancel()
	}
}

// statementContext returns the context a statement runs with: canceled
// by a cancel request for this connection until done is called.
func (c *conn) statementContext() (ctx context.Context, done func()) {
	ctx, cancel := context.WithCancel(c.ctx)
	c.running.Lock()
	c.running.cancel = cancel
	c.running.Unlock()
	return ctx, func() {
		c.running.Lock()
		c.running.cancel = nil
		c.running.Unlock()
		cancel()
	}
}

// storeOf is the store statements of ss are described against: the open
// transaction's, or the view.
func storeOf(ss *session, v platform.View) store.Store {
	if ss.tx != nil && ss.tx.overlay != nil {
		return ss.tx.overlay
	}
	return store.FromReader(v)
}

// newPID is the process id of a new connection: positive, and never
// with a zero connection number.
func (s *Server) newPID() int32 {
	for {
		if n := s.nextConn.Add(1) & pidConnMask; n != 0 {
			return makePID(s.cfg.Node, n)
		}
	}
}
