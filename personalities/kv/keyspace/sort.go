package keyspace

import (
	"bytes"
	"math"
	"slices"
)

// SORT and SORT_RO, as Redis 7.0's sortCommandGeneric: the elements of a
// list, set or sorted set, sorted numerically (by strtod) or by bytes
// (ALPHA), by themselves or by the values of the keys (and hash fields)
// a BY pattern names, then limited, and answered as themselves or as the
// values GET patterns name. SORT without STORE is a read; with STORE it
// is a write (writeIf) that replaces the destination by a list.
//
// Differences from Redis: ALPHA compares bytes (Redis uses strcoll in
// the server's locale without STORE, bytes with it), and a set read in
// its "internal order" (BY without '*') comes in byte order.

func init() {
	register(&Command{Spec: Spec{Name: "sort", Arity: -2, FirstKey: 1, LastKey: 1, Step: 1, Flags: []string{"write", "denyoom", "movablekeys"}},
		Kind: KindRead, check: checkSort(false), exec: execSort(false), writeIf: sortStores})
	register(&Command{Spec: Spec{Name: "sort_ro", Arity: -2, FirstKey: 1, LastKey: 1, Step: 1, Flags: []string{"readonly", "movablekeys"}},
		Kind: KindRead, check: checkSort(true), exec: execSort(true)})
}

// sortOptions are SORT's parsed options.
type sortOptions struct {
	desc, alpha bool
	start       int64 // LIMIT offset
	count       int64 // LIMIT count; -1: all
	by          []byte
	dontsort    bool // BY a pattern without '*': no sorting
	gets        [][]byte
	store       []byte // nil: no STORE
}

var errSortScore = Error("ERR One or more scores can't be converted into double")

// cString is b up to its first NUL byte, as C's string functions see it.
func cString(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// parseSort parses SORT's options in Redis's order and words.
func parseSort(args [][]byte, readonly bool) (sortOptions, error) {
	o := sortOptions{count: -1}
	for j := 2; j < len(args); j++ {
		left := len(args) - j - 1
		a := args[j]
		switch {
		case EqFold(a, "asc"):
			o.desc = false
		case EqFold(a, "desc"):
			o.desc = true
		case EqFold(a, "alpha"):
			o.alpha = true
		case EqFold(a, "limit") && left >= 2:
			var err error
			if o.start, o.count, err = parseLimit(args[j+1:]); err != nil {
				return o, err
			}
			j += 2
		case !readonly && EqFold(a, "store") && left >= 1:
			o.store = args[j+1]
			j++
		case EqFold(a, "by") && left >= 1:
			o.by = args[j+1]
			o.dontsort = bytes.IndexByte(cString(o.by), '*') < 0
			j++
		case EqFold(a, "get") && left >= 1:
			o.gets = append(o.gets, args[j+1])
			j++
		default:
			return o, ErrSyntax
		}
	}
	return o, nil
}

func checkSort(readonly bool) func([][]byte) error {
	return func(args [][]byte) error {
		_, err := parseSort(args, readonly)
		return err
	}
}

// sortStores reports whether a SORT command line has STORE, which makes
// it a write. A line with a syntax error is a read (it fails at once).
func sortStores(args [][]byte) bool {
	o, err := parseSort(args, false)
	return err == nil && o.store != nil
}

// sortItem is one element being sorted with its sort key.
type sortItem struct {
	elem  []byte
	score float64
	cmp   []byte // ALPHA BY: the BY value; nil if missing
}

func execSort(readonly bool) func(*Keyspace, [][]byte) (any, error) {
	return func(ks *Keyspace, args [][]byte) (any, error) {
		o, err := parseSort(args, readonly)
		if err != nil {
			return nil, err
		}
		rec, ok, err := ks.lookup(args[1])
		if err != nil {
			return nil, err
		}
		if ok && rec.typ != typeList && rec.typ != typeSet && rec.typ != typeZSet {
			return nil, errWrongType
		}
		if !ok {
			ks.missed(args[1]) // with STORE, at apply
			rec = record{typ: typeList}
		}
		if o.dontsort && rec.typ == typeSet && (o.store != nil || ks.inScript) {
			// Redis sorts a set it stores or a script reads, so that
			// replicas agree.
			o.dontsort, o.alpha, o.by = false, true, nil
		}
		items, start, end, err := ks.sortLoad(rec, o)
		if err != nil {
			return nil, err
		}
		if !o.dontsort {
			if err := ks.sortItems(items, o); err != nil {
				return nil, err
			}
		}
		if end < start {
			items = nil
		} else {
			items = items[start : end+1]
		}
		return ks.sortOutput(items, o)
	}
}

// sortLoad reads the elements of rec to sort and the range [start, end]
// of them to answer, as Redis computes it from LIMIT. When nothing is
// sorted, only the range is read (in the order asked for) and the range
// is all of it.
func (ks *Keyspace) sortLoad(rec record, o sortOptions) (items []sortItem, start, end int64, err error) {
	n := rec.count
	start = max(o.start, 0)
	end = n - 1
	if o.count >= 0 {
		end = start + o.count - 1
	}
	if start >= n {
		start, end = n-1, n-2
	}
	end = min(end, n-1)
	var elems [][]byte
	switch {
	case o.dontsort && rec.typ == typeList:
		if end < start {
			return nil, start, end, nil
		}
		from := start
		if o.desc {
			from = n - 1 - end
		}
		if elems, err = ks.listRange(rec, from, end-start+1); err != nil {
			return nil, 0, 0, err
		}
		if o.desc {
			slices.Reverse(elems)
		}
		start, end = 0, end-start
	case o.dontsort && rec.typ == typeZSet:
		want, skip := max(end-start+1, 0), start
		z := &zset{ks: ks, rec: rec, exists: true}
		err = z.walkAll(o.desc, func(m []byte, _ float64) bool {
			if skip > 0 {
				skip--
				return true
			}
			elems = append(elems, bytes.Clone(m))
			return int64(len(elems)) < want
		})
		if err != nil || want == 0 {
			return nil, start, end, err
		}
		start, end = 0, end-start
	case rec.typ == typeList:
		elems, err = ks.listRange(rec, 0, n)
	case rec.typ == typeSet:
		err = ks.scanElems(rec.gen, nil, nil, func(m, _ []byte) bool {
			elems = append(elems, bytes.Clone(m))
			return true
		})
	case rec.typ == typeZSet:
		z := &zset{ks: ks, rec: rec, exists: true}
		err = z.walkAll(false, func(m []byte, _ float64) bool {
			elems = append(elems, bytes.Clone(m))
			return true
		})
	}
	items = make([]sortItem, len(elems))
	for i, e := range elems {
		items[i].elem = e
	}
	return items, start, end, err
}

// sortItems computes each item's sort key and sorts them.
func (ks *Keyspace) sortItems(items []sortItem, o sortOptions) error {
	for i := range items {
		by := items[i].elem
		if o.by != nil {
			v, ok, err := ks.lookupPattern(o.by, items[i].elem)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			by = v
		}
		if o.alpha {
			if o.by != nil {
				items[i].cmp = by
			}
			continue
		}
		s := cString(by)
		v, n, erange := strtod(s)
		if n != len(s) || erange || math.IsNaN(v) {
			return errSortScore
		}
		items[i].score = v
	}
	slices.SortStableFunc(items, func(a, b sortItem) int {
		var c int
		switch {
		case !o.alpha:
			switch {
			case a.score > b.score:
				c = 1
			case a.score < b.score:
				c = -1
			default:
				c = bytes.Compare(a.elem, b.elem)
			}
		case o.by != nil:
			switch {
			case a.cmp == nil && b.cmp == nil:
			case a.cmp == nil:
				c = -1
			case b.cmp == nil:
				c = 1
			default:
				c = bytes.Compare(a.cmp, b.cmp)
			}
		default:
			c = bytes.Compare(a.elem, b.elem)
		}
		if o.desc {
			return -c
		}
		return c
	})
	return nil
}

// sortOutput answers the sorted items, or stores them.
func (ks *Keyspace) sortOutput(items []sortItem, o sortOptions) (any, error) {
	var out [][]byte
	var reply []any
	for _, it := range items {
		if len(o.gets) == 0 {
			out = append(out, it.elem)
			reply = append(reply, it.elem)
			continue
		}
		for _, g := range o.gets {
			v, ok, err := ks.lookupPattern(g, it.elem)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			if ok {
				reply = append(reply, v)
			} else {
				reply = append(reply, nil)
			}
		}
	}
	if o.store == nil {
		if reply == nil {
			reply = []any{}
		}
		return reply, nil
	}
	old, exists, err := ks.lookup(o.store)
	if err != nil {
		return nil, err
	}
	var rec record
	if len(out) > 0 {
		if rec, err = ks.newCollection(typeList); err != nil {
			return nil, err
		}
		if err := ks.listPush(&rec, false, out...); err != nil {
			return nil, err
		}
	}
	return rec.count, ks.storeResult(o.store, rec, old, exists, EventList, "sortstore")
}

// lookupPattern is Redis's lookupKeyByPattern: "#" is subst itself;
// otherwise the first '*' of pattern is replaced by subst to name a key,
// and "->field" after the '*' names a field of the hash there. ok is
// false when there is no '*', no such key or field, or the key holds
// another type (a string without "->", a hash with it).
func (ks *Keyspace) lookupPattern(pattern, subst []byte) (v []byte, ok bool, err error) {
	c := cString(pattern)
	if len(c) == 1 && c[0] == '#' {
		return subst, true, nil
	}
	star := bytes.IndexByte(c, '*')
	if star < 0 {
		return nil, false, nil
	}
	var field []byte
	fieldLen := 0
	if f := bytes.Index(c[star+1:], []byte("->")); f >= 0 && star+1+f+2 < len(c) {
		field = pattern[star+1+f+2:]
		fieldLen = len(field)
	}
	post := len(pattern) - (star + 1)
	if field != nil {
		post -= fieldLen + 2
	}
	key := make([]byte, 0, star+len(subst)+post)
	key = append(append(append(key, pattern[:star]...), subst...), pattern[star+1:star+1+post]...)
	rec, ok, err := ks.lookup(key)
	if err != nil || !ok {
		if err == nil {
			ks.missed(key) // with STORE, at apply
		}
		return nil, false, err
	}
	if field == nil {
		if rec.typ != typeString {
			return nil, false, nil
		}
		return rec.payload, true, nil
	}
	if rec.typ != typeHash {
		return nil, false, nil
	}
	return ks.getElem(rec.gen, field)
}
