package kv

import (
	"bytes"
	"strings"

	"hourglass/personalities/kv/glob"
	"hourglass/personalities/kv/keyspace"
)

// FUNCTION: LOAD, DELETE, FLUSH and RESTORE go through the log (see
// keyspace/functions.go, functiondump.go); LIST, STATS and DUMP read a
// synced view; KILL
// stops this node's running FCALL_RO as SCRIPT KILL stops EVAL_RO.

func init() {
	local("function", -2, localFunction, "noscript")
}

// functionArity is each FUNCTION subcommand's arity, as Redis's.
var functionArity = map[string]int{
	"load": -3, "delete": 3, "list": -2, "stats": 2, "kill": 2,
	"flush": -2, "dump": 2, "restore": -3, "help": 2,
}

func localFunction(c *conn, args [][]byte) any {
	sub := strings.ToLower(string(args[1]))
	arity, known := functionArity[sub]
	if !known || arity > 0 && len(args) != arity || arity < 0 && len(args) < -arity {
		return errSubcommand("FUNCTION", args, "load", "delete", "list", "stats", "kill", "flush", "dump", "restore", "help")
	}
	switch sub {
	case "load":
		return c.functionLoad(args)
	case "delete":
		c.proposeCommand(keyspace.FunctionDeleteBody(args[2]))
		return deferred{}
	case "flush":
		if len(args) > 3 {
			return keyspace.Errorf("ERR unknown subcommand or wrong number of arguments for '%s'. Try FUNCTION HELP.", args[1])
		}
		if len(args) == 3 && !keyspace.EqFold(args[2], "sync") && !keyspace.EqFold(args[2], "async") {
			return keyspace.Error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
		}
		c.proposeCommand(keyspace.FunctionFlushBody())
		return deferred{}
	case "kill":
		return c.s.killScripts(true)
	case "list":
		return c.functionList(args)
	case "stats":
		return c.functionStats()
	case "help":
		return functionHelp
	case "dump":
		v, err := c.readView()
		if err != nil {
			return platformError(err)
		}
		return replyOf(keyspace.FunctionDump(v))
	case "restore":
		if err := keyspace.CheckFunctionRestore(args); err != nil {
			return err
		}
		c.proposeCommand(keyspace.FunctionRestoreBody(args))
		return deferred{}
	}
	return errSubcommand("FUNCTION", args)
}

// functionLoad answers FUNCTION LOAD [REPLACE] code: the options are
// checked here, the library at apply.
func (c *conn) functionLoad(args [][]byte) any {
	replace := false
	i := 2
	for ; i < len(args)-1; i++ {
		if !keyspace.EqFold(args[i], "replace") {
			return keyspace.Errorf("ERR Unknown option given: %s", args[i])
		}
		replace = true
	}
	c.proposeCommand(keyspace.FunctionLoadBody(replace, args[i]))
	return deferred{}
}

// libraries returns the libraries of a synced view, or the error reply
// of a failed read.
func (c *conn) libraries() ([]*keyspace.Library, any) {
	v, err := c.readView()
	if err != nil {
		return nil, platformError(err)
	}
	libs, err := keyspace.Libraries(v)
	if err != nil {
		return nil, replyOf(nil, err)
	}
	return libs, nil
}

// functionList answers FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE].
func (c *conn) functionList(args [][]byte) any {
	withCode := false
	var pattern []byte
	for i := 2; i < len(args); i++ {
		switch {
		case !withCode && keyspace.EqFold(args[i], "withcode"):
			withCode = true
		case pattern == nil && keyspace.EqFold(args[i], "libraryname"):
			if i >= len(args)-1 {
				return keyspace.Error("ERR library name argument was not given")
			}
			i++
			pattern = args[i]
		default:
			return keyspace.Errorf("ERR Unknown argument %s", args[i])
		}
	}
	libs, fail := c.libraries()
	if fail != nil {
		return fail
	}
	out := []any{}
	for _, lib := range libs {
		if pattern != nil && !glob.MatchFold(pattern, []byte(lib.Name)) {
			continue
		}
		funcs := []any{}
		for _, f := range lib.Functions {
			var desc any
			if f.HasDesc {
				desc = []byte(f.Desc)
			}
			flags := keyspace.Set{}
			for _, name := range keyspace.FunctionFlagNames(f.Flags) {
				flags = append(flags, keyspace.SimpleString(name))
			}
			funcs = append(funcs, keyspace.Map{[]byte("name"), []byte(f.Name), []byte("description"), desc, []byte("flags"), flags})
		}
		m := keyspace.Map{[]byte("library_name"), []byte(lib.Name), []byte("engine"), []byte("LUA"), []byte("functions"), funcs}
		if withCode {
			m = append(m, []byte("library_code"), lib.Code)
		}
		out = append(out, m)
	}
	return out
}

// functionStats answers FUNCTION STATS: the function running read-only
// on this node, if any, and the libraries and functions stored.
func (c *conn) functionStats() any {
	if _, ok := c.s.scripts.oldest(false); ok {
		return errBusyEval
	}
	libs, fail := c.libraries()
	if fail != nil {
		return fail
	}
	var running any
	if r, ok := c.s.scripts.oldest(true); ok {
		line := make([]any, len(r.args))
		for i, a := range r.args {
			line[i] = bytes.Clone(a)
		}
		running = keyspace.Map{
			[]byte("name"), bytes.Clone(r.args[1]),
			[]byte("command"), line,
			[]byte("duration_ms"), c.s.cfg.Clock().Sub(r.start).Milliseconds(),
		}
	}
	nfuncs := 0
	for _, lib := range libs {
		nfuncs += len(lib.Functions)
	}
	return keyspace.Map{
		[]byte("running_script"), running,
		[]byte("engines"), keyspace.Map{
			[]byte("LUA"), keyspace.Map{
				[]byte("libraries_count"), int64(len(libs)),
				[]byte("functions_count"), int64(nfuncs),
			},
		},
	}
}

var functionHelp = keyspace.HelpReply(
	"FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"LOAD [REPLACE] <FUNCTION CODE>",
	"    Create a new library with the given library name and code.",
	"DELETE <LIBRARY NAME>",
	"    Delete the given library.",
	"LIST [LIBRARYNAME PATTERN] [WITHCODE]",
	"    Return general information on all the libraries:",
	"    * Library name",
	"    * The engine used to run the Library",
	"    * Library description",
	"    * Functions list",
	"    * Library code (if WITHCODE is given)",
	"    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
	"STATS",
	"    Return information about the current function running:",
	"    * Function name",
	"    * Command used to run the function",
	"    * Duration in MS that the function is running",
	"    If no function is running, return nil",
	"    In addition, returns a list of available engines.",
	"KILL",
	"    Kill the current running function.",
	"FLUSH [ASYNC|SYNC]",
	"    Delete all the libraries.",
	"    When called without the optional mode argument, the behavior is determined by the",
	"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
	"    * ASYNC: Asynchronously flush the libraries.",
	"    * SYNC: Synchronously flush the libraries.",
	"DUMP",
	"    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
	"RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
	"    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
	"    control how to handle existing libraries (default APPEND):",
	"    * FLUSH: delete all existing libraries.",
	"    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
	"    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
	"      libraries with the new libraries (notice that even on this option there is a chance of failure",
	"      in case of functions name collision with another library).",
	"HELP",
	"    Prints this help.",
)
