package store

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
)

// memStager stages into an overlay standing in for the store.
type memStager struct {
	area  *Overlay
	calls [][]StagedWrite
}

func (m *memStager) Stage(txid []byte, gen uint32, writes []StagedWrite) (Store, error) {
	m.calls = append(m.calls, writes)
	for _, w := range writes {
		if err := m.area.Set(append(StageGen(txid, gen), w.Key...), EncodeStaged(w)); err != nil {
			return nil, err
		}
	}
	return m.area, nil
}

func scanAll(t *testing.T, s Store, reverse bool) string {
	t.Helper()
	it, err := s.Scan(nil, nil, reverse)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for it.Next() {
		out = append(out, fmt.Sprintf("%s=%s", it.Key(), it.Value()))
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(out)
}

// TestOverlaySpill: an overlay that spills reads its staged writes back
// (newest generation first, its own writes over them), folds its reads
// of the keys it writes into the staged writes, and a rollback drops the
// generations staged after the mark.
func TestOverlaySpill(t *testing.T) {
	base := NewOverlay(Memory{}, false)
	for _, k := range []string{"a", "c", "e"} {
		base.Set([]byte(k), []byte(k+"0"))
	}
	st := &memStager{area: NewOverlay(Memory{}, false)}
	txid := []byte("0123456789abcdef")
	o := NewOverlay(base, true)
	if v, _, _ := o.Get([]byte("a")); string(v) != "a0" {
		t.Fatalf("a = %q", v)
	}
	o.Get([]byte("zz")) // a read of a key it never writes
	o.Set([]byte("a"), []byte("a1"))
	o.Set([]byte("b"), []byte("b1"))
	o.Delete([]byte("c"))
	if err := o.Spill(txid, st.Stage); err != nil {
		t.Fatal(err)
	}
	w := st.calls[0]
	if len(w) != 3 || !w[0].Checked || !bytes.Equal(w[0].Expect, valueHash([]byte("a0"))) || w[1].Checked || !w[2].Del {
		t.Fatalf("staged writes: %+v", w)
	}
	if len(o.Reads().Points) != 1 || string(o.Reads().Points[0].Key) != "zz" {
		t.Fatalf("read set after the spill: %+v", o.Reads().Points)
	}
	if o.Len() != 0 {
		t.Fatalf("%d writes still buffered after the spill", o.Len())
	}
	if v, ok, _ := o.Get([]byte("c")); ok {
		t.Fatalf("a staged deletion reads %q", v)
	}
	if got, want := scanAll(t, o, false), "[a=a1 b=b1 e=e0]"; got != want {
		t.Fatalf("scan after the spill: %s, want %s", got, want)
	}
	if got, want := scanAll(t, o, true), "[e=e0 b=b1 a=a1]"; got != want {
		t.Fatalf("reverse scan after the spill: %s, want %s", got, want)
	}

	m := o.Mark()
	o.Set([]byte("d"), []byte("d2"))
	o.Set([]byte("a"), []byte("a2"))
	if err := o.Spill(txid, st.Stage); err != nil {
		t.Fatal(err)
	}
	o.Set([]byte("b"), []byte("b3"))
	if got, want := scanAll(t, o, false), "[a=a2 b=b3 d=d2 e=e0]"; got != want {
		t.Fatalf("scan over two generations and buffered writes: %s, want %s", got, want)
	}
	if _, gens, _ := o.Staged(); !slices.Equal(gens, []uint32{1, 2}) {
		t.Fatalf("generations %v, want [1 2]", gens)
	}
	o.Rollback(m)
	if got, want := scanAll(t, o, false), "[a=a1 b=b1 e=e0]"; got != want {
		t.Fatalf("scan after the rollback: %s, want %s", got, want)
	}
	if _, gens, dropped := o.Staged(); !slices.Equal(gens, []uint32{1}) || !slices.Equal(dropped, []uint32{2}) {
		t.Fatalf("after the rollback: generations %v, dropped %v", gens, dropped)
	}
	// The commit merges generations older first, each key's writes
	// together.
	g, err := NewGenIter(st.area, txid, []uint32{1, 2}, nil, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	var merged []string
	for {
		ok, err := g.Next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		var gens []uint32
		for _, w := range g.Writes() {
			gens = append(gens, w.Gen)
		}
		merged = append(merged, fmt.Sprintf("%s%v", g.Key(), gens))
	}
	if got, want := fmt.Sprint(merged), "[a[1 2] b[1] c[1] d[2]]"; got != want {
		t.Fatalf("merged generations: %s, want %s", got, want)
	}
}
