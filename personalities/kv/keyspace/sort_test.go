package keyspace

import (
	"slices"
	"testing"
	"time"

	"hourglass/platform"
)

func TestSortKinds(t *testing.T) {
	sort := Lookup([]byte("sort"))
	for _, c := range []struct {
		words []string
		want  Kind
	}{
		{[]string{"SORT", "l"}, KindRead},
		{[]string{"SORT", "l", "STORE", "d"}, KindWrite},
		{[]string{"SORT", "l", "GET", "store", "LIMIT", "0", "1"}, KindRead},
		{[]string{"SORT", "l", "BY", "w_*", "store", "d", "DESC"}, KindWrite},
		{[]string{"SORT", "l", "STORE"}, KindRead}, // a syntax error
	} {
		if got := sort.KindOf(argv(c.words)); got != c.want {
			t.Errorf("KindOf(%q) = %v, want %v", c.words, got, c.want)
		}
	}
	if got := Lookup([]byte("sort_ro")).KindOf(argv([]string{"SORT_RO", "l", "STORE", "d"})); got != KindRead {
		t.Errorf("SORT_RO with STORE is a %v", got)
	}
}

// TestSortStoreApplies runs SORT ... STORE through Apply, as a log entry,
// and reads the stored list back.
func TestSortStoreApplies(t *testing.T) {
	txn := newMemTxn(t)
	var fx Effects
	apply := func(pos uint64, words ...string) any {
		t.Helper()
		r, err := Apply(txn, platform.Version{Pos: platform.Position(pos)}, time.UnixMilli(1_000_000), EncodeCommand(0, 7, argv(words)), &fx)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	apply(1, "RPUSH", "ids", "1", "2", "3")
	apply(2, "MSET", "w_1", "30", "w_2", "10", "w_3", "20", "n_1", "a", "n_3", "c")
	if got := apply(3, "SORT", "ids", "BY", "w_*", "GET", "n_*", "GET", "#", "STORE", "dst"); got != int64(6) {
		t.Fatalf("SORT STORE = %v", got)
	}
	got := strs(apply(4, "LMPOP", "1", "dst", "LEFT", "COUNT", "10").([]any)[1])
	if want := []string{"", "2", "c", "3", "a", "1"}; !slices.Equal(got, want) {
		t.Fatalf("stored %q, want %q", got, want)
	}
	// Without STORE, SORT is a read: not a log entry.
	if got, ok := apply(5, "SORT", "ids").(Error); !ok {
		t.Fatalf("SORT without STORE applied: %v", got)
	}
}
