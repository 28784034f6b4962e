package keyspace

import (
	"bytes"
	"math"

	"hourglass/personalities/kv/glob"
)

func init() {
	ro := []string{"readonly", "fast"}
	register(&Command{Spec: Spec{Name: "exists", Arity: -2, FirstKey: 1, LastKey: -1, Step: 1, Flags: ro}, Kind: KindRead, exec: execExists})
	register(&Command{Spec: Spec{Name: "touch", Arity: -2, FirstKey: 1, LastKey: -1, Step: 1, Flags: ro}, Kind: KindRead, exec: execExists})
	register(&Command{Spec: Spec{Name: "type", Arity: 2, FirstKey: 1, LastKey: 1, Step: 1, Flags: ro}, Kind: KindRead, exec: execType})
	register(&Command{Spec: Spec{Name: "dbsize", Arity: 1, Flags: ro}, Kind: KindRead, exec: execDbsize})
	register(&Command{Spec: Spec{Name: "ttl", Arity: 2, FirstKey: 1, LastKey: 1, Step: 1, Flags: ro}, Kind: KindRead, exec: execTTL(1000, false)})
	register(&Command{Spec: Spec{Name: "pttl", Arity: 2, FirstKey: 1, LastKey: 1, Step: 1, Flags: ro}, Kind: KindRead, exec: execTTL(1, false)})
	register(&Command{Spec: Spec{Name: "expiretime", Arity: 2, FirstKey: 1, LastKey: 1, Step: 1, Flags: ro}, Kind: KindRead, exec: execTTL(1000, true)})
	register(&Command{Spec: Spec{Name: "pexpiretime", Arity: 2, FirstKey: 1, LastKey: 1, Step: 1, Flags: ro}, Kind: KindRead, exec: execTTL(1, true)})
	register(&Command{Spec: Spec{Name: "keys", Arity: 2, Flags: []string{"readonly"}}, Kind: KindRead, exec: execKeys})
	register(&Command{Spec: Spec{Name: "randomkey", Arity: 1, Flags: []string{"readonly"}}, Kind: KindRead, exec: execRandomkey})

	wr := []string{"write"}
	register(&Command{Spec: Spec{Name: "del", Arity: -2, FirstKey: 1, LastKey: -1, Step: 1, Flags: wr}, Kind: KindWrite, exec: execDel})
	register(&Command{Spec: Spec{Name: "unlink", Arity: -2, FirstKey: 1, LastKey: -1, Step: 1, Flags: append(wr, "fast")}, Kind: KindWrite, exec: execDel})
	register(&Command{Spec: Spec{Name: "rename", Arity: 3, FirstKey: 1, LastKey: 2, Step: 1, Flags: wr}, Kind: KindWrite, exec: execRename(false)})
	register(&Command{Spec: Spec{Name: "renamenx", Arity: 3, FirstKey: 1, LastKey: 2, Step: 1, Flags: append(wr, "fast")}, Kind: KindWrite, exec: execRename(true)})
	register(&Command{Spec: Spec{Name: "copy", Arity: -3, FirstKey: 1, LastKey: 2, Step: 1, Flags: wr}, Kind: KindWrite, check: checkCopy, exec: execCopy})
	register(&Command{Spec: Spec{Name: "move", Arity: 3, FirstKey: 1, LastKey: 1, Step: 1, Flags: append(wr, "fast")}, Kind: KindWrite, check: checkDBArg(2), exec: execMove})
	register(&Command{Spec: Spec{Name: "expire", Arity: -3, FirstKey: 1, LastKey: 1, Step: 1, Flags: append(wr, "fast")}, Kind: KindWrite, check: checkExpire("expire"), exec: execExpire("expire", 's', false)})
	register(&Command{Spec: Spec{Name: "pexpire", Arity: -3, FirstKey: 1, LastKey: 1, Step: 1, Flags: append(wr, "fast")}, Kind: KindWrite, check: checkExpire("pexpire"), exec: execExpire("pexpire", 'm', false)})
	register(&Command{Spec: Spec{Name: "expireat", Arity: -3, FirstKey: 1, LastKey: 1, Step: 1, Flags: append(wr, "fast")}, Kind: KindWrite, check: checkExpire("expireat"), exec: execExpire("expireat", 's', true)})
	register(&Command{Spec: Spec{Name: "pexpireat", Arity: -3, FirstKey: 1, LastKey: 1, Step: 1, Flags: append(wr, "fast")}, Kind: KindWrite, check: checkExpire("pexpireat"), exec: execExpire("pexpireat", 'm', true)})
	register(&Command{Spec: Spec{Name: "persist", Arity: 2, FirstKey: 1, LastKey: 1, Step: 1, Flags: append(wr, "fast")}, Kind: KindWrite, exec: execPersist})
	register(&Command{Spec: Spec{Name: "swapdb", Arity: 3, Flags: append(wr, "fast")}, Kind: KindWrite, check: checkSwapdb, exec: execSwapdb})
	register(&Command{Spec: Spec{Name: "flushdb", Arity: -1, Flags: wr}, Kind: KindWrite, check: checkFlush, exec: execFlush(false)})
	register(&Command{Spec: Spec{Name: "flushall", Arity: -1, Flags: wr}, Kind: KindWrite, check: checkFlush, exec: execFlush(true)})
}

func execExists(ks *Keyspace, args [][]byte) (any, error) {
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

func execType(ks *Keyspace, args [][]byte) (any, error) {
	rec, ok, err := ks.lookup(args[1])
	if err != nil {
		return nil, err
	}
	if !ok {
		return SimpleString("none"), nil
	}
	return SimpleString(typeName(rec.typ)), nil
}

func execDbsize(ks *Keyspace, args [][]byte) (any, error) {
	n, err := ks.size()
	return n, err
}

// execTTL implements TTL, PTTL (unit 1000, 1) and EXPIRETIME, PEXPIRETIME
// (absolute): -2 for a missing key, -1 for a key without expiry, else the
// time left (rounded as Redis rounds it) or the expiry time.
func execTTL(unit int64, absolute bool) func(*Keyspace, [][]byte) (any, error) {
	return func(ks *Keyspace, args [][]byte) (any, error) {
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

func execDel(ks *Keyspace, args [][]byte) (any, error) {
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
			ks.notify(EventGeneric, "del", k)
			n++
		}
	}
	return n, nil
}

// eachKey calls f for every live key of the keyspace's database, in key
// order, until f returns false.
func (ks *Keyspace) eachKey(from []byte, f func(key []byte, rec record) bool) error {
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

func execKeys(ks *Keyspace, args [][]byte) (any, error) {
	pattern := args[1]
	out := []any{}
	err := ks.eachKey(nil, func(key []byte, _ record) bool {
		if glob.Match(pattern, key) {
			out = append(out, bytes.Clone(key))
		}
		return true
	})
	return out, err
}

func execRandomkey(ks *Keyspace, args [][]byte) (any, error) {
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
func execRename(nx bool) func(*Keyspace, [][]byte) (any, error) {
	return func(ks *Keyspace, args [][]byte) (any, error) {
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
			return OK, nil
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
		ks.notify(EventGeneric, "rename_from", src)
		ks.notify(EventGeneric, "rename_to", dst)
		if nx {
			return int64(1), nil
		}
		return OK, nil
	}
}

// detach deletes key's record like remove, but leaves the collection's
// elements for the record's new owner.
func (ks *Keyspace) detach(key []byte, rec record) error {
	moved := rec
	moved.typ = typeString // nothing to drop
	if rec.typ == typeStream {
		ks.fx.noteReady(ks.db, key, rec.typ) // its blocked XREADGROUPs fail
	}
	return ks.remove(key, moved)
}

func checkDBArg(i int) func([][]byte) error {
	return func(args [][]byte) error {
		n, ok := ParseInt(args[i])
		if !ok {
			return ErrNotInteger
		}
		if n < 0 || n >= Databases {
			return ErrDBIndex
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
		case EqFold(args[j], "replace"):
			replace = true
		case EqFold(args[j], "db") && j+1 < len(args):
			j++
			n, ok := ParseInt(args[j])
			if !ok {
				return 0, false, ErrNotInteger
			}
			if n < 0 || n >= Databases {
				return 0, false, ErrDBIndex
			}
			db = int(n)
		default:
			return 0, false, ErrSyntax
		}
	}
	return db, replace, nil
}

func execCopy(ks *Keyspace, args [][]byte) (any, error) {
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
		return nil, Error("ERR source and destination objects are the same")
	}
	rec, ok, err := ks.lookup(src)
	if err != nil || !ok {
		ks.missed(src)
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
	if err := dks.put(dst, cp, false, record{}); err != nil {
		return nil, err
	}
	dks.notify(EventGeneric, "copy_to", dst)
	return int64(1), nil
}

func execMove(ks *Keyspace, args [][]byte) (any, error) {
	n, _ := ParseInt(args[2])
	if int(n) == ks.db {
		return nil, Error("ERR source and destination objects are the same")
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
	if err := dks.put(args[1], rec, false, record{}); err != nil {
		return nil, err
	}
	ks.notify(EventGeneric, "move_from", args[1])
	dks.notify(EventGeneric, "move_to", args[1])
	return int64(1), nil
}

// expireFlags are EXPIRE's NX/XX/GT/LT.
type expireFlags struct{ nx, xx, gt, lt bool }

func parseExpireFlags(args [][]byte) (expireFlags, error) {
	var f expireFlags
	for _, a := range args[3:] {
		switch {
		case EqFold(a, "nx"):
			f.nx = true
		case EqFold(a, "xx"):
			f.xx = true
		case EqFold(a, "gt"):
			f.gt = true
		case EqFold(a, "lt"):
			f.lt = true
		default:
			return f, Errorf("ERR Unsupported option %s", a)
		}
	}
	switch {
	case f.nx && (f.xx || f.gt || f.lt):
		return f, Error("ERR NX and XX, GT or LT options at the same time are not compatible")
	case f.gt && f.lt:
		return f, Error("ERR GT and LT options at the same time are not compatible")
	}
	return f, nil
}

func checkExpire(cmd string) func([][]byte) error {
	return func(args [][]byte) error {
		if _, ok := ParseInt(args[2]); !ok {
			return ErrNotInteger
		}
		_, err := parseExpireFlags(args)
		return err
	}
}

// execExpire implements EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT as Redis's
// expireGenericCommand: a time in the past deletes the key.
func execExpire(cmd string, unit byte, absolute bool) func(*Keyspace, [][]byte) (any, error) {
	return func(ks *Keyspace, args [][]byte) (any, error) {
		v, ok := ParseInt(args[2])
		if !ok {
			return nil, ErrNotInteger
		}
		f, err := parseExpireFlags(args)
		if err != nil {
			return nil, err
		}
		invalid := Error("ERR invalid expire time in '" + cmd + "' command")
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
		event := "expire"
		if when <= ks.now {
			err, event = ks.remove(args[1], rec), "del"
		} else {
			err = ks.setExpire(args[1], rec, when)
		}
		if err != nil {
			return nil, err
		}
		ks.notify(EventGeneric, event, args[1])
		return int64(1), nil
	}
}

func execPersist(ks *Keyspace, args [][]byte) (any, error) {
	rec, ok, err := ks.lookup(args[1])
	if err != nil || !ok || rec.expireAt == 0 {
		return int64(0), err
	}
	if err := ks.setExpire(args[1], rec, 0); err != nil {
		return nil, err
	}
	ks.notify(EventGeneric, "persist", args[1])
	return int64(1), nil
}

func checkSwapdb(args [][]byte) error {
	for _, a := range args[1:] {
		n, ok := ParseInt(a)
		if !ok {
			return Error("ERR invalid first DB index")
		}
		if n < 0 || n >= Databases {
			return ErrDBIndex
		}
	}
	return nil
}

// execSwapdb swaps two databases' keys (records, expiry index entries and
// counts); elements stay under their generations.
func execSwapdb(ks *Keyspace, args [][]byte) (any, error) {
	a, _ := ParseInt(args[1])
	b, _ := ParseInt(args[2])
	if a == b {
		return OK, nil
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
		ks.fx.noteReadyDB(db) // clients blocked there may find data now
	}
	return OK, nil
}

func checkFlush(args [][]byte) error {
	switch {
	case len(args) == 1:
	case len(args) == 2 && (EqFold(args[1], "async") || EqFold(args[1], "sync")):
	default:
		return ErrSyntax
	}
	return nil
}

// execFlush implements FLUSHDB and FLUSHALL (all): every key, element and
// index entry of the databases goes.
func execFlush(all bool) func(*Keyspace, [][]byte) (any, error) {
	return func(ks *Keyspace, args [][]byte) (any, error) {
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
		ks.fx.noteFlushed() // one null invalidation, as Redis sends
		return OK, nil
	}
}

// flush empties the keyspace's database.
func (ks *Keyspace) flush() error {
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
	// Every key of the database changed, for WATCH, and for the blocked
	// XREADGROUPs, which fail.
	ks.fx.noteReadyDB(ks.db)
	return ks.w.Set(flushKey(ks.db), beUint64(ks.version))
}

func flushKey(db int) []byte { return []byte{'f', byte(db)} }
