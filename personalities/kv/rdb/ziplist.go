package rdb

import (
	"encoding/binary"
	"strconv"
)

// Ziplists (Redis's ziplist.c, the compact encoding before 7.0): total
// bytes (4, little endian), the offset of the last entry (4), the number
// of entries (2; 65535: unknown), the entries, then 0xff. An entry is
// the previous entry's length (1 byte, or 0xfe and 4 bytes), its
// encoding (a string with a 6/14/32-bit length, or an 8/16/24/32/64-bit
// integer, or an immediate 0..12) and its data. Load reads them in the
// payloads of older servers: RDB_TYPE_LIST_ZIPLIST, _ZSET_ZIPLIST,
// _HASH_ZIPLIST and the nodes of RDB_TYPE_LIST_QUICKLIST.

const zlHeader = 10

// ziplistItems returns the entries of the ziplist b as strings (integers
// in decimal); it checks the header, every entry's previous length and
// encoding, the tail offset, the count and the end byte. Strings alias b.
func ziplistItems(b []byte) ([][]byte, bool) {
	if len(b) < zlHeader+1 || int(binary.LittleEndian.Uint32(b)) != len(b) || b[len(b)-1] != 0xff {
		return nil, false
	}
	tail := int(binary.LittleEndian.Uint32(b[4:]))
	declared := int(binary.LittleEndian.Uint16(b[8:]))
	var items [][]byte
	p, prev, last := zlHeader, 0, zlHeader
	for p < len(b)-1 {
		start := p
		var prevLen int
		if b[p] < 0xfe {
			prevLen, p = int(b[p]), p+1
		} else if b[p] == 0xfe && p+5 <= len(b)-1 {
			prevLen, p = int(binary.LittleEndian.Uint32(b[p+1:])), p+5
		} else {
			return nil, false
		}
		if prevLen != prev {
			return nil, false
		}
		item, size, ok := zlEntry(b[p : len(b)-1])
		if !ok {
			return nil, false
		}
		items = append(items, item)
		p += size
		prev, last = p-start, start
	}
	if (declared != 65535 && declared != len(items)) || (len(items) > 0 && tail != last) || (len(items) == 0 && tail != zlHeader) {
		return nil, false
	}
	return items, true
}

// zlEntry decodes the encoding and data at the start of b.
func zlEntry(b []byte) (item []byte, size int, ok bool) {
	if len(b) == 0 {
		return nil, 0, false
	}
	c := b[0]
	str := func(hdr int, n uint64) ([]byte, int, bool) { return entryString(b, hdr, n) }
	integer := func(n int) ([]byte, int, bool) { return entryInt(b, n) }
	switch {
	case c>>6 == 0:
		return str(1, uint64(c&0x3f))
	case c>>6 == 1:
		if len(b) < 2 {
			return nil, 0, false
		}
		return str(2, uint64(c&0x3f)<<8|uint64(b[1]))
	case c == 0x80:
		if len(b) < 5 {
			return nil, 0, false
		}
		return str(5, uint64(binary.BigEndian.Uint32(b[1:])))
	case c == 0xc0:
		return integer(2)
	case c == 0xd0:
		return integer(4)
	case c == 0xe0:
		return integer(8)
	case c == 0xf0:
		return integer(3)
	case c == 0xfe:
		return integer(1)
	case c >= 0xf1 && c <= 0xfd:
		return strconv.AppendInt(nil, int64(c&0x0f)-1, 10), 1, true
	}
	return nil, 0, false
}
