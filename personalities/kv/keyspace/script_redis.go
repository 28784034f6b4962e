package keyspace

import (
	"slices"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"hourglass/personalities/kv/luasandbox"
)

// scriptCall is one script's redis table: the keyspace its commands run
// against (SELECT in a script changes it for the script only), and the
// protocol its replies convert from (redis.setresp).
type scriptCall struct {
	ks       *Keyspace
	st       *luasandbox.State
	readOnly bool
	resp     int
	log      func(level int, msg string)
	// called hears each command run, for MONITOR; nil: nobody.
	called func(db int, args [][]byte)
	// permit checks the calling user may run a command line (ACL);
	// nil: anybody may.
	permit func(args [][]byte) error
}

// Errors of redis.call, word for word as Redis 7.0 words them.
const (
	errScriptUnknown  = Error("ERR Unknown Redis command called from script")
	errScriptArity    = Error("ERR Wrong number of args calling Redis command from script")
	errScriptNoScript = Error("ERR This Redis command is not allowed from script")
	errScriptReadOnly = Error("ERR Write commands are not allowed from read-only scripts.")
	errScriptArgs     = Error("ERR Lua redis lib command arguments must be strings or integers")
	errScriptNoArgs   = Error("ERR Please specify at least one argument for this redis lib call")

	// The errors of a command a script's user may not run (Redis 7.0's
	// scriptVerifyACL), by what the user lacks.
	ErrScriptDeniedCommand = Error("ERR The user executing the script can't run this command or subcommand")
	ErrScriptDeniedKey     = Error("ERR The user executing the script can't access at least one of the keys mentioned in the command arguments")
	ErrScriptDeniedChannel = Error("ERR The user executing the script can't publish to the channel mentioned in the command")
)

// notInScripts are the commands of the server Redis refuses in scripts.
var notInScripts = map[string]bool{
	"multi": true, "exec": true, "discard": true, "watch": true, "unwatch": true,
	"subscribe": true, "psubscribe": true, "unsubscribe": true, "punsubscribe": true,
	"ssubscribe": true, "sunsubscribe": true, "auth": true, "hello": true, "reset": true,
	"quit": true, "client": true, "script": true, "eval": true, "evalsha": true,
	"eval_ro": true, "evalsha_ro": true, "save": true, "bgsave": true,
	"fcall": true, "fcall_ro": true, "function": true,
}

func (sc *scriptCall) redisTable() *lua.LTable {
	L := sc.st.L
	t := L.NewTable()
	fn := func(name string, f lua.LGFunction) { t.RawSetString(name, L.NewFunction(f)) }
	fn("call", func(L *lua.LState) int { return sc.call(L, true) })
	fn("pcall", func(L *lua.LState) int { return sc.call(L, false) })
	fn("error_reply", func(L *lua.LState) int {
		s := L.CheckString(1)
		tb := L.NewTable()
		tb.RawSetString("err", lua.LString(strings.TrimPrefix(s, "-")))
		L.Push(tb)
		return 1
	})
	fn("status_reply", func(L *lua.LState) int {
		tb := L.NewTable()
		tb.RawSetString("ok", lua.LString(L.CheckString(1)))
		L.Push(tb)
		return 1
	})
	fn("sha1hex", func(L *lua.LState) int {
		if L.GetTop() != 1 {
			L.RaiseError("wrong number of arguments")
		}
		L.Push(lua.LString(ScriptSHA([]byte(L.ToString(1)))))
		return 1
	})
	fn("log", func(L *lua.LState) int { return scriptLog(L, sc.log) })
	fn("setresp", func(L *lua.LState) int {
		n, ok := L.Get(1).(lua.LNumber)
		if L.GetTop() != 1 || !ok {
			L.RaiseError("redis.setresp() requires one argument.")
		}
		if n != 2 && n != 3 {
			L.Error(errorTable(L, "ERR RESP version must be 2 or 3."), 0)
		}
		sc.resp = int(n)
		return 0
	})
	fn("set_repl", func(L *lua.LState) int {
		n, ok := L.Get(1).(lua.LNumber)
		if L.GetTop() != 1 || !ok {
			L.RaiseError("redis.set_repl() requires one argument.")
		}
		if n < 0 || n > 3 {
			L.RaiseError("Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.")
		}
		return 0 // every script replicates as the script
	})
	fn("replicate_commands", func(L *lua.LState) int {
		L.Push(lua.LTrue)
		return 1
	})
	for name, v := range map[string]int{
		"REPL_NONE": 0, "REPL_AOF": 1, "REPL_SLAVE": 2, "REPL_REPLICA": 2, "REPL_ALL": 3,
		"LOG_DEBUG": 0, "LOG_VERBOSE": 1, "LOG_NOTICE": 2, "LOG_WARNING": 3,
	} {
		t.RawSetString(name, lua.LNumber(v))
	}
	return t
}

// scriptLog is redis.log: it writes its arguments, space separated, at
// the level of its first, to logf.
func scriptLog(L *lua.LState, logf func(int, string)) int {
	if L.GetTop() < 2 {
		L.RaiseError("redis.log() requires two arguments or more.")
	}
	level, ok := L.Get(1).(lua.LNumber)
	if !ok || level < 0 || level > 3 {
		L.RaiseError("Invalid debug level.")
	}
	var parts []string
	for i := 2; i <= L.GetTop(); i++ {
		parts = append(parts, lua.LVAsString(L.Get(i)))
	}
	if logf != nil {
		logf(int(level), strings.Join(parts, " "))
	}
	return 0
}

func errorTable(L *lua.LState, msg string) *lua.LTable {
	t := L.NewTable()
	t.RawSetString("err", lua.LString(msg))
	return t
}

// call is redis.call (raise) and redis.pcall (return the error table).
func (sc *scriptCall) call(L *lua.LState, raise bool) int {
	fail := func(e Error) int {
		t := errorTable(L, string(e))
		if raise {
			L.Error(t, 0)
		}
		L.Push(t)
		return 1
	}
	n := L.GetTop()
	if n == 0 {
		return fail(errScriptNoArgs)
	}
	args := make([][]byte, n)
	for i := 1; i <= n; i++ {
		switch v := L.Get(i).(type) {
		case lua.LString:
			args[i-1] = []byte(v)
		case lua.LNumber:
			args[i-1] = []byte(luasandbox.FormatNumber(float64(v)))
		default:
			return fail(errScriptArgs)
		}
	}
	r, err := sc.run(args)
	if err != nil {
		e, ok := err.(Error)
		if !ok {
			L.RaiseError("%s", err.Error()) // the store failed
		}
		return fail(e)
	}
	if e, ok := r.(Error); ok {
		return fail(e)
	}
	L.Push(sc.replyToLua(L, r))
	return 1
}

// run runs one command line of a script, and tells sc.called of it if
// it passed its checks (as Redis feeds MONITOR from the commands it
// runs).
func (sc *scriptCall) run(args [][]byte) (any, error) {
	r, err := sc.runChecked(args)
	if sc.called != nil && (err == nil || !refusedInScript(err)) {
		sc.called(sc.ks.db, args)
	}
	return r, err
}

// refusedInScript reports whether err refused a script's command before
// it ran.
func refusedInScript(err error) bool {
	switch err {
	case errScriptNoArgs, errScriptArgs, errScriptArity, errScriptNoScript, errScriptUnknown, errScriptReadOnly,
		ErrScriptDeniedCommand, ErrScriptDeniedKey, ErrScriptDeniedChannel:
		return true
	}
	return false
}

// runChecked checks and runs one command line of a script.
func (sc *scriptCall) runChecked(args [][]byte) (any, error) {
	name := strings.ToLower(string(args[0]))
	ks := sc.ks
	switch name {
	case "ping", "echo":
		r, ok := execConnectionCommand(args)
		if !ok {
			return nil, errScriptArity
		}
		if err := sc.checkACL(args); err != nil {
			return nil, err
		}
		return r, nil
	case "select":
		if len(args) != 2 {
			return nil, errScriptArity
		}
		if err := sc.checkACL(args); err != nil {
			return nil, err
		}
		db, ok := ParseInt(args[1])
		if !ok {
			return nil, ErrNotInteger
		}
		if db < 0 || db >= Databases {
			return nil, ErrDBIndex
		}
		sc.ks = ks.withDB(int(db))
		return OK, nil
	case "time":
		if err := sc.checkACL(args); err != nil {
			return nil, err
		}
		// The log time at apply: the same on every replica.
		return []any{formatInt(ks.now / 1000), formatInt(ks.now % 1000 * 1000)}, nil
	}
	if notInScripts[name] {
		return nil, errScriptNoScript
	}
	cmd := Lookup(args[0])
	if cmd == nil {
		return nil, errScriptUnknown
	}
	if !cmd.ArityOK(len(args)) {
		return nil, errScriptArity
	}
	if cmd.blockingOnlyOutsideScripts() {
		return nil, errScriptNoScript
	}
	if cmd.block != nil && cmd.block.inScript != nil {
		if err := cmd.block.inScript(args); err != nil {
			return nil, err
		}
	}
	if err := sc.checkACL(args); err != nil {
		return nil, err
	}
	// A command Redis flags "write" is one here even when its arguments
	// make it read (SORT without STORE, BITFIELD with GETs only), as in
	// Redis.
	if (cmd.KindOf(args) == KindWrite || slices.Contains(cmd.Flags, "write")) && (sc.readOnly || ks.w == nil) {
		return nil, errScriptReadOnly
	}
	if err := cmd.checkAt(args, ks.now); err != nil {
		return nil, err
	}
	scripted := *ks
	scripted.inScript = true
	return cmd.execNested(&scripted, args)
}

// checkACL checks the script's user may run args, after the checks
// of the command itself and before the read-only one, as Redis does.
func (sc *scriptCall) checkACL(args [][]byte) error {
	if sc.permit == nil {
		return nil
	}
	return sc.permit(args)
}

// replyToLua converts a command's reply to Lua as Redis does for the
// script's protocol (redis.setresp): integers to numbers, bulks to
// strings, a null to false (RESP2) or nil (RESP3), a status to {ok=...},
// an error to {err=...}, arrays to tables; in RESP2 maps, sets and pairs
// flat, doubles as bulks; in RESP3 {map=...}, {set=...}, {double=...}.
func (sc *scriptCall) replyToLua(L *lua.LState, r any) lua.LValue {
	switch r := r.(type) {
	case nil, NullArray:
		if sc.resp == 3 {
			return lua.LNil
		}
		return lua.LFalse
	case SimpleString:
		t := L.NewTable()
		t.RawSetString("ok", lua.LString(r))
		return t
	case Error:
		return errorTable(L, string(r))
	case []byte:
		sc.st.Charge(int64(len(r)))
		return lua.LString(r)
	case string:
		return lua.LString(r)
	case int64:
		return lua.LNumber(r)
	case int:
		return lua.LNumber(r)
	case float64:
		if sc.resp == 3 {
			t := L.NewTable()
			t.RawSetString("double", lua.LNumber(r))
			return t
		}
		return lua.LString(FormatFloat(r))
	case DoubleText:
		if sc.resp == 3 {
			f, _ := strconv.ParseFloat(string(r), 64)
			t := L.NewTable()
			t.RawSetString("double", lua.LNumber(f))
			return t
		}
		return lua.LString(r)
	case []any:
		return sc.arrayToLua(L, r)
	case Pairs:
		if sc.resp == 3 {
			t := L.CreateTable(len(r)/2, 0)
			for i := 0; i+1 < len(r); i += 2 {
				t.RawSetInt(i/2+1, sc.arrayToLua(L, []any{r[i], r[i+1]}))
			}
			return t
		}
		return sc.arrayToLua(L, r)
	case KeyedArrays:
		if sc.resp == 3 {
			return sc.replyToLua(L, Map(r))
		}
		t := L.CreateTable(len(r)/2, 0)
		for i := 0; i+1 < len(r); i += 2 {
			t.RawSetInt(i/2+1, sc.arrayToLua(L, []any{r[i], r[i+1]}))
		}
		return t
	case Map:
		if sc.resp == 3 {
			m := L.NewTable()
			for i := 0; i+1 < len(r); i += 2 {
				m.RawSet(sc.replyToLua(L, r[i]), sc.replyToLua(L, r[i+1]))
			}
			t := L.NewTable()
			t.RawSetString("map", m)
			return t
		}
		return sc.arrayToLua(L, r)
	case Set:
		if sc.resp == 3 {
			s := L.NewTable()
			for _, x := range r {
				s.RawSet(sc.replyToLua(L, x), lua.LTrue)
			}
			t := L.NewTable()
			t.RawSetString("set", s)
			return t
		}
		return sc.arrayToLua(L, r)
	}
	return lua.LNil // not a reply type (a WouldBlock never reaches a script)
}

func (sc *scriptCall) arrayToLua(L *lua.LState, xs []any) *lua.LTable {
	t := L.CreateTable(len(xs), 0)
	for i, x := range xs {
		v := sc.replyToLua(L, x)
		if v == lua.LNil {
			v = lua.LFalse // a table cannot hold nil
		}
		t.RawSetInt(i+1, v)
	}
	return t
}
