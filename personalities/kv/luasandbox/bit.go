package luasandbox

import (
	"math"
	"math/bits"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// bit: LuaBitOp 1.0, the bit library Redis loads. Numbers are taken
// modulo 2^32 and answered as signed 32-bit integers.

func openBit(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	un := func(f func(uint32) uint32) lua.LGFunction {
		return func(L *lua.LState) int {
			L.Push(lua.LNumber(int32(f(tobit(L, 1)))))
			return 1
		}
	}
	fold := func(f func(a, b uint32) uint32) lua.LGFunction {
		return func(L *lua.LState) int {
			v := tobit(L, 1)
			for i := 2; i <= L.GetTop(); i++ {
				v = f(v, tobit(L, i))
			}
			L.Push(lua.LNumber(int32(v)))
			return 1
		}
	}
	shift := func(f func(v uint32, n uint) uint32) lua.LGFunction {
		return func(L *lua.LState) int {
			v, n := tobit(L, 1), uint(tobit(L, 2)&31)
			L.Push(lua.LNumber(int32(f(v, n))))
			return 1
		}
	}
	t.RawSetString("tobit", L.NewFunction(un(func(v uint32) uint32 { return v })))
	t.RawSetString("bnot", L.NewFunction(un(func(v uint32) uint32 { return ^v })))
	t.RawSetString("bswap", L.NewFunction(un(bits.ReverseBytes32)))
	t.RawSetString("band", L.NewFunction(fold(func(a, b uint32) uint32 { return a & b })))
	t.RawSetString("bor", L.NewFunction(fold(func(a, b uint32) uint32 { return a | b })))
	t.RawSetString("bxor", L.NewFunction(fold(func(a, b uint32) uint32 { return a ^ b })))
	t.RawSetString("lshift", L.NewFunction(shift(func(v uint32, n uint) uint32 { return v << n })))
	t.RawSetString("rshift", L.NewFunction(shift(func(v uint32, n uint) uint32 { return v >> n })))
	t.RawSetString("arshift", L.NewFunction(shift(func(v uint32, n uint) uint32 { return uint32(int32(v) >> n) })))
	t.RawSetString("rol", L.NewFunction(shift(func(v uint32, n uint) uint32 { return bits.RotateLeft32(v, int(n)) })))
	t.RawSetString("ror", L.NewFunction(shift(func(v uint32, n uint) uint32 { return bits.RotateLeft32(v, -int(n)) })))
	t.RawSetString("tohex", L.NewFunction(func(L *lua.LState) int {
		v := tobit(L, 1)
		n := int32(8)
		if L.GetTop() >= 2 {
			n = int32(tobit(L, 2))
		}
		digits := "0123456789abcdef"
		if n < 0 {
			n, digits = -n, "0123456789ABCDEF"
		}
		n = min(n, 8)
		var b strings.Builder
		for i := n - 1; i >= 0; i-- {
			b.WriteByte(digits[(v>>(4*uint(i)))&15])
		}
		L.Push(lua.LString(b.String()))
		return 1
	}))
	return t
}

// tobit normalizes argument i as LuaBitOp does: the number modulo 2^32.
func tobit(L *lua.LState, i int) uint32 {
	f := float64(L.CheckNumber(i))
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	// LuaBitOp adds 2^52+2^51 and keeps the low 32 bits, which rounds
	// to the nearest integer, ties to even.
	f = math.RoundToEven(f)
	return uint32(int64(math.Mod(f, 1<<32)))
}
