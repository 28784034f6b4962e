package keyspace

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// TestBitmapWritesInPlace: SETBIT and BITFIELD change the value a lookup
// returned in place; the read memo must not hand the changed bytes to a
// later lookup as the stored ones, nor a source read twice by BITOP.
func TestBitmapWritesInPlace(t *testing.T) {
	ks := newTestKeyspace(t)
	want := func(got, want any, line ...string) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q = %#v, want %#v", line, got, want)
		}
	}
	do := func(words ...string) any { t.Helper(); return run(t, ks, words...) }
	want(do("SET", "k", "\x0f"), OK, "SET")
	want(do("GET", "k"), []byte("\x0f"), "GET") // remembered
	want(do("SETBIT", "k", "0", "1"), int64(0), "SETBIT")
	want(do("GET", "k"), []byte("\x8f"), "GET after SETBIT")
	want(do("BITFIELD", "k", "SET", "u8", "0", "1", "GET", "u8", "0"), []any{int64(0x8f), int64(1)}, "BITFIELD")
	want(do("GET", "k"), []byte("\x01"), "GET after BITFIELD")
	want(do("BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "-2"), []any{nil}, "BITFIELD FAIL")
	want(do("GET", "k"), []byte("\x01"), "GET after a failed INCRBY")
	want(do("BITOP", "XOR", "d", "k", "k"), int64(1), "BITOP XOR k k")
	want(do("GET", "d"), []byte("\x00"), "GET d")
	want(do("BITOP", "NOT", "k", "k"), int64(1), "BITOP NOT k k")
	want(do("BITOP", "AND", "d", "k", "k"), int64(1), "BITOP AND k k")
	want(do("GET", "d"), []byte("\xfe"), "GET d")
}

// TestFieldsRoundTrip writes fields of every width at random offsets
// and checks them, and every other bit, against a bit-per-byte model.
func TestFieldsRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	v := make([]byte, 32)
	model := make([]byte, len(v)*8)
	for range 5000 {
		w := uint(rng.IntN(64) + 1)
		off := uint64(rng.IntN(len(model) - int(w) + 1))
		x := rng.Uint64()
		setField(v, off, w, x)
		for i := range uint64(w) {
			model[off+i] = byte(x>>(uint64(w)-1-i)) & 1
		}
		for b := range uint64(len(model)) {
			if got := v[b>>3] >> (7 - b&7) & 1; got != model[b] {
				t.Fatalf("after setField(%d, %d, %#x) bit %d = %d, want %d", off, w, x, b, got, model[b])
			}
		}
		mask := ^uint64(0)
		if w < 64 {
			mask = 1<<w - 1
		}
		if got := getField(v, off, w); got != x&mask {
			t.Fatalf("getField(%d, %d) = %#x, want %#x", off, w, got, x&mask)
		}
	}
	// Bits past the end read as zero.
	if got := getField([]byte{0xff}, 4, 8); got != 0xf0 {
		t.Fatalf("getField past the end = %#x, want 0xf0", got)
	}
}

func TestBitfieldKindOf(t *testing.T) {
	for _, c := range []struct {
		line string
		want Kind
	}{
		{"BITFIELD k GET u8 0", KindRead},
		{"BITFIELD k GET u8 0 GET i64 #3", KindRead},
		{"BITFIELD k OVERFLOW SAT GET u8 0", KindRead},
		{"BITFIELD k", KindRead},
		{"BITFIELD k GET u8 0 SET u8 0 1", KindWrite},
		{"BITFIELD k INCRBY u8 0 1", KindWrite},
		{"BITFIELD k OVERFLOW FAIL INCRBY u8 0 1 GET u8 0", KindWrite},
		{"BITFIELD_RO k GET u8 0", KindRead},
		{"SETBIT k 0 1", KindWrite},
		{"GETBIT k 0", KindRead},
		{"BITOP NOT d k", KindWrite},
	} {
		args := argv(strings.Fields(c.line))
		cmd := Lookup(args[0])
		if err := cmd.checkAt(args, 0); err != nil {
			t.Fatalf("%s: %v", c.line, err)
		}
		if got := cmd.KindOf(args); got != c.want {
			t.Errorf("KindOf(%s) = %v, want %v", c.line, got, c.want)
		}
		if cmd.Name == "bitfield" && cmd.Kind != KindWrite {
			t.Errorf("BITFIELD's table kind = %v: it is a write in Redis's table", cmd.Kind)
		}
	}
}
