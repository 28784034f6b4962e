package keyspace

import (
	"bytes"
	"math"

	"hourglass/personalities/kv/glob"
)

// Sorted-set commands: this file has the point commands and ZSCAN;
// zrange.go the range queries, zpop.go the pops and random picks,
// zsetops.go the set operations; zset.go the sorted set they share and
// zscore.go its scores.

func init() {
	rof := []string{"readonly", "fast"}
	register(singleKey(&Command{Spec: Spec{Name: "zadd", Arity: -4, Flags: []string{"write", "denyoom", "fast"}}, Kind: KindWrite, check: checkZadd(false), exec: execZadd(false)}))
	register(singleKey(&Command{Spec: Spec{Name: "zincrby", Arity: 4, Flags: []string{"write", "denyoom", "fast"}}, Kind: KindWrite, check: checkZadd(true), exec: execZadd(true)}))
	register(singleKey(&Command{Spec: Spec{Name: "zrem", Arity: -3, Flags: []string{"write", "fast"}}, Kind: KindWrite, exec: execZrem}))
	register(singleKey(&Command{Spec: Spec{Name: "zscore", Arity: 3, Flags: rof}, Kind: KindRead, exec: execZscore}))
	register(singleKey(&Command{Spec: Spec{Name: "zmscore", Arity: -3, Flags: rof}, Kind: KindRead, exec: execZmscore}))
	register(singleKey(&Command{Spec: Spec{Name: "zcard", Arity: 2, Flags: rof}, Kind: KindRead, exec: execZcard}))
	register(singleKey(&Command{Spec: Spec{Name: "zcount", Arity: 4, Flags: rof}, Kind: KindRead, exec: execZcount}))
	register(singleKey(&Command{Spec: Spec{Name: "zlexcount", Arity: 4, Flags: rof}, Kind: KindRead, exec: execZlexcount}))
	register(singleKey(&Command{Spec: Spec{Name: "zrank", Arity: -3, Flags: rof}, Kind: KindRead, exec: execZrank(false)}))
	register(singleKey(&Command{Spec: Spec{Name: "zrevrank", Arity: -3, Flags: rof}, Kind: KindRead, exec: execZrank(true)}))
	register(singleKey(&Command{Spec: Spec{Name: "zscan", Arity: -3, Flags: []string{"readonly"}}, Kind: KindScan, check: checkScan(3), scan: scanZSet, scanType: typeZSet, optsAt: 3}))
}

// ZADD, ZINCRBY.

type zaddOptions struct {
	nx, xx, gt, lt, ch, incr bool
	scores                   []float64
	members                  [][]byte
}

// parseZadd parses ZADD (and ZINCRBY, incr) as Redis's
// zaddGenericCommand, with its errors in its order.
func parseZadd(args [][]byte, incr bool) (zaddOptions, error) {
	o := zaddOptions{incr: incr}
	i := 2
options:
	for ; i < len(args); i++ {
		switch a := args[i]; {
		case EqFold(a, "nx"):
			o.nx = true
		case EqFold(a, "xx"):
			o.xx = true
		case EqFold(a, "ch"):
			o.ch = true
		case EqFold(a, "incr"):
			o.incr = true
		case EqFold(a, "gt"):
			o.gt = true
		case EqFold(a, "lt"):
			o.lt = true
		default:
			break options
		}
	}
	n := len(args) - i
	switch {
	case n == 0 || n%2 != 0:
		return o, ErrSyntax
	case o.nx && o.xx:
		return o, Error("ERR XX and NX options at the same time are not compatible")
	case (o.gt && o.nx) || (o.lt && o.nx) || (o.gt && o.lt):
		return o, Error("ERR GT, LT, and/or NX options at the same time are not compatible")
	case o.incr && n > 2:
		return o, Error("ERR INCR option supports a single increment-element pair")
	}
	for ; i < len(args); i += 2 {
		s, ok := parseScore(args[i])
		if !ok {
			return o, errNotFloat
		}
		o.scores = append(o.scores, s)
		o.members = append(o.members, args[i+1])
	}
	return o, nil
}

func checkZadd(incr bool) func([][]byte) error {
	return func(args [][]byte) error {
		_, err := parseZadd(args, incr)
		return err
	}
}

var errZNaN = Error("ERR resulting score is not a number (NaN)")

func execZadd(incr bool) func(*Keyspace, [][]byte) (any, error) {
	return func(ks *Keyspace, args [][]byte) (any, error) {
		o, err := parseZadd(args, incr)
		if err != nil {
			return nil, err
		}
		z, err := openZSet(ks, args[1])
		if err != nil {
			return nil, err
		}
		var added, updated, processed int64
		var last float64
		for i, m := range o.members {
			if !z.live() && o.xx {
				break
			}
			s := o.scores[i]
			cur, found, err := z.score(m)
			if err != nil {
				return nil, err
			}
			switch {
			case found && o.nx:
				continue
			case found:
				if o.incr {
					if s += cur; math.IsNaN(s) {
						return nil, errZNaN
					}
				}
				if (o.lt && s >= cur) || (o.gt && s <= cur) {
					continue
				}
				if s != cur {
					if err := z.set(m, s, true, cur); err != nil {
						return nil, err
					}
					updated++
				}
			case o.xx:
				continue
			default:
				if err := z.set(m, s, false, 0); err != nil {
					return nil, err
				}
				added++
			}
			processed++
			last = s
		}
		event := "zadd"
		if o.incr {
			event = "zincr"
		}
		if err := z.save(event); err != nil {
			return nil, err
		}
		switch {
		case o.incr && processed == 0:
			return nil, nil
		case o.incr:
			return last, nil
		case o.ch:
			return added + updated, nil
		}
		return added, nil
	}
}

func execZrem(ks *Keyspace, args [][]byte) (any, error) {
	z, err := openZSet(ks, args[1])
	if err != nil {
		return nil, err
	}
	var n int64
	for _, m := range args[2:] {
		s, found, err := z.score(m)
		if err != nil {
			return nil, err
		}
		if found {
			if err := z.del(m, s); err != nil {
				return nil, err
			}
			n++
		}
	}
	return n, z.save("zrem")
}

func execZscore(ks *Keyspace, args [][]byte) (any, error) {
	z, err := openZSet(ks, args[1])
	if err != nil {
		return nil, err
	}
	s, found, err := z.score(args[2])
	if err != nil || !found {
		return nil, err
	}
	return s, nil
}

func execZmscore(ks *Keyspace, args [][]byte) (any, error) {
	z, err := openZSet(ks, args[1])
	if err != nil {
		return nil, err
	}
	return z.mapScores(args[2:], func(s float64, found bool) any {
		if !found {
			return nil
		}
		return s
	})
}

// mapScores returns f of each member's score, found false for a member
// not in the set.
func (z *zset) mapScores(members [][]byte, f func(score float64, found bool) any) ([]any, error) {
	out := make([]any, 0, len(members))
	for _, m := range members {
		s, found, err := z.score(m)
		if err != nil {
			return nil, err
		}
		out = append(out, f(s, found))
	}
	return out, nil
}

func execZcard(ks *Keyspace, args [][]byte) (any, error) {
	z, err := openZSet(ks, args[1])
	if err != nil {
		return nil, err
	}
	return z.card(), nil
}

func execZcount(ks *Keyspace, args [][]byte) (any, error) {
	r, err := parseScoreRange(args[2], args[3])
	if err != nil {
		return nil, err
	}
	z, err := openZSet(ks, args[1])
	if err != nil {
		return nil, err
	}
	var n int64
	err = z.walkScore(r, false, func([]byte, float64) bool { n++; return true })
	return n, err
}

func execZlexcount(ks *Keyspace, args [][]byte) (any, error) {
	r, err := parseLexRange(args[2], args[3])
	if err != nil {
		return nil, err
	}
	z, err := openZSet(ks, args[1])
	if err != nil {
		return nil, err
	}
	var n int64
	err = z.walkLex(r, false, func([]byte, float64) bool { n++; return true })
	return n, err
}

// execZrank implements ZRANK and ZREVRANK (rev), with Redis 7.2's
// WITHSCORE.
func execZrank(rev bool) func(*Keyspace, [][]byte) (any, error) {
	name := "zrank"
	if rev {
		name = "zrevrank"
	}
	return func(ks *Keyspace, args [][]byte) (any, error) {
		if len(args) > 4 {
			return nil, ErrArity(name)
		}
		withScore := len(args) == 4
		if withScore && !EqFold(args[3], "withscore") {
			return nil, ErrSyntax
		}
		var none any
		if withScore {
			none = NullArray{}
		}
		z, err := openZSet(ks, args[1])
		if err != nil {
			return nil, err
		}
		s, found, err := z.score(args[2])
		if err != nil || !found {
			return none, err
		}
		rank, err := z.rank(args[2], s)
		if err != nil {
			return nil, err
		}
		if rev {
			rank = z.card() - 1 - rank
		}
		if withScore {
			return []any{rank, s}, nil
		}
		return rank, nil
	}
}

// ZSCAN.

// scanZSet is ZSCAN's walker: member, score pairs in member order (the
// member index, so that a score change mid-scan neither hides nor repeats
// an element), scores as strings.
func scanZSet(ks *Keyspace, args [][]byte, o scanOptions) (scanWalker, error) {
	z, err := openZSet(ks, args[1])
	if err != nil || !z.exists {
		return nil, err
	}
	return func(from []byte, fn func(pos []byte, items []any) bool) error {
		return ks.scanElems(z.rec.gen, []byte{zsubMember}, from, func(sub, v []byte) bool {
			member := sub[1:]
			if o.match != nil && !glob.Match(o.match, member) {
				return fn(sub, nil)
			}
			return fn(sub, []any{bytes.Clone(member), FormatFloat(decodeScore(v))})
		})
	}, nil
}
