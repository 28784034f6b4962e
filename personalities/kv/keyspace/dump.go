package keyspace

import (
	"bytes"

	"hourglass/personalities/kv/rdb"
)

// DUMP and RESTORE, in redis-server 7.0's serialization (package rdb):
// a payload DUMP writes here, redis-server RESTOREs, and the other way
// round. RESTORE is a write: its time to live counts from the entry's
// log time (unless ABSTTL). IDLETIME and FREQ set the key's access
// information (see access.go) as Redis sets them.

func init() {
	register(singleKey(&Command{Spec: Spec{Name: "dump", Arity: 2, Flags: []string{"readonly"}}, Kind: KindRead, exec: execDump}))
	register(singleKey(&Command{Spec: Spec{Name: "restore", Arity: -4, Flags: []string{"write", "denyoom"}}, Kind: KindWrite, check: checkRestore, exec: execRestore}))
	// RESTORE-ASKING is what a Redis Cluster node's MIGRATE sends: the
	// same RESTORE here, where no slot can be migrating.
	register(singleKey(&Command{Spec: Spec{Name: "restore-asking", Arity: -4, Flags: []string{"write", "denyoom", "asking"}}, Kind: KindWrite, check: checkRestore, exec: execRestore}))
}

// errDumpStream is the answer for a stream, which DUMP cannot serialize
// here.
var errDumpStream = Error("ERR DUMP of a stream is not supported by this server")

// DumpTTL returns what MIGRATE sends of key: its DUMP payload and its
// time to live in ms at the keyspace's time (0: none; at least 1 for a
// key with an expiry). ok is false if there is no such key.
func (ks *Keyspace) DumpTTL(key []byte) (payload []byte, ttl int64, ok bool, err error) {
	rec, ok, err := ks.lookup(key)
	if err != nil || !ok {
		return nil, 0, ok, err
	}
	if rec.typ == typeStream {
		return nil, 0, true, errDumpStream
	}
	v, err := ks.value(rec)
	if err != nil {
		return nil, 0, true, err
	}
	if rec.expireAt != 0 {
		ttl = max(rec.expireAt-ks.now, 1)
	}
	return rdb.Dump(v), ttl, true, nil
}

var (
	errBusyKey     = Error("BUSYKEY Target key name already exists.")
	errBadDump     = Error("ERR Bad data format")
	errDumpVersion = Error("ERR DUMP payload version or checksum are wrong")
)

func execDump(ks *Keyspace, args [][]byte) (any, error) {
	rec, ok, err := ks.lookup(args[1])
	if err != nil || !ok {
		return nil, err
	}
	v, err := ks.value(rec)
	if err != nil {
		return nil, err
	}
	return rdb.Dump(v), nil
}

// value reads the whole value of the live record rec.
func (ks *Keyspace) value(rec record) (*rdb.Value, error) {
	v := &rdb.Value{}
	var err error
	switch rec.typ {
	case typeString:
		v.Kind, v.Str = rdb.KindString, rec.payload
	case typeList:
		v.Kind = rdb.KindList
		v.Items, err = ks.listRange(rec, 0, rec.count)
	case typeSet, typeHash:
		v.Kind = rdb.KindSet
		if rec.typ == typeHash {
			v.Kind = rdb.KindHash
		}
		err = ks.scanElems(rec.gen, nil, nil, func(sub, val []byte) bool {
			v.Items = append(v.Items, bytes.Clone(sub))
			if rec.typ == typeHash {
				v.Items = append(v.Items, bytes.Clone(val))
			}
			return true
		})
	case typeZSet:
		v.Kind = rdb.KindZSet
		z := &zset{ks: ks, rec: rec, exists: true}
		err = z.walkAll(false, func(m []byte, s float64) bool {
			v.Items, v.Scores = append(v.Items, bytes.Clone(m)), append(v.Scores, s)
			return true
		})
	default:
		return nil, errCorrupt
	}
	return v, err
}

// restoreOptions are RESTORE's options after the payload.
type restoreOptions struct {
	replace, absTTL bool
	// idle (seconds) and freq, -1 if not given.
	idle, freq int64
}

// parseRestore parses RESTORE's options as Redis's restoreCommand does,
// with its errors: IDLETIME and FREQ exclude each other (the second is a
// syntax error).
func parseRestore(args [][]byte) (restoreOptions, error) {
	o := restoreOptions{idle: -1, freq: -1}
	idle, freq := false, false
	for j := 4; j < len(args); j++ {
		more := len(args) - j - 1
		switch a := args[j]; {
		case EqFold(a, "replace"):
			o.replace = true
		case EqFold(a, "absttl"):
			o.absTTL = true
		case EqFold(a, "idletime") && more >= 1 && !freq:
			v, ok := ParseInt(args[j+1])
			if !ok {
				return o, ErrNotInteger
			}
			if v < 0 {
				return o, Error("ERR Invalid IDLETIME value, must be >= 0")
			}
			idle, o.idle = true, v
			j++
		case EqFold(a, "freq") && more >= 1 && !idle:
			v, ok := ParseInt(args[j+1])
			if !ok {
				return o, ErrNotInteger
			}
			if v < 0 || v > 255 {
				return o, Error("ERR Invalid FREQ value, must be >= 0 and <= 255")
			}
			freq, o.freq = true, v
			j++
		default:
			return o, ErrSyntax
		}
	}
	return o, nil
}

func checkRestore(args [][]byte) error {
	_, err := parseRestore(args)
	return err
}

// execRestore implements RESTORE key ttl payload [REPLACE] [ABSTTL]
// [IDLETIME s] [FREQ f], checking in Redis's order: options, an existing
// key, the TTL, the footer, the value. A TTL already past answers OK and
// leaves no key (deleting the old one under REPLACE).
func execRestore(ks *Keyspace, args [][]byte) (any, error) {
	o, err := parseRestore(args)
	if err != nil {
		return nil, err
	}
	key := args[1]
	if !o.replace {
		if _, exists, err := ks.lookup(key); err != nil || exists {
			if err == nil {
				err = errBusyKey
			}
			return nil, err
		}
	}
	ttl, ok := ParseInt(args[2])
	if !ok {
		return nil, ErrNotInteger
	}
	if ttl < 0 {
		return nil, Error("ERR Invalid TTL value, must be >= 0")
	}
	if rdb.Verify(args[3]) != nil {
		return nil, errDumpVersion
	}
	v, err := rdb.Load(args[3])
	if err != nil {
		return nil, errBadDump
	}
	deleted := false
	if o.replace {
		old, exists, err := ks.lookup(key)
		if err != nil {
			return nil, err
		}
		if exists {
			if err := ks.remove(key, old); err != nil {
				return nil, err
			}
			deleted = true
		}
	}
	if ttl != 0 && !o.absTTL {
		ttl += ks.now
	}
	if ttl != 0 && ttl <= ks.now {
		if deleted {
			ks.notify(EventGeneric, "del", key)
		}
		return OK, nil
	}
	if err := ks.restoreValue(key, v, ttl); err != nil {
		return nil, err
	}
	if err := ks.restoreAccess(key, o); err != nil {
		return nil, err
	}
	ks.notify(EventGeneric, "restore", key)
	return OK, nil
}

// restoreAccess sets the access information RESTORE's IDLETIME or FREQ
// give, as Redis's objectSetLRUOrLFU: FREQ under an LFU policy, IDLETIME
// under any other.
func (ks *Keyspace) restoreAccess(key []byte, o restoreOptions) error {
	cfg, err := ks.evictionConfig()
	if err != nil || (cfg.LFU() && o.freq < 0) || (!cfg.LFU() && o.idle < 0) {
		return err
	}
	rec, ok, err := ks.raw(key)
	if err != nil || !ok {
		return err
	}
	if cfg.LFU() {
		rec.lfu = byte(o.freq)
	} else {
		rec.atime = ks.now - min(o.idle, ks.now/1000)*1000
	}
	return ks.w.Set(dataKey(ks.db, key), rec.encode())
}

// restoreValue creates key, absent, holding v, expiring at expireAt (0:
// never).
func (ks *Keyspace) restoreValue(key []byte, v *rdb.Value, expireAt int64) error {
	if v.Kind == rdb.KindString {
		return ks.putString(key, v.Str, expireAt)
	}
	if v.Kind == rdb.KindZSet {
		z := &zset{ks: ks, key: key}
		for i, m := range v.Items {
			if err := z.set(m, v.Scores[i], false, 0); err != nil {
				return err
			}
		}
		z.rec.expireAt = expireAt
		return ks.put(key, z.rec, false, record{})
	}
	typ := map[rdb.Kind]byte{rdb.KindList: typeList, rdb.KindSet: typeSet, rdb.KindHash: typeHash}[v.Kind]
	rec, err := ks.newCollection(typ)
	if err != nil {
		return err
	}
	switch v.Kind {
	case rdb.KindList:
		err = ks.listPush(&rec, false, v.Items...)
	case rdb.KindSet:
		for _, m := range v.Items {
			if err = ks.setElem(rec.gen, m, nil); err != nil {
				break
			}
		}
		rec.count = int64(len(v.Items))
	case rdb.KindHash:
		for i := 0; i+1 < len(v.Items) && err == nil; i += 2 {
			err = ks.setElem(rec.gen, v.Items[i], v.Items[i+1])
		}
		rec.count = int64(len(v.Items) / 2)
	}
	if err != nil {
		return err
	}
	rec.expireAt = expireAt
	return ks.put(key, rec, false, record{})
}
