package kv

import (
	"bytes"
	"math"
	"math/big"
	"strconv"
	"strings"
)

func init() {
	ro := []string{"readonly", "fast"}
	wr := []string{"write", "denyoom"}
	register(&command{name: "get", arity: 2, kind: kindRead, exec: execGet, firstKey: 1, lastKey: 1, step: 1, flags: ro})
	register(&command{name: "mget", arity: -2, kind: kindRead, exec: execMget, firstKey: 1, lastKey: -1, step: 1, flags: ro})
	register(&command{name: "strlen", arity: 2, kind: kindRead, exec: execStrlen, firstKey: 1, lastKey: 1, step: 1, flags: ro})
	register(&command{name: "getrange", arity: 4, kind: kindRead, check: checkInts(2, 3), exec: execGetrange, firstKey: 1, lastKey: 1, step: 1, flags: []string{"readonly"}})
	register(&command{name: "substr", arity: 4, kind: kindRead, check: checkInts(2, 3), exec: execGetrange, firstKey: 1, lastKey: 1, step: 1, flags: []string{"readonly"}})
	register(&command{name: "set", arity: -3, kind: kindWrite, check: checkSet, exec: execSet, firstKey: 1, lastKey: 1, step: 1, flags: wr})
	register(&command{name: "setnx", arity: 3, kind: kindWrite, exec: execSetnx, firstKey: 1, lastKey: 1, step: 1, flags: append(wr, "fast")})
	register(&command{name: "setex", arity: 4, kind: kindWrite, check: checkSetex("setex", 's'), exec: execSetex('s'), firstKey: 1, lastKey: 1, step: 1, flags: wr})
	register(&command{name: "psetex", arity: 4, kind: kindWrite, check: checkSetex("psetex", 'm'), exec: execSetex('m'), firstKey: 1, lastKey: 1, step: 1, flags: wr})
	register(&command{name: "getset", arity: 3, kind: kindWrite, exec: execGetset, firstKey: 1, lastKey: 1, step: 1, flags: append(wr, "fast")})
	register(&command{name: "getdel", arity: 2, kind: kindWrite, exec: execGetdel, firstKey: 1, lastKey: 1, step: 1, flags: []string{"write", "fast"}})
	register(&command{name: "getex", arity: -2, kind: kindWrite, check: checkGetex, exec: execGetex, firstKey: 1, lastKey: 1, step: 1, flags: []string{"write", "fast"}})
	register(&command{name: "mset", arity: -3, kind: kindWrite, check: checkPairs("mset"), exec: execMset, firstKey: 1, lastKey: -1, step: 2, flags: wr})
	register(&command{name: "msetnx", arity: -3, kind: kindWrite, check: checkPairs("msetnx"), exec: execMsetnx, firstKey: 1, lastKey: -1, step: 2, flags: wr})
	register(&command{name: "append", arity: 3, kind: kindWrite, exec: execAppend, firstKey: 1, lastKey: 1, step: 1, flags: append(wr, "fast")})
	register(&command{name: "setrange", arity: 4, kind: kindWrite, check: checkInts(2), exec: execSetrange, firstKey: 1, lastKey: 1, step: 1, flags: wr})
	register(&command{name: "incr", arity: 2, kind: kindWrite, exec: execIncrBy(1, false), firstKey: 1, lastKey: 1, step: 1, flags: append(wr, "fast")})
	register(&command{name: "decr", arity: 2, kind: kindWrite, exec: execIncrBy(-1, false), firstKey: 1, lastKey: 1, step: 1, flags: append(wr, "fast")})
	register(&command{name: "incrby", arity: 3, kind: kindWrite, check: checkInts(2), exec: execIncrBy(1, true), firstKey: 1, lastKey: 1, step: 1, flags: append(wr, "fast")})
	register(&command{name: "decrby", arity: 3, kind: kindWrite, check: checkInts(2), exec: execIncrBy(-1, true), firstKey: 1, lastKey: 1, step: 1, flags: append(wr, "fast")})
	register(&command{name: "incrbyfloat", arity: 3, kind: kindWrite, exec: execIncrByFloat, firstKey: 1, lastKey: 1, step: 1, flags: append(wr, "fast")})
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

func execStrlen(ks *keyspace, args [][]byte) (any, error) {
	rec, _, err := ks.lookupString(args[1])
	if err != nil {
		return nil, err
	}
	return int64(len(rec.payload)), nil
}

// execGetrange implements GETRANGE with Redis's index rules.
func execGetrange(ks *keyspace, args [][]byte) (any, error) {
	start, _ := parseInt(args[2])
	end, _ := parseInt(args[3])
	rec, _, err := ks.lookupString(args[1])
	if err != nil {
		return nil, err
	}
	v := rec.payload
	n := int64(len(v))
	if start < 0 && end < 0 && start > end {
		return []byte{}, nil
	}
	if start < 0 {
		start = max(n+start, 0)
	}
	if end < 0 {
		end = max(n+end, 0)
	}
	end = min(end, n-1)
	if start > end || n == 0 {
		return []byte{}, nil
	}
	return bytes.Clone(v[start : end+1]), nil
}

// setOptions are SET's parsed options.
type setOptions struct {
	nx, xx, get, keepTTL bool
	// expire is the raw EX/PX/EXAT/PXAT argument; unit is 's' or 'm';
	// absolute for EXAT/PXAT.
	expire   []byte
	unit     byte
	absolute bool
	persist  bool // GETEX PERSIST
}

// parseSetOptions follows Redis 7's parseExtendedStringArgumentsOrReply
// from argument first on: options in any order and case, conflicting ones
// a syntax error, a later EX/PX of the same kind replacing an earlier one.
// getex selects GETEX's options (PERSIST, no NX/XX/GET/KEEPTTL).
func parseSetOptions(args [][]byte, first int, getex bool) (setOptions, error) {
	var o setOptions
	other := func(unit byte, abs bool) bool { return o.expire != nil && (o.unit != unit || o.absolute != abs) }
	for j := first; j < len(args); j++ {
		opt := args[j]
		hasNext := j+1 < len(args)
		switch {
		case !getex && eqFold(opt, "nx") && !o.xx:
			o.nx = true
		case !getex && eqFold(opt, "xx") && !o.nx:
			o.xx = true
		case !getex && eqFold(opt, "get"):
			o.get = true
		case !getex && eqFold(opt, "keepttl") && o.expire == nil:
			o.keepTTL = true
		case getex && eqFold(opt, "persist") && o.expire == nil:
			o.persist = true
		case eqFold(opt, "ex") && !o.keepTTL && !o.persist && !other('s', false) && hasNext:
			j++
			o.expire, o.unit, o.absolute = args[j], 's', false
		case eqFold(opt, "px") && !o.keepTTL && !o.persist && !other('m', false) && hasNext:
			j++
			o.expire, o.unit, o.absolute = args[j], 'm', false
		case eqFold(opt, "exat") && !o.keepTTL && !o.persist && !other('s', true) && hasNext:
			j++
			o.expire, o.unit, o.absolute = args[j], 's', true
		case eqFold(opt, "pxat") && !o.keepTTL && !o.persist && !other('m', true) && hasNext:
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
	return expireTime(o.expire, o.unit, o.absolute, now, cmd)
}

// expireTime turns an expiry argument into absolute ms, as Redis's
// getExpireMillisecondsOrReply does.
func expireTime(arg []byte, unit byte, absolute bool, now int64, cmd string) (int64, error) {
	v, ok := parseInt(arg)
	if !ok {
		return 0, errNotInteger
	}
	invalid := redisError("ERR invalid expire time in '" + cmd + "' command")
	if v <= 0 || (unit == 's' && v > math.MaxInt64/1000) {
		return 0, invalid
	}
	if unit == 's' {
		v *= 1000
	}
	if !absolute {
		if v > math.MaxInt64-now {
			return 0, invalid
		}
		v += now
	}
	return v, nil
}

func checkSet(args [][]byte) error {
	o, err := parseSetOptions(args, 3, false)
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
	o, err := parseSetOptions(args, 3, false)
	if err != nil {
		return nil, err
	}
	var expireAt int64
	if o.expire != nil {
		if expireAt, err = o.expireAt(ks.now, "set"); err != nil {
			return nil, err
		}
	}
	key := args[1]
	old, exists, err := ks.lookup(key)
	if err != nil {
		return nil, err
	}
	if o.get && exists && old.typ != typeString {
		return nil, errWrongType
	}
	var oldReply any
	if o.get && exists {
		oldReply = bytes.Clone(old.payload)
	}
	if (o.nx && exists) || (o.xx && !exists) {
		return oldReply, nil
	}
	if o.keepTTL && exists {
		expireAt = old.expireAt
	}
	if err := ks.putString(key, args[2], expireAt); err != nil {
		return nil, err
	}
	if o.get {
		return oldReply, nil
	}
	return replyOK, nil
}

func execSetnx(ks *keyspace, args [][]byte) (any, error) {
	_, exists, err := ks.lookup(args[1])
	if err != nil || exists {
		return int64(0), err
	}
	return int64(1), ks.putString(args[1], args[2], 0)
}

func checkSetex(cmd string, unit byte) func([][]byte) error {
	return func(args [][]byte) error {
		_, err := expireTime(args[2], unit, false, 0, cmd)
		return err
	}
}

func execSetex(unit byte) func(*keyspace, [][]byte) (any, error) {
	cmd := "setex"
	if unit == 'm' {
		cmd = "psetex"
	}
	return func(ks *keyspace, args [][]byte) (any, error) {
		at, err := expireTime(args[2], unit, false, ks.now, cmd)
		if err != nil {
			return nil, err
		}
		return replyOK, ks.putString(args[1], args[3], at)
	}
}

func execGetset(ks *keyspace, args [][]byte) (any, error) {
	rec, ok, err := ks.lookupString(args[1])
	if err != nil {
		return nil, err
	}
	var old any
	if ok {
		old = bytes.Clone(rec.payload)
	}
	return old, ks.putString(args[1], args[2], 0)
}

func execGetdel(ks *keyspace, args [][]byte) (any, error) {
	rec, ok, err := ks.lookupString(args[1])
	if err != nil || !ok {
		return nil, err
	}
	v := bytes.Clone(rec.payload)
	return v, ks.remove(args[1], rec)
}

func checkGetex(args [][]byte) error {
	o, err := parseSetOptions(args, 2, true)
	if err == nil && o.expire != nil {
		_, err = o.expireAt(0, "getex")
	}
	return err
}

func execGetex(ks *keyspace, args [][]byte) (any, error) {
	o, err := parseSetOptions(args, 2, true)
	if err != nil {
		return nil, err
	}
	rec, ok, err := ks.lookupString(args[1])
	if err != nil || !ok {
		return nil, err
	}
	v := bytes.Clone(rec.payload)
	switch {
	case o.expire != nil:
		at, err := o.expireAt(ks.now, "getex")
		if err != nil {
			return nil, err
		}
		if err := ks.setExpire(args[1], rec, at); err != nil {
			return nil, err
		}
	case o.persist && rec.expireAt != 0:
		if err := ks.setExpire(args[1], rec, 0); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func checkPairs(cmd string) func([][]byte) error {
	return func(args [][]byte) error {
		if len(args)%2 == 0 {
			return errArity(cmd)
		}
		return nil
	}
}

func execMset(ks *keyspace, args [][]byte) (any, error) {
	if err := checkPairs("mset")(args); err != nil {
		return nil, err
	}
	for i := 1; i+1 < len(args); i += 2 {
		if err := ks.putString(args[i], args[i+1], 0); err != nil {
			return nil, err
		}
	}
	return replyOK, nil
}

func execMsetnx(ks *keyspace, args [][]byte) (any, error) {
	if err := checkPairs("msetnx")(args); err != nil {
		return nil, err
	}
	for i := 1; i < len(args); i += 2 {
		if _, exists, err := ks.lookup(args[i]); err != nil || exists {
			return int64(0), err
		}
	}
	for i := 1; i+1 < len(args); i += 2 {
		if err := ks.putString(args[i], args[i+1], 0); err != nil {
			return nil, err
		}
	}
	return int64(1), nil
}

// maxString is Redis's proto-max-bulk-len default, the largest string a
// command may build.
const maxString = 512 << 20

func execAppend(ks *keyspace, args [][]byte) (any, error) {
	rec, ok, err := ks.lookupString(args[1])
	if err != nil {
		return nil, err
	}
	if len(rec.payload)+len(args[2]) > maxString {
		return nil, redisError("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
	}
	v := append(bytes.Clone(rec.payload), args[2]...)
	if !ok {
		return int64(len(v)), ks.putString(args[1], v, 0)
	}
	rec.payload = v
	return int64(len(v)), ks.update(args[1], rec)
}

func execSetrange(ks *keyspace, args [][]byte) (any, error) {
	off, _ := parseInt(args[2])
	if off < 0 {
		return nil, redisError("ERR offset is out of range")
	}
	rec, ok, err := ks.lookupString(args[1])
	if err != nil {
		return nil, err
	}
	val := args[3]
	if len(val) == 0 {
		return int64(len(rec.payload)), nil
	}
	if off+int64(len(val)) > maxString {
		return nil, redisError("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
	}
	v := bytes.Clone(rec.payload)
	if need := int(off) + len(val); need > len(v) {
		v = append(v, make([]byte, need-len(v))...)
	}
	copy(v[off:], val)
	if !ok {
		return int64(len(v)), ks.putString(args[1], v, 0)
	}
	rec.payload = v
	return int64(len(v)), ks.update(args[1], rec)
}

// checkInts checks that the arguments at the given indexes are integers.
func checkInts(idx ...int) func([][]byte) error {
	return func(args [][]byte) error {
		for _, i := range idx {
			if _, ok := parseInt(args[i]); !ok {
				return errNotInteger
			}
		}
		return nil
	}
}

// execIncrBy implements INCR, DECR (fixed delta) and INCRBY, DECRBY
// (delta from the argument, times sign).
func execIncrBy(sign int64, fromArg bool) func(*keyspace, [][]byte) (any, error) {
	return func(ks *keyspace, args [][]byte) (any, error) {
		delta := sign
		if fromArg {
			d, ok := parseInt(args[2])
			if !ok {
				return nil, errNotInteger
			}
			if sign < 0 {
				if d == math.MinInt64 {
					return nil, redisError("ERR decrement would overflow")
				}
				d = -d
			}
			delta = d
		}
		rec, exists, err := ks.lookupString(args[1])
		if err != nil {
			return nil, err
		}
		var cur int64
		if exists {
			v, ok := parseInt(rec.payload)
			if !ok {
				return nil, errNotInteger
			}
			cur = v
		}
		if (delta < 0 && cur < 0 && delta < math.MinInt64-cur) || (delta > 0 && cur > 0 && delta > math.MaxInt64-cur) {
			return nil, errOverflow
		}
		cur += delta
		if !exists {
			return cur, ks.putString(args[1], formatInt(cur), 0)
		}
		// INCR keeps the key's time to live.
		rec.payload = formatInt(cur)
		return cur, ks.update(args[1], rec)
	}
}

// formatFloat formats like Redis's addReplyDouble / %.17g trimmed.
func formatFloat(f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return []byte("inf")
	case math.IsInf(f, -1):
		return []byte("-inf")
	}
	return strconv.AppendFloat(nil, f, 'g', 17, 64)
}

// addLongDouble adds two decimal strings as Redis's INCRBYFLOAT does, in
// x87 long double (64-bit mantissa) arithmetic, and formats the sum as
// Redis's human-friendly long-double format: 17 decimals, trailing zeros
// and a trailing point dropped. ok is false if either does not parse or
// the sum is not finite.
func addLongDouble(a, b []byte) (sum []byte, ok bool) {
	const prec = 64
	x, _, err := big.ParseFloat(string(a), 10, prec, big.ToNearestEven)
	if err != nil {
		return nil, false
	}
	y, _, err := big.ParseFloat(string(b), 10, prec, big.ToNearestEven)
	if err != nil {
		return nil, false
	}
	z := new(big.Float).SetPrec(prec).SetMode(big.ToNearestEven).Add(x, y)
	if z.IsInf() {
		return nil, false
	}
	// Beyond the long double range the result is infinite in Redis.
	if e := z.MantExp(nil); e > 16384 {
		return nil, false
	}
	out := z.Text('f', 17)
	if strings.Contains(out, ".") {
		out = strings.TrimRight(out, "0")
		out = strings.TrimSuffix(out, ".")
	}
	if out == "-0" {
		out = "0"
	}
	return []byte(out), true
}

// execIncrByFloat implements INCRBYFLOAT key increment in Redis's order:
// the key's type, then its value, then the increment, each read as
// strtold reads it (decimal or hexadecimal).
func execIncrByFloat(ks *keyspace, args [][]byte) (any, error) {
	rec, exists, err := ks.lookupString(args[1])
	if err != nil {
		return nil, err
	}
	cur := []byte("0")
	if exists {
		var ok bool
		if cur, _, ok = parseLongDouble(rec.payload); !ok {
			return nil, errNotFloat
		}
	}
	incr, _, ok := parseLongDouble(args[2])
	if !ok {
		return nil, errNotFloat
	}
	v, ok := addLongDouble(cur, incr)
	if !ok {
		return nil, redisError("ERR increment would produce NaN or Infinity")
	}
	if !exists {
		return v, ks.putString(args[1], v, 0)
	}
	rec.payload = v
	return v, ks.update(args[1], rec)
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
