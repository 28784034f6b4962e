package native

import (
	"fmt"
	"testing"

	"hourglass/loglet"
)

func entries(from, to int) [][]byte {
	var out [][]byte
	for i := from; i < to; i++ {
		out = append(out, []byte(fmt.Sprint(i)))
	}
	return out
}

func checkRead(t *testing.T, r *recentEntries, from, to loglet.Position, want []int) {
	t.Helper()
	got := r.read(from, to)
	if want == nil {
		if got != nil {
			t.Fatalf("read(%d,%d) = %q, want a miss", from, to, got)
		}
		return
	}
	if len(got) != len(want) {
		t.Fatalf("read(%d,%d) = %q, want %v", from, to, got, want)
	}
	for i, w := range want {
		if string(got[i]) != fmt.Sprint(w) {
			t.Fatalf("read(%d,%d) = %q, want %v", from, to, got, want)
		}
	}
}

func TestRecentEntries(t *testing.T) {
	var r recentEntries
	r.add(0, entries(0, 5))
	checkRead(t, &r, 0, 3, []int{0, 1, 2})
	checkRead(t, &r, 3, 100, []int{3, 4})
	checkRead(t, &r, 5, 6, nil)
	// The window slides once it is full.
	r.add(5, entries(5, recentMaxEntries+10))
	checkRead(t, &r, 9, 10, nil)
	checkRead(t, &r, 10, 12, []int{10, 11})
	// A discontinuous add (after recovery, say) starts a new window.
	r.add(50000, entries(50000, 50002))
	checkRead(t, &r, 10, 11, nil)
	checkRead(t, &r, 50000, 50002, []int{50000, 50001})
	// Clipping to a final tail and a trim point.
	r.add(50002, entries(50002, 50010))
	r.clip(50003, 50006)
	checkRead(t, &r, 50002, 50003, nil)
	checkRead(t, &r, 50003, 50010, []int{50003, 50004, 50005})
	r.clip(0, 50003)
	checkRead(t, &r, 50003, 50004, nil)
	r.add(50003, entries(50003, 50004))
	checkRead(t, &r, 50003, 50004, []int{50003})
	// Reads return copies.
	got := r.read(50003, 50004)
	got[0][0] = 'X'
	checkRead(t, &r, 50003, 50004, []int{50003})
	// The byte bound holds too.
	var big recentEntries
	for i := range 100 {
		big.add(loglet.Position(i), [][]byte{make([]byte, 1<<20)})
	}
	if big.bytes > recentMaxBytes || len(big.entries) != recentMaxBytes>>20 {
		t.Fatalf("window holds %d bytes in %d entries", big.bytes, len(big.entries))
	}
}
