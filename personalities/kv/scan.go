package kv

import (
	"bytes"
	"hash/fnv"
	"sync"
)

func init() {
	register(&command{name: "scan", arity: -2, kind: kindScan, check: checkScan(2), scan: scanKeys, optsAt: 2, flags: []string{"readonly"}})
}

// A scanWalker calls fn for each position of a scan from from on, in
// order, with the items the position contributes (none when MATCH or TYPE
// filters it out), until fn returns false. pos is valid only during the
// call.
type scanWalker func(from []byte, fn func(pos []byte, items []any) bool) error

// scanKeys is SCAN's walker: the live keys of the database, filtered by
// MATCH and TYPE.
func scanKeys(ks *keyspace, _ [][]byte, o scanOptions) (scanWalker, error) {
	return func(from []byte, fn func(pos []byte, items []any) bool) error {
		return ks.eachKey(from, func(key []byte, rec record) bool {
			if (o.match != nil && !globMatchBytes(o.match, key, false)) || (o.typ != "" && typeName(rec.typ) != o.typ) {
				return fn(key, nil)
			}
			return fn(key, []any{bytes.Clone(key)})
		})
	}, nil
}

// Cursors. A cursor names the position where the next step of a scan
// starts: it is a hash of the scan's target (command and key) and that
// position, so that any node can resolve it, not only the one that
// handed it out. The node that did keeps it in a table and resolves it at
// once; any other node walks the scan's positions for the one whose hash
// it is, which costs one pass over the keys (or elements) before the
// position. A cursor whose position is gone from the view when it is not
// in the table (another node's cursor, the key deleted meanwhile)
// restarts the scan: keys may be returned again, as SCAN allows, but none
// present throughout is missed.

// cursorID is the cursor of a scan of target that continues at pos: 63
// bits of FNV-1a, never 0, so that clients reading cursors as signed
// integers see them positive.
func cursorID(target string, pos []byte) uint64 {
	h := fnv.New64a()
	h.Write([]byte(target))
	h.Write([]byte{0})
	h.Write(pos)
	if id := h.Sum64() >> 1; id != 0 {
		return id
	}
	return 1
}

// cursors is a node's table of the cursors it handed out most recently.
type cursors struct {
	mu    sync.Mutex
	state map[uint64]cursorState
	order []uint64 // for eviction, oldest first
}

type cursorState struct {
	target string
	from   []byte
}

const maxCursors = 10000

// save records the cursor that continues a scan of target at from and
// returns it.
func (c *cursors) save(target string, from []byte) uint64 {
	id := cursorID(target, from)
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
	return id
}

// load returns where cursor id of a scan of target continues, if this
// node handed it out.
func (c *cursors) load(target string, id uint64) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.state[id]
	if !ok || st.target != target {
		return nil, false
	}
	return st.from, true
}

// findCursor walks a scan of target for the position whose cursor is id;
// nil if there is none.
func findCursor(walk scanWalker, target string, id uint64) ([]byte, error) {
	var found []byte
	err := walk(nil, func(pos []byte, _ []any) bool {
		if cursorID(target, pos) == id {
			found = bytes.Clone(pos)
			return false
		}
		return true
	})
	return found, err
}

// runScan runs a SCAN-like command against a view, with this node's
// cursor table.
func (c *conn) runScan(cmd *command, args [][]byte, ks *keyspace) any {
	return replyOf(scanStep(cmd, args, ks, &c.s.cursors))
}

// scanStep runs one step of a SCAN-like command: args[optsAt-1] is the
// cursor. table, if not nil, remembers the cursors handed out; without
// one (inside a transaction, at apply) the step is a pure function of the
// state, as apply must be.
func scanStep(cmd *command, args [][]byte, ks *keyspace, table *cursors) (any, error) {
	cur, _ := parseCursor(args[cmd.optsAt-1])
	if cmd.scanType != 0 {
		// A missing key scans as empty and a wrong type fails, before
		// the options are looked at.
		_, ok, err := ks.lookupType(args[1], cmd.scanType)
		if err != nil {
			return nil, err
		}
		if !ok {
			return []any{[]byte("0"), []any{}}, nil
		}
	}
	o, err := parseScanOptions(args, cmd.optsAt, cmd.scanType == 0)
	if err != nil {
		return nil, err
	}
	walk, err := cmd.scan(ks, args, o)
	if err != nil || walk == nil {
		return []any{[]byte("0"), []any{}}, err
	}
	target := cmd.name
	if cmd.optsAt > 2 {
		target += "\x00" + string(args[1])
	}
	var from []byte
	if cur != 0 {
		ok := false
		if table != nil {
			from, ok = table.load(target, cur)
		}
		if !ok {
			if from, err = findCursor(walk, target, cur); err != nil {
				return nil, err
			}
		}
	}
	// One step: COUNT positions, and the one after them to continue at.
	items := []any{}
	var next []byte
	var seen int64
	err = walk(from, func(pos []byte, got []any) bool {
		if seen == o.count {
			next = bytes.Clone(pos)
			return false
		}
		seen++
		items = append(items, got...)
		return true
	})
	if err != nil {
		return nil, err
	}
	nextCur := []byte("0")
	if next != nil {
		id := cursorID(target, next)
		if table != nil {
			table.save(target, next)
		}
		nextCur = formatInt(int64(id))
	}
	return []any{nextCur, items}, nil
}
