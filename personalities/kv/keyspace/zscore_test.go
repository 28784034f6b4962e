package keyspace

import (
	"bytes"
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

func TestScoreEncodingOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	vals := []float64{math.Inf(-1), -math.MaxFloat64, -1, -math.SmallestNonzeroFloat64, 0, math.Copysign(0, -1),
		math.SmallestNonzeroFloat64, 0.1, 1, 1e300, math.MaxFloat64, math.Inf(1)}
	for range 2000 {
		f := math.Float64frombits(rng.Uint64())
		if !math.IsNaN(f) {
			vals = append(vals, f)
		}
	}
	for _, v := range vals {
		want := v
		if v == 0 {
			want = 0 // -0 is stored as 0
		}
		if got := decodeScore(encodeScore(v)); got != want || math.Signbit(got) != math.Signbit(want) {
			t.Fatalf("decode(encode(%v)) = %v", v, got)
		}
	}
	sort.Slice(vals, func(i, j int) bool { return bytes.Compare(encodeScore(vals[i]), encodeScore(vals[j])) < 0 })
	for i := 1; i < len(vals); i++ {
		if vals[i-1] > vals[i] {
			t.Fatalf("encoded order puts %v before %v", vals[i-1], vals[i])
		}
		if vals[i-1] == vals[i] && !bytes.Equal(encodeScore(vals[i-1]), encodeScore(vals[i])) {
			t.Fatalf("equal scores %v, %v encode differently", vals[i-1], vals[i])
		}
	}
}

// TestParseScore checks Redis's two float readers: string2d for scores,
// weights and increments, and zslParseRange's bare strtod for bounds.
func TestParseScore(t *testing.T) {
	for _, c := range []struct {
		in    string
		score float64 // NaN: rejected
		bound float64 // NaN: rejected
	}{
		{"1", 1, 1}, {"-1.5", -1.5, -1.5}, {"+1", 1, 1}, {".5", 0.5, 0.5}, {"5.", 5, 5},
		{"1e3", 1000, 1000}, {"1E+3", 1000, 1000}, {"1e", math.NaN(), math.NaN()}, {"1e+", math.NaN(), math.NaN()},
		{"inf", math.Inf(1), math.Inf(1)}, {"-INF", math.Inf(-1), math.Inf(-1)}, {"+Infinity", math.Inf(1), math.Inf(1)},
		{"infinit", math.NaN(), math.NaN()}, {"nan", math.NaN(), math.NaN()}, {"nan(12)", math.NaN(), math.NaN()},
		{"0x10", 16, 16}, {"-0x1.8p1", -3, -3}, {"0x.8", 0.5, 0.5}, {"0x", math.NaN(), math.NaN()}, {"0x1p", math.NaN(), math.NaN()},
		{"1_0", math.NaN(), math.NaN()}, {"1..5", math.NaN(), math.NaN()}, {".", math.NaN(), math.NaN()}, {"-", math.NaN(), math.NaN()},
		{"", math.NaN(), 0}, {" 1", math.NaN(), 1}, {"\t1", math.NaN(), 1}, {"1 ", math.NaN(), math.NaN()}, {"   ", math.NaN(), math.NaN()},
		{"1e400", math.NaN(), math.Inf(1)}, {"-1e400", math.NaN(), math.Inf(-1)}, {"1e-400", math.NaN(), 0}, {"0e-400", 0, 0},
		{"4.9e-324", 5e-324, 5e-324}, {"0x1p-1080", math.NaN(), 0}, {"0x1p1024", math.NaN(), math.Inf(1)},
		{"1\x002", math.NaN(), 1},
	} {
		got, ok := parseScore([]byte(c.in))
		if math.IsNaN(c.score) != !ok || (ok && got != c.score) {
			t.Errorf("parseScore(%q) = %v, %v; want %v", c.in, got, ok, c.score)
		}
		got, _, ok = parseRangeEnd([]byte(c.in))
		if math.IsNaN(c.bound) != !ok || (ok && got != c.bound) {
			t.Errorf("parseRangeEnd(%q) = %v, %v; want %v", c.in, got, ok, c.bound)
		}
	}
	if v, ex, ok := parseRangeEnd([]byte("(2.5")); !ok || !ex || v != 2.5 {
		t.Errorf(`parseRangeEnd("(2.5") = %v, %v, %v`, v, ex, ok)
	}
}

func TestLexRange(t *testing.T) {
	for _, c := range []struct {
		min, max string
		ok       bool
		empty    bool
		in, out  []string
	}{
		{"-", "+", true, false, []string{"", "a", "\xff"}, nil},
		{"[a", "[c", true, false, []string{"a", "b", "c"}, []string{"", "c\x00", "d"}},
		{"(a", "(c", true, false, []string{"a\x00", "b"}, []string{"a", "c"}},
		{"[b", "[a", true, true, nil, nil},
		{"(a", "[a", true, true, nil, nil},
		{"[a", "[a", true, false, []string{"a"}, []string{"a\x00"}},
		{"-", "-", true, true, nil, nil},
		{"+", "+", true, true, nil, nil},
		{"+", "-", true, true, nil, nil},
		{"[", "(", true, true, nil, nil},
		{"a", "+", false, false, nil, nil},
		{"", "+", false, false, nil, nil},
		{"-a", "+", false, false, nil, nil},
		{"-\x00a", "+", true, false, []string{""}, nil},
	} {
		r, err := parseLexRange([]byte(c.min), []byte(c.max))
		if (err == nil) != c.ok {
			t.Errorf("parseLexRange(%q, %q): %v", c.min, c.max, err)
			continue
		}
		if !c.ok {
			continue
		}
		if r.empty() != c.empty {
			t.Errorf("%q..%q empty = %v", c.min, c.max, r.empty())
		}
		for _, m := range c.in {
			if !r.gteMin([]byte(m)) || !r.lteMax([]byte(m)) {
				t.Errorf("%q not in %q..%q", m, c.min, c.max)
			}
		}
		for _, m := range c.out {
			if r.gteMin([]byte(m)) && r.lteMax([]byte(m)) {
				t.Errorf("%q in %q..%q", m, c.min, c.max)
			}
		}
	}
}
