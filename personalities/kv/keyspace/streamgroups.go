package keyspace

import "strings"

// Consumer group commands: XGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM.

func init() {
	register(&Command{Spec: Spec{Name: "xgroup", Arity: -2}, Kind: KindWrite, check: checkSubcommand("XGROUP", xgroupArity), exec: execXgroup, keys: subcommandKey(xgroupArity)})
	register(singleKey(&Command{Spec: Spec{Name: "xack", Arity: -4, Flags: []string{"write", "fast"}}, Kind: KindWrite, exec: execXack}))
	register(singleKey(&Command{Spec: Spec{Name: "xpending", Arity: -3, Flags: []string{"readonly"}}, Kind: KindRead, check: checkXpending, exec: execXpending}))
	register(singleKey(&Command{Spec: Spec{Name: "xclaim", Arity: -6, Flags: []string{"write", "fast"}}, Kind: KindWrite, exec: execXclaim}))
	register(singleKey(&Command{Spec: Spec{Name: "xautoclaim", Arity: -6, Flags: []string{"write", "fast"}}, Kind: KindWrite, check: checkXautoclaim, exec: execXautoclaim}))
}

// checkSubcommand checks a container command's subcommand and its arity
// (as Redis's Arity: negative means at least), with Redis's errors.
func checkSubcommand(container string, arity map[string]int) func([][]byte) error {
	return func(args [][]byte) error {
		n, ok := arity[strings.ToLower(string(args[1]))]
		if !ok {
			return Errorf("ERR unknown subcommand '%.128s'. Try %s HELP.", args[1], container)
		}
		if s := (Spec{Arity: n}); !s.ArityOK(len(args)) {
			return ErrArity(strings.ToLower(container) + "|" + strings.ToLower(string(args[1])))
		}
		return nil
	}
}

// errSubcommandSyntax is Redis's addReplySubcommandSyntaxError.
func errSubcommandSyntax(args [][]byte) Error {
	return Errorf("ERR unknown subcommand or wrong number of arguments for '%.128s'. Try %s HELP.", args[1], strings.ToUpper(string(args[0])))
}

// HelpReply is a HELP subcommand's reply: status lines.
func HelpReply(lines ...string) []any {
	out := make([]any, len(lines))
	for i, l := range lines {
		out[i] = SimpleString(l)
	}
	return out
}

var xgroupArity = map[string]int{"create": -5, "setid": -5, "destroy": 4, "createconsumer": 5, "delconsumer": 5, "help": 2}

const errXgroupNoKey = Error("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.")

func noGroup(key, group []byte) Error {
	return Errorf("NOGROUP No such consumer group '%s' for key name '%s'", group, key)
}

// parseEntriesRead parses an ENTRIESREAD value.
func parseEntriesRead(b []byte) (int64, error) {
	n, ok := ParseInt(b)
	switch {
	case !ok:
		return 0, ErrNotInteger
	case n < 0 && n != invalidEntriesRead:
		return 0, Error("ERR value for ENTRIESREAD must be positive or -1")
	}
	return n, nil
}

func execXgroup(ks *Keyspace, args [][]byte) (any, error) {
	op := strings.ToLower(string(args[1]))
	if op == "help" {
		return HelpReply(
			"XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"CREATE <key> <groupname> <id|$> [option]",
			"    Create a new consumer group. Options are:",
			"    * MKSTREAM",
			"      Create the empty stream if it does not exist.",
			"    * ENTRIESREAD entries_read",
			"      Set the group's entries_read counter (internal use).",
			"CREATECONSUMER <key> <groupname> <consumer>",
			"    Create a new consumer in the specified group.",
			"DELCONSUMER <key> <groupname> <consumer>",
			"    Remove the specified consumer.",
			"DESTROY <key> <groupname>",
			"    Remove the specified group.",
			"SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
			"    Set the current group ID and entries_read counter.",
			"HELP",
			"    Prints this help.",
		), nil
	}
	create := op == "create" && len(args) <= 8
	mkstream, entriesRead := false, int64(invalidEntriesRead)
	if create {
		for i := 5; i < len(args); i++ {
			switch {
			case EqFold(args[i], "mkstream"):
				mkstream = true
			case EqFold(args[i], "entriesread") && i+1 < len(args):
				n, err := parseEntriesRead(args[i+1])
				if err != nil {
					return nil, err
				}
				entriesRead = n
				i++
			default:
				return nil, errSubcommandSyntax(args)
			}
		}
	}
	key, name := args[2], args[3]
	s, ok, err := ks.openStream(key)
	if err != nil {
		return nil, err
	}
	var g *streamGroup
	if !mkstream {
		if !ok {
			return nil, errXgroupNoKey
		}
		if g, err = s.group(name); err != nil {
			return nil, err
		}
		if g == nil && op != "create" && op != "destroy" {
			return nil, noGroup(key, name)
		}
	}
	switch {
	case create:
		return xgroupCreate(ks, args, s, entriesRead)
	case op == "setid" && (len(args) == 5 || len(args) == 7):
		return xgroupSetid(ks, args, s, g)
	case op == "destroy":
		if g == nil {
			return int64(0), nil
		}
		ks.fx.noteReady(ks.db, key, typeStream) // its blocked XREADGROUPs fail
		ks.notify(EventStream, "xgroup-destroy", key)
		return int64(1), s.destroyGroup(g)
	case op == "createconsumer":
		created, err := s.createConsumer(g, args[4])
		if err != nil || !created {
			return int64(0), err
		}
		return int64(1), nil
	case op == "delconsumer":
		if _, ok, err := s.consumerSeen(g, args[4]); err != nil || !ok {
			return int64(0), err
		}
		ks.notify(EventStream, "xgroup-delconsumer", key)
		return s.deleteConsumer(g, args[4])
	}
	return nil, errSubcommandSyntax(args)
}

func xgroupCreate(ks *Keyspace, args [][]byte, s *stream, entriesRead int64) (any, error) {
	var id streamID
	if len(args[4]) == 1 && args[4][0] == '$' {
		if s != nil {
			id = s.meta.lastID
		}
	} else {
		var err error
		if id, err = strictID(args[4]); err != nil {
			return nil, err
		}
	}
	if s == nil {
		var err error
		if s, err = ks.newStream(args[2]); err != nil {
			return nil, err
		}
	} else if g, err := s.group(args[3]); err != nil {
		return nil, err
	} else if g != nil {
		return nil, Error("BUSYGROUP Consumer Group name already exists")
	}
	if err := s.saveGroup(&streamGroup{name: args[3], lastID: id, entriesRead: entriesRead}); err != nil {
		return nil, err
	}
	if !s.stored {
		if err := s.save(); err != nil { // "new", then "xgroup-create"
			return nil, err
		}
	} // else the key counts as unmodified, as in Redis
	ks.notify(EventStream, "xgroup-create", args[2])
	return OK, nil
}

func xgroupSetid(ks *Keyspace, args [][]byte, s *stream, g *streamGroup) (any, error) {
	id := s.meta.lastID
	if len(args[4]) != 1 || args[4][0] != '$' {
		var err error
		if id, _, err = parseStreamID(args[4], 0, false, false); err != nil {
			return nil, err
		}
	}
	entriesRead := int64(invalidEntriesRead)
	if len(args) == 7 {
		if !EqFold(args[5], "entriesread") {
			return nil, errSubcommandSyntax(args)
		}
		n, err := parseEntriesRead(args[6])
		if err != nil {
			return nil, err
		}
		entriesRead = n
	}
	g.lastID, g.entriesRead = id, entriesRead
	ks.notify(EventStream, "xgroup-setid", args[2])
	return OK, s.saveGroup(g)
}

// openGroup returns the stream at key and its group; a missing one is
// NOGROUP, as XCLAIM, XAUTOCLAIM and XPENDING reply. A missing key is a
// keymiss, as Redis's lookupKeyRead in XACK, XCLAIM and XAUTOCLAIM.
func (ks *Keyspace) openGroup(key, group []byte) (*stream, *streamGroup, error) {
	s, ok, err := ks.openStream(key)
	if err != nil {
		return nil, nil, err
	}
	var g *streamGroup
	if !ok {
		ks.missed(key)
	} else {
		if g, err = s.group(group); err != nil {
			return nil, nil, err
		}
	}
	if g == nil {
		return nil, nil, Errorf("NOGROUP No such key '%s' or consumer group '%s'", key, group)
	}
	return s, g, nil
}

func execXack(ks *Keyspace, args [][]byte) (any, error) {
	s, g, err := ks.openGroup(args[1], args[2])
	if err != nil {
		if _, nogroup := err.(Error); nogroup && err != errWrongType {
			return int64(0), nil
		}
		return nil, err
	}
	ids := make([]streamID, 0, len(args)-3)
	for _, a := range args[3:] {
		id, err := strictID(a)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	var acked int64
	for _, id := range ids {
		n, ok, err := s.pending(g, id)
		if err != nil {
			return nil, err
		}
		if ok {
			if err := s.dropPending(g, n); err != nil {
				return nil, err
			}
			acked++
		}
	}
	return acked, nil
}

// XPENDING key group [[IDLE min-idle] start end count [consumer]]

type xpendingArgs struct {
	summary    bool
	minIdle    int64
	start, end streamID
	count      int64
	consumer   []byte
}

func parseXpending(args [][]byte) (xpendingArgs, error) {
	x := xpendingArgs{summary: len(args) == 3}
	if len(args) != 3 && (len(args) < 6 || len(args) > 9) {
		return x, ErrSyntax
	}
	if x.summary {
		return x, nil
	}
	at := 3
	if EqFold(args[3], "idle") {
		n, ok := ParseInt(args[4])
		if !ok {
			return x, ErrNotInteger
		}
		if len(args) < 8 {
			return x, ErrSyntax
		}
		x.minIdle, at = n, 5
	}
	n, ok := ParseInt(args[at+2])
	if !ok {
		return x, ErrNotInteger
	}
	x.count = max(n, 0)
	var err error
	if x.start, err = parseIntervalID(args[at], false); err != nil {
		return x, err
	}
	if x.end, err = parseIntervalID(args[at+1], true); err != nil {
		return x, err
	}
	if at+3 < len(args) {
		x.consumer = args[at+3]
	}
	return x, nil
}

func checkXpending(args [][]byte) error {
	_, err := parseXpending(args)
	return err
}

func execXpending(ks *Keyspace, args [][]byte) (any, error) {
	x, err := parseXpending(args)
	if err != nil {
		return nil, err
	}
	s, g, err := ks.openGroup(args[1], args[2])
	if err != nil {
		return nil, err
	}
	if x.summary {
		return s.pendingSummary(g)
	}
	out := []any{}
	if x.consumer != nil {
		if _, ok, err := s.consumerSeen(g, x.consumer); err != nil || !ok {
			return out, err
		}
	}
	err = s.scanPending(g, x.start, func(n nack) (bool, error) {
		if x.count == 0 || n.id.cmp(x.end) > 0 {
			return false, nil
		}
		if x.consumer != nil && string(n.consumer) != string(x.consumer) {
			return true, nil
		}
		idle := max(ks.now-n.delivered, 0)
		if x.minIdle != 0 && ks.now-n.delivered < x.minIdle {
			return true, nil
		}
		out = append(out, []any{n.id.reply(), n.consumer, idle, n.count})
		x.count--
		return true, nil
	})
	return out, err
}

// pendingSummary is XPENDING's reply without a range.
func (s *stream) pendingSummary(g *streamGroup) (any, error) {
	var total int64
	var first, last streamID
	err := s.scanPending(g, streamID{}, func(n nack) (bool, error) {
		if total == 0 {
			first = n.id
		}
		last = n.id
		total++
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	if total == 0 {
		return []any{int64(0), nil, nil, NullArray{}}, nil
	}
	cs, err := s.consumers(g)
	if err != nil {
		return nil, err
	}
	owners := []any{}
	for _, c := range cs {
		if c.pending > 0 {
			owners = append(owners, []any{c.name, formatInt(c.pending)})
		}
	}
	return []any{total, first.reply(), last.reply(), owners}, nil
}
