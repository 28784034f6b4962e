package keyspace

import (
	"bytes"
	"math"
	"sort"
)

func init() {
	rom := []string{"readonly", "movablekeys"}
	for _, c := range []struct {
		name string
		op   zsetOp
	}{{"zunion", opUnion}, {"zinter", opInter}, {"zdiff", opDiff}} {
		register(&Command{Spec: Spec{Name: c.name, Arity: -3, Flags: rom}, Kind: KindRead, exec: execZsetOp(c.name, c.op, false, false)})
		register(singleKey(&Command{Spec: Spec{Name: c.name + "store", Arity: -4, Flags: []string{"write", "denyoom", "movablekeys"}}, Kind: KindWrite, check: checkZsetOp(c.name+"store", 2), exec: execZsetOp(c.name+"store", c.op, true, false)}))
	}
	register(&Command{Spec: Spec{Name: "zintercard", Arity: -3, Flags: rom}, Kind: KindRead, exec: execZsetOp("zintercard", opInter, false, true)})
}

// ZUNION, ZINTER, ZDIFF, their STORE forms, ZINTERCARD.

type zsetOp int

const (
	opUnion zsetOp = iota
	opInter
	opDiff
)

// zsetOpSpec is a parsed ZUNION-like request.
type zsetOpSpec struct {
	keys       [][]byte
	weights    []float64
	aggregate  byte // 's'um, 'n' min, 'x' max
	withScores bool
	limit      int64 // ZINTERCARD; 0: none
}

// parseZsetOpKeys reads numkeys at args[at] and the keys after it, with
// the checks Redis makes before it looks the keys up.
func parseZsetOpKeys(args [][]byte, at int, name string) ([][]byte, error) {
	n, ok := ParseInt(args[at])
	if !ok {
		return nil, ErrNotInteger
	}
	if n < 1 {
		return nil, Error("ERR at least 1 input key is needed for '" + name + "' command")
	}
	if n > int64(len(args)-at-1) {
		return nil, ErrSyntax
	}
	return args[at+1 : at+1+int(n)], nil
}

func checkZsetOp(name string, at int) func([][]byte) error {
	return func(args [][]byte) error {
		_, err := parseZsetOpKeys(args, at, name)
		return err
	}
}

// parseZsetOpOptions parses the options after the keys, which Redis does
// after it has checked the keys' types.
func parseZsetOpOptions(args [][]byte, j int, sp *zsetOpSpec, op zsetOp, store, card bool) error {
	n := len(sp.keys)
	sp.aggregate = 's'
	for j < len(args) {
		left := len(args) - j
		a := args[j]
		switch {
		case op != opDiff && !card && left >= n+1 && EqFold(a, "weights"):
			j++
			sp.weights = sp.weights[:0]
			for range n {
				w, ok := parseScore(args[j])
				if !ok {
					return Error("ERR weight value is not a float")
				}
				sp.weights = append(sp.weights, w)
				j++
			}
		case op != opDiff && !card && left >= 2 && EqFold(a, "aggregate"):
			switch agg := args[j+1]; {
			case EqFold(agg, "sum"):
				sp.aggregate = 's'
			case EqFold(agg, "min"):
				sp.aggregate = 'n'
			case EqFold(agg, "max"):
				sp.aggregate = 'x'
			default:
				return ErrSyntax
			}
			j += 2
		case !store && !card && EqFold(a, "withscores"):
			sp.withScores = true
			j++
		case card && left >= 2 && EqFold(a, "limit"):
			l, ok := ParseInt(args[j+1])
			if !ok || l < 0 {
				return Error("ERR LIMIT can't be negative")
			}
			sp.limit = l
			j += 2
		default:
			return ErrSyntax
		}
	}
	return nil
}

// zsetOpSource is one input: a sorted set, or a set whose members all
// score 1.
type zsetOpSource struct {
	elems  []scored
	index  map[string]float64
	weight float64
}

func (s *zsetOpSource) find(member []byte) (float64, bool) {
	if s.index == nil {
		s.index = make(map[string]float64, len(s.elems))
		for _, e := range s.elems {
			s.index[string(e.member)] = e.score
		}
	}
	v, ok := s.index[string(member)]
	return v, ok
}

// loadZsetOpSource reads key as an input of ZUNION and the like.
func loadZsetOpSource(ks *Keyspace, key []byte) (*zsetOpSource, error) {
	src := &zsetOpSource{weight: 1}
	rec, ok, err := ks.lookup(key)
	if err == nil && !ok {
		ks.missed(key)
	}
	if err != nil || !ok {
		return src, err
	}
	switch rec.typ {
	case typeZSet:
		z := &zset{ks: ks, key: key, rec: rec, exists: true}
		err = z.walkAll(false, collect(&src.elems))
	case typeSet:
		err = eachSetMember(ks, rec, func(member []byte) bool {
			src.elems = append(src.elems, scored{bytes.Clone(member), 1})
			return true
		})
	default:
		err = errWrongType
	}
	return src, err
}

// eachSetMember calls f for each member of the set rec until f returns
// false. It relies on the set layout: one element per member, the member
// as its sub-key.
func eachSetMember(ks *Keyspace, rec record, f func(member []byte) bool) error {
	return ks.scanElems(rec.gen, nil, nil, func(sub, _ []byte) bool { return f(sub) })
}

func aggregate(target *float64, v float64, how byte) {
	switch how {
	case 's':
		*target += v
		if math.IsNaN(*target) {
			*target = 0 // inf + -inf
		}
	case 'n':
		if v < *target {
			*target = v
		}
	case 'x':
		if v > *target {
			*target = v
		}
	}
}

// execZsetOp implements ZUNION, ZINTER, ZDIFF (numkeys at 1), their STORE
// forms (store: destination at 1, numkeys at 2) and ZINTERCARD (card), as
// Redis's zunionInterDiffGenericCommand.
func execZsetOp(name string, op zsetOp, store, card bool) func(*Keyspace, [][]byte) (any, error) {
	at := 1
	if store {
		at = 2
	}
	return func(ks *Keyspace, args [][]byte) (any, error) {
		var sp zsetOpSpec
		var err error
		if sp.keys, err = parseZsetOpKeys(args, at, name); err != nil {
			return nil, err
		}
		srcs := make([]*zsetOpSource, len(sp.keys))
		for i, k := range sp.keys {
			if srcs[i], err = loadZsetOpSource(ks, k); err != nil {
				return nil, err
			}
		}
		if err := parseZsetOpOptions(args, at+1+len(sp.keys), &sp, op, store, card); err != nil {
			return nil, err
		}
		for i, w := range sp.weights {
			srcs[i].weight = w
		}
		if op != opDiff {
			// Smallest first, as Redis does: it decides the order in which
			// scores add up.
			sort.SliceStable(srcs, func(i, j int) bool { return len(srcs[i].elems) < len(srcs[j].elems) })
		}
		var result []scored
		switch op {
		case opUnion:
			result = zunion(srcs, sp.aggregate)
		case opInter:
			result = zinter(srcs, sp.aggregate, sp.limit)
		case opDiff:
			result = zdiff(srcs)
		}
		if card {
			return int64(len(result)), nil
		}
		sort.Slice(result, func(i, j int) bool {
			a, b := result[i], result[j]
			if a.score != b.score {
				return a.score < b.score
			}
			return bytes.Compare(a.member, b.member) < 0
		})
		if store {
			return ks.zstore(args[1], result, name)
		}
		return pairsReply(result, sp.withScores), nil
	}
}

func zunion(srcs []*zsetOpSource, how byte) []scored {
	var out []scored
	at := map[string]int{}
	for _, s := range srcs {
		for _, e := range s.elems {
			v := s.weight * e.score
			if math.IsNaN(v) {
				v = 0
			}
			if i, ok := at[string(e.member)]; ok {
				aggregate(&out[i].score, v, how)
				continue
			}
			at[string(e.member)] = len(out)
			out = append(out, scored{e.member, v})
		}
	}
	return out
}

// zinter intersects, walking the smallest source; limit > 0 stops at
// that many elements (ZINTERCARD).
func zinter(srcs []*zsetOpSource, how byte, limit int64) []scored {
	var out []scored
	first := srcs[0]
next:
	for _, e := range first.elems {
		v := first.weight * e.score
		if math.IsNaN(v) {
			v = 0
		}
		for _, s := range srcs[1:] {
			sc, ok := s.find(e.member)
			if !ok {
				continue next
			}
			aggregate(&v, sc*s.weight, how)
		}
		out = append(out, scored{e.member, v})
		if limit > 0 && int64(len(out)) >= limit {
			break
		}
	}
	return out
}

func zdiff(srcs []*zsetOpSource) []scored {
	var out []scored
next:
	for _, e := range srcs[0].elems {
		for _, s := range srcs[1:] {
			if _, ok := s.find(e.member); ok {
				continue next
			}
		}
		out = append(out, e)
	}
	return out
}
