package luasandbox

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// struct: Roberto Ierusalimschy's struct 0.2 as Redis 7.0 builds it on
// x86-64: pack, unpack and size with the formats > < ![n] x b B h H l L
// T i[n] I[n] c[n] s f d and ' '; integers of up to 32 bytes, carried in
// 64 bits; alignment up to 8 by default. What pack builds is bounded by
// its arguments (a 'c' takes at most its string, padding is less than 32
// bytes per option) and charged to the memory budget.

const (
	structMaxIntSize = 32
	structMaxAlign   = 8
)

func openStruct(L *lua.LState, m *meter) *lua.LTable {
	t := L.NewTable()
	t.RawSetString("pack", L.NewFunction(m.structPack))
	t.RawSetString("unpack", L.NewFunction(structUnpack))
	t.RawSetString("size", L.NewFunction(structSize))
	return t
}

// structFormat walks a format string.
type structFormat struct {
	L      *lua.LState
	fn     string // the calling function, for argument errors
	f      string
	little bool
	align  int
}

func newStructFormat(L *lua.LState, fn string) *structFormat {
	return &structFormat{L: L, fn: fn, f: L.CheckString(1), little: true, align: 1}
}

// num reads the digits at the format's head, or returns df.
func (sf *structFormat) num(df int) int {
	if sf.f == "" || sf.f[0] < '0' || sf.f[0] > '9' {
		return df
	}
	a := 0
	for sf.f != "" && sf.f[0] >= '0' && sf.f[0] <= '9' {
		d := int(sf.f[0] - '0')
		if a > math.MaxInt32/10 || a*10 > math.MaxInt32-d {
			sf.L.RaiseError("integral size overflow")
		}
		a = a*10 + d
		sf.f = sf.f[1:]
	}
	return a
}

// next returns the next option and its size; ok is false at the end.
func (sf *structFormat) next() (opt byte, size int, ok bool) {
	if sf.f == "" {
		return 0, 0, false
	}
	opt, sf.f = sf.f[0], sf.f[1:]
	switch opt {
	case 'b', 'B', 'x':
		return opt, 1, true
	case 'h', 'H':
		return opt, 2, true
	case 'l', 'L', 'T', 'd':
		return opt, 8, true
	case 'f':
		return opt, 4, true
	case 'c':
		return opt, sf.num(1), true
	case 's', ' ', '<', '>':
		return opt, 0, true
	case '!':
		a := sf.num(structMaxAlign)
		if a <= 0 || a&(a-1) != 0 {
			sf.L.RaiseError("alignment %d is not a power of 2", a)
		}
		sf.align = a
		return opt, 0, true
	case 'i', 'I':
		n := sf.num(4)
		if n > structMaxIntSize {
			sf.L.RaiseError("integral size %d is larger than limit of %d", n, structMaxIntSize)
		}
		return opt, n, true
	}
	if sf.fn == "size" {
		return opt, 0, true // size counts an unknown option as nothing, as Redis's does
	}
	sf.L.RaiseError("bad argument #1 to '%s' (invalid format option '%c')", sf.fn, opt)
	return 0, 0, false
}

// endian applies the byte order options.
func (sf *structFormat) endian(opt byte) {
	switch opt {
	case '<':
		sf.little = true
	case '>':
		sf.little = false
	}
}

// toAlign is the padding before an option of size at offset at.
func (sf *structFormat) toAlign(at, opt, size int) int {
	if size == 0 || opt == 'c' {
		return 0
	}
	size = min(size, sf.align)
	return (size - at&(size-1)) & (size - 1)
}

func isIntOption(opt byte) bool { return strings.IndexByte("bBhHlLTiI", opt) >= 0 }

func (m *meter) structPack(L *lua.LState) int {
	sf := newStructFormat(L, "pack")
	arg := 2
	var out []byte
	put := func(b ...byte) {
		if !m.fits(int64(len(out) + len(b))) {
			m.tripped = ErrMemory
			L.RaiseError("resulting string too large")
		}
		out = append(out, b...)
	}
	for {
		opt, size, ok := sf.next()
		if !ok {
			break
		}
		put(make([]byte, sf.toAlign(len(out), int(opt), size))...)
		switch {
		case isIntOption(opt):
			n := float64(L.CheckNumber(arg))
			arg++
			var v uint64
			if n < 0 {
				v = uint64(int64(n))
			} else {
				v = uint64(n)
			}
			b := make([]byte, size)
			for i := range size {
				at := i
				if !sf.little {
					at = size - 1 - i
				}
				b[at] = byte(v)
				v >>= 8
			}
			put(b...)
		case opt == 'x':
			put(0)
		case opt == 'f':
			bits := math.Float32bits(float32(L.CheckNumber(arg)))
			arg++
			put(sf.order32(bits)...)
		case opt == 'd':
			bits := math.Float64bits(float64(L.CheckNumber(arg)))
			arg++
			put(sf.order64(bits)...)
		case opt == 'c' || opt == 's':
			s := L.CheckString(arg)
			arg++
			if size == 0 {
				size = len(s)
			}
			if len(s) < size {
				L.RaiseError("bad argument #%d to 'pack' (string too short)", arg)
			}
			put([]byte(s[:size])...)
			if opt == 's' {
				put(0)
			}
		default:
			sf.endian(opt)
		}
	}
	L.Push(lua.LString(out))
	return 1
}

func (sf *structFormat) order32(v uint32) []byte {
	if sf.little {
		return binary.LittleEndian.AppendUint32(nil, v)
	}
	return binary.BigEndian.AppendUint32(nil, v)
}

func (sf *structFormat) order64(v uint64) []byte {
	if sf.little {
		return binary.LittleEndian.AppendUint64(nil, v)
	}
	return binary.BigEndian.AppendUint64(nil, v)
}

func structUnpack(L *lua.LState) int {
	sf := newStructFormat(L, "unpack")
	data := L.CheckString(2)
	// The offset is a size_t in C: a negative one is a huge one.
	start := uint64(L.OptInt64(3, 1))
	if start == 0 {
		L.RaiseError("bad argument #3 to 'unpack' (offset must be 1 or greater)")
	}
	pos := start - 1
	ld := uint64(len(data))
	var out []lua.LValue
	short := func(size uint64) {
		if size > ld || pos > ld-size {
			L.RaiseError("bad argument #2 to 'unpack' (data string too short)")
		}
	}
	for {
		opt, isize, ok := sf.next()
		if !ok {
			break
		}
		size := uint64(isize)
		pos += uint64(sf.toAlign(int(pos&math.MaxInt64), int(opt), isize))
		short(size)
		if len(out) >= msgpackMaxResults {
			L.RaiseError("stack overflow (too many results)")
		}
		b := data[min(pos, ld):]
		switch {
		case isIntOption(opt):
			var v uint64
			for i := range isize {
				at := isize - 1 - i
				if !sf.little {
					at = i
				}
				v = v<<8 | uint64(b[at])
			}
			if opt >= 'a' && opt <= 'z' && isize > 0 && isize <= 8 {
				if shift := 64 - 8*isize; shift > 0 {
					v = uint64(int64(v<<shift) >> shift)
				}
				out = append(out, lua.LNumber(float64(int64(v))))
			} else {
				out = append(out, lua.LNumber(float64(v)))
			}
		case opt == 'f':
			bits := binary.LittleEndian.Uint32([]byte(b[:4]))
			if !sf.little {
				bits = binary.BigEndian.Uint32([]byte(b[:4]))
			}
			out = append(out, lua.LNumber(math.Float32frombits(bits)))
		case opt == 'd':
			bits := binary.LittleEndian.Uint64([]byte(b[:8]))
			if !sf.little {
				bits = binary.BigEndian.Uint64([]byte(b[:8]))
			}
			out = append(out, lua.LNumber(math.Float64frombits(bits)))
		case opt == 'c':
			if size == 0 {
				f, isNum := 0.0, false
				if len(out) > 0 {
					switch n := out[len(out)-1].(type) {
					case lua.LNumber:
						f, isNum = float64(n), true
					case lua.LString:
						v, err := strconv.ParseFloat(strings.TrimSpace(string(n)), 64)
						f, isNum = v, err == nil
					}
				}
				if !isNum {
					L.RaiseError("format 'c0' needs a previous size")
				}
				out = out[:len(out)-1]
				if f < 0 || f >= 1<<63 {
					size = math.MaxUint64
				} else {
					size = uint64(f)
				}
				short(size)
			}
			out = append(out, lua.LString(data[pos:pos+size]))
		case opt == 's':
			e := strings.IndexByte(data[pos:], 0)
			if e < 0 {
				L.RaiseError("unfinished string in data")
			}
			size = uint64(e) + 1
			out = append(out, lua.LString(data[pos:pos+uint64(e)]))
		default:
			sf.endian(opt)
		}
		pos += size
	}
	for _, v := range out {
		L.Push(v)
	}
	L.Push(lua.LNumber(pos + 1))
	return len(out) + 1
}

func structSize(L *lua.LState) int {
	sf := newStructFormat(L, "size")
	pos := 0
	for {
		opt, size, ok := sf.next()
		if !ok {
			break
		}
		pos += sf.toAlign(pos, int(opt), size)
		switch {
		case opt == 's':
			L.RaiseError("bad argument #1 to 'size' (option 's' has no fixed size)")
		case opt == 'c' && size == 0:
			L.RaiseError("bad argument #1 to 'size' (option 'c0' has no fixed size)")
		}
		sf.endian(opt)
		pos += size
	}
	L.Push(lua.LNumber(pos))
	return 1
}
