package keyspace

import "strings"

// XINFO STREAM key [FULL [COUNT count]], XINFO GROUPS key, XINFO
// CONSUMERS key group, XINFO HELP. Seen and delivery times are log
// times, so a consumer's idle time is measured from the log time of its
// last command to the time of this read.

func init() {
	register(&Command{Spec: Spec{Name: "xinfo", Arity: -2}, Kind: KindRead, check: checkSubcommand("XINFO", xinfoArity), exec: execXinfo, keys: subcommandKey(xinfoArity)})
}

var xinfoArity = map[string]int{"stream": -3, "groups": 3, "consumers": 4, "help": 2}

// xinfoFullCount is XINFO STREAM FULL's default COUNT.
const xinfoFullCount = 10

func execXinfo(ks *Keyspace, args [][]byte) (any, error) {
	op := strings.ToLower(string(args[1]))
	if op == "help" {
		return HelpReply(
			"XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"CONSUMERS <key> <groupname>",
			"    Show consumers of <groupname>.",
			"GROUPS <key>",
			"    Show the stream consumer groups.",
			"STREAM <key> [FULL [COUNT <count>]",
			"    Show information about the stream.",
			"HELP",
			"    Prints this help.",
		), nil
	}
	s, ok, err := ks.openStream(args[2])
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errNoSuchKey
	}
	switch op {
	case "consumers":
		g, err := s.group(args[3])
		if err != nil {
			return nil, err
		}
		if g == nil {
			return nil, noGroup(args[2], args[3])
		}
		return s.consumersInfo(g)
	case "groups":
		return s.groupsInfo()
	}
	return s.streamInfo(args)
}

func (s *stream) consumersInfo(g *streamGroup) (any, error) {
	cs, err := s.consumers(g)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(cs))
	for i, c := range cs {
		out[i] = Map{"name", c.name, "pending", c.pending, "idle", max(s.ks.now-c.seen, 0)}
	}
	return out, nil
}

// groupCounters returns the group's entries-read and lag as XINFO shows
// them: null when unknown.
func (s *stream) groupCounters(g *streamGroup) (read, lag any, err error) {
	if g.entriesRead != invalidEntriesRead {
		read = g.entriesRead
	}
	n, ok, err := s.lag(g)
	if ok {
		lag = n
	}
	return read, lag, err
}

func (s *stream) groupsInfo() (any, error) {
	gs, err := s.groups()
	if err != nil {
		return nil, err
	}
	out := make([]any, len(gs))
	for i, g := range gs {
		cs, err := s.consumers(g)
		if err != nil {
			return nil, err
		}
		pending, err := s.pendingCount(g)
		if err != nil {
			return nil, err
		}
		read, lag, err := s.groupCounters(g)
		if err != nil {
			return nil, err
		}
		out[i] = Map{"name", g.name, "consumers", int64(len(cs)), "pending", pending,
			"last-delivered-id", g.lastID.reply(), "entries-read", read, "lag", lag}
	}
	return out, nil
}

// pendingCount returns how many entries the group has pending.
func (s *stream) pendingCount(g *streamGroup) (int64, error) {
	var n int64
	err := s.scanPending(g, streamID{}, func(nack) (bool, error) {
		n++
		return true, nil
	})
	return n, err
}

func (s *stream) streamInfo(args [][]byte) (any, error) {
	full, count := false, int64(xinfoFullCount)
	switch opts := args[3:]; {
	case len(opts) == 0:
	case len(opts) != 1 && len(opts) != 3, !EqFold(opts[0], "full"), len(opts) == 3 && !EqFold(opts[1], "count"):
		return nil, errSubcommandSyntax(args)
	default:
		full = true
		if len(opts) == 3 {
			n, ok := ParseInt(opts[2])
			if !ok {
				return nil, ErrNotInteger
			}
			if n >= 0 {
				count = n
			}
		}
	}
	nodes, err := s.nodeMasters()
	if err != nil {
		return nil, err
	}
	first, err := s.firstID()
	if err != nil {
		return nil, err
	}
	out := Map{"length", s.rec.count, "radix-tree-keys", int64(len(nodes)), "radix-tree-nodes", raxNodes(nodes),
		"last-generated-id", s.meta.lastID.reply(), "max-deleted-entry-id", s.meta.maxDeleted.reply(),
		"entries-added", int64(s.meta.entriesAdded), "recorded-first-entry-id", first.reply()}
	if full {
		return s.fullInfo(out, count)
	}
	gs, err := s.groups()
	if err != nil {
		return nil, err
	}
	out = append(out, "groups", int64(len(gs)))
	for i, name := range []string{"first-entry", "last-entry"} {
		e, err := s.rangeEntries(streamID{}, maxStreamID, 1, i == 1)
		if err != nil {
			return nil, err
		}
		var edge any
		if len(e) > 0 {
			edge = e[0]
		}
		out = append(out, name, edge)
	}
	return out, nil
}

// fullInfo adds XINFO STREAM FULL's entries and groups to out; count
// bounds each list (0: none).
func (s *stream) fullInfo(out Map, count int64) (any, error) {
	entries, err := s.rangeEntries(streamID{}, maxStreamID, count, false)
	if err != nil {
		return nil, err
	}
	gs, err := s.groups()
	if err != nil {
		return nil, err
	}
	groups := make([]any, len(gs))
	for i, g := range gs {
		pel := []any{}
		err := s.scanPending(g, streamID{}, func(n nack) (bool, error) {
			if count != 0 && int64(len(pel)) >= count {
				return false, nil
			}
			pel = append(pel, []any{n.id.reply(), n.consumer, n.delivered, n.count})
			return true, nil
		})
		if err != nil {
			return nil, err
		}
		cs, err := s.consumers(g)
		if err != nil {
			return nil, err
		}
		consumers := make([]any, len(cs))
		for j, c := range cs {
			if consumers[j], err = s.consumerFull(g, c, count); err != nil {
				return nil, err
			}
		}
		pending, err := s.pendingCount(g)
		if err != nil {
			return nil, err
		}
		read, lag, err := s.groupCounters(g)
		if err != nil {
			return nil, err
		}
		groups[i] = Map{"name", g.name, "last-delivered-id", g.lastID.reply(), "entries-read", read, "lag", lag,
			"pel-count", pending, "pending", pel, "consumers", consumers}
	}
	return append(out, "entries", entries, "groups", groups), nil
}

// consumerFull is a consumer as XINFO STREAM FULL shows it.
func (s *stream) consumerFull(g *streamGroup, c consumerInfo, count int64) (any, error) {
	pel := []any{}
	err := s.scanOwned(g, c.name, streamID{}, func(id streamID) (bool, error) {
		if count != 0 && int64(len(pel)) >= count {
			return false, nil
		}
		n, _, err := s.pending(g, id)
		if err != nil {
			return false, err
		}
		pel = append(pel, []any{id.reply(), n.delivered, n.count})
		return true, nil
	})
	return Map{"name", c.name, "seen-time", c.seen, "pel-count", c.pending, "pending", pel}, err
}

// nodeMasters returns the master IDs of the stream's nodes, in order.
func (s *stream) nodeMasters() ([][]byte, error) {
	var out [][]byte
	err := s.scanPrefix([]byte{subNode}, func(k, _ []byte) (bool, error) {
		out = append(out, append([]byte(nil), k[1:]...))
		return true, nil
	})
	return out, err
}

// raxNodes is the number of nodes of the radix tree Redis keeps the
// sorted keys (all of one length) in: a node per key's end, per branch,
// and per run of bytes between them, the root always.
func raxNodes(keys [][]byte) int64 {
	if len(keys) == 0 {
		return 1
	}
	return raxSubtree(keys, 0)
}

// raxSubtree counts the nodes under the position depth of keys, which
// share their first depth bytes.
func raxSubtree(keys [][]byte, depth int) int64 {
	if depth == len(keys[0]) {
		return 1
	}
	// The bytes all keys still share make one compressed node.
	first, last := keys[0], keys[len(keys)-1]
	common := depth
	for common < len(first) && first[common] == last[common] {
		common++
	}
	if common > depth {
		return 1 + raxSubtree(keys, common)
	}
	n := int64(1) // a branch
	for i := 0; i < len(keys); {
		j := i + 1
		for j < len(keys) && keys[j][depth] == keys[i][depth] {
			j++
		}
		n += raxSubtree(keys[i:j], depth+1)
		i = j
	}
	return n
}
