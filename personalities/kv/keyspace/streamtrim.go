package keyspace

// Trimming strategies.
const (
	trimNone = iota
	trimMaxlen
	trimMinID
)

// trimArgs are the trimming options of XADD and XTRIM, and XADD's others.
type trimArgs struct {
	strategy   int
	approx     bool
	maxlen     int64
	minID      streamID
	limit      int64 // 0: none
	noMkStream bool
	id         streamID // XADD's explicit ID, if idGiven
	idGiven    bool
	seqGiven   bool // false for ms-*
	next       int  // index of the argument after the options (and ID)
}

// parseTrimArgs parses XADD's (xadd) or XTRIM's options as Redis's
// streamParseAddOrTrimArgsOrReply, with its errors in its order.
func parseTrimArgs(args [][]byte, xadd bool) (trimArgs, error) {
	var t trimArgs
	limitGiven := false
	i := 2
	for ; i < len(args); i++ {
		more := len(args) - 1 - i
		opt := args[i]
		switch {
		case xadd && len(opt) == 1 && opt[0] == '*':
			t.next = i + 1
			return t, t.finish(xadd, limitGiven)
		case (EqFold(opt, "maxlen") || EqFold(opt, "minid")) && more > 0:
			if t.strategy != trimNone {
				return t, Error("ERR syntax error, MAXLEN and MINID options at the same time are not compatible")
			}
			t.approx = false
			if nx := args[i+1]; more >= 2 && len(nx) == 1 && (nx[0] == '~' || nx[0] == '=') {
				t.approx = nx[0] == '~'
				i++
			}
			if EqFold(opt, "maxlen") {
				v, ok := ParseInt(args[i+1])
				if !ok {
					return t, ErrNotInteger
				}
				if v < 0 {
					return t, Error("ERR The MAXLEN argument must be >= 0.")
				}
				t.maxlen, t.strategy = v, trimMaxlen
			} else {
				id, err := strictID(args[i+1])
				if err != nil {
					return t, err
				}
				t.minID, t.strategy = id, trimMinID
			}
			i++
		case EqFold(opt, "limit") && more > 0:
			v, ok := ParseInt(args[i+1])
			if !ok {
				return t, ErrNotInteger
			}
			if v < 0 {
				return t, Error("ERR The LIMIT argument must be >= 0.")
			}
			t.limit, limitGiven = v, true
			i++
		case xadd && EqFold(opt, "nomkstream"):
			t.noMkStream = true
		case xadd:
			id, auto, err := parseStreamID(opt, 0, true, true)
			if err != nil {
				return t, err
			}
			t.id, t.idGiven, t.seqGiven = id, true, !auto
			t.next = i + 1
			return t, t.finish(xadd, limitGiven)
		default:
			return t, ErrSyntax
		}
	}
	t.next = i
	return t, t.finish(xadd, limitGiven)
}

func (t *trimArgs) finish(xadd, limitGiven bool) error {
	if t.limit != 0 && t.strategy == trimNone {
		return Error("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
	}
	if !xadd && t.strategy == trimNone {
		return Error("ERR syntax error, XTRIM must be called with a trimming strategy")
	}
	switch {
	case limitGiven && !t.approx:
		return Error("ERR syntax error, LIMIT cannot be used without the special ~ option")
	case !limitGiven && t.approx:
		t.limit = 100 * StreamNodeMaxEntries
	case !limitGiven:
		t.limit = 0
	}
	return nil
}

// trim trims the stream as Redis's streamTrim: whole nodes from the
// head while the strategy allows, then, unless approx, entries inside
// the next node. It returns how many entries it deleted.
func (s *stream) trim(t trimArgs) (int64, error) {
	if t.strategy == trimNone {
		return 0, nil
	}
	var deleted int64
	for {
		if t.strategy == trimMaxlen && s.rec.count <= t.maxlen {
			break
		}
		n, ok, err := s.firstNode()
		if err != nil || !ok {
			return deleted, err
		}
		if t.limit != 0 && deleted+n.live > t.limit {
			break
		}
		var remove bool
		if t.strategy == trimMaxlen {
			remove = s.rec.count-n.live >= t.maxlen
		} else {
			remove = n.last.cmp(t.minID) < 0
		}
		if remove {
			lo, hi := elemKey(s.rec.gen, entryKey(n.master)), elemKey(s.rec.gen, prefixEnd(entryKey(n.last)))
			if err := s.ks.w.DeleteRange(lo, hi); err != nil {
				return deleted, err
			}
			if err := s.ks.delElem(s.rec.gen, nodeKey(n.master)); err != nil {
				return deleted, err
			}
			s.rec.count -= n.live
			deleted += n.live
			continue
		}
		if t.approx {
			break
		}
		d, err := s.trimInNode(n, t)
		return deleted + d, err
	}
	return deleted, nil
}

// trimInNode deletes entries of the node n from its start while the
// strategy asks for it.
func (s *stream) trimInNode(n streamNode, t trimArgs) (int64, error) {
	var doomed []streamID
	length := s.rec.count
	err := s.scanSub(entryKey(n.master), prefixEnd(entryKey(n.last)), false, func(k, _ []byte) (bool, error) {
		id := decodeStreamID(k[1:])
		if t.strategy == trimMaxlen && length <= t.maxlen || t.strategy == trimMinID && id.cmp(t.minID) >= 0 {
			return false, nil
		}
		doomed = append(doomed, id)
		length--
		return true, nil
	})
	if err != nil || len(doomed) == 0 {
		return 0, err
	}
	for _, id := range doomed {
		if err := s.ks.delElem(s.rec.gen, entryKey(id)); err != nil {
			return 0, err
		}
	}
	n.live -= int64(len(doomed))
	s.rec.count -= int64(len(doomed))
	return int64(len(doomed)), s.saveNode(n)
}

func (s *stream) firstNode() (n streamNode, ok bool, err error) {
	err = s.scanPrefix([]byte{subNode}, func(k, v []byte) (bool, error) {
		n, err = decodeStreamNode(decodeStreamID(k[1:]), v)
		ok = err == nil
		return false, err
	})
	return n, ok, err
}
