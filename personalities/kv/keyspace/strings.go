package keyspace

import (
	"bytes"
	"math"
	"math/big"
)

func init() {
	ro := []string{"readonly", "fast"}
	wr := []string{"write", "denyoom"}
	register(&Command{Spec: Spec{Name: "get", Arity: 2, FirstKey: 1, LastKey: 1, Step: 1, Flags: ro}, Kind: KindRead, exec: execGet})
	register(&Command{Spec: Spec{Name: "mget", Arity: -2, FirstKey: 1, LastKey: -1, Step: 1, Flags: ro}, Kind: KindRead, exec: execMget})
	register(&Command{Spec: Spec{Name: "strlen", Arity: 2, FirstKey: 1, LastKey: 1, Step: 1, Flags: ro}, Kind: KindRead, exec: execStrlen})
	register(&Command{Spec: Spec{Name: "getrange", Arity: 4, FirstKey: 1, LastKey: 1, Step: 1, Flags: []string{"readonly"}}, Kind: KindRead, check: checkInts(2, 3), exec: execGetrange})
	register(&Command{Spec: Spec{Name: "substr", Arity: 4, FirstKey: 1, LastKey: 1, Step: 1, Flags: []string{"readonly"}}, Kind: KindRead, check: checkInts(2, 3), exec: execGetrange})
	register(&Command{Spec: Spec{Name: "set", Arity: -3, FirstKey: 1, LastKey: 1, Step: 1, Flags: wr}, Kind: KindWrite, check: checkSet, exec: execSet})
	register(&Command{Spec: Spec{Name: "setnx", Arity: 3, FirstKey: 1, LastKey: 1, Step: 1, Flags: append(wr, "fast")}, Kind: KindWrite, exec: execSetnx})
	register(&Command{Spec: Spec{Name: "setex", Arity: 4, FirstKey: 1, LastKey: 1, Step: 1, Flags: wr}, Kind: KindWrite, check: checkSetex("setex", 's'), exec: execSetex('s')})
	register(&Command{Spec: Spec{Name: "psetex", Arity: 4, FirstKey: 1, LastKey: 1, Step: 1, Flags: wr}, Kind: KindWrite, check: checkSetex("psetex", 'm'), exec: execSetex('m')})
	register(&Command{Spec: Spec{Name: "getset", Arity: 3, FirstKey: 1, LastKey: 1, Step: 1, Flags: append(wr, "fast")}, Kind: KindWrite, exec: execGetset})
	register(&Command{Spec: Spec{Name: "getdel", Arity: 2, FirstKey: 1, LastKey: 1, Step: 1, Flags: []string{"write", "fast"}}, Kind: KindWrite, exec: execGetdel})
	register(&Command{Spec: Spec{Name: "getex", Arity: -2, FirstKey: 1, LastKey: 1, Step: 1, Flags: []string{"write", "fast"}}, Kind: KindWrite, check: checkGetex, exec: execGetex})
	register(&Command{Spec: Spec{Name: "mset", Arity: -3, FirstKey: 1, LastKey: -1, Step: 2, Flags: wr}, Kind: KindWrite, check: checkPairs("mset"), exec: execMset})
	register(&Command{Spec: Spec{Name: "msetnx", Arity: -3, FirstKey: 1, LastKey: -1, Step: 2, Flags: wr}, Kind: KindWrite, check: checkPairs("msetnx"), exec: execMsetnx})
	register(&Command{Spec: Spec{Name: "append", Arity: 3, FirstKey: 1, LastKey: 1, Step: 1, Flags: append(wr, "fast")}, Kind: KindWrite, exec: execAppend})
	register(&Command{Spec: Spec{Name: "setrange", Arity: 4, FirstKey: 1, LastKey: 1, Step: 1, Flags: wr}, Kind: KindWrite, check: checkInts(2), exec: execSetrange})
	register(&Command{Spec: Spec{Name: "incr", Arity: 2, FirstKey: 1, LastKey: 1, Step: 1, Flags: append(wr, "fast")}, Kind: KindWrite, exec: execIncrBy(1, false)})
	register(&Command{Spec: Spec{Name: "decr", Arity: 2, FirstKey: 1, LastKey: 1, Step: 1, Flags: append(wr, "fast")}, Kind: KindWrite, exec: execIncrBy(-1, false)})
	register(&Command{Spec: Spec{Name: "incrby", Arity: 3, FirstKey: 1, LastKey: 1, Step: 1, Flags: append(wr, "fast")}, Kind: KindWrite, check: checkInts(2), exec: execIncrBy(1, true)})
	register(&Command{Spec: Spec{Name: "decrby", Arity: 3, FirstKey: 1, LastKey: 1, Step: 1, Flags: append(wr, "fast")}, Kind: KindWrite, check: checkInts(2), exec: execIncrBy(-1, true)})
	register(&Command{Spec: Spec{Name: "incrbyfloat", Arity: 3, FirstKey: 1, LastKey: 1, Step: 1, Flags: append(wr, "fast")}, Kind: KindWrite, exec: execIncrByFloat})
}

func execGet(ks *Keyspace, args [][]byte) (any, error) {
	rec, ok, err := ks.lookupString(args[1])
	if err != nil || !ok {
		return nil, err
	}
	return rec.payload, nil
}

func execMget(ks *Keyspace, args [][]byte) (any, error) {
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

func execStrlen(ks *Keyspace, args [][]byte) (any, error) {
	rec, _, err := ks.lookupString(args[1])
	if err != nil {
		return nil, err
	}
	return int64(len(rec.payload)), nil
}

// execGetrange implements GETRANGE with Redis's index rules.
func execGetrange(ks *Keyspace, args [][]byte) (any, error) {
	start, _ := ParseInt(args[2])
	end, _ := ParseInt(args[3])
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
		case !getex && EqFold(opt, "nx") && !o.xx:
			o.nx = true
		case !getex && EqFold(opt, "xx") && !o.nx:
			o.xx = true
		case !getex && EqFold(opt, "get"):
			o.get = true
		case !getex && EqFold(opt, "keepttl") && o.expire == nil:
			o.keepTTL = true
		case getex && EqFold(opt, "persist") && o.expire == nil:
			o.persist = true
		case EqFold(opt, "ex") && !o.keepTTL && !o.persist && !other('s', false) && hasNext:
			j++
			o.expire, o.unit, o.absolute = args[j], 's', false
		case EqFold(opt, "px") && !o.keepTTL && !o.persist && !other('m', false) && hasNext:
			j++
			o.expire, o.unit, o.absolute = args[j], 'm', false
		case EqFold(opt, "exat") && !o.keepTTL && !o.persist && !other('s', true) && hasNext:
			j++
			o.expire, o.unit, o.absolute = args[j], 's', true
		case EqFold(opt, "pxat") && !o.keepTTL && !o.persist && !other('m', true) && hasNext:
			j++
			o.expire, o.unit, o.absolute = args[j], 'm', true
		default:
			return o, ErrSyntax
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
	v, ok := ParseInt(arg)
	if !ok {
		return 0, ErrNotInteger
	}
	invalid := Error("ERR invalid expire time in '" + cmd + "' command")
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

func execSet(ks *Keyspace, args [][]byte) (any, error) {
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
	if o.get && !exists {
		ks.missed(key) // GET reads the key as GET does
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
	ks.notify(EventString, "set", key)
	if o.expire != nil {
		ks.notify(EventGeneric, "expire", key)
	}
	if o.get {
		return oldReply, nil
	}
	return OK, nil
}

func execSetnx(ks *Keyspace, args [][]byte) (any, error) {
	_, exists, err := ks.lookup(args[1])
	if err != nil || exists {
		return int64(0), err
	}
	if err := ks.putString(args[1], args[2], 0); err != nil {
		return nil, err
	}
	ks.notify(EventString, "set", args[1])
	return int64(1), nil
}

func checkSetex(cmd string, unit byte) func([][]byte) error {
	return func(args [][]byte) error {
		_, err := expireTime(args[2], unit, false, 0, cmd)
		return err
	}
}

func execSetex(unit byte) func(*Keyspace, [][]byte) (any, error) {
	cmd := "setex"
	if unit == 'm' {
		cmd = "psetex"
	}
	return func(ks *Keyspace, args [][]byte) (any, error) {
		at, err := expireTime(args[2], unit, false, ks.now, cmd)
		if err != nil {
			return nil, err
		}
		if err := ks.putString(args[1], args[3], at); err != nil {
			return nil, err
		}
		ks.notify(EventString, "set", args[1])
		ks.notify(EventGeneric, "expire", args[1])
		return OK, nil
	}
}

func execGetset(ks *Keyspace, args [][]byte) (any, error) {
	rec, ok, err := ks.lookupString(args[1])
	if err != nil {
		return nil, err
	}
	var old any
	if ok {
		old = bytes.Clone(rec.payload)
	} else {
		ks.missed(args[1])
	}
	if err := ks.putString(args[1], args[2], 0); err != nil {
		return nil, err
	}
	ks.notify(EventString, "set", args[1])
	return old, nil
}

func execGetdel(ks *Keyspace, args [][]byte) (any, error) {
	rec, ok, err := ks.lookupString(args[1])
	if !ok {
		ks.missed(args[1])
	}
	if err != nil || !ok {
		return nil, err
	}
	v := bytes.Clone(rec.payload)
	if err := ks.remove(args[1], rec); err != nil {
		return nil, err
	}
	ks.notify(EventGeneric, "del", args[1])
	return v, nil
}

func checkGetex(args [][]byte) error {
	o, err := parseSetOptions(args, 2, true)
	if err == nil && o.expire != nil {
		_, err = o.expireAt(0, "getex")
	}
	return err
}

func execGetex(ks *Keyspace, args [][]byte) (any, error) {
	o, err := parseSetOptions(args, 2, true)
	if err != nil {
		return nil, err
	}
	rec, ok, err := ks.lookupString(args[1])
	if !ok {
		ks.missed(args[1])
	}
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
		if at <= ks.now {
			// An EXAT or PXAT already past deletes the key, as Redis does.
			if err := ks.remove(args[1], rec); err != nil {
				return nil, err
			}
			ks.notify(EventGeneric, "del", args[1])
			break
		}
		if err := ks.setExpire(args[1], rec, at); err != nil {
			return nil, err
		}
		ks.notify(EventGeneric, "expire", args[1])
	case o.persist && rec.expireAt != 0:
		if err := ks.setExpire(args[1], rec, 0); err != nil {
			return nil, err
		}
		ks.notify(EventGeneric, "persist", args[1])
	}
	return v, nil
}

func checkPairs(cmd string) func([][]byte) error {
	return func(args [][]byte) error {
		if len(args)%2 == 0 {
			return ErrArity(cmd)
		}
		return nil
	}
}

func execMset(ks *Keyspace, args [][]byte) (any, error) {
	if err := checkPairs("mset")(args); err != nil {
		return nil, err
	}
	for i := 1; i+1 < len(args); i += 2 {
		if err := ks.putString(args[i], args[i+1], 0); err != nil {
			return nil, err
		}
		ks.notify(EventString, "set", args[i])
	}
	return OK, nil
}

func execMsetnx(ks *Keyspace, args [][]byte) (any, error) {
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
		ks.notify(EventString, "set", args[i])
	}
	return int64(1), nil
}

// maxString is Redis's proto-max-bulk-len default, the largest string a
// command may build.
const maxString = 512 << 20

func execAppend(ks *Keyspace, args [][]byte) (any, error) {
	rec, ok, err := ks.lookupString(args[1])
	if err != nil {
		return nil, err
	}
	if len(rec.payload)+len(args[2]) > maxString {
		return nil, Error("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
	}
	v := append(bytes.Clone(rec.payload), args[2]...)
	return int64(len(v)), ks.writeString(args[1], rec, ok, v, "append")
}

func execSetrange(ks *Keyspace, args [][]byte) (any, error) {
	off, _ := ParseInt(args[2])
	if off < 0 {
		return nil, Error("ERR offset is out of range")
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
		return nil, Error("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
	}
	v := bytes.Clone(rec.payload)
	if need := int(off) + len(val); need > len(v) {
		v = append(v, make([]byte, need-len(v))...)
	}
	copy(v[off:], val)
	return int64(len(v)), ks.writeString(args[1], rec, ok, v, "setrange")
}

// writeString stores the string v at key, a new key unless exists, else
// in place of rec's value, its time to live kept (APPEND, SETRANGE,
// INCR...), and notifies event.
func (ks *Keyspace) writeString(key []byte, rec record, exists bool, v []byte, event string) error {
	var err error
	if exists {
		rec.payload = v
		err = ks.update(key, rec)
	} else {
		err = ks.putString(key, v, 0)
	}
	if err != nil {
		return err
	}
	ks.notify(EventString, event, key)
	return nil
}

// checkInts checks that the arguments at the given indexes are integers.
func checkInts(idx ...int) func([][]byte) error {
	return func(args [][]byte) error {
		for _, i := range idx {
			if _, ok := ParseInt(args[i]); !ok {
				return ErrNotInteger
			}
		}
		return nil
	}
}

// execIncrBy implements INCR, DECR (fixed delta) and INCRBY, DECRBY
// (delta from the argument, times sign).
func execIncrBy(sign int64, fromArg bool) func(*Keyspace, [][]byte) (any, error) {
	return func(ks *Keyspace, args [][]byte) (any, error) {
		delta := sign
		if fromArg {
			d, ok := ParseInt(args[2])
			if !ok {
				return nil, ErrNotInteger
			}
			if sign < 0 {
				if d == math.MinInt64 {
					return nil, Error("ERR decrement would overflow")
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
			v, ok := ParseInt(rec.payload)
			if !ok {
				return nil, ErrNotInteger
			}
			cur = v
		}
		if (delta < 0 && cur < 0 && delta < math.MinInt64-cur) || (delta > 0 && cur > 0 && delta > math.MaxInt64-cur) {
			return nil, errOverflow
		}
		cur += delta
		return cur, ks.writeString(args[1], rec, exists, formatInt(cur), "incrby")
	}
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
	return trimHuman(z.Text('f', 17)), true
}

// execIncrByFloat implements INCRBYFLOAT key increment in Redis's order:
// the key's type, then its value, then the increment, each read as
// strtold reads it (decimal or hexadecimal).
func execIncrByFloat(ks *Keyspace, args [][]byte) (any, error) {
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
		return nil, Error("ERR increment would produce NaN or Infinity")
	}
	return v, ks.writeString(args[1], rec, exists, v, "incrbyfloat")
}
