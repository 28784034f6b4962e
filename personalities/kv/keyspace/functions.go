package keyspace

import (
	"bytes"
	"encoding/binary"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"hourglass/internal/uvarint"
	"hourglass/personalities/kv/luasandbox"
	"hourglass/personalities/kv/sdsargs"
	"hourglass/platform"
)

// Functions (Redis 7.0): a library is Lua code whose first line is a
// shebang, "#!lua name=<lib>", and whose top level registers functions
// with redis.register_function. Libraries are replicated state: FUNCTION
// LOAD, DELETE, FLUSH and RESTORE are log entries, applied on every
// replica. The store keeps 'F' library name -> the library's record
// (its code and what its functions were registered with) and 'G'
// function name -> library name. Running a function loads its library
// again in a fresh state, under loadLimits, and calls the function it
// registered: loading is deterministic, so it registers what it did at
// FUNCTION LOAD.

// Internal commands of functions, which clients cannot name.
const (
	cmdFunctionLoad    = "\x00fnload"    // "replace" or "", then the code
	cmdFunctionDelete  = "\x00fndelete"  // library name
	cmdFunctionFlush   = "\x00fnflush"   // nothing
	cmdFunctionRestore = "\x00fnrestore" // policy, payload
)

const (
	prefixLibrary  = 'F'
	prefixFunction = 'G'
)

func libraryKey(name []byte) []byte { return append([]byte{prefixLibrary}, name...) }

// functionKey is the index entry of a function: Redis finds functions
// by name in any case.
func functionKey(name []byte) []byte {
	return append([]byte{prefixFunction}, bytes.ToLower(name)...)
}

// loadLimits bound the run of a library's top level, at FUNCTION LOAD
// and before each call of one of its functions; Redis gives it 500ms.
var loadLimits = ScriptLimits{Instructions: 10_000_000, Memory: 64 << 20}

// maxFunctions bounds the functions one library registers.
const maxFunctions = 1 << 14

// Function flags, in the order Redis lists them.
var functionFlagNames = []string{"no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys"}

const flagNoWrites = 1

// FunctionInfo is what a function was registered with.
type FunctionInfo struct {
	Name string
	// Desc is the description, if HasDesc.
	Desc    string
	HasDesc bool
	// Flags is a bit per functionFlagNames entry.
	Flags uint64
}

// Library is a loaded library as the store keeps it.
type Library struct {
	Name      string
	Code      []byte
	Functions []FunctionInfo
}

// FunctionLoadBody returns the log body of FUNCTION LOAD [REPLACE] code.
func FunctionLoadBody(replace bool, code []byte) []byte {
	r := ""
	if replace {
		r = "replace"
	}
	return EncodeCommand(0, 0, [][]byte{[]byte(cmdFunctionLoad), []byte(r), code})
}

// FunctionDeleteBody returns the log body of FUNCTION DELETE name.
func FunctionDeleteBody(name []byte) []byte {
	return EncodeCommand(0, 0, [][]byte{[]byte(cmdFunctionDelete), name})
}

// FunctionFlushBody returns the log body of FUNCTION FLUSH.
func FunctionFlushBody() []byte { return EncodeCommand(0, 0, [][]byte{[]byte(cmdFunctionFlush)}) }

func encodeLibrary(lib *Library) []byte {
	b := binary.AppendUvarint(nil, uint64(len(lib.Code)))
	b = append(b, lib.Code...)
	b = binary.AppendUvarint(b, uint64(len(lib.Functions)))
	for _, f := range lib.Functions {
		b = binary.AppendUvarint(b, uint64(len(f.Name)))
		b = append(b, f.Name...)
		has := uint64(0)
		if f.HasDesc {
			has = 1
		}
		b = binary.AppendUvarint(b, has)
		b = binary.AppendUvarint(b, uint64(len(f.Desc)))
		b = append(b, f.Desc...)
		b = binary.AppendUvarint(b, f.Flags)
	}
	return b
}

func decodeLibrary(name string, b []byte) (*Library, error) {
	bad := Error("ERR corrupt function library record")
	lib := &Library{Name: name}
	bytesField := func() ([]byte, bool) {
		n, k, ok := uvarint.Read(b)
		if !ok || n > uint64(len(b)-k) {
			return nil, false
		}
		v := b[k : k+int(n)]
		b = b[k+int(n):]
		return v, true
	}
	intField := func() (uint64, bool) {
		n, k, ok := uvarint.Read(b)
		b = b[k:]
		return n, ok
	}
	code, ok := bytesField()
	if !ok {
		return nil, bad
	}
	lib.Code = bytes.Clone(code)
	n, ok := intField()
	if !ok || n > maxFunctions {
		return nil, bad
	}
	for range n {
		var f FunctionInfo
		fname, ok1 := bytesField()
		has, ok2 := intField()
		desc, ok3 := bytesField()
		flags, ok4 := intField()
		if !ok1 || !ok2 || !ok3 || !ok4 {
			return nil, bad
		}
		f.Name, f.HasDesc, f.Desc, f.Flags = string(fname), has == 1, string(desc), flags
		lib.Functions = append(lib.Functions, f)
	}
	return lib, nil
}

// Libraries returns the libraries stored in the applied state r, by
// name.
func Libraries(r platform.Reader) ([]*Library, error) {
	it, err := r.NewIter([]byte{prefixLibrary}, []byte{prefixLibrary + 1})
	if err != nil {
		return nil, err
	}
	var out []*Library
	for it.First(); it.Valid(); it.Next() {
		lib, err := decodeLibrary(string(it.Key()[1:]), it.Value())
		if err != nil {
			it.Close()
			return nil, err
		}
		out = append(out, lib)
	}
	return out, it.Close()
}

// libraryMeta is a library's shebang: its engine and name, and the code
// after the shebang's line (from its line break, so that lines keep
// their numbers).
type libraryMeta struct {
	engine, name string
	body         []byte
}

// parseLibraryMeta reads a library's shebang as Redis does.
func parseLibraryMeta(code []byte) (libraryMeta, error) {
	if !bytes.HasPrefix(code, []byte("#!")) {
		return libraryMeta{}, Error("ERR Missing library metadata")
	}
	end := bytes.IndexByte(code, '\n')
	if end < 0 {
		return libraryMeta{}, Error("ERR Invalid library metadata")
	}
	parts, ok := sdsargs.Split(code[:end])
	if !ok || len(parts) == 0 {
		return libraryMeta{}, Error("ERR Invalid library metadata")
	}
	md := libraryMeta{engine: string(parts[0][min(2, len(parts[0])):]), body: code[end:]}
	named := false
	for _, p := range parts[1:] {
		if len(p) >= 5 && EqFold(p[:5], "name=") {
			if named {
				return libraryMeta{}, Error("ERR Invalid metadata value, name argument was given multiple times")
			}
			md.name, named = string(p[5:]), true
			continue
		}
		return libraryMeta{}, Errorf("ERR Invalid metadata value given: %s", p)
	}
	if !named {
		return libraryMeta{}, Error("ERR Library name was not given")
	}
	return md, nil
}

// validName reports whether a library's or function's name is letters,
// digits and underscores, at least one.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

const errBadName = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"

// loadedFunction is a function a library's top level registered.
type loadedFunction struct {
	FunctionInfo
	fn *lua.LFunction
}

// readOnlyTable returns an empty table that reads as what inner returns
// (a missing field is an error, as a missing global is in scripts) and
// refuses every write.
func readOnlyTable(L *lua.LState, inner func() *lua.LTable) *lua.LTable {
	t := L.NewTable()
	mt := L.NewTable()
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		v := inner().RawGet(L.Get(2))
		if v == lua.LNil {
			L.RaiseError("Script attempted to access nonexistent global variable '%s'", L.ToString(2))
		}
		L.Push(v)
		return 1
	}))
	mt.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("Attempt to modify a readonly table")
		return 0
	}))
	L.SetMetatable(t, mt)
	return t
}

// parseLibrary reads a library's shebang and checks its name and
// engine, as Redis does before it runs the code.
func parseLibrary(code []byte) (libraryMeta, error) {
	md, err := parseLibraryMeta(code)
	if err != nil {
		return md, err
	}
	if !validName(md.name) {
		return md, Error("ERR " + errBadName)
	}
	if !strings.EqualFold(md.engine, "lua") {
		return md, Errorf("ERR Engine '%s' not found", md.engine)
	}
	return md, nil
}

// loadLibrary runs a library's code (md, parsed) in sc's state, under
// loadLimits, and returns the functions it registered. When it returns,
// the functions see the state's globals, whose redis table the caller
// has set.
func loadLibrary(sc *scriptCall, md libraryMeta) ([]loadedFunction, error) {
	proto, cerr := luasandbox.Compile("user_function", string(md.body))
	if cerr != nil {
		return nil, Error("ERR Error compiling function: " + cerr.Error())
	}
	L := sc.st.L
	// The library's globals: at load only the load API, then the
	// script's globals.
	var funcs []loadedFunction
	globals := L.NewTable()
	env := readOnlyTable(L, func() *lua.LTable { return globals })
	globals.RawSetString("redis", loadAPI(L, func(f loadedFunction) string {
		if !validName(f.Name) {
			return errBadName
		}
		for _, g := range funcs {
			if g.Name == f.Name {
				return "Function already exists in the library"
			}
		}
		if len(funcs) >= maxFunctions {
			return "too many functions registered"
		}
		funcs = append(funcs, f)
		return ""
	}, sc.log))
	fn := L.NewFunctionFromProto(proto)
	fn.Env = env
	sc.st.Reset(loadLimits.sandbox())
	L.Push(fn)
	if err := L.PCall(0, 0, nil); err != nil {
		var msg string
		switch sc.st.Exceeded() {
		case luasandbox.ErrInstructions, luasandbox.ErrInterrupted:
			msg = "ERR FUNCTION LOAD timeout"
		case luasandbox.ErrMemory:
			msg = "ERR FUNCTION LOAD exceeded its memory"
		default:
			msg = luaErrorReply(err)
		}
		return nil, Errorf("ERR Error registering functions: %s", msg)
	}
	globals = L.G.Global
	return funcs, nil
}

// loadAPI is the redis table a library's top level sees: register
// (which returns an error's text, or "" once it took the function), log
// and the log levels; any other field is an error.
func loadAPI(L *lua.LState, register func(loadedFunction) string, logf func(int, string)) *lua.LTable {
	t := L.NewTable()
	fail := func(L *lua.LState, msg string) int {
		L.Error(errorTable(L, "ERR "+msg), 0)
		return 0
	}
	t.RawSetString("register_function", L.NewFunction(func(L *lua.LState) int {
		var f loadedFunction
		switch L.GetTop() {
		case 1:
			if msg := readNamedArgs(L, &f); msg != "" {
				return fail(L, msg)
			}
		case 2:
			name, ok := luaString(L.Get(1))
			if !ok {
				return fail(L, "first argument to redis.register_function must be a string")
			}
			fn, ok := L.Get(2).(*lua.LFunction)
			if !ok {
				return fail(L, "second argument to redis.register_function must be a function")
			}
			f.Name, f.fn = name, fn
		default:
			return fail(L, "wrong number of arguments to redis.register_function")
		}
		if msg := register(f); msg != "" {
			return fail(L, msg)
		}
		return 0
	}))
	t.RawSetString("log", L.NewFunction(func(L *lua.LState) int { return scriptLog(L, logf) }))
	for i, name := range []string{"LOG_DEBUG", "LOG_VERBOSE", "LOG_NOTICE", "LOG_WARNING"} {
		t.RawSetString(name, lua.LNumber(i))
	}
	return readOnlyTable(L, func() *lua.LTable { return t })
}

// readNamedArgs reads redis.register_function's table form into f; it
// returns an error's text, or "".
func readNamedArgs(L *lua.LState, f *loadedFunction) string {
	t, ok := L.Get(1).(*lua.LTable)
	if !ok {
		return "calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments)."
	}
	named := false
	for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		key, ok := luaString(k)
		if !ok {
			return "named argument key given to redis.register_function is not a string"
		}
		switch strings.ToLower(key) {
		case "function_name":
			if f.Name, ok = luaString(v); !ok {
				return "function_name argument given to redis.register_function must be a string"
			}
			named = true
		case "description":
			if f.Desc, ok = luaString(v); !ok {
				return "description argument given to redis.register_function must be a string"
			}
			f.HasDesc = true
		case "callback":
			if f.fn, ok = v.(*lua.LFunction); !ok {
				return "callback argument given to redis.register_function must be a function"
			}
		case "flags":
			ft, ok := v.(*lua.LTable)
			if !ok {
				return "flags argument to redis.register_function must be a table representing function flags"
			}
			flags, ok := readFlags(ft)
			if !ok {
				return "unknown flag given"
			}
			f.Flags = flags
		default:
			return "unknown argument given to redis.register_function"
		}
	}
	if !named {
		return "redis.register_function must get a function name argument"
	}
	if f.fn == nil {
		return "redis.register_function must get a callback argument"
	}
	return ""
}

// readFlags reads a flags table, 1..n up to its first nil.
func readFlags(t *lua.LTable) (uint64, bool) {
	var flags uint64
	for i := 1; ; i++ {
		v := t.RawGetInt(i)
		if v == lua.LNil {
			return flags, true
		}
		s, ok := luaString(v)
		if !ok {
			return 0, false
		}
		bit := -1
		for j, name := range functionFlagNames {
			if strings.EqualFold(name, s) {
				bit = j
			}
		}
		if bit < 0 {
			return 0, false
		}
		flags |= 1 << bit
	}
}

// luaString is Lua's tostring of a string or a number (lua_isstring).
func luaString(v lua.LValue) (string, bool) {
	switch v := v.(type) {
	case lua.LString:
		return string(v), true
	case lua.LNumber:
		return luasandbox.FormatNumber(float64(v)), true
	}
	return "", false
}

// FunctionFlagNames lists the flags set in flags, in Redis's order.
func FunctionFlagNames(flags uint64) []string {
	var out []string
	for i, name := range functionFlagNames {
		if flags&(1<<i) != 0 {
			out = append(out, name)
		}
	}
	return out
}
