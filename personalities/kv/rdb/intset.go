package rdb

import (
	"encoding/binary"
	"slices"
	"strconv"
)

// Intsets (Redis's intset.c): the width of every element (2, 4 or 8
// bytes, little endian), the number of elements (4), then the elements,
// signed, in ascending order.

// intsetItems returns the members of the intset b in decimal; it checks
// the width, the size and the strict order. An empty intset fails.
func intsetItems(b []byte) ([][]byte, bool) {
	if len(b) < 8 {
		return nil, false
	}
	w := uint64(binary.LittleEndian.Uint32(b))
	n := uint64(binary.LittleEndian.Uint32(b[4:]))
	if (w != 2 && w != 4 && w != 8) || n == 0 || n > uint64(len(b)) || 8+n*w != uint64(len(b)) {
		return nil, false
	}
	items := make([][]byte, 0, n)
	prev := int64(0)
	for i := range n {
		e := b[8+i*w:]
		var v int64
		switch w {
		case 2:
			v = int64(int16(binary.LittleEndian.Uint16(e)))
		case 4:
			v = int64(int32(binary.LittleEndian.Uint32(e)))
		default:
			v = int64(binary.LittleEndian.Uint64(e))
		}
		if i > 0 && v <= prev {
			return nil, false
		}
		prev = v
		items = append(items, strconv.AppendInt(nil, v, 10))
	}
	return items, true
}

// intset returns the intset of vals (distinct).
func intset(vals []int64) []byte {
	slices.Sort(vals)
	w := 2
	for _, v := range vals {
		switch {
		case v < math32Min || v > math32Max:
			w = 8
		case (v < math16Min || v > math16Max) && w < 4:
			w = 4
		}
	}
	b := make([]byte, 0, 8+w*len(vals))
	b = binary.LittleEndian.AppendUint32(b, uint32(w))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(vals)))
	for _, v := range vals {
		switch w {
		case 2:
			b = binary.LittleEndian.AppendUint16(b, uint16(v))
		case 4:
			b = binary.LittleEndian.AppendUint32(b, uint32(v))
		default:
			b = binary.LittleEndian.AppendUint64(b, uint64(v))
		}
	}
	return b
}
