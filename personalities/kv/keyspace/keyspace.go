package keyspace

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"time"

	"hourglass/platform"
)

// LocalStore layout, within the namespace the platform confines the
// transaction to (the router's "p/kv/" for the kv mount):
//
//	'k' db key              -> record (see record)
//	'e' gen(8) sub          -> an element of a collection (hash field,
//	                           set member, list item, sorted-set index)
//	'x' expireAt(8) db key  -> empty: the expiry index, in time order
//	't' version(8) db key   -> empty: tombstones, in age order, for GC
//	'n' db                  -> live keys in db (8 bytes), for DBSIZE
//	'f' db                  -> version(8) of db's last FLUSHDB, FLUSHALL
//	                           or SWAPDB, for WATCH
//	'g'                     -> the next collection generation (8 bytes)
//
// A collection's elements live under its generation, not its name, so
// that RENAME, MOVE and SWAPDB move a key in O(1) and DEL drops its
// elements with one range deletion.
const (
	prefixKey       = 'k'
	prefixElem      = 'e'
	prefixExpiry    = 'x'
	prefixTombstone = 't'
)

// Databases is the number of logical databases (SELECT 0..Databases-1).
const Databases = 16

// Value types, as the record's first byte.
const (
	typeTombstone = 0
	typeString    = 's'
	typeHash      = 'h'
	typeList      = 'l'
	typeSet       = 'S'
	typeZSet      = 'z'
)

// typeName is what TYPE answers.
func typeName(t byte) string {
	switch t {
	case typeString:
		return "string"
	case typeHash:
		return "hash"
	case typeList:
		return "list"
	case typeSet:
		return "set"
	case typeZSet:
		return "zset"
	case typeStream:
		return "stream"
	}
	return "none"
}

func dataKey(db int, key []byte) []byte {
	k := make([]byte, 0, 2+len(key))
	return append(append(k, prefixKey, byte(db)), key...)
}

func countKey(db int) []byte { return []byte{'n', byte(db)} }

var genKey = []byte{'g'}

func expiryKey(at int64, db int, key []byte) []byte {
	k := make([]byte, 0, 10+len(key))
	k = append(k, prefixExpiry)
	k = binary.BigEndian.AppendUint64(k, uint64(at))
	return append(append(k, byte(db)), key...)
}

func tombstoneKey(version uint64, db int, key []byte) []byte {
	k := make([]byte, 0, 10+len(key))
	k = append(k, prefixTombstone)
	k = binary.BigEndian.AppendUint64(k, version)
	return append(append(k, byte(db)), key...)
}

// elemPrefix is where a collection of generation gen keeps its elements.
func elemPrefix(gen uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{prefixElem}, gen)
}

func elemKey(gen uint64, sub []byte) []byte {
	return append(elemPrefix(gen), sub...)
}

// record is a key's metadata (and, for a string, its value).
//
//	type(1) expireAt(8) version(8) atime(8) lfu(1) payload
//
// version is the version of the last write to the key (see Keyspace),
// for WATCH. atime (log time, ms) and lfu are the key's access
// information, the LRU clock and the LFU counter of Redis's objects,
// which eviction and OBJECT IDLETIME and FREQ read (see access.go). A tombstone (type 0) remembers the version at which a key
// was deleted. A collection's payload is its generation(8) and element
// count(8); a list's also its head and tail indexes (8 each).
type record struct {
	typ      byte
	expireAt int64 // ms since the epoch; 0: no expiry
	version  uint64
	atime    int64  // ms since the epoch (log time) of the last access
	lfu      byte   // the logarithmic access counter, as of atime
	payload  []byte // string value
	gen      uint64 // collections
	count    int64  // collections: number of elements
	head     int64  // lists: index of the first item
	tail     int64  // lists: index after the last item
}

const recordHead = 26

func (r record) isCollection() bool {
	return r.typ == typeHash || r.typ == typeList || r.typ == typeSet || r.typ == typeZSet || r.typ == typeStream
}

func (r record) encode() []byte {
	n := recordHead + len(r.payload)
	if r.isCollection() {
		n = recordHead + 32
	}
	b := make([]byte, recordHead, n)
	b[0] = r.typ
	binary.BigEndian.PutUint64(b[1:], uint64(r.expireAt))
	binary.BigEndian.PutUint64(b[9:], r.version)
	binary.BigEndian.PutUint64(b[17:], uint64(r.atime))
	b[25] = r.lfu
	switch {
	case r.isCollection():
		b = binary.BigEndian.AppendUint64(b, r.gen)
		b = binary.BigEndian.AppendUint64(b, uint64(r.count))
		if r.typ == typeList {
			b = binary.BigEndian.AppendUint64(b, uint64(r.head))
			b = binary.BigEndian.AppendUint64(b, uint64(r.tail))
		}
	case r.typ == typeString:
		b = append(b, r.payload...)
	}
	return b
}

var errCorrupt = errors.New("keyspace: corrupt record")

func decodeRecord(b []byte) (record, error) {
	if len(b) < recordHead {
		return record{}, errCorrupt
	}
	r := record{typ: b[0], expireAt: int64(binary.BigEndian.Uint64(b[1:])), version: binary.BigEndian.Uint64(b[9:]),
		atime: int64(binary.BigEndian.Uint64(b[17:])), lfu: b[25]}
	rest := b[recordHead:]
	switch {
	case r.isCollection():
		if len(rest) < 16 {
			return record{}, errCorrupt
		}
		r.gen, r.count = binary.BigEndian.Uint64(rest), int64(binary.BigEndian.Uint64(rest[8:]))
		if r.typ == typeList {
			if len(rest) < 32 {
				return record{}, errCorrupt
			}
			r.head, r.tail = int64(binary.BigEndian.Uint64(rest[16:])), int64(binary.BigEndian.Uint64(rest[24:]))
		}
	case r.typ == typeString:
		r.payload = rest
	}
	return r, nil
}

// expired reports whether r is past its expiry at now. Like Redis, a key
// is still alive at exactly its expiry time.
func (r record) expired(now int64) bool { return r.expireAt != 0 && now > r.expireAt }

// Keyspace is one database as a command sees it: a view of the applied
// state (for reads) or the apply transaction (for writes), at a point in
// time. A Keyspace is used by one goroutine at a time; a view's Keyspace
// must not outlive the view.
type Keyspace struct {
	r   platform.Reader
	w   platform.Writer // nil for reads
	db  int
	now int64 // ms since the epoch: the log time at apply, the clock for reads
	// version orders writes: the transaction's platform.Version.Packed().
	// Writes stamp the records they change with it.
	version uint64
	// seed is the proposer's random choice (writes) or a fresh one
	// (reads), for commands that pick at random.
	seed uint64
	rng  *rand.Rand
	// lfuRng draws the LFU counters' increments (see access.go).
	lfuRng *rand.Rand
	// cfg is the eviction settings, read at the first need; nil: not
	// read yet.
	cfg *EvictionConfig
	// fx collects, at apply, what the commands publish and the keys
	// they make ready for blocked clients; on a view, the keys its reads
	// miss (NotifyMisses), else nil.
	fx *Effects
	// reading: a read command runs at apply (in a transaction or a
	// script); its lookups notify missing keys as a view's do.
	reading bool
	// memo spares repeated reads of one record; nil: no memo. Shared by
	// copies of the keyspace (withDB), and forgotten by any write.
	memo *rawMemo
	// script is the environment of read-only scripts on a view (see
	// WithScripting); nil: the defaults.
	script *ScriptEnv
	// inScript says that a script runs the command (SORT then sorts a
	// set it would read in its internal order, as Redis does).
	inScript bool
	// permit checks the user of the script running at apply may run a
	// command line; nil: anybody may (see ScriptACL).
	permit func(args [][]byte) error
	// txnUser is the restricted user of the transaction applied (see
	// EncodeExec), whose scripts are checked as that user's; nil: none.
	txnUser []byte
	// node is the configuration OBJECT and LCS answer by on a view
	// (see WithNodeConfig); nil: the defaults.
	node *NodeConfig
}

// NewView returns database db of the applied state r as a read sees it:
// keys whose expiry is before now are hidden, and seed drives the
// commands that pick at random (RANDOMKEY, SRANDMEMBER, ...). r must stay
// open while the Keyspace is used.
//
// REQUIRES: 0 <= db < Databases.
func NewView(r platform.Reader, db int, now time.Time, seed uint64) *Keyspace {
	return &Keyspace{r: r, db: db, now: now.UnixMilli(), seed: seed}
}

// forApply returns database db as the apply transaction txn holds it, at
// version at and log time now.
// The keyspace and its memo live in fx, reused by the next command.
func forApply(txn platform.Txn, at platform.Version, now int64, db int, seed uint64, fx *Effects) *Keyspace {
	memo := &fx.memo
	*memo = rawMemo{key: memo.key[:0]}
	if fx.Observers != nil {
		fx.notify = fx.Observers.Notifications().Deliverable()
	}
	fx.tracking = fx.trackingWanted()
	fx.Untracked = fx.Untracked || !fx.tracking
	fx.acct.r = txn
	fx.ks = Keyspace{
		r: txn, w: memoWriter{txn, memo, &fx.acct}, db: db, memo: memo,
		now:     now,
		version: at.Packed(), // never 0, which means "never written"
		seed:    seed,
		fx:      fx,
	}
	return &fx.ks
}

// rand returns the command's random source: deterministic at apply.
func (ks *Keyspace) rand() *rand.Rand {
	if ks.rng == nil {
		ks.rng = rand.New(rand.NewPCG(ks.seed, ks.seed^0x9e3779b97f4a7c15))
	}
	return ks.rng
}

// withDB returns the same keyspace on database db.
func (ks *Keyspace) withDB(db int) *Keyspace {
	c := *ks
	c.db = db
	return &c
}

// raw returns the stored record of key, tombstone or expired included.
func (ks *Keyspace) raw(key []byte) (record, bool, error) {
	if m := ks.memo; m != nil && m.valid && m.db == ks.db && bytes.Equal(m.key, key) {
		rec := m.rec
		rec.payload = bytes.Clone(rec.payload) // callers may change it in place
		return rec, m.ok, nil
	}
	b, ok, err := ks.r.Get(dataKey(ks.db, key))
	if err != nil {
		return record{}, false, err
	}
	if !ok {
		ks.remember(key, record{}, false)
		return record{}, false, nil
	}
	rec, err := decodeRecord(b)
	if err != nil {
		return record{}, false, err
	}
	ks.remember(key, rec, true)
	return rec, true, nil
}

// rawMemo is the last record raw read, so that the lookups one command
// makes of a key and the checks of its write read the store once. Any
// write through the keyspace's writer forgets it.
type rawMemo struct {
	valid bool
	db    int
	key   []byte
	rec   record
	ok    bool
}

func (ks *Keyspace) remember(key []byte, rec record, ok bool) {
	if m := ks.memo; m != nil {
		rec.payload = bytes.Clone(rec.payload)
		*m = rawMemo{valid: true, db: ks.db, key: append(m.key[:0], key...), rec: rec, ok: ok}
	}
}

// lookup returns the live record of key. In a write, an expired record
// is deleted on the way (lazy expiry, deterministic because now is the log
// time).
func (ks *Keyspace) lookup(key []byte) (record, bool, error) {
	rec, ok, err := ks.raw(key)
	if err != nil {
		return record{}, false, err
	}
	if ok && rec.typ != typeTombstone && rec.expired(ks.now) {
		if ks.w != nil {
			if err := ks.remove(key, rec); err != nil {
				return record{}, false, err
			}
			ks.notify(EventExpired, "expired", key)
		}
		ok = false
	}
	if !ok || rec.typ == typeTombstone {
		if ks.w == nil || ks.reading {
			ks.notify(EventKeyMiss, "keymiss", key)
		}
		return record{}, false, nil
	}
	return rec, true, nil
}

// lookupType returns the live record of key if it has type typ, and
// errWrongType if it has another.
func (ks *Keyspace) lookupType(key []byte, typ byte) (record, bool, error) {
	rec, ok, err := ks.lookup(key)
	if err == nil && ok && rec.typ != typ {
		return rec, true, errWrongType
	}
	return rec, ok, err
}

// lookupString is lookupType for strings.
func (ks *Keyspace) lookupString(key []byte) (record, bool, error) {
	return ks.lookupType(key, typeString)
}

// newCollection returns a fresh, empty collection record of type typ.
func (ks *Keyspace) newCollection(typ byte) (record, error) {
	b, ok, err := ks.r.Get(genKey)
	if err != nil {
		return record{}, err
	}
	var gen uint64 = 1
	if ok && len(b) == 8 {
		gen = binary.BigEndian.Uint64(b)
	}
	if err := ks.w.Set(genKey, binary.BigEndian.AppendUint64(nil, gen+1)); err != nil {
		return record{}, err
	}
	return record{typ: typ, gen: gen}, nil
}

// put stores rec at key. stored says whether a live record is stored at
// key already (as the caller's lookup found); a new key is counted. old
// is the previous record if stored (for its expiry index entry).
func (ks *Keyspace) put(key []byte, rec record, stored bool, old record) error {
	if !stored {
		if prev, ok, err := ks.raw(key); err != nil {
			return err
		} else if ok && prev.typ == typeTombstone {
			if err := ks.w.Delete(tombstoneKey(prev.version, ks.db, key)); err != nil {
				return err
			}
		}
		if err := ks.addCount(1); err != nil {
			return err
		}
		ks.notify(EventNew, "new", key)
	}
	if stored && old.expireAt != 0 && old.expireAt != rec.expireAt {
		if err := ks.w.Delete(expiryKey(old.expireAt, ks.db, key)); err != nil {
			return err
		}
	}
	if rec.expireAt != 0 && (!stored || old.expireAt != rec.expireAt) {
		if err := ks.w.Set(expiryKey(rec.expireAt, ks.db, key), nil); err != nil {
			return err
		}
	}
	rec.version = ks.version
	ks.fx.noteWritten(key)
	if stored {
		if err := ks.stampAccess(&rec, old); err != nil {
			return err
		}
	} else {
		ks.stampNew(&rec)
	}
	ks.fx.noteReady(ks.db, key, rec.typ)
	if stored && old.typ == typeStream && rec.typ != typeStream {
		ks.fx.noteReady(ks.db, key, typeStream) // its blocked XREADGROUPs fail
	}
	return ks.w.Set(dataKey(ks.db, key), rec.encode())
}

// update rewrites a live record in place (same key, same expiry).
func (ks *Keyspace) update(key []byte, rec record) error {
	return ks.put(key, rec, true, rec)
}

// putString stores a string value, replacing whatever key held.
func (ks *Keyspace) putString(key, value []byte, expireAt int64) error {
	old, stored, err := ks.lookup(key)
	if err != nil {
		return err
	}
	return ks.overwrite(key, record{typ: typeString, expireAt: expireAt, payload: value}, old, stored)
}

// overwrite stores rec at key in place of the live record old (if
// exists), as Redis's setKey does: old's elements and expiry go, and the
// key is not new.
func (ks *Keyspace) overwrite(key []byte, rec, old record, exists bool) error {
	if exists && old.isCollection() {
		if err := ks.w.DeleteRange(elemPrefix(old.gen), elemPrefix(old.gen+1)); err != nil {
			return err
		}
	}
	return ks.put(key, rec, exists, old)
}

// storeResult stores the result rec of a *STORE command at dst, which
// held old (if exists), and notifies event of class; an empty result
// deletes dst instead ("del").
func (ks *Keyspace) storeResult(dst []byte, rec, old record, exists bool, class EventClass, event string) error {
	if rec.count == 0 {
		if !exists {
			return nil
		}
		if err := ks.remove(dst, old); err != nil {
			return err
		}
		ks.notify(EventGeneric, "del", dst)
		return nil
	}
	if err := ks.overwrite(dst, rec, old, exists); err != nil {
		return err
	}
	ks.notify(class, event, dst)
	return nil
}

// remove deletes the live (or expired) record rec of key: its elements,
// its expiry index entry, and leaves a tombstone for WATCH.
func (ks *Keyspace) remove(key []byte, rec record) error {
	if err := ks.addCount(-1); err != nil {
		return err
	}
	ks.fx.noteWritten(key)
	if rec.typ == typeStream {
		ks.fx.noteReady(ks.db, key, rec.typ) // its blocked XREADGROUPs fail
	}
	if rec.isCollection() {
		if err := ks.w.DeleteRange(elemPrefix(rec.gen), elemPrefix(rec.gen+1)); err != nil {
			return err
		}
	}
	if rec.expireAt != 0 {
		if err := ks.w.Delete(expiryKey(rec.expireAt, ks.db, key)); err != nil {
			return err
		}
	}
	if err := ks.w.Set(tombstoneKey(ks.version, ks.db, key), nil); err != nil {
		return err
	}
	return ks.w.Set(dataKey(ks.db, key), record{typ: typeTombstone, version: ks.version}.encode())
}

// clear deletes key if it holds a live value, of any type, as a command
// that replaces its destination does first.
func (ks *Keyspace) clear(key []byte) error {
	old, exists, err := ks.lookup(key)
	if err != nil || !exists {
		return err
	}
	return ks.remove(key, old)
}

// keyVersion returns the version WATCH compares for key: the last write to
// it (tombstones included), or 0 if it was never written.
func (ks *Keyspace) keyVersion(key []byte) (uint64, error) {
	rec, ok, err := ks.raw(key)
	if err != nil || !ok {
		return 0, err
	}
	if rec.typ != typeTombstone && rec.expired(ks.now) {
		// Expiring counts as a change, as in Redis.
		return expiredVersion, nil
	}
	return rec.version, nil
}

// expiredVersion is the version of a key that has expired but is still
// stored: different from any version it had while alive.
const expiredVersion = ^uint64(0)

// setExpire changes the expiry of the live record rec of key (0: none).
func (ks *Keyspace) setExpire(key []byte, rec record, at int64) error {
	old := rec
	rec.expireAt = at
	return ks.put(key, rec, true, old)
}

func (ks *Keyspace) size() (int64, error) {
	raw, ok, err := ks.r.Get(countKey(ks.db))
	if err != nil || !ok {
		return 0, err
	}
	if len(raw) != 8 {
		return 0, errCorrupt
	}
	return int64(binary.BigEndian.Uint64(raw)), nil
}

func (ks *Keyspace) addCount(d int64) error {
	n, err := ks.size()
	if err != nil {
		return err
	}
	return ks.w.Set(countKey(ks.db), binary.BigEndian.AppendUint64(nil, uint64(n+d)))
}

// Elements of collections.

func (ks *Keyspace) getElem(gen uint64, sub []byte) ([]byte, bool, error) {
	return ks.r.Get(elemKey(gen, sub))
}

func (ks *Keyspace) setElem(gen uint64, sub, v []byte) error {
	return ks.w.Set(elemKey(gen, sub), v)
}

func (ks *Keyspace) delElem(gen uint64, sub []byte) error {
	return ks.w.Delete(elemKey(gen, sub))
}

// scanElems calls f for the elements of generation gen whose sub-key
// starts with prefix, in order, from sub-key from (inclusive), until f
// returns false. The slices are valid only during the call.
func (ks *Keyspace) scanElems(gen uint64, prefix, from []byte, f func(sub, v []byte) bool) error {
	lo := elemKey(gen, from)
	if bytes.Compare(from, prefix) < 0 {
		lo = elemKey(gen, prefix)
	}
	hi := prefixEnd(elemKey(gen, prefix))
	it, err := ks.r.NewIter(lo, hi)
	if err != nil {
		return err
	}
	defer it.Close()
	skip := len(elemPrefix(gen))
	for it.First(); it.Valid(); it.Next() {
		if !f(it.Key()[skip:], it.Value()) {
			break
		}
	}
	return it.Error()
}

// scanElemsReverse is scanElems backwards, from the end.
func (ks *Keyspace) scanElemsReverse(gen uint64, prefix []byte, f func(sub, v []byte) bool) error {
	it, err := ks.r.NewIter(elemKey(gen, prefix), prefixEnd(elemKey(gen, prefix)))
	if err != nil {
		return err
	}
	defer it.Close()
	skip := len(elemPrefix(gen))
	for ok := it.Last(); ok && it.Valid(); ok = it.Prev() {
		if !f(it.Key()[skip:], it.Value()) {
			break
		}
	}
	return it.Error()
}

// prefixEnd returns the first key after every key that starts with p.
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}
