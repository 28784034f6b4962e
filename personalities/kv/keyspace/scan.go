package keyspace

import (
	"bytes"
	"hash/fnv"
	"math"
	"strings"

	"hourglass/personalities/kv/glob"
)

func init() {
	register(&Command{Spec: Spec{Name: "scan", Arity: -2, Flags: []string{"readonly"}}, Kind: KindScan, check: checkScan(2), scan: scanKeys, optsAt: 2})
}

// A scanWalker calls fn for each position of a scan from from on, in
// order, with the items the position contributes (none when MATCH or TYPE
// filters it out), until fn returns false. pos is valid only during the
// call.
type scanWalker func(from []byte, fn func(pos []byte, items []any) bool) error

// scanKeys is SCAN's walker: the live keys of the database, filtered by
// MATCH and TYPE.
func scanKeys(ks *Keyspace, _ [][]byte, o scanOptions) (scanWalker, error) {
	return func(from []byte, fn func(pos []byte, items []any) bool) error {
		return ks.eachKey(from, func(key []byte, rec record) bool {
			if (o.match != nil && !glob.Match(o.match, key)) || (o.typ != "" && typeName(rec.typ) != o.typ) {
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

// CursorTable is a node's memory of the cursors it handed out, so that
// it resolves them without a walk. Implementations must be safe for
// concurrent use.
type CursorTable interface {
	// Save remembers that cursor id continues a scan of target at
	// position from; from is the table's to keep.
	Save(id uint64, target string, from []byte)
	// Load returns where cursor id of a scan of target continues, if the
	// table remembers it.
	Load(id uint64, target string) (from []byte, ok bool)
}

// Scan runs one step of a KindScan command (SCAN, HSCAN, SSCAN, ZSCAN)
// against ks, a view from NewView, from the cursor among args, and
// returns the reply: the next cursor and the items. table, if not nil,
// remembers the cursors handed out and resolves them at once; a cursor
// it does not know (another node's) is resolved by walking the scan.
//
// REQUIRES: c.Kind == KindScan, args passed Check.
func (c *Command) Scan(ks *Keyspace, args [][]byte, table CursorTable) (any, error) {
	return c.scanStep(args, ks, table)
}

// scanStep runs one step of a SCAN-like command: args[optsAt-1] is the
// cursor. table, if not nil, remembers the cursors handed out; without
// one (inside a transaction, at apply) the step is a pure function of the
// state, as apply must be.
func (c *Command) scanStep(args [][]byte, ks *Keyspace, table CursorTable) (any, error) {
	cur, _ := parseCursor(args[c.optsAt-1])
	if c.scanType != 0 {
		// A missing key scans as empty and a wrong type fails, before
		// the options are looked at.
		_, ok, err := ks.lookupType(args[1], c.scanType)
		if err != nil {
			return nil, err
		}
		if !ok {
			return []any{[]byte("0"), []any{}}, nil
		}
	}
	o, err := parseScanOptions(args, c.optsAt, c.scanType == 0)
	if err != nil {
		return nil, err
	}
	walk, err := c.scan(ks, args, o)
	if err != nil || walk == nil {
		return []any{[]byte("0"), []any{}}, err
	}
	target := c.Name
	if c.optsAt > 2 {
		target += "\x00" + string(args[1])
	}
	var from []byte
	if cur != 0 {
		ok := false
		if table != nil {
			from, ok = table.Load(cur, target)
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
			table.Save(id, target, next)
		}
		nextCur = formatInt(int64(id))
	}
	return []any{nextCur, items}, nil
}

// checkScan validates a cursor at args[i-1] and, for SCAN (i == 2),
// the options from args[i] on. HSCAN, SSCAN and ZSCAN check their options
// only once the key is known to exist with the right type, as Redis does.
func checkScan(i int) func([][]byte) error {
	return func(args [][]byte) error {
		if _, ok := parseCursor(args[i-1]); !ok {
			return Error("ERR invalid cursor")
		}
		if i > 2 {
			return nil
		}
		_, err := parseScanOptions(args, i, true)
		return err
	}
}

type scanOptions struct {
	match []byte
	count int64
	typ   string
}

// parseScanOptions parses MATCH, COUNT and (SCAN's only) TYPE.
func parseScanOptions(args [][]byte, i int, allowType bool) (scanOptions, error) {
	o := scanOptions{count: 10}
	for j := i; j < len(args); j++ {
		more := j+1 < len(args)
		switch {
		case EqFold(args[j], "match") && more:
			j++
			o.match = args[j]
		case EqFold(args[j], "count") && more:
			j++
			n, ok := ParseInt(args[j])
			if !ok {
				return o, ErrNotInteger
			}
			if n < 1 {
				return o, ErrSyntax
			}
			o.count = n
		case allowType && EqFold(args[j], "type") && more:
			j++
			o.typ = strings.ToLower(string(args[j]))
		default:
			return o, ErrSyntax
		}
	}
	return o, nil
}

// parseCursor parses a SCAN cursor as Redis's strtoul-based
// parseScanCursorOrReply: the C string up to a NUL, empty for 0, a sign
// allowed ("-1" is 2^64-1: a cursor never handed out, which starts over).
func parseCursor(b []byte) (uint64, bool) {
	if k := bytes.IndexByte(b, 0); k >= 0 {
		b = b[:k]
	}
	if len(b) == 0 {
		return 0, true
	}
	neg := b[0] == '-'
	if b[0] == '+' || b[0] == '-' {
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' || v > (math.MaxUint64-uint64(c-'0'))/10 {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}
