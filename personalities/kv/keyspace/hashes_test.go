package keyspace

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// hsRunner runs commands against one in-memory store as the apply path
// does: check first, each write at a new version with its own seed.
type hsRunner struct {
	t       *testing.T
	txn     memTxn
	version uint64
	rng     *rand.Rand
}

func newHSRunner(t *testing.T, seed uint64) *hsRunner {
	return &hsRunner{t: t, txn: newMemTxn(t), rng: rand.New(rand.NewPCG(seed, 1))}
}

func (h *hsRunner) keyspace() *Keyspace {
	h.version++
	return applyKeyspace(h.txn, 1_000_000, h.version<<20, h.rng.Uint64())
}

// do runs one command given as words, each in a keyspace of its own (a
// new version and seed), and returns its reply (an Error for a command's
// failure); for a scan, the first step's items. A storage error fails
// the test.
func (h *hsRunner) do(words ...string) any {
	h.t.Helper()
	args := argv(words)
	if cmd := Lookup(args[0]); cmd != nil && cmd.Kind == KindScan {
		if err := cmd.checkAt(args, 0); err != nil {
			return err
		}
		r, err := cmd.Scan(h.keyspace(), args, nil)
		r = replyOrFail(h.t, r, err)
		if step, ok := r.([]any); ok {
			return step[1]
		}
		return r
	}
	return run(h.t, h.keyspace(), words...)
}

// strs renders an array-like reply as strings.
func strs(r any) []string {
	var items []any
	switch r := r.(type) {
	case []any:
		items = r
	case Set:
		items = r
	case Map:
		items = r
	case Pairs:
		items = r
	default:
		return nil
	}
	out := make([]string, len(items))
	for i, x := range items {
		out[i] = fmt.Sprint(x)
		if b, ok := x.([]byte); ok {
			out[i] = string(b)
		}
	}
	return out
}

func TestParseLongDouble(t *testing.T) {
	for _, c := range []struct {
		in      string
		inf, ok bool
	}{
		{"1", false, true}, {"-1.5", false, true}, {"+2", false, true}, {".5", false, true}, {"5.", false, true},
		{"1e10", false, true}, {"1E-3", false, true}, {"-0", false, true}, {"0", false, true},
		{"1e400", false, true}, {"1e4932", false, true}, {"1e-4940", false, true},
		{"inf", true, true}, {"-inf", true, true}, {"+INF", true, true}, {"Infinity", true, true},
		{"", false, false}, {" 1", false, false}, {"1 ", false, false}, {"abc", false, false}, {"nan", false, false},
		{"--1", false, false}, {"+-1", false, false}, {"1e5000", false, false}, {"1e-5000", false, false},
		{"1.2.3", false, false}, {"e5", false, false}, {"-", false, false}, {"infx", false, false},
		{"0x10", false, true}, {"-0X1.8p1", false, true}, {"0x", false, false}, {"0x_10", false, false},
		{"1_0", false, false}, {"0b1", false, false}, {"0xg", false, false},
	} {
		_, inf, ok := parseLongDouble([]byte(c.in))
		if inf != c.inf || ok != c.ok {
			t.Errorf("parseLongDouble(%q) = %v, %v; want %v, %v", c.in, inf, ok, c.inf, c.ok)
		}
	}
}

func TestParseLongDoubleHex(t *testing.T) {
	for in, want := range map[string]string{"0x10": "16", "-0X1.8p1": "-3", "0x.8": "0.5", "0x1p-2": "0.25"} {
		dec, _, ok := parseLongDouble([]byte(in))
		if !ok {
			t.Fatalf("parseLongDouble(%q) failed", in)
		}
		if sum, _ := addLongDouble(dec, []byte("0")); string(sum) != want {
			t.Errorf("%q reads as %q (%q), want %q", in, dec, sum, want)
		}
	}
}

func TestDistinctPositions(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	const n, k, rounds = 10, 3, 30000
	hits := make([]int, n)
	for range rounds {
		pos := distinctPositions(r, n, k)
		if len(pos) != k || !slices.IsSorted(pos) || len(slices.Compact(slices.Clone(pos))) != k {
			t.Fatalf("distinctPositions(%d, %d) = %v", n, k, pos)
		}
		for _, p := range pos {
			if p < 0 || p >= n {
				t.Fatalf("position %d out of [0, %d)", p, n)
			}
			hits[p]++
		}
	}
	// Each position is picked with probability k/n.
	want := rounds * k / n
	for p, h := range hits {
		if h < want*9/10 || h > want*11/10 {
			t.Errorf("position %d picked %d times, want about %d", p, h, want)
		}
	}
}

func TestRandomElems(t *testing.T) {
	h := newHSRunner(t, 1)
	h.do("HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5")
	ks := h.keyspace()
	rec, _, _ := ks.lookupType([]byte("h"), typeHash)
	pick := func(seed uint64, count int64, uniq bool) []string {
		els, err := ks.randomElems(rec, rand.New(rand.NewPCG(seed, 0)), count, uniq)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range els {
			if string(e.val) != fmt.Sprint(e.sub[0]-'a'+1) {
				t.Fatalf("element %q has value %q", e.sub, e.val)
			}
			out = append(out, string(e.sub))
		}
		return out
	}
	if got := pick(1, 9, true); !slices.Equal(got, []string{"a", "b", "c", "d", "e"}) {
		t.Fatalf("count above size = %q, want the whole hash in order", got)
	}
	for seed := range uint64(50) {
		got := pick(seed, 3, true)
		if len(got) != 3 || !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != 3 {
			t.Fatalf("3 distinct = %q", got)
		}
		if rep := pick(seed, 20, false); len(rep) != 20 {
			t.Fatalf("20 with repeats = %q", rep)
		}
		if !slices.Equal(pick(seed, 20, false), pick(seed, 20, false)) {
			t.Fatal("the same seed picked differently")
		}
	}
	if got := pick(1, 0, true); len(got) != 0 {
		t.Fatalf("count 0 = %q", got)
	}
}

func TestHashCommands(t *testing.T) {
	h := newHSRunner(t, 2)
	if got := h.do("HSET", "h", "b", "2", "a", "1", "b", "3"); got != int64(2) {
		t.Fatalf("HSET = %v", got)
	}
	if got := strs(h.do("HGETALL", "h")); !slices.Equal(got, []string{"a", "1", "b", "3"}) {
		t.Fatalf("HGETALL = %q", got)
	}
	if got := h.do("HINCRBYFLOAT", "h", "a", "0.1"); string(got.([]byte)) != "1.1" {
		t.Fatalf("HINCRBYFLOAT = %q", got)
	}
	if got := h.do("HINCRBY", "h", "a", "1"); got != Error("ERR hash value is not an integer") {
		t.Fatalf("HINCRBY on 1.1 = %v", got)
	}
	if got := h.do("HINCRBYFLOAT", "h", "x", "inf"); got != errNaNOrInf {
		t.Fatalf("HINCRBYFLOAT inf = %v", got)
	}
	h.do("HSET", "h", "big", "1e4932")
	if got := h.do("HINCRBYFLOAT", "h", "big", "1e4932"); got != Error("ERR increment would produce NaN or Infinity") {
		t.Fatalf("HINCRBYFLOAT past the long double range = %v", got)
	}
	// A failed command leaves the hash as it was.
	if got := h.do("HLEN", "h"); got != int64(3) {
		t.Fatalf("HLEN = %v", got)
	}
	if got := strs(h.do("HRANDFIELD", "h", "-2", "WITHVALUES")); len(got) != 4 {
		t.Fatalf("HRANDFIELD -2 WITHVALUES = %q", got)
	}
	if _, ok := h.do("HRANDFIELD", "h", "2", "WITHVALUES").(Pairs); !ok {
		t.Fatal("HRANDFIELD WITHVALUES is not a pairs reply")
	}
	// Picks with repeats are bounded, on every collection type; a
	// missing key still answers an empty array, as in Redis.
	h.do("SADD", "s", "m")
	h.do("ZADD", "z", "1", "m")
	for _, cmd := range [][]string{{"HRANDFIELD", "h"}, {"SRANDMEMBER", "s"}, {"ZRANDMEMBER", "z"}} {
		if got := h.do(cmd[0], cmd[1], "-1048577"); got != errTooManyPicks {
			t.Fatalf("%s -1048577 = %v", cmd[0], got)
		}
		if got := strs(h.do(cmd[0], "missing", "-1048577")); len(got) != 0 {
			t.Fatalf("%s on a missing key = %q", cmd[0], got)
		}
		if got := h.do(cmd[0], cmd[1], "-9223372036854775808"); got != errCountRange {
			t.Fatalf("%s -2^63 = %v", cmd[0], got)
		}
	}
	if got := strs(h.do("SRANDMEMBER", "s", "-1048576")); len(got) != 1048576 {
		t.Fatalf("SRANDMEMBER -1048576 gave %d members", len(got))
	}
	h.do("DEL", "s", "z")
	if got := strs(h.do("HSCAN", "h", "0", "MATCH", "?")); !slices.Equal(got, []string{"a", "1.1", "b", "3"}) {
		t.Fatalf("HSCAN MATCH ? = %q", got)
	}
	if got := h.do("HDEL", "h", "a", "b", "big", "zz"); got != int64(3) {
		t.Fatalf("HDEL = %v", got)
	}
	if n, _ := h.keyspace().size(); n != 0 {
		t.Fatalf("DBSIZE after emptying the hash = %d", n)
	}
}
