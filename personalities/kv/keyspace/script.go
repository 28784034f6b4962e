package keyspace

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"hourglass/personalities/kv/luasandbox"
	"hourglass/personalities/kv/sdsargs"
	"hourglass/platform"
)

// Scripting: EVAL, EVALSHA (and FCALL, see functions.go) are writes, one log entry each (the
// command line, with the budget the proposer was configured with), run
// at apply on every replica in the entry's transaction; EVAL_RO and
// EVALSHA_RO are reads, run on a view. Scripts are replicated state:
// 'L' sha -> body, written by SCRIPT LOAD and by every EVAL applied,
// dropped by SCRIPT FLUSH.

// Internal commands of scripting, which clients cannot name.
const (
	cmdScript      = "\x00script"      // limit, memory, then EVAL's or EVALSHA's command line
	cmdScriptLoad  = "\x00scriptload"  // body
	cmdScriptFlush = "\x00scriptflush" // nothing
)

const prefixScript = 'L'

func scriptKey(sha string) []byte { return append([]byte{prefixScript}, sha...) }

// ScriptLimits bound one script's run (see package luasandbox): the
// virtual machine instructions and the bytes of strings it makes.
type ScriptLimits struct {
	Instructions int64
	Memory       int64
}

// DefaultScriptLimits are the bounds of a script run without the
// server's (a transaction's EVAL, a read-only script on a bare view).
var DefaultScriptLimits = ScriptLimits{Instructions: 5_000_000, Memory: 64 << 20}

// ScriptEnv is what a read-only script on a view learns of the node:
// its bounds, whether SCRIPT KILL asked it to stop (polled), and where
// redis.log writes.
type ScriptEnv struct {
	Limits      ScriptLimits
	Interrupted func() bool
	Log         func(level int, msg string)
	// Called, if set, hears each command the script runs (for MONITOR),
	// after its checks, in database db; args are the script's, not to
	// be kept.
	Called func(db int, args [][]byte)
	// Permit, if set, checks the calling user may run each command line
	// of the script (ACL) and returns the error redis.call raises if not
	// (ErrScriptDenied*).
	Permit func(args [][]byte) error
}

// ACLChecker is an optional ability of Effects.Observers: at apply, it
// checks that user may run a command line of a script (context
// ACLContextScript) or of a transaction at EXEC (ACLContextMulti), as of
// r (the apply transaction), and returns the error the command gets if
// not (for a script, ScriptEnv.Permit's). The verdict must depend on r,
// user and args only.
type ACLChecker interface {
	Permission(r platform.Reader, user []byte, args [][]byte, context string) error
}

// The contexts of ACLChecker's checks, as ACL LOG names them.
const (
	ACLContextScript = "lua"
	ACLContextMulti  = "multi"
)

// ScriptMonitor is an optional ability of Effects.Observers: it hears
// each command a script running at apply runs, as ScriptEnv.Called.
type ScriptMonitor interface {
	ScriptCalled(db int, args [][]byte)
}

// ScriptObserver is an optional ability of Effects.Observers: the
// node's log for redis.log in scripts run at apply, and whether a
// script is running at apply (SCRIPT KILL answers UNKILLABLE then).
type ScriptObserver interface {
	ScriptLog(level int, msg string)
	ScriptRunning(running bool)
}

// WithScripting returns ks with env for the read-only scripts it runs.
func (ks *Keyspace) WithScripting(env ScriptEnv) *Keyspace {
	c := *ks
	c.script = &env
	return &c
}

// EncodeScript returns the log body of EVAL, EVALSHA or FCALL (args,
// the client's command line) run in database db with the bounds lim, by
// user: "" for a user who may run anything, else the user whose
// permissions the apply checks for each command the script runs.
func EncodeScript(db int, seed uint64, lim ScriptLimits, user string, args [][]byte) []byte {
	line := [][]byte{[]byte(cmdScript), formatInt(lim.Instructions), formatInt(lim.Memory)}
	return EncodeCommand(db, seed, append(line, withUser(user, args)...))
}

// userMark precedes the user in a script or transaction entry of a
// restricted user; no command line or queued body starts with it.
const userMark = "\x00as"

// withUser prepends user's mark to rest, unless user is "".
func withUser(user string, rest [][]byte) [][]byte {
	if user == "" {
		return rest
	}
	return append([][]byte{[]byte(userMark), []byte(user)}, rest...)
}

// scriptEntryLine splits the arguments of a script entry after its
// bounds (or of a transaction entry after its watches) into the
// restricted user (nil if none) and the rest.
func scriptEntryLine(rest [][]byte) (user []byte, line [][]byte) {
	if len(rest) >= 2 && string(rest[0]) == userMark {
		return rest[1], rest[2:]
	}
	return nil, rest
}

// ScriptLoadBody returns the log body of SCRIPT LOAD src; its reply is
// the script's SHA1.
func ScriptLoadBody(src []byte) []byte {
	return EncodeCommand(0, 0, [][]byte{[]byte(cmdScriptLoad), src})
}

// ScriptFlushBody returns the log body of SCRIPT FLUSH.
func ScriptFlushBody() []byte { return EncodeCommand(0, 0, [][]byte{[]byte(cmdScriptFlush)}) }

// ScriptSHA returns the SHA1 of a script's body in lower-case hex.
func ScriptSHA(src []byte) string {
	h := sha1.Sum(src)
	return hex.EncodeToString(h[:])
}

// CompileScript compiles src as EVAL would, and returns its compile
// error reply, or nil.
func CompileScript(src []byte) error {
	_, _, err := compileScript(src)
	return err
}

// evalScript is an EVAL script's shebang: whether it has one, and its
// flags.
type evalScript struct {
	shebang bool
	flags   uint64
}

// compileScript reads src's shebang, if any, and compiles the rest (the
// shebang's line break kept, so that lines keep their numbers), as
// Redis 7.0 does.
func compileScript(src []byte) (*lua.FunctionProto, evalScript, error) {
	es, body, err := parseShebang(src)
	if err != nil {
		return nil, es, err
	}
	proto, cerr := luasandbox.Compile("user_script", string(body))
	if cerr != nil {
		return nil, es, Error("ERR Error compiling script (new function): " + cerr.Error())
	}
	return proto, es, nil
}

// parseShebang reads the "#!lua flags=a,b" line of an EVAL script.
func parseShebang(src []byte) (evalScript, []byte, error) {
	var es evalScript
	if !bytes.HasPrefix(src, []byte("#!")) {
		return es, src, nil
	}
	end := bytes.IndexByte(src, '\n')
	if end < 0 {
		return es, nil, Error("ERR Invalid script shebang")
	}
	parts, ok := sdsargs.Split(src[:end])
	if !ok || len(parts) == 0 {
		return es, nil, Error("ERR Invalid engine in script shebang")
	}
	if string(parts[0]) != "#!lua" {
		return es, nil, Errorf("ERR Unexpected engine in script shebang: %s", parts[0])
	}
	es.shebang = true
	for _, p := range parts[1:] {
		list, ok := bytes.CutPrefix(p, []byte("flags="))
		if !ok {
			return es, nil, Errorf("ERR Unknown lua shebang option: %s", p)
		}
		if len(list) == 0 {
			continue
		}
		for _, f := range bytes.Split(list, []byte(",")) {
			bit := slices.Index(functionFlagNames, string(f))
			if bit < 0 {
				return es, nil, Errorf("ERR Unexpected flag in script shebang: %s", f)
			}
			es.flags |= 1 << bit
		}
	}
	return es, src[end:], nil
}

// ScriptsExist answers SCRIPT EXISTS on the applied state r: 1 for each
// sha stored, 0 otherwise.
func ScriptsExist(r platform.Reader, shas [][]byte) ([]any, error) {
	out := make([]any, len(shas))
	for i, s := range shas {
		_, ok, err := r.Get(scriptKey(strings.ToLower(string(s))))
		if err != nil {
			return nil, err
		}
		out[i] = int64(0)
		if ok {
			out[i] = int64(1)
		}
	}
	return out, nil
}

func init() {
	flags := []string{"noscript", "stale", "skip_monitor", "may_replicate", "no_mandatory_keys", "movablekeys"}
	roFlags := []string{"noscript", "stale", "skip_monitor", "no_mandatory_keys", "movablekeys", "readonly"}
	register(&Command{Spec: Spec{Name: "eval", Arity: -3, Flags: flags}, Kind: KindWrite, check: checkEval, exec: execEval})
	register(&Command{Spec: Spec{Name: "evalsha", Arity: -3, Flags: flags}, Kind: KindWrite, check: checkEval, exec: execEval})
	register(&Command{Spec: Spec{Name: "eval_ro", Arity: -3, Flags: roFlags}, Kind: KindRead, check: checkEval, exec: execEval})
	register(&Command{Spec: Spec{Name: "evalsha_ro", Arity: -3, Flags: roFlags}, Kind: KindRead, check: checkEval, exec: execEval})
	register(&Command{Spec: Spec{Name: "fcall", Arity: -3, Flags: flags}, Kind: KindWrite, exec: execFcall})
	register(&Command{Spec: Spec{Name: "fcall_ro", Arity: -3, Flags: roFlags}, Kind: KindRead, exec: execFcall})
}

func checkEval(args [][]byte) error {
	n, ok := ParseInt(args[2])
	switch {
	case !ok:
		return ErrNotInteger
	case n < 0:
		return Error("ERR Number of keys can't be negative")
	case n > int64(len(args)-3):
		return Error("ERR Number of keys can't be greater than number of args")
	}
	return nil
}

// applyScriptEntry runs cmdScript's entry: the bounds, then EVAL's,
// EVALSHA's or FCALL's line.
func applyScriptEntry(ks *Keyspace, args [][]byte) (any, error) {
	if len(args) < 6 {
		return nil, Error("ERR malformed script entry")
	}
	insns, ok1 := ParseInt(args[1])
	mem, ok2 := ParseInt(args[2])
	if !ok1 || !ok2 {
		return nil, Error("ERR malformed script entry")
	}
	user, line := scriptEntryLine(args[3:])
	if len(line) < 3 {
		return nil, Error("ERR malformed script entry")
	}
	if ks.txnUser != nil {
		// A script queued in a transaction runs as the user is at EXEC.
		user = ks.txnUser
	}
	if user != nil {
		if o, ok := ks.fx.observers().(ACLChecker); ok {
			c := *ks
			c.permit = func(args [][]byte) error { return o.Permission(ks.r, user, args, ACLContextScript) }
			ks = &c
		}
	}
	if EqFold(line[0], "fcall") {
		return runFcall(ks, line, ScriptLimits{insns, mem})
	}
	if err := checkEval(line); err != nil {
		return nil, err
	}
	return runEval(ks, line, ScriptLimits{insns, mem})
}

func execEval(ks *Keyspace, args [][]byte) (any, error) {
	return runEval(ks, args, ks.scriptLimits())
}

// scriptLimits are the bounds of a script run outside the log.
func (ks *Keyspace) scriptLimits() ScriptLimits {
	if ks.script != nil {
		return ks.script.Limits
	}
	return DefaultScriptLimits
}

// runEval runs EVAL, EVALSHA or their _RO forms (args, checked).
func runEval(ks *Keyspace, args [][]byte, lim ScriptLimits) (any, error) {
	name := strings.ToLower(string(args[0]))
	var src []byte
	var sha string
	if name == "eval" || name == "eval_ro" {
		src = args[1]
		sha = ScriptSHA(src)
	} else {
		sha = strings.ToLower(string(args[1]))
		b, ok, err := ks.r.Get(scriptKey(sha))
		if err != nil {
			return nil, err
		}
		if !ok || len(sha) != 40 {
			return nil, Error("NOSCRIPT No matching script. Please use EVAL.")
		}
		src = b
	}
	proto, es, err := compileScript(src)
	if err != nil {
		return nil, err
	}
	ro := strings.HasSuffix(name, "_ro")
	noWrites := es.flags&flagNoWrites != 0
	if ro && es.shebang && !noWrites {
		return nil, Error("ERR Can not execute a script with write flag using *_ro command.")
	}
	if ks.w != nil && name == "eval" {
		// Redis 7 caches the bodies EVAL runs; EVALSHA finds them.
		if err := ks.w.Set(scriptKey(sha), src); err != nil {
			return nil, err
		}
	}
	n, _ := ParseInt(args[2])
	keys, argv := args[3:3+n], args[3+n:]
	readOnly := ks.w == nil || ro || noWrites
	return runScript(ks, proto, sha, keys, argv, readOnly, lim)
}

// applyScriptLoad stores a script's body: SCRIPT LOAD at apply.
func applyScriptLoad(ks *Keyspace, args [][]byte) (any, error) {
	if len(args) != 2 {
		return nil, Error("ERR malformed script entry")
	}
	if err := CompileScript(args[1]); err != nil {
		return nil, err
	}
	sha := ScriptSHA(args[1])
	if err := ks.w.Set(scriptKey(sha), args[1]); err != nil {
		return nil, err
	}
	return []byte(sha), nil
}

// applyScriptFlush drops every stored script: SCRIPT FLUSH at apply.
func applyScriptFlush(ks *Keyspace) (any, error) {
	if err := ks.w.DeleteRange([]byte{prefixScript}, []byte{prefixScript + 1}); err != nil {
		return nil, err
	}
	return OK, nil
}

// scriptObserver returns the apply's ScriptObserver, if any.
func (ks *Keyspace) scriptObserver() ScriptObserver {
	if ks.fx == nil {
		return nil
	}
	o, _ := ks.fx.Observers.(ScriptObserver)
	return o
}

// scriptSite names what runs in a script's error messages: the SHA1 of
// an EVAL's script or a function's name, and the chunk it was compiled
// as (user_script, user_function).
type scriptSite struct{ name, chunk string }

// suffix renders an error's location suffix.
func (s scriptSite) suffix(line int) string {
	return " script: " + s.name + ", on @" + s.chunk + ":" + strconv.Itoa(line) + "."
}

// newScriptCall returns a fresh sandbox bounded by lim, with the redis
// table of a script run against ks (read-only or not) not yet set as a
// global; done closes it.
func newScriptCall(ks *Keyspace, readOnly bool, lim ScriptLimits) (sc *scriptCall, done func()) {
	var interrupted func() bool
	var logf func(int, string)
	if ks.script != nil {
		interrupted, logf = ks.script.Interrupted, ks.script.Log
	}
	o := ks.scriptObserver()
	if o != nil {
		logf = o.ScriptLog
		o.ScriptRunning(true)
	}
	st := luasandbox.New(lim.sandbox(), interrupted)
	sc = &scriptCall{ks: ks, st: st, readOnly: readOnly, resp: 2, log: logf}
	if ks.script != nil {
		sc.called, sc.permit = ks.script.Called, ks.script.Permit
	}
	if ks.permit != nil {
		sc.permit = ks.permit
	}
	if o, ok := ks.fx.observers().(ScriptMonitor); ok && ks.w != nil {
		sc.called = o.ScriptCalled
	}
	return sc, func() {
		st.Close()
		if o != nil {
			o.ScriptRunning(false)
		}
	}
}

func (lim ScriptLimits) sandbox() luasandbox.Limits {
	return luasandbox.Limits{Instructions: lim.Instructions, Memory: lim.Memory}
}

// runScript runs the compiled script proto with KEYS and ARGV against ks and returns its reply.
func runScript(ks *Keyspace, proto *lua.FunctionProto, sha string, keys, argv [][]byte, readOnly bool, lim ScriptLimits) (any, error) {
	sc, done := newScriptCall(ks, readOnly, lim)
	defer done()
	L := sc.st.L
	L.SetGlobal("KEYS", stringsTable(L, keys))
	L.SetGlobal("ARGV", stringsTable(L, argv))
	L.SetGlobal("redis", sc.redisTable())
	sc.st.Protect()
	return sc.pcall(L.NewFunctionFromProto(proto), nil, lim, scriptSite{sha, "user_script"})
}

// pcall calls fn with args in the script's state and converts what it
// returns, or the error it raised, to a reply; lim is the budget it ran
// under, for the error of an overrun.
func (sc *scriptCall) pcall(fn *lua.LFunction, args []lua.LValue, lim ScriptLimits, site scriptSite) (any, error) {
	L := sc.st.L
	line := 0
	handler := L.NewFunction(func(L *lua.LState) int {
		line = currentLine(L, site.chunk)
		L.Push(L.Get(1))
		return 1
	})
	L.Push(fn)
	for _, a := range args {
		L.Push(a)
	}
	if err := L.PCall(len(args), 1, handler); err != nil {
		switch sc.st.Exceeded() {
		case luasandbox.ErrInstructions:
			return nil, Error("ERR Script exceeded lua-instruction-limit (" + strconv.FormatInt(lim.Instructions, 10) + " instructions)" + site.suffix(line))
		case luasandbox.ErrMemory:
			return nil, Error("ERR Script exceeded lua-memory-limit (" + strconv.FormatInt(lim.Memory, 10) + " bytes of strings)" + site.suffix(line))
		case luasandbox.ErrInterrupted:
			return nil, Error("ERR Script killed by user with SCRIPT KILL..." + site.suffix(line))
		}
		return nil, Errorf("%s%s", luaErrorReply(err), site.suffix(line))
	}
	r := luaToReply(L.Get(-1), 0)
	L.Pop(1)
	return r, nil
}

// luaErrorReply is the error reply of what a Lua call raised: the err
// field of an error table, or ERR and the message.
func luaErrorReply(err error) string {
	var obj lua.LValue = lua.LString(err.Error())
	if ae, ok := err.(*lua.ApiError); ok && ae.Object != nil {
		obj = ae.Object
	}
	if t, ok := obj.(*lua.LTable); ok {
		if e, ok := t.RawGetString("err").(lua.LString); ok {
			return string(e)
		}
	}
	return "ERR " + lua.LVAsString(obj)
}

// currentLine is the line of the innermost frame of the chunk.
func currentLine(L *lua.LState, chunk string) int {
	for level := 0; ; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			return 0
		}
		if _, err := L.GetInfo("Sl", dbg, lua.LNil); err == nil && dbg.Source == chunk && dbg.CurrentLine > 0 {
			return dbg.CurrentLine
		}
	}
}

func stringsTable(L *lua.LState, xs [][]byte) *lua.LTable {
	t := L.CreateTable(len(xs), 0)
	for i, x := range xs {
		t.RawSetInt(i+1, lua.LString(x))
	}
	return t
}

// luaToReply converts a script's value to a reply as Redis does: a
// number truncated to an integer, a string a bulk, true 1, false and nil
// a null, a table with err or ok an error or a status, with double, map
// or set one of those, any other table an array up to its first nil.
func luaToReply(v lua.LValue, depth int) any {
	if depth > 1000 {
		return Error("ERR reached lua stack limit")
	}
	switch v := v.(type) {
	case lua.LNumber:
		return int64(float64(v))
	case lua.LString:
		return []byte(v)
	case lua.LBool:
		if v {
			return int64(1)
		}
		return nil
	case *lua.LTable:
		if e, ok := v.RawGetString("err").(lua.LString); ok {
			return Errorf("%s", e)
		}
		if s, ok := v.RawGetString("ok").(lua.LString); ok {
			return SimpleString(strings.NewReplacer("\r", " ", "\n", " ").Replace(string(s)))
		}
		if d, ok := v.RawGetString("double").(lua.LNumber); ok {
			return float64(d)
		}
		if m, ok := v.RawGetString("map").(*lua.LTable); ok {
			out := Map{}
			m.ForEach(func(k, x lua.LValue) { out = append(out, luaToReply(k, depth+1), luaToReply(x, depth+1)) })
			return out
		}
		if s, ok := v.RawGetString("set").(*lua.LTable); ok {
			out := Set{}
			s.ForEach(func(k, _ lua.LValue) { out = append(out, luaToReply(k, depth+1)) })
			return out
		}
		out := []any{}
		for i := 1; ; i++ {
			x := v.RawGetInt(i)
			if x == lua.LNil {
				break
			}
			out = append(out, luaToReply(x, depth+1))
		}
		return out
	}
	return nil
}
