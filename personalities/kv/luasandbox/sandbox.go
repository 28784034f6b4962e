package luasandbox

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// Limits bound one script's run.
type Limits struct {
	// Instructions bounds the virtual machine instructions run; 0: no
	// bound.
	Instructions int64
	// Memory bounds the bytes of strings the script makes (see the
	// package doc); 0: no bound.
	Memory int64
}

// Errors a bounded run ends with, returned by Exceeded.
var (
	ErrInstructions = errors.New("luasandbox: instruction limit exceeded")
	ErrMemory       = errors.New("luasandbox: memory limit exceeded")
	ErrInterrupted  = errors.New("luasandbox: interrupted")
)

// State is one sandboxed Lua state. It is used by one goroutine.
type State struct {
	// L is the underlying state, for the caller's globals and calls.
	L *lua.LState

	meter *meter
}

// New returns a state with Redis's libraries loaded and the bounds of
// limits; interrupted, if not nil, is polled every 1024 instructions and
// stops the script when it returns true. Close releases it.
func New(limits Limits, interrupted func() bool) *State {
	L := lua.NewState(lua.Options{SkipOpenLibs: true, CallStackSize: 256, RegistrySize: 1024, RegistryMaxSize: 1 << 20})
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.StringLibName, lua.OpenString}, {lua.MathLibName, lua.OpenMath}} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	s := &State{L: L, meter: &meter{limits: limits, interrupted: interrupted, seen: map[unsafe.Pointer]struct{}{}}}
	s.meter.L = L
	g := L.G.Global
	for _, name := range []string{"loadfile", "dofile", "print", "_printregs", "_GOPHER_LUA_VERSION"} {
		g.RawSetString(name, lua.LNil)
	}
	g.RawSetString("collectgarbage", L.NewFunction(func(L *lua.LState) int { L.Push(lua.LNumber(0)); return 1 }))
	g.RawSetString("tostring", L.NewFunction(luaToString))
	errorFn := g.RawGetString("error")
	g.RawSetString("error", L.NewFunction(func(L *lua.LState) int {
		// Lua adds the position to a number as to a string.
		if n, ok := L.Get(1).(lua.LNumber); ok {
			L.Replace(1, lua.LString(FormatNumber(float64(n))))
		}
		top := L.GetTop()
		L.Push(errorFn)
		for k := 1; k <= top; k++ {
			L.Push(L.Get(k))
		}
		L.Call(top, 0)
		return 0
	}))
	math := L.GetGlobal("math").(*lua.LTable)
	rng := &lrand48{}
	rng.seed(0)
	math.RawSetString("random", L.NewFunction(rng.random))
	math.RawSetString("randomseed", L.NewFunction(rng.randomseed))
	str := L.GetGlobal("string").(*lua.LTable)
	str.RawSetString("rep", L.NewFunction(s.meter.strRep))
	str.RawSetString("format", wrapFormat(L, str.RawGetString("format").(*lua.LFunction)))
	tab := L.GetGlobal("table").(*lua.LTable)
	tab.RawSetString("concat", L.NewFunction(s.meter.tableConcat))
	g.RawSetString("cjson", openCJSON(L))
	g.RawSetString("bit", openBit(L))
	g.RawSetString("cmsgpack", openCMsgpack(L, s.meter))
	g.RawSetString("struct", openStruct(L, s.meter))
	L.SetContext(s.meter)
	return s
}

// Close releases the state.
func (s *State) Close() { s.L.Close() }

// Protect makes the global table read-only: from now on a script may
// neither create nor read an unknown global.
func (s *State) Protect() {
	L := s.L
	mt := L.NewTable()
	mt.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("Attempt to modify a readonly table")
		return 0
	}))
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("Script attempted to access nonexistent global variable '%s'", L.ToString(2))
		return 0
	}))
	L.SetMetatable(L.G.Global, mt)
}

// Compile compiles src as a chunk called name. The error is the
// compiler's message, "name:line: ...".
func Compile(name, src string) (*lua.FunctionProto, error) {
	key := name + "\x00" + src
	protos.Lock()
	c, ok := protos.m[key]
	protos.Unlock()
	if ok {
		return c.proto, c.err
	}
	c = compiled{}
	if chunk, err := parse.Parse(strings.NewReader(src), name); err != nil {
		c.err = errors.New(compileMessage(name, src, err))
	} else {
		c.proto, c.err = lua.Compile(chunk, name)
	}
	protos.Lock()
	if protos.bytes+len(key) > maxCachedSource {
		// Full: start again rather than track recency; a working set
		// of scripts fills it again at once.
		clear(protos.m)
		protos.bytes = 0
	}
	if len(key) <= maxCachedSource {
		protos.m[key] = c
		protos.bytes += len(key)
	}
	protos.Unlock()
	return c.proto, c.err
}

// compiled is a script's compiled function or its compile error.
type compiled struct {
	proto *lua.FunctionProto
	err   error
}

// maxCachedSource bounds the script source the compile cache holds.
const maxCachedSource = 16 << 20

// protos caches compiled scripts by name and source. A FunctionProto is
// never changed once compiled, so every state (and every goroutine) may
// make functions from the same one; compiling is a pure function of the
// source, so a cached result is what compiling again would give.
var protos = struct {
	sync.Mutex
	m     map[string]compiled
	bytes int
}{m: map[string]compiled{}}

// compileMessage rewrites gopher-lua's parse error in Lua's form,
// "name:line: message near 'token'".
func compileMessage(name, src string, err error) string {
	var pe *parse.Error
	if errors.As(err, &pe) {
		msg := pe.Message
		if pe.Token != "" {
			msg += " near '" + pe.Token + "'"
		}
		line := pe.Pos.Line
		if line < 1 { // at the end of the source
			line = strings.Count(src, "\n") + 1
		}
		return fmt.Sprintf("%s:%d: %s", name, line, msg)
	}
	return name + ": " + err.Error()
}

// Reset starts the counts of the bounds again, with limits: a library's
// functions are loaded under one budget and called under another. The
// strings charged so far stay seen, so they are not charged again.
func (s *State) Reset(limits Limits) {
	s.meter.limits, s.meter.n, s.meter.used, s.meter.tripped = limits, 0, 0, nil
}

// Exceeded returns the bound the last run overran (ErrInstructions,
// ErrMemory, ErrInterrupted), or nil.
func (s *State) Exceeded() error { return s.meter.tripped }

// Instructions returns the instructions run so far.
func (s *State) Instructions() int64 { return s.meter.n }

// Charge counts n bytes the caller made on the script's behalf (a reply
// turned into Lua strings) against the memory bound, and reports whether
// they fit.
func (s *State) Charge(n int64) bool { return s.meter.charge(n) }

// meter is the state's context: gopher-lua asks for Done before every
// instruction, which is where the bounds are counted. Nothing in it
// depends on time or on the node.
type meter struct {
	L           *lua.LState
	limits      Limits
	interrupted func() bool
	n           int64
	used        int64
	seen        map[unsafe.Pointer]struct{}
	kept        []string
	tripped     error
}

var closed = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func (m *meter) Deadline() (time.Time, bool) { return time.Time{}, false }
func (m *meter) Value(any) any               { return nil }

func (m *meter) Err() error {
	if m.tripped != nil {
		return m.tripped
	}
	return context.Canceled
}

func (m *meter) Done() <-chan struct{} {
	if m.tripped != nil {
		return closed
	}
	m.n++
	if m.limits.Instructions > 0 && m.n > m.limits.Instructions {
		m.tripped = ErrInstructions
		return closed
	}
	if m.interrupted != nil && m.n&1023 == 0 && m.interrupted() {
		m.tripped = ErrInterrupted
		return closed
	}
	if m.limits.Memory > 0 {
		m.scan()
		if m.tripped != nil {
			return closed
		}
	}
	return nil
}

// scan charges the strings in the running function's registers that it
// has not seen yet.
func (m *meter) scan() {
	for i := m.L.GetTop(); i > 0; i-- {
		s, ok := m.L.Get(i).(lua.LString)
		if !ok || len(s) < 64 {
			continue
		}
		p := unsafe.Pointer(unsafe.StringData(string(s)))
		if _, ok := m.seen[p]; ok {
			continue
		}
		m.seen[p] = struct{}{}
		m.kept = append(m.kept, string(s))
		if !m.charge(int64(len(s))) {
			return
		}
	}
}

func (m *meter) charge(n int64) bool {
	m.used += n
	if m.limits.Memory > 0 && m.used > m.limits.Memory {
		m.tripped = ErrMemory
		return false
	}
	return true
}

// fits reports whether a string of n bytes may still be made.
func (m *meter) fits(n int64) bool {
	return n >= 0 && (m.limits.Memory == 0 || m.used+n <= m.limits.Memory) && n < 1<<31
}

func (m *meter) strRep(L *lua.LState) int {
	str := L.CheckString(1)
	n := L.CheckInt(2)
	if n <= 0 || len(str) == 0 {
		L.Push(lua.LString(""))
		return 1
	}
	if !m.fits(int64(len(str)) * int64(n)) {
		m.tripped = ErrMemory
		L.RaiseError("resulting string too large")
	}
	L.Push(lua.LString(strings.Repeat(str, n)))
	return 1
}

func (m *meter) tableConcat(L *lua.LState) int {
	tbl := L.CheckTable(1)
	sep := L.OptString(2, "")
	i := L.OptInt(3, 1)
	j := L.OptInt(4, tbl.Len())
	var total int64
	for k := i; k <= j; k++ {
		v := tbl.RawGetInt(k)
		if !lua.LVCanConvToString(v) {
			L.RaiseError("invalid value (at index %d) in table for 'concat'", k)
		}
		total += int64(len(lua.LVAsString(v)) + len(sep))
		if !m.fits(total) {
			m.tripped = ErrMemory
			L.RaiseError("resulting string too large")
		}
	}
	var b strings.Builder
	b.Grow(int(total))
	for k := i; k <= j; k++ {
		b.WriteString(lua.LVAsString(tbl.RawGetInt(k)))
		if k < j {
			b.WriteString(sep)
		}
	}
	L.Push(lua.LString(b.String()))
	return 1
}

// wrapFormat refuses the widths and precisions Lua 5.1 refuses (more
// than two digits), which would otherwise let one call build a huge
// string.
func wrapFormat(L *lua.LState, orig *lua.LFunction) *lua.LFunction {
	return L.NewFunction(func(L *lua.LState) int {
		f := L.CheckString(1)
		for i := 0; i < len(f); i++ {
			if f[i] != '%' {
				continue
			}
			i++
			if i < len(f) && f[i] == '%' {
				continue
			}
			for i < len(f) && strings.IndexByte("-+ #0", f[i]) >= 0 {
				i++
			}
			digits := 0
			for i < len(f) && f[i] >= '0' && f[i] <= '9' {
				i, digits = i+1, digits+1
			}
			if i < len(f) && f[i] == '.' {
				i++
				p := 0
				for i < len(f) && f[i] >= '0' && f[i] <= '9' {
					i, p = i+1, p+1
				}
				digits = max(digits, p)
			}
			if digits > 2 {
				L.RaiseError("invalid format (width or precision too long)")
			}
		}
		top := L.GetTop()
		L.Push(orig)
		for k := 1; k <= top; k++ {
			L.Push(L.Get(k))
		}
		L.Call(top, 1)
		return 1
	})
}

// luaToString is tostring with Lua's number format, %.14g.
func luaToString(L *lua.LState) int {
	v := L.CheckAny(1)
	if n, ok := v.(lua.LNumber); ok {
		L.Push(lua.LString(FormatNumber(float64(n))))
		return 1
	}
	L.Push(lua.LString(L.ToStringMeta(v).String()))
	return 1
}

// FormatNumber formats a Lua number as Lua 5.1 does (%.14g).
func FormatNumber(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	case f == math.Trunc(f) && math.Abs(f) < 1e15:
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	s := strconv.FormatFloat(f, 'g', 14, 64)
	// %g drops trailing zeros of the fraction; Go's 'g' with a
	// precision keeps them.
	mant, exp, hasExp := strings.Cut(s, "e")
	if strings.Contains(mant, ".") {
		mant = strings.TrimRight(strings.TrimRight(mant, "0"), ".")
	}
	if !hasExp {
		return mant
	}
	sign := exp[0]
	digits := strings.TrimLeft(exp[1:], "0")
	for len(digits) < 2 {
		digits = "0" + digits
	}
	return mant + "e" + string(sign) + digits
}

// lrand48 is Redis's math.random: the 48-bit linear congruential
// generator of lrand48, so scripts draw Redis's numbers.
type lrand48 struct{ x uint64 }

const lrandMax = 2147483647

func (r *lrand48) seed(v int32) { r.x = uint64(uint32(v))<<16 | 0x330E }

func (r *lrand48) next() int32 {
	r.x = (0x5DEECE66D*r.x + 0xB) & (1<<48 - 1)
	return int32(r.x >> 17)
}

func (r *lrand48) random(L *lua.LState) int {
	v := float64(r.next()%lrandMax) / lrandMax
	switch L.GetTop() {
	case 0:
		L.Push(lua.LNumber(v))
	case 1:
		u := L.CheckInt(1)
		if u < 1 {
			L.ArgError(1, "interval is empty")
		}
		L.Push(lua.LNumber(math.Floor(v*float64(u)) + 1))
	case 2:
		l, u := L.CheckInt(1), L.CheckInt(2)
		if l > u {
			L.ArgError(2, "interval is empty")
		}
		L.Push(lua.LNumber(math.Floor(v*float64(u-l+1)) + float64(l)))
	default:
		L.RaiseError("wrong number of arguments")
	}
	return 1
}

func (r *lrand48) randomseed(L *lua.LState) int {
	r.seed(int32(L.CheckInt(1)))
	return 0
}
