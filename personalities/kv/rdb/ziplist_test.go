package rdb

import (
	"encoding/binary"
	"fmt"
	"math"
	"testing"
)

// ziplist builds a ziplist of items as Redis 6 does (integers encoded as
// integers), for tests.
func ziplist(items ...string) []byte {
	b := make([]byte, zlHeader)
	prev, last := 0, zlHeader
	for _, it := range items {
		start := len(b)
		if prev < 0xfe {
			b = append(b, byte(prev))
		} else {
			b = binary.LittleEndian.AppendUint32(append(b, 0xfe), uint32(prev))
		}
		if v, ok := parseInt([]byte(it)); ok {
			switch {
			case v >= 0 && v <= 12:
				b = append(b, 0xf1+byte(v))
			case v >= math.MinInt8 && v <= math.MaxInt8:
				b = append(b, 0xfe, byte(v))
			case v >= math16Min && v <= math16Max:
				b = binary.LittleEndian.AppendUint16(append(b, 0xc0), uint16(v))
			case v >= -1<<23 && v < 1<<23:
				b = append(b, 0xf0, byte(v), byte(v>>8), byte(v>>16))
			case v >= math32Min && v <= math32Max:
				b = binary.LittleEndian.AppendUint32(append(b, 0xd0), uint32(v))
			default:
				b = binary.LittleEndian.AppendUint64(append(b, 0xe0), uint64(v))
			}
		} else if len(it) < 64 {
			b = append(append(b, byte(len(it))), it...)
		} else if len(it) < 1<<14 {
			b = append(append(b, 0x40|byte(len(it)>>8), byte(len(it))), it...)
		} else {
			b = append(binary.BigEndian.AppendUint32(append(b, 0x80), uint32(len(it))), it...)
		}
		prev, last = len(b)-start, start
	}
	b = append(b, 0xff)
	binary.LittleEndian.PutUint32(b, uint32(len(b)))
	binary.LittleEndian.PutUint32(b[4:], uint32(last))
	binary.LittleEndian.PutUint16(b[8:], uint16(len(items)))
	return b
}

// oldPayloads are the objects of Redis 6's ziplist encodings (without
// footer), with their values.
var oldPayloads = func() []struct {
	obj string
	v   Value
} {
	long := fmt.Sprintf("%070d", 7)
	items := []string{"a", "12", "-1", "200", "-40000", "5000000", "-3000000000", "x", long}
	obj := func(typ byte, lists ...[]byte) string {
		b := []byte{typ}
		if typ == typeListQuicklist {
			b = appendLen(b, uint64(len(lists)))
		}
		for _, l := range lists {
			b = appendLen(b, uint64(len(l)))
			b = append(b, l...)
		}
		return string(b)
	}
	return []struct {
		obj string
		v   Value
	}{
		{obj(typeListZiplist, ziplist(items...)), Value{Kind: KindList, Items: strs(items...)}},
		{obj(typeListQuicklist, ziplist(items[:4]...), ziplist(), ziplist(items[4:]...)), Value{Kind: KindList, Items: strs(items...)}},
		{obj(typeHashZiplist, ziplist("f1", "v", "f2", "7", "f3", long)), Value{Kind: KindHash, Items: strs("f1", "v", "f2", "7", "f3", long)}},
		{obj(typeZSetZiplist, ziplist("c", "-inf", "a", "1", "b", "2.5")), Value{Kind: KindZSet, Items: strs("c", "a", "b"), Scores: []float64{math.Inf(-1), 1, 2.5}}},
	}
}()

func TestZiplistPayloads(t *testing.T) {
	for _, c := range oldPayloads {
		p := binary.LittleEndian.AppendUint16([]byte(c.obj), 9)
		p = binary.LittleEndian.AppendUint64(p, CRC64(0, p))
		v, err := Load(p)
		if err != nil {
			t.Fatalf("Load(%q): %v", c.obj, err)
		}
		sameValue(t, v, &c.v)
	}
	// A wrong previous length, tail or count is a bad format.
	good := ziplist("a", "b")
	for i := range []int{zlHeader, 4, 8} {
		bad := append([]byte(nil), good...)
		bad[[]int{zlHeader, 4, 8}[i]]++
		if _, ok := ziplistItems(bad); ok {
			t.Errorf("damage at %d accepted", i)
		}
	}
}
