package keyspace

import "math"

// Stream commands: this file has the entry commands (XADD, XLEN, XRANGE,
// XREVRANGE, XDEL, XTRIM, XSETID); streamread.go XREAD and XREADGROUP;
// streamgroups.go XGROUP, XACK and XPENDING; streamclaim.go XCLAIM and
// XAUTOCLAIM; streaminfo.go XINFO. stream.go, streamtrim.go and
// streamgroup.go keep the stream, its nodes and its groups.

func init() {
	w := []string{"write", "denyoom", "fast"}
	register(singleKey(&Command{Spec: Spec{Name: "xadd", Arity: -5, Flags: w}, Kind: KindWrite, check: checkXadd, exec: execXadd}))
	register(singleKey(&Command{Spec: Spec{Name: "xlen", Arity: 2, Flags: []string{"readonly", "fast"}}, Kind: KindRead, exec: execXlen}))
	register(singleKey(&Command{Spec: Spec{Name: "xrange", Arity: -4, Flags: []string{"readonly"}}, Kind: KindRead, check: checkXrange(false), exec: execXrange(false)}))
	register(singleKey(&Command{Spec: Spec{Name: "xrevrange", Arity: -4, Flags: []string{"readonly"}}, Kind: KindRead, check: checkXrange(true), exec: execXrange(true)}))
	register(singleKey(&Command{Spec: Spec{Name: "xdel", Arity: -3, Flags: []string{"write", "fast"}}, Kind: KindWrite, exec: execXdel}))
	register(singleKey(&Command{Spec: Spec{Name: "xtrim", Arity: -4, Flags: []string{"write"}}, Kind: KindWrite, check: checkXtrim, exec: execXtrim}))
	register(singleKey(&Command{Spec: Spec{Name: "xsetid", Arity: -3, Flags: w}, Kind: KindWrite, check: checkXsetid, exec: execXsetid}))
}

func execXlen(ks *Keyspace, args [][]byte) (any, error) {
	rec, _, err := ks.lookupType(args[1], typeStream)
	return rec.count, err
}

// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]]
// *|id field value [field value ...]

func parseXadd(args [][]byte) (trimArgs, error) {
	t, err := parseTrimArgs(args, true)
	if err != nil {
		return t, err
	}
	if n := len(args) - t.next; n < 2 || n%2 == 1 {
		return t, ErrArity("xadd")
	}
	if t.idGiven && t.seqGiven && t.id.isZero() {
		return t, Error("ERR The ID specified in XADD must be greater than 0-0")
	}
	return t, nil
}

func checkXadd(args [][]byte) error {
	_, err := parseXadd(args)
	return err
}

const errXaddSmaller = Error("ERR The ID specified in XADD is equal or smaller than the target stream top item")

func execXadd(ks *Keyspace, args [][]byte) (any, error) {
	t, err := parseXadd(args)
	if err != nil {
		return nil, err
	}
	s, ok, err := ks.openStream(args[1])
	if err != nil {
		return nil, err
	}
	if !ok && t.noMkStream {
		return nil, nil
	}
	var meta streamMeta
	if ok {
		meta = s.meta
	}
	if meta.lastID == maxStreamID {
		return nil, Error("ERR The stream has exhausted the last possible ID, unable to add more items")
	}
	id, err := nextStreamID(meta.lastID, t, ks.now)
	if err != nil {
		return nil, err
	}
	if !ok {
		if s, err = ks.newStream(args[1]); err != nil {
			return nil, err
		}
	}
	if err := s.appendEntry(id, args[t.next:]); err != nil {
		return nil, err
	}
	trimmed, err := s.trim(t)
	if err != nil {
		return nil, err
	}
	if err := s.save(); err != nil {
		return nil, err
	}
	ks.notify(EventStream, "xadd", args[1])
	if trimmed > 0 {
		ks.notify(EventStream, "xtrim", args[1])
	}
	return id.reply(), nil
}

// nextStreamID is the ID XADD gives its entry after last: the explicit
// one, ms-* with the next sequence, or for * the log time now (or last's
// ms if the clock is behind it) with the next sequence.
func nextStreamID(last streamID, t trimArgs, now int64) (streamID, error) {
	var id streamID
	switch {
	case t.idGiven && t.seqGiven:
		id = t.id
	case t.idGiven && last.ms == t.id.ms:
		if last.seq == math.MaxUint64 {
			return id, errXaddSmaller
		}
		id = streamID{last.ms, last.seq + 1}
	case t.idGiven:
		id = t.id
	case now > 0 && uint64(now) > last.ms:
		id = streamID{uint64(now), 0}
	default:
		id, _ = last.incr()
	}
	if id.cmp(last) <= 0 {
		return id, errXaddSmaller
	}
	return id, nil
}

// XRANGE key start end [COUNT count], XREVRANGE key end start [COUNT n].

type rangeArgs struct {
	start, end streamID
	count      int64 // -1: all
}

func parseXrange(args [][]byte, rev bool) (rangeArgs, error) {
	startArg, endArg := args[2], args[3]
	if rev {
		startArg, endArg = endArg, startArg
	}
	r := rangeArgs{count: -1}
	var err error
	if r.start, err = parseIntervalID(startArg, false); err != nil {
		return r, err
	}
	if r.end, err = parseIntervalID(endArg, true); err != nil {
		return r, err
	}
	for j := 4; j < len(args); j++ {
		if !EqFold(args[j], "count") || j+1 >= len(args) {
			return r, ErrSyntax
		}
		n, ok := ParseInt(args[j+1])
		if !ok {
			return r, ErrNotInteger
		}
		r.count = max(n, 0)
		j++
	}
	return r, nil
}

func checkXrange(rev bool) func([][]byte) error {
	return func(args [][]byte) error {
		_, err := parseXrange(args, rev)
		return err
	}
}

func execXrange(rev bool) func(*Keyspace, [][]byte) (any, error) {
	return func(ks *Keyspace, args [][]byte) (any, error) {
		r, err := parseXrange(args, rev)
		if err != nil {
			return nil, err
		}
		s, ok, err := ks.openStream(args[1])
		if err != nil {
			return nil, err
		}
		if !ok {
			return []any{}, nil
		}
		if r.count == 0 {
			return NullArray{}, nil
		}
		return s.rangeEntries(r.start, r.end, max(r.count, 0), rev)
	}
}

func execXdel(ks *Keyspace, args [][]byte) (any, error) {
	s, ok, err := ks.openStream(args[1])
	if err != nil || !ok {
		return int64(0), err
	}
	ids := make([]streamID, 0, len(args)-2)
	for _, a := range args[2:] {
		id, err := strictID(a)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	var n int64
	for _, id := range ids {
		ok, err := s.deleteEntry(id)
		if err != nil {
			return nil, err
		}
		if ok {
			n++
			if id.cmp(s.meta.maxDeleted) > 0 {
				s.meta.maxDeleted = id
			}
		}
	}
	if n == 0 {
		return int64(0), nil
	}
	ks.notify(EventStream, "xdel", args[1])
	return n, s.save()
}

func checkXtrim(args [][]byte) error {
	_, err := parseTrimArgs(args, false)
	return err
}

func execXtrim(ks *Keyspace, args [][]byte) (any, error) {
	t, err := parseTrimArgs(args, false)
	if err != nil {
		return nil, err
	}
	s, ok, err := ks.openStream(args[1])
	if err != nil || !ok {
		return int64(0), err
	}
	n, err := s.trim(t)
	if err != nil || n == 0 {
		return n, err
	}
	ks.notify(EventStream, "xtrim", args[1])
	return n, s.save()
}

// XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID id]

type xsetidArgs struct {
	id, maxDeleted streamID
	entriesAdded   int64 // -1: not given
}

func parseXsetid(args [][]byte) (xsetidArgs, error) {
	x := xsetidArgs{entriesAdded: -1}
	var err error
	if x.id, err = strictID(args[2]); err != nil {
		return x, err
	}
	for i := 3; i < len(args); i += 2 {
		more := i+1 < len(args)
		switch {
		case EqFold(args[i], "entriesadded") && more:
			n, ok := ParseInt(args[i+1])
			if !ok {
				return x, ErrNotInteger
			}
			if n < 0 {
				return x, Error("ERR entries_added must be positive")
			}
			x.entriesAdded = n
		case EqFold(args[i], "maxdeletedid") && more:
			if x.maxDeleted, err = strictID(args[i+1]); err != nil {
				return x, err
			}
			if x.id.cmp(x.maxDeleted) < 0 {
				return x, Error("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")
			}
		default:
			return x, ErrSyntax
		}
	}
	return x, nil
}

func checkXsetid(args [][]byte) error {
	_, err := parseXsetid(args)
	return err
}

func execXsetid(ks *Keyspace, args [][]byte) (any, error) {
	x, err := parseXsetid(args)
	if err != nil {
		return nil, err
	}
	s, ok, err := ks.openStream(args[1])
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errNoSuchKey
	}
	if s.rec.count > 0 {
		top, err := s.lastLiveID()
		if err != nil {
			return nil, err
		}
		if x.id.cmp(top) < 0 {
			return nil, Error("ERR The ID specified in XSETID is smaller than the target stream top item")
		}
		if x.entriesAdded != -1 && s.rec.count > x.entriesAdded {
			return nil, Error("ERR The entries_added specified in XSETID is smaller than the target stream length")
		}
	}
	s.meta.lastID = x.id
	if x.entriesAdded != -1 {
		s.meta.entriesAdded = uint64(x.entriesAdded)
	}
	if !x.maxDeleted.isZero() {
		s.meta.maxDeleted = x.maxDeleted
	}
	ks.notify(EventStream, "xsetid", args[1])
	return OK, s.saveMeta()
}
