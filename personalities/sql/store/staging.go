package store

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"hourglass/platform"
)

// Staging: a transaction whose buffered writes outgrow memory spills them
// through the log into its staging area, a key range of the store that
// only it reads, and keeps reading them from there. Its commit entry then
// moves them into place (see the personality's apply). The area is split
// into generations: a spill after a savepoint (or a statement's start)
// opens a new one, so that rolling back to it drops whole generations.
//
// A staged write carries the transaction's read of the same key, if it
// made one (its expectation), instead of the read set holding it: a COPY
// of millions of rows reads each key it inserts (the uniqueness check),
// and these reads travel with the writes rather than in one commit entry.

// stagePrefix starts every staging key: 't', the transaction's id, the
// generation (4 bytes), then the key written.
const stagePrefix = 't'

// StageArea is the prefix of txid's staging area.
func StageArea(txid []byte) []byte { return append([]byte{stagePrefix}, txid...) }

// StageGen is the prefix of generation gen of txid's staging area.
func StageGen(txid []byte, gen uint32) []byte {
	return binary.BigEndian.AppendUint32(StageArea(txid), gen)
}

// StagedWrite is a write spilled to the staging area.
type StagedWrite struct {
	Key, Value []byte
	Del        bool
	// Checked: the transaction read Key before writing it and saw a value
	// whose hash is Expect (nil: absent).
	Checked bool
	Expect  []byte
}

const (
	flagDel     = 1
	flagChecked = 2
)

// EncodeStaged is a staged write's value in the staging area.
func EncodeStaged(w StagedWrite) []byte {
	var flags byte
	if w.Del {
		flags |= flagDel
	}
	if w.Checked {
		flags |= flagChecked
	}
	b := make([]byte, 0, 2+len(w.Expect)+len(w.Value))
	b = append(b, flags, byte(len(w.Expect)))
	b = append(b, w.Expect...)
	return append(b, w.Value...)
}

// DecodeStaged decodes a staging area value of key.
func DecodeStaged(key, v []byte) (StagedWrite, error) {
	if len(v) < 2 || len(v) < 2+int(v[1]) {
		return StagedWrite{}, fmt.Errorf("malformed staged write of %q", key)
	}
	n := int(v[1])
	w := StagedWrite{Key: key, Del: v[0]&flagDel != 0, Checked: v[0]&flagChecked != 0}
	if n > 0 {
		w.Expect = v[2 : 2+n]
	}
	if !w.Del {
		w.Value = v[2+n:]
	}
	return w, nil
}

// CheckExpect reports whether s still reads key as w expects.
func CheckExpect(s Store, w StagedWrite) (bool, error) {
	if !w.Checked {
		return true, nil
	}
	v, ok, err := s.Get(w.Key)
	if err != nil {
		return false, err
	}
	if ok != (w.Expect != nil) {
		return false, nil
	}
	return !ok || bytes.Equal(valueHash(v), w.Expect), nil
}

// Stager stages an overlay's spilled writes: it makes writes (in key
// order) generation gen of the staging area of txid, and returns a Store
// that reads the staging area as it now is (the overlay reads its staged
// writes there until the next spill).
type Stager func(txid []byte, gen uint32, writes []StagedWrite) (Store, error)

// staged is an overlay's staging state.
type staged struct {
	txid    []byte
	r       Store    // reads the staging area
	gens    []uint32 // live generations, older first
	dropped []uint32 // generations rolled back
	nextGen uint32
	// fresh: a mark was taken since the last spill, so the next spill
	// opens a new generation.
	fresh bool
}

// Staged reports the overlay's staging area: its transaction id, live and
// dropped generations; txid is nil if it never spilled.
func (o *Overlay) Staged() (txid []byte, gens, dropped []uint32) {
	if o.stage == nil {
		return nil, nil, nil
	}
	return o.stage.txid, o.stage.gens, o.stage.dropped
}

// Spill moves the buffered writes to the staging area of txid through
// stage, each with the transaction's read of its key (taken out of the
// read set).
func (o *Overlay) Spill(txid []byte, stage Stager) error {
	if o.writes.Len() == 0 {
		return nil
	}
	if o.stage == nil {
		o.stage = &staged{txid: bytes.Clone(txid), nextGen: 1}
	}
	s := o.stage
	gen := uint32(0)
	if len(s.gens) > 0 && !s.fresh {
		gen = s.gens[len(s.gens)-1]
	} else {
		gen = s.nextGen
	}
	writes := o.foldReads()
	r, err := stage(s.txid, gen, writes)
	if err != nil {
		return err
	}
	if len(s.gens) == 0 || s.gens[len(s.gens)-1] != gen {
		s.gens = append(s.gens, gen)
		s.nextGen++
	}
	s.fresh = false
	s.r = r
	o.writes.Clear(false)
	o.bytes = 0
	return nil
}

// StagedWrites returns the buffered writes with the transaction's reads
// of their keys folded in (and out of the read set): a staged
// transaction's commit carries its last writes so.
func (o *Overlay) StagedWrites() []StagedWrite { return o.foldReads() }

// foldReads lists the buffered writes in key order, moving each point
// read of a written key from the read set into the write.
func (o *Overlay) foldReads() []StagedWrite {
	read := make(map[string]int, len(o.reads.Points))
	for i, p := range o.reads.Points {
		read[string(p.Key)] = i
	}
	folded := make([]bool, len(o.reads.Points))
	var out []StagedWrite
	o.writes.Ascend(func(e entry) bool {
		w := StagedWrite{Key: e.key, Value: e.value, Del: e.del}
		if i, ok := read[string(e.key)]; ok {
			w.Checked, w.Expect, folded[i] = true, o.reads.Points[i].Hash, true
		}
		out = append(out, w)
		return true
	})
	kept := o.reads.Points[:0]
	for i, p := range o.reads.Points {
		if !folded[i] {
			kept = append(kept, p)
		}
	}
	clear(o.reads.Points[len(kept):])
	o.reads.Points = kept
	return out
}

// stagedGet reads key from the live generations, newest first.
func (o *Overlay) stagedGet(key []byte) (e entry, found bool, err error) {
	s := o.stage
	if s == nil {
		return entry{}, false, nil
	}
	for i := len(s.gens) - 1; i >= 0; i-- {
		v, ok, err := s.r.Get(append(StageGen(s.txid, s.gens[i]), key...))
		if err != nil || !ok {
			if err != nil {
				return entry{}, false, err
			}
			continue
		}
		w, err := DecodeStaged(key, v)
		if err != nil {
			return entry{}, false, failure(err)
		}
		return entry{key: bytes.Clone(key), value: bytes.Clone(w.Value), del: w.Del}, true, nil
	}
	return entry{}, false, nil
}

// GenIter merges generations of a staging area in key order. At each key
// it yields every generation's write of it, older generations first.
type GenIter struct {
	its     []Iter // by generation, older first
	gens    []uint32
	ok      []bool
	strip   int // the generation prefix's length
	reverse bool
	// The current key's writes.
	key    []byte
	writes []GenWrite
}

// GenWrite is one generation's staged write of a key.
type GenWrite struct {
	Gen uint32
	StagedWrite
}

// NewGenIter iterates over [lo, hi) (hi nil: no bound) of the generations
// gens of txid's staging area in r.
func NewGenIter(r Store, txid []byte, gens []uint32, lo, hi []byte, reverse bool) (*GenIter, error) {
	g := &GenIter{gens: gens, reverse: reverse, strip: len(StageGen(txid, 0))}
	for _, gen := range gens {
		p := StageGen(txid, gen)
		end := platform.PrefixEnd(p)
		if hi != nil {
			end = append(bytes.Clone(p), hi...)
		}
		it, err := r.Scan(append(bytes.Clone(p), lo...), end, reverse)
		if err != nil {
			g.Close()
			return nil, err
		}
		g.its = append(g.its, it)
		g.ok = append(g.ok, it.Next())
	}
	return g, nil
}

// Next moves to the next key; Key and Writes describe it.
func (g *GenIter) Next() (bool, error) {
	var best []byte
	for i, it := range g.its {
		if !g.ok[i] {
			continue
		}
		k := it.Key()[g.strip:]
		if best == nil || (bytes.Compare(k, best) < 0) != g.reverse && !bytes.Equal(k, best) {
			best = k
		}
	}
	if best == nil {
		return false, nil
	}
	g.key = append(g.key[:0], best...)
	g.writes = g.writes[:0]
	for i, it := range g.its {
		if !g.ok[i] || !bytes.Equal(it.Key()[g.strip:], g.key) {
			continue
		}
		w, err := DecodeStaged(bytes.Clone(g.key), bytes.Clone(it.Value()))
		if err != nil {
			return false, failure(err)
		}
		g.writes = append(g.writes, GenWrite{Gen: g.gens[i], StagedWrite: w})
		g.ok[i] = it.Next()
	}
	return true, nil
}

// Key is the current key.
func (g *GenIter) Key() []byte { return g.key }

// Writes are the current key's writes, older generations first.
func (g *GenIter) Writes() []GenWrite { return g.writes }

// Close closes the generations' iterators.
func (g *GenIter) Close() error {
	var first error
	for _, it := range g.its {
		if err := it.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
