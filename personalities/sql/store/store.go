// Package store is the storage the Postgres personality's statements run
// against: the personality's namespace of the LocalStore, seen through an
// apply transaction, a read view, or a transaction's Overlay, which buffers
// writes in memory and records what was read so that the transaction can
// be validated at its commit position in the log.
//
// An Overlay is both a statement's undo scope (its writes reach the layer
// below only when it flushes) and an interactive transaction's private
// state (writes buffered until COMMIT, reads tracked for validation).
//
// Validation is by value: a read records a hash of what it saw (a point
// read the value or its absence, a range scan every key and value in the
// span it consumed); at apply, Validate recomputes the hashes against the
// committed state. If every hash matches, the transaction's reads are what
// running it at its commit position would read, so applying its writes
// there is serializable.
package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"

	"github.com/google/btree"

	"hourglass/platform"
)

// Store is what a statement reads and writes. Keys are in the
// personality's namespace. Methods are not safe for concurrent use.
type Store interface {
	// Get returns a copy of key's value, and false if key is absent.
	Get(key []byte) ([]byte, bool, error)
	// Scan iterates over the keys in [lo, hi) (hi nil: no bound), in
	// order or in reverse. The caller must Close it.
	Scan(lo, hi []byte, reverse bool) (Iter, error)
	Set(key, value []byte) error
	Delete(key []byte) error
}

// Iter walks keys in order. Key and Value are valid until the next call
// to Next.
type Iter interface {
	// Next moves to the next key and reports whether there is one.
	Next() bool
	Key() []byte
	Value() []byte
	Close() error
}

// ErrReadOnly is returned by writes to a read-only store.
var ErrReadOnly = errors.New("store: read-only")

// FromTxn returns the Store over an apply transaction.
func FromTxn(txn platform.Txn) Store { return platformStore{r: txn, w: txn} }

// FromReader returns a read-only Store over a view.
func FromReader(r platform.Reader) Store { return platformStore{r: r} }

// Positioned is a Store over a view of the state at one log position.
type Positioned interface {
	Store
	// Applied is the first log position the view does not reflect.
	Applied() platform.Position
}

// FromView returns a read-only Store over v that knows v's position.
func FromView(v platform.View) Positioned { return viewStore{platformStore{r: v}, v.Applied()} }

type viewStore struct {
	platformStore
	applied platform.Position
}

func (v viewStore) Applied() platform.Position { return v.applied }

// Foreign keys: a statement reads another personality's namespace (the
// system schemas) through the keys of its own Store that start with
// ForeignPrefix(mount); the SQL personality's own keys never start with
// 0xff. A Store from FromTxn or FromReader reads them through
// platform.MountReader at the same state and refuses to write them. Being
// keys of the Store, they are recorded in an Overlay's read set like any
// other read, and Validate re-reads them at the commit's position.
const foreignByte = 0xff

// ForeignPrefix is the prefix of the keys that read the namespace of
// the personality mounted as mount.
func ForeignPrefix(mount string) []byte { return append([]byte{foreignByte}, mount+"/"...) }

// ErrForeignWrite is returned by a write to another personality's keys.
var ErrForeignWrite = errors.New("store: another personality's state is read-only")

// foreign splits a foreign key into the mount's reader and the key in
// its namespace; ok is false for the SQL personality's own keys.
func (s platformStore) foreign(key []byte) (r platform.Reader, rest []byte, ok bool, err error) {
	if len(key) == 0 || key[0] != foreignByte {
		return nil, nil, false, nil
	}
	i := bytes.IndexByte(key, '/')
	if i < 2 {
		return nil, nil, true, failure(fmt.Errorf("malformed foreign key %q", key))
	}
	r, err = platform.MountReader(s.r, string(key[1:i]))
	return r, key[i+1:], true, failure(err)
}

type platformStore struct {
	r platform.Reader
	w platform.Writer // nil: read-only
}

// Failure is an error of the underlying store (not of a statement): at
// apply it must stop the node rather than let replicas diverge.
type Failure struct{ Err error }

func (f *Failure) Error() string { return "store: " + f.Err.Error() }
func (f *Failure) Unwrap() error { return f.Err }

func failure(err error) error {
	if err == nil {
		return nil
	}
	return &Failure{Err: err}
}

func (s platformStore) Get(key []byte) ([]byte, bool, error) {
	r, rest, foreign, err := s.foreign(key)
	if err != nil {
		return nil, false, err
	}
	if foreign {
		v, ok, err := r.Get(rest)
		return v, ok, failure(err)
	}
	v, ok, err := s.r.Get(key)
	return v, ok, failure(err)
}

func (s platformStore) Scan(lo, hi []byte, reverse bool) (Iter, error) {
	r, rest, foreign, err := s.foreign(lo)
	if err != nil {
		return nil, err
	}
	var p []byte // what the keys of r lack
	switch {
	case foreign:
		// hi is in the same namespace, or past it (its end).
		p = lo[:len(lo)-len(rest)]
		if bytes.HasPrefix(hi, p) {
			hi = hi[len(p):]
		} else {
			hi = nil
		}
		lo = rest
	case hi == nil || len(hi) > 0 && hi[0] >= foreignByte:
		r, hi = s.r, []byte{foreignByte}
	default:
		r = s.r
	}
	it, err := r.NewIter(lo, hi)
	if err != nil {
		return nil, failure(err)
	}
	return &platformIter{it: it, reverse: reverse, prefix: p}, nil
}

func (s platformStore) Set(key, value []byte) error {
	if s.w == nil {
		return ErrReadOnly
	}
	if len(key) > 0 && key[0] == foreignByte {
		return ErrForeignWrite
	}
	return failure(s.w.Set(key, value))
}

func (s platformStore) Delete(key []byte) error {
	if s.w == nil {
		return ErrReadOnly
	}
	if len(key) > 0 && key[0] == foreignByte {
		return ErrForeignWrite
	}
	return failure(s.w.Delete(key))
}

type platformIter struct {
	it      platform.Iterator
	reverse bool
	started bool
	prefix  []byte // put back in front of the keys (a foreign scan's)
	key     []byte
}

func (p *platformIter) Next() bool {
	if !p.started {
		p.started = true
		if p.reverse {
			return p.it.Last()
		}
		return p.it.First()
	}
	if p.reverse {
		return p.it.Prev()
	}
	return p.it.Next()
}

func (p *platformIter) Key() []byte {
	if p.prefix == nil {
		return p.it.Key()
	}
	p.key = append(append(p.key[:0], p.prefix...), p.it.Key()...)
	return p.key
}
func (p *platformIter) Value() []byte { return p.it.Value() }
func (p *platformIter) Close() error  { return failure(p.it.Close()) }

// entry is one buffered write: a value, or a deletion (del).
type entry struct {
	key, value []byte
	del        bool
}

func less(a, b entry) bool { return bytes.Compare(a.key, b.key) < 0 }

// Overlay buffers writes over a base Store and, if tracking, records what
// it reads from the base. Reads see the overlay's own writes.
type Overlay struct {
	base   Store
	writes *btree.BTreeG[entry]
	bytes  int
	track  bool
	reads  ReadSet
	stage  *staged // nil until the overlay spills
}

// NewOverlay returns an overlay on base; track records reads for
// validation.
func NewOverlay(base Store, track bool) *Overlay {
	return &Overlay{base: base, writes: btree.NewG(16, less), track: track}
}

// ReadSet is what a transaction read: point reads and range scans, each
// with a hash of what was seen.
type ReadSet struct {
	Points []PointRead
	Ranges []RangeRead
}

// PointRead is a Get of Key that saw a value with hash Hash (nil: absent).
type PointRead struct {
	Key  []byte
	Hash []byte
}

// RangeRead is a scan that consumed every key in [Lo, Hi) (Hi nil: to the
// end), in reverse order if Reverse, and saw pairs whose hash is Hash.
type RangeRead struct {
	Lo, Hi  []byte
	Reverse bool
	Hash    []byte
}

// Reads returns what the overlay read from its base. The caller must not
// modify it.
func (o *Overlay) Reads() *ReadSet { return &o.reads }

// Written reports whether the overlay holds a write (or deletion) of key.
func (o *Overlay) Written(key []byte) bool {
	_, ok := o.writes.Get(entry{key: key})
	return ok
}

// Len is the number of buffered writes; Bytes their size.
func (o *Overlay) Len() int   { return o.writes.Len() }
func (o *Overlay) Bytes() int { return o.bytes }

func valueHash(v []byte) []byte {
	h := sha256.Sum256(v)
	return h[:16]
}

// Get implements Store.
func (o *Overlay) Get(key []byte) ([]byte, bool, error) {
	if e, ok := o.writes.Get(entry{key: key}); ok {
		if e.del {
			return nil, false, nil
		}
		return bytes.Clone(e.value), true, nil
	}
	if e, ok, err := o.stagedGet(key); err != nil || ok {
		if err != nil || e.del {
			return nil, false, err
		}
		return e.value, true, nil
	}
	v, ok, err := o.base.Get(key)
	if err != nil {
		return nil, false, err
	}
	if o.track {
		var h []byte
		if ok {
			h = valueHash(v)
		}
		o.reads.Points = append(o.reads.Points, PointRead{Key: bytes.Clone(key), Hash: h})
	}
	return v, ok, nil
}

// Set implements Store.
func (o *Overlay) Set(key, value []byte) error {
	o.put(entry{key: bytes.Clone(key), value: bytes.Clone(value)})
	return nil
}

// Delete implements Store.
func (o *Overlay) Delete(key []byte) error {
	o.put(entry{key: bytes.Clone(key), del: true})
	return nil
}

func (o *Overlay) put(e entry) {
	if old, ok := o.writes.ReplaceOrInsert(e); ok {
		o.bytes -= len(old.key) + len(old.value)
	}
	o.bytes += len(e.key) + len(e.value)
}

// Flush writes the buffered writes to the base, in key order, and empties
// the overlay (its read set stays).
func (o *Overlay) Flush() error {
	var err error
	o.writes.Ascend(func(e entry) bool {
		if e.del {
			err = o.base.Delete(e.key)
		} else {
			err = o.base.Set(e.key, e.value)
		}
		return err == nil
	})
	if err != nil {
		return err
	}
	o.writes.Clear(false)
	o.bytes = 0
	return nil
}

// Writes calls f for each buffered write in key order (value nil for a
// deletion, del true).
func (o *Overlay) Writes(f func(key, value []byte, del bool) bool) {
	o.writes.Ascend(func(e entry) bool { return f(e.key, e.value, e.del) })
}

// Mark is a point an overlay's writes can be rolled back to (a savepoint,
// or a statement's start inside a transaction).
type Mark struct {
	writes *btree.BTreeG[entry]
	bytes  int
	gens   int // live staging generations
}

// Mark returns the current state of the writes. It costs O(1): the
// B-tree is copied lazily. A spill after it opens a new staging
// generation, which a rollback to it drops.
func (o *Overlay) Mark() Mark {
	m := Mark{writes: o.writes.Clone(), bytes: o.bytes}
	if o.stage != nil {
		m.gens = len(o.stage.gens)
		o.stage.fresh = true
	}
	return m
}

// Rollback restores the writes to m (reads stay recorded; so do the
// expectations of staged writes it drops).
func (o *Overlay) Rollback(m Mark) {
	o.writes = m.writes.Clone()
	o.bytes = m.bytes
	if s := o.stage; s != nil && m.gens < len(s.gens) {
		s.dropped = append(s.dropped, s.gens[m.gens:]...)
		s.gens = s.gens[:m.gens]
		s.fresh = true
	}
}

// Scan implements Store: the base's keys merged with the overlay's writes.
func (o *Overlay) Scan(lo, hi []byte, reverse bool) (Iter, error) {
	base, err := o.base.Scan(lo, hi, reverse)
	if err != nil {
		return nil, err
	}
	var ws []entry
	visit := func(e entry) bool {
		ws = append(ws, e)
		return true
	}
	switch {
	case reverse && hi == nil:
		o.writes.Descend(func(e entry) bool {
			if bytes.Compare(e.key, lo) < 0 {
				return false
			}
			return visit(e)
		})
	case reverse:
		o.writes.DescendLessOrEqual(entry{key: hi}, func(e entry) bool {
			if bytes.Equal(e.key, hi) {
				return true
			}
			if bytes.Compare(e.key, lo) < 0 {
				return false
			}
			return visit(e)
		})
	case hi == nil:
		o.writes.AscendGreaterOrEqual(entry{key: lo}, visit)
	default:
		o.writes.AscendRange(entry{key: lo}, entry{key: hi}, visit)
	}
	var src writeSource = &sliceSource{ws: ws}
	if st := o.stage; st != nil && len(st.gens) > 0 {
		g, err := NewGenIter(st.r, st.txid, st.gens, lo, hi, reverse)
		if err != nil {
			base.Close()
			return nil, err
		}
		src = &stagedSource{mem: ws, g: g, reverse: reverse}
	}
	it := &mergeIter{base: base, writes: src, reverse: reverse}
	if o.track {
		it.rec = &rangeRecorder{o: o, lo: bytes.Clone(lo), hi: bytes.Clone(hi), reverse: reverse, h: sha256.New()}
	}
	return it, nil
}

// mergeIter merges a base iterator with a slice of buffered writes in the
// same direction; a buffered write hides the base's key.
type mergeIter struct {
	base    Iter
	baseOK  bool
	started bool
	writes  writeSource
	reverse bool
	key     []byte
	value   []byte
	rec     *rangeRecorder
	next    entry
	err     error
}

func (m *mergeIter) cmp(a, b []byte) int {
	c := bytes.Compare(a, b)
	if m.reverse {
		return -c
	}
	return c
}

func (m *mergeIter) advanceBase() {
	m.baseOK = m.base.Next()
	if m.rec == nil {
		return
	}
	if m.baseOK {
		m.rec.saw(m.base.Key(), m.base.Value())
	} else {
		// The base has nothing more in the range: the scan saw all of it.
		m.rec.exhausted = true
	}
}

func (m *mergeIter) Next() bool {
	if !m.started {
		m.started = true
		m.advanceBase()
	}
	for {
		switch {
		case m.peek() && (!m.baseOK || m.cmp(m.next.key, m.base.Key()) <= 0):
			w := m.next
			m.writes.pop()
			if m.baseOK && bytes.Equal(w.key, m.base.Key()) {
				m.advanceBase()
			}
			if w.del {
				continue
			}
			m.key, m.value = w.key, w.value
			return true
		case m.baseOK:
			// The base's key and value are valid only until it moves, and
			// it moves ahead now.
			m.key, m.value = bytes.Clone(m.base.Key()), bytes.Clone(m.base.Value())
			m.advanceBase()
			return true
		}
		return false
	}
}

// peek loads the next buffered write into m.next, if there is one.
func (m *mergeIter) peek() bool {
	if m.err != nil {
		return false
	}
	var ok bool
	m.next, ok, m.err = m.writes.peek()
	return ok
}

func (m *mergeIter) Key() []byte   { return m.key }
func (m *mergeIter) Value() []byte { return m.value }

func (m *mergeIter) Close() error {
	if m.rec != nil {
		m.rec.finish(m.key)
	}
	err := m.base.Close()
	if c := m.writes.close(); err == nil {
		err = c
	}
	if err == nil {
		err = m.err
	}
	return err
}

// writeSource is the buffered writes a scan merges over its base, in the
// scan's order.
type writeSource interface {
	peek() (entry, bool, error)
	pop()
	close() error
}

// sliceSource is the overlay's own writes.
type sliceSource struct{ ws []entry }

func (s *sliceSource) peek() (entry, bool, error) {
	if len(s.ws) == 0 {
		return entry{}, false, nil
	}
	return s.ws[0], true, nil
}
func (s *sliceSource) pop()         { s.ws = s.ws[1:] }
func (s *sliceSource) close() error { return nil }

// stagedSource merges the overlay's own writes with its staged ones, the
// former winning, and of the staged the newest generation. peek decides
// which comes next; pop takes it.
type stagedSource struct {
	mem     []entry
	g       *GenIter
	reverse bool
	cur     entry // the staged write at the front, if has
	has     bool
	done    bool
	// fromMem: the front is the overlay's own write; tie: it hides cur.
	fromMem, tie bool
}

func (s *stagedSource) fill() error {
	if s.has || s.done {
		return nil
	}
	ok, err := s.g.Next()
	if err != nil || !ok {
		s.done = true
		return err
	}
	ws := s.g.Writes()
	w := ws[len(ws)-1]
	s.cur, s.has = entry{key: bytes.Clone(w.Key), value: w.Value, del: w.Del}, true
	return nil
}

func (s *stagedSource) peek() (entry, bool, error) {
	if err := s.fill(); err != nil {
		return entry{}, false, err
	}
	s.fromMem, s.tie = false, false
	switch {
	case len(s.mem) == 0 && !s.has:
		return entry{}, false, nil
	case !s.has:
		s.fromMem = true
	case len(s.mem) > 0:
		c := bytes.Compare(s.mem[0].key, s.cur.key)
		if s.reverse {
			c = -c
		}
		s.fromMem, s.tie = c <= 0, c == 0
	}
	if s.fromMem {
		return s.mem[0], true, nil
	}
	return s.cur, true, nil
}

func (s *stagedSource) pop() {
	if !s.fromMem {
		s.has = false
		return
	}
	s.mem = s.mem[1:]
	if s.tie {
		s.has = false
	}
}

func (s *stagedSource) close() error { return s.g.Close() }

// rangeRecorder hashes the base pairs a scan consumed and records the span
// when the scan closes.
type rangeRecorder struct {
	o         *Overlay
	lo, hi    []byte
	reverse   bool
	h         hash.Hash
	exhausted bool
	// last is the last base key hashed: with read-ahead, the merge may
	// have looked one base key beyond what it returned.
	last []byte
}

func (r *rangeRecorder) saw(k, v []byte) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(k)))
	r.h.Write(n[:])
	r.h.Write(k)
	binary.BigEndian.PutUint64(n[:], uint64(len(v)))
	r.h.Write(n[:])
	r.h.Write(v)
	r.last = append(r.last[:0], k...)
}

// finish records the span the scan covered: everything up to the last
// base key it looked at (inclusive), or the whole range if it ran out.
func (r *rangeRecorder) finish(returned []byte) {
	lo, hi := r.lo, r.hi
	if !r.exhausted {
		if r.last == nil {
			// Nothing from the base was looked at: record the span up
			// to (and including) the last key returned, if any.
			if returned == nil {
				return
			}
			r.last = returned
		}
		if r.reverse {
			lo = bytes.Clone(r.last)
		} else {
			hi = append(bytes.Clone(r.last), 0)
		}
	}
	r.o.reads.Ranges = append(r.o.reads.Ranges, RangeRead{Lo: lo, Hi: hi, Reverse: r.reverse, Hash: r.h.Sum(nil)[:16]})
}

// ErrConflict is the verdict of a validation that found a read changed.
var ErrConflict = errors.New("store: a value read changed")

// Validate checks the read set against s: nil if every point read and
// every range scanned would read the same now, ErrConflict otherwise.
func Validate(s Store, rs *ReadSet) error {
	for _, p := range rs.Points {
		v, ok, err := s.Get(p.Key)
		if err != nil {
			return err
		}
		if ok != (p.Hash != nil) || (ok && !bytes.Equal(valueHash(v), p.Hash)) {
			return ErrConflict
		}
	}
	for _, r := range rs.Ranges {
		it, err := s.Scan(r.Lo, r.Hi, r.Reverse)
		if err != nil {
			return err
		}
		rec := &rangeRecorder{h: sha256.New()}
		for it.Next() {
			rec.saw(it.Key(), it.Value())
		}
		if err := it.Close(); err != nil {
			return err
		}
		if !bytes.Equal(rec.h.Sum(nil)[:16], r.Hash) {
			return ErrConflict
		}
	}
	return nil
}
