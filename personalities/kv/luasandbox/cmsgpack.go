package luasandbox

import (
	"encoding/binary"
	"math"

	lua "github.com/yuin/gopher-lua"
)

// cmsgpack: lua-cmsgpack 0.4.0 as Redis 7.0 builds it for Lua 5.1:
// pack (any number of values, one after the other), unpack, unpack_one
// and unpack_limit. Numbers that are whole and fit 64 bits pack as the
// smallest integer, others as a float when a float holds them exactly,
// else a double; a table whose keys are exactly 1..n packs as an array,
// any other as a map; tables nested deeper than 16 levels pack as nil,
// other types as nil. Unpacked integers are Lua numbers (uint 64 read as
// int 64, as Redis's Lua does).
//
// Bounds: what pack builds is charged to the memory budget as it grows;
// unpack makes no more values than the input has bytes, and nests at
// most msgpackMaxDepth levels.

const (
	msgpackMaxNesting = 16
	msgpackMaxDepth   = 4000
	msgpackMaxResults = 8000 // Lua 5.1's C stack, LUAI_MAXCSTACK
	msgpackVersion    = "lua-cmsgpack 0.4.0"
	errTooManyValues  = "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)"
)

func openCMsgpack(L *lua.LState, m *meter) *lua.LTable {
	t := L.NewTable()
	t.RawSetString("pack", L.NewFunction(m.msgpackPack))
	t.RawSetString("unpack", L.NewFunction(func(L *lua.LState) int { return msgpackUnpack(L, 0, 0) }))
	t.RawSetString("unpack_one", L.NewFunction(func(L *lua.LState) int {
		offset := L.OptInt64(2, 0)
		L.SetTop(1)
		return msgpackUnpack(L, 1, offset)
	}))
	t.RawSetString("unpack_limit", L.NewFunction(func(L *lua.LState) int {
		limit := L.CheckInt64(2)
		offset := L.OptInt64(3, 0)
		L.SetTop(1)
		return msgpackUnpack(L, limit, offset)
	}))
	t.RawSetString("_NAME", lua.LString("cmsgpack"))
	t.RawSetString("_VERSION", lua.LString(msgpackVersion))
	t.RawSetString("_COPYRIGHT", lua.LString("Copyright (C) 2012, Salvatore Sanfilippo"))
	t.RawSetString("_DESCRIPTION", lua.LString("MessagePack C implementation for Lua"))
	return t
}

// msgpackEncoder builds pack's output, charging it to the meter.
type msgpackEncoder struct {
	L   *lua.LState
	m   *meter
	out []byte
}

func (e *msgpackEncoder) put(b ...byte) {
	if !e.m.fits(int64(len(e.out) + len(b))) {
		e.m.tripped = ErrMemory
		e.L.RaiseError("resulting string too large")
	}
	e.out = append(e.out, b...)
}

func (m *meter) msgpackPack(L *lua.LState) int {
	n := L.GetTop()
	if n == 0 {
		L.RaiseError("bad argument #0 to 'pack' (MessagePack pack needs input.)")
	}
	e := &msgpackEncoder{L: L, m: m}
	for i := 1; i <= n; i++ {
		e.value(L.Get(i), 0)
	}
	L.Push(lua.LString(e.out))
	return 1
}

func (e *msgpackEncoder) value(v lua.LValue, level int) {
	switch v := v.(type) {
	case lua.LString:
		e.bytes(string(v))
	case lua.LBool:
		if v {
			e.put(0xc3)
		} else {
			e.put(0xc2)
		}
	case lua.LNumber:
		e.number(float64(v))
	case *lua.LTable:
		if level == msgpackMaxNesting {
			e.put(0xc0)
			return
		}
		e.table(v, level)
	default:
		e.put(0xc0)
	}
}

func (e *msgpackEncoder) bytes(s string) {
	n := len(s)
	switch {
	case n < 32:
		e.put(0xa0 | byte(n))
	case n <= 0xff:
		e.put(0xd9, byte(n))
	case n <= 0xffff:
		e.put(0xda, byte(n>>8), byte(n))
	default:
		e.put(0xdb, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	e.put([]byte(s)...)
}

func (e *msgpackEncoder) number(f float64) {
	if !math.IsInf(f, 0) && f >= -(1<<63) && f < 1<<63 && float64(int64(f)) == f {
		e.int(int64(f))
		return
	}
	if f32 := float32(f); float64(f32) == f {
		e.put(binary.BigEndian.AppendUint32([]byte{0xca}, math.Float32bits(f32))...)
		return
	}
	e.put(binary.BigEndian.AppendUint64([]byte{0xcb}, math.Float64bits(f))...)
}

func (e *msgpackEncoder) int(n int64) {
	switch {
	case n >= 0 && n <= 127:
		e.put(byte(n))
	case n >= 0 && n <= 0xff:
		e.put(0xcc, byte(n))
	case n >= 0 && n <= 0xffff:
		e.put(0xcd, byte(n>>8), byte(n))
	case n >= 0 && n <= 0xffffffff:
		e.put(binary.BigEndian.AppendUint32([]byte{0xce}, uint32(n))...)
	case n >= 0:
		e.put(binary.BigEndian.AppendUint64([]byte{0xcf}, uint64(n))...)
	case n >= -32:
		e.put(byte(n))
	case n >= -128:
		e.put(0xd0, byte(n))
	case n >= -32768:
		e.put(0xd1, byte(n>>8), byte(n))
	case n >= -2147483648:
		e.put(binary.BigEndian.AppendUint32([]byte{0xd2}, uint32(n))...)
	default:
		e.put(binary.BigEndian.AppendUint64([]byte{0xd3}, uint64(n))...)
	}
}

// header appends an array's or map's header: fix, 16 or 32 bits.
func (e *msgpackEncoder) header(fix, b16 byte, n int) {
	switch {
	case n <= 15:
		e.put(fix | byte(n))
	case n <= 0xffff:
		e.put(b16, byte(n>>8), byte(n))
	default:
		e.put(b16+1, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
}

func (e *msgpackEncoder) table(t *lua.LTable, level int) {
	count, maxKey, array := 0, 0, true
	t.ForEach(func(k, _ lua.LValue) {
		count++
		n, ok := k.(lua.LNumber)
		if !ok || n <= 0 || float64(n) != math.Trunc(float64(n)) || n > math.MaxInt32 {
			array = false
			return
		}
		maxKey = max(maxKey, int(n))
	})
	if array && maxKey == count {
		e.header(0x90, 0xdc, count)
		for i := 1; i <= count; i++ {
			e.value(t.RawGetInt(i), level+1)
		}
		return
	}
	e.header(0x80, 0xde, count)
	t.ForEach(func(k, v lua.LValue) {
		e.value(k, level+1)
		e.value(v, level+1)
	})
}

// msgpackUnpack is unpack_limit(s, limit, offset); limit and offset 0
// unpack every value and do not return the offset.
func msgpackUnpack(L *lua.LState, limit, offset int64) int {
	s := L.CheckString(1)
	all := limit == 0 && offset == 0
	switch {
	case offset < 0 || limit < 0:
		L.RaiseError("Invalid request to unpack with offset of %d and limit of %d.", int32(offset), int32(len(s)))
	case offset > int64(len(s)):
		L.RaiseError("Start offset %d greater than input length %d.", int32(offset), int32(len(s)))
	}
	if all {
		limit = math.MaxInt32
	}
	d := &msgpackDecoder{L: L, s: s, at: int(offset)}
	var out []lua.LValue
	for n := int64(0); d.at < len(s) && n < limit; n++ {
		if len(out) >= msgpackMaxResults {
			L.RaiseError(errTooManyValues)
		}
		out = append(out, d.value(0))
	}
	if !all {
		next := lua.LNumber(d.at)
		if d.at == len(s) {
			next = -1
		}
		L.Push(next)
	}
	for _, v := range out {
		L.Push(v)
	}
	if all {
		return len(out)
	}
	return len(out) + 1
}

// msgpackDecoder reads values from s at at; strings it returns share
// s's memory.
type msgpackDecoder struct {
	L  *lua.LState
	s  string
	at int
}

// need fails unless n more bytes are left.
func (d *msgpackDecoder) need(n uint64) {
	if uint64(len(d.s)-d.at) < n {
		d.L.RaiseError("Missing bytes in input.")
	}
}

func (d *msgpackDecoder) uint(off, size int) uint64 {
	d.need(uint64(off + size))
	var v uint64
	for i := range size {
		v = v<<8 | uint64(d.s[d.at+off+i])
	}
	return v
}

func (d *msgpackDecoder) str(hdr, size int) lua.LValue {
	n := d.uint(hdr-size, size)
	if size == 0 {
		n = uint64(d.s[d.at] & 0x1f)
	}
	d.need(uint64(hdr) + n)
	v := lua.LString(d.s[d.at+hdr : d.at+hdr+int(n)])
	d.at += hdr + int(n)
	return v
}

func (d *msgpackDecoder) num(v float64, size int) lua.LValue {
	d.at += size
	return lua.LNumber(v)
}

func (d *msgpackDecoder) value(depth int) lua.LValue {
	if depth > msgpackMaxDepth {
		d.L.RaiseError(errTooManyValues)
	}
	d.need(1)
	b := d.s[d.at]
	switch b {
	case 0xcc:
		return d.num(float64(d.uint(1, 1)), 2)
	case 0xd0:
		return d.num(float64(int8(d.uint(1, 1))), 2)
	case 0xcd:
		return d.num(float64(d.uint(1, 2)), 3)
	case 0xd1:
		return d.num(float64(int16(d.uint(1, 2))), 3)
	case 0xce:
		return d.num(float64(d.uint(1, 4)), 5)
	case 0xd2:
		return d.num(float64(int32(d.uint(1, 4))), 5)
	case 0xcf, 0xd3:
		return d.num(float64(int64(d.uint(1, 8))), 9)
	case 0xc0:
		d.at++
		return lua.LNil
	case 0xc3, 0xc2:
		d.at++
		return lua.LBool(b == 0xc3)
	case 0xca:
		return d.num(float64(math.Float32frombits(uint32(d.uint(1, 4)))), 5)
	case 0xcb:
		return d.num(math.Float64frombits(d.uint(1, 8)), 9)
	case 0xd9:
		return d.str(2, 1)
	case 0xda:
		return d.str(3, 2)
	case 0xdb:
		return d.str(5, 4)
	case 0xdc:
		return d.collection(int(d.uint(1, 2)), 3, false, depth)
	case 0xdd:
		return d.collection(int(d.uint(1, 4)), 5, false, depth)
	case 0xde:
		return d.collection(int(d.uint(1, 2)), 3, true, depth)
	case 0xdf:
		return d.collection(int(d.uint(1, 4)), 5, true, depth)
	}
	switch {
	case b&0x80 == 0:
		return d.num(float64(b), 1)
	case b&0xe0 == 0xe0:
		return d.num(float64(int8(b)), 1)
	case b&0xe0 == 0xa0:
		return d.str(1, 0)
	case b&0xf0 == 0x90:
		return d.collection(int(b&0xf), 1, false, depth)
	case b&0xf0 == 0x80:
		return d.collection(int(b&0xf), 1, true, depth)
	}
	d.L.RaiseError("Bad data format in input.")
	return lua.LNil
}

// collection reads n elements (pairs for a map) after a header of hdr
// bytes. Each element takes at least a byte and the table grows only as
// they are read, so a claimed length beyond the input fails with missing
// bytes having allocated no more than the input.
func (d *msgpackDecoder) collection(n, hdr int, isMap bool, depth int) lua.LValue {
	d.at += hdr
	t := d.L.NewTable()
	for i := 1; i <= n; i++ {
		if !isMap {
			t.RawSetInt(i, d.value(depth+1))
			continue
		}
		k := d.value(depth + 1)
		v := d.value(depth + 1)
		switch k := k.(type) {
		case *lua.LNilType:
			d.L.RaiseError("table index is nil")
		case lua.LNumber:
			if math.IsNaN(float64(k)) {
				d.L.RaiseError("table index is NaN")
			}
		}
		t.RawSet(k, v)
	}
	return t
}
