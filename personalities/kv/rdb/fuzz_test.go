package rdb

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
)

// FuzzLoad feeds Load payloads grown from real DUMP outputs (redis-
// server's and Dump's, and Redis 6 ziplists), with their checksums fixed
// up so that the decoder, not Verify, sees the changes. Load must never
// panic, must allocate no more than a small multiple of the payload and
// of the bytes its LZF strings really inflate to, and what it loads must
// Dump and Load back to the same value.
func FuzzLoad(f *testing.F) {
	for _, g := range golden {
		f.Add([]byte(g.payload))
	}
	for _, o := range oldPayloads {
		f.Add(append([]byte(o.obj), make([]byte, 10)...))
	}
	for _, v := range []Value{
		{Kind: KindList, Items: strs(strings.Repeat("q", 100), "1", "-70000", "9223372036854775807")},
		{Kind: KindSet, Items: strs("1", "2", "-40000", "5000000000")},
		{Kind: KindSet, Items: strs("x", "y")},
		{Kind: KindHash, Items: strs("f", strings.Repeat("v", 70))},
		{Kind: KindZSet, Items: strs(strings.Repeat("m", 70), "n"), Scores: []float64{1.5, -2}},
		{Kind: KindString, Str: []byte(strings.Repeat("abc", 50))},
	} {
		f.Add(Dump(&v))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		if len(p) >= 10 {
			fixChecksum(p)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		v, inflated, err := load(p)
		runtime.ReadMemStats(&after)
		if alloc, limit := after.TotalAlloc-before.TotalAlloc, uint64(64*(len(p)+inflated)+64<<10); alloc > limit {
			t.Fatalf("Load of %d bytes (%d inflated) allocated %d", len(p), inflated, alloc)
		}
		if inflated > lzfMaxExpansion*len(p) {
			t.Fatalf("%d bytes inflated to %d", len(p), inflated)
		}
		if err != nil {
			return
		}
		back, err := Load(Dump(v))
		if err != nil {
			t.Fatalf("Load(Dump(%+v)): %v", v, err)
		}
		if back.Kind != v.Kind || !bytes.Equal(back.Str, v.Str) || len(back.Items) != len(v.Items) {
			t.Fatalf("round trip: %+v, then %+v", v, back)
		}
	})
}

// fixChecksum rewrites p's footer: version 10, the right CRC64.
func fixChecksum(p []byte) {
	n := len(p) - 10
	p[n], p[n+1] = Version, 0
	crc := CRC64(0, p[:n+2])
	for i := range 8 {
		p[n+2+i] = byte(crc >> (8 * i))
	}
}
