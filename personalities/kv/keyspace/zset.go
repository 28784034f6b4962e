package keyspace

import "bytes"

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

// zstore replaces dst by a sorted set of items (distinct members), or
// deletes it if items is empty, as Redis's ZUNIONSTORE and ZRANGESTORE
// do: whatever dst held goes, its time to live included. It returns the
// new set's size.
func (ks *Keyspace) zstore(dst []byte, items []scored) (int64, error) {
	if err := ks.clear(dst); err != nil {
		return 0, err
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
