package rdb

import (
	"encoding/binary"
	"math"
	"strconv"
)

// Redis 7.0's default thresholds for the compact encodings.
const (
	// ListpackNodeBytes is list-max-listpack-size -2: a quicklist node's
	// listpack holds at most 8 KiB.
	ListpackNodeBytes = 8192
	// MaxIntsetEntries is set-max-intset-entries.
	MaxIntsetEntries = 512
	// MaxHashListpackEntries is hash-max-listpack-entries.
	MaxHashListpackEntries = 512
	// MaxZSetListpackEntries is zset-max-listpack-entries.
	MaxZSetListpackEntries = 128
	// MaxListpackValue is hash- and zset-max-listpack-value.
	MaxListpackValue = 64
)

// Dump returns the DUMP payload of v: its object type and encoding, the
// RDB version and the CRC64. The payload does not alias v.
//
// REQUIRES: v is not empty; a set's members, a hash's fields and a
// sorted set's members are distinct.
func Dump(v *Value) []byte {
	var b []byte
	switch v.Kind {
	case KindString:
		b = appendString(append(b, typeString), v.Str)
	case KindList:
		b = append(b, typeListQuicklist2)
		b = appendQuicklist(b, v.Items)
	case KindSet:
		if ints, ok := allInts(v.Items); ok && len(ints) <= MaxIntsetEntries {
			b = appendString(append(b, typeSetIntset), intset(ints))
			break
		}
		b = appendLen(append(b, typeSet), uint64(len(v.Items)))
		for _, m := range v.Items {
			b = appendString(b, m)
		}
	case KindHash:
		if len(v.Items)/2 <= MaxHashListpackEntries && allShort(v.Items) {
			b = appendString(append(b, typeHashListpack), listpack(v.Items))
			break
		}
		b = appendLen(append(b, typeHash), uint64(len(v.Items)/2))
		for _, s := range v.Items {
			b = appendString(b, s)
		}
	case KindZSet:
		if len(v.Items) <= MaxZSetListpackEntries && allShort(v.Items) {
			pairs := make([][]byte, 0, 2*len(v.Items))
			for i, m := range v.Items {
				pairs = append(pairs, m, formatScore(v.Scores[i]))
			}
			b = appendString(append(b, typeZSetListpack), listpack(pairs))
			break
		}
		// Redis writes the members from the greatest score down.
		b = appendLen(append(b, typeZSet2), uint64(len(v.Items)))
		for i := len(v.Items) - 1; i >= 0; i-- {
			b = appendString(b, v.Items[i])
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v.Scores[i]))
		}
	}
	b = binary.LittleEndian.AppendUint16(b, Version)
	return binary.LittleEndian.AppendUint64(b, CRC64(0, b))
}

// appendLen appends an RDB length.
func appendLen(b []byte, n uint64) []byte {
	switch {
	case n < 1<<6:
		return append(b, byte(n))
	case n < 1<<14:
		return append(b, 0x40|byte(n>>8), byte(n))
	case n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, 0x80), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, 0x81), n)
}

// appendString appends s as rdbSaveRawString does: an integer encoding
// for a short canonical integer that fits 32 bits, LZF for a string over
// 20 bytes that compresses by at least 4, else its length and bytes.
func appendString(b, s []byte) []byte {
	if len(s) <= 11 {
		if v, ok := parseInt(s); ok {
			switch {
			case v >= math.MinInt8 && v <= math.MaxInt8:
				return append(b, 0xc0, byte(v))
			case v >= math16Min && v <= math16Max:
				return binary.LittleEndian.AppendUint16(append(b, 0xc1), uint16(v))
			case v >= math32Min && v <= math32Max:
				return binary.LittleEndian.AppendUint32(append(b, 0xc2), uint32(v))
			}
		}
	}
	if len(s) > 20 {
		if c := lzfCompress(s, len(s)-4); c != nil {
			b = appendLen(append(b, 0xc3), uint64(len(c)))
			b = appendLen(b, uint64(len(s)))
			return append(b, c...)
		}
	}
	return append(appendLen(b, uint64(len(s))), s...)
}

// appendQuicklist appends a quicklist of packed nodes whose listpacks
// hold at most ListpackNodeBytes (an item larger than that is a node of
// its own).
func appendQuicklist(b []byte, items [][]byte) []byte {
	var nodes [][][]byte
	size := 0
	for _, it := range items {
		cost := len(it) + 11 // the entry's header and backlen, at most
		if len(nodes) == 0 || size+cost > ListpackNodeBytes {
			nodes = append(nodes, nil)
			size = lpHeader + 1
		}
		last := &nodes[len(nodes)-1]
		*last = append(*last, it)
		size += cost
	}
	b = appendLen(b, uint64(len(nodes)))
	for _, n := range nodes {
		b = appendLen(b, quicklistNodePacked)
		b = appendString(b, listpack(n))
	}
	return b
}

func allInts(items [][]byte) ([]int64, bool) {
	out := make([]int64, 0, len(items))
	for _, s := range items {
		v, ok := parseInt(s)
		if !ok {
			return nil, false
		}
		out = append(out, v)
	}
	return out, true
}

func allShort(items [][]byte) bool {
	for _, s := range items {
		if len(s) > MaxListpackValue {
			return false
		}
	}
	return true
}

// formatScore formats a score as Redis's d2string: an integer when it is
// one (and fits), else %.17g; "inf", "-inf".
func formatScore(f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return []byte("inf")
	case math.IsInf(f, -1):
		return []byte("-inf")
	case f == 0 && math.Signbit(f):
		return []byte("-0")
	case f == math.Trunc(f) && math.Abs(f) < 1<<53:
		return strconv.AppendInt(nil, int64(f), 10)
	}
	return strconv.AppendFloat(nil, f, 'g', 17, 64)
}
