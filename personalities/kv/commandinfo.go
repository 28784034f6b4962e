package kv

import (
	"strings"

	"hourglass/personalities/kv/cmdtable"
	"hourglass/personalities/kv/glob"
	"hourglass/personalities/kv/keyspace"
)

// tableEntry returns the command table's entry for a served command.
func (cmd *command) tableEntry() *cmdtable.Info { return cmdtable.Lookup(cmd.Name) }

// lookupServed returns the table's entry for a full name ("get",
// "client|id") whose command the server serves, or nil.
func lookupServed(name []byte) *cmdtable.Info {
	base, sub, isSub := strings.Cut(string(name), "|")
	cmd := lookupCommand([]byte(base))
	if cmd == nil {
		return nil
	}
	info := cmd.tableEntry()
	if isSub && info != nil {
		return info.Sub([]byte(sub))
	}
	return info
}

// lookupLine returns the table's entry for a command line (args[0] the
// command, args[1] a subcommand of a container) as Redis's lookupCommand
// finds it, or nil.
func lookupLine(args [][]byte) *cmdtable.Info {
	cmd := lookupCommand(args[0])
	if cmd == nil {
		return nil
	}
	info := cmd.tableEntry()
	if info == nil || len(args) == 1 || info.Subcommands == nil {
		return info
	}
	return info.Sub(args[1])
}

// checkSubcommand answers a container command line whose subcommand is
// unknown or has the wrong number of arguments as Redis does, from the
// command table; nil when the line is fine.
func checkSubcommand(container string, args [][]byte) any {
	sub := cmdtable.Lookup(strings.ToLower(container)).Sub(args[1])
	if sub == nil {
		return errSubcommand(strings.ToUpper(container), args)
	}
	if a := sub.Arity; a > 0 && len(args) != a || a < 0 && len(args) < -a {
		return keyspace.ErrArity(sub.Name)
	}
	return nil
}

// served returns the table's entries of the commands the server serves,
// in name order.
func served() []*cmdtable.Info {
	var out []*cmdtable.Info
	for _, cmd := range commands.Sorted() {
		if info := cmd.tableEntry(); info != nil {
			out = append(out, info)
		}
	}
	return out
}

const commandHelp = `COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:
(no subcommand)
    Return details about all Redis commands.
COUNT
    Return the total number of commands in this Redis server.
LIST
    Return a list of all commands in this Redis server.
INFO [<command-name> ...]
    Return details about multiple Redis commands.
    If no command names are given, documentation details for all
    commands are returned.
DOCS [<command-name> ...]
    Return documentation details about multiple Redis commands.
    If no command names are given, documentation details for all
    commands are returned.
GETKEYS <full-command>
    Return the keys from a full Redis command.
GETKEYSANDFLAGS <full-command>
    Return the keys and the access flags from a full Redis command.
HELP
    Prints this help.`

// helpReply renders a HELP text as Redis's addReplyHelp does: one status
// line per line.
func helpReply(text string) any {
	lines := strings.Split(text, "\n")
	out := make([]any, len(lines))
	for i, l := range lines {
		out[i] = keyspace.SimpleString(l)
	}
	return out
}

// localCommand implements COMMAND and its subcommands from the command
// table, for the commands the server serves.
func localCommand(c *conn, args [][]byte) any {
	if len(args) == 1 {
		var out []any
		for _, info := range served() {
			out = append(out, info.InfoReply())
		}
		return out
	}
	if err := checkSubcommand("command", args); err != nil {
		return err
	}
	switch strings.ToLower(string(args[1])) {
	case "help":
		return helpReply(commandHelp)
	case "count":
		return int64(len(served()))
	case "list":
		return commandList(args[2:])
	case "info":
		if len(args) == 2 {
			return localCommand(c, args[:1])
		}
		out := make([]any, 0, len(args)-2)
		for _, name := range args[2:] {
			if info := lookupServed(name); info != nil {
				out = append(out, info.InfoReply())
			} else {
				out = append(out, nil)
			}
		}
		return out
	case "docs":
		docs := keyspace.Map{}
		if len(args) == 2 {
			for _, info := range served() {
				docs = append(docs, info.Name, info.DocsReply())
			}
			return docs
		}
		for _, name := range args[2:] {
			if info := lookupServed(name); info != nil {
				docs = append(docs, info.Name, info.DocsReply())
			}
		}
		return docs
	case "getkeys":
		return commandGetKeys(args[2:], false)
	default: // getkeysandflags
		return commandGetKeys(args[2:], true)
	}
}

// commandList implements COMMAND LIST [FILTERBY MODULE name|ACLCAT
// category|PATTERN pattern]: every served command and its subcommands.
func commandList(opts [][]byte) any {
	var keep func(*cmdtable.Info) bool
	for j := 0; j < len(opts); j += 3 {
		if !keyspace.EqFold(opts[j], "filterby") || len(opts)-j != 3 {
			return keyspace.ErrSyntax
		}
		arg := opts[j+2]
		switch {
		case keyspace.EqFold(opts[j+1], "module"):
			keep = func(*cmdtable.Info) bool { return false }
		case keyspace.EqFold(opts[j+1], "aclcat"):
			keep = func(i *cmdtable.Info) bool {
				for _, c := range i.Categories {
					if strings.EqualFold(c, string(arg)) {
						return true
					}
				}
				return false
			}
		case keyspace.EqFold(opts[j+1], "pattern"):
			keep = func(i *cmdtable.Info) bool { return glob.MatchFold(arg, []byte(i.Name)) }
		default:
			return keyspace.ErrSyntax
		}
	}
	out := []any{}
	add := func(i *cmdtable.Info) {
		if keep == nil || keep(i) {
			out = append(out, i.Name)
		}
	}
	for _, info := range served() {
		add(info)
		for _, s := range info.Subcommands {
			add(s)
		}
	}
	return out
}

// commandGetKeys implements COMMAND GETKEYS and GETKEYSANDFLAGS for the
// command line line, from the key specs.
func commandGetKeys(line [][]byte, withFlags bool) any {
	info := lookupLine(line)
	switch {
	case info == nil:
		return keyspace.Error("ERR Invalid command specified")
	case !info.HasKeys():
		return keyspace.Error("ERR The command has no key arguments")
	case info.Arity > 0 && len(line) != info.Arity || len(line) < -info.Arity:
		return keyspace.Error("ERR Invalid number of arguments specified for command")
	}
	keys, ok := info.Keys(line)
	if !ok || len(keys) == 0 {
		if info.HasFlag("no_mandatory_keys") {
			return []any{}
		}
		return keyspace.Error("ERR Invalid arguments specified for command")
	}
	out := make([]any, len(keys))
	for i, k := range keys {
		if withFlags {
			out[i] = []any{line[k.Pos], k.Flags.Reply()}
		} else {
			out[i] = line[k.Pos]
		}
	}
	return out
}
