package kv

import (
	"bytes"
	"math"
)

func init() {
	register(&command{name: "get", arity: 2, kind: kindRead, exec: execGet, firstKey: 1, lastKey: 1, step: 1, flags: []string{"readonly", "fast"}})
	register(&command{name: "mget", arity: -2, kind: kindRead, exec: execMget, firstKey: 1, lastKey: -1, step: 1, flags: []string{"readonly", "fast"}})
	register(&command{name: "exists", arity: -2, kind: kindRead, exec: execExists, firstKey: 1, lastKey: -1, step: 1, flags: []string{"readonly", "fast"}})
	register(&command{name: "dbsize", arity: 1, kind: kindRead, exec: execDbsize, flags: []string{"readonly", "fast"}})
	register(&command{name: "set", arity: -3, kind: kindWrite, check: checkSet, exec: execSet, firstKey: 1, lastKey: 1, step: 1, flags: []string{"write", "denyoom"}})
	register(&command{name: "mset", arity: -3, kind: kindWrite, check: checkMset, exec: execMset, firstKey: 1, lastKey: -1, step: 2, flags: []string{"write", "denyoom"}})
	register(&command{name: "del", arity: -2, kind: kindWrite, exec: execDel, firstKey: 1, lastKey: -1, step: 1, flags: []string{"write"}})
	register(&command{name: "incr", arity: 2, kind: kindWrite, exec: execIncrBy(1, false), firstKey: 1, lastKey: 1, step: 1, flags: []string{"write", "denyoom", "fast"}})
	register(&command{name: "decr", arity: 2, kind: kindWrite, exec: execIncrBy(-1, false), firstKey: 1, lastKey: 1, step: 1, flags: []string{"write", "denyoom", "fast"}})
	register(&command{name: "incrby", arity: 3, kind: kindWrite, check: checkIncrBy, exec: execIncrBy(1, true), firstKey: 1, lastKey: 1, step: 1, flags: []string{"write", "denyoom", "fast"}})
	register(&command{name: "decrby", arity: 3, kind: kindWrite, check: checkIncrBy, exec: execIncrBy(-1, true), firstKey: 1, lastKey: 1, step: 1, flags: []string{"write", "denyoom", "fast"}})
}

func execGet(ks *keyspace, args [][]byte) (any, error) {
	rec, ok, err := ks.lookupString(args[1])
	if err != nil || !ok {
		return nil, err
	}
	return rec.payload, nil
}

func execMget(ks *keyspace, args [][]byte) (any, error) {
	out := make([]any, 0, len(args)-1)
	for _, k := range args[1:] {
		rec, ok, err := ks.lookup(k)
		if err != nil {
			return nil, err
		}
		if !ok || rec.typ != typeString {
			out = append(out, nil)
			continue
		}
		out = append(out, rec.payload)
	}
	return out, nil
}

func execExists(ks *keyspace, args [][]byte) (any, error) {
	var n int64
	for _, k := range args[1:] {
		_, ok, err := ks.lookup(k)
		if err != nil {
			return nil, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}

func execDbsize(ks *keyspace, args [][]byte) (any, error) {
	n, err := ks.size()
	return n, err
}

// setOptions are SET's parsed options.
type setOptions struct {
	nx, xx, get, keepTTL bool
	// expire is the raw EX/PX/EXAT/PXAT argument; unit is 's' or 'm';
	// absolute for EXAT/PXAT.
	expire   []byte
	unit     byte
	absolute bool
}

// parseSetOptions follows Redis 7's parseExtendedStringArgumentsOrReply:
// options in any order and case, conflicting ones a syntax error, a later
// EX/PX of the same kind replacing an earlier one.
func parseSetOptions(args [][]byte) (setOptions, error) {
	var o setOptions
	has := func(unit byte, abs bool) bool { return o.expire != nil && (o.unit != unit || o.absolute != abs) }
	for j := 3; j < len(args); j++ {
		opt := args[j]
		hasNext := j+1 < len(args)
		switch {
		case eqFold(opt, "nx") && !o.xx:
			o.nx = true
		case eqFold(opt, "xx") && !o.nx:
			o.xx = true
		case eqFold(opt, "get"):
			o.get = true
		case eqFold(opt, "keepttl") && o.expire == nil:
			o.keepTTL = true
		case eqFold(opt, "ex") && !o.keepTTL && !has('s', false) && hasNext:
			j++
			o.expire, o.unit, o.absolute = args[j], 's', false
		case eqFold(opt, "px") && !o.keepTTL && !has('m', false) && hasNext:
			j++
			o.expire, o.unit, o.absolute = args[j], 'm', false
		case eqFold(opt, "exat") && !o.keepTTL && !has('s', true) && hasNext:
			j++
			o.expire, o.unit, o.absolute = args[j], 's', true
		case eqFold(opt, "pxat") && !o.keepTTL && !has('m', true) && hasNext:
			j++
			o.expire, o.unit, o.absolute = args[j], 'm', true
		default:
			return o, errSyntax
		}
	}
	return o, nil
}

// expireAt converts the option's expiry to absolute ms at base time now,
// with Redis's checks and error texts.
func (o setOptions) expireAt(now int64, cmd string) (int64, error) {
	v, ok := parseInt(o.expire)
	if !ok {
		return 0, errNotInteger
	}
	invalid := redisError("ERR invalid expire time in '" + cmd + "' command")
	if v <= 0 || (o.unit == 's' && v > math.MaxInt64/1000) {
		return 0, invalid
	}
	if o.unit == 's' {
		v *= 1000
	}
	if !o.absolute {
		if v > math.MaxInt64-now {
			return 0, invalid
		}
		v += now
	}
	return v, nil
}

func checkSet(args [][]byte) error {
	o, err := parseSetOptions(args)
	if err != nil {
		return err
	}
	if o.expire != nil {
		// The base time does not matter for the checks that can fail
		// here except overflow, which apply checks again at log time.
		_, err = o.expireAt(0, "set")
	}
	return err
}

func execSet(ks *keyspace, args [][]byte) (any, error) {
	o, err := parseSetOptions(args)
	if err != nil {
		return err, nil
	}
	var expireAt int64
	if o.expire != nil {
		if expireAt, err = o.expireAt(ks.now, "set"); err != nil {
			return err, nil
		}
	}
	key := args[1]
	old, exists, err := ks.lookup(key)
	if err != nil {
		return nil, err
	}
	if o.get && exists && old.typ != typeString {
		return errWrongType, nil
	}
	var oldReply any
	if o.get && exists {
		oldReply = bytes.Clone(old.payload)
	}
	if (o.nx && exists) || (o.xx && !exists) {
		if o.get {
			return oldReply, nil
		}
		return nil, nil
	}
	if o.keepTTL && exists {
		expireAt = old.expireAt
	}
	if err := ks.put(key, record{typ: typeString, expireAt: expireAt, payload: args[2]}, exists); err != nil {
		return nil, err
	}
	if o.get {
		return oldReply, nil
	}
	return replyOK, nil
}

func checkMset(args [][]byte) error {
	if len(args)%2 == 0 {
		return errArity("mset")
	}
	return nil
}

func execMset(ks *keyspace, args [][]byte) (any, error) {
	if err := checkMset(args); err != nil {
		return err, nil
	}
	for i := 1; i+1 < len(args); i += 2 {
		if err := ks.putBlind(args[i], record{typ: typeString, payload: args[i+1]}); err != nil {
			return nil, err
		}
	}
	return replyOK, nil
}

func execDel(ks *keyspace, args [][]byte) (any, error) {
	var n int64
	for _, k := range args[1:] {
		_, ok, err := ks.lookup(k)
		if err != nil {
			return nil, err
		}
		if ok {
			if err := ks.remove(k); err != nil {
				return nil, err
			}
			n++
		}
	}
	return n, nil
}

func checkIncrBy(args [][]byte) error {
	if _, ok := parseInt(args[2]); !ok {
		return errNotInteger
	}
	return nil
}

// execIncrBy implements INCR, DECR (fixed delta) and INCRBY, DECRBY
// (delta from the argument, times sign).
func execIncrBy(sign int64, fromArg bool) func(*keyspace, [][]byte) (any, error) {
	return func(ks *keyspace, args [][]byte) (any, error) {
		delta := sign
		if fromArg {
			d, ok := parseInt(args[2])
			if !ok {
				return errNotInteger, nil
			}
			if sign < 0 {
				if d == math.MinInt64 {
					return redisError("ERR decrement would overflow"), nil
				}
				d = -d
			}
			delta = d
		}
		rec, exists, err := ks.lookupString(args[1])
		if err == errWrongType {
			return err, nil
		}
		if err != nil {
			return nil, err
		}
		var cur int64
		if exists {
			v, ok := parseInt(rec.payload)
			if !ok {
				return errNotInteger, nil
			}
			cur = v
		}
		if (delta < 0 && cur < 0 && delta < math.MinInt64-cur) || (delta > 0 && cur > 0 && delta > math.MaxInt64-cur) {
			return errOverflow, nil
		}
		cur += delta
		// INCR keeps the key's time to live.
		if err := ks.put(args[1], record{typ: typeString, expireAt: rec.expireAt, payload: formatInt(cur)}, exists); err != nil {
			return nil, err
		}
		return cur, nil
	}
}

func eqFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

func init() {
	register(&command{name: "ttl", arity: 2, kind: kindRead, exec: execTTL(1000), firstKey: 1, lastKey: 1, step: 1, flags: []string{"readonly", "fast"}})
	register(&command{name: "pttl", arity: 2, kind: kindRead, exec: execTTL(1), firstKey: 1, lastKey: 1, step: 1, flags: []string{"readonly", "fast"}})
}

// execTTL implements TTL (unit 1000) and PTTL (unit 1): -2 for a missing
// key, -1 for a key without expiry, else the time left, rounded as Redis
// rounds it.
func execTTL(unit int64) func(*keyspace, [][]byte) (any, error) {
	return func(ks *keyspace, args [][]byte) (any, error) {
		rec, ok, err := ks.lookup(args[1])
		if err != nil {
			return nil, err
		}
		switch {
		case !ok:
			return int64(-2), nil
		case rec.expireAt == 0:
			return int64(-1), nil
		}
		left := max(rec.expireAt-ks.now, 0)
		return (left + unit/2) / unit, nil
	}
}
