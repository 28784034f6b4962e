package keyspace

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

// model is a sorted set in memory.
type model map[string]float64

func (m model) sorted() []scored {
	out := make([]scored, 0, len(m))
	for k, v := range m {
		out = append(out, scored{[]byte(k), v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].score != out[j].score {
			return out[i].score < out[j].score
		}
		return bytes.Compare(out[i].member, out[j].member) < 0
	})
	return out
}

func pairsOf(items []scored) Pairs {
	out := Pairs{}
	for _, e := range items {
		out = append(out, e.member, e.score)
	}
	return out
}

func sameReply(a, b any) bool { return fmt.Sprintf("%q", a) == fmt.Sprintf("%q", b) }

func fstr(f float64) string { return string(FormatFloat(f)) }

// TestZSetAgainstModel runs random writes against a sorted set and a
// model of it, and checks reads after each: the two indexes, the count
// and the key's presence must stay in step.
func TestZSetAgainstModel(t *testing.T) {
	ks := newTestKeyspace(t)
	rng := rand.New(rand.NewPCG(3, 4))
	m := model{}
	alphabet := []string{"a", "b", "\x00", "\xff", "ab"}
	member := func() string {
		s := ""
		for range 1 + rng.IntN(3) {
			s += alphabet[rng.IntN(len(alphabet))]
		}
		return s
	}
	score := func() float64 {
		switch rng.IntN(20) {
		case 0:
			return math.Inf(1)
		case 1:
			return math.Inf(-1)
		}
		return float64(rng.IntN(40)-20) / 4
	}
	scoreRange := func() (string, string, func(float64) bool) {
		a, b := score(), score()
		aex, bex := rng.IntN(2) == 0, rng.IntN(2) == 0
		lo, hi := fstr(a), fstr(b)
		if aex {
			lo = "(" + lo
		}
		if bex {
			hi = "(" + hi
		}
		return lo, hi, func(v float64) bool {
			return (v > a || (!aex && v == a)) && (v < b || (!bex && v == b))
		}
	}
	for step := range 3000 {
		mem := member()
		cur, had := m[mem]
		switch op := rng.IntN(10); op {
		case 0, 1, 2:
			s := score()
			flags := []string{}
			nx, xx, gt, lt := rng.IntN(6) == 0, rng.IntN(6) == 0, rng.IntN(6) == 0, rng.IntN(6) == 0
			if nx && (xx || gt || lt) || gt && lt {
				nx, gt, lt = false, false, false
			}
			for f, on := range map[string]bool{"NX": nx, "XX": xx, "GT": gt, "LT": lt} {
				if on {
					flags = append(flags, f)
				}
			}
			sort.Strings(flags)
			want := int64(0)
			switch {
			case had && !nx && !(gt && s <= cur) && !(lt && s >= cur):
				m[mem] = s
			case !had && !xx:
				m[mem] = s
				want = 1
			}
			got := run(t, ks, append(append([]string{"ZADD", "z"}, flags...), fstr(s), mem)...)
			if got != want {
				t.Fatalf("step %d: ZADD %v %v %q = %v, want %d", step, flags, s, mem, got, want)
			}
		case 3:
			d := score()
			got := run(t, ks, "ZINCRBY", "z", fstr(d), mem)
			if v := cur + d; math.IsNaN(v) {
				if got != errZNaN {
					t.Fatalf("step %d: ZINCRBY to NaN = %v", step, got)
				}
			} else {
				m[mem] = v
				if got != v {
					t.Fatalf("step %d: ZINCRBY = %v, want %v", step, got, v)
				}
			}
		case 4:
			want := int64(0)
			if had {
				delete(m, mem)
				want = 1
			}
			if got := run(t, ks, "ZREM", "z", mem, "never"); got != want {
				t.Fatalf("step %d: ZREM = %v", step, got)
			}
		case 5:
			n := rng.IntN(3)
			maxFirst := rng.IntN(2) == 0
			all := m.sorted()
			if maxFirst {
				for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
					all[i], all[j] = all[j], all[i]
				}
			}
			want := all[:min(n, len(all))]
			for _, e := range want {
				delete(m, string(e.member))
			}
			cmd := "ZPOPMIN"
			if maxFirst {
				cmd = "ZPOPMAX"
			}
			got := run(t, ks, cmd, "z", fmt.Sprint(n))
			if n == 0 {
				if !sameReply(got, []any{}) {
					t.Fatalf("step %d: %s 0 = %v", step, cmd, got)
				}
			} else if !sameReply(got, pairsOf(want)) {
				t.Fatalf("step %d: %s %d = %q, want %q", step, cmd, n, got, pairsOf(want))
			}
		case 6:
			if rng.IntN(4) != 0 {
				continue // rarely, or the set stays small
			}
			lo, hi, in := scoreRange()
			var want int64
			for k, v := range m {
				if in(v) {
					delete(m, k)
					want++
				}
			}
			if got := run(t, ks, "ZREMRANGEBYSCORE", "z", lo, hi); got != want {
				t.Fatalf("step %d: ZREMRANGEBYSCORE %s %s = %v, want %d", step, lo, hi, got, want)
			}
		case 7:
			if rng.IntN(4) != 0 {
				continue
			}
			start, stop := rng.IntN(10)-5, rng.IntN(10)-5
			all := m.sorted()
			n := len(all)
			s, e := start, stop
			if s < 0 {
				s += n
			}
			if e < 0 {
				e += n
			}
			s = max(s, 0)
			var want int64
			if s <= e && s < n {
				for _, x := range all[s : min(e, n-1)+1] {
					delete(m, string(x.member))
					want++
				}
			}
			if got := run(t, ks, "ZREMRANGEBYRANK", "z", fmt.Sprint(start), fmt.Sprint(stop)); got != want {
				t.Fatalf("step %d: ZREMRANGEBYRANK %d %d = %v, want %d", step, start, stop, got, want)
			}
		default:
			// Reads only.
		}

		all := m.sorted()
		if got := run(t, ks, "ZRANGE", "z", "0", "-1", "WITHSCORES"); !sameReply(got, pairsOf(all)) {
			t.Fatalf("step %d: ZRANGE = %q, want %q", step, got, pairsOf(all))
		}
		if got := run(t, ks, "ZCARD", "z"); got != int64(len(m)) {
			t.Fatalf("step %d: ZCARD = %v, want %d", step, got, len(m))
		}
		if n := run(t, ks, "EXISTS", "z"); n != int64(min(len(m), 1)) {
			t.Fatalf("step %d: EXISTS = %v with %d members", step, n, len(m))
		}
		if n, _ := ks.size(); n != int64(min(len(m), 1)) {
			t.Fatalf("step %d: DBSIZE = %d with %d members", step, n, len(m))
		}
		for i, e := range all {
			if rng.IntN(len(all)) > 2 {
				continue
			}
			if got := run(t, ks, "ZRANK", "z", string(e.member)); got != int64(i) {
				t.Fatalf("step %d: ZRANK %q = %v, want %d", step, e.member, got, i)
			}
			if got := run(t, ks, "ZREVRANK", "z", string(e.member), "WITHSCORE"); !sameReply(got, []any{int64(len(all) - 1 - i), e.score}) {
				t.Fatalf("step %d: ZREVRANK WITHSCORE %q = %v", step, e.member, got)
			}
		}
		lo, hi, in := scoreRange()
		var want []scored
		for _, e := range all {
			if in(e.score) {
				want = append(want, e)
			}
		}
		if got := run(t, ks, "ZCOUNT", "z", lo, hi); got != int64(len(want)) {
			t.Fatalf("step %d: ZCOUNT %s %s = %v, want %d", step, lo, hi, got, len(want))
		}
		off, cnt := rng.IntN(4), rng.IntN(5)-1
		rev := make([]scored, len(want))
		for i, e := range want {
			rev[len(want)-1-i] = e
		}
		for _, c := range []struct {
			args []string
			want []scored
		}{
			{[]string{"ZRANGEBYSCORE", "z", lo, hi, "WITHSCORES", "LIMIT", fmt.Sprint(off), fmt.Sprint(cnt)}, want},
			{[]string{"ZREVRANGEBYSCORE", "z", hi, lo, "WITHSCORES", "LIMIT", fmt.Sprint(off), fmt.Sprint(cnt)}, rev},
		} {
			w := c.want[min(off, len(c.want)):]
			if cnt >= 0 {
				w = w[:min(cnt, len(w))]
			}
			if got := run(t, ks, c.args...); !sameReply(got, pairsOf(w)) {
				t.Fatalf("step %d: %q = %q, want %q", step, c.args, got, pairsOf(w))
			}
		}
	}
}

// TestZSetLexAgainstModel checks ZRANGEBYLEX, ZREVRANGEBYLEX, ZLEXCOUNT
// and ZREMRANGEBYLEX on sets of equal scores (which lex ranges are for).
func TestZSetLexAgainstModel(t *testing.T) {
	ks := newTestKeyspace(t)
	rng := rand.New(rand.NewPCG(5, 6))
	letters := "ab\x00\xff"
	word := func() string {
		b := make([]byte, rng.IntN(4))
		for i := range b {
			b[i] = letters[rng.IntN(len(letters))]
		}
		return string(b)
	}
	bound := func() string {
		switch rng.IntN(8) {
		case 0:
			return "-"
		case 1:
			return "+"
		case 2, 3, 4:
			return "[" + word()
		}
		return "(" + word()
	}
	members := map[string]bool{}
	for round := range 400 {
		for range 3 {
			w := word()
			members[w] = true
			run(t, ks, "ZADD", "l", "7", w)
		}
		lo, hi := bound(), bound()
		r, err := parseLexRange([]byte(lo), []byte(hi))
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for m := range members {
			if !r.empty() && r.gteMin([]byte(m)) && r.lteMax([]byte(m)) {
				want = append(want, m)
			}
		}
		sort.Strings(want)
		wantAny := func(ms []string) []any {
			out := []any{}
			for _, m := range ms {
				out = append(out, []byte(m))
			}
			return out
		}
		if got := run(t, ks, "ZRANGEBYLEX", "l", lo, hi); !sameReply(got, wantAny(want)) {
			t.Fatalf("round %d: ZRANGEBYLEX %q %q = %q, want %q", round, lo, hi, got, want)
		}
		rev := make([]string, len(want))
		for i, m := range want {
			rev[len(want)-1-i] = m
		}
		if got := run(t, ks, "ZREVRANGEBYLEX", "l", hi, lo, "LIMIT", "1", "3"); !sameReply(got, wantAny(rev[min(1, len(rev)):min(4, len(rev))])) {
			t.Fatalf("round %d: ZREVRANGEBYLEX %q %q LIMIT 1 3 = %q, want %q", round, hi, lo, got, rev)
		}
		if got := run(t, ks, "ZLEXCOUNT", "l", lo, hi); got != int64(len(want)) {
			t.Fatalf("round %d: ZLEXCOUNT = %v, want %d", round, got, len(want))
		}
		if round%10 == 0 {
			if got := run(t, ks, "ZREMRANGEBYLEX", "l", lo, hi); got != int64(len(want)) {
				t.Fatalf("round %d: ZREMRANGEBYLEX = %v, want %d", round, got, len(want))
			}
			for _, m := range want {
				delete(members, m)
			}
		}
	}
}

// TestZSetOpsWithSetInput: a set counts as a sorted set whose members all
// score 1. The set is built in the set family's layout (a member per
// element, the member as the sub-key).
func TestZSetOpsWithSetInput(t *testing.T) {
	ks := newTestKeyspace(t)
	rec, err := ks.newCollection(typeSet)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"a", "b", "c"} {
		if err := ks.setElem(rec.gen, []byte(m), nil); err != nil {
			t.Fatal(err)
		}
		rec.count++
	}
	if err := ks.put([]byte("s"), rec, false, record{}); err != nil {
		t.Fatal(err)
	}
	run(t, ks, "ZADD", "z", "5", "b", "7", "d")
	for _, c := range []struct {
		args []string
		want any
	}{
		{[]string{"ZUNION", "2", "s", "z", "WITHSCORES"}, Pairs{[]byte("a"), 1.0, []byte("c"), 1.0, []byte("b"), 6.0, []byte("d"), 7.0}},
		{[]string{"ZINTER", "2", "s", "z", "WEIGHTS", "3", "1", "WITHSCORES"}, Pairs{[]byte("b"), 8.0}},
		{[]string{"ZDIFF", "2", "s", "z", "WITHSCORES"}, Pairs{[]byte("a"), 1.0, []byte("c"), 1.0}},
		{[]string{"ZINTERCARD", "2", "z", "s"}, int64(1)},
		{[]string{"ZUNIONSTORE", "out", "1", "s"}, int64(3)},
		{[]string{"ZRANGE", "out", "0", "-1", "WITHSCORES"}, Pairs{[]byte("a"), 1.0, []byte("b"), 1.0, []byte("c"), 1.0}},
		{[]string{"ZRANGESTORE", "out", "s", "0", "-1"}, errWrongType},
		{[]string{"ZPOPMIN", "s"}, errWrongType},
	} {
		if got := run(t, ks, c.args...); !sameReply(got, c.want) {
			t.Errorf("%q = %q, want %q", c.args, got, c.want)
		}
	}
}

// TestZpop exercises the pop helper blocking commands will call.
func TestZpop(t *testing.T) {
	ks := newTestKeyspace(t)
	run(t, ks, "ZADD", "b", "1", "x", "2", "y", "3", "z")
	key, popped, err := ks.zpop([][]byte{[]byte("a"), []byte("b")}, true, 2)
	if err != nil || string(key) != "b" || len(popped) != 2 || string(popped[0].member) != "z" || string(popped[1].member) != "y" {
		t.Fatalf("zpop = %q, %v, %v", key, popped, err)
	}
	if key, popped, err = ks.zpop([][]byte{[]byte("b")}, false, 5); err != nil || len(popped) != 1 || string(popped[0].member) != "x" {
		t.Fatalf("zpop = %q, %v, %v", key, popped, err)
	}
	if key, _, err = ks.zpop([][]byte{[]byte("b")}, false, 1); key != nil || err != nil {
		t.Fatalf("zpop of an emptied key = %q, %v", key, err)
	}
	run(t, ks, "SET", "s", "v")
	if _, _, err = ks.zpop([][]byte{[]byte("none"), []byte("s"), []byte("b")}, false, 1); err != errWrongType {
		t.Fatalf("zpop of a string: %v", err)
	}
}
