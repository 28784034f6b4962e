package keyspace

import "bytes"

// XREAD [COUNT count] [BLOCK ms] STREAMS key... id...
// XREADGROUP GROUP group consumer [COUNT count] [BLOCK ms] [NOACK]
// STREAMS key... id...
//
// XREAD is a read. XREADGROUP is a write: it moves the group's last
// delivered ID, creates consumers and adds to the pending lists, so it
// runs at apply, and its delivery times are the log time. With BLOCK,
// both go through the log and wait as BLPOP does (see blocking.go) when
// they find nothing; XREAD's $ then becomes the ID it stood for.

func init() {
	register(&Command{Spec: Spec{Name: "xread", Arity: -4, Flags: []string{"readonly", "blocking", "movablekeys"}}, Kind: KindRead, block: xreadBlock(false), check: checkXread(false), exec: execXread, keys: xreadKeys})
	register(&Command{Spec: Spec{Name: "xreadgroup", Arity: -7, Flags: []string{"write", "blocking", "movablekeys"}}, Kind: KindWrite, block: xreadBlock(true), check: checkXread(true), exec: execXreadgroup, keys: xreadKeys})
}

// xreadKeys finds XREAD's keys as Redis's key spec does: the first half
// of the arguments after the first STREAMS.
func xreadKeys(args [][]byte) ([][]byte, error) {
	for i := 1; i < len(args); i++ {
		if EqFold(args[i], "streams") {
			rest := args[i+1:]
			return rest[:len(rest)/2], nil
		}
	}
	return nil, Error("ERR Invalid arguments specified for command")
}

// xreadBlock is where XREAD and XREADGROUP keep BLOCK and their keys.
func xreadBlock(xreadgroup bool) *blockSpec {
	return &blockSpec{
		keys: func(args [][]byte) [][]byte {
			x, _ := parseXreadFrom(args, xreadgroup, xreadAtApply)
			return x.keys
		},
		option: func(args [][]byte) (int64, bool) {
			x, _ := parseXreadFrom(args, xreadgroup, xreadAtApply)
			return x.block, x.block >= 0
		},
		inScript: func(args [][]byte) error {
			_, err := parseXreadFrom(args, xreadgroup, xreadFromScript)
			return err
		},
	}
}

// blockRetried replaces BLOCK in the arguments an XREADGROUP retries
// with after it waited, so that it knows to fail, as Redis answers a
// client it unblocks, when its key or group went away meanwhile. Only
// apply accepts it: a client that sends it gets a syntax error.
const blockRetried = "\x00block-retried"

// blockOrNull is an XREAD's reply when it served no stream: wait, if
// BLOCK asks for it, proposing retry from then on.
func blockOrNull(x xreadArgs, retry [][]byte) any {
	if x.block < 0 {
		return NullArray{}
	}
	return WouldBlock{TimeoutReply: NullArray{}, Retry: retry}
}

// cloneArgs returns a deep copy of args.
func cloneArgs(args [][]byte) [][]byte {
	out := make([][]byte, len(args))
	for i, a := range args {
		out[i] = bytes.Clone(a)
	}
	return out
}

type xreadArgs struct {
	count    int64 // 0: no limit
	block    int64 // ms; -1: no BLOCK
	blockAt  int   // the index of BLOCK in the arguments
	retried  bool  // BLOCK is blockRetried: the command waited already
	noack    bool
	group    []byte
	consumer []byte
	keys     [][]byte
	ids      [][]byte
}

// Where XREAD's arguments come from: a client, a script (where BLOCK is
// an error), or the log (where BLOCK may be blockRetried).
const (
	xreadFromClient = iota
	xreadFromScript
	xreadAtApply
)

// parseXreadFrom parses the options as Redis's xreadCommand, with its
// errors in its order; the IDs are parsed with the keys, at run time.
func parseXreadFrom(args [][]byte, xreadgroup bool, from int) (xreadArgs, error) {
	x := xreadArgs{block: -1}
	streams := 0
	for i := 1; i < len(args) && streams == 0; i++ {
		more := len(args) - i - 1
		switch o := args[i]; {
		case (EqFold(o, "block") || from == xreadAtApply && string(o) == blockRetried) && more > 0:
			if from == xreadFromScript {
				return x, Errorf("ERR %s command is not allowed with BLOCK option from scripts", args[0])
			}
			x.blockAt, x.retried = i, string(o) == blockRetried
			i++
			t, ok := ParseInt(args[i])
			switch {
			case !ok:
				return x, Error("ERR timeout is not an integer or out of range")
			case t < 0:
				return x, Error("ERR timeout is negative")
			}
			x.block = t
		case EqFold(o, "count") && more > 0:
			i++
			n, ok := ParseInt(args[i])
			if !ok {
				return x, ErrNotInteger
			}
			x.count = max(n, 0)
		case EqFold(o, "streams") && more > 0:
			streams = i + 1
			if (len(args)-streams)%2 != 0 {
				return x, Error("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.")
			}
		case EqFold(o, "group") && more >= 2:
			if !xreadgroup {
				return x, Error("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.")
			}
			x.group, x.consumer = args[i+1], args[i+2]
			i += 2
		case EqFold(o, "noack"):
			if !xreadgroup {
				return x, Error("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.")
			}
			x.noack = true
		default:
			return x, ErrSyntax
		}
	}
	if streams == 0 {
		return x, ErrSyntax
	}
	if xreadgroup && x.group == nil {
		return x, Error("ERR Missing GROUP option for XREADGROUP")
	}
	n := (len(args) - streams) / 2
	x.keys, x.ids = args[streams:streams+n], args[streams+n:]
	return x, nil
}

func checkXread(xreadgroup bool) func([][]byte) error {
	return func(args [][]byte) error {
		_, err := parseXreadFrom(args, xreadgroup, xreadFromClient)
		return err
	}
}

// newEntriesID stands for ">" among resolved IDs.
var newEntriesID = maxStreamID

// xreadStream is one key of an XREAD: its stream (nil if none), group
// and the ID to read after.
type xreadStream struct {
	s     *stream
	group *streamGroup
	after streamID
}

// resolveXread looks up each key and parses its ID, as Redis does, key
// by key: the type, the group, then the ID.
func resolveXread(ks *Keyspace, x xreadArgs) ([]xreadStream, error) {
	out := make([]xreadStream, len(x.keys))
	for i, key := range x.keys {
		s, ok, err := ks.openStream(key)
		if x.retried && x.group != nil && (err == errWrongType || err == nil && !ok) {
			return nil, Error("UNBLOCKED the stream key no longer exists")
		}
		if err != nil {
			return nil, err
		}
		if ok {
			out[i].s = s
		} else if x.group != nil {
			ks.missed(key) // XREADGROUP looks its keys up as reads
		}
		if x.group != nil {
			if ok {
				if out[i].group, err = s.group(x.group); err != nil {
					return nil, err
				}
			}
			if out[i].group == nil && x.retried {
				return nil, Error("NOGROUP the consumer group this client was blocked on no longer exists")
			}
			if out[i].group == nil {
				return nil, Errorf("NOGROUP No such key '%s' or consumer group '%s' in XREADGROUP with GROUP option", key, x.group)
			}
		}
		switch id := x.ids[i]; {
		case len(id) == 1 && id[0] == '$':
			if x.group != nil {
				return nil, Error("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.")
			}
			if ok {
				out[i].after = s.meta.lastID
			}
		case len(id) == 1 && id[0] == '>':
			if x.group == nil {
				return nil, Error("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.")
			}
			out[i].after = newEntriesID
		default:
			if out[i].after, err = strictID(id); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func execXread(ks *Keyspace, args [][]byte) (any, error) {
	x, err := parseXreadFrom(args, false, xreadAtApply)
	if err != nil {
		return nil, err
	}
	streams, err := resolveXread(ks, x)
	if err != nil {
		return nil, err
	}
	var out KeyedArrays
	for i, r := range streams {
		if r.s == nil {
			ks.missedAgain(x.keys[i])
			continue
		}
		if r.s.rec.count == 0 {
			continue
		}
		top, err := r.s.lastLiveID()
		if err != nil {
			return nil, err
		}
		if top.cmp(r.after) <= 0 {
			continue
		}
		start, _ := r.after.incr()
		entries, err := r.s.rangeEntries(start, maxStreamID, x.count, false)
		if err != nil {
			return nil, err
		}
		out = append(out, x.keys[i], entries)
	}
	if out == nil {
		return blockOrNull(x, xreadRetry(args, x, streams)), nil
	}
	return out, nil
}

// xreadRetry returns XREAD's arguments with each $ replaced by the ID it
// stands for now, nil if there is none; they are copies.
func xreadRetry(args [][]byte, x xreadArgs, streams []xreadStream) [][]byte {
	first := len(args) - len(x.ids)
	var out [][]byte
	for i, id := range x.ids {
		if len(id) != 1 || id[0] != '$' {
			continue
		}
		if out == nil {
			out = cloneArgs(args)
		}
		out[first+i] = streams[i].after.reply()
	}
	return out
}

func execXreadgroup(ks *Keyspace, args [][]byte) (any, error) {
	x, err := parseXreadFrom(args, true, xreadAtApply)
	if err != nil {
		return nil, err
	}
	streams, err := resolveXread(ks, x)
	if err != nil {
		return nil, err
	}
	var out KeyedArrays
	for i, r := range streams {
		s, g := r.s, r.group
		serve, history := false, r.after != newEntriesID
		after := r.after
		if history {
			serve = true
		} else if s.rec.count > 0 {
			top, err := s.lastLiveID()
			if err != nil {
				return nil, err
			}
			if top.cmp(g.lastID) > 0 {
				serve, after = true, g.lastID
			}
		}
		if !serve {
			continue // the consumer is neither created nor seen, as in Redis 7.0
		}
		if _, err := s.touchConsumer(g, x.consumer); err != nil {
			return nil, err
		}
		start, _ := after.incr()
		var entries []any
		if history {
			entries, err = s.readHistory(g, x.consumer, start, x.count)
		} else {
			entries, err = s.readNew(g, x.consumer, start, x.count, x.noack)
		}
		if err != nil {
			return nil, err
		}
		if err := s.saveGroup(g); err != nil {
			return nil, err
		}
		out = append(out, x.keys[i], entries)
	}
	if out == nil {
		var retry [][]byte
		if x.block >= 0 && !x.retried {
			retry = cloneArgs(args)
			retry[x.blockAt] = []byte(blockRetried)
		}
		return blockOrNull(x, retry), nil
	}
	return out, nil
}

// readNew delivers up to count (0: all) entries from start on to the
// consumer, adding them to the pending lists unless noack.
func (s *stream) readNew(g *streamGroup, consumer []byte, start streamID, count int64, noack bool) ([]any, error) {
	entries, err := s.rangeEntries(start, maxStreamID, count, false)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		id := idOf(e)
		if err := s.delivered(g, id); err != nil {
			return nil, err
		}
		if noack {
			continue
		}
		old, had, err := s.pending(g, id)
		if err != nil {
			return nil, err
		}
		var owner []byte
		if had {
			owner = old.consumer
		}
		n := nack{id: id, delivered: s.ks.now, count: 1, consumer: consumer}
		if err := s.setPending(g, n, owner); err != nil {
			return nil, err
		}
	}
	return entries, nil
}

// readHistory returns up to count (0: all) of the consumer's pending
// entries from start on, counting a delivery for each that still exists;
// one deleted since is [id, null].
func (s *stream) readHistory(g *streamGroup, consumer []byte, start streamID, count int64) ([]any, error) {
	var ids []streamID
	err := s.scanOwned(g, consumer, start, func(id streamID) (bool, error) {
		ids = append(ids, id)
		return count == 0 || int64(len(ids)) < count, nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(ids))
	for _, id := range ids {
		v, ok, err := s.entry(id)
		if err != nil {
			return nil, err
		}
		if !ok {
			out = append(out, []any{id.reply(), NullArray{}})
			continue
		}
		e, err := entryReply(id, v)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
		n, _, err := s.pending(g, id)
		if err != nil {
			return nil, err
		}
		n.delivered, n.count = s.ks.now, n.count+1
		if err := s.setPending(g, n, consumer); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// idOf returns the ID of an entry reply.
func idOf(e any) streamID {
	b := e.([]any)[0].([]byte)
	ms, seq, _ := bytes.Cut(b, []byte{'-'})
	m, _ := string2ull(ms)
	q, _ := string2ull(seq)
	return streamID{m, q}
}
