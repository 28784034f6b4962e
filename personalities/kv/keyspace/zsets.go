package keyspace

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"sort"
	"strconv"

	"hourglass/personalities/kv/glob"
)

func init() {
	ro := []string{"readonly"}
	rof := []string{"readonly", "fast"}
	rom := []string{"readonly", "movablekeys"}

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

	for _, v := range []zrangeVariant{
		{"zrange", byAuto, dirAuto},
		{"zrevrange", byRank, dirReverse},
		{"zrangebyscore", byScore, dirForward},
		{"zrevrangebyscore", byScore, dirReverse},
		{"zrangebylex", byLex, dirForward},
		{"zrevrangebylex", byLex, dirReverse},
	} {
		register(singleKey(&Command{Spec: Spec{Name: v.name, Arity: -4, Flags: ro}, Kind: KindRead, exec: execZrange(v)}))
	}
	register(&Command{Spec: Spec{Name: "zrangestore", Arity: -5, FirstKey: 1, LastKey: 2, Step: 1, Flags: []string{"write", "denyoom"}}, Kind: KindWrite, check: checkZrangestore, exec: execZrangestore})

	register(singleKey(&Command{Spec: Spec{Name: "zpopmin", Arity: -2, Flags: []string{"write", "fast"}}, Kind: KindWrite, check: checkZpop, exec: execZpop(false)}))
	register(singleKey(&Command{Spec: Spec{Name: "zpopmax", Arity: -2, Flags: []string{"write", "fast"}}, Kind: KindWrite, check: checkZpop, exec: execZpop(true)}))
	register(&Command{Spec: Spec{Name: "zmpop", Arity: -4, Flags: []string{"write", "movablekeys"}}, Kind: KindWrite, check: checkZmpop, exec: execZmpop})
	register(singleKey(&Command{Spec: Spec{Name: "zrandmember", Arity: -2, Flags: ro}, Kind: KindRead, exec: execZrandmember}))

	for _, c := range []struct {
		name string
		by   byte
	}{{"zremrangebyrank", byRank}, {"zremrangebyscore", byScore}, {"zremrangebylex", byLex}} {
		register(singleKey(&Command{Spec: Spec{Name: c.name, Arity: 4, Flags: []string{"write"}}, Kind: KindWrite, check: checkZremrange(c.by), exec: execZremrange(c.by)}))
	}

	for _, c := range []struct {
		name string
		op   zsetOp
	}{{"zunion", opUnion}, {"zinter", opInter}, {"zdiff", opDiff}} {
		register(&Command{Spec: Spec{Name: c.name, Arity: -3, Flags: rom}, Kind: KindRead, exec: execZsetOp(c.name, c.op, false, false)})
		register(singleKey(&Command{Spec: Spec{Name: c.name + "store", Arity: -4, Flags: []string{"write", "denyoom", "movablekeys"}}, Kind: KindWrite, check: checkZsetOp(c.name+"store", 2), exec: execZsetOp(c.name+"store", c.op, true, false)}))
	}
	register(&Command{Spec: Spec{Name: "zintercard", Arity: -3, Flags: rom}, Kind: KindRead, exec: execZsetOp("zintercard", opInter, false, true)})

	register(singleKey(&Command{Spec: Spec{Name: "zscan", Arity: -3, Flags: ro}, Kind: KindScan, check: checkScan(3), scan: scanZSet, scanType: typeZSet, optsAt: 3}))
}

// Sorted sets keep two indexes under their generation:
//
//	'm' member           -> score(8)
//	's' score(8) member  -> empty
//
// where score(8) is encodeScore's order-preserving encoding. The 's'
// index lists the elements in Redis's order, by score then by member
// bytes (memcmp, as Redis's sdscmp), so ranges by score and by lex are
// ordered scans; ranks are counted.
const (
	zsubMember = 'm'
	zsubScore  = 's'
)

func zmemberSub(member []byte) []byte {
	return append([]byte{zsubMember}, member...)
}

func zscorePrefix(score float64) []byte {
	return append([]byte{zsubScore}, encodeScore(score)...)
}

func zscoreSub(score float64, member []byte) []byte {
	return append(zscorePrefix(score), member...)
}

// scored is a member and its score.
type scored struct {
	member []byte
	score  float64
}

// zset is one sorted set as a command reads or changes it.
type zset struct {
	ks      *Keyspace
	key     []byte
	rec     record
	exists  bool // the key held a sorted set when opened
	created bool // this command created it
	changed bool
}

// openZSet returns the sorted set at key (empty if the key is missing),
// or errWrongType.
func openZSet(ks *Keyspace, key []byte) (*zset, error) {
	rec, ok, err := ks.lookupType(key, typeZSet)
	if err != nil {
		return nil, err
	}
	return &zset{ks: ks, key: key, rec: rec, exists: ok}, nil
}

func (z *zset) live() bool { return z.exists || z.created }

// card is ZCARD.
func (z *zset) card() int64 {
	if !z.live() {
		return 0
	}
	return z.rec.count
}

// score returns member's score.
func (z *zset) score(member []byte) (float64, bool, error) {
	if !z.live() {
		return 0, false, nil
	}
	b, ok, err := z.ks.getElem(z.rec.gen, zmemberSub(member))
	if err != nil || !ok {
		return 0, false, err
	}
	if len(b) != 8 {
		return 0, false, errCorrupt
	}
	return decodeScore(b), true, nil
}

// set gives member the score; had and old say whether it had one, and
// which.
func (z *zset) set(member []byte, score float64, had bool, old float64) error {
	if !z.live() {
		rec, err := z.ks.newCollection(typeZSet)
		if err != nil {
			return err
		}
		z.rec, z.created = rec, true
	}
	if had {
		if err := z.ks.delElem(z.rec.gen, zscoreSub(old, member)); err != nil {
			return err
		}
	} else {
		z.rec.count++
	}
	z.changed = true
	if err := z.ks.setElem(z.rec.gen, zmemberSub(member), encodeScore(score)); err != nil {
		return err
	}
	return z.ks.setElem(z.rec.gen, zscoreSub(score, member), nil)
}

// del removes member, whose score is score.
func (z *zset) del(member []byte, score float64) error {
	z.rec.count--
	z.changed = true
	if err := z.ks.delElem(z.rec.gen, zmemberSub(member)); err != nil {
		return err
	}
	return z.ks.delElem(z.rec.gen, zscoreSub(score, member))
}

// save writes the record back after changes; an emptied set's key goes.
func (z *zset) save() error {
	switch {
	case !z.changed:
		return nil
	case z.rec.count == 0 && z.exists:
		return z.ks.remove(z.key, z.rec)
	case z.rec.count == 0:
		return nil
	case z.exists:
		return z.ks.update(z.key, z.rec)
	}
	return z.ks.put(z.key, z.rec, false, record{})
}

// walk calls f for the elements whose score-index sub-keys lie in
// [lo, hi), forwards or backwards, until f returns false. member is valid
// only during the call.
func (z *zset) walk(lo, hi []byte, reverse bool, f func(member []byte, score float64) bool) error {
	if !z.live() || bytes.Compare(lo, hi) >= 0 {
		return nil
	}
	it, err := z.ks.r.NewIter(elemKey(z.rec.gen, lo), elemKey(z.rec.gen, hi))
	if err != nil {
		return err
	}
	defer it.Close()
	skip := len(elemPrefix(z.rec.gen))
	ok, step := it.First(), it.Next
	if reverse {
		ok, step = it.Last(), it.Prev
	}
	for ; ok; ok = step() {
		sub := it.Key()[skip:]
		if !f(sub[9:], decodeScore(sub[1:9])) {
			break
		}
	}
	return it.Error()
}

var (
	zscoreFirst = []byte{zsubScore}
	zscoreEnd   = []byte{zsubScore + 1}
)

// walkAll walks every element in score order (or reverse).
func (z *zset) walkAll(reverse bool, f func(member []byte, score float64) bool) error {
	return z.walk(zscoreFirst, zscoreEnd, reverse, f)
}

// walkScore walks the elements with scores in r.
func (z *zset) walkScore(r scoreRange, reverse bool, f func(member []byte, score float64) bool) error {
	if r.empty() {
		return nil
	}
	lo, hi := zscorePrefix(r.min), zscorePrefix(r.max)
	if r.minex {
		lo = prefixEnd(lo)
	}
	if !r.maxex {
		hi = prefixEnd(hi)
	}
	return z.walk(lo, hi, reverse, f)
}

// walkLex walks the elements with members in r, as Redis does: meant for
// a set whose scores are all equal. Forwards it skips the elements below
// min (seeking within the first score) and stops at the first above max;
// backwards the reverse.
func (z *zset) walkLex(r lexRange, reverse bool, f func(member []byte, score float64) bool) error {
	if !z.live() || r.empty() {
		return nil
	}
	gen := z.rec.gen
	it, err := z.ks.r.NewIter(elemKey(gen, zscoreFirst), elemKey(gen, zscoreEnd))
	if err != nil {
		return err
	}
	defer it.Close()
	skip := len(elemPrefix(gen))
	member := func() []byte { return it.Key()[skip+9:] }
	seek := func(bound []byte, after bool) []byte {
		k := append(elemKey(gen, it.Key()[skip:skip+9]), bound...)
		if after {
			k = append(k, 0)
		}
		return k
	}
	var ok bool
	if !reverse {
		ok = it.First()
		if ok && !r.gteMin(member()) && r.min.inf == 0 {
			ok = it.SeekGE(seek(r.min.v, r.min.ex))
		}
		for ok && !r.gteMin(member()) {
			ok = it.Next()
		}
		for ; ok && r.lteMax(member()); ok = it.Next() {
			if !f(member(), decodeScore(it.Key()[skip+1:skip+9])) {
				break
			}
		}
		return it.Error()
	}
	ok = it.Last()
	if ok && !r.lteMax(member()) && r.max.inf == 0 {
		ok = it.SeekLT(seek(r.max.v, !r.max.ex))
	}
	for ok && !r.lteMax(member()) {
		ok = it.Prev()
	}
	for ; ok && r.gteMin(member()); ok = it.Prev() {
		if !f(member(), decodeScore(it.Key()[skip+1:skip+9])) {
			break
		}
	}
	return it.Error()
}

// rank returns the position of member, whose score is score, in score
// order from 0.
func (z *zset) rank(member []byte, score float64) (int64, error) {
	var n int64
	err := z.walk(zscoreFirst, zscoreSub(score, member), false, func([]byte, float64) bool {
		n++
		return true
	})
	return n, err
}

// collect gathers what walk-like functions report.
func collect(into *[]scored) func(member []byte, score float64) bool {
	return func(member []byte, score float64) bool {
		*into = append(*into, scored{bytes.Clone(member), score})
		return true
	}
}

// Replies.

// pairsReply renders elements as members, or as member, score pairs
// (flat in RESP2, [member, score] arrays in RESP3).
func pairsReply(items []scored, withScores bool) any {
	if withScores {
		out := make(Pairs, 0, 2*len(items))
		for _, e := range items {
			out = append(out, e.member, e.score)
		}
		return out
	}
	out := make([]any, 0, len(items))
	for _, e := range items {
		out = append(out, e.member)
	}
	return out
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
		if err := z.save(); err != nil {
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
	return n, z.save()
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
	out := make([]any, 0, len(args)-2)
	for _, m := range args[2:] {
		s, found, err := z.score(m)
		if err != nil {
			return nil, err
		}
		if found {
			out = append(out, s)
		} else {
			out = append(out, nil)
		}
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
			var ok bool
			if sp.offset, ok = ParseInt(args[j+1]); !ok {
				return sp, ErrNotInteger
			}
			if sp.limit, ok = ParseInt(args[j+2]); !ok {
				return sp, ErrNotInteger
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
	items, err := z.rangeOf(sp)
	if err != nil {
		return nil, err
	}
	return ks.zstore(args[1], items)
}

// zstore replaces dst by a sorted set of items (distinct members), or
// deletes it if items is empty, as Redis's ZUNIONSTORE and ZRANGESTORE
// do: whatever dst held goes, its time to live included. It returns the
// new set's size.
func (ks *Keyspace) zstore(dst []byte, items []scored) (int64, error) {
	old, exists, err := ks.lookup(dst)
	if err != nil {
		return 0, err
	}
	if exists {
		if err := ks.remove(dst, old); err != nil {
			return 0, err
		}
	}
	if len(items) == 0 {
		return 0, nil
	}
	z := &zset{ks: ks, key: dst}
	for _, e := range items {
		if err := z.set(e.member, e.score, false, 0); err != nil {
			return 0, err
		}
	}
	return z.rec.count, z.save()
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
		return key, popped, z.save()
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

func execZremrange(by byte) func(*Keyspace, [][]byte) (any, error) {
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
		return int64(len(items)), z.save()
	}
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
			return ks.zstore(args[1], result)
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

// Scores and ranges of sorted sets: their order-preserving encoding and
// the parsers Redis uses for them.

// encodeScore returns the 8 bytes of score whose byte order is the
// numeric order: -inf < ... < -0 = 0 < ... < inf. -0 is stored as 0, as
// Redis's listpack stores it, so that it prints as "0" afterwards.
func encodeScore(score float64) []byte {
	return binary.BigEndian.AppendUint64(nil, sortableScore(score))
}

func sortableScore(score float64) uint64 {
	if score == 0 {
		score = 0 // -0 sorts (and is stored) as 0
	}
	bits := math.Float64bits(score)
	if bits&(1<<63) != 0 {
		return ^bits
	}
	return bits | 1<<63
}

// decodeScore inverts encodeScore.
func decodeScore(b []byte) float64 {
	u := binary.BigEndian.Uint64(b)
	if u&(1<<63) != 0 {
		return math.Float64frombits(u &^ (1 << 63))
	}
	return math.Float64frombits(^u)
}

// strtod reads the longest prefix of s that C's strtod reads (in the C
// locale): leading white space, a sign, then a decimal or hexadecimal
// number, "inf", "infinity" or "nan". n is the number of bytes read (0:
// none); erange says that the number overflows to an infinity or is not
// zero but rounds to zero.
func strtod(s []byte) (v float64, n int, erange bool) {
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	start := i
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	sign := func(f float64) float64 {
		if neg {
			return -f
		}
		return f
	}
	rest := s[i:]
	switch {
	case hasPrefixFold(rest, "infinity"):
		return sign(math.Inf(1)), i + 8, false
	case hasPrefixFold(rest, "inf"):
		return sign(math.Inf(1)), i + 3, false
	case hasPrefixFold(rest, "nan"):
		j := i + 3
		if j < len(s) && s[j] == '(' {
			k := j + 1
			for k < len(s) && (isAlnum(s[k]) || s[k] == '_') {
				k++
			}
			if k < len(s) && s[k] == ')' {
				j = k + 1
			}
		}
		return math.NaN(), j, false
	}
	if len(rest) > 2 && rest[0] == '0' && (rest[1]|0x20) == 'x' {
		j, digits, nonzero := 2, 0, false
		for ; j < len(rest) && (isHexDigit(rest[j]) || (rest[j] == '.' && !bytes.Contains(rest[2:j], []byte{'.'}))); j++ {
			if rest[j] != '.' {
				digits++
				nonzero = nonzero || rest[j] != '0'
			}
		}
		if digits > 0 {
			mant := j
			if j < len(rest) && (rest[j]|0x20) == 'p' {
				k := j + 1
				if k < len(rest) && (rest[k] == '+' || rest[k] == '-') {
					k++
				}
				if k < len(rest) && isDigit(rest[k]) {
					for k < len(rest) && isDigit(rest[k]) {
						k++
					}
					j = k
				}
			}
			text := string(s[start : i+j])
			if j == mant {
				text += "p0"
			}
			f, err := strconv.ParseFloat(text, 64)
			return f, i + j, rangeError(err) || (f == 0 && nonzero)
		}
		// "0x" with no digits: strtod reads the "0".
	}
	j, digits, nonzero := 0, 0, false
	for ; j < len(rest) && (isDigit(rest[j]) || (rest[j] == '.' && !bytes.Contains(rest[:j], []byte{'.'}))); j++ {
		if rest[j] != '.' {
			digits++
			nonzero = nonzero || rest[j] != '0'
		}
	}
	if digits == 0 {
		return 0, 0, false
	}
	if j < len(rest) && (rest[j]|0x20) == 'e' {
		k := j + 1
		if k < len(rest) && (rest[k] == '+' || rest[k] == '-') {
			k++
		}
		if k < len(rest) && isDigit(rest[k]) {
			for k < len(rest) && isDigit(rest[k]) {
				k++
			}
			j = k
		}
	}
	f, err := strconv.ParseFloat(string(s[start:i+j]), 64)
	return f, i + j, rangeError(err) || (f == 0 && nonzero)
}

func rangeError(err error) bool {
	var ne *strconv.NumError
	return errors.As(err, &ne) && ne.Err == strconv.ErrRange
}

func isCSpace(c byte) bool   { return c == ' ' || (c >= '\t' && c <= '\r') }
func isDigit(c byte) bool    { return c >= '0' && c <= '9' }
func isAlnum(c byte) bool    { return isDigit(c) || (c|0x20) >= 'a' && (c|0x20) <= 'z' }
func isHexDigit(c byte) bool { return isDigit(c) || (c|0x20) >= 'a' && (c|0x20) <= 'f' }

func hasPrefixFold(b []byte, lower string) bool {
	return len(b) >= len(lower) && EqFold(b[:len(lower)], lower)
}

// parseScore parses a score, weight or increment as Redis's
// getDoubleFromObject (string2d): all of the argument, no leading space,
// not NaN, and neither overflowing nor underflowing to zero.
func parseScore(b []byte) (float64, bool) {
	if len(b) == 0 || isCSpace(b[0]) {
		return 0, false
	}
	v, n, erange := strtod(b)
	if n != len(b) || erange || math.IsNaN(v) {
		return 0, false
	}
	return v, true
}

// scoreRange is a ZRANGEBYSCORE interval; minex and maxex make its ends
// exclusive.
type scoreRange struct {
	min, max     float64
	minex, maxex bool
}

var errScoreRange = Error("ERR min or max is not a float")

// parseScoreRange parses min and max as Redis's zslParseRange: a leading
// "(" makes the end exclusive; the rest is read by strtod up to the end of
// the C string (white space in front, out-of-range values and the empty
// string allowed), and must not be NaN.
func parseScoreRange(min, max []byte) (scoreRange, error) {
	var r scoreRange
	var ok bool
	if r.min, r.minex, ok = parseRangeEnd(min); !ok {
		return r, errScoreRange
	}
	if r.max, r.maxex, ok = parseRangeEnd(max); !ok {
		return r, errScoreRange
	}
	return r, nil
}

func parseRangeEnd(b []byte) (v float64, ex, ok bool) {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i] // C strings end at the first NUL
	}
	if len(b) > 0 && b[0] == '(' {
		ex, b = true, b[1:]
	}
	v, n, _ := strtod(b)
	return v, ex, n == len(b) && !math.IsNaN(v)
}

// empty reports whether no score can be in r.
func (r scoreRange) empty() bool {
	return r.min > r.max || (r.min == r.max && (r.minex || r.maxex))
}

// lexBound is one end of a ZRANGEBYLEX interval: "-" (inf < 0), "+"
// (inf > 0), or a member, exclusive ("(") or not ("[").
type lexBound struct {
	inf int
	v   []byte
	ex  bool
}

// lexRange is a ZRANGEBYLEX interval.
type lexRange struct{ min, max lexBound }

var errLexRange = Error("ERR min or max not valid string range item")

// parseLexRange parses min and max as Redis's zslParseLexRange.
func parseLexRange(min, max []byte) (lexRange, error) {
	var r lexRange
	var ok bool
	if r.min, ok = parseLexBound(min); !ok {
		return r, errLexRange
	}
	if r.max, ok = parseLexBound(max); !ok {
		return r, errLexRange
	}
	return r, nil
}

func parseLexBound(b []byte) (lexBound, bool) {
	if len(b) == 0 {
		return lexBound{}, false
	}
	switch b[0] {
	case '+', '-':
		// Redis reads a C string here: "+" must end at the second byte.
		if len(b) > 1 && b[1] != 0 {
			return lexBound{}, false
		}
		inf := 1
		if b[0] == '-' {
			inf = -1
		}
		return lexBound{inf: inf, ex: true}, true
	case '(':
		return lexBound{v: b[1:], ex: true}, true
	case '[':
		return lexBound{v: b[1:]}, true
	}
	return lexBound{}, false
}

// compareLex orders bounds and members: "-" before every member, "+"
// after every member.
func compareLex(a, b lexBound) int {
	if a.inf != 0 || b.inf != 0 {
		switch {
		case a.inf == b.inf:
			return 0
		case a.inf < b.inf:
			return -1
		}
		return 1
	}
	return bytes.Compare(a.v, b.v)
}

// empty reports whether no member can be in r (Redis's zslIsInLexRange).
func (r lexRange) empty() bool {
	c := compareLex(r.min, r.max)
	return c > 0 || (c == 0 && (r.min.ex || r.max.ex))
}

func (r lexRange) gteMin(member []byte) bool {
	c := compareLex(lexBound{v: member}, r.min)
	if r.min.ex {
		return c > 0
	}
	return c >= 0
}

func (r lexRange) lteMax(member []byte) bool {
	c := compareLex(lexBound{v: member}, r.max)
	if r.max.ex {
		return c < 0
	}
	return c <= 0
}
