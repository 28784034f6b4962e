package keyspace

import (
	"bytes"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"

	"hourglass/personalities/kv/glob"
)

// Hashes: a field is an element whose sub-key is the field's bytes and
// whose value is the field's value, so fields come back in byte order.

func init() {
	ro := []string{"readonly", "fast"}
	wr := []string{"write", "denyoom", "fast"}
	register(singleKey(&Command{Spec: Spec{Name: "hset", Arity: -4, Flags: wr}, Kind: KindWrite, check: checkFieldPairs("hset"), exec: execHset(false)}))
	register(singleKey(&Command{Spec: Spec{Name: "hmset", Arity: -4, Flags: wr}, Kind: KindWrite, check: checkFieldPairs("hmset"), exec: execHset(true)}))
	register(singleKey(&Command{Spec: Spec{Name: "hsetnx", Arity: 4, Flags: wr}, Kind: KindWrite, exec: execHsetnx}))
	register(singleKey(&Command{Spec: Spec{Name: "hget", Arity: 3, Flags: ro}, Kind: KindRead, exec: execHget}))
	register(singleKey(&Command{Spec: Spec{Name: "hmget", Arity: -3, Flags: ro}, Kind: KindRead, exec: execHmget}))
	register(singleKey(&Command{Spec: Spec{Name: "hdel", Arity: -3, Flags: []string{"write", "fast"}}, Kind: KindWrite, exec: execHdel}))
	register(singleKey(&Command{Spec: Spec{Name: "hgetall", Arity: 2, Flags: []string{"readonly"}}, Kind: KindRead, exec: execHgetall(true, true)}))
	register(singleKey(&Command{Spec: Spec{Name: "hkeys", Arity: 2, Flags: []string{"readonly"}}, Kind: KindRead, exec: execHgetall(true, false)}))
	register(singleKey(&Command{Spec: Spec{Name: "hvals", Arity: 2, Flags: []string{"readonly"}}, Kind: KindRead, exec: execHgetall(false, true)}))
	register(singleKey(&Command{Spec: Spec{Name: "hlen", Arity: 2, Flags: ro}, Kind: KindRead, exec: execCard(typeHash)}))
	register(singleKey(&Command{Spec: Spec{Name: "hexists", Arity: 3, Flags: ro}, Kind: KindRead, exec: execHexists}))
	register(singleKey(&Command{Spec: Spec{Name: "hstrlen", Arity: 3, Flags: ro}, Kind: KindRead, exec: execHstrlen}))
	register(singleKey(&Command{Spec: Spec{Name: "hincrby", Arity: 4, Flags: wr}, Kind: KindWrite, check: checkInts(3), exec: execHincrby}))
	register(singleKey(&Command{Spec: Spec{Name: "hincrbyfloat", Arity: 4, Flags: wr}, Kind: KindWrite, check: checkHincrbyfloat, exec: execHincrbyfloat}))
	register(singleKey(&Command{Spec: Spec{Name: "hrandfield", Arity: -2, Flags: []string{"readonly"}}, Kind: KindRead, check: checkHrandfield, exec: execHrandfield}))
	register(singleKey(&Command{Spec: Spec{Name: "hscan", Arity: -3, Flags: []string{"readonly"}}, Kind: KindScan, check: checkScan(3), scan: scanCollection(typeHash), scanType: typeHash, optsAt: 3}))
}

// Collections in general (hashes and sets use these; so may the other
// collection types).

// collectionForWrite returns the live collection of type typ at key, or a
// fresh empty one (stored false) if there is none; errWrongType if key
// holds another type. A fresh one takes a generation: call it only when
// the command is going to add an element.
func (ks *Keyspace) collectionForWrite(key []byte, typ byte) (rec record, stored bool, err error) {
	rec, stored, err = ks.lookupType(key, typ)
	if err != nil || stored {
		return rec, stored, err
	}
	rec, err = ks.newCollection(typ)
	return rec, false, err
}

// storeCollection saves rec, changed by a command, at key: a new key is
// created, a live one rewritten (same expiry), and an empty collection
// deleted, as Redis deletes it. Then it notifies the command's event of
// class, and "del" if the collection went.
func (ks *Keyspace) storeCollection(key []byte, rec record, stored bool, class EventClass, event string) error {
	var err error
	switch {
	case rec.count == 0 && stored:
		err = ks.remove(key, rec)
	case rec.count == 0:
		return nil
	case stored:
		err = ks.update(key, rec)
	default:
		err = ks.put(key, rec, false, record{})
	}
	if err != nil {
		return err
	}
	ks.notifyEmptied(class, event, key, rec.count == 0)
	return nil
}

// execCard implements HLEN and SCARD: the element count, 0 for no key.
func execCard(typ byte) func(*Keyspace, [][]byte) (any, error) {
	return func(ks *Keyspace, args [][]byte) (any, error) {
		rec, _, err := ks.lookupType(args[1], typ)
		return rec.count, err
	}
}

// scanCollection is HSCAN's and SSCAN's walker: elements of the
// collection at args[1] in sub-key order, filtered by MATCH; a hash's as
// field, value pairs. Like Redis, a missing key is an empty scan and the
// TYPE option belongs to SCAN alone.
func scanCollection(typ byte) func(*Keyspace, [][]byte, scanOptions) (scanWalker, error) {
	return func(ks *Keyspace, args [][]byte, o scanOptions) (scanWalker, error) {
		rec, ok, err := ks.lookupType(args[1], typ)
		if err != nil || !ok {
			return nil, err
		}
		return func(from []byte, fn func(pos []byte, items []any) bool) error {
			return ks.scanElems(rec.gen, nil, from, func(sub, v []byte) bool {
				if o.match != nil && !glob.Match(o.match, sub) {
					return fn(sub, nil)
				}
				if typ == typeHash {
					return fn(sub, []any{bytes.Clone(sub), bytes.Clone(v)})
				}
				return fn(sub, []any{bytes.Clone(sub)})
			})
		}, nil
	}
}

// randomOne is HRANDFIELD's and SRANDMEMBER's reply without a count: one
// random element of the collection rec (present says whether the key
// exists), or null.
func (ks *Keyspace) randomOne(rec record, present bool) (any, error) {
	if !present {
		return nil, nil
	}
	picked, err := ks.randomElems(rec, ks.rand(), 1, true)
	if err != nil || len(picked) == 0 {
		return nil, err
	}
	return picked[0].sub, nil
}

// randomPicks is HRANDFIELD's and SRANDMEMBER's picks for a count:
// distinct elements for count >= 0, -count picks with repeats otherwise.
func (ks *Keyspace) randomPicks(rec record, count int64) ([]collElem, error) {
	if count >= 0 {
		return ks.randomElems(rec, ks.rand(), count, true)
	}
	return ks.randomElems(rec, ks.rand(), -count, false)
}

// collElem is one element of a collection: its sub-key and value.
type collElem struct{ sub, val []byte }

// randomElems picks count elements of the collection rec with r. If
// uniq, they are distinct: all of the collection, in order, when count is
// at least its size, else a random subset in order. Otherwise they are
// count independent picks (repeats allowed), in the order drawn. It reads
// the collection once, up to the last position picked.
func (ks *Keyspace) randomElems(rec record, r *rand.Rand, count int64, uniq bool) ([]collElem, error) {
	n := rec.count
	if n <= 0 || count <= 0 {
		return nil, nil
	}
	if uniq && count >= n {
		out := make([]collElem, 0, n)
		err := ks.scanElems(rec.gen, nil, nil, func(sub, v []byte) bool {
			out = append(out, collElem{bytes.Clone(sub), bytes.Clone(v)})
			return true
		})
		return out, err
	}
	var drawn []int64
	if uniq {
		drawn = distinctPositions(r, n, count)
	} else {
		if count > maxRepeatedPicks {
			return nil, errTooManyPicks
		}
		drawn = make([]int64, count)
		for i := range drawn {
			drawn[i] = r.Int64N(n)
		}
	}
	pos := slices.Clone(drawn)
	slices.Sort(pos)
	pos = slices.Compact(pos)
	found := make([]collElem, 0, len(pos))
	var i int64
	err := ks.scanElems(rec.gen, nil, nil, func(sub, v []byte) bool {
		if i == pos[len(found)] {
			found = append(found, collElem{bytes.Clone(sub), bytes.Clone(v)})
		}
		i++
		return len(found) < len(pos)
	})
	if err != nil {
		return nil, err
	}
	if len(found) < len(pos) {
		return nil, errCorrupt // the count says there are more elements
	}
	out := make([]collElem, len(drawn))
	for j, d := range drawn {
		k, _ := slices.BinarySearch(pos, d)
		out[j] = found[k]
	}
	return out, nil
}

// distinctPositions returns k distinct positions of [0, n), k < n, chosen
// uniformly with Robert Floyd's algorithm, in increasing order.
func distinctPositions(r *rand.Rand, n, k int64) []int64 {
	chosen := make(map[int64]bool, k)
	out := make([]int64, 0, k)
	for j := n - k; j < n; j++ {
		t := r.Int64N(j + 1)
		if chosen[t] {
			t = j
		}
		chosen[t] = true
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// Hash commands.

func checkFieldPairs(cmd string) func([][]byte) error {
	return func(args [][]byte) error {
		if len(args)%2 != 0 {
			return ErrArity(cmd)
		}
		return nil
	}
}

// setField sets field to value in the hash rec, counting a new field. It
// reports whether the field is new.
func (ks *Keyspace) setField(rec *record, field, value []byte) (bool, error) {
	_, exists, err := ks.getElem(rec.gen, field)
	if err != nil {
		return false, err
	}
	if err := ks.setElem(rec.gen, field, value); err != nil {
		return false, err
	}
	if !exists {
		rec.count++
	}
	return !exists, nil
}

// execHset implements HSET (the number of new fields) and HMSET (OK).
func execHset(hmset bool) func(*Keyspace, [][]byte) (any, error) {
	name := "hset"
	if hmset {
		name = "hmset"
	}
	return func(ks *Keyspace, args [][]byte) (any, error) {
		if err := checkFieldPairs(name)(args); err != nil {
			return nil, err
		}
		rec, stored, err := ks.collectionForWrite(args[1], typeHash)
		if err != nil {
			return nil, err
		}
		var added int64
		for i := 2; i+1 < len(args); i += 2 {
			isNew, err := ks.setField(&rec, args[i], args[i+1])
			if err != nil {
				return nil, err
			}
			if isNew {
				added++
			}
		}
		if err := ks.storeCollection(args[1], rec, stored, EventHash, "hset"); err != nil {
			return nil, err
		}
		if hmset {
			return OK, nil
		}
		return added, nil
	}
}

func execHsetnx(ks *Keyspace, args [][]byte) (any, error) {
	rec, stored, err := ks.lookupType(args[1], typeHash)
	if err != nil {
		return nil, err
	}
	if stored {
		if _, exists, err := ks.getElem(rec.gen, args[2]); err != nil || exists {
			return int64(0), err
		}
	} else if rec, err = ks.newCollection(typeHash); err != nil {
		return nil, err
	}
	if _, err := ks.setField(&rec, args[2], args[3]); err != nil {
		return nil, err
	}
	return int64(1), ks.storeCollection(args[1], rec, stored, EventHash, "hset")
}

// field returns the value of field in the hash at key: ok false for no
// key or no field.
func (ks *Keyspace) field(key, field []byte) (v []byte, ok bool, err error) {
	rec, exists, err := ks.lookupType(key, typeHash)
	if err != nil || !exists {
		return nil, false, err
	}
	return ks.getElem(rec.gen, field)
}

func execHget(ks *Keyspace, args [][]byte) (any, error) {
	v, ok, err := ks.field(args[1], args[2])
	if err != nil || !ok {
		return nil, err
	}
	return v, nil
}

func execHmget(ks *Keyspace, args [][]byte) (any, error) {
	rec, exists, err := ks.lookupType(args[1], typeHash)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(args)-2)
	if !exists {
		return out, nil
	}
	for i, f := range args[2:] {
		v, ok, err := ks.getElem(rec.gen, f)
		if err != nil {
			return nil, err
		}
		if ok {
			out[i] = v
		}
	}
	return out, nil
}

func execHexists(ks *Keyspace, args [][]byte) (any, error) {
	_, ok, err := ks.field(args[1], args[2])
	if err != nil || !ok {
		return int64(0), err
	}
	return int64(1), nil
}

func execHstrlen(ks *Keyspace, args [][]byte) (any, error) {
	v, _, err := ks.field(args[1], args[2])
	return int64(len(v)), err
}

func execHdel(ks *Keyspace, args [][]byte) (any, error) {
	rec, stored, err := ks.lookupType(args[1], typeHash)
	if err != nil || !stored {
		return int64(0), err
	}
	var n int64
	for _, f := range args[2:] {
		_, ok, err := ks.getElem(rec.gen, f)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if err := ks.delElem(rec.gen, f); err != nil {
			return nil, err
		}
		rec.count--
		n++
	}
	if n == 0 {
		return int64(0), nil
	}
	return n, ks.storeCollection(args[1], rec, stored, EventHash, "hdel")
}

// execHgetall implements HGETALL (a map), HKEYS and HVALS (arrays).
func execHgetall(keys, vals bool) func(*Keyspace, [][]byte) (any, error) {
	return func(ks *Keyspace, args [][]byte) (any, error) {
		rec, ok, err := ks.lookupType(args[1], typeHash)
		if err != nil {
			return nil, err
		}
		n := rec.count
		if keys && vals {
			n *= 2
		}
		out := make([]any, 0, n)
		if ok {
			err = ks.scanElems(rec.gen, nil, nil, func(sub, v []byte) bool {
				if keys {
					out = append(out, bytes.Clone(sub))
				}
				if vals {
					out = append(out, bytes.Clone(v))
				}
				return true
			})
		}
		if keys && vals {
			return Map(out), err
		}
		return out, err
	}
}

func execHincrby(ks *Keyspace, args [][]byte) (any, error) {
	incr, ok := ParseInt(args[3])
	if !ok {
		return nil, ErrNotInteger
	}
	rec, stored, err := ks.collectionForWrite(args[1], typeHash)
	if err != nil {
		return nil, err
	}
	var cur int64
	if stored {
		v, exists, err := ks.getElem(rec.gen, args[2])
		if err != nil {
			return nil, err
		}
		if exists {
			if cur, ok = ParseInt(v); !ok {
				return nil, Error("ERR hash value is not an integer")
			}
		}
	}
	if (incr < 0 && cur < 0 && incr < math.MinInt64-cur) || (incr > 0 && cur > 0 && incr > math.MaxInt64-cur) {
		return nil, errOverflow
	}
	cur += incr
	if _, err := ks.setField(&rec, args[2], formatInt(cur)); err != nil {
		return nil, err
	}
	return cur, ks.storeCollection(args[1], rec, stored, EventHash, "hincrby")
}

var errNaNOrInf = Error("ERR value is NaN or Infinity")

func checkHincrbyfloat(args [][]byte) error {
	switch _, inf, ok := parseLongDouble(args[3]); {
	case !ok:
		return errNotFloat
	case inf:
		return errNaNOrInf
	}
	return nil
}

func execHincrbyfloat(ks *Keyspace, args [][]byte) (any, error) {
	if err := checkHincrbyfloat(args); err != nil {
		return nil, err
	}
	incr, _, _ := parseLongDouble(args[3])
	rec, stored, err := ks.collectionForWrite(args[1], typeHash)
	if err != nil {
		return nil, err
	}
	cur := []byte("0")
	if stored {
		v, exists, err := ks.getElem(rec.gen, args[2])
		if err != nil {
			return nil, err
		}
		if exists {
			var ok bool
			if cur, _, ok = parseLongDouble(v); !ok {
				return nil, Error("ERR hash value is not a float")
			}
		}
	}
	sum, ok := addLongDouble(cur, incr)
	if !ok {
		return nil, Error("ERR increment would produce NaN or Infinity")
	}
	if _, err := ks.setField(&rec, args[2], sum); err != nil {
		return nil, err
	}
	return sum, ks.storeCollection(args[1], rec, stored, EventHash, "hincrbyfloat")
}

// Long double range, as powers of two (big.Float.MantExp): finite values
// have an exponent of at most maxLongDoubleExp, and the smallest
// subnormal has minLongDoubleExp.
const (
	maxLongDoubleExp = 16384
	minLongDoubleExp = -16444
)

// parseLongDouble checks b as Redis's string2ld (strtold) does: a
// decimal or hexadecimal number read whole, within the x87 long double
// range (an overflow, or an underflow to zero, is no number), or an
// infinity; no spaces, no NaN. dec is the number as decimal text for
// addLongDouble (b itself unless b is hexadecimal); inf reports an
// infinity.
func parseLongDouble(b []byte) (dec []byte, inf, ok bool) {
	if len(b) == 0 || len(b) >= 5*1024 {
		return nil, false, false
	}
	s := strings.TrimLeft(string(b), "+-")
	if len(s) < len(b)-1 {
		return nil, false, false
	}
	if strings.EqualFold(s, "inf") || strings.EqualFold(s, "infinity") {
		return b, true, true
	}
	if s == "" || !(s[0] == '.' || '0' <= s[0] && s[0] <= '9') || strings.ContainsRune(s, '_') {
		return nil, false, false // no spaces, no "nan", no second sign
	}
	base, hex := 10, len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X")
	if hex {
		base = 0
	}
	f, _, err := big.ParseFloat(string(b), base, 64, big.ToNearestEven)
	if err != nil {
		return nil, false, false
	}
	if f.Sign() != 0 {
		if e := f.MantExp(nil); e > maxLongDoubleExp || e < minLongDoubleExp {
			return nil, false, false
		}
	}
	if hex {
		// The shortest decimal that reads back as the same 64-bit
		// mantissa.
		return []byte(f.Text('e', -1)), false, true
	}
	return b, false, true
}

// hrandfieldArgs parses HRANDFIELD's count and WITHVALUES, as Redis does
// before it looks at the key.
func hrandfieldArgs(args [][]byte) (count int64, withValues bool, err error) {
	if len(args) < 3 {
		return 0, false, nil
	}
	count, ok := ParseInt(args[2])
	if !ok {
		return 0, false, ErrNotInteger
	}
	if count == math.MinInt64 {
		return 0, false, errCountRange
	}
	switch {
	case len(args) > 4 || (len(args) == 4 && !EqFold(args[3], "withvalues")):
		return 0, false, ErrSyntax
	case len(args) == 4 && (count < -math.MaxInt64/2 || count > math.MaxInt64/2):
		return 0, false, Error("ERR value is out of range")
	}
	return count, len(args) == 4, nil
}

// maxRepeatedPicks bounds the negative count of HRANDFIELD, SRANDMEMBER
// and ZRANDMEMBER (picks with repeats). Redis builds any such reply until
// memory runs out; here a larger count from a non-empty key is refused
// with errTooManyPicks, so one command cannot exhaust the node's memory.
const maxRepeatedPicks = 1 << 20

const errTooManyPicks = Error("ERR value is out of range, a negative count may ask for at most 1048576 elements")

// errCountRange is Redis's reply to a count of -2^63, which it cannot
// negate.
const errCountRange = Error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")

func checkHrandfield(args [][]byte) error {
	_, _, err := hrandfieldArgs(args)
	return err
}

// execHrandfield implements HRANDFIELD key [count [WITHVALUES]]: without
// a count one field (or null); with one, distinct fields (count >= 0) or
// -count picks with repeats; WITHVALUES pairs each with its value.
func execHrandfield(ks *Keyspace, args [][]byte) (any, error) {
	count, withValues, err := hrandfieldArgs(args)
	if err != nil {
		return nil, err
	}
	rec, ok, err := ks.lookupType(args[1], typeHash)
	if err != nil {
		return nil, err
	}
	if len(args) == 2 {
		return ks.randomOne(rec, ok)
	}
	picked, err := ks.randomPicks(rec, count)
	if err != nil {
		return nil, err
	}
	if !withValues {
		out := make([]any, len(picked))
		for i, e := range picked {
			out[i] = e.sub
		}
		return out, nil
	}
	out := make(Pairs, 0, 2*len(picked))
	for _, e := range picked {
		out = append(out, e.sub, e.val)
	}
	return out, nil
}
