package kv

import (
	"sync"

	"hourglass/personalities/kv/keyspace"
)

// cursors is a node's table of the scan cursors it handed out most
// recently (keyspace.CursorTable): a cursor found here is resolved at
// once; any other is resolved by walking the scan (see package keyspace).
type cursors struct {
	mu    sync.Mutex
	state map[uint64]cursorState
	order []uint64 // for eviction, oldest first
}

var _ keyspace.CursorTable = (*cursors)(nil)

type cursorState struct {
	target string
	from   []byte
}

const maxCursors = 10000

// Save implements keyspace.CursorTable; it keeps the last maxCursors.
func (c *cursors) Save(id uint64, target string, from []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == nil {
		c.state = map[uint64]cursorState{}
	}
	if _, ok := c.state[id]; !ok {
		c.order = append(c.order, id)
	}
	c.state[id] = cursorState{target, from}
	for len(c.order) > maxCursors {
		delete(c.state, c.order[0])
		c.order = c.order[1:]
	}
}

// Load implements keyspace.CursorTable.
func (c *cursors) Load(id uint64, target string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.state[id]
	if !ok || st.target != target {
		return nil, false
	}
	return st.from, true
}
