package platform

import (
	"bytes"

	"github.com/cockroachdb/pebble/v2"
)

// pebbleReader adapts a pebble.Reader (an indexed batch or a snapshot).
type pebbleReader struct{ r pebble.Reader }

func (p pebbleReader) Get(key []byte) ([]byte, bool, error) {
	v, closer, err := p.r.Get(key)
	if err == pebble.ErrNotFound {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	out := append([]byte(nil), v...)
	return out, true, closer.Close()
}

func (p pebbleReader) NewIter(lower, upper []byte) (Iterator, error) {
	return p.r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
}

// snapshotView is the View over a pebble snapshot. release gives the store
// back once the view is closed.
type snapshotView struct {
	pebbleReader
	closeSnap func() error
	applied   Position
	release   func()
	closed    bool
}

func (v *snapshotView) Applied() Position { return v.applied }

func (v *snapshotView) Close() error {
	if v.closed {
		return nil
	}
	v.closed = true
	err := v.closeSnap()
	v.release()
	return err
}

// prefixed returns key with prefix in front, in a new slice.
func prefixed(prefix, key []byte) []byte {
	out := make([]byte, 0, len(prefix)+len(key))
	return append(append(out, prefix...), key...)
}

// PrefixEnd returns the first key after every key that starts with
// prefix, or nil if there is none (prefix is all 0xff).
func PrefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil // all 0xff: no upper bound
}

// prefixReader confines a Reader to the keys under prefix and strips it.
type prefixReader struct {
	prefix []byte
	r      Reader
}

func (p prefixReader) Get(key []byte) ([]byte, bool, error) {
	return p.r.Get(prefixed(p.prefix, key))
}

func (p prefixReader) NewIter(lower, upper []byte) (Iterator, error) {
	lo := prefixed(p.prefix, lower)
	hi := PrefixEnd(p.prefix)
	if upper != nil {
		hi = prefixed(p.prefix, upper)
	}
	it, err := p.r.NewIter(lo, hi)
	if err != nil {
		return nil, err
	}
	return &prefixIter{Iterator: it, prefix: p.prefix}, nil
}

type prefixIter struct {
	Iterator
	prefix []byte
}

func (it *prefixIter) Key() []byte { return it.Iterator.Key()[len(it.prefix):] }
func (it *prefixIter) SeekGE(key []byte) bool {
	return it.Iterator.SeekGE(prefixed(it.prefix, key))
}
func (it *prefixIter) SeekLT(key []byte) bool {
	return it.Iterator.SeekLT(prefixed(it.prefix, key))
}

// prefixTxn confines a Txn to the keys under prefix.
type prefixTxn struct {
	prefixReader
	w Writer
}

func (p prefixTxn) Set(key, value []byte) error { return p.w.Set(prefixed(p.prefix, key), value) }
func (p prefixTxn) Delete(key []byte) error     { return p.w.Delete(prefixed(p.prefix, key)) }
func (p prefixTxn) DeleteRange(s, e []byte) error {
	end := PrefixEnd(p.prefix)
	if e != nil {
		end = prefixed(p.prefix, e)
	}
	return p.w.DeleteRange(prefixed(p.prefix, s), end)
}

// prefixView confines a View to the keys under prefix.
type prefixView struct {
	prefixReader
	v View
}

func (p prefixView) Applied() Position { return p.v.Applied() }
func (p prefixView) Close() error      { return p.v.Close() }

// EngineReader confines r, a view of the whole store, to the namespace of
// the engine below the router named name (see Named): how an engine reads
// its own state outside Apply, from a view its lower layer gave it.
func EngineReader(r Reader, name string) Reader {
	checkName(name)
	return prefixReader{prefix: []byte(engineSpace + name + "/"), r: r}
}
