package rdb

import (
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestFunctionsRoundTrip loads what DumpFunctions writes, long codes
// LZF-compressed included.
func TestFunctionsRoundTrip(t *testing.T) {
	codes := [][]byte{[]byte("#!lua name=a\nx"), []byte("#!lua name=b\n" + strings.Repeat("-- compressible ", 100))}
	p := DumpFunctions(codes)
	if err := Verify(p); err != nil {
		t.Fatal(err)
	}
	got, err := LoadFunctions(p)
	if err != nil || len(got) != 2 || !slices.Equal(got[0], codes[0]) || !slices.Equal(got[1], codes[1]) {
		t.Fatalf("LoadFunctions = %q, %v", got, err)
	}
	if len(p) > len(codes[1])/2 {
		t.Fatalf("the long code was not compressed: %d bytes", len(p))
	}
}

// TestFunctionsBadPayload: payloads claiming huge strings fail without
// allocating what they claim.
func TestFunctionsBadPayload(t *testing.T) {
	footer := make([]byte, 10)
	cases := []struct {
		body string
		want error
	}{
		{"\xf5\x81\x10\x00\x00\x00\x00\x00\x00\x00", ErrFunctionPayload},
		{"\xf5\x80\xff\xff\xff\xff", ErrFunctionPayload},
		{"\xf5\xc3\x05\x81\x7f\xff\xff\xff\xff\xff\xff\xffabcde", ErrFunctionPayload},
		{"\xf6\x81\x10\x00\x00\x00\x00\x00\x00\x00", errPreGAName},
		{"\x00", ErrNotFunction},
	}
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, c := range cases {
		_, err := LoadFunctions(append([]byte(c.body), footer...))
		if !errors.Is(err, c.want) {
			t.Errorf("%q: %v, want %v", c.body, err, c.want)
		}
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Fatalf("allocated %d bytes", grew)
	}
}

// FuzzLoadFunctions: LoadFunctions never panics on any payload, and
// what it loads dumps and loads back the same.
func FuzzLoadFunctions(f *testing.F) {
	f.Add(DumpFunctions([][]byte{[]byte("#!lua name=a\nx"), []byte(strings.Repeat("abc", 40))}))
	f.Add([]byte("\xf6\x02la\x03LUA\x01\x01d\x01b" + strings.Repeat("\x00", 10)))
	f.Fuzz(func(t *testing.T, p []byte) {
		codes, err := LoadFunctions(p)
		if err != nil {
			return
		}
		again, err := LoadFunctions(DumpFunctions(codes))
		if err != nil || len(again) != len(codes) {
			t.Fatalf("reload: %q, %v", again, err)
		}
		for i := range codes {
			if !slices.Equal(again[i], codes[i]) {
				t.Fatalf("code %d: %q, then %q", i, codes[i], again[i])
			}
		}
	})
}
