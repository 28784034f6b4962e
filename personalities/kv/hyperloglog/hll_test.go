package hyperloglog

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func TestNewIsRedisEmptyValue(t *testing.T) {
	want := []byte("HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff")
	v := New()
	if !bytes.Equal(v, want) {
		t.Fatalf("New() = %q, want %q", v, want)
	}
	if n, err := Count(v); n != 0 || err != nil {
		t.Fatalf("Count(New()) = %d, %v", n, err)
	}
	if card, ok := Cached(v); card != 0 || !ok {
		t.Fatalf("Cached(New()) = %d, %v", card, ok)
	}
}

// TestSparseAgreesWithDense adds the same elements to a sparse and a
// dense value and requires the same registers and count all along, the
// sparse value within SparseMaxBytes until it turns dense.
func TestSparseAgreesWithDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sparse := New()
	dense, err := ToDense(New())
	if err != nil {
		t.Fatal(err)
	}
	promotedAt := 0
	for i := 1; i <= 20000; i++ {
		ele := fmt.Appendf(nil, "visitor:%d", rng.Uint64())
		var c1, c2 bool
		if sparse, c1, err = Add(sparse, ele); err != nil {
			t.Fatalf("element %d: %v", i, err)
		}
		if dense, c2, err = Add(dense, ele); err != nil {
			t.Fatalf("element %d: %v", i, err)
		}
		if c1 != c2 {
			t.Fatalf("element %d: sparse changed %v, dense %v", i, c1, c2)
		}
		if IsSparse(sparse) && len(sparse) > SparseMaxBytes {
			t.Fatalf("element %d: sparse value of %d bytes", i, len(sparse))
		}
		if promotedAt == 0 && !IsSparse(sparse) {
			promotedAt = i
		}
		if i%997 != 0 && i != 20000 {
			continue
		}
		d, err := ToDense(sparse)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(RegistersOf(d), RegistersOf(dense)) {
			t.Fatalf("element %d: sparse and dense registers differ", i)
		}
		n1, err1 := Count(sparse)
		n2, err2 := Count(dense)
		if n1 != n2 || err1 != nil || err2 != nil {
			t.Fatalf("element %d: sparse counts %d (%v), dense %d (%v)", i, n1, err1, n2, err2)
		}
	}
	if promotedAt == 0 || len(dense) != DenseSize {
		t.Fatalf("never promoted (%d), dense size %d", promotedAt, len(dense))
	}
	t.Logf("promoted to dense at element %d", promotedAt)
}

func TestRegisterOver32Promotes(t *testing.T) {
	v, changed, err := set(New(), 16383, 40)
	if err != nil || !changed || IsSparse(v) || len(v) != DenseSize {
		t.Fatalf("set 40: changed %v, err %v, sparse %v, len %d", changed, err, IsSparse(v), len(v))
	}
	regs := RegistersOf(v)
	if regs[16383] != 40 || regs[16382] != 0 {
		t.Fatalf("registers 16382, 16383 = %d, %d", regs[16382], regs[16383])
	}
	if _, changed, _ = set(v, 16383, 39); changed {
		t.Fatal("a lower value changed the register")
	}
}

// TestCountAccuracy checks the estimator against exact cardinalities,
// within four standard errors (1.04/sqrt(16384) = 0.81%).
func TestCountAccuracy(t *testing.T) {
	v := New()
	var u Union
	next := 10
	for i := 1; i <= 200000; i++ {
		v, _, _ = Add(v, fmt.Appendf(nil, "e%d", i))
		if i != next {
			continue
		}
		next *= 10
		n, err := Count(v)
		if err != nil {
			t.Fatal(err)
		}
		if e := math.Abs(float64(n)-float64(i)) / float64(i); e > 4*1.04/128 {
			t.Errorf("%d elements counted %d (error %.2f%%)", i, n, 100*e)
		}
		u = Union{}
		if err := u.Merge(v); err != nil || u.Count() != n {
			t.Errorf("union of one value counts %d (%v), the value %d", u.Count(), err, n)
		}
	}
}

func TestUnionStore(t *testing.T) {
	a, b := New(), New()
	for i := range 3000 {
		a, _, _ = Add(a, fmt.Appendf(nil, "a%d", i))
		b, _, _ = Add(b, fmt.Appendf(nil, "b%d", i%50))
	}
	var u Union
	if u.Merge(a) != nil || u.Merge(b) != nil {
		t.Fatal("merge failed")
	}
	dst := u.Store(New())
	if _, ok := Cached(dst); ok {
		t.Fatal("the stored union's cache is current")
	}
	n, err := Count(dst)
	if err != nil || n != u.Count() {
		t.Fatalf("stored union counts %d (%v), the union %d", n, err, u.Count())
	}
}

// sparseOf returns a sparse value with the given opcodes.
func sparseOf(ops ...byte) []byte { return append(New()[:HeaderSize], ops...) }

func TestCorruptValues(t *testing.T) {
	for _, c := range []struct {
		name string
		v    []byte
	}{
		{"no opcodes", sparseOf()},
		{"too few registers", sparseOf(0x7f, 0xfe)},
		{"too many registers", sparseOf(0x7f, 0xff, 0x00)},
		{"VAL past the last register", sparseOf(0x7f, 0xfd, 0x83)},
		{"VAL after every register", sparseOf(0x7f, 0xff, 0x80)},
		{"XZERO cut short", sparseOf(0x7f)},
		{"zeros only", sparseOf(bytes.Repeat([]byte{0x3f}, 255)...)},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !Valid(c.v) {
				t.Fatal("not Valid")
			}
			if _, err := Count(c.v); !errors.Is(err, ErrCorrupt) {
				t.Errorf("Count: %v", err)
			}
			var u Union
			if err := u.Merge(c.v); !errors.Is(err, ErrCorrupt) {
				t.Errorf("Merge: %v", err)
			}
			if _, err := ToDense(c.v); !errors.Is(err, ErrCorrupt) {
				t.Errorf("ToDense: %v", err)
			}
		})
	}
	dense := func(n int) []byte { return append([]byte("HYLL\x00"), make([]byte, n-5)...) }
	for _, v := range [][]byte{nil, []byte("HYLL"), []byte("HYLX\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff"),
		[]byte("HYLL\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff"), dense(HeaderSize), dense(DenseSize - 1), dense(DenseSize + 1)} {
		if Valid(v) {
			t.Errorf("Valid(%q)", v)
		}
	}
	if !Valid(dense(DenseSize)) {
		t.Error("a dense value of the dense size is not Valid")
	}
	// A register the opcodes do not reach (they cover 0 to 16128).
	short := sparseOf(0x7f, 0x00)
	if _, _, err := set(short, 16200, 1); !errors.Is(err, ErrCorrupt) {
		t.Errorf("set beyond the opcodes: %v", err)
	}
	if v, changed, err := set(bytes.Clone(short), 5, 1); !changed || err != nil || len(v) != len(short)+2 {
		t.Errorf("set within the opcodes: %q, %v, %v", v, changed, err)
	}
}

func TestDecode(t *testing.T) {
	v := sparseOf(0x40, 0x09, 0x84, 0x00, 0x7f, 0xf3)
	got, err := Decode(v)
	if want := "Z:10 v:2,1 z:1 Z:16372"; string(got) != want || err != nil {
		t.Fatalf("Decode = %q, %v; want %q", got, err, want)
	}
	if got, err := Decode(sparseOf()); len(got) != 0 || err != nil {
		t.Fatalf("Decode of no opcodes = %q, %v", got, err)
	}
	if _, err := Decode(sparseOf(bytes.Repeat([]byte{0x3f}, MaxDecode)...)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Decode of a huge value: %v", err)
	}
}

func TestSelfTest(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	if err := SelfTest(func() uint32 { return rng.Uint32() >> 1 }); err != nil {
		t.Fatal(err)
	}
}

// FuzzValue feeds arbitrary registers behind a valid header to every
// function: none may panic, read out of bounds or grow a value beyond a
// dense one or three bytes more than it was.
func FuzzValue(f *testing.F) {
	f.Add(byte(1), []byte{0x7f, 0xff}, []byte("a"))
	f.Add(byte(1), []byte{0x7f}, []byte("b"))
	f.Add(byte(1), []byte{0x40, 0x00, 0x80, 0x7f, 0xfd}, []byte("c"))
	f.Add(byte(1), []byte{0x7f, 0xfe, 0xfc, 0xfc}, []byte(""))
	f.Add(byte(0), bytes.Repeat([]byte{0xff}, DenseSize-HeaderSize), []byte("d"))
	f.Fuzz(func(t *testing.T, enc byte, regs, ele []byte) {
		v := append(New()[:HeaderSize:HeaderSize], regs...)
		v[4] = enc
		if !Valid(v) {
			return
		}
		orig := bytes.Clone(v)
		Count(v)
		var u Union
		u.Merge(v)
		if IsSparse(v) {
			Decode(v)
		}
		if d, err := ToDense(v); err == nil && len(d) != DenseSize {
			t.Fatalf("ToDense made %d bytes", len(d))
		}
		if !bytes.Equal(v, orig) {
			t.Fatal("a read changed the value")
		}
		out, _, err := Add(bytes.Clone(v), ele)
		if err != nil {
			return
		}
		if len(out) > max(len(v)+3, DenseSize) {
			t.Fatalf("Add grew %d bytes to %d", len(v), len(out))
		}
		if !Valid(out) {
			t.Fatalf("Add made an invalid value %q", out)
		}
	})
}
