package sql

import (
	"context"
	"crypto/rand"
	"encoding/binary"

	"hourglass/personalities/sql/store"
	"hourglass/platform"
)

// randomKey draws a connection's cancel key.
func randomKey() uint32 {
	var b [4]byte
	rand.Read(b[:])
	return binary.BigEndian.Uint32(b[:])
}

// cancelRequest cancels the statement running on this node's connection
// with the given process id, if the key matches.
func (s *Server) cancelRequest(pid, key uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.mu.conns {
		if uint32(c.pid) == pid && c.key == key {
			c.cancelStatement()
		}
	}
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
	ctx, cancel := context.WithCancel(c.s.ctx)
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
