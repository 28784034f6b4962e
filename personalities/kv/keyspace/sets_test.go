package keyspace

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

func TestSetCommands(t *testing.T) {
	h := newHSRunner(t, 3)
	h.do("SADD", "a", "1", "2", "3", "4")
	h.do("SADD", "b", "3", "4", "5")
	h.do("SET", "str", "x")
	for _, c := range []struct {
		cmd  []string
		want []string
	}{
		{[]string{"SINTER", "a", "b"}, []string{"3", "4"}},
		{[]string{"SUNION", "b", "a", "nokey"}, []string{"1", "2", "3", "4", "5"}},
		{[]string{"SDIFF", "a", "b", "nokey"}, []string{"1", "2"}},
		{[]string{"SDIFF", "nokey", "a"}, []string{}},
		{[]string{"SINTER", "a", "nokey"}, []string{}},
	} {
		if got := strs(h.do(c.cmd...)); !slices.Equal(got, c.want) {
			t.Errorf("%q = %q, want %q", c.cmd, got, c.want)
		}
	}
	if got := h.do("SINTER", "nokey", "str"); got != errWrongType {
		t.Fatalf("SINTER nokey str = %v, want WRONGTYPE", got)
	}
	// STORE replaces a string destination; an empty result deletes it.
	if got := h.do("SUNIONSTORE", "str", "a", "b"); got != int64(5) {
		t.Fatalf("SUNIONSTORE over a string = %v", got)
	}
	if got := h.do("TYPE", "str"); got != SimpleString("set") {
		t.Fatalf("TYPE after SUNIONSTORE = %v", got)
	}
	if got := h.do("SINTERSTORE", "str", "a", "nokey"); got != int64(0) {
		t.Fatalf("SINTERSTORE empty = %v", got)
	}
	if got := h.do("EXISTS", "str"); got != int64(0) {
		t.Fatal("an empty STORE result left the destination")
	}
	if got := h.do("SINTERCARD", "2", "a", "b", "LIMIT", "1"); got != int64(1) {
		t.Fatalf("SINTERCARD LIMIT 1 = %v", got)
	}
	// SPOP at the same seed pops the same members.
	pop := func(seed uint64) []string {
		r := newHSRunner(t, seed)
		r.do("SADD", "s", "a", "b", "c", "d", "e", "f", "g")
		return strs(r.do("SPOP", "s", "3"))
	}
	if a, b := pop(9), pop(9); !slices.Equal(a, b) || len(a) != 3 {
		t.Fatalf("SPOP at one seed: %q then %q", a, b)
	}
}

// hsModelKey is a key of the reference model: a string, a hash or a set.
type hsModelKey struct {
	typ  byte
	hash map[string]string
	set  map[string]bool
}

// TestHashesAndSetsAgainstModel runs random hash and set commands against
// the keyspace and a map model side by side, checking every reply that
// has one answer, and after every command every key's type, contents and
// element count, and DBSIZE.
func TestHashesAndSetsAgainstModel(t *testing.T) {
	for seed := range uint64(20) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { runHSModel(t, seed) })
	}
}

func runHSModel(t *testing.T, seed uint64) {
	h := newHSRunner(t, seed)
	rng := rand.New(rand.NewPCG(seed, 99))
	model := map[string]*hsModelKey{}
	keys := []string{"k0", "k1", "k2", "k3"}
	key := func() string { return keys[rng.IntN(len(keys))] }
	elem := func() string { return string(rune('a' + rng.IntN(8))) }
	typeOf := func(k string) byte {
		if m := model[k]; m != nil {
			return m.typ
		}
		return 0
	}
	setOf := func(k string) map[string]bool {
		if m := model[k]; m != nil && m.typ == typeSet {
			return m.set
		}
		return map[string]bool{}
	}
	expect := func(cmd []string, got, want any) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%q = %v, want %v", cmd, got, want)
		}
	}
	sorted := func(s map[string]bool) []string { return slices.Sorted(maps.Keys(s)) }
	for step := range 400 {
		k := key()
		var cmd []string
		switch op := rng.IntN(12); op {
		case 0:
			cmd = []string{"SET", k, "v"}
			expect(cmd, h.do(cmd...), OK)
			model[k] = &hsModelKey{typ: typeString}
		case 1, 2:
			cmd = []string{"HSET", k}
			for range 1 + rng.IntN(3) {
				cmd = append(cmd, elem(), strconv.Itoa(rng.IntN(100)))
			}
			got := h.do(cmd...)
			if ty := typeOf(k); ty != 0 && ty != typeHash {
				expect(cmd, got, errWrongType)
				break
			}
			if model[k] == nil {
				model[k] = &hsModelKey{typ: typeHash, hash: map[string]string{}}
			}
			var added int64
			for i := 2; i < len(cmd); i += 2 {
				if _, ok := model[k].hash[cmd[i]]; !ok {
					added++
				}
				model[k].hash[cmd[i]] = cmd[i+1]
			}
			expect(cmd, got, added)
		case 3:
			cmd = []string{"HDEL", k, elem(), elem()}
			got := h.do(cmd...)
			if ty := typeOf(k); ty != 0 && ty != typeHash {
				expect(cmd, got, errWrongType)
				break
			}
			var n int64
			if m := model[k]; m != nil {
				for _, f := range cmd[2:] {
					if _, ok := m.hash[f]; ok {
						delete(m.hash, f)
						n++
					}
				}
				if len(m.hash) == 0 {
					delete(model, k)
				}
			}
			expect(cmd, got, n)
		case 4:
			f := elem()
			cmd = []string{"HINCRBY", k, f, "5"}
			got := h.do(cmd...)
			if ty := typeOf(k); ty != 0 && ty != typeHash {
				expect(cmd, got, errWrongType)
				break
			}
			if model[k] == nil {
				model[k] = &hsModelKey{typ: typeHash, hash: map[string]string{}}
			}
			v, _ := strconv.Atoi(model[k].hash[f])
			model[k].hash[f] = strconv.Itoa(v + 5)
			expect(cmd, got, v+5)
		case 5, 6:
			cmd = []string{"SADD", k, elem(), elem()}
			got := h.do(cmd...)
			if ty := typeOf(k); ty != 0 && ty != typeSet {
				expect(cmd, got, errWrongType)
				break
			}
			if model[k] == nil {
				model[k] = &hsModelKey{typ: typeSet, set: map[string]bool{}}
			}
			var added int64
			for _, m := range cmd[2:] {
				if !model[k].set[m] {
					added++
				}
				model[k].set[m] = true
			}
			expect(cmd, got, added)
		case 7:
			cmd = []string{"SREM", k, elem(), elem()}
			got := h.do(cmd...)
			if ty := typeOf(k); ty != 0 && ty != typeSet {
				expect(cmd, got, errWrongType)
				break
			}
			var n int64
			if m := model[k]; m != nil {
				for _, x := range cmd[2:] {
					if m.set[x] {
						delete(m.set, x)
						n++
					}
				}
				if len(m.set) == 0 {
					delete(model, k)
				}
			}
			expect(cmd, got, n)
		case 8:
			cmd = []string{"SPOP", k, strconv.Itoa(rng.IntN(4))}
			got := h.do(cmd...)
			if ty := typeOf(k); ty != 0 && ty != typeSet {
				expect(cmd, got, errWrongType)
				break
			}
			popped := strs(got)
			n, _ := strconv.Atoi(cmd[2])
			if m := model[k]; m != nil {
				expect(cmd, len(popped), min(n, len(m.set)))
				for _, x := range popped {
					if !m.set[x] {
						t.Fatalf("%q popped %q, not a member of %v", cmd, x, m.set)
					}
					delete(m.set, x)
				}
				if len(m.set) == 0 {
					delete(model, k)
				}
			} else {
				expect(cmd, len(popped), 0)
			}
		case 9:
			dst, m := key(), elem()
			cmd = []string{"SMOVE", k, dst, m}
			got := h.do(cmd...)
			st, dt := typeOf(k), typeOf(dst)
			switch {
			case st == 0:
				expect(cmd, got, 0)
			case st != typeSet || (dt != 0 && dt != typeSet):
				expect(cmd, got, errWrongType)
			case !model[k].set[m]:
				expect(cmd, got, 0)
			default:
				expect(cmd, got, 1)
				if k == dst {
					break
				}
				delete(model[k].set, m)
				if len(model[k].set) == 0 {
					delete(model, k)
				}
				if model[dst] == nil {
					model[dst] = &hsModelKey{typ: typeSet, set: map[string]bool{}}
				}
				model[dst].set[m] = true
			}
		case 10, 11:
			name := []string{"SINTER", "SUNION", "SDIFF"}[rng.IntN(3)]
			a, b := key(), key()
			store := op == 11
			cmd = []string{name, a, b}
			if store {
				cmd = []string{name + "STORE", k, a, b}
			}
			got := h.do(cmd...)
			if ta, tb := typeOf(a), typeOf(b); (ta != 0 && ta != typeSet) || (tb != 0 && tb != typeSet) {
				expect(cmd, got, errWrongType)
				break
			}
			sa, sb := setOf(a), setOf(b)
			res := map[string]bool{}
			for x := range sa {
				if name == "SUNION" || (name == "SINTER") == sb[x] {
					res[x] = true
				}
			}
			if name == "SUNION" {
				maps.Copy(res, sb)
			}
			if !store {
				expect(cmd, strs(got), sorted(res))
				break
			}
			expect(cmd, got, len(res))
			delete(model, k)
			if len(res) > 0 {
				model[k] = &hsModelKey{typ: typeSet, set: res}
			}
		}
		// Every key as the model has it.
		for _, k := range keys {
			m := model[k]
			gotType := h.do("TYPE", k)
			if m == nil {
				expect([]string{"TYPE", k, fmt.Sprint("after step ", step)}, gotType, SimpleString("none"))
				continue
			}
			expect([]string{"TYPE", k}, gotType, SimpleString(typeName(m.typ)))
			switch m.typ {
			case typeHash:
				expect([]string{"HLEN", k}, h.do("HLEN", k), len(m.hash))
				var want []string
				for _, f := range slices.Sorted(maps.Keys(m.hash)) {
					want = append(want, f, m.hash[f])
				}
				expect([]string{"HGETALL", k}, strs(h.do("HGETALL", k)), want)
			case typeSet:
				expect([]string{"SCARD", k}, h.do("SCARD", k), len(m.set))
				expect([]string{"SMEMBERS", k}, strs(h.do("SMEMBERS", k)), sorted(m.set))
			}
		}
		if n, _ := h.keyspace().size(); n != int64(len(model)) {
			t.Fatalf("after %q: DBSIZE %d, model has %d keys", cmd, n, len(model))
		}
	}
}
