package rdb

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"strconv"
)

// Load decodes the value of a payload that passed Verify: the object
// type, then the object. As in redis-server, the object is read from the
// whole payload, so it may run into the footer, and bytes after it are
// ignored. The Value may alias p.
func Load(p []byte) (*Value, error) {
	v, _, err := load(p)
	return v, err
}

// load is Load, also returning how many bytes LZF strings inflated to.
func load(p []byte) (*Value, int, error) {
	if len(p) < 10 {
		return nil, 0, ErrBadFormat
	}
	r := &reader{b: p}
	v, ok := r.object()
	if !ok {
		return nil, r.inflated, ErrBadFormat
	}
	return v, r.inflated, nil
}

// reader reads an RDB object; every read reports false past the end.
type reader struct {
	b        []byte
	inflated int // bytes of LZF strings decompressed
}

func (r *reader) next(n uint64) ([]byte, bool) {
	if n > uint64(len(r.b)) {
		return nil, false
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out, true
}

func (r *reader) byte() (byte, bool) {
	b, ok := r.next(1)
	if !ok {
		return 0, false
	}
	return b[0], true
}

// length reads an RDB length; encoded reports a special encoding
// (11xxxxxx), whose type is then n.
func (r *reader) length() (n uint64, encoded, ok bool) {
	t, ok := r.byte()
	if !ok {
		return 0, false, false
	}
	switch t >> 6 {
	case 0:
		return uint64(t & 0x3f), false, true
	case 1:
		b, ok := r.byte()
		return uint64(t&0x3f)<<8 | uint64(b), false, ok
	case 3:
		return uint64(t & 0x3f), true, true
	}
	switch t {
	case 0x80:
		b, ok := r.next(4)
		if !ok {
			return 0, false, false
		}
		return uint64(binary.BigEndian.Uint32(b)), false, true
	case 0x81:
		b, ok := r.next(8)
		if !ok {
			return 0, false, false
		}
		return binary.BigEndian.Uint64(b), false, true
	}
	return 0, false, false
}

// count reads a collection's length: at least 1 (Redis refuses empty
// collections) and at most the bytes left (each element takes one).
func (r *reader) count() (int, bool) {
	n, enc, ok := r.length()
	if !ok || enc || n == 0 || n > uint64(len(r.b)) {
		return 0, false
	}
	return int(n), true
}

// string reads an RDB string: raw, an integer or LZF-compressed.
func (r *reader) string() ([]byte, bool) {
	n, enc, ok := r.length()
	if !ok {
		return nil, false
	}
	if !enc {
		return r.next(n)
	}
	var w uint64
	switch n {
	case 0:
		b, ok := r.next(1)
		if !ok {
			return nil, false
		}
		return strconv.AppendInt(nil, int64(int8(b[0])), 10), true
	case 1:
		b, ok := r.next(2)
		if !ok {
			return nil, false
		}
		return strconv.AppendInt(nil, int64(int16(binary.LittleEndian.Uint16(b))), 10), true
	case 2:
		b, ok := r.next(4)
		if !ok {
			return nil, false
		}
		return strconv.AppendInt(nil, int64(int32(binary.LittleEndian.Uint32(b))), 10), true
	case 3:
		clen, e1, ok1 := r.length()
		if w, _, ok = r.length(); !ok || !ok1 || e1 || w == 0 {
			return nil, false
		}
		c, ok := r.next(clen)
		if !ok || w > lzfMaxExpansion*uint64(len(c)) {
			return nil, false
		}
		r.inflated += int(w)
		return lzfDecompress(c, int(w))
	}
	return nil, false
}

func (r *reader) object() (*Value, bool) {
	t, ok := r.byte()
	if !ok {
		return nil, false
	}
	switch t {
	case typeString:
		s, ok := r.string()
		return &Value{Kind: KindString, Str: s}, ok
	case typeList, typeSet, typeHash:
		n, ok := r.count()
		if !ok {
			return nil, false
		}
		per := 1
		if t == typeHash {
			per = 2
		}
		v := &Value{Kind: map[byte]Kind{typeList: KindList, typeSet: KindSet, typeHash: KindHash}[t]}
		v.Items = make([][]byte, 0, min(n*per, len(r.b)))
		for range n * per {
			s, ok := r.string()
			if !ok {
				return nil, false
			}
			v.Items = append(v.Items, s)
		}
		return v, v.unique()
	case typeZSet, typeZSet2:
		n, ok := r.count()
		if !ok {
			return nil, false
		}
		v := &Value{Kind: KindZSet, Items: make([][]byte, 0, n), Scores: make([]float64, 0, n)}
		for range n {
			m, ok := r.string()
			if !ok {
				return nil, false
			}
			s, ok := r.score(t == typeZSet2)
			if !ok {
				return nil, false
			}
			v.Items, v.Scores = append(v.Items, m), append(v.Scores, s)
		}
		return v, v.unique()
	case typeListQuicklist, typeListQuicklist2:
		return r.quicklist(t == typeListQuicklist2)
	case typeListZiplist:
		b, ok := r.string()
		if !ok {
			return nil, false
		}
		items, ok := ziplistItems(b)
		return &Value{Kind: KindList, Items: items}, ok && len(items) > 0
	case typeSetIntset:
		b, ok := r.string()
		if !ok {
			return nil, false
		}
		items, ok := intsetItems(b)
		return &Value{Kind: KindSet, Items: items}, ok
	case typeHashListpack, typeZSetListpack, typeHashZiplist, typeZSetZiplist:
		b, ok := r.string()
		if !ok {
			return nil, false
		}
		items, ok := listpackItems(b)
		if t == typeHashZiplist || t == typeZSetZiplist {
			items, ok = ziplistItems(b)
		}
		if !ok || len(items) == 0 || len(items)%2 != 0 {
			return nil, false
		}
		if t == typeHashListpack || t == typeHashZiplist {
			v := &Value{Kind: KindHash, Items: items}
			return v, v.unique()
		}
		v := &Value{Kind: KindZSet, Items: make([][]byte, 0, len(items)/2), Scores: make([]float64, 0, len(items)/2)}
		for i := 0; i < len(items); i += 2 {
			s, ok := parseScore(items[i+1])
			if !ok {
				return nil, false
			}
			v.Items, v.Scores = append(v.Items, items[i]), append(v.Scores, s)
		}
		return v, v.unique()
	}
	return nil, false
}

// score reads a sorted set's score: 8 bytes of IEEE double (ZSET_2), or
// a length byte and ASCII (253 NaN, 254 +inf, 255 -inf). NaN fails.
func (r *reader) score(binaryDouble bool) (float64, bool) {
	if binaryDouble {
		b, ok := r.next(8)
		if !ok {
			return 0, false
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64(b))
		return f, !math.IsNaN(f)
	}
	n, ok := r.byte()
	switch {
	case !ok || n == 253:
		return 0, false
	case n == 254:
		return math.Inf(1), true
	case n == 255:
		return math.Inf(-1), true
	}
	b, ok := r.next(uint64(n))
	if !ok {
		return 0, false
	}
	return parseScore(b)
}

// parseScore reads a score's text (as d2string writes it: an integer,
// %.17g, "inf" or "-inf"); all of it must be a number, and not NaN.
func parseScore(b []byte) (float64, bool) {
	if len(b) == 0 || len(b) > 64 || b[0] == '+' || bytes.IndexByte(b, '_') >= 0 {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(b), 64)
	return f, (err == nil || isRange(err)) && !math.IsNaN(f)
}

func isRange(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// quicklist reads RDB_TYPE_LIST_QUICKLIST_2 (v2): nodes, each a
// container type (plain: one item; packed: a listpack of items) and its
// bytes; or RDB_TYPE_LIST_QUICKLIST: nodes that are ziplists. Empty
// nodes are skipped; an empty list fails.
func (r *reader) quicklist(v2 bool) (*Value, bool) {
	n, ok := r.count()
	if !ok {
		return nil, false
	}
	v := &Value{Kind: KindList}
	for range n {
		container := uint64(0)
		if v2 {
			var enc bool
			if container, enc, ok = r.length(); !ok || enc {
				return nil, false
			}
		}
		b, ok := r.string()
		if !ok {
			return nil, false
		}
		switch container {
		case 0:
			items, ok := ziplistItems(b)
			if !ok {
				return nil, false
			}
			v.Items = append(v.Items, items...)
		case quicklistNodePlain:
			v.Items = append(v.Items, b)
		case quicklistNodePacked:
			items, ok := listpackItems(b)
			if !ok {
				return nil, false
			}
			v.Items = append(v.Items, items...)
		default:
			return nil, false
		}
	}
	return v, len(v.Items) > 0
}

// unique reports whether the set's members, the hash's fields or the
// sorted set's members are distinct, as Redis requires when it loads.
func (v *Value) unique() bool {
	var keys [][]byte
	if v.Kind == KindHash {
		keys = make([][]byte, 0, len(v.Items)/2)
		for i := 0; i < len(v.Items); i += 2 {
			keys = append(keys, v.Items[i])
		}
	} else if v.Kind == KindSet || v.Kind == KindZSet {
		keys = slices.Clone(v.Items)
	} else {
		return true
	}
	slices.SortFunc(keys, bytes.Compare)
	for i := 1; i < len(keys); i++ {
		if bytes.Equal(keys[i-1], keys[i]) {
			return false
		}
	}
	return true
}
