package keyspace

import (
	"bytes"
	"encoding/binary"
	"math"
)

// Lists.
//
// A list's items live at consecutive int64 indexes [rec.head, rec.tail),
// each under the sub-key listSub(index): big-endian with the sign bit
// flipped, so that the sub-key order is the index order. A push at the
// left moves head down, a push at the right moves tail up, and a pop does
// the reverse, so pushes, pops, LINDEX and LSET touch one element. The
// indexes stay contiguous: LINSERT and LREM shift the shorter side of the
// list, LTRIM drops both ends with range deletions. rec.count is always
// tail-head.
//
// popFront and moveOne are the apply-side bodies of the pops and moves,
// for the blocking variants (BLPOP, BRPOP, BLMPOP, BLMOVE) to call once
// a key they wait on is ready.

func init() {
	wr := []string{"write", "denyoom", "fast"}
	register(singleKey(&Command{Spec: Spec{Name: "lpush", Arity: -3, Flags: wr}, Kind: KindWrite, exec: execPush(true, false)}))
	register(singleKey(&Command{Spec: Spec{Name: "rpush", Arity: -3, Flags: wr}, Kind: KindWrite, exec: execPush(false, false)}))
	register(singleKey(&Command{Spec: Spec{Name: "lpushx", Arity: -3, Flags: wr}, Kind: KindWrite, exec: execPush(true, true)}))
	register(singleKey(&Command{Spec: Spec{Name: "rpushx", Arity: -3, Flags: wr}, Kind: KindWrite, exec: execPush(false, true)}))
	register(singleKey(&Command{Spec: Spec{Name: "lpop", Arity: -2, Flags: []string{"write", "fast"}}, Kind: KindWrite, check: checkPop("lpop"), exec: execPop("lpop", true)}))
	register(singleKey(&Command{Spec: Spec{Name: "rpop", Arity: -2, Flags: []string{"write", "fast"}}, Kind: KindWrite, check: checkPop("rpop"), exec: execPop("rpop", false)}))
	register(singleKey(&Command{Spec: Spec{Name: "llen", Arity: 2, Flags: []string{"readonly", "fast"}}, Kind: KindRead, exec: execLlen}))
	register(singleKey(&Command{Spec: Spec{Name: "lrange", Arity: 4, Flags: []string{"readonly"}}, Kind: KindRead, check: checkInts(2, 3), exec: execLrange}))
	register(singleKey(&Command{Spec: Spec{Name: "lindex", Arity: 3, Flags: []string{"readonly"}}, Kind: KindRead, exec: execLindex}))
	register(singleKey(&Command{Spec: Spec{Name: "lpos", Arity: -3, Flags: []string{"readonly"}}, Kind: KindRead, check: checkLpos, exec: execLpos}))
	register(singleKey(&Command{Spec: Spec{Name: "lset", Arity: 4, Flags: []string{"write", "denyoom"}}, Kind: KindWrite, exec: execLset}))
	register(singleKey(&Command{Spec: Spec{Name: "linsert", Arity: 5, Flags: []string{"write", "denyoom"}}, Kind: KindWrite, check: checkLinsert, exec: execLinsert}))
	register(singleKey(&Command{Spec: Spec{Name: "lrem", Arity: 4, Flags: []string{"write"}}, Kind: KindWrite, check: checkInts(2), exec: execLrem}))
	register(singleKey(&Command{Spec: Spec{Name: "ltrim", Arity: 4, Flags: []string{"write"}}, Kind: KindWrite, check: checkInts(2, 3), exec: execLtrim}))
	register(&Command{Spec: Spec{Name: "lmove", Arity: 5, FirstKey: 1, LastKey: 2, Step: 1, Flags: []string{"write", "denyoom"}}, Kind: KindWrite, check: checkLmove, exec: execLmove})
	register(&Command{Spec: Spec{Name: "rpoplpush", Arity: 3, FirstKey: 1, LastKey: 2, Step: 1, Flags: []string{"write", "denyoom"}}, Kind: KindWrite, exec: execRpoplpush})
	register(&Command{Spec: Spec{Name: "lmpop", Arity: -4, Flags: []string{"write", "movablekeys"}}, Kind: KindWrite, check: checkLmpop, exec: execLmpop})
}

// listSub is the sub-key of the item at index i: order-preserving.
func listSub(i int64) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(i)^(1<<63))
}

// listGet returns the item at position i (0 is the head) of the list rec.
// REQUIRES: 0 <= i < rec.count.
func (ks *Keyspace) listGet(rec record, i int64) ([]byte, error) {
	v, ok, err := ks.getElem(rec.gen, listSub(rec.head+i))
	if err == nil && !ok {
		return nil, errCorrupt
	}
	return v, err
}

// listRange returns n items of the list rec from position from on.
// REQUIRES: 0 <= from, from+n <= rec.count.
func (ks *Keyspace) listRange(rec record, from, n int64) ([][]byte, error) {
	out := make([][]byte, 0, min(n, 1024))
	if n <= 0 {
		return out, nil
	}
	err := ks.scanElems(rec.gen, nil, listSub(rec.head+from), func(_, v []byte) bool {
		out = append(out, bytes.Clone(v))
		return int64(len(out)) < n
	})
	if err == nil && int64(len(out)) != n {
		err = errCorrupt
	}
	return out, err
}

// listScan calls f with the position and value of each item of the list
// rec, from the head (or from the tail if reverse), until f returns false.
// v is valid only during the call.
func (ks *Keyspace) listScan(rec record, reverse bool, f func(i int64, v []byte) bool) error {
	if !reverse {
		i := int64(0)
		return ks.scanElems(rec.gen, nil, nil, func(_, v []byte) bool {
			i++
			return f(i-1, v)
		})
	}
	i := rec.count
	return ks.scanElemsReverse(rec.gen, nil, func(_, v []byte) bool {
		i--
		return f(i, v)
	})
}

// listPush pushes vals one by one at the left (or right) end of the list
// rec, in memory and in the store; the caller stores rec.
func (ks *Keyspace) listPush(rec *record, left bool, vals ...[]byte) error {
	for _, v := range vals {
		at := rec.tail
		if left {
			rec.head--
			at = rec.head
		} else {
			rec.tail++
		}
		if err := ks.setElem(rec.gen, listSub(at), v); err != nil {
			return err
		}
	}
	rec.count = rec.tail - rec.head
	return nil
}

// listPop removes up to n items from the left (or right) end of the list
// rec and returns them in pop order; the caller stores or removes rec.
func (ks *Keyspace) listPop(rec *record, left bool, n int64) ([][]byte, error) {
	n = min(n, rec.count)
	var out [][]byte
	if n == 1 {
		i := rec.count - 1
		if left {
			i = 0
		}
		v, err := ks.listGet(*rec, i)
		if err != nil {
			return nil, err
		}
		out = [][]byte{v}
	} else if left {
		var err error
		if out, err = ks.listRange(*rec, 0, n); err != nil {
			return nil, err
		}
	} else {
		out = make([][]byte, 0, min(n, 1024))
		if err := ks.scanElemsReverse(rec.gen, nil, func(_, v []byte) bool {
			out = append(out, bytes.Clone(v))
			return int64(len(out)) < n
		}); err != nil {
			return nil, err
		}
	}
	for range out {
		at := rec.head
		if left {
			rec.head++
		} else {
			rec.tail--
			at = rec.tail
		}
		if err := ks.delElem(rec.gen, listSub(at)); err != nil {
			return nil, err
		}
	}
	rec.count = rec.tail - rec.head
	return out, nil
}

// listStore writes back the list rec of key after a change: removes the
// key if the list is empty (as Redis does), else updates its record.
// Then it notifies event, and "del" if the key went.
func (ks *Keyspace) listStore(key []byte, rec record, event string) error {
	var err error
	if rec.count == 0 {
		err = ks.remove(key, rec)
	} else {
		err = ks.update(key, rec)
	}
	if err != nil {
		return err
	}
	ks.notifyEmptied(EventList, event, key, rec.count == 0)
	return nil
}

// endEvent is the event of a push (or pop) at the left or right end.
func endEvent(left bool, op string) string {
	if left {
		return "l" + op
	}
	return "r" + op
}

// listSplice replaces the items at positions [lo, hi) of the list rec
// with repl, moving whichever of the items before lo or from hi on are
// fewer; the caller stores rec. REQUIRES: 0 <= lo <= hi <= rec.count.
func (ks *Keyspace) listSplice(rec *record, lo, hi int64, repl [][]byte) error {
	delta := int64(len(repl)) - (hi - lo)
	if lo <= rec.count-hi {
		// Move the prefix: the items from hi on keep their indexes.
		prefix, err := ks.listRange(*rec, 0, lo)
		if err != nil {
			return err
		}
		oldHead := rec.head
		rec.head -= delta
		for i, v := range append(prefix, repl...) {
			if err := ks.setElem(rec.gen, listSub(rec.head+int64(i)), v); err != nil {
				return err
			}
		}
		for at := oldHead; at < rec.head; at++ {
			if err := ks.delElem(rec.gen, listSub(at)); err != nil {
				return err
			}
		}
	} else {
		// Move the suffix: the items before lo keep their indexes.
		suffix, err := ks.listRange(*rec, hi, rec.count-hi)
		if err != nil {
			return err
		}
		oldTail := rec.tail
		rec.tail += delta
		at := rec.head + lo
		for _, v := range append(repl, suffix...) {
			if err := ks.setElem(rec.gen, listSub(at), v); err != nil {
				return err
			}
			at++
		}
		for at := rec.tail; at < oldTail; at++ {
			if err := ks.delElem(rec.gen, listSub(at)); err != nil {
				return err
			}
		}
	}
	rec.count = rec.tail - rec.head
	return nil
}

// execPush implements LPUSH, RPUSH and (onlyExisting) LPUSHX, RPUSHX.
func execPush(left, onlyExisting bool) func(*Keyspace, [][]byte) (any, error) {
	return func(ks *Keyspace, args [][]byte) (any, error) {
		rec, exists, err := ks.lookupType(args[1], typeList)
		if err != nil {
			return nil, err
		}
		if !exists {
			if onlyExisting {
				return int64(0), nil
			}
			if rec, err = ks.newCollection(typeList); err != nil {
				return nil, err
			}
		}
		if err := ks.listPush(&rec, left, args[2:]...); err != nil {
			return nil, err
		}
		if err := ks.put(args[1], rec, exists, rec); err != nil {
			return nil, err
		}
		ks.notify(EventList, endEvent(left, "push"), args[1])
		return rec.count, nil
	}
}

// parsePopCount parses LPOP's and RPOP's optional count: has is false
// without one.
func parsePopCount(cmd string, args [][]byte) (count int64, has bool, err error) {
	switch len(args) {
	case 2:
		return 1, false, nil
	case 3:
		n, ok := ParseInt(args[2])
		if !ok || n < 0 {
			return 0, true, Error("ERR value is out of range, must be positive")
		}
		return n, true, nil
	}
	return 0, false, ErrArity(cmd)
}

func checkPop(cmd string) func([][]byte) error {
	return func(args [][]byte) error {
		_, _, err := parsePopCount(cmd, args)
		return err
	}
}

// execPop implements LPOP and RPOP: one item as a bulk string, or with a
// count an array (a null array for a missing key, as Redis 7).
func execPop(cmd string, left bool) func(*Keyspace, [][]byte) (any, error) {
	return func(ks *Keyspace, args [][]byte) (any, error) {
		count, has, err := parsePopCount(cmd, args)
		if err != nil {
			return nil, err
		}
		if has && count == 0 {
			_, ok, err := ks.lookupType(args[1], typeList)
			if err != nil || !ok {
				return NullArray{}, err
			}
			return []any{}, nil
		}
		vals, err := popFront(ks, args[1], left, count)
		switch {
		case err != nil:
			return nil, err
		case vals == nil && has:
			return NullArray{}, nil
		case vals == nil:
			return nil, nil
		case !has:
			return vals[0], nil
		}
		return bulkArray(vals), nil
	}
}

func bulkArray(vals [][]byte) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		out[i] = v
	}
	return out
}

func execLlen(ks *Keyspace, args [][]byte) (any, error) {
	rec, _, err := ks.lookupType(args[1], typeList)
	return rec.count, err
}

// listBounds clamps LRANGE/LTRIM's start and end to the list of length n
// as Redis does; ok is false when the range is empty.
func listBounds(start, end, n int64) (lo, hi int64, ok bool) {
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start = max(start, 0)
	if start > end || start >= n {
		return 0, 0, false
	}
	return start, min(end, n-1), true
}

func execLrange(ks *Keyspace, args [][]byte) (any, error) {
	start, ok1 := ParseInt(args[2])
	end, ok2 := ParseInt(args[3])
	if !ok1 || !ok2 {
		return nil, ErrNotInteger
	}
	rec, ok, err := ks.lookupType(args[1], typeList)
	if err != nil || !ok {
		return []any{}, err
	}
	lo, hi, ok := listBounds(start, end, rec.count)
	if !ok {
		return []any{}, nil
	}
	vals, err := ks.listRange(rec, lo, hi-lo+1)
	if err != nil {
		return nil, err
	}
	return bulkArray(vals), nil
}

// listIndex turns a Redis list index (negative: from the tail) into a
// position in the list of length n; ok is false when it is out of range.
func listIndex(arg []byte, n int64) (pos int64, ok bool, err error) {
	i, valid := ParseInt(arg)
	if !valid {
		return 0, false, ErrNotInteger
	}
	if i < 0 {
		i += n
	}
	return i, i >= 0 && i < n, nil
}

// execLindex looks the key up before parsing the index, as Redis does.
func execLindex(ks *Keyspace, args [][]byte) (any, error) {
	rec, ok, err := ks.lookupType(args[1], typeList)
	if err != nil || !ok {
		return nil, err
	}
	i, ok, err := listIndex(args[2], rec.count)
	if err != nil || !ok {
		return nil, err
	}
	return ks.listGet(rec, i)
}

// execLset looks the key up before parsing the index, as Redis does.
func execLset(ks *Keyspace, args [][]byte) (any, error) {
	rec, ok, err := ks.lookupType(args[1], typeList)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errNoSuchKey
	}
	i, ok, err := listIndex(args[2], rec.count)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, Error("ERR index out of range")
	}
	if err := ks.setElem(rec.gen, listSub(rec.head+i), args[3]); err != nil {
		return nil, err
	}
	return OK, ks.listStore(args[1], rec, "lset")
}

// lposOptions are LPOS's RANK, COUNT and MAXLEN; count is -1 without
// COUNT.
type lposOptions struct {
	rank, count, maxlen int64
}

func parseLpos(args [][]byte) (lposOptions, error) {
	o := lposOptions{rank: 1, count: -1}
	for j := 3; j < len(args); j++ {
		if j+1 >= len(args) {
			return o, ErrSyntax
		}
		var dst *int64
		switch {
		case EqFold(args[j], "rank"):
			dst = &o.rank
		case EqFold(args[j], "count"):
			dst = &o.count
		case EqFold(args[j], "maxlen"):
			dst = &o.maxlen
		default:
			return o, ErrSyntax
		}
		j++
		n, ok := ParseInt(args[j])
		if !ok {
			return o, ErrNotInteger
		}
		*dst = n
		switch {
		case dst == &o.rank && n == 0:
			return o, Error("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
		case dst == &o.count && n < 0:
			return o, Error("ERR COUNT can't be negative")
		case dst == &o.maxlen && n < 0:
			return o, Error("ERR MAXLEN can't be negative")
		}
	}
	return o, nil
}

func checkLpos(args [][]byte) error {
	_, err := parseLpos(args)
	return err
}

// execLpos implements LPOS: positions count from the head whichever the
// direction; MAXLEN bounds the items compared.
func execLpos(ks *Keyspace, args [][]byte) (any, error) {
	o, err := parseLpos(args)
	if err != nil {
		return nil, err
	}
	rec, ok, err := ks.lookupType(args[1], typeList)
	if err != nil {
		return nil, err
	}
	if !ok {
		if o.count >= 0 {
			return []any{}, nil
		}
		return nil, nil
	}
	reverse := o.rank < 0
	rank := o.rank
	if reverse {
		rank = -rank
	}
	if rank == math.MinInt64 {
		// Redis 7.0 negates RANK -9223372036854775808 into itself: every
		// match from the tail counts, and COUNT never stops the search.
		rank, o.count = 1, min(o.count, 0)
	}
	var matches, seen int64
	var found []any
	err = ks.listScan(rec, reverse, func(i int64, v []byte) bool {
		if o.maxlen != 0 && seen >= o.maxlen {
			return false
		}
		seen++
		if !bytes.Equal(v, args[2]) {
			return true
		}
		matches++
		if matches < rank {
			return true
		}
		found = append(found, i)
		// Without COUNT the first match is the answer; COUNT 0 wants all.
		return o.count == 0 || (o.count > 0 && int64(len(found)) < o.count)
	})
	switch {
	case err != nil:
		return nil, err
	case o.count >= 0:
		if found == nil {
			found = []any{}
		}
		return found, nil
	case len(found) == 0:
		return nil, nil
	}
	return found[0], nil
}

func parseWhere(b []byte) (before bool, err error) { return parseEither(b, "before", "after") }

func checkLinsert(args [][]byte) error {
	_, err := parseWhere(args[2])
	return err
}

// execLinsert implements LINSERT: the new length, -1 if the pivot is not
// found, 0 if the key does not exist.
func execLinsert(ks *Keyspace, args [][]byte) (any, error) {
	before, err := parseWhere(args[2])
	if err != nil {
		return nil, err
	}
	rec, ok, err := ks.lookupType(args[1], typeList)
	if err != nil || !ok {
		return int64(0), err
	}
	pivot := int64(-1)
	if err := ks.listScan(rec, false, func(i int64, v []byte) bool {
		if bytes.Equal(v, args[3]) {
			pivot = i
			return false
		}
		return true
	}); err != nil {
		return nil, err
	}
	if pivot < 0 {
		return int64(-1), nil
	}
	at := pivot
	if !before {
		at++
	}
	if err := ks.listSplice(&rec, at, at, [][]byte{args[4]}); err != nil {
		return nil, err
	}
	return rec.count, ks.listStore(args[1], rec, "linsert")
}

// execLrem implements LREM: count > 0 removes the first count matches
// from the head, count < 0 from the tail, 0 all of them.
func execLrem(ks *Keyspace, args [][]byte) (any, error) {
	count, ok := ParseInt(args[2])
	if !ok {
		return nil, ErrNotInteger
	}
	rec, ok, err := ks.lookupType(args[1], typeList)
	if err != nil || !ok {
		return int64(0), err
	}
	reverse := count < 0
	limit := count
	if reverse {
		limit = -count // MinInt64 stays negative: no limit, as in Redis
	}
	var hit []int64 // positions of the matches, in scan order
	if err := ks.listScan(rec, reverse, func(i int64, v []byte) bool {
		if bytes.Equal(v, args[3]) {
			hit = append(hit, i)
		}
		return limit <= 0 || int64(len(hit)) < limit
	}); err != nil {
		return nil, err
	}
	switch int64(len(hit)) {
	case 0:
		return int64(0), nil
	case rec.count:
		// Every item matches: the key goes, its elements in one range.
		n := rec.count
		rec.count = 0
		return n, ks.listStore(args[1], rec, "lrem")
	}
	lo, hi := hit[0], hit[len(hit)-1]
	if reverse {
		lo, hi = hi, lo
	}
	// Keep the items between the first and last match that do not match.
	span, err := ks.listRange(rec, lo, hi-lo+1)
	if err != nil {
		return nil, err
	}
	kept := span[:0]
	for _, v := range span {
		if !bytes.Equal(v, args[3]) {
			kept = append(kept, v)
		}
	}
	if err := ks.listSplice(&rec, lo, hi+1, kept); err != nil {
		return nil, err
	}
	return int64(len(hit)), ks.listStore(args[1], rec, "lrem")
}

// execLtrim implements LTRIM: both ends go with one range deletion each.
func execLtrim(ks *Keyspace, args [][]byte) (any, error) {
	start, ok1 := ParseInt(args[2])
	end, ok2 := ParseInt(args[3])
	if !ok1 || !ok2 {
		return nil, ErrNotInteger
	}
	rec, ok, err := ks.lookupType(args[1], typeList)
	if err != nil || !ok {
		return OK, err
	}
	lo, hi, ok := listBounds(start, end, rec.count)
	if !ok {
		rec.count = 0
		return OK, ks.listStore(args[1], rec, "ltrim")
	}
	head, tail := rec.head+lo, rec.head+hi+1
	for _, r := range [][2]int64{{rec.head, head}, {tail, rec.tail}} {
		if r[0] == r[1] {
			continue
		}
		if err := ks.w.DeleteRange(elemKey(rec.gen, listSub(r[0])), elemKey(rec.gen, listSub(r[1]))); err != nil {
			return nil, err
		}
	}
	rec.head, rec.tail, rec.count = head, tail, tail-head
	return OK, ks.listStore(args[1], rec, "ltrim")
}
