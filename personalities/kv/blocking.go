package kv

import (
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Blocking commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN,
// BZPOPMAX, BZMPOP) are writes whose apply either serves them, exactly as
// their non-blocking forms, or, when every key is empty, changes nothing
// and says so (wouldBlock). The connection then waits on this node for one
// of the keys to be written, by an entry from any node, since every entry
// is applied here too, and proposes the command again; until it is served,
// times out, is unblocked by CLIENT UNBLOCK, or its client goes away.
// Inside MULTI a blocking command never waits: it times out at once.

// blockSpec describes where a blocking command keeps its timeout and keys.
type blockSpec struct {
	timeout int // index of the timeout argument; -1: the last one
	keys    func(args [][]byte) [][]byte
}

func (b *blockSpec) timeoutArg(args [][]byte) []byte {
	if b.timeout < 0 {
		return args[len(args)-1]
	}
	return args[b.timeout]
}

// wouldBlock is apply's answer to a blocking command it cannot serve yet;
// timeoutReply is what the client gets if it never is.
type wouldBlock struct{ timeoutReply any }

// Keys between the first and the timeout (BLPOP key... timeout).
func keysBeforeTimeout(args [][]byte) [][]byte { return args[1 : len(args)-1] }

// The source key only (BLMOVE, BRPOPLPUSH).
func firstKeyOnly(args [][]byte) [][]byte { return args[1:2] }

// numkeys key... after the timeout (BLMPOP, BZMPOP); check has validated.
func keysAfterNumkeys(args [][]byte) [][]byte {
	n, _ := parseInt(args[2])
	return args[3 : 3+n]
}

// parseTimeout parses a blocking timeout in seconds as Redis does
// (getTimeoutFromObjectOrReply): a long double, hexadecimal included; 0
// is forever, and the milliseconds are truncated, so 0.0001 is forever
// too. A deadline past the clock's range is refused, as in Redis 7.2. It
// returns the timeout in ms.
func parseTimeout(b []byte) (int64, error) {
	dec, inf, ok := parseLongDouble(b)
	if !ok {
		return 0, redisError("ERR timeout is not a float or out of range")
	}
	f, _ := strconv.ParseFloat(string(dec), 64)
	ms := f * 1000
	// Redis converts the long double to a long long; out of range (an
	// infinity included) comes out as LLONG_MIN on the machines it runs
	// on.
	if inf || ms >= math.MaxInt64 || ms < math.MinInt64 || math.IsInf(ms, 0) {
		return 0, redisError("ERR timeout is negative")
	}
	t := int64(ms)
	if t < 0 {
		return 0, redisError("ERR timeout is negative")
	}
	if t > math.MaxInt64-time.Now().UnixMilli() {
		return 0, redisError("ERR timeout is out of range")
	}
	return t, nil
}

// checkTimeout wraps a command's check so that the timeout is checked
// first, as Redis does.
func checkTimeout(spec *blockSpec, rest func([][]byte) error) func([][]byte) error {
	return func(args [][]byte) error {
		if _, err := parseTimeout(spec.timeoutArg(args)); err != nil {
			return err
		}
		if rest != nil {
			return rest(args)
		}
		return nil
	}
}

// blockKey names a key a client waits on.
type blockKey struct {
	db  int
	key string
}

// waiter is one blocked connection.
type waiter struct {
	db    int
	keys  []string
	wake  chan struct{} // a key may be ready: try again
	unblk chan bool     // CLIENT UNBLOCK; true: with an error
}

// blocker is the node's table of blocked connections by key.
type blocker struct {
	mu    sync.Mutex
	byKey map[blockKey]map[*waiter]struct{}
	n     atomic.Int64 // waiters registered
}

func (b *blocker) add(w *waiter) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.byKey == nil {
		b.byKey = make(map[blockKey]map[*waiter]struct{})
	}
	for _, k := range w.keys {
		bk := blockKey{w.db, k}
		set := b.byKey[bk]
		if set == nil {
			set = make(map[*waiter]struct{})
			b.byKey[bk] = set
		}
		set[w] = struct{}{}
	}
	b.n.Add(1)
}

func (b *blocker) remove(w *waiter) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, k := range w.keys {
		bk := blockKey{w.db, k}
		if set := b.byKey[bk]; set != nil {
			delete(set, w)
			if len(set) == 0 {
				delete(b.byKey, bk)
			}
		}
	}
	b.n.Add(-1)
}

// wake tells the waiters on keys (and, for db entries with an empty key
// in dbs, on every key of those databases) to try again.
func (b *blocker) wake(keys []blockKey, dbs []int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	signal := func(set map[*waiter]struct{}) {
		for w := range set {
			select {
			case w.wake <- struct{}{}:
			default:
			}
		}
	}
	for _, k := range keys {
		signal(b.byKey[k])
	}
	for _, db := range dbs {
		for k, set := range b.byKey {
			if k.db == db {
				signal(set)
			}
		}
	}
}

// readyKeys collects, at apply, the keys an entry made ready for blocked
// clients: lists and sorted sets it wrote, databases it swapped.
type readyKeys struct {
	b    *blocker
	keys []blockKey
	dbs  []int
}

// note records a write of key in db holding a value of type typ.
func (r *readyKeys) note(db int, key []byte, typ byte) {
	if r == nil || (typ != typeList && typ != typeZSet) || r.b.n.Load() == 0 {
		return
	}
	r.keys = append(r.keys, blockKey{db, string(key)})
}

// noteDB records that every key of db may have changed.
func (r *readyKeys) noteDB(db int) {
	if r == nil || r.b.n.Load() == 0 {
		return
	}
	r.dbs = append(r.dbs, db)
}

// deliver wakes the waiters on what the applied entry made ready.
func (r *readyKeys) deliver() {
	if len(r.keys) > 0 || len(r.dbs) > 0 {
		r.b.wake(r.keys, r.dbs)
	}
	r.keys, r.dbs = r.keys[:0], r.dbs[:0]
}

// errUnblocked is the reply of a client unblocked by CLIENT UNBLOCK ERROR.
const errUnblocked = redisError("UNBLOCKED client unblocked via CLIENT UNBLOCK")

// runBlocking runs a blocking command: it proposes the command, and while
// apply says it would block, waits for one of its keys to be written and
// proposes it again.
func (c *conn) runBlocking(cmd *command, args [][]byte) {
	if cmd.check != nil {
		if err := cmd.check(args); err != nil {
			c.push(replyOf(nil, err))
			return
		}
	}
	timeout, _ := parseTimeout(cmd.block.timeoutArg(args))
	// Earlier replies go out first, and earlier writes are applied, so
	// that this command's entries follow them in the log.
	if !c.flush() {
		c.quit = true
		return
	}
	w := &waiter{db: c.db, wake: make(chan struct{}, 1), unblk: make(chan bool, 1)}
	for _, k := range cmd.block.keys(args) {
		w.keys = append(w.keys, string(k))
	}
	var deadline <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(time.Duration(timeout) * time.Millisecond)
		defer t.Stop()
		deadline = t.C
	}
	c.s.blocker.add(w)
	defer c.s.blocker.remove(w)
	c.blocked.Store(w)
	defer c.blocked.Store(nil)
	c.s.stats.blocked.Add(1)
	defer c.s.stats.blocked.Add(-1)
	var gone <-chan struct{}
	if c.rd.Buffered() == 0 {
		closed, stop := watchClose(c.nc)
		defer stop()
		gone = closed
	}
	body := encodeCommand(c.db, rand.Uint64(), args)
	for {
		// A wake-up that comes while this attempt is in flight stays in
		// w.wake and costs one more attempt, never a lost one.
		s := &slot{p: c.propose(body)}
		c.settle(s)
		wb, ok := s.reply.(wouldBlock)
		if !ok {
			c.push(s.reply)
			return
		}
		select {
		case <-w.wake:
		case <-deadline:
			c.push(wb.timeoutReply)
			return
		case withErr := <-w.unblk:
			if withErr {
				c.push(errUnblocked)
			} else {
				c.push(wb.timeoutReply)
			}
			return
		case <-gone:
			c.quit = true
			return
		case <-c.s.ctx.Done():
			c.quit = true
			return
		}
	}
}

// clientUnblock implements CLIENT UNBLOCK id [TIMEOUT|ERROR].
func clientUnblock(c *conn, args [][]byte) any {
	id, ok := parseInt(args[2])
	if !ok {
		return errNotInteger
	}
	withErr := false
	if len(args) == 4 {
		switch {
		case eqFold(args[3], "timeout"):
		case eqFold(args[3], "error"):
			withErr = true
		default:
			return redisError("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
		}
	}
	for _, o := range c.s.connections() {
		if o.id != id {
			continue
		}
		w := o.blocked.Load()
		if w == nil {
			return int64(0)
		}
		select {
		case w.unblk <- withErr:
			return int64(1)
		default:
			return int64(0) // already being unblocked
		}
	}
	return int64(0)
}

// watchClose reports, by closing closed, that the peer of nc has closed
// the connection or sent something (a blocked client's next command stays
// unread in the socket). stop ends the watch; the connection is usable
// again once it returns.
func watchClose(nc any) (closed <-chan struct{}, stop func()) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil, func() {}
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, func() {}
	}
	dl, ok := nc.(interface{ SetReadDeadline(time.Time) error })
	if !ok {
		return nil, func() {}
	}
	ch := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var peerClosed bool
		var buf [1]byte
		err := rc.Read(func(fd uintptr) bool {
			n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR) {
				return false // wait until readable
			}
			peerClosed = n == 0 || err != nil
			return true
		})
		// An error is the connection closed here (CLIENT KILL) or the
		// deadline stop sets; either way nobody should wait any more.
		if err != nil || peerClosed {
			close(ch)
		}
	}()
	return ch, func() {
		dl.SetReadDeadline(time.Unix(1, 0)) // wakes the watch
		<-done
		dl.SetReadDeadline(time.Time{})
	}
}

// The blocking list commands.
var (
	blockKeysLast  = &blockSpec{timeout: -1, keys: keysBeforeTimeout}
	blockFirstLast = &blockSpec{timeout: -1, keys: firstKeyOnly}
	blockMpop      = &blockSpec{timeout: 1, keys: keysAfterNumkeys}
)

func init() {
	bw := []string{"write", "blocking"}
	register(&command{name: "blpop", arity: -3, kind: kindWrite, block: blockKeysLast, check: checkTimeout(blockKeysLast, nil), exec: execBpop(true), firstKey: 1, lastKey: -2, step: 1, flags: bw})
	register(&command{name: "brpop", arity: -3, kind: kindWrite, block: blockKeysLast, check: checkTimeout(blockKeysLast, nil), exec: execBpop(false), firstKey: 1, lastKey: -2, step: 1, flags: bw})
	register(&command{name: "brpoplpush", arity: 4, kind: kindWrite, block: blockFirstLast, check: checkTimeout(blockFirstLast, nil), exec: execBrpoplpush, firstKey: 1, lastKey: 2, step: 1, flags: append(bw, "denyoom")})
	register(&command{name: "blmove", arity: 6, kind: kindWrite, block: blockFirstLast, check: checkBlmove, exec: execBlmove, firstKey: 1, lastKey: 2, step: 1, flags: append(bw, "denyoom")})
	register(&command{name: "blmpop", arity: -5, kind: kindWrite, block: blockMpop, check: checkTimeout(blockMpop, checkBlmpop), exec: execBlmpop, flags: append(bw, "movablekeys")})
}

// execBpop implements BLPOP and BRPOP: [key, item] from the first
// non-empty list.
func execBpop(left bool) func(*keyspace, [][]byte) (any, error) {
	return func(ks *keyspace, args [][]byte) (any, error) {
		for _, k := range keysBeforeTimeout(args) {
			vals, err := popFront(ks, k, left, 1)
			if err != nil {
				return nil, err
			}
			if vals != nil {
				return []any{k, vals[0]}, nil
			}
		}
		return wouldBlock{nullArray{}}, nil
	}
}

func execBrpoplpush(ks *keyspace, args [][]byte) (any, error) {
	return moved(moveOne(ks, args[1], args[2], false, true))
}

// checkBlmove checks the ends before the timeout, as Redis does.
func checkBlmove(args [][]byte) error {
	if err := checkLmove(args); err != nil {
		return err
	}
	_, err := parseTimeout(args[5])
	return err
}

func execBlmove(ks *keyspace, args [][]byte) (any, error) {
	if err := checkBlmove(args); err != nil {
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
		return wouldBlock{nil}, nil
	}
	return v, nil
}

// BLMPOP timeout numkeys key... LEFT|RIGHT [COUNT count] parses and runs
// as LMPOP from the timeout on, and waits where LMPOP has nothing.
func checkBlmpop(args [][]byte) error { return checkLmpop(args[1:]) }

func execBlmpop(ks *keyspace, args [][]byte) (any, error) {
	return blockOnNull(execLmpop(ks, args[1:]))
}

// blockOnNull turns a multi-key pop's null array into wouldBlock.
func blockOnNull(r any, err error) (any, error) {
	if _, ok := r.(nullArray); ok && err == nil {
		return wouldBlock{nullArray{}}, nil
	}
	return r, err
}

// The blocking sorted-set commands.
func init() {
	bw := []string{"write", "blocking", "fast"}
	register(&command{name: "bzpopmin", arity: -3, kind: kindWrite, block: blockKeysLast, check: checkTimeout(blockKeysLast, nil), exec: execBzpop(false), firstKey: 1, lastKey: -2, step: 1, flags: bw})
	register(&command{name: "bzpopmax", arity: -3, kind: kindWrite, block: blockKeysLast, check: checkTimeout(blockKeysLast, nil), exec: execBzpop(true), firstKey: 1, lastKey: -2, step: 1, flags: bw})
	register(&command{name: "bzmpop", arity: -5, kind: kindWrite, block: blockMpop, check: checkTimeout(blockMpop, checkBzmpop), exec: execBzmpop, flags: []string{"write", "blocking", "movablekeys"}})
}

// execBzpop implements BZPOPMIN and BZPOPMAX: [key, member, score] from
// the first non-empty sorted set.
func execBzpop(max bool) func(*keyspace, [][]byte) (any, error) {
	return func(ks *keyspace, args [][]byte) (any, error) {
		key, popped, err := ks.zpop(keysBeforeTimeout(args), max, 1)
		switch {
		case err != nil:
			return nil, err
		case key == nil:
			return wouldBlock{nullArray{}}, nil
		}
		return []any{key, popped[0].member, popped[0].score}, nil
	}
}

// BZMPOP timeout numkeys key... MIN|MAX [COUNT count] parses as ZMPOP
// from the timeout on.
func checkBzmpop(args [][]byte) error { return checkZmpop(args[1:]) }

func execBzmpop(ks *keyspace, args [][]byte) (any, error) {
	return blockOnNull(execZmpop(ks, args[1:]))
}
