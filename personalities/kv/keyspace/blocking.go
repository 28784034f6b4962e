package keyspace

import (
	"math"
	"strconv"
	"time"
)

// Blocking commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN,
// BZPOPMAX, BZMPOP) are writes whose apply either serves them, exactly as
// their non-blocking forms, or, when every key is empty, changes nothing
// and says so: the reply is a WouldBlock. The server then waits for one
// of the command's keys (BlockKeys) to be written, by an entry from any
// node (Effects.Ready), and proposes the command again. Inside a
// transaction a blocking command never waits: it times out at once.
// XREAD and XREADGROUP block only with their BLOCK option (see
// streamread.go); XREAD, otherwise a read, is then proposed too.

// blockSpec describes where a blocking command keeps its timeout and keys.
type blockSpec struct {
	timeout int // index of the timeout argument; -1: the last one
	keys    func(args [][]byte) [][]byte
	// timeoutLast: Check looks at the timeout after the other arguments
	// (BLMOVE), not before them.
	timeoutLast bool
	// option, if set, makes blocking an option (XREAD's BLOCK ms): it
	// returns the timeout in ms and whether the arguments ask to block.
	// Such a command is allowed in scripts, where it never waits.
	option func(args [][]byte) (ms int64, block bool)
	// inScript checks the arguments of a call from a script, which may
	// not ask to block.
	inScript func(args [][]byte) error
}

func (b *blockSpec) timeoutArg(args [][]byte) []byte {
	if b.timeout < 0 {
		return args[len(args)-1]
	}
	return args[b.timeout]
}

// WouldBlock is apply's answer to a blocking command it cannot serve yet;
// TimeoutReply is what the client gets if it never is. Retry, if not
// nil, are the arguments to propose from then on (XREAD's $ replaced by
// the ID it stood for); they are the reply's own.
type WouldBlock struct {
	TimeoutReply any
	Retry        [][]byte
}

// Blocking reports whether c may wait for its keys when it cannot be
// served.
func (c *Command) Blocking() bool { return c.block != nil }

// BlocksWith reports whether c waits for its keys, with these arguments,
// when it cannot be served: always for BLPOP and the like, with BLOCK for
// XREAD and XREADGROUP.
//
// REQUIRES: args passed Check.
func (c *Command) BlocksWith(args [][]byte) bool {
	if c.block == nil {
		return false
	}
	if c.block.option == nil {
		return true
	}
	_, block := c.block.option(args)
	return block
}

// blockingOnlyOutsideScripts reports whether c is a blocking command
// that scripts may not call (Redis's noscript ones).
func (c *Command) blockingOnlyOutsideScripts() bool { return c.block != nil && c.block.option == nil }

// BlockKeys returns the keys a blocking command waits on; they alias
// args.
//
// REQUIRES: c.Blocking(), args passed Check.
func (c *Command) BlockKeys(args [][]byte) [][]byte { return c.block.keys(args) }

// BlockTimeout returns how long a blocking command may wait, in ms; 0 is
// forever.
//
// REQUIRES: c.Blocking(), args passed Check at now.
func (c *Command) BlockTimeout(args [][]byte, now time.Time) int64 {
	if c.block.option != nil {
		ms, _ := c.block.option(args)
		return ms
	}
	t, _ := parseTimeout(c.block.timeoutArg(args), now.UnixMilli())
	return t
}

// Keys between the first and the timeout (BLPOP key... timeout).
func keysBeforeTimeout(args [][]byte) [][]byte { return args[1 : len(args)-1] }

// The source key only (BLMOVE, BRPOPLPUSH).
func firstKeyOnly(args [][]byte) [][]byte { return args[1:2] }

// numkeys key... after the timeout (BLMPOP, BZMPOP); check has validated.
func keysAfterNumkeys(args [][]byte) [][]byte {
	n, _ := ParseInt(args[2])
	return args[3 : 3+n]
}

// parseTimeout parses a blocking timeout in seconds as Redis does
// (getTimeoutFromObjectOrReply): a long double, hexadecimal included; 0
// is forever, and the milliseconds are truncated, so 0.0001 is forever
// too. A deadline (from now, in ms) past the clock's range is refused, as
// in Redis 7.2. It returns the timeout in ms.
func parseTimeout(b []byte, now int64) (int64, error) {
	dec, inf, ok := parseLongDouble(b)
	if !ok {
		return 0, Error("ERR timeout is not a float or out of range")
	}
	f, _ := strconv.ParseFloat(string(dec), 64)
	ms := f * 1000
	// Redis converts the long double to a long long; out of range (an
	// infinity included) comes out as LLONG_MIN on the machines it runs
	// on.
	if inf || ms >= math.MaxInt64 || ms < math.MinInt64 || math.IsInf(ms, 0) {
		return 0, Error("ERR timeout is negative")
	}
	t := int64(ms)
	if t < 0 {
		return 0, Error("ERR timeout is negative")
	}
	if t > math.MaxInt64-now {
		return 0, Error("ERR timeout is out of range")
	}
	return t, nil
}

// The blocking list commands.
var (
	blockKeysLast  = &blockSpec{timeout: -1, keys: keysBeforeTimeout}
	blockFirstLast = &blockSpec{timeout: -1, keys: firstKeyOnly}
	blockMove      = &blockSpec{timeout: -1, keys: firstKeyOnly, timeoutLast: true}
	blockMpop      = &blockSpec{timeout: 1, keys: keysAfterNumkeys}
)

func init() {
	bw := []string{"write", "blocking"}
	register(&Command{Spec: Spec{Name: "blpop", Arity: -3, FirstKey: 1, LastKey: -2, Step: 1, Flags: bw}, Kind: KindWrite, block: blockKeysLast, exec: execBpop(true)})
	register(&Command{Spec: Spec{Name: "brpop", Arity: -3, FirstKey: 1, LastKey: -2, Step: 1, Flags: bw}, Kind: KindWrite, block: blockKeysLast, exec: execBpop(false)})
	register(&Command{Spec: Spec{Name: "brpoplpush", Arity: 4, FirstKey: 1, LastKey: 2, Step: 1, Flags: append(bw, "denyoom")}, Kind: KindWrite, block: blockFirstLast, exec: execBrpoplpush})
	register(&Command{Spec: Spec{Name: "blmove", Arity: 6, FirstKey: 1, LastKey: 2, Step: 1, Flags: append(bw, "denyoom")}, Kind: KindWrite, block: blockMove, check: checkLmove, exec: execBlmove})
	register(&Command{Spec: Spec{Name: "blmpop", Arity: -5, Flags: append(bw, "movablekeys")}, Kind: KindWrite, block: blockMpop, check: checkBlmpop, exec: execBlmpop})
}

// execBpop implements BLPOP and BRPOP: [key, item] from the first
// non-empty list.
func execBpop(left bool) func(*Keyspace, [][]byte) (any, error) {
	return func(ks *Keyspace, args [][]byte) (any, error) {
		for _, k := range keysBeforeTimeout(args) {
			vals, err := popFront(ks, k, left, 1)
			if err != nil {
				return nil, err
			}
			if vals != nil {
				return []any{k, vals[0]}, nil
			}
		}
		return WouldBlock{TimeoutReply: NullArray{}}, nil
	}
}

func execBrpoplpush(ks *Keyspace, args [][]byte) (any, error) {
	return moved(moveOne(ks, args[1], args[2], false, true))
}

// execBlmove checks the ends before the timeout, as Redis does.
func execBlmove(ks *Keyspace, args [][]byte) (any, error) {
	if err := checkLmove(args); err != nil {
		return nil, err
	}
	if _, err := parseTimeout(args[5], ks.now); err != nil {
		return nil, err
	}
	from, _ := parseEnd(args[3])
	to, _ := parseEnd(args[4])
	return moved(moveOne(ks, args[1], args[2], from, to))
}

// moved turns moveOne's result into BLMOVE's reply.
func moved(v []byte, err error) (any, error) {
	switch {
	case err != nil:
		return nil, err
	case v == nil:
		return WouldBlock{TimeoutReply: nil}, nil
	}
	return v, nil
}

// BLMPOP timeout numkeys key... LEFT|RIGHT [COUNT count] parses and runs
// as LMPOP from the timeout on, and waits where LMPOP has nothing.
func checkBlmpop(args [][]byte) error { return checkLmpop(args[1:]) }

func execBlmpop(ks *Keyspace, args [][]byte) (any, error) {
	return blockOnNull(execLmpop(ks, args[1:]))
}

// blockOnNull turns a multi-key pop's null array into WouldBlock.
func blockOnNull(r any, err error) (any, error) {
	if _, ok := r.(NullArray); ok && err == nil {
		return WouldBlock{TimeoutReply: NullArray{}}, nil
	}
	return r, err
}

// The blocking sorted-set commands.
func init() {
	bw := []string{"write", "blocking", "fast"}
	register(&Command{Spec: Spec{Name: "bzpopmin", Arity: -3, FirstKey: 1, LastKey: -2, Step: 1, Flags: bw}, Kind: KindWrite, block: blockKeysLast, exec: execBzpop(false)})
	register(&Command{Spec: Spec{Name: "bzpopmax", Arity: -3, FirstKey: 1, LastKey: -2, Step: 1, Flags: bw}, Kind: KindWrite, block: blockKeysLast, exec: execBzpop(true)})
	register(&Command{Spec: Spec{Name: "bzmpop", Arity: -5, Flags: []string{"write", "blocking", "movablekeys"}}, Kind: KindWrite, block: blockMpop, check: checkBzmpop, exec: execBzmpop})
}

// execBzpop implements BZPOPMIN and BZPOPMAX: [key, member, score] from
// the first non-empty sorted set.
func execBzpop(max bool) func(*Keyspace, [][]byte) (any, error) {
	return func(ks *Keyspace, args [][]byte) (any, error) {
		key, popped, err := ks.zpop(keysBeforeTimeout(args), max, 1)
		switch {
		case err != nil:
			return nil, err
		case key == nil:
			return WouldBlock{TimeoutReply: NullArray{}}, nil
		}
		return []any{key, popped[0].member, popped[0].score}, nil
	}
}

// BZMPOP timeout numkeys key... MIN|MAX [COUNT count] parses as ZMPOP
// from the timeout on.
func checkBzmpop(args [][]byte) error { return checkZmpop(args[1:]) }

func execBzmpop(ks *Keyspace, args [][]byte) (any, error) {
	return blockOnNull(execZmpop(ks, args[1:]))
}
