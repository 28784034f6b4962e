package keyspace

import (
	"bytes"
	"encoding/binary"
	"slices"
)

// Eviction, as Redis's performEvictions decides it, at apply: before a
// command runs, while the used memory (see memory.go) is above
// maxmemory, keys go by the policy:
//
//   - allkeys-* draw from every key, volatile-* from the keys with an
//     expiry (the sampling indexes);
//   - *-random evicts one drawn key;
//   - *-lru and *-lfu draw maxmemory-samples keys (at most 64) into a pool of the 16
//     best candidates (longest idle; lowest LFU counter) and evict the
//     best, as Redis's eviction pool does;
//   - volatile-ttl evicts the key whose expiry is nearest, taken from
//     the front of the expiry index (exact, where Redis samples).
//
// The random draws come from the command's seed, the idle times from
// the log time: every replica evicts the same keys. When nothing may be
// evicted (noeviction, or no key the policy allows) a command flagged
// denyoom fails with OOM; one command evicts at most evictLimit keys and
// then runs anyway, the next ones going on (Redis's EVICT_RUNNING).

// ErrOOM is Redis's reply to a denyoom command it cannot make room for.
var ErrOOM = Error("OOM command not allowed when used memory > 'maxmemory'.")

// evictPool is EVPOOL_SIZE.
const evictPool = 16

// evictLimit is how many keys one command may evict, by
// maxmemory-eviction-tenacity (Redis bounds the time instead): 100
// means no bound.
func evictLimit(tenacity int64) int {
	if tenacity >= 100 {
		return 1 << 30
	}
	return 64 * int(tenacity+1)
}

type evictCandidate struct {
	score int64
	db    int
	key   []byte
}

// evict frees memory for the command about to run. It returns false
// when the used memory is above maxmemory and nothing more may go.
func (ks *Keyspace) evict() (bool, error) {
	cfg, err := ks.evictionConfig()
	if err != nil || cfg.MaxMemory == 0 {
		return true, err
	}
	used, err := ks.usedMemory()
	if err != nil || used <= cfg.MaxMemory {
		return true, err
	}
	if cfg.Policy == "noeviction" {
		return false, nil
	}
	var pool []evictCandidate
	for n := 0; used > cfg.MaxMemory; n++ {
		if n == evictLimit(cfg.Tenacity) {
			return true, nil
		}
		c, ok, err := ks.evictVictim(cfg, &pool)
		if err != nil || !ok {
			return false, err
		}
		kd := ks.withDB(c.db)
		rec, live, err := kd.raw(c.key)
		if err != nil {
			return false, err
		}
		if live && rec.typ != typeTombstone {
			if err := kd.remove(c.key, rec); err != nil {
				return false, err
			}
			kd.notify(EventEvicted, "evicted", c.key)
			if ks.fx != nil {
				ks.fx.Evicted++
			}
		}
		if used, err = ks.usedMemory(); err != nil {
			return false, err
		}
	}
	return true, nil
}

// evictVictim returns the next key to evict by cfg's policy; false if
// there is none.
func (ks *Keyspace) evictVictim(cfg *EvictionConfig, pool *[]evictCandidate) (evictCandidate, bool, error) {
	index := byte(prefixSample)
	if bytes.HasPrefix([]byte(cfg.Policy), []byte("volatile-")) {
		index = prefixVolatile
	}
	switch {
	case cfg.Policy == "volatile-ttl":
		return ks.nearestExpiry()
	case cfg.LRU() || cfg.LFU():
		for range min(max(cfg.Samples, 1), 64) {
			c, ok, err := ks.sampleKey(index)
			if err != nil || !ok {
				return c, ok, err
			}
			rec, live, err := ks.withDB(c.db).raw(c.key)
			if err != nil {
				return c, false, err
			}
			if !live || rec.typ == typeTombstone {
				continue
			}
			if cfg.LFU() {
				c.score = 255 - int64(ks.lfuCounter(rec, cfg))
			} else {
				c.score = ks.idleMillis(rec)
			}
			*pool = addCandidate(*pool, c)
		}
		if len(*pool) == 0 {
			return evictCandidate{}, false, nil
		}
		best := (*pool)[len(*pool)-1]
		*pool = (*pool)[:len(*pool)-1]
		return best, true, nil
	}
	return ks.sampleKey(index)
}

// addCandidate inserts c into pool, kept in ascending score order (ties
// in arrival order) and at most evictPool long, dropping the worst.
func addCandidate(pool []evictCandidate, c evictCandidate) []evictCandidate {
	for _, p := range pool {
		if p.db == c.db && bytes.Equal(p.key, c.key) {
			return pool
		}
	}
	i, _ := slices.BinarySearchFunc(pool, c.score, func(p evictCandidate, s int64) int {
		if p.score <= s {
			return -1
		}
		return 1
	})
	pool = slices.Insert(pool, i, c)
	if len(pool) > evictPool {
		pool = pool[1:]
	}
	return pool
}

// sampleKey draws a key at random from the sampling index (prefix p).
func (ks *Keyspace) sampleKey(p byte) (evictCandidate, bool, error) {
	it, err := ks.r.NewIter([]byte{p}, []byte{p + 1})
	if err != nil {
		return evictCandidate{}, false, err
	}
	defer it.Close()
	seek := binary.BigEndian.AppendUint64([]byte{p}, ks.rand().Uint64())
	if !it.SeekGE(seek) && !it.First() {
		return evictCandidate{}, false, it.Error()
	}
	k := it.Key()
	if len(k) < 10 {
		return evictCandidate{}, false, errCorrupt
	}
	return evictCandidate{db: int(k[9]), key: bytes.Clone(k[10:])}, true, nil
}

// nearestExpiry returns the live key whose expiry is nearest.
func (ks *Keyspace) nearestExpiry() (evictCandidate, bool, error) {
	it, err := ks.r.NewIter([]byte{prefixExpiry}, []byte{prefixExpiry + 1})
	if err != nil {
		return evictCandidate{}, false, err
	}
	defer it.Close()
	if !it.First() {
		return evictCandidate{}, false, it.Error()
	}
	k := it.Key()
	if len(k) < 10 {
		return evictCandidate{}, false, errCorrupt
	}
	return evictCandidate{db: int(k[9]), key: bytes.Clone(k[10:])}, true, nil
}
