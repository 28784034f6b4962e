package kv

import (
	"bytes"
	"math"
	"strings"
)

func init() {
	ro := []string{"readonly", "fast"}
	register(&command{name: "exists", arity: -2, kind: kindRead, exec: execExists, firstKey: 1, lastKey: -1, step: 1, flags: ro})
	register(&command{name: "touch", arity: -2, kind: kindRead, exec: execExists, firstKey: 1, lastKey: -1, step: 1, flags: ro})
	register(&command{name: "type", arity: 2, kind: kindRead, exec: execType, firstKey: 1, lastKey: 1, step: 1, flags: ro})
	register(&command{name: "dbsize", arity: 1, kind: kindRead, exec: execDbsize, flags: ro})
	register(&command{name: "ttl", arity: 2, kind: kindRead, exec: execTTL(1000, false), firstKey: 1, lastKey: 1, step: 1, flags: ro})
	register(&command{name: "pttl", arity: 2, kind: kindRead, exec: execTTL(1, false), firstKey: 1, lastKey: 1, step: 1, flags: ro})
	register(&command{name: "expiretime", arity: 2, kind: kindRead, exec: execTTL(1000, true), firstKey: 1, lastKey: 1, step: 1, flags: ro})
	register(&command{name: "pexpiretime", arity: 2, kind: kindRead, exec: execTTL(1, true), firstKey: 1, lastKey: 1, step: 1, flags: ro})
	register(&command{name: "keys", arity: 2, kind: kindRead, exec: execKeys, flags: []string{"readonly"}})
	register(&command{name: "randomkey", arity: 1, kind: kindRead, exec: execRandomkey, flags: []string{"readonly"}})

	wr := []string{"write"}
	register(&command{name: "del", arity: -2, kind: kindWrite, exec: execDel, firstKey: 1, lastKey: -1, step: 1, flags: wr})
	register(&command{name: "unlink", arity: -2, kind: kindWrite, exec: execDel, firstKey: 1, lastKey: -1, step: 1, flags: append(wr, "fast")})
	register(&command{name: "rename", arity: 3, kind: kindWrite, exec: execRename(false), firstKey: 1, lastKey: 2, step: 1, flags: wr})
	register(&command{name: "renamenx", arity: 3, kind: kindWrite, exec: execRename(true), firstKey: 1, lastKey: 2, step: 1, flags: append(wr, "fast")})
	register(&command{name: "copy", arity: -3, kind: kindWrite, check: checkCopy, exec: execCopy, firstKey: 1, lastKey: 2, step: 1, flags: wr})
	register(&command{name: "move", arity: 3, kind: kindWrite, check: checkDBArg(2), exec: execMove, firstKey: 1, lastKey: 1, step: 1, flags: append(wr, "fast")})
	register(&command{name: "expire", arity: -3, kind: kindWrite, check: checkExpire("expire"), exec: execExpire("expire", 's', false), firstKey: 1, lastKey: 1, step: 1, flags: append(wr, "fast")})
	register(&command{name: "pexpire", arity: -3, kind: kindWrite, check: checkExpire("pexpire"), exec: execExpire("pexpire", 'm', false), firstKey: 1, lastKey: 1, step: 1, flags: append(wr, "fast")})
	register(&command{name: "expireat", arity: -3, kind: kindWrite, check: checkExpire("expireat"), exec: execExpire("expireat", 's', true), firstKey: 1, lastKey: 1, step: 1, flags: append(wr, "fast")})
	register(&command{name: "pexpireat", arity: -3, kind: kindWrite, check: checkExpire("pexpireat"), exec: execExpire("pexpireat", 'm', true), firstKey: 1, lastKey: 1, step: 1, flags: append(wr, "fast")})
	register(&command{name: "persist", arity: 2, kind: kindWrite, exec: execPersist, firstKey: 1, lastKey: 1, step: 1, flags: append(wr, "fast")})
	register(&command{name: "swapdb", arity: 3, kind: kindWrite, check: checkSwapdb, exec: execSwapdb, flags: append(wr, "fast")})
	register(&command{name: "flushdb", arity: -1, kind: kindWrite, check: checkFlush, exec: execFlush(false), flags: wr})
	register(&command{name: "flushall", arity: -1, kind: kindWrite, check: checkFlush, exec: execFlush(true), flags: wr})
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

func execType(ks *keyspace, args [][]byte) (any, error) {
	rec, ok, err := ks.lookup(args[1])
	if err != nil {
		return nil, err
	}
	if !ok {
		return simpleString("none"), nil
	}
	return simpleString(typeName(rec.typ)), nil
}

func execDbsize(ks *keyspace, args [][]byte) (any, error) {
	n, err := ks.size()
	return n, err
}

// execTTL implements TTL, PTTL (unit 1000, 1) and EXPIRETIME, PEXPIRETIME
// (absolute): -2 for a missing key, -1 for a key without expiry, else the
// time left (rounded as Redis rounds it) or the expiry time.
func execTTL(unit int64, absolute bool) func(*keyspace, [][]byte) (any, error) {
	return func(ks *keyspace, args [][]byte) (any, error) {
		rec, ok, err := ks.lookup(args[1])
		switch {
		case err != nil:
			return nil, err
		case !ok:
			return int64(-2), nil
		case rec.expireAt == 0:
			return int64(-1), nil
		case absolute:
			return rec.expireAt / unit, nil
		}
		left := max(rec.expireAt-ks.now, 0)
		return (left + unit/2) / unit, nil
	}
}

func execDel(ks *keyspace, args [][]byte) (any, error) {
	var n int64
	for _, k := range args[1:] {
		rec, ok, err := ks.lookup(k)
		if err != nil {
			return nil, err
		}
		if ok {
			if err := ks.remove(k, rec); err != nil {
				return nil, err
			}
			n++
		}
	}
	return n, nil
}

// eachKey calls f for every live key of the keyspace's database, in key
// order, until f returns false.
func (ks *keyspace) eachKey(from []byte, f func(key []byte, rec record) bool) error {
	lo := dataKey(ks.db, from)
	it, err := ks.r.NewIter(lo, dataKey(ks.db+1, nil))
	if err != nil {
		return err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		rec, err := decodeRecord(it.Value())
		if err != nil {
			return err
		}
		if rec.typ == typeTombstone || rec.expired(ks.now) {
			continue
		}
		if !f(it.Key()[2:], rec) {
			break
		}
	}
	return it.Error()
}

func execKeys(ks *keyspace, args [][]byte) (any, error) {
	pattern := args[1]
	out := []any{}
	err := ks.eachKey(nil, func(key []byte, _ record) bool {
		if globMatchBytes(pattern, key, false) {
			out = append(out, bytes.Clone(key))
		}
		return true
	})
	return out, err
}

func execRandomkey(ks *keyspace, args [][]byte) (any, error) {
	n, err := ks.size()
	if err != nil || n == 0 {
		return nil, err
	}
	// Reads may be random: pick a position, then the first live key from
	// there (wrapping around once).
	var pick []byte
	skip := ks.rand().Int64N(n)
	err = ks.eachKey(nil, func(key []byte, _ record) bool {
		pick = bytes.Clone(key)
		skip--
		return skip >= 0
	})
	return pick, err
}

// execRename implements RENAME and RENAMENX (nx): the record moves, with
// its expiry; the collection's elements stay under their generation.
func execRename(nx bool) func(*keyspace, [][]byte) (any, error) {
	return func(ks *keyspace, args [][]byte) (any, error) {
		src, dst := args[1], args[2]
		rec, ok, err := ks.lookup(src)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, errNoSuchKey
		}
		if bytes.Equal(src, dst) {
			if nx {
				return int64(0), nil
			}
			return replyOK, nil
		}
		old, exists, err := ks.lookup(dst)
		if err != nil {
			return nil, err
		}
		if exists && nx {
			return int64(0), nil
		}
		if exists {
			if err := ks.remove(dst, old); err != nil {
				return nil, err
			}
		}
		if err := ks.detach(src, rec); err != nil {
			return nil, err
		}
		if err := ks.put(dst, rec, false, record{}); err != nil {
			return nil, err
		}
		if nx {
			return int64(1), nil
		}
		return replyOK, nil
	}
}

// detach deletes key's record like remove, but leaves the collection's
// elements for the record's new owner.
func (ks *keyspace) detach(key []byte, rec record) error {
	moved := rec
	moved.typ = typeString // nothing to drop
	if err := ks.remove(key, moved); err != nil {
		return err
	}
	return nil
}

func checkDBArg(i int) func([][]byte) error {
	return func(args [][]byte) error {
		n, ok := parseInt(args[i])
		if !ok {
			return errNotInteger
		}
		if n < 0 || n >= Databases {
			return errDBIndex
		}
		return nil
	}
}

func checkCopy(args [][]byte) error {
	_, _, err := parseCopy(args)
	return err
}

func parseCopy(args [][]byte) (db int, replace bool, err error) {
	db = -1
	for j := 3; j < len(args); j++ {
		switch {
		case eqFold(args[j], "replace"):
			replace = true
		case eqFold(args[j], "db") && j+1 < len(args):
			j++
			n, ok := parseInt(args[j])
			if !ok {
				return 0, false, errNotInteger
			}
			if n < 0 || n >= Databases {
				return 0, false, errDBIndex
			}
			db = int(n)
		default:
			return 0, false, errSyntax
		}
	}
	return db, replace, nil
}

func execCopy(ks *keyspace, args [][]byte) (any, error) {
	db, replace, err := parseCopy(args)
	if err != nil {
		return nil, err
	}
	dks := ks
	if db >= 0 {
		dks = ks.withDB(db)
	}
	src, dst := args[1], args[2]
	if dks.db == ks.db && bytes.Equal(src, dst) {
		return nil, redisError("ERR source and destination objects are the same")
	}
	rec, ok, err := ks.lookup(src)
	if err != nil || !ok {
		return int64(0), err
	}
	old, exists, err := dks.lookup(dst)
	if err != nil {
		return nil, err
	}
	if exists && !replace {
		return int64(0), nil
	}
	if exists {
		if err := dks.remove(dst, old); err != nil {
			return nil, err
		}
	}
	cp := rec
	if rec.isCollection() {
		fresh, err := ks.newCollection(rec.typ)
		if err != nil {
			return nil, err
		}
		cp.gen = fresh.gen
		var werr error
		if err := ks.scanElems(rec.gen, nil, nil, func(sub, v []byte) bool {
			werr = ks.setElem(cp.gen, sub, v)
			return werr == nil
		}); err != nil {
			return nil, err
		}
		if werr != nil {
			return nil, werr
		}
	}
	return int64(1), dks.put(dst, cp, false, record{})
}

func execMove(ks *keyspace, args [][]byte) (any, error) {
	n, _ := parseInt(args[2])
	if int(n) == ks.db {
		return nil, redisError("ERR source and destination objects are the same")
	}
	dks := ks.withDB(int(n))
	rec, ok, err := ks.lookup(args[1])
	if err != nil || !ok {
		return int64(0), err
	}
	if _, exists, err := dks.lookup(args[1]); err != nil || exists {
		return int64(0), err
	}
	if err := ks.detach(args[1], rec); err != nil {
		return nil, err
	}
	return int64(1), dks.put(args[1], rec, false, record{})
}

// expireFlags are EXPIRE's NX/XX/GT/LT.
type expireFlags struct{ nx, xx, gt, lt bool }

func parseExpireFlags(args [][]byte) (expireFlags, error) {
	var f expireFlags
	for _, a := range args[3:] {
		switch {
		case eqFold(a, "nx"):
			f.nx = true
		case eqFold(a, "xx"):
			f.xx = true
		case eqFold(a, "gt"):
			f.gt = true
		case eqFold(a, "lt"):
			f.lt = true
		default:
			return f, redisError("ERR Unsupported option " + sanitize(string(a)))
		}
	}
	switch {
	case f.nx && (f.xx || f.gt || f.lt):
		return f, redisError("ERR NX and XX, GT or LT options at the same time are not compatible")
	case f.gt && f.lt:
		return f, redisError("ERR GT and LT options at the same time are not compatible")
	}
	return f, nil
}

func checkExpire(cmd string) func([][]byte) error {
	return func(args [][]byte) error {
		if _, ok := parseInt(args[2]); !ok {
			return errNotInteger
		}
		_, err := parseExpireFlags(args)
		return err
	}
}

// execExpire implements EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT as Redis's
// expireGenericCommand: a time in the past deletes the key.
func execExpire(cmd string, unit byte, absolute bool) func(*keyspace, [][]byte) (any, error) {
	return func(ks *keyspace, args [][]byte) (any, error) {
		v, ok := parseInt(args[2])
		if !ok {
			return nil, errNotInteger
		}
		f, err := parseExpireFlags(args)
		if err != nil {
			return nil, err
		}
		invalid := redisError("ERR invalid expire time in '" + cmd + "' command")
		when := v
		if unit == 's' {
			if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
				return nil, invalid
			}
			when *= 1000
		}
		if !absolute {
			if (when > 0 && ks.now > math.MaxInt64-when) || (when < 0 && ks.now < math.MinInt64-when) {
				return nil, invalid
			}
			when += ks.now
		}
		rec, ok, err := ks.lookup(args[1])
		if err != nil || !ok {
			return int64(0), err
		}
		cur := rec.expireAt
		switch {
		case f.nx && cur != 0, f.xx && cur == 0:
			return int64(0), nil
		case f.gt && (cur == 0 || when <= cur):
			return int64(0), nil
		case f.lt && cur != 0 && when >= cur:
			return int64(0), nil
		}
		if when <= ks.now {
			return int64(1), ks.remove(args[1], rec)
		}
		return int64(1), ks.setExpire(args[1], rec, when)
	}
}

func execPersist(ks *keyspace, args [][]byte) (any, error) {
	rec, ok, err := ks.lookup(args[1])
	if err != nil || !ok || rec.expireAt == 0 {
		return int64(0), err
	}
	return int64(1), ks.setExpire(args[1], rec, 0)
}

func checkSwapdb(args [][]byte) error {
	for _, a := range args[1:] {
		n, ok := parseInt(a)
		if !ok {
			return redisError("ERR invalid first DB index")
		}
		if n < 0 || n >= Databases {
			return errDBIndex
		}
	}
	return nil
}

// execSwapdb swaps two databases' keys (records, expiry index entries and
// counts); elements stay under their generations.
func execSwapdb(ks *keyspace, args [][]byte) (any, error) {
	a, _ := parseInt(args[1])
	b, _ := parseInt(args[2])
	if a == b {
		return replyOK, nil
	}
	type entry struct {
		key []byte
		raw []byte
	}
	collect := func(db int) ([]entry, error) {
		var out []entry
		it, err := ks.r.NewIter(dataKey(db, nil), dataKey(db+1, nil))
		if err != nil {
			return nil, err
		}
		defer it.Close()
		for it.First(); it.Valid(); it.Next() {
			out = append(out, entry{bytes.Clone(it.Key()[2:]), bytes.Clone(it.Value())})
		}
		return out, it.Error()
	}
	ea, err := collect(int(a))
	if err != nil {
		return nil, err
	}
	eb, err := collect(int(b))
	if err != nil {
		return nil, err
	}
	na, err := ks.withDB(int(a)).size()
	if err != nil {
		return nil, err
	}
	nb, err := ks.withDB(int(b)).size()
	if err != nil {
		return nil, err
	}
	move := func(entries []entry, from, to int) error {
		for _, e := range entries {
			rec, err := decodeRecord(e.raw)
			if err != nil {
				return err
			}
			if rec.expireAt != 0 && rec.typ != typeTombstone {
				if err := ks.w.Delete(expiryKey(rec.expireAt, from, e.key)); err != nil {
					return err
				}
				if err := ks.w.Set(expiryKey(rec.expireAt, to, e.key), nil); err != nil {
					return err
				}
			}
			if rec.typ == typeTombstone {
				if err := ks.w.Delete(tombstoneKey(rec.version, from, e.key)); err != nil {
					return err
				}
				if err := ks.w.Set(tombstoneKey(rec.version, to, e.key), nil); err != nil {
					return err
				}
			}
			if err := ks.w.Set(dataKey(to, e.key), e.raw); err != nil {
				return err
			}
		}
		return nil
	}
	for _, db := range []int{int(a), int(b)} {
		if err := ks.w.DeleteRange(dataKey(db, nil), dataKey(db+1, nil)); err != nil {
			return nil, err
		}
	}
	if err := move(ea, int(a), int(b)); err != nil {
		return nil, err
	}
	if err := move(eb, int(b), int(a)); err != nil {
		return nil, err
	}
	if err := ks.w.Set(countKey(int(a)), beUint64(uint64(nb))); err != nil {
		return nil, err
	}
	if err := ks.w.Set(countKey(int(b)), beUint64(uint64(na))); err != nil {
		return nil, err
	}
	// Watchers of either database see the swap as a change.
	for _, db := range []int{int(a), int(b)} {
		if err := ks.w.Set(flushKey(db), beUint64(ks.version)); err != nil {
			return nil, err
		}
		ks.ready.noteDB(db) // clients blocked there may find data now
	}
	return replyOK, nil
}

func checkFlush(args [][]byte) error {
	switch {
	case len(args) == 1:
	case len(args) == 2 && (eqFold(args[1], "async") || eqFold(args[1], "sync")):
	default:
		return errSyntax
	}
	return nil
}

// execFlush implements FLUSHDB and FLUSHALL (all): every key, element and
// index entry of the databases goes.
func execFlush(all bool) func(*keyspace, [][]byte) (any, error) {
	return func(ks *keyspace, args [][]byte) (any, error) {
		dbs := []int{ks.db}
		if all {
			dbs = nil
			for db := range Databases {
				dbs = append(dbs, db)
			}
		}
		for _, db := range dbs {
			if err := ks.withDB(db).flush(); err != nil {
				return nil, err
			}
		}
		return replyOK, nil
	}
}

// flush empties the keyspace's database.
func (ks *keyspace) flush() error {
	it, err := ks.r.NewIter(dataKey(ks.db, nil), dataKey(ks.db+1, nil))
	if err != nil {
		return err
	}
	type doomed struct {
		key []byte
		rec record
	}
	var all []doomed
	for it.First(); it.Valid(); it.Next() {
		rec, err := decodeRecord(it.Value())
		if err != nil {
			it.Close()
			return err
		}
		all = append(all, doomed{bytes.Clone(it.Key()[2:]), rec})
	}
	if err := it.Close(); err != nil {
		return err
	}
	for _, d := range all {
		switch {
		case d.rec.typ == typeTombstone:
			if err := ks.w.Delete(tombstoneKey(d.rec.version, ks.db, d.key)); err != nil {
				return err
			}
			continue
		case d.rec.isCollection():
			if err := ks.w.DeleteRange(elemPrefix(d.rec.gen), elemPrefix(d.rec.gen+1)); err != nil {
				return err
			}
		}
		if d.rec.expireAt != 0 {
			if err := ks.w.Delete(expiryKey(d.rec.expireAt, ks.db, d.key)); err != nil {
				return err
			}
		}
	}
	if err := ks.w.DeleteRange(dataKey(ks.db, nil), dataKey(ks.db+1, nil)); err != nil {
		return err
	}
	if err := ks.w.Delete(countKey(ks.db)); err != nil {
		return err
	}
	// Every key of the database changed, for WATCH.
	return ks.w.Set(flushKey(ks.db), beUint64(ks.version))
}

func flushKey(db int) []byte { return []byte{'f', byte(db)} }

// checkScan validates a cursor at args[i-1] and, for SCAN (i == 2),
// the options from args[i] on. HSCAN, SSCAN and ZSCAN check their options
// only once the key is known to exist with the right type, as Redis does.
func checkScan(i int) func([][]byte) error {
	return func(args [][]byte) error {
		if _, ok := parseCursor(args[i-1]); !ok {
			return redisError("ERR invalid cursor")
		}
		if i > 2 {
			return nil
		}
		_, err := parseScanOptions(args, i, true)
		return err
	}
}

type scanOptions struct {
	match []byte
	count int64
	typ   string
}

// parseScanOptions parses MATCH, COUNT and (SCAN's only) TYPE.
func parseScanOptions(args [][]byte, i int, allowType bool) (scanOptions, error) {
	o := scanOptions{count: 10}
	for j := i; j < len(args); j++ {
		more := j+1 < len(args)
		switch {
		case eqFold(args[j], "match") && more:
			j++
			o.match = args[j]
		case eqFold(args[j], "count") && more:
			j++
			n, ok := parseInt(args[j])
			if !ok {
				return o, errNotInteger
			}
			if n < 1 {
				return o, errSyntax
			}
			o.count = n
		case allowType && eqFold(args[j], "type") && more:
			j++
			o.typ = strings.ToLower(string(args[j]))
		default:
			return o, errSyntax
		}
	}
	return o, nil
}

// parseCursor parses a SCAN cursor as Redis's strtoul-based
// parseScanCursorOrReply: the C string up to a NUL, empty for 0, a sign
// allowed ("-1" is 2^64-1: a cursor never handed out, which starts over).
func parseCursor(b []byte) (uint64, bool) {
	if k := bytes.IndexByte(b, 0); k >= 0 {
		b = b[:k]
	}
	if len(b) == 0 {
		return 0, true
	}
	neg := b[0] == '-'
	if b[0] == '+' || b[0] == '-' {
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' || v > (math.MaxUint64-uint64(c-'0'))/10 {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}
