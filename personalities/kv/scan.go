package kv

import (
	"bytes"
	"sync"
)

func init() {
	register(&command{name: "scan", arity: -2, kind: kindScan, check: checkScan(2), scan: scanKeys, optsAt: 2, flags: []string{"readonly"}})
}

// scanKeys is SCAN's step: live keys from from on, filtered by MATCH and
// TYPE.
func scanKeys(ks *keyspace, args [][]byte, from []byte, o scanOptions) ([]any, []byte, error) {
	var out []any
	var next []byte
	var seen int64
	err := ks.eachKey(from, func(key []byte, rec record) bool {
		if seen == o.count {
			next = bytes.Clone(key)
			return false
		}
		seen++
		if o.match != nil && !globMatchBytes(o.match, key, false) {
			return true
		}
		if o.typ != "" && typeName(rec.typ) != o.typ {
			return true
		}
		out = append(out, bytes.Clone(key))
		return true
	})
	return out, next, err
}

// cursors maps SCAN cursors to where the next step starts. Cursors are
// this node's: a client that moves to another node mid-scan starts over
// (which may repeat keys, as SCAN allows).
type cursors struct {
	mu    sync.Mutex
	next  uint64
	state map[uint64]cursorState
	order []uint64 // for eviction, oldest first
}

type cursorState struct {
	target string // command and key the cursor belongs to
	from   []byte
}

const maxCursors = 10000

// save stores from for a new cursor and returns it.
func (c *cursors) save(target string, from []byte) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == nil {
		c.state = map[uint64]cursorState{}
	}
	c.next++
	id := c.next
	c.state[id] = cursorState{target, from}
	c.order = append(c.order, id)
	for len(c.order) > maxCursors {
		delete(c.state, c.order[0])
		c.order = c.order[1:]
	}
	return id
}

// load returns where cursor id continues (nil: from the start).
func (c *cursors) load(target string, id uint64) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.state[id]
	if !ok || st.target != target {
		return nil
	}
	return st.from
}

// runScan runs a SCAN-like command against a view: args[optsAt-1] is the
// cursor.
func (c *conn) runScan(cmd *command, args [][]byte, ks *keyspace) any {
	cur, _ := parseCursor(args[cmd.optsAt-1])
	if cmd.scanType != 0 {
		// A missing key scans as empty and a wrong type fails, before
		// the options are looked at.
		_, ok, err := ks.lookupType(args[1], cmd.scanType)
		if err != nil {
			return replyOf(nil, err)
		}
		if !ok {
			return []any{[]byte("0"), []any{}}
		}
	}
	o, err := parseScanOptions(args, cmd.optsAt, cmd.scanType == 0)
	if err != nil {
		return replyOf(nil, err)
	}
	target := cmd.name
	if cmd.optsAt > 2 {
		target += "\\x00" + string(args[1])
	}
	var from []byte
	if cur != 0 {
		from = c.s.cursors.load(target, cur)
	}
	items, next, err := cmd.scan(ks, args, from, o)
	if err != nil {
		return replyOf(nil, err)
	}
	if items == nil {
		items = []any{}
	}
	nextCur := []byte("0")
	if next != nil {
		nextCur = formatInt(int64(c.s.cursors.save(target, next)))
	}
	return []any{nextCur, items}
}
