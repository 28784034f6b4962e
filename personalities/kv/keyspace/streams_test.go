package keyspace

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
)

// streamRunner runs stream commands as apply does, each at a log time it
// sets.
type streamRunner struct {
	t       *testing.T
	txn     memTxn
	version uint64
	now     int64
}

func (s *streamRunner) at(now int64, words ...string) any {
	s.t.Helper()
	s.version++
	s.now = now
	return run(s.t, applyKeyspace(s.txn, now, s.version<<20, s.version), words...)
}

func (s *streamRunner) ids(r any) []string {
	s.t.Helper()
	var out []string
	for _, e := range r.([]any) {
		out = append(out, string(e.([]any)[0].([]byte)))
	}
	return out
}

// TestStreamAutoIDsFromLogTime checks that XADD's * and ms-* IDs come
// from the log time of the entry, so that every replica picks the same.
func TestStreamAutoIDsFromLogTime(t *testing.T) {
	s := &streamRunner{t: t, txn: newMemTxn(t)}
	for _, tc := range []struct {
		now   int64
		words []string
		want  string
	}{
		{1000, []string{"XADD", "s", "*", "f", "v"}, "1000-0"},
		{1000, []string{"XADD", "s", "*", "f", "v"}, "1000-1"},
		{999, []string{"XADD", "s", "*", "f", "v"}, "1000-2"}, // the log time never goes back, the ID neither
		{2000, []string{"XADD", "s", "*", "f", "v"}, "2000-0"},
		{2000, []string{"XADD", "s", "2000-*", "f", "v"}, "2000-1"},
		{2000, []string{"XADD", "s", "3000-*", "f", "v"}, "3000-0"},
		{2500, []string{"XADD", "s", "*", "f", "v"}, "3000-1"},
	} {
		if got := s.at(tc.now, tc.words...); fmt.Sprint(bytesOr(got)) != tc.want {
			t.Fatalf("at %d %v = %v, want %s", tc.now, tc.words, bytesOr(got), tc.want)
		}
	}
}

func bytesOr(r any) any {
	if b, ok := r.([]byte); ok {
		return string(b)
	}
	return r
}

// TestStreamIdleFromLogTime checks that idle times and delivery times are
// log times: XPENDING's idle, XCLAIM's and XAUTOCLAIM's min-idle, XINFO's.
func TestStreamIdleFromLogTime(t *testing.T) {
	s := &streamRunner{t: t, txn: newMemTxn(t)}
	s.at(100, "XADD", "s", "1-1", "f", "v")
	s.at(100, "XADD", "s", "2-1", "f", "v")
	s.at(100, "XGROUP", "CREATE", "s", "g", "0")
	s.at(1000, "XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">")
	ext := s.at(1250, "XPENDING", "s", "g", "-", "+", "10").([]any)
	if len(ext) != 2 || ext[0].([]any)[2] != int64(250) || ext[1].([]any)[3] != int64(1) {
		t.Fatalf("XPENDING at 1250 = %v", ext)
	}
	if r := s.at(1250, "XPENDING", "s", "g", "IDLE", "251", "-", "+", "10"); len(r.([]any)) != 0 {
		t.Fatalf("XPENDING IDLE 251 at 1250 = %v", r)
	}
	if r := s.at(1299, "XAUTOCLAIM", "s", "g", "bob", "300", "0").([]any); len(r[1].([]any)) != 0 {
		t.Fatalf("XAUTOCLAIM 300 at 1299 claimed %v", r[1])
	}
	if r := s.at(1300, "XAUTOCLAIM", "s", "g", "bob", "300", "0", "COUNT", "1").([]any); !slices.Equal(s.ids(r[1]), []string{"1-1"}) || string(r[0].([]byte)) != "2-1" {
		t.Fatalf("XAUTOCLAIM 300 at 1300 = %v", r)
	}
	if r := s.at(1300, "XCLAIM", "s", "g", "bob", "301", "2-1"); len(r.([]any)) != 0 {
		t.Fatalf("XCLAIM 301 at 1300 = %v", r)
	}
	if r := s.at(1400, "XCLAIM", "s", "g", "carol", "0", "2-1", "IDLE", "50", "RETRYCOUNT", "7", "JUSTID"); !slices.Equal(strs(r), []string{"2-1"}) {
		t.Fatalf("XCLAIM JUSTID = %v", r)
	}
	if r := s.at(1500, "XCLAIM", "s", "g", "dave", "0", "1-1", "TIME", "1450", "JUSTID"); !slices.Equal(strs(r), []string{"1-1"}) {
		t.Fatalf("XCLAIM TIME = %v", r)
	}
	ext = s.at(1600, "XPENDING", "s", "g", "-", "+", "10").([]any)
	want := "[[1-1 dave 150 2] [2-1 carol 250 7]]"
	if got := fmt.Sprintf("%s", strsDeep(ext)); got != want {
		t.Fatalf("XPENDING at 1600 = %s, want %s", got, want)
	}
	cs := s.at(2000, "XINFO", "CONSUMERS", "s", "g").([]any)
	var got []string
	for _, c := range cs {
		m := c.(Map)
		got = append(got, fmt.Sprintf("%s:%d:%d", m[1], m[3], m[5]))
	}
	if want := []string{"alice:0:1000", "bob:0:700", "carol:1:600", "dave:1:500"}; !slices.Equal(got, want) {
		t.Fatalf("XINFO CONSUMERS at 2000 = %v, want %v", got, want)
	}
}

// TestRaxNodes checks the count of radix tree nodes against trees drawn
// by hand.
func TestRaxNodes(t *testing.T) {
	for _, tc := range []struct {
		keys []string
		want int64
	}{
		{nil, 1},
		{[]string{"abcd"}, 2},           // "abcd" -> leaf
		{[]string{"abcd", "abce"}, 4},   // "abc" -> [d e] -> leaf, leaf
		{[]string{"abcd", "abxy"}, 6},   // "ab" -> [c x] -> "d" -> leaf, "y" -> leaf
		{[]string{"abcd", "xbcd"}, 5},   // [a x] -> "bcd" -> leaf, "bcd" -> leaf
		{[]string{"ab", "ac", "ad"}, 5}, // "a" -> [b c d] -> 3 leaves
		{[]string{"aa", "ab", "ba"}, 6}, // [a b] -> [a b] -> 2 leaves, "a" -> leaf
	} {
		var keys [][]byte
		for _, k := range tc.keys {
			keys = append(keys, []byte(k))
		}
		slices.SortFunc(keys, bytes.Compare)
		if got := raxNodes(keys); got != tc.want {
			t.Errorf("raxNodes(%q) = %d, want %d", tc.keys, got, tc.want)
		}
	}
}

// TestStreamNamesKeepOrder checks that escaped group and consumer names
// sort as the names do, and that no name's escape is a prefix of
// another's.
func TestStreamNamesKeepOrder(t *testing.T) {
	names := []string{"", "\x00", "\x00\x00", "\x00\x01", "\x00\xff", "a", "a\x00", "a\x00b", "ab", "b", "\xff"}
	for i, a := range names {
		for _, b := range names[i+1:] {
			ea, eb := esc([]byte(a)), esc([]byte(b))
			if bytes.Compare(ea, eb) >= 0 || bytes.HasPrefix(eb, ea) {
				t.Errorf("esc(%q) = %x, esc(%q) = %x", a, ea, b, eb)
			}
		}
	}
}

// strsDeep renders nested arrays of bulks and integers as strings.
func strsDeep(r any) any {
	switch r := r.(type) {
	case []any:
		out := make([]any, len(r))
		for i, x := range r {
			out[i] = strsDeep(x)
		}
		return out
	case []byte:
		return string(r)
	}
	return fmt.Sprint(r)
}
