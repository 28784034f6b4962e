package keyspace

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestListSubOrder(t *testing.T) {
	vals := []int64{math.MinInt64, math.MinInt64 + 1, -1 << 40, -2, -1, 0, 1, 2, 1 << 40, math.MaxInt64 - 1, math.MaxInt64}
	for i := 1; i < len(vals); i++ {
		if bytes.Compare(listSub(vals[i-1]), listSub(vals[i])) >= 0 {
			t.Fatalf("listSub(%d) does not sort before listSub(%d)", vals[i-1], vals[i])
		}
	}
}

func TestListBounds(t *testing.T) {
	for _, c := range []struct {
		start, end, n, lo, hi int64
		ok                    bool
	}{
		{0, -1, 5, 0, 4, true}, {1, 2, 5, 1, 2, true}, {-2, -1, 5, 3, 4, true}, {-100, 100, 5, 0, 4, true},
		{3, 1, 5, 0, 0, false}, {5, 10, 5, 0, 0, false}, {-1, -2, 5, 0, 0, false}, {0, 0, 0, 0, 0, false},
		{math.MinInt64, math.MaxInt64, 3, 0, 2, true}, {math.MaxInt64, math.MaxInt64, 3, 0, 0, false},
		{-6, -6, 5, 0, 0, false}, {-6, -5, 5, 0, 0, true},
	} {
		lo, hi, ok := listBounds(c.start, c.end, c.n)
		if ok != c.ok || (ok && (lo != c.lo || hi != c.hi)) {
			t.Errorf("listBounds(%d, %d, %d) = %d, %d, %v; want %d, %d, %v", c.start, c.end, c.n, lo, hi, ok, c.lo, c.hi, c.ok)
		}
	}
}

// listCheck compares the stored list at key with want, and checks the
// layout: a record only for a non-empty list, count = tail-head, and
// exactly the items at [head, tail).
func listCheck(t *testing.T, ks *Keyspace, key string, want []string) {
	t.Helper()
	rec, ok, err := ks.lookupType([]byte(key), typeList)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 {
		if ok {
			t.Fatalf("%s: empty list still stored (count %d)", key, rec.count)
		}
		return
	}
	if !ok || rec.count != int64(len(want)) || rec.tail-rec.head != rec.count {
		t.Fatalf("%s: stored %v count %d head %d tail %d; want %d items", key, ok, rec.count, rec.head, rec.tail, len(want))
	}
	var got []string
	i := rec.head
	if err := ks.scanElems(rec.gen, nil, nil, func(sub, v []byte) bool {
		if !bytes.Equal(sub, listSub(i)) {
			t.Fatalf("%s: item %d at sub-key %x, want %x", key, len(got), sub, listSub(i))
		}
		i++
		got = append(got, string(v))
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s: list %q, want %q", key, got, want)
	}
}

// listModel is the obvious implementation the store is checked against.
type listModel map[string][]string

func (m listModel) pop(key string, left bool, n int) []string {
	l := m[key]
	n = min(n, len(l))
	var out []string
	if left {
		out = slices.Clone(l[:n])
		m[key] = l[n:]
	} else {
		for i := range n {
			out = append(out, l[len(l)-1-i])
		}
		m[key] = l[:len(l)-n]
	}
	return out
}

func (m listModel) push(key string, left bool, vals ...string) {
	for _, v := range vals {
		if left {
			m[key] = append([]string{v}, m[key]...)
		} else {
			m[key] = append(m[key], v)
		}
	}
}

func listStrings(t *testing.T, r any) []string {
	t.Helper()
	arr, ok := r.([]any)
	if !ok {
		t.Fatalf("reply %#v is not an array", r)
	}
	out := []string{}
	for _, x := range arr {
		out = append(out, string(x.([]byte)))
	}
	return out
}

// TestListModel runs random list commands against the store and against
// listModel, checking every reply and the stored layout after each step.
func TestListModel(t *testing.T) {
	ks := newTestKeyspace(t)
	m := listModel{}
	rng := rand.New(rand.NewPCG(1, 2))
	keys := []string{"a", "b"}
	val := func() string { return string(rune('p' + rng.IntN(4))) }
	end := func() (string, bool) {
		if rng.IntN(2) == 0 {
			return "LEFT", true
		}
		return "RIGHT", false
	}
	for step := range 4000 {
		key := keys[rng.IntN(len(keys))]
		n := len(m[key])
		idx := int64(rng.IntN(2*n+3) - n - 1)
		desc := ""
		switch op := rng.IntN(11); op {
		case 0, 1:
			vals := []string{val(), val(), val()}[:1+rng.IntN(3)]
			left := op == 0
			name := map[bool]string{true: "LPUSH", false: "RPUSH"}[left]
			desc = fmt.Sprint(name, key, vals)
			got := run(t, ks, append([]string{name, key}, vals...)...)
			m.push(key, left, vals...)
			if got != int64(len(m[key])) {
				t.Fatalf("step %d %s = %v, want %d", step, desc, got, len(m[key]))
			}
		case 2:
			name, left := end()
			cnt := rng.IntN(4)
			desc = fmt.Sprint("POP", name, key, cnt)
			got := run(t, ks, name[:1]+"POP", key, fmt.Sprint(cnt))
			want := m.pop(key, left, cnt)
			switch {
			case n == 0:
				if got != (NullArray{}) {
					t.Fatalf("step %d %s = %#v, want null array", step, desc, got)
				}
			case !slices.Equal(listStrings(t, got), want):
				t.Fatalf("step %d %s = %q, want %q", step, desc, listStrings(t, got), want)
			}
		case 3:
			desc = fmt.Sprint("LSET", key, idx)
			v := val()
			got := run(t, ks, "LSET", key, fmt.Sprint(idx), v)
			i := idx
			if i < 0 {
				i += int64(n)
			}
			switch {
			case n == 0:
				if got != errNoSuchKey {
					t.Fatalf("step %d %s = %v", step, desc, got)
				}
			case i < 0 || i >= int64(n):
				if got != Error("ERR index out of range") {
					t.Fatalf("step %d %s = %v", step, desc, got)
				}
			default:
				m[key][i] = v
			}
		case 4:
			where := []string{"BEFORE", "AFTER"}[rng.IntN(2)]
			pivot, v := val(), val()
			desc = fmt.Sprint("LINSERT", key, where, pivot, v)
			got := run(t, ks, "LINSERT", key, where, pivot, v)
			p := slices.Index(m[key], pivot)
			want := int64(-1)
			switch {
			case n == 0:
				want = 0
			case p >= 0:
				if where == "AFTER" {
					p++
				}
				m[key] = slices.Insert(m[key], p, v)
				want = int64(len(m[key]))
			}
			if got != want {
				t.Fatalf("step %d %s = %v, want %d", step, desc, got, want)
			}
		case 5:
			cnt := rng.IntN(5) - 2
			v := val()
			desc = fmt.Sprint("LREM", key, cnt, v)
			got := run(t, ks, "LREM", key, fmt.Sprint(cnt), v)
			l := m[key]
			var removed int64
			if cnt >= 0 {
				var out []string
				for _, x := range l {
					if x == v && (cnt == 0 || removed < int64(cnt)) {
						removed++
						continue
					}
					out = append(out, x)
				}
				m[key] = out
			} else {
				var out []string
				for i := len(l) - 1; i >= 0; i-- {
					if l[i] == v && removed < int64(-cnt) {
						removed++
						continue
					}
					out = append([]string{l[i]}, out...)
				}
				m[key] = out
			}
			if got != removed {
				t.Fatalf("step %d %s = %v, want %d", step, desc, got, removed)
			}
		case 6:
			start, stop := int64(rng.IntN(2*n+3)-n-1), int64(rng.IntN(2*n+3)-n-1)
			desc = fmt.Sprint("LTRIM", key, start, stop)
			if got := run(t, ks, "LTRIM", key, fmt.Sprint(start), fmt.Sprint(stop)); got != OK {
				t.Fatalf("step %d %s = %v", step, desc, got)
			}
			if lo, hi, ok := listBounds(start, stop, int64(n)); ok {
				m[key] = slices.Clone(m[key][lo : hi+1])
			} else {
				m[key] = nil
			}
		case 7, 8:
			dst := keys[rng.IntN(len(keys))]
			fromName, from := end()
			toName, to := end()
			desc = fmt.Sprint("LMOVE", key, dst, fromName, toName)
			got := run(t, ks, "LMOVE", key, dst, fromName, toName)
			if n == 0 {
				if got != nil {
					t.Fatalf("step %d %s = %v, want nil", step, desc, got)
				}
				break
			}
			v := m.pop(key, from, 1)[0]
			m.push(dst, to, v)
			if string(got.([]byte)) != v {
				t.Fatalf("step %d %s = %q, want %q", step, desc, got, v)
			}
		case 9:
			v := val()
			desc = fmt.Sprint("LPOS", key, v)
			rank := rng.IntN(5) - 2
			if rank == 0 {
				rank = 1
			}
			got := run(t, ks, "LPOS", key, v, "RANK", fmt.Sprint(rank), "COUNT", "0")
			var want []any
			l := m[key]
			matches := 0
			for j := range l {
				i := j
				if rank < 0 {
					i = len(l) - 1 - j
				}
				if l[i] == v {
					matches++
					if matches >= max(rank, -rank) {
						want = append(want, int64(i))
					}
				}
			}
			if want == nil {
				want = []any{}
			}
			if !slices.Equal(got.([]any), want) {
				t.Fatalf("step %d %s RANK %d = %v, want %v", step, desc, rank, got, want)
			}
		case 10:
			desc = fmt.Sprint("LINDEX", key, idx)
			got := run(t, ks, "LINDEX", key, fmt.Sprint(idx))
			i := idx
			if i < 0 {
				i += int64(n)
			}
			if i < 0 || i >= int64(n) {
				if got != nil {
					t.Fatalf("step %d %s = %q, want nil", step, desc, got)
				}
			} else if string(got.([]byte)) != m[key][i] {
				t.Fatalf("step %d %s = %q, want %q", step, desc, got, m[key][i])
			}
		}
		for _, k := range keys {
			listCheck(t, ks, k, m[k])
		}
		if got := listStrings(t, run(t, ks, "LRANGE", key, "0", "-1")); !slices.Equal(got, m[key]) {
			t.Fatalf("step %d after %s: LRANGE %q, want %q", step, desc, got, m[key])
		}
	}
}

func TestListPopAndMoveHelpers(t *testing.T) {
	ks := newTestKeyspace(t)
	run(t, ks, "RPUSH", "l", "a", "b", "c")
	run(t, ks, "SET", "s", "x")
	if vals, err := popFront(ks, []byte("nokey"), true, 3); vals != nil || err != nil {
		t.Fatalf("popFront(missing) = %q, %v", vals, err)
	}
	if _, err := popFront(ks, []byte("s"), true, 1); err != errWrongType {
		t.Fatalf("popFront(string) err = %v", err)
	}
	if v, err := moveOne(ks, []byte("l"), []byte("s"), true, true); v != nil || err != errWrongType {
		t.Fatalf("moveOne to a string = %q, %v", v, err)
	}
	listCheck(t, ks, "l", []string{"a", "b", "c"})
	if v, err := moveOne(ks, []byte("nokey"), []byte("s"), true, true); v != nil || err != nil {
		t.Fatalf("moveOne from missing = %q, %v", v, err)
	}
	vals, err := popFront(ks, []byte("l"), false, 2)
	if err != nil || len(vals) != 2 || string(vals[0]) != "c" || string(vals[1]) != "b" {
		t.Fatalf("popFront(l, right, 2) = %q, %v", vals, err)
	}
	// Rotating a one-item list keeps the key.
	if v, err := moveOne(ks, []byte("l"), []byte("l"), true, false); string(v) != "a" || err != nil {
		t.Fatalf("rotate = %q, %v", v, err)
	}
	listCheck(t, ks, "l", []string{"a"})
	if v, err := moveOne(ks, []byte("l"), []byte("d"), true, false); string(v) != "a" || err != nil {
		t.Fatalf("move last item = %q, %v", v, err)
	}
	listCheck(t, ks, "l", nil)
	listCheck(t, ks, "d", []string{"a"})
	if n, _ := ks.size(); n != 2 {
		t.Fatalf("DBSIZE = %d, want 2 (s, d)", n)
	}
}

// TestListSpliceShiftsShorterSide checks that an insert near either end
// rewrites only that end.
func TestListSpliceShiftsShorterSide(t *testing.T) {
	ks := newTestKeyspace(t)
	items := make([]string, 0, 100)
	for i := range 100 {
		items = append(items, fmt.Sprint(i))
	}
	run(t, ks, append([]string{"RPUSH", "l"}, items...)...)
	before, _, _ := ks.lookup([]byte("l"))
	run(t, ks, "LINSERT", "l", "BEFORE", "2", "x")
	after, _, _ := ks.lookup([]byte("l"))
	if after.head != before.head-1 || after.tail != before.tail {
		t.Fatalf("insert near the head moved head %d->%d, tail %d->%d", before.head, after.head, before.tail, after.tail)
	}
	run(t, ks, "LINSERT", "l", "AFTER", "97", "y")
	after2, _, _ := ks.lookup([]byte("l"))
	if after2.head != after.head || after2.tail != after.tail+1 {
		t.Fatalf("insert near the tail moved head %d->%d, tail %d->%d", after.head, after2.head, after.tail, after2.tail)
	}
	want := slices.Insert(slices.Clone(items), 2, "x")
	want = slices.Insert(want, 99, "y")
	listCheck(t, ks, "l", want)
}

func TestListArgumentErrors(t *testing.T) {
	split := func(s string) [][]byte { return bytes.Fields([]byte(s)) }
	for _, c := range []struct {
		check func([][]byte) error
		in    string
		err   error
	}{
		{checkPop("lpop"), "LPOP k", nil}, {checkPop("lpop"), "LPOP k 0", nil},
		{checkPop("lpop"), "LPOP k -1", Error("ERR value is out of range, must be positive")},
		{checkPop("lpop"), "LPOP k x", Error("ERR value is out of range, must be positive")},
		{checkPop("lpop"), "LPOP k 1 2", ErrArity("lpop")},
		{checkLpos, "LPOS k e RANK -1 COUNT 0 MAXLEN 0", nil},
		{checkLpos, "LPOS k e RANK 0", Error("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")},
		{checkLpos, "LPOS k e COUNT -1", Error("ERR COUNT can't be negative")},
		{checkLpos, "LPOS k e MAXLEN -1", Error("ERR MAXLEN can't be negative")},
		{checkLpos, "LPOS k e RANK", ErrSyntax}, {checkLpos, "LPOS k e FOO 1", ErrSyntax},
		{checkLpos, "LPOS k e RANK x", ErrNotInteger},
		{checkLinsert, "LINSERT k before p v", nil}, {checkLinsert, "LINSERT k middle p v", ErrSyntax},
		{checkLmove, "LMOVE a b left RIGHT", nil}, {checkLmove, "LMOVE a b up left", ErrSyntax},
		{checkLmpop, "LMPOP 1 k LEFT", nil}, {checkLmpop, "LMPOP 2 a b right COUNT 5", nil},
		{checkLmpop, "LMPOP 0 k LEFT", Error("ERR numkeys should be greater than 0")},
		{checkLmpop, "LMPOP x k LEFT", Error("ERR numkeys should be greater than 0")},
		{checkLmpop, "LMPOP 2 k LEFT", ErrSyntax}, {checkLmpop, "LMPOP 9223372036854775807 k LEFT", ErrSyntax},
		{checkLmpop, "LMPOP 1 k UP", ErrSyntax}, {checkLmpop, "LMPOP 1 k LEFT COUNT", ErrSyntax},
		{checkLmpop, "LMPOP 1 k LEFT COUNT 0", Error("ERR count should be greater than 0")},
		{checkLmpop, "LMPOP 1 k LEFT COUNT 1 COUNT 1", ErrSyntax}, {checkLmpop, "LMPOP 1 k LEFT FOO", ErrSyntax},
	} {
		if err := c.check(split(c.in)); err != c.err {
			t.Errorf("%s: %v, want %v", c.in, err, c.err)
		}
	}
}
