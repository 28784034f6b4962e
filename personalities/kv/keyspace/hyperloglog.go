package keyspace

import "hourglass/personalities/kv/hyperloglog"

// HyperLogLogs are strings in Redis's HLL format (package hyperloglog),
// so a value read with GET here and written with SET to a redis-server
// (or the other way) counts the same.
// PFCOUNT on one key stores the cardinality it computes in the value's
// header, as Redis does: it is a write here, run at apply, so every
// replica caches the same count and a later GET returns Redis's bytes.
// (Redis counts it a read that may replicate: read-only scripts may not
// call it, here either.)

func init() {
	register(&Command{Spec: Spec{Name: "pfadd", Arity: -2, FirstKey: 1, LastKey: 1, Step: 1, Flags: []string{"write", "denyoom", "fast"}}, Kind: KindWrite, exec: execPfadd})
	register(&Command{Spec: Spec{Name: "pfcount", Arity: -2, FirstKey: 1, LastKey: -1, Step: 1, Flags: []string{"readonly"}}, Kind: KindWrite, exec: execPfcount})
	register(&Command{Spec: Spec{Name: "pfmerge", Arity: -2, FirstKey: 1, LastKey: -1, Step: 1, Flags: []string{"write", "denyoom"}}, Kind: KindWrite, exec: execPfmerge})
	register(&Command{Spec: Spec{Name: "pfdebug", Arity: 3, FirstKey: 2, LastKey: 2, Step: 1, Flags: []string{"write", "denyoom", "admin"}}, Kind: KindWrite, exec: execPfdebug})
	register(&Command{Spec: Spec{Name: "pfselftest", Arity: 1, Flags: []string{"admin"}}, Kind: KindRead, exec: execPfselftest})
}

const (
	errNotHLL     = Error("WRONGTYPE Key is not a valid HyperLogLog string value.")
	errCorruptHLL = Error("INVALIDOBJ Corrupted HLL object detected")
)

// lookupHLL returns key's record if it holds a valid HyperLogLog, ok
// false if it does not exist, and Redis's error for another type or a
// string that is no HyperLogLog.
func (ks *Keyspace) lookupHLL(key []byte) (record, bool, error) {
	rec, ok, err := ks.lookupString(key)
	if err != nil || !ok {
		return rec, ok, err
	}
	if !hyperloglog.Valid(rec.payload) {
		return rec, true, errNotHLL
	}
	return rec, true, nil
}

// execPfadd adds the elements to key's HyperLogLog, creating it. On a
// corrupt value the elements added before the corruption was met stay,
// without invalidating the cache, as in Redis.
func execPfadd(ks *Keyspace, args [][]byte) (any, error) {
	rec, exists, err := ks.lookupHLL(args[1])
	if err != nil {
		return nil, err
	}
	v := rec.payload
	updated := !exists
	if !exists {
		v = hyperloglog.New()
	}
	for _, ele := range args[2:] {
		var changed bool
		if v, changed, err = hyperloglog.Add(v, ele); err != nil {
			if updated {
				rec.payload = v
				if err := ks.update(args[1], rec); err != nil {
					return nil, err
				}
			}
			return nil, errCorruptHLL
		}
		updated = updated || changed
	}
	if !updated {
		return int64(0), nil
	}
	hyperloglog.Invalidate(v)
	if !exists {
		return int64(1), ks.putString(args[1], v, 0)
	}
	rec.payload = v
	return int64(1), ks.update(args[1], rec)
}

// execPfcount answers the cardinality of one HyperLogLog, from its cache
// or computed and cached, or of the union of several, changing none.
func execPfcount(ks *Keyspace, args [][]byte) (any, error) {
	if len(args) > 2 {
		var u hyperloglog.Union
		for _, key := range args[1:] {
			rec, ok, err := ks.lookupHLL(key)
			if err != nil {
				return nil, err
			}
			if ok && u.Merge(rec.payload) != nil {
				return nil, errCorruptHLL
			}
		}
		return int64(u.Count()), nil
	}
	rec, ok, err := ks.lookupHLL(args[1])
	if err != nil || !ok {
		return int64(0), err
	}
	if card, valid := hyperloglog.Cached(rec.payload); valid {
		return int64(card), nil
	}
	card, err := hyperloglog.Count(rec.payload)
	if err != nil {
		return nil, errCorruptHLL
	}
	hyperloglog.SetCached(rec.payload, card)
	return int64(card), ks.update(args[1], rec)
}

// execPfmerge stores the union of the sources and the destination (args
// 1 on) in the destination, keeping its time to live.
func execPfmerge(ks *Keyspace, args [][]byte) (any, error) {
	var u hyperloglog.Union
	dense := false
	for _, key := range args[1:] {
		rec, ok, err := ks.lookupHLL(key)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		dense = dense || !hyperloglog.IsSparse(rec.payload)
		if u.Merge(rec.payload) != nil {
			return nil, errCorruptHLL
		}
	}
	rec, exists, err := ks.lookupHLL(args[1])
	if err != nil {
		return nil, err
	}
	v := rec.payload
	if !exists {
		v = hyperloglog.New()
	}
	if dense {
		if v, err = hyperloglog.ToDense(v); err != nil {
			return nil, errCorruptHLL
		}
	}
	v = u.Store(v)
	if !exists {
		return OK, ks.putString(args[1], v, 0)
	}
	rec.payload = v
	return OK, ks.update(args[1], rec)
}

// execPfdebug implements PFDEBUG GETREG, DECODE, ENCODING and TODENSE;
// GETREG and TODENSE turn a sparse value dense and store it, keeping
// the record's version as Redis keeps the key unsignalled.
func execPfdebug(ks *Keyspace, args [][]byte) (any, error) {
	key := args[2]
	rec, ok, err := ks.lookupHLL(key)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, Error("ERR The specified key does not exist")
	}
	v := rec.payload
	toDense := func() (bool, error) {
		if !hyperloglog.IsSparse(v) {
			return false, nil
		}
		d, err := hyperloglog.ToDense(v)
		if err != nil {
			return false, errCorruptHLL
		}
		rec.payload, v = d, d
		// Redis re-encodes without signalling the key: a WATCH holds.
		return true, ks.w.Set(dataKey(ks.db, key), rec.encode())
	}
	switch sub := args[1]; {
	case EqFold(sub, "getreg"):
		if _, err := toDense(); err != nil {
			return nil, err
		}
		regs := hyperloglog.RegistersOf(v)
		out := make([]any, len(regs))
		for i, r := range regs {
			out[i] = int64(r)
		}
		return out, nil
	case EqFold(sub, "decode"):
		if !hyperloglog.IsSparse(v) {
			return nil, Error("ERR HLL encoding is not sparse")
		}
		text, err := hyperloglog.Decode(v)
		if err != nil {
			return nil, errCorruptHLL
		}
		return text, nil
	case EqFold(sub, "encoding"):
		if hyperloglog.IsSparse(v) {
			return SimpleString("sparse"), nil
		}
		return SimpleString("dense"), nil
	case EqFold(sub, "todense"):
		conv, err := toDense()
		if err != nil {
			return nil, err
		}
		if conv {
			return int64(1), nil
		}
		return int64(0), nil
	default:
		return nil, Errorf("ERR Unknown PFDEBUG subcommand '%s'", sub)
	}
}

// execPfselftest runs the HyperLogLog self test on the view's random
// source; it reads and changes no data.
func execPfselftest(ks *Keyspace, _ [][]byte) (any, error) {
	rng := ks.rand()
	if err := hyperloglog.SelfTest(func() uint32 { return rng.Uint32() >> 1 }); err != nil {
		return nil, Error(err.Error())
	}
	return OK, nil
}
