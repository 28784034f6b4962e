package rdb

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestCRC64(t *testing.T) {
	// Redis's crc64 test vector.
	if got := CRC64(0, []byte("123456789")); got != 0xe9c6d914c4b8d9ca {
		t.Fatalf("crc64(123456789) = %#x", got)
	}
}

func strs(items ...string) [][]byte {
	out := make([][]byte, len(items))
	for i, s := range items {
		out[i] = []byte(s)
	}
	return out
}

// golden holds payloads redis-server 7.0.15 DUMPed, and their values.
var golden = []struct {
	name    string
	payload string
	v       Value
	same    bool // Dump writes the same bytes
}{
	{"raw", "\x00\x05hello\n\x00cr\xdfve4 \n", Value{Kind: KindString, Str: []byte("hello")}, true},
	{"int16", "\x00\xc190\n\x00\x9d\x94\xea'\x93\xfc\b\xb9", Value{Kind: KindString, Str: []byte("12345")}, true},
	{"int8", "\x00\xc0\xf9\n\x00^&\xd10\xd7\xa2B\xab", Value{Kind: KindString, Str: []byte("-7")}, true},
	{"lzf", "\x00\xc3\t1\x01aa\xe0$\x00\x01aa\n\x00\xbc\x14x\x0cX\x92\x14\x9a", Value{Kind: KindString, Str: []byte(strings.Repeat("a", 49))}, true},
	{"bigint", "\x00\n4294967296\n\x00\xa5\xa3\x89\xc8\x1a\x8cFV", Value{Kind: KindString, Str: []byte("4294967296")}, true},
	{"list", "\x12\x01\x02$$\x00\x00\x00\x06\x00\x81a\x02\x81b\x02\x01\x01\xdf8\x02\xf2p\x11\x01\x04\x8bx9999999999\x0c\xff\n\x00{\xc2\xdb\xcc\xbe\xa2\x16S",
		Value{Kind: KindList, Items: strs("a", "b", "1", "-200", "70000", "x9999999999")}, true},
	{"intset", "\x0b\x18\x04\x00\x00\x00\x04\x00\x00\x00\xfd\xff\xff\xff\x01\x00\x00\x00\x05\x00\x00\x00p\x11\x01\x00\n\x00\xcc\x8a]\x00\xce\xbb\xe2W",
		Value{Kind: KindSet, Items: strs("-3", "1", "5", "70000")}, true},
	{"set", "\x02\x03\x01a\x01b\x01c\n\x00\xad\x9blT\xeeJ$\xad", Value{Kind: KindSet, Items: strs("a", "b", "c")}, true},
	{"hash", "\x10\x12\x12\x00\x00\x00\x04\x00\x81f\x02\x81v\x02\x81n\x02\x0c\x01\xff\n\x00\x016\x94\x81\xd3[\x89t",
		Value{Kind: KindHash, Items: strs("f", "v", "n", "12")}, true},
	{"zset", "\x11''\x00\x00\x00\b\x00\x81c\x02\x84-inf\x05\x81a\x02\x01\x01\x81b\x02\x832.5\x04\x81d\x02\x851e+20\x06\xff\n\x00\x1cz\xdd\x1f\xef\x02^m",
		Value{Kind: KindZSet, Items: strs("c", "a", "b", "d"), Scores: []float64{math.Inf(-1), 1, 2.5, 1e20}}, true},
}

func TestGoldenPayloads(t *testing.T) {
	for _, g := range golden {
		t.Run(g.name, func(t *testing.T) {
			p := []byte(g.payload)
			if err := Verify(p); err != nil {
				t.Fatal(err)
			}
			v, err := Load(p)
			if err != nil {
				t.Fatal(err)
			}
			sameValue(t, v, &g.v)
			d := Dump(&g.v)
			if g.same && !bytes.Equal(d, p) {
				t.Fatalf("Dump = %q, redis-server %q", d, p)
			}
			back, err := Load(d)
			if err != nil || Verify(d) != nil {
				t.Fatalf("Load(Dump) = %v, Verify %v", err, Verify(d))
			}
			sameValue(t, back, &g.v)
		})
	}
}

func sameValue(t *testing.T, got, want *Value) {
	t.Helper()
	if got.Kind != want.Kind || !bytes.Equal(got.Str, want.Str) || !slices.EqualFunc(got.Items, want.Items, bytes.Equal) || !slices.Equal(got.Scores, want.Scores) {
		t.Fatalf("value %+v, want %+v", got, want)
	}
}

// TestEncodingsBySize checks the encodings chosen for larger values and
// that each reads back.
func TestEncodingsBySize(t *testing.T) {
	many := func(n int, f func(i int) string) [][]byte {
		out := make([][]byte, n)
		for i := range out {
			out[i] = []byte(f(i))
		}
		return out
	}
	long := strings.Repeat("x", 65)
	for _, c := range []struct {
		name string
		v    Value
		typ  byte
	}{
		{"intset", Value{Kind: KindSet, Items: many(512, strconv.Itoa)}, typeSetIntset},
		{"set", Value{Kind: KindSet, Items: many(513, strconv.Itoa)}, typeSet},
		{"wideintset", Value{Kind: KindSet, Items: strs("1", "-9223372036854775808", "40000")}, typeSetIntset},
		{"hashlistpack", Value{Kind: KindHash, Items: many(1024, func(i int) string { return fmt.Sprint("f", i) })}, typeHashListpack},
		{"hashbig", Value{Kind: KindHash, Items: many(1026, func(i int) string { return fmt.Sprint("f", i) })}, typeHash},
		{"zsetbig", Value{Kind: KindZSet, Items: many(129, func(i int) string { return fmt.Sprint("m", i) }), Scores: make([]float64, 129)}, typeZSet2},
		{"hashlong", Value{Kind: KindHash, Items: strs("f", long)}, typeHash},
		{"zsetlong", Value{Kind: KindZSet, Items: strs(long), Scores: []float64{0.1}}, typeZSet2},
		{"list", Value{Kind: KindList, Items: many(5000, func(i int) string { return fmt.Sprint("item", i) })}, typeListQuicklist2},
		{"biglist", Value{Kind: KindList, Items: strs(strings.Repeat("y", 20000), "z")}, typeListQuicklist2},
		{"lzf", Value{Kind: KindString, Str: []byte(strings.Repeat("abcdefgh", 4000))}, typeString},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.v.Kind == KindZSet {
				c.v.Scores = c.v.Scores[:len(c.v.Items)]
			}
			d := Dump(&c.v)
			if d[0] != c.typ {
				t.Fatalf("type %d, want %d", d[0], c.typ)
			}
			v, err := Load(d)
			if err != nil {
				t.Fatal(err)
			}
			if c.typ == typeZSet2 { // written from the greatest score down
				slices.Reverse(v.Items)
				slices.Reverse(v.Scores)
			}
			if c.v.Kind == KindSet {
				slices.SortFunc(v.Items, bytes.Compare)
				slices.SortFunc(c.v.Items, bytes.Compare)
			}
			sameValue(t, v, &c.v)
		})
	}
}

func TestBadPayloads(t *testing.T) {
	good := Dump(&Value{Kind: KindList, Items: strs("a", "b", "c")})
	flipped := bytes.Clone(good)
	flipped[3] ^= 1
	newer := bytes.Clone(good)
	newer[len(newer)-10] = 11
	for name, p := range map[string][]byte{"flipped": flipped, "newer": newer, "short": good[:9], "truncated": good[:len(good)-1]} {
		if err := Verify(p); err != ErrChecksum {
			t.Errorf("%s: Verify = %v", name, err)
		}
	}
	// A correct footer over a cut object.
	for n := 0; n < len(good)-10; n++ {
		p := append(bytes.Clone(good[:n]), 10, 0)
		p = append(p, make([]byte, 8)...)
		b := p[:len(p)-8]
		crc := CRC64(0, b)
		for i := range 8 {
			p[len(b)+i] = byte(crc >> (8 * i))
		}
		if err := Verify(p); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(p); err != ErrBadFormat {
			t.Errorf("object cut at %d: Load = %v", n, err)
		}
	}
}

func TestLZF(t *testing.T) {
	for _, s := range []string{strings.Repeat("a", 21), strings.Repeat("abc", 1000), "the quick brown fox jumps over the lazy dog the quick brown fox"} {
		c := lzfCompress([]byte(s), len(s)-4)
		if c == nil {
			t.Fatalf("%q did not compress", s)
		}
		d, ok := lzfDecompress(c, len(s))
		if !ok || string(d) != s {
			t.Fatalf("round trip of %q: %q %v", s, d, ok)
		}
	}
	if lzfCompress([]byte("abcdefghijklmnopqrstuvwxyz"), 22) != nil {
		t.Fatal("incompressible text compressed")
	}
}
