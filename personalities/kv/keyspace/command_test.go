package keyspace

import (
	"bytes"
	"math"
	"testing"
)

func TestParseInt(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"1", 1, true}, {"-1", -1, true}, {"42", 42, true},
		{"9223372036854775807", math.MaxInt64, true},
		{"-9223372036854775808", math.MinInt64, true},
		{"9223372036854775808", 0, false}, {"-9223372036854775809", 0, false},
		{"", 0, false}, {"-", 0, false}, {"+1", 0, false}, {"01", 0, false}, {"-0", 0, false},
		{" 1", 0, false}, {"1 ", 0, false}, {"1.5", 0, false}, {"1e3", 0, false},
		{"99999999999999999999", 0, false}, {"123456789012345678901", 0, false},
	} {
		got, ok := ParseInt([]byte(c.in))
		if ok != c.ok || got != c.want {
			t.Errorf("ParseInt(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestCommandBodyRoundTrip(t *testing.T) {
	args := [][]byte{[]byte("SET"), []byte("k"), {}, bytes.Repeat([]byte{0xff}, 300)}
	db, seed, got, err := decodeCommand(EncodeCommand(7, 1<<40, args))
	if err != nil || db != 7 || seed != 1<<40 || len(got) != len(args) {
		t.Fatalf("decode = %d, %q, %v", db, got, err)
	}
	for i := range args {
		if !bytes.Equal(got[i], args[i]) {
			t.Fatalf("arg %d = %q, want %q", i, got[i], args[i])
		}
	}
	for _, bad := range [][]byte{nil, {0}, {0, 1}, {0, 1, 5, 'a'}, append(EncodeCommand(0, 0, args), 0)} {
		if _, _, _, err := decodeCommand(bad); err == nil {
			t.Errorf("decodeCommand(%q) accepted a malformed body", bad)
		}
	}
}

func FuzzDecodeCommand(f *testing.F) {
	f.Add(EncodeCommand(0, 5, [][]byte{[]byte("GET"), []byte("k")}))
	f.Add([]byte{0, 0, 200, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		db, seed, args, err := decodeCommand(b)
		if err != nil {
			return
		}
		if !bytes.Equal(EncodeCommand(db, seed, args), b) {
			t.Fatalf("decode/encode of %q is not the identity", b)
		}
	})
}

func TestSetOptions(t *testing.T) {
	split := func(s string) [][]byte { return bytes.Fields([]byte(s)) }
	for _, c := range []struct {
		in  string
		err error
	}{
		{"SET k v", nil}, {"SET k v NX", nil}, {"SET k v xx get", nil}, {"SET k v EX 1 EX 2", nil},
		{"SET k v KEEPTTL", nil}, {"SET k v PXAT 5 GET NX", nil},
		{"SET k v NX XX", ErrSyntax}, {"SET k v EX 1 PX 1", ErrSyntax}, {"SET k v EX", ErrSyntax},
		{"SET k v KEEPTTL EX 1", ErrSyntax}, {"SET k v EX 1 KEEPTTL", ErrSyntax}, {"SET k v EXAT 1 EX 1", ErrSyntax},
		{"SET k v FOO", ErrSyntax},
	} {
		if _, err := parseSetOptions(split(c.in), 3, false); err != c.err {
			t.Errorf("parseSetOptions(%q) = %v, want %v", c.in, err, c.err)
		}
	}
	o, _ := parseSetOptions(split("SET k v EX 10"), 3, false)
	if at, err := o.expireAt(1000, "set"); err != nil || at != 11000 {
		t.Fatalf("EX 10 at 1000 = %d, %v", at, err)
	}
	o, _ = parseSetOptions(split("SET k v PX 9223372036854775807"), 3, false)
	if _, err := o.expireAt(1000, "set"); err == nil {
		t.Fatal("PX overflowing the base time was accepted")
	}
}
