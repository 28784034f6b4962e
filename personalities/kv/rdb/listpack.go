package rdb

import (
	"encoding/binary"
	"strconv"
)

// Listpacks (Redis's listpack.c): total bytes (4, little endian), the
// number of entries (2; 65535: unknown), the entries, then 0xff. An
// entry is its encoding (a small integer, a 13/16/24/32/64-bit integer,
// or a string with a 6/12/32-bit length), its data, and its length
// again backwards (backlen), for reverse iteration.

const lpHeader = 6

// listpackItems returns the entries of the listpack b as strings
// (integers in decimal); it checks the header, every entry's encoding
// and backlen, the count and the end byte. Strings alias b.
func listpackItems(b []byte) ([][]byte, bool) {
	if len(b) < lpHeader+1 || int(binary.LittleEndian.Uint32(b)) != len(b) || b[len(b)-1] != 0xff {
		return nil, false
	}
	declared := int(binary.LittleEndian.Uint16(b[4:]))
	var items [][]byte
	if declared != 65535 {
		if declared > len(b) {
			return nil, false
		}
		items = make([][]byte, 0, declared)
	}
	p := lpHeader
	for p < len(b)-1 {
		item, size, ok := lpEntry(b[p : len(b)-1])
		if !ok {
			return nil, false
		}
		back := lpBacklen(nil, size)
		if p+size+len(back) > len(b)-1 || string(b[p+size:p+size+len(back)]) != string(back) {
			return nil, false
		}
		items = append(items, item)
		p += size + len(back)
	}
	if declared != 65535 && declared != len(items) {
		return nil, false
	}
	return items, true
}

// lpEntry decodes the entry at the start of b: its value and the size of
// its encoding and data.
func lpEntry(b []byte) (item []byte, size int, ok bool) {
	c := b[0]
	intAt := func(n int) ([]byte, int, bool) { return entryInt(b, n) }
	str := func(hdr, n int) ([]byte, int, bool) { return entryString(b, hdr, uint64(n)) }
	switch {
	case c&0x80 == 0:
		return strconv.AppendInt(nil, int64(c), 10), 1, true
	case c&0xc0 == 0x80:
		return str(1, int(c&0x3f))
	case c&0xe0 == 0xc0:
		if len(b) < 2 {
			return nil, 0, false
		}
		v := int64(uint64(c&0x1f)<<8|uint64(b[1])) << 51 >> 51
		return strconv.AppendInt(nil, v, 10), 2, true
	case c&0xf0 == 0xe0:
		if len(b) < 2 {
			return nil, 0, false
		}
		return str(2, int(c&0x0f)<<8|int(b[1]))
	case c == 0xf0:
		if len(b) < 5 {
			return nil, 0, false
		}
		n := binary.LittleEndian.Uint32(b[1:])
		if uint64(n) > uint64(len(b)) {
			return nil, 0, false
		}
		return str(5, int(n))
	case c == 0xf1:
		return intAt(2)
	case c == 0xf2:
		return intAt(3)
	case c == 0xf3:
		return intAt(4)
	case c == 0xf4:
		return intAt(8)
	}
	return nil, 0, false
}

// entryInt reads the n-byte little-endian signed integer after the
// encoding byte of the entry b: its decimal text and the entry's size.
func entryInt(b []byte, n int) ([]byte, int, bool) {
	if len(b) < 1+n {
		return nil, 0, false
	}
	var u uint64
	for i := n - 1; i >= 0; i-- {
		u = u<<8 | uint64(b[1+i])
	}
	v := int64(u<<(64-8*n)) >> (64 - 8*n) // sign-extend
	return strconv.AppendInt(nil, v, 10), 1 + n, true
}

// entryString reads the n bytes after the hdr bytes of encoding of the
// entry b, and the entry's size.
func entryString(b []byte, hdr int, n uint64) ([]byte, int, bool) {
	if uint64(len(b)-hdr) < n {
		return nil, 0, false
	}
	return b[hdr : hdr+int(n)], hdr + int(n), true
}

// lpBacklen appends the backlen of an entry of size bytes.
func lpBacklen(dst []byte, size int) []byte {
	switch l := uint64(size); {
	case l <= 127:
		return append(dst, byte(l))
	case l < 16383:
		return append(dst, byte(l>>7), byte(l&127|128))
	case l < 2097151:
		return append(dst, byte(l>>14), byte(l>>7&127|128), byte(l&127|128))
	case l < 268435455:
		return append(dst, byte(l>>21), byte(l>>14&127|128), byte(l>>7&127|128), byte(l&127|128))
	default:
		return append(dst, byte(l>>28), byte(l>>21&127|128), byte(l>>14&127|128), byte(l>>7&127|128), byte(l&127|128))
	}
}

// lpAppendEntry appends s as a listpack entry, as an integer when it is
// one in canonical form (as lpEncodeGetType decides).
func lpAppendEntry(dst, s []byte) []byte {
	start := len(dst)
	if v, ok := parseInt(s); ok {
		switch {
		case v >= 0 && v <= 127:
			dst = append(dst, byte(v))
		case v >= -4096 && v <= 4095:
			u := uint64(v) & 0x1fff
			dst = append(dst, 0xc0|byte(u>>8), byte(u))
		case v >= math16Min && v <= math16Max:
			dst = binary.LittleEndian.AppendUint16(append(dst, 0xf1), uint16(v))
		case v >= -1<<23 && v < 1<<23:
			dst = append(dst, 0xf2, byte(v), byte(v>>8), byte(v>>16))
		case v >= math32Min && v <= math32Max:
			dst = binary.LittleEndian.AppendUint32(append(dst, 0xf3), uint32(v))
		default:
			dst = binary.LittleEndian.AppendUint64(append(dst, 0xf4), uint64(v))
		}
	} else {
		switch n := len(s); {
		case n < 64:
			dst = append(dst, 0x80|byte(n))
		case n < 4096:
			dst = append(dst, 0xe0|byte(n>>8), byte(n))
		default:
			dst = binary.LittleEndian.AppendUint32(append(dst, 0xf0), uint32(n))
		}
		dst = append(dst, s...)
	}
	return lpBacklen(dst, len(dst)-start)
}

const (
	math16Min, math16Max = -1 << 15, 1<<15 - 1
	math32Min, math32Max = -1 << 31, 1<<31 - 1
)

// listpack returns a listpack of items.
func listpack(items [][]byte) []byte {
	b := make([]byte, lpHeader, lpHeader+1+8*len(items))
	for _, it := range items {
		b = lpAppendEntry(b, it)
	}
	b = append(b, 0xff)
	binary.LittleEndian.PutUint32(b, uint32(len(b)))
	binary.LittleEndian.PutUint16(b[4:], uint16(min(len(items), 65535)))
	return b
}

// parseInt parses s as Redis's string2ll: canonical decimal within
// int64 (no '+', no leading zeros, no "-0").
func parseInt(s []byte) (int64, bool) {
	if len(s) == 0 || len(s) > 20 || (len(s) > 1 && s[0] == '0') || (len(s) > 1 && s[0] == '-' && s[1] == '0') || s[0] == '+' {
		return 0, false
	}
	v, err := strconv.ParseInt(string(s), 10, 64)
	return v, err == nil
}
