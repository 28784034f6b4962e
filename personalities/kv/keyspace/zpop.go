package keyspace

import (
	"bytes"
	"math"
)

func init() {
	register(singleKey(&Command{Spec: Spec{Name: "zpopmin", Arity: -2, Flags: []string{"write", "fast"}}, Kind: KindWrite, check: checkZpop, exec: execZpop(false)}))
	register(singleKey(&Command{Spec: Spec{Name: "zpopmax", Arity: -2, Flags: []string{"write", "fast"}}, Kind: KindWrite, check: checkZpop, exec: execZpop(true)}))
	register(&Command{Spec: Spec{Name: "zmpop", Arity: -4, Flags: []string{"write", "movablekeys"}}, Kind: KindWrite, check: checkZmpop, exec: execZmpop})
	register(singleKey(&Command{Spec: Spec{Name: "zrandmember", Arity: -2, Flags: []string{"readonly"}}, Kind: KindRead, exec: execZrandmember}))
}

// ZPOPMIN, ZPOPMAX, ZMPOP.

// zpop pops up to count elements (count >= 0) from the first of keys that
// exists: the lowest scores first, or the highest if max. It returns
// that key (nil if none exists) and the elements in pop order; the key
// goes when it empties. errWrongType if that key is not a sorted set.
//
// It runs at apply, deterministically; the blocking BZPOPMIN, BZPOPMAX
// and BZMPOP are meant to call it when a key they wait for is written.
func (ks *Keyspace) zpop(keys [][]byte, max bool, count int64) ([]byte, []scored, error) {
	for _, key := range keys {
		rec, ok, err := ks.lookup(key)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			continue
		}
		if rec.typ != typeZSet {
			return nil, nil, errWrongType
		}
		z := &zset{ks: ks, key: key, rec: rec, exists: true}
		var popped []scored
		if count > 0 {
			if err := z.walkAll(max, func(member []byte, score float64) bool {
				popped = append(popped, scored{bytes.Clone(member), score})
				return int64(len(popped)) < count
			}); err != nil {
				return nil, nil, err
			}
		}
		for _, e := range popped {
			if err := z.del(e.member, e.score); err != nil {
				return nil, nil, err
			}
		}
		event := "zpopmin"
		if max {
			event = "zpopmax"
		}
		return key, popped, z.save(event)
	}
	return nil, nil, nil
}

var errNotPositive = Error("ERR value is out of range, must be positive")

// parseZpopCount returns ZPOPMIN's count, -1 if not given.
func parseZpopCount(args [][]byte) (int64, error) {
	if len(args) > 3 {
		return 0, ErrSyntax
	}
	if len(args) < 3 {
		return -1, nil
	}
	n, ok := ParseInt(args[2])
	if !ok || n < 0 {
		return 0, errNotPositive
	}
	return n, nil
}

func checkZpop(args [][]byte) error {
	_, err := parseZpopCount(args)
	return err
}

func execZpop(max bool) func(*Keyspace, [][]byte) (any, error) {
	return func(ks *Keyspace, args [][]byte) (any, error) {
		count, err := parseZpopCount(args)
		if err != nil {
			return nil, err
		}
		n := count
		if count == -1 {
			n = 1
		}
		_, popped, err := ks.zpop(args[1:2], max, n)
		if err != nil {
			return nil, err
		}
		if count == -1 {
			// A single pop is a flat array in RESP3 as well.
			out := []any{}
			for _, e := range popped {
				out = append(out, e.member, e.score)
			}
			return out, nil
		}
		if count == 0 {
			return []any{}, nil
		}
		return pairsReply(popped, true), nil
	}
}

// parseZmpop parses ZMPOP numkeys key... MIN|MAX [COUNT count].
func parseZmpop(args [][]byte) (keys [][]byte, max bool, count int64, err error) {
	numkeys, ok := ParseInt(args[1])
	if !ok || numkeys < 1 {
		return nil, false, 0, Error("ERR numkeys should be greater than 0")
	}
	if numkeys >= int64(len(args))-2 {
		return nil, false, 0, ErrSyntax
	}
	where := 2 + int(numkeys)
	switch {
	case EqFold(args[where], "min"):
	case EqFold(args[where], "max"):
		max = true
	default:
		return nil, false, 0, ErrSyntax
	}
	count = -1
	for j := where + 1; j < len(args); j++ {
		if count == -1 && EqFold(args[j], "count") && j+1 < len(args) {
			j++
			if count, ok = ParseInt(args[j]); !ok || count < 1 {
				return nil, false, 0, Error("ERR count should be greater than 0")
			}
			continue
		}
		return nil, false, 0, ErrSyntax
	}
	if count == -1 {
		count = 1
	}
	return args[2:where], max, count, nil
}

func checkZmpop(args [][]byte) error {
	_, _, _, err := parseZmpop(args)
	return err
}

func execZmpop(ks *Keyspace, args [][]byte) (any, error) {
	keys, max, count, err := parseZmpop(args)
	if err != nil {
		return nil, err
	}
	key, popped, err := ks.zpop(keys, max, count)
	if err != nil {
		return nil, err
	}
	if key == nil {
		return NullArray{}, nil
	}
	pairs := make([]any, 0, len(popped))
	for _, e := range popped {
		pairs = append(pairs, []any{e.member, e.score})
	}
	return []any{bytes.Clone(key), pairs}, nil
}

// ZRANDMEMBER.

func execZrandmember(ks *Keyspace, args [][]byte) (any, error) {
	if len(args) == 2 {
		z, err := openZSet(ks, args[1])
		if err != nil || z.card() == 0 {
			return nil, err
		}
		var pick []byte
		i := ks.rand().Int64N(z.card())
		err = z.walkAll(false, func(member []byte, _ float64) bool {
			if i == 0 {
				pick = bytes.Clone(member)
				return false
			}
			i--
			return true
		})
		return pick, err
	}
	l, ok := ParseInt(args[2])
	if !ok {
		return nil, ErrNotInteger
	}
	if l == math.MinInt64 {
		return nil, errCountRange
	}
	withScores := len(args) == 4
	if len(args) > 4 || (withScores && !EqFold(args[3], "withscores")) {
		return nil, ErrSyntax
	}
	if withScores && (l < -math.MaxInt64/2 || l > math.MaxInt64/2) {
		return nil, Error("ERR value is out of range")
	}
	z, err := openZSet(ks, args[1])
	if err != nil {
		return nil, err
	}
	if l == 0 || z.card() == 0 {
		return []any{}, nil
	}
	var all []scored
	if err := z.walkAll(false, collect(&all)); err != nil {
		return nil, err
	}
	rng := ks.rand()
	var picks []scored
	switch {
	case l < -maxRepeatedPicks:
		return nil, errTooManyPicks
	case l < 0:
		// With repetitions, in random order.
		for range -l {
			picks = append(picks, all[rng.IntN(len(all))])
		}
	case l >= int64(len(all)):
		picks = all
	default:
		// Distinct, in random order: a partial Fisher-Yates shuffle.
		for i := range int(l) {
			j := i + rng.IntN(len(all)-i)
			all[i], all[j] = all[j], all[i]
		}
		picks = all[:l]
	}
	return pairsReply(picks, withScores), nil
}
