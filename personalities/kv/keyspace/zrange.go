package keyspace

import "bytes"

func init() {
	for _, v := range []zrangeVariant{
		{"zrange", byAuto, dirAuto},
		{"zrevrange", byRank, dirReverse},
		{"zrangebyscore", byScore, dirForward},
		{"zrevrangebyscore", byScore, dirReverse},
		{"zrangebylex", byLex, dirForward},
		{"zrevrangebylex", byLex, dirReverse},
	} {
		register(singleKey(&Command{Spec: Spec{Name: v.name, Arity: -4, Flags: []string{"readonly"}}, Kind: KindRead, exec: execZrange(v)}))
	}
	register(&Command{Spec: Spec{Name: "zrangestore", Arity: -5, FirstKey: 1, LastKey: 2, Step: 1, Flags: []string{"write", "denyoom"}}, Kind: KindWrite, check: checkZrangestore, exec: execZrangestore})
	for _, c := range []struct {
		name string
		by   byte
	}{{"zremrangebyrank", byRank}, {"zremrangebyscore", byScore}, {"zremrangebylex", byLex}} {
		register(singleKey(&Command{Spec: Spec{Name: c.name, Arity: 4, Flags: []string{"write"}}, Kind: KindWrite, check: checkZremrange(c.by), exec: execZremrange(c.name, c.by)}))
	}
}

// ZRANGE and its older forms.

const (
	byAuto  = 0
	byRank  = 'r'
	byScore = 's'
	byLex   = 'l'

	dirAuto    = 0
	dirForward = 'f'
	dirReverse = 'r'
)

// zrangeVariant is what a range command fixes: ZRANGE fixes nothing,
// ZREVRANGEBYSCORE fixes BYSCORE and REV.
type zrangeVariant struct {
	name string
	by   byte
	dir  byte
}

// zrangeSpec is a parsed range request.
type zrangeSpec struct {
	by         byte
	rev        bool
	withScores bool
	offset     int64
	limit      int64 // -1: no LIMIT
	start, end int64 // by rank
	score      scoreRange
	lex        lexRange
}

// parseLimit reads LIMIT's offset and count, the first two of args.
func parseLimit(args [][]byte) (offset, count int64, err error) {
	var ok bool
	if offset, ok = ParseInt(args[0]); !ok {
		return 0, 0, ErrNotInteger
	}
	if count, ok = ParseInt(args[1]); !ok {
		return 0, 0, ErrNotInteger
	}
	return offset, count, nil
}

// parseZrange parses a range command as Redis's zrangeGenericCommand:
// the source key at args[at], its two bounds, then options; store says
// ZRANGESTORE (no WITHSCORES).
func parseZrange(args [][]byte, at int, store bool, v zrangeVariant) (zrangeSpec, error) {
	sp := zrangeSpec{by: v.by, limit: -1}
	dir := v.dir
	for j := at + 3; j < len(args); j++ {
		left := len(args) - j - 1
		switch a := args[j]; {
		case !store && EqFold(a, "withscores"):
			sp.withScores = true
		case EqFold(a, "limit") && left >= 2:
			var err error
			if sp.offset, sp.limit, err = parseLimit(args[j+1:]); err != nil {
				return sp, err
			}
			j += 2
		case dir == dirAuto && EqFold(a, "rev"):
			dir = dirReverse
		case sp.by == byAuto && EqFold(a, "bylex"):
			sp.by = byLex
		case sp.by == byAuto && EqFold(a, "byscore"):
			sp.by = byScore
		default:
			return sp, ErrSyntax
		}
	}
	if sp.by == byAuto {
		sp.by = byRank
	}
	sp.rev = dir == dirReverse
	if sp.limit != -1 && sp.by == byRank {
		return sp, Error("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
	}
	if sp.withScores && sp.by == byLex {
		return sp, Error("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
	}
	lo, hi := args[at+1], args[at+2]
	if sp.rev && sp.by != byRank {
		lo, hi = hi, lo // given as max, min
	}
	var err error
	switch sp.by {
	case byRank:
		var ok1, ok2 bool
		sp.start, ok1 = ParseInt(lo)
		sp.end, ok2 = ParseInt(hi)
		if !ok1 || !ok2 {
			err = ErrNotInteger
		}
	case byScore:
		sp.score, err = parseScoreRange(lo, hi)
	case byLex:
		sp.lex, err = parseLexRange(lo, hi)
	}
	return sp, err
}

// rangeOf returns the elements sp selects, in reply order.
func (z *zset) rangeOf(sp zrangeSpec) ([]scored, error) {
	var out []scored
	n := z.card()
	if sp.by == byRank {
		start, end := sp.start, sp.end
		if start < 0 {
			start += n
		}
		if end < 0 {
			end += n
		}
		start = max(start, 0)
		if start > end || start >= n {
			return nil, nil
		}
		end = min(end, n-1)
		var i int64
		err := z.walkAll(sp.rev, func(member []byte, score float64) bool {
			if i >= start {
				out = append(out, scored{bytes.Clone(member), score})
			}
			i++
			return i <= end
		})
		return out, err
	}
	// LIMIT: a negative offset selects nothing (Redis skips forever), a
	// negative count everything.
	offset, limit := sp.offset, sp.limit
	if offset < 0 || (offset > 0 && offset >= n) || limit == 0 {
		return nil, nil
	}
	f := func(member []byte, score float64) bool {
		if offset > 0 {
			offset--
			return true
		}
		out = append(out, scored{bytes.Clone(member), score})
		limit--
		return limit != 0
	}
	var err error
	if sp.by == byScore {
		err = z.walkScore(sp.score, sp.rev, f)
	} else {
		err = z.walkLex(sp.lex, sp.rev, f)
	}
	return out, err
}

func execZrange(v zrangeVariant) func(*Keyspace, [][]byte) (any, error) {
	return func(ks *Keyspace, args [][]byte) (any, error) {
		sp, err := parseZrange(args, 1, false, v)
		if err != nil {
			return nil, err
		}
		z, err := openZSet(ks, args[1])
		if err != nil {
			return nil, err
		}
		items, err := z.rangeOf(sp)
		if err != nil {
			return nil, err
		}
		return pairsReply(items, sp.withScores), nil
	}
}

var zrangestoreVariant = zrangeVariant{"zrangestore", byAuto, dirAuto}

func checkZrangestore(args [][]byte) error {
	_, err := parseZrange(args, 2, true, zrangestoreVariant)
	return err
}

func execZrangestore(ks *Keyspace, args [][]byte) (any, error) {
	sp, err := parseZrange(args, 2, true, zrangestoreVariant)
	if err != nil {
		return nil, err
	}
	z, err := openZSet(ks, args[2])
	if err != nil {
		return nil, err
	}
	if !z.exists {
		ks.missed(args[2])
	}
	items, err := z.rangeOf(sp)
	if err != nil {
		return nil, err
	}
	return ks.zstore(args[1], items, "zrangestore")
}

// ZREMRANGEBYRANK, ZREMRANGEBYSCORE, ZREMRANGEBYLEX.

func parseZremrange(args [][]byte, by byte) (zrangeSpec, error) {
	sp := zrangeSpec{by: by, limit: -1}
	var err error
	switch by {
	case byRank:
		var ok1, ok2 bool
		sp.start, ok1 = ParseInt(args[2])
		sp.end, ok2 = ParseInt(args[3])
		if !ok1 || !ok2 {
			err = ErrNotInteger
		}
	case byScore:
		sp.score, err = parseScoreRange(args[2], args[3])
	case byLex:
		sp.lex, err = parseLexRange(args[2], args[3])
	}
	return sp, err
}

func checkZremrange(by byte) func([][]byte) error {
	return func(args [][]byte) error {
		_, err := parseZremrange(args, by)
		return err
	}
}

func execZremrange(name string, by byte) func(*Keyspace, [][]byte) (any, error) {
	return func(ks *Keyspace, args [][]byte) (any, error) {
		sp, err := parseZremrange(args, by)
		if err != nil {
			return nil, err
		}
		z, err := openZSet(ks, args[1])
		if err != nil {
			return nil, err
		}
		items, err := z.rangeOf(sp)
		if err != nil {
			return nil, err
		}
		for _, e := range items {
			if err := z.del(e.member, e.score); err != nil {
				return nil, err
			}
		}
		return int64(len(items)), z.save(name)
	}
}
