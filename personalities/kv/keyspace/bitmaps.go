package keyspace

import (
	"bytes"
	"encoding/binary"
	"math/bits"
)

// Bitmaps are strings: SETBIT, BITOP and BITFIELD (bitfield.go) change a
// string value in place or build one, GETBIT, BITCOUNT, BITPOS and
// BITFIELD_RO read one. Bit 0 is the most significant bit of byte 0, as
// in Redis. A write that reaches past the end grows the string with zero
// bytes; a bit offset is refused at maxString bytes, so a bitmap is at
// most 512 MiB (a BITFIELD field that starts below the limit may end up
// to 8 bytes past it, as in Redis).
func init() {
	register(&Command{Spec: Spec{Name: "setbit", Arity: 4, FirstKey: 1, LastKey: 1, Step: 1, Flags: []string{"write", "denyoom"}}, Kind: KindWrite, check: checkSetbit, exec: execSetbit})
	register(&Command{Spec: Spec{Name: "getbit", Arity: 3, FirstKey: 1, LastKey: 1, Step: 1, Flags: []string{"readonly", "fast"}}, Kind: KindRead, exec: execGetbit})
	register(&Command{Spec: Spec{Name: "bitcount", Arity: -2, FirstKey: 1, LastKey: 1, Step: 1, Flags: []string{"readonly"}}, Kind: KindRead, exec: execBitcount})
	register(&Command{Spec: Spec{Name: "bitpos", Arity: -3, FirstKey: 1, LastKey: 1, Step: 1, Flags: []string{"readonly"}}, Kind: KindRead, exec: execBitpos})
	register(&Command{Spec: Spec{Name: "bitop", Arity: -4, FirstKey: 2, LastKey: -1, Step: 1, Flags: []string{"write", "denyoom"}}, Kind: KindWrite, check: checkBitop, exec: execBitop})
}

var (
	errBitOffset = Error("ERR bit offset is not an integer or out of range")
	errBitValue  = Error("ERR bit is not an integer or out of range")
	errBitArg    = Error("ERR The bit argument must be 1 or 0.")
	errBitopNot  = Error("ERR BITOP NOT must be called with a single source key.")
)

// parseBitOffset reads a bit offset as Redis's getBitOffsetFromArgument
// does: an integer from 0 to below maxString bytes. With width > 0 an
// offset "#n" means n*width (wrapping on overflow, as Redis's C does).
func parseBitOffset(arg []byte, width int64) (uint64, error) {
	hash := width > 0 && len(arg) > 0 && arg[0] == '#'
	if hash {
		arg = arg[1:]
	}
	off, ok := ParseInt(arg)
	if !ok {
		return 0, errBitOffset
	}
	if hash {
		off *= width
	}
	if off < 0 || off>>3 >= maxString {
		return 0, errBitOffset
	}
	return uint64(off), nil
}

// parseBitValue reads SETBIT's value, 0 or 1.
func parseBitValue(arg []byte) (byte, error) {
	v, ok := ParseInt(arg)
	if !ok || v&^1 != 0 {
		return 0, errBitValue
	}
	return byte(v), nil
}

func checkSetbit(args [][]byte) error {
	if _, err := parseBitOffset(args[2], 0); err != nil {
		return err
	}
	_, err := parseBitValue(args[3])
	return err
}

// growTo returns v if it is at least n bytes long, else a copy of v
// zero padded to n bytes. SETBIT and BITFIELD change the value a lookup
// returned in place: it is the command's own copy (Reader.Get returns a
// copy, and raw clones a remembered record), and the write that follows
// forgets the remembered one. Sparing the copy matters for a bitmap of
// hundreds of megabytes.
func growTo(v []byte, n uint64) []byte {
	if uint64(len(v)) >= n {
		return v
	}
	out := make([]byte, n)
	copy(out, v)
	return out
}

// storeString writes v as the value of key, keeping rec's expiry if the
// key exists (SETBIT and BITFIELD change a string in place).
func (ks *Keyspace) storeString(key []byte, rec record, exists bool, v []byte) error {
	if !exists {
		return ks.putString(key, v, 0)
	}
	rec.payload = v
	return ks.update(key, rec)
}

func execSetbit(ks *Keyspace, args [][]byte) (any, error) {
	off, err := parseBitOffset(args[2], 0)
	if err != nil {
		return nil, err
	}
	on, err := parseBitValue(args[3])
	if err != nil {
		return nil, err
	}
	rec, exists, err := ks.lookupString(args[1])
	if err != nil {
		return nil, err
	}
	v := growTo(rec.payload, off>>3+1)
	shift := 7 - off&7
	old := int64(v[off>>3]>>shift) & 1
	v[off>>3] = v[off>>3]&^(1<<shift) | on<<shift
	return old, ks.storeString(args[1], rec, exists, v)
}

func execGetbit(ks *Keyspace, args [][]byte) (any, error) {
	off, err := parseBitOffset(args[2], 0)
	if err != nil {
		return nil, err
	}
	rec, _, err := ks.lookupString(args[1])
	if err != nil {
		return nil, err
	}
	if off>>3 >= uint64(len(rec.payload)) {
		return int64(0), nil
	}
	return int64(rec.payload[off>>3]>>(7-off&7)) & 1, nil
}

// parseBitUnit reads the BYTE|BIT option of BITCOUNT and BITPOS.
func parseBitUnit(arg []byte) (isBit bool, err error) {
	switch {
	case EqFold(arg, "bit"):
		return true, nil
	case EqFold(arg, "byte"):
		return false, nil
	}
	return false, ErrSyntax
}

// bitRange turns a start and end (inclusive, negative from the end) in
// bytes or bits of a string of n bytes into an inclusive range of bits,
// clamped to the string as Redis clamps it. ok is false for an empty
// range.
func bitRange(n, start, end int64, isBit bool) (from, to int64, ok bool) {
	total := n
	if isBit {
		total = n << 3
	}
	if start < 0 {
		start = max(total+start, 0)
	}
	if end < 0 {
		end = max(total+end, 0)
	}
	end = min(end, total-1)
	if start > end {
		return 0, 0, false
	}
	if isBit {
		return start, end, true
	}
	return start << 3, end<<3 + 7, true
}

// edgeMask keeps the bits of byte i that lie in the bit range [from, to].
func edgeMask(i, from, to int64) byte {
	m := byte(0xff)
	if i == from>>3 {
		m &= 0xff >> (from & 7)
	}
	if i == to>>3 {
		m &= 0xff << (7 - to&7)
	}
	return m
}

// countBits counts the set bits of v in the bit range [from, to].
func countBits(v []byte, from, to int64) int64 {
	first, last := from>>3, to>>3
	if first == last {
		return int64(bits.OnesCount8(v[first] & edgeMask(first, from, to)))
	}
	n := bits.OnesCount8(v[first]&edgeMask(first, from, to)) + bits.OnesCount8(v[last]&edgeMask(last, from, to))
	mid := v[first+1 : last]
	for len(mid) >= 8 {
		n += bits.OnesCount64(binary.LittleEndian.Uint64(mid))
		mid = mid[8:]
	}
	for _, b := range mid {
		n += bits.OnesCount8(b)
	}
	return int64(n)
}

// findBit returns the position of the first bit equal to bit in the bit
// range [from, to] of v, or -1.
func findBit(v []byte, from, to int64, bit byte) int64 {
	var flip byte // bytes are flipped so that the search is for a 1
	if bit == 0 {
		flip = 0xff
	}
	skip := bytes.Repeat([]byte{flip}, 8)
	for i := from >> 3; i <= to>>3; i++ {
		if i > from>>3 && i+8 < to>>3 && bytes.Equal(v[i:i+8], skip) {
			i += 7
			continue
		}
		if b := (v[i] ^ flip) & edgeMask(i, from, to); b != 0 {
			return i<<3 + int64(bits.LeadingZeros8(b))
		}
	}
	return -1
}

// execBitcount implements BITCOUNT key [start end [BYTE|BIT]] in Redis
// 7.0's order: the key first (a missing one counts 0 whatever follows),
// then the range, then the unit.
func execBitcount(ks *Keyspace, args [][]byte) (any, error) {
	rec, exists, err := ks.lookupString(args[1])
	if err != nil || !exists {
		return int64(0), err
	}
	n := int64(len(rec.payload))
	start, end, isBit := int64(0), n-1, false
	switch len(args) {
	case 2:
	case 4, 5:
		var ok1, ok2 bool
		start, ok1 = ParseInt(args[2])
		end, ok2 = ParseInt(args[3])
		if !ok1 || !ok2 {
			return nil, ErrNotInteger
		}
		if start < 0 && end < 0 && start > end {
			return int64(0), nil
		}
		if len(args) == 5 {
			if isBit, err = parseBitUnit(args[4]); err != nil {
				return nil, err
			}
		}
	default:
		return nil, ErrSyntax
	}
	from, to, ok := bitRange(n, start, end, isBit)
	if !ok {
		return int64(0), nil
	}
	return countBits(rec.payload, from, to), nil
}

// execBitpos implements BITPOS key bit [start [end [BYTE|BIT]]] in Redis
// 7.0's order. A missing key is all clear bits; without an end the
// string counts as followed by clear bits, so a search for 0 in a range
// of set bits finds the first bit past the string.
func execBitpos(ks *Keyspace, args [][]byte) (any, error) {
	b, ok := ParseInt(args[2])
	if !ok {
		return nil, ErrNotInteger
	}
	if b != 0 && b != 1 {
		return nil, errBitArg
	}
	rec, exists, err := ks.lookupString(args[1])
	if err != nil {
		return nil, err
	}
	if !exists {
		return -b, nil // 0 for a clear bit, -1 for a set one
	}
	n := int64(len(rec.payload))
	start, end, isBit, endGiven := int64(0), n-1, false, false
	switch len(args) {
	case 3:
	case 4, 5, 6:
		if start, ok = ParseInt(args[3]); !ok {
			return nil, ErrNotInteger
		}
		if len(args) == 6 {
			if isBit, err = parseBitUnit(args[5]); err != nil {
				return nil, err
			}
		}
		if isBit {
			end = n<<3 - 1
		}
		if len(args) >= 5 {
			if end, ok = ParseInt(args[4]); !ok {
				return nil, ErrNotInteger
			}
			endGiven = true
		}
	default:
		return nil, ErrSyntax
	}
	from, to, ok := bitRange(n, start, end, isBit)
	if !ok {
		return int64(-1), nil
	}
	if pos := findBit(rec.payload, from, to, byte(b)); pos >= 0 || b == 1 || endGiven {
		return pos, nil
	}
	return (to>>3 + 1) << 3, nil
}

// bitop is one of BITOP's operations.
type bitop byte

const (
	bitopAnd bitop = iota
	bitopOr
	bitopXor
	bitopNot
)

func parseBitop(args [][]byte) (bitop, error) {
	var op bitop
	switch {
	case EqFold(args[1], "and"):
		op = bitopAnd
	case EqFold(args[1], "or"):
		op = bitopOr
	case EqFold(args[1], "xor"):
		op = bitopXor
	case EqFold(args[1], "not"):
		op = bitopNot
	default:
		return 0, ErrSyntax
	}
	if op == bitopNot && len(args) != 4 {
		return 0, errBitopNot
	}
	return op, nil
}

func checkBitop(args [][]byte) error {
	_, err := parseBitop(args)
	return err
}

// execBitop implements BITOP op destkey key [key ...]. A missing source
// is an empty string, shorter ones are padded with zero bytes; the
// result is as long as the longest source, and an empty result deletes
// destkey. The sources are folded into the result one at a time, so
// memory holds the result and one source.
func execBitop(ks *Keyspace, args [][]byte) (any, error) {
	op, err := parseBitop(args)
	if err != nil {
		return nil, err
	}
	var res []byte
	for i, key := range args[3:] {
		rec, _, err := ks.lookupString(key)
		if err != nil {
			return nil, err
		}
		src := rec.payload
		if i == 0 {
			res = bytes.Clone(src)
			if op == bitopNot {
				for j := range res {
					res[j] = ^res[j]
				}
			}
			continue
		}
		if len(src) > len(res) {
			res = growTo(res, uint64(len(src)))
		}
		switch op {
		case bitopAnd:
			for j := range res {
				if j < len(src) {
					res[j] &= src[j]
				} else {
					res[j] = 0
				}
			}
		case bitopOr:
			for j, b := range src {
				res[j] |= b
			}
		case bitopXor:
			for j, b := range src {
				res[j] ^= b
			}
		}
	}
	dest := args[2]
	if len(res) > 0 {
		return int64(len(res)), ks.putString(dest, res, 0)
	}
	rec, exists, err := ks.lookup(dest)
	if err != nil || !exists {
		return int64(0), err
	}
	return int64(0), ks.remove(dest, rec)
}
