package store_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/btree"

	"hourglass/personalities/sql/store"
)

// mem is a committed state for tests: a sorted map.
type mem struct{ t *btree.BTreeG[[2]string] }

func newMem(kvs ...string) *mem {
	m := &mem{t: btree.NewG(8, func(a, b [2]string) bool { return a[0] < b[0] })}
	for i := 0; i+1 < len(kvs); i += 2 {
		m.t.ReplaceOrInsert([2]string{kvs[i], kvs[i+1]})
	}
	return m
}

func (m *mem) Get(k []byte) ([]byte, bool, error) {
	e, ok := m.t.Get([2]string{string(k)})
	return []byte(e[1]), ok, nil
}
func (m *mem) Set(k, v []byte) error {
	m.t.ReplaceOrInsert([2]string{string(k), string(v)})
	return nil
}
func (m *mem) Delete(k []byte) error { m.t.Delete([2]string{string(k)}); return nil }
func (m *mem) Scan(lo, hi []byte, reverse bool) (store.Iter, error) {
	var kv [][2]string
	m.t.Ascend(func(e [2]string) bool {
		if e[0] >= string(lo) && (hi == nil || e[0] < string(hi)) {
			kv = append(kv, e)
		}
		return true
	})
	if reverse {
		for i, j := 0, len(kv)-1; i < j; i, j = i+1, j-1 {
			kv[i], kv[j] = kv[j], kv[i]
		}
	}
	return &sliceIter{kv: kv, i: -1}, nil
}

type sliceIter struct {
	kv [][2]string
	i  int
}

func (s *sliceIter) Next() bool    { s.i++; return s.i < len(s.kv) }
func (s *sliceIter) Key() []byte   { return []byte(s.kv[s.i][0]) }
func (s *sliceIter) Value() []byte { return []byte(s.kv[s.i][1]) }
func (s *sliceIter) Close() error  { return nil }

func scan(t *testing.T, s store.Store, lo, hi string, reverse bool, limit int) string {
	t.Helper()
	var h []byte
	if hi != "" {
		h = []byte(hi)
	}
	it, err := s.Scan([]byte(lo), h, reverse)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for len(out) < limit && it.Next() {
		out = append(out, string(it.Key())+"="+string(it.Value()))
	}
	it.Close()
	return strings.Join(out, " ")
}

func TestOverlayMerge(t *testing.T) {
	base := newMem("a", "1", "c", "3", "e", "5")
	o := store.NewOverlay(base, false)
	o.Set([]byte("b"), []byte("2"))
	o.Delete([]byte("c"))
	o.Set([]byte("e"), []byte("50"))
	if got := scan(t, o, "a", "", false, 99); got != "a=1 b=2 e=50" {
		t.Fatalf("forward: %s", got)
	}
	if got := scan(t, o, "a", "e", true, 99); got != "b=2 a=1" {
		t.Fatalf("reverse below e: %s", got)
	}
	m := o.Mark()
	o.Set([]byte("z"), []byte("26"))
	o.Rollback(m)
	if got := scan(t, o, "", "", false, 99); got != "a=1 b=2 e=50" {
		t.Fatalf("after rollback: %s", got)
	}
	if err := o.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := scan(t, base, "", "", false, 99); got != "a=1 b=2 e=50" {
		t.Fatalf("base after flush: %s", got)
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name   string
		read   func(o *store.Overlay)
		change func(m *mem)
		ok     bool
	}{
		{"point unchanged", func(o *store.Overlay) { o.Get([]byte("a")) }, func(m *mem) { m.Set([]byte("b"), []byte("x")) }, true},
		{"point changed", func(o *store.Overlay) { o.Get([]byte("a")) }, func(m *mem) { m.Set([]byte("a"), []byte("x")) }, false},
		{"absent then inserted", func(o *store.Overlay) { o.Get([]byte("b")) }, func(m *mem) { m.Set([]byte("b"), []byte("x")) }, false},
		{"phantom in a range", func(o *store.Overlay) { scan(t, o, "a", "d", false, 99) }, func(m *mem) { m.Set([]byte("b"), []byte("x")) }, false},
		{"insert past a limited scan", func(o *store.Overlay) { scan(t, o, "a", "", false, 1) }, func(m *mem) { m.Set([]byte("z"), []byte("x")) }, true},
		{"insert inside a limited scan's span", func(o *store.Overlay) { scan(t, o, "a", "", false, 1) }, func(m *mem) { m.Set([]byte("b"), []byte("x")) }, false},
		{"reverse scan unchanged", func(o *store.Overlay) { scan(t, o, "a", "", true, 99) }, func(m *mem) {}, true},
		{"reverse scan, delete", func(o *store.Overlay) { scan(t, o, "a", "", true, 99) }, func(m *mem) { m.Delete([]byte("c")) }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := newMem("a", "1", "c", "3", "e", "5")
			o := store.NewOverlay(m, true)
			c.read(o)
			c.change(m)
			err := store.Validate(m, o.Reads())
			if c.ok && err != nil || !c.ok && !errors.Is(err, store.ErrConflict) {
				t.Fatalf("validate: %v, want ok=%v", err, c.ok)
			}
		})
	}
}

// reusingMem is a base whose iterators reuse one buffer for every key and
// value, as Pebble's do: what they return is valid only until Next.
type reusingMem struct{ *mem }

func (m reusingMem) Scan(lo, hi []byte, reverse bool) (store.Iter, error) {
	it, err := m.mem.Scan(lo, hi, reverse)
	return &reusingIter{in: it.(*sliceIter)}, err
}

type reusingIter struct {
	in       *sliceIter
	key, val []byte
}

func (r *reusingIter) Next() bool {
	if !r.in.Next() {
		return false
	}
	r.key = append(r.key[:0], r.in.Key()...)
	r.val = append(r.val[:0], r.in.Value()...)
	return true
}
func (r *reusingIter) Key() []byte   { return r.key }
func (r *reusingIter) Value() []byte { return r.val }
func (r *reusingIter) Close() error  { return nil }

// TestOverlayScanOverReusingBase checks an overlay's scan returns each
// base pair intact although it reads the base one pair ahead.
func TestOverlayScanOverReusingBase(t *testing.T) {
	o := store.NewOverlay(reusingMem{newMem("a", "1", "b", "2", "c", "3")}, false)
	if got, want := scan(t, o, "a", "", false, 10), "a=1 b=2 c=3"; got != want {
		t.Errorf("scan: got %q, want %q", got, want)
	}
}
