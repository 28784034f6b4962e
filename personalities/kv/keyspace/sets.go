package keyspace

import (
	"bytes"
	"math"
	"slices"
)

// Sets: a member is an element whose sub-key is the member's bytes, with
// an empty value, so members come back in byte order.

func init() {
	ro := []string{"readonly", "fast"}
	keys := func(first, last int, c *Command) *Command {
		c.FirstKey, c.LastKey = first, last
		if first > 0 {
			c.Step = 1
		}
		return c
	}
	register(keys(1, 1, &Command{Spec: Spec{Name: "sadd", Arity: -3, Flags: []string{"write", "denyoom", "fast"}}, Kind: KindWrite, exec: execSadd}))
	register(keys(1, 1, &Command{Spec: Spec{Name: "srem", Arity: -3, Flags: []string{"write", "fast"}}, Kind: KindWrite, exec: execSrem}))
	register(keys(1, 1, &Command{Spec: Spec{Name: "smembers", Arity: 2, Flags: []string{"readonly"}}, Kind: KindRead, exec: execSetOp(setUnion)}))
	register(keys(1, 1, &Command{Spec: Spec{Name: "sismember", Arity: 3, Flags: ro}, Kind: KindRead, exec: execSismember}))
	register(keys(1, 1, &Command{Spec: Spec{Name: "smismember", Arity: -3, Flags: ro}, Kind: KindRead, exec: execSmismember}))
	register(keys(1, 1, &Command{Spec: Spec{Name: "scard", Arity: 2, Flags: ro}, Kind: KindRead, exec: execCard(typeSet)}))
	register(keys(1, 1, &Command{Spec: Spec{Name: "spop", Arity: -2, Flags: []string{"write", "fast"}}, Kind: KindWrite, check: checkSpop, exec: execSpop}))
	register(keys(1, 1, &Command{Spec: Spec{Name: "srandmember", Arity: -2, Flags: []string{"readonly"}}, Kind: KindRead, check: checkSrandmember, exec: execSrandmember}))
	register(keys(1, -1, &Command{Spec: Spec{Name: "sinter", Arity: -2, Flags: []string{"readonly"}}, Kind: KindRead, exec: execSetOp(setInter)}))
	register(keys(1, -1, &Command{Spec: Spec{Name: "sunion", Arity: -2, Flags: []string{"readonly"}}, Kind: KindRead, exec: execSetOp(setUnion)}))
	register(keys(1, -1, &Command{Spec: Spec{Name: "sdiff", Arity: -2, Flags: []string{"readonly"}}, Kind: KindRead, exec: execSetOp(setDiff)}))
	register(keys(1, -1, &Command{Spec: Spec{Name: "sinterstore", Arity: -3, Flags: []string{"write", "denyoom"}}, Kind: KindWrite, exec: execSetOpStore(setInter)}))
	register(keys(1, -1, &Command{Spec: Spec{Name: "sunionstore", Arity: -3, Flags: []string{"write", "denyoom"}}, Kind: KindWrite, exec: execSetOpStore(setUnion)}))
	register(keys(1, -1, &Command{Spec: Spec{Name: "sdiffstore", Arity: -3, Flags: []string{"write", "denyoom"}}, Kind: KindWrite, exec: execSetOpStore(setDiff)}))
	register(keys(0, 0, &Command{Spec: Spec{Name: "sintercard", Arity: -3, Flags: []string{"readonly", "movablekeys"}}, Kind: KindRead, check: checkSintercard, exec: execSintercard}))
	register(keys(1, 2, &Command{Spec: Spec{Name: "smove", Arity: 4, Flags: []string{"write", "fast"}}, Kind: KindWrite, exec: execSmove}))
	register(keys(1, 1, &Command{Spec: Spec{Name: "sscan", Arity: -3, Flags: []string{"readonly"}}, Kind: KindScan, check: checkScan(3), scan: scanCollection(typeSet), scanType: typeSet, optsAt: 3}))
}

func (ks *Keyspace) isMember(rec record, member []byte) (bool, error) {
	_, ok, err := ks.getElem(rec.gen, member)
	return ok, err
}

func execSadd(ks *Keyspace, args [][]byte) (any, error) {
	rec, stored, err := ks.collectionForWrite(args[1], typeSet)
	if err != nil {
		return nil, err
	}
	var added int64
	for _, m := range args[2:] {
		if ok, err := ks.isMember(rec, m); err != nil || ok {
			if err != nil {
				return nil, err
			}
			continue
		}
		if err := ks.setElem(rec.gen, m, nil); err != nil {
			return nil, err
		}
		rec.count++
		added++
	}
	if added == 0 {
		return int64(0), nil
	}
	return added, ks.storeCollection(args[1], rec, stored)
}

func execSrem(ks *Keyspace, args [][]byte) (any, error) {
	rec, stored, err := ks.lookupType(args[1], typeSet)
	if err != nil || !stored {
		return int64(0), err
	}
	var n int64
	for _, m := range args[2:] {
		if ok, err := ks.isMember(rec, m); err != nil || !ok {
			if err != nil {
				return nil, err
			}
			continue
		}
		if err := ks.delElem(rec.gen, m); err != nil {
			return nil, err
		}
		rec.count--
		n++
	}
	if n == 0 {
		return int64(0), nil
	}
	return n, ks.storeCollection(args[1], rec, stored)
}

func execSismember(ks *Keyspace, args [][]byte) (any, error) {
	rec, ok, err := ks.lookupType(args[1], typeSet)
	if err != nil || !ok {
		return int64(0), err
	}
	if ok, err = ks.isMember(rec, args[2]); err != nil || !ok {
		return int64(0), err
	}
	return int64(1), nil
}

func execSmismember(ks *Keyspace, args [][]byte) (any, error) {
	rec, exists, err := ks.lookupType(args[1], typeSet)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(args)-2)
	for i, m := range args[2:] {
		out[i] = int64(0)
		if !exists {
			continue
		}
		ok, err := ks.isMember(rec, m)
		if err != nil {
			return nil, err
		}
		if ok {
			out[i] = int64(1)
		}
	}
	return out, nil
}

// errPositive is Redis's reply to a count that is not a non-negative
// integer (SPOP).
const errPositive = Error("ERR value is out of range, must be positive")

// spopArgs parses SPOP's optional count; hasCount false without one.
func spopArgs(args [][]byte) (count int64, hasCount bool, err error) {
	switch len(args) {
	case 2:
		return 0, false, nil
	case 3:
		n, ok := ParseInt(args[2])
		if !ok || n < 0 {
			return 0, false, errPositive
		}
		return n, true, nil
	}
	return 0, false, ErrSyntax
}

func checkSpop(args [][]byte) error {
	_, _, err := spopArgs(args)
	return err
}

// execSpop implements SPOP key [count]: it removes and returns one random
// member (or null), or up to count distinct ones as a set. The picks come
// from ks.rand(), the proposer's seed, so every replica pops the same.
func execSpop(ks *Keyspace, args [][]byte) (any, error) {
	count, hasCount, err := spopArgs(args)
	if err != nil {
		return nil, err
	}
	rec, ok, err := ks.lookupType(args[1], typeSet)
	if err != nil {
		return nil, err
	}
	if !hasCount {
		if !ok {
			return nil, nil
		}
		count = 1
	}
	if !ok || count == 0 {
		return Set{}, nil
	}
	picked, err := ks.randomElems(rec, ks.rand(), count, true)
	if err != nil {
		return nil, err
	}
	if len(picked) == 0 {
		return nil, errCorrupt // a live set has members
	}
	out := make(Set, len(picked))
	for i, e := range picked {
		if err := ks.delElem(rec.gen, e.sub); err != nil {
			return nil, err
		}
		rec.count--
		out[i] = e.sub
	}
	if err := ks.storeCollection(args[1], rec, true); err != nil {
		return nil, err
	}
	if !hasCount {
		return out[0], nil
	}
	return out, nil
}

// srandmemberArgs parses SRANDMEMBER's optional count.
func srandmemberArgs(args [][]byte) (count int64, hasCount bool, err error) {
	switch len(args) {
	case 2:
		return 0, false, nil
	case 3:
		n, ok := ParseInt(args[2])
		if !ok {
			return 0, false, ErrNotInteger
		}
		if n == math.MinInt64 {
			return 0, false, errCountRange
		}
		return n, true, nil
	}
	return 0, false, ErrSyntax
}

func checkSrandmember(args [][]byte) error {
	_, _, err := srandmemberArgs(args)
	return err
}

// execSrandmember implements SRANDMEMBER key [count]: one random member
// (or null); with a count, distinct members (count >= 0) or -count picks
// with repeats, as an array.
func execSrandmember(ks *Keyspace, args [][]byte) (any, error) {
	count, hasCount, err := srandmemberArgs(args)
	if err != nil {
		return nil, err
	}
	rec, ok, err := ks.lookupType(args[1], typeSet)
	if err != nil {
		return nil, err
	}
	if !hasCount {
		return ks.randomOne(rec, ok)
	}
	picked, err := ks.randomPicks(rec, count)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(picked))
	for i, e := range picked {
		out[i] = e.sub
	}
	return out, nil
}

// Set algebra. Each operation takes the sets at keys, missing keys being
// empty sets, and fails with errWrongType if any key holds another type,
// as Redis 7 checks every key before it computes anything. Results are in
// byte order.

// lookupSets returns the sets at keys; present[i] is false for a missing
// key.
func (ks *Keyspace) lookupSets(keys [][]byte) (recs []record, present []bool, err error) {
	recs = make([]record, len(keys))
	present = make([]bool, len(keys))
	for i, k := range keys {
		if recs[i], present[i], err = ks.lookupType(k, typeSet); err != nil {
			return nil, nil, err
		}
	}
	return recs, present, nil
}

// setOp computes a set operation over the sets at keys.
type setOp func(ks *Keyspace, keys [][]byte) ([][]byte, error)

func setInter(ks *Keyspace, keys [][]byte) ([][]byte, error) {
	var out [][]byte
	err := ks.eachInter(keys, func(m []byte) bool {
		out = append(out, bytes.Clone(m))
		return true
	})
	return out, err
}

// eachInter calls f for each member of every set at keys, in order, until
// f returns false. m is valid only during the call.
func (ks *Keyspace) eachInter(keys [][]byte, f func(m []byte) bool) error {
	recs, present, err := ks.lookupSets(keys)
	if err != nil || slices.Contains(present, false) {
		return err
	}
	// Walk the smallest set; look its members up in the others.
	small := 0
	for i, r := range recs {
		if r.count < recs[small].count {
			small = i
		}
	}
	var lookErr error
	err = ks.scanElems(recs[small].gen, nil, nil, func(m, _ []byte) bool {
		for i, r := range recs {
			if i == small || r.gen == recs[small].gen {
				continue
			}
			ok, err := ks.isMember(r, m)
			if err != nil {
				lookErr = err
				return false
			}
			if !ok {
				return true
			}
		}
		return f(m)
	})
	if err != nil {
		return err
	}
	return lookErr
}

func setUnion(ks *Keyspace, keys [][]byte) ([][]byte, error) {
	recs, present, err := ks.lookupSets(keys)
	if err != nil {
		return nil, err
	}
	// One set (SMEMBERS) is in order already; more are merged through
	// a map and sorted.
	var seen map[string]bool
	if len(keys) > 1 {
		seen = map[string]bool{}
	}
	var out [][]byte
	for i, r := range recs {
		if !present[i] {
			continue
		}
		err := ks.scanElems(r.gen, nil, nil, func(m, _ []byte) bool {
			if seen == nil {
				out = append(out, bytes.Clone(m))
			} else if !seen[string(m)] {
				seen[string(m)] = true
				out = append(out, bytes.Clone(m))
			}
			return true
		})
		if err != nil {
			return nil, err
		}
	}
	if seen != nil {
		slices.SortFunc(out, bytes.Compare)
	}
	return out, nil
}

func setDiff(ks *Keyspace, keys [][]byte) ([][]byte, error) {
	recs, present, err := ks.lookupSets(keys)
	if err != nil || !present[0] {
		return nil, err
	}
	var out [][]byte
	var lookErr error
	err = ks.scanElems(recs[0].gen, nil, nil, func(m, _ []byte) bool {
		for i, r := range recs[1:] {
			if !present[i+1] {
				continue
			}
			ok, err := ks.isMember(r, m)
			if err != nil {
				lookErr = err
				return false
			}
			if ok {
				return true
			}
		}
		out = append(out, bytes.Clone(m))
		return true
	})
	if err != nil {
		return nil, err
	}
	return out, lookErr
}

// execSetOp implements SINTER, SUNION, SDIFF and SMEMBERS: a set reply.
func execSetOp(op setOp) func(*Keyspace, [][]byte) (any, error) {
	return func(ks *Keyspace, args [][]byte) (any, error) {
		members, err := op(ks, args[1:])
		if err != nil {
			return nil, err
		}
		out := make(Set, len(members))
		for i, m := range members {
			out[i] = m
		}
		return out, nil
	}
}

// execSetOpStore implements SINTERSTORE, SUNIONSTORE and SDIFFSTORE: the
// result replaces the destination, whatever it held (its time to live
// goes too); an empty result deletes it. The reply is the result's size.
func execSetOpStore(op setOp) func(*Keyspace, [][]byte) (any, error) {
	return func(ks *Keyspace, args [][]byte) (any, error) {
		members, err := op(ks, args[2:])
		if err != nil {
			return nil, err
		}
		dst := args[1]
		if err := ks.clear(dst); err != nil {
			return nil, err
		}
		if len(members) == 0 {
			return int64(0), nil
		}
		rec, err := ks.newCollection(typeSet)
		if err != nil {
			return nil, err
		}
		for _, m := range members {
			if err := ks.setElem(rec.gen, m, nil); err != nil {
				return nil, err
			}
		}
		rec.count = int64(len(members))
		return rec.count, ks.put(dst, rec, false, record{})
	}
}

// sintercardArgs parses SINTERCARD numkeys key [key ...] [LIMIT limit]
// (limit 0: none) with Redis's error texts.
func sintercardArgs(args [][]byte) (keys [][]byte, limit int64, err error) {
	n, ok := ParseInt(args[1])
	if !ok || n < 1 {
		return nil, 0, Error("ERR numkeys should be greater than 0")
	}
	if n > int64(len(args)-2) {
		return nil, 0, Error("ERR Number of keys can't be greater than number of args")
	}
	for j := 2 + int(n); j < len(args); j++ {
		if !EqFold(args[j], "limit") || j+1 == len(args) {
			return nil, 0, ErrSyntax
		}
		j++
		if limit, ok = ParseInt(args[j]); !ok || limit < 0 {
			return nil, 0, Error("ERR LIMIT can't be negative")
		}
	}
	return args[2 : 2+n], limit, nil
}

func checkSintercard(args [][]byte) error {
	_, _, err := sintercardArgs(args)
	return err
}

func execSintercard(ks *Keyspace, args [][]byte) (any, error) {
	keys, limit, err := sintercardArgs(args)
	if err != nil {
		return nil, err
	}
	var n int64
	err = ks.eachInter(keys, func([]byte) bool {
		n++
		return limit == 0 || n < limit
	})
	return n, err
}

// execSmove implements SMOVE src dst member as Redis does: 0 for a
// missing source (whatever dst holds), WRONGTYPE if either key holds
// another type, then the move; the source goes when it empties.
func execSmove(ks *Keyspace, args [][]byte) (any, error) {
	srcKey, dstKey, m := args[1], args[2], args[3]
	src, ok, err := ks.lookup(srcKey)
	if err != nil || !ok {
		return int64(0), err
	}
	dst, dstOK, err := ks.lookup(dstKey)
	if err != nil {
		return nil, err
	}
	if src.typ != typeSet || (dstOK && dst.typ != typeSet) {
		return nil, errWrongType
	}
	if ok, err := ks.isMember(src, m); err != nil || !ok {
		return int64(0), err
	}
	if bytes.Equal(srcKey, dstKey) {
		return int64(1), nil
	}
	if err := ks.delElem(src.gen, m); err != nil {
		return nil, err
	}
	src.count--
	if err := ks.storeCollection(srcKey, src, true); err != nil {
		return nil, err
	}
	if !dstOK {
		if dst, err = ks.newCollection(typeSet); err != nil {
			return nil, err
		}
	} else if ok, err := ks.isMember(dst, m); err != nil || ok {
		return int64(1), err
	}
	if err := ks.setElem(dst.gen, m, nil); err != nil {
		return nil, err
	}
	dst.count++
	return int64(1), ks.storeCollection(dstKey, dst, dstOK)
}
