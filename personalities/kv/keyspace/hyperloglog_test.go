package keyspace

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"
)

// TestHyperLogLogReplicasAgree applies the same HyperLogLog commands on
// two replicas (each write with its own random seed, as entries carry)
// and requires the same replies and the same bytes: PFCOUNT caches its
// count at apply, PFCOUNT of several keys changes none of them.
func TestHyperLogLogReplicasAgree(t *testing.T) {
	a, b := newHSRunner(t, 1), newHSRunner(t, 2)
	both := func(words ...string) any {
		t.Helper()
		ra, rb := a.do(words...), b.do(words...)
		if fmt.Sprint(ra) != fmt.Sprint(rb) {
			t.Fatalf("%q: replicas answer %v and %v", words, ra, rb)
		}
		return ra
	}
	get := func(key string) []byte {
		t.Helper()
		va, _ := both("GET", key).([]byte)
		return va
	}
	for i := range 40 {
		words := []string{"PFADD", "big"}
		for j := range 50 {
			words = append(words, fmt.Sprint("e", i*50+j))
		}
		both(words...)
	}
	both("PFADD", "small", "a", "b", "c")
	if v := get("big"); len(v) != 12304 || v[15]&0x80 == 0 {
		t.Fatalf("after PFADD: %d bytes, cache byte %#x; want a dense value with a stale cache", len(v), v[15])
	}
	bigBefore, smallBefore := get("big"), get("small")
	union := both("PFCOUNT", "big", "small")
	if !bytes.Equal(get("big"), bigBefore) || !bytes.Equal(get("small"), smallBefore) {
		t.Fatal("PFCOUNT of two keys changed them")
	}
	n := both("PFCOUNT", "big").(int64)
	v := get("big")
	if card := binary.LittleEndian.Uint64(v[8:16]); card != uint64(n) {
		t.Fatalf("PFCOUNT answered %d and cached %d", n, card)
	}
	if n < 1950 || n > 2050 || union.(int64) < n {
		t.Fatalf("2000 elements counted %d, with 3 more %v", n, union)
	}
	both("PFMERGE", "m", "big")
	if m := get("m"); !bytes.Equal(m[16:], v[16:]) || m[15]&0x80 == 0 {
		t.Fatal("PFMERGE of one dense value: other registers, or a current cache")
	}
}
