package keyspace

import (
	"bytes"
	"encoding/binary"
	"hash/fnv"

	"hourglass/platform"
)

// Memory accounting. The memory maxmemory bounds is not the process's
// heap, which differs between replicas, but a figure every replica
// computes alike at apply: the estimated in-memory size of the keys,
// kept under usedKey and changed by every write of a record or an
// element through the apply writer (memoWriter), which reads what it
// replaces to know the difference. The estimate of one stored entry is
// entrySize; MEMORY USAGE adds up the same figures for one key.
//
// The same writer keeps two sampling indexes, so that eviction can draw
// keys at random without walking the keyspace:
//
//	'r' hash(8) db key -> empty: every live key, in hash order
//	'v' hash(8) db key -> empty: the live keys with an expiry
//
// with hash the FNV-1a of db and key, mixed. A random 8-byte position and a
// seek give a key with (nearly) uniform probability.
const (
	prefixSample   = 'r'
	prefixVolatile = 'v'
)

// usedKey holds the used memory, 8 bytes big endian.
var usedKey = []byte{'m'}

// Per-entry overheads of the estimate: what Redis spends beside the
// bytes of a key and its value (a dict entry, an object header, sds
// headers), and beside an element's bytes in a collection.
const (
	KeyOverhead  = 24
	elemOverhead = 8
	// streamOverhead is a stream's radix tree and the listpack Redis
	// allocates whole for its first node (stream-node-max-bytes).
	streamOverhead = 4096
)

// entrySize is the estimated memory of one stored entry k -> v: a live
// record (not a tombstone) or an element; 0 for anything else.
func entrySize(k, v []byte) int64 {
	switch {
	case len(k) == 0:
		return 0
	case k[0] == prefixKey:
		if len(v) == 0 || v[0] == typeTombstone {
			return 0
		}
		n := int64(len(k)+len(v)) + KeyOverhead
		if v[0] == typeStream {
			n += streamOverhead
		}
		return n
	case k[0] == prefixElem:
		return int64(len(k)+len(v)) + elemOverhead
	}
	return 0
}

// accounting is the change of used memory the writes of one apply made,
// not yet stored under usedKey.
type accounting struct {
	r     platform.Reader
	delta int64
}

// sampleKey returns the sampling index entry (prefix p) of the data key
// dk ('k' db key).
func sampleKey(p byte, dk []byte) []byte {
	h := fnv.New64a()
	h.Write(dk[1:])
	x := h.Sum64() // FNV leaves similar keys close: mix as murmur3's fmix64
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	k := make([]byte, 0, 9+len(dk)-1)
	k = append(k, p)
	k = binary.BigEndian.AppendUint64(k, x)
	return append(k, dk[1:]...)
}

// liveness says whether a stored record is a live key and whether it
// has an expiry.
func liveness(v []byte, ok bool) (live, volatile bool) {
	if !ok || len(v) < recordHead || v[0] == typeTombstone {
		return false, false
	}
	return true, binary.BigEndian.Uint64(v[1:]) != 0
}

// replaced accounts for the entry k going from old (if ok) to v (if
// set), and keeps the sampling indexes of a data key.
func (a *accounting) replaced(w platform.Writer, k, old []byte, ok bool, v []byte, set bool) error {
	if ok {
		a.delta -= entrySize(k, old)
	}
	if set {
		a.delta += entrySize(k, v)
	}
	if len(k) == 0 || k[0] != prefixKey {
		return nil
	}
	wasLive, wasVolatile := liveness(old, ok)
	isLive, isVolatile := liveness(v, set)
	for _, ix := range []struct {
		p         byte
		was, want bool
	}{{prefixSample, wasLive, isLive}, {prefixVolatile, wasVolatile, isVolatile}} {
		switch {
		case ix.want && !ix.was:
			if err := w.Set(sampleKey(ix.p, k), nil); err != nil {
				return err
			}
		case ix.was && !ix.want:
			if err := w.Delete(sampleKey(ix.p, k)); err != nil {
				return err
			}
		}
	}
	return nil
}

// tracked reports whether writes of k change the accounting.
func tracked(k []byte) bool {
	return len(k) > 0 && (k[0] == prefixKey || k[0] == prefixElem)
}

// memoWriter is the apply writer: it forgets the keyspace's rawMemo on
// every write, and keeps the memory accounting (if acct is set).
type memoWriter struct {
	platform.Writer
	memo *rawMemo
	acct *accounting
}

func (w memoWriter) Set(key, value []byte) error {
	if err := w.account(key, value, true); err != nil {
		return err
	}
	return w.Writer.Set(key, value)
}

func (w memoWriter) Delete(key []byte) error {
	if err := w.account(key, nil, false); err != nil {
		return err
	}
	return w.Writer.Delete(key)
}

// account notes that key is about to be set to value (or deleted).
func (w memoWriter) account(key, value []byte, set bool) error {
	w.memo.valid = false
	if w.acct == nil || !tracked(key) {
		return nil
	}
	old, ok, err := w.acct.r.Get(key)
	if err != nil {
		return err
	}
	return w.acct.replaced(w.Writer, key, old, ok, value, set)
}

func (w memoWriter) DeleteRange(start, end []byte) error {
	w.memo.valid = false
	if w.acct != nil && tracked(start) {
		type gone struct{ k, v []byte }
		var keys []gone
		it, err := w.acct.r.NewIter(start, end)
		if err != nil {
			return err
		}
		for it.First(); it.Valid(); it.Next() {
			if start[0] == prefixKey {
				keys = append(keys, gone{bytes.Clone(it.Key()), bytes.Clone(it.Value())})
			} else {
				w.acct.delta -= entrySize(it.Key(), it.Value())
			}
		}
		if err := it.Close(); err != nil {
			return err
		}
		for _, g := range keys {
			if err := w.acct.replaced(w.Writer, g.k, g.v, true, nil, false); err != nil {
				return err
			}
		}
	}
	return w.Writer.DeleteRange(start, end)
}

// usedMemory returns the used memory as of the applied state plus the
// writes of this apply not yet stored.
func (ks *Keyspace) usedMemory() (int64, error) {
	n, err := UsedMemory(ks.r)
	if m, ok := ks.w.(memoWriter); ok && m.acct != nil {
		n += m.acct.delta
	}
	return n, err
}

// UsedMemory returns the used memory of the applied state r: the
// estimated size of every key, as INFO's used_memory reports it.
func UsedMemory(r platform.Reader) (int64, error) {
	b, ok, err := r.Get(usedKey)
	if err != nil || !ok {
		return 0, err
	}
	if len(b) != 8 {
		return 0, errCorrupt
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

// storeAccounting adds the pending change of used memory to usedKey.
func (fx *Effects) storeAccounting(w platform.Writer) error {
	a := &fx.acct
	if a.delta == 0 {
		return nil
	}
	n, err := UsedMemory(a.r)
	if err != nil {
		return err
	}
	a.delta, n = 0, n+a.delta
	return w.Set(usedKey, binary.BigEndian.AppendUint64(nil, uint64(n)))
}
