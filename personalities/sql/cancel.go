package sql

import (
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
func (s *Server) cancelRequest(pid uint32, key []byte) {
	if len(key) != 4 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.mu.conns {
		if uint32(c.pid) == pid && c.key == binary.BigEndian.Uint32(key) {
			c.cancelStatement()
		}
	}
}

// cancelStatement cancels the statement the connection runs, if any.
func (c *conn) cancelStatement() {}

// storeOf is the store statements of ss are described against: the open
// transaction's, or the view.
func storeOf(ss *session, v platform.View) store.Store {
	if ss.tx != nil && ss.tx.overlay != nil {
		return ss.tx.overlay
	}
	return store.FromReader(v)
}
