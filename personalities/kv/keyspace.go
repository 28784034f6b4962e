package kv

import (
	"encoding/binary"
	"errors"

	"hourglass/platform"
)

// LocalStore layout, under the router's "p/kv/" prefix:
//
//	'k' db key -> record: type(1) expireAt(8, ms since epoch, 0 = none) payload
//	'n' db     -> number of keys in db (8 bytes), for DBSIZE
const (
	typeString = 's'
	recordHead = 9
)

func dataKey(db int, key []byte) []byte {
	k := make([]byte, 0, 2+len(key))
	return append(append(k, 'k', byte(db)), key...)
}

func countKey(db int) []byte { return []byte{'n', byte(db)} }

type record struct {
	typ      byte
	expireAt int64 // ms since the epoch; 0: no expiry
	payload  []byte
}

func (r record) encode() []byte {
	b := make([]byte, recordHead, recordHead+len(r.payload))
	b[0] = r.typ
	binary.BigEndian.PutUint64(b[1:], uint64(r.expireAt))
	return append(b, r.payload...)
}

var errCorrupt = errors.New("kv: corrupt record")

func decodeRecord(b []byte) (record, error) {
	if len(b) < recordHead {
		return record{}, errCorrupt
	}
	return record{typ: b[0], expireAt: int64(binary.BigEndian.Uint64(b[1:])), payload: b[recordHead:]}, nil
}

// expired reports whether r is past its expiry at now. Like Redis, a key
// is still alive at exactly its expiry time.
func (r record) expired(now int64) bool { return r.expireAt != 0 && now > r.expireAt }

// keyspace is one database as a command sees it: a read view (for reads)
// or the apply transaction (for writes), at a point in time.
type keyspace struct {
	r   platform.Reader
	w   platform.Writer // nil for reads
	db  int
	now int64 // ms since the epoch: the log time at apply, the clock for reads
}

// lookup returns the live record of key. In a write, an expired record
// is deleted on the way (lazy expiry, deterministic because now is the log
// time).
func (ks *keyspace) lookup(key []byte) (record, bool, error) {
	raw, ok, err := ks.r.Get(dataKey(ks.db, key))
	if err != nil || !ok {
		return record{}, false, err
	}
	rec, err := decodeRecord(raw)
	if err != nil {
		return record{}, false, err
	}
	if rec.expired(ks.now) {
		if ks.w != nil {
			if err := ks.remove(key); err != nil {
				return record{}, false, err
			}
		}
		return record{}, false, nil
	}
	return rec, true, nil
}

// lookupString returns the string value of key, or errWrongType.
func (ks *keyspace) lookupString(key []byte) (record, bool, error) {
	rec, ok, err := ks.lookup(key)
	if err == nil && ok && rec.typ != typeString {
		return rec, true, errWrongType
	}
	return rec, ok, err
}

// put stores rec at key. stored says whether a record (live or not) is
// stored at key already, as the caller's lookup found; a new key is
// counted.
func (ks *keyspace) put(key []byte, rec record, stored bool) error {
	if !stored {
		if err := ks.addCount(1); err != nil {
			return err
		}
	}
	return ks.w.Set(dataKey(ks.db, key), rec.encode())
}

// putBlind stores rec at key without a prior lookup.
func (ks *keyspace) putBlind(key []byte, rec record) error {
	_, stored, err := ks.r.Get(dataKey(ks.db, key))
	if err != nil {
		return err
	}
	return ks.put(key, rec, stored)
}

// remove deletes key. REQUIRES: a record (live or not) is stored at key.
func (ks *keyspace) remove(key []byte) error {
	if err := ks.addCount(-1); err != nil {
		return err
	}
	return ks.w.Delete(dataKey(ks.db, key))
}

func (ks *keyspace) size() (int64, error) {
	raw, ok, err := ks.r.Get(countKey(ks.db))
	if err != nil || !ok {
		return 0, err
	}
	if len(raw) != 8 {
		return 0, errCorrupt
	}
	return int64(binary.BigEndian.Uint64(raw)), nil
}

func (ks *keyspace) addCount(d int64) error {
	n, err := ks.size()
	if err != nil {
		return err
	}
	return ks.w.Set(countKey(ks.db), binary.BigEndian.AppendUint64(nil, uint64(n+d)))
}
