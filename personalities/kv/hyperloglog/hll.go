package hyperloglog

import (
	"encoding/binary"
	"errors"
	"math/bits"
)

// The layout's constants, Redis's HLL_* values.
const (
	// Registers is the number of registers (2^14).
	Registers = 1 << indexBits
	// HeaderSize is the size of the header before the registers.
	HeaderSize = 16
	// DenseSize is the size of a dense value.
	DenseSize = HeaderSize + (Registers*registerBits+7)/8
	// SparseMaxBytes is the largest a sparse value grows before it
	// becomes dense (hll-sparse-max-bytes).
	SparseMaxBytes = 3000

	indexBits    = 14
	q            = 64 - indexBits
	registerBits = 6
	registerMax  = 1<<registerBits - 1

	encDense  = 0
	encSparse = 1

	zeroMaxLen  = 64
	xzeroMaxLen = 16384
	valMaxValue = 32
	valMaxLen   = 4
	xzeroBit    = 0x40
	valBit      = 0x80

	hashSeed = 0xadc83b19
)

// ErrCorrupt is a value whose registers cannot be decoded (Redis's
// INVALIDOBJ).
var ErrCorrupt = errors.New("hyperloglog: corrupted value")

// New returns an empty value: sparse, one XZERO opcode for every
// register, a valid cached cardinality of 0. The slice is the caller's.
func New() []byte {
	b := make([]byte, HeaderSize, HeaderSize+2)
	copy(b, "HYLL")
	b[4] = encSparse
	return appendXzero(b, Registers)
}

// Valid reports whether b may be a value, as Redis checks before any
// command uses one: the magic, a known encoding and, when dense, the
// dense size. A valid value's registers may still be corrupt.
func Valid(b []byte) bool {
	if len(b) < HeaderSize || string(b[:4]) != "HYLL" || b[4] > encSparse {
		return false
	}
	return b[4] != encDense || len(b) == DenseSize
}

// IsSparse reports whether the valid value b is sparse.
func IsSparse(b []byte) bool { return b[4] == encSparse }

// Cached returns the valid value b's cached cardinality, and whether it
// is current.
func Cached(b []byte) (uint64, bool) {
	return binary.LittleEndian.Uint64(b[8:16]), b[15]&0x80 == 0
}

// SetCached stores card as b's cached cardinality, current.
func SetCached(b []byte, card uint64) { binary.LittleEndian.PutUint64(b[8:16], card) }

// Invalidate marks b's cached cardinality stale.
func Invalidate(b []byte) { b[15] |= 0x80 }

// hash is MurmurHash64A as Redis has it (little endian, 64-bit).
func hash(key []byte, seed uint64) uint64 {
	const m = 0xc6a4a7935bd1e995
	const r = 47
	h := seed ^ uint64(len(key))*m
	for len(key) >= 8 {
		k := binary.LittleEndian.Uint64(key)
		k *= m
		k ^= k >> r
		k *= m
		h ^= k
		h *= m
		key = key[8:]
	}
	if len(key) > 0 {
		for i := len(key) - 1; i >= 0; i-- {
			h ^= uint64(key[i]) << (8 * i)
		}
		h *= m
	}
	h ^= h >> r
	h *= m
	h ^= h >> r
	return h
}

// patLen returns the register an element falls in and its candidate
// value: one plus the number of trailing zeros of the hash above the
// index bits (at most q+1).
func patLen(ele []byte) (index int, count uint8) {
	h := hash(ele, hashSeed)
	index = int(h & (Registers - 1))
	h >>= indexBits
	h |= 1 << q
	return index, uint8(bits.TrailingZeros64(h) + 1)
}

// Add adds ele to the valid value b, changing it in place, and reports
// whether a register changed. It does not touch the cached cardinality.
// On ErrCorrupt b is unchanged.
func Add(b, ele []byte) ([]byte, bool, error) {
	index, count := patLen(ele)
	return set(b, index, count)
}

// set raises register index of b to count if it is lower.
func set(b []byte, index int, count uint8) ([]byte, bool, error) {
	if b[4] == encDense {
		return b, denseSet(b[HeaderSize:], index, count), nil
	}
	return sparseSet(b, index, count)
}

// at returns b[i], or 0 past the end (where Redis reads the string's
// terminating NUL).
func at(b []byte, i int) byte {
	if i < len(b) {
		return b[i]
	}
	return 0
}

// denseGet returns register i of the dense registers regs.
func denseGet(regs []byte, i int) uint8 {
	byt, fb := i*registerBits/8, uint(i*registerBits&7)
	b0, b1 := uint(regs[byt]), uint(at(regs, byt+1))
	return uint8((b0>>fb | b1<<(8-fb)) & registerMax)
}

// densePut sets register i of regs to v.
func densePut(regs []byte, i int, v uint8) {
	byt, fb := i*registerBits/8, uint(i*registerBits&7)
	regs[byt] &^= byte(registerMax << fb)
	regs[byt] |= byte(uint(v) << fb)
	if byt+1 < len(regs) {
		regs[byt+1] &^= byte(registerMax >> (8 - fb))
		regs[byt+1] |= byte(uint(v) >> (8 - fb))
	}
}

// denseSet raises register i to v if it is lower.
func denseSet(regs []byte, i int, v uint8) bool {
	if v > denseGet(regs, i) {
		densePut(regs, i, v)
		return true
	}
	return false
}

// The sparse opcodes.
func isZero(c byte) bool           { return c&0xc0 == 0 }
func isXzero(c byte) bool          { return c&0xc0 == xzeroBit }
func isVal(c byte) bool            { return c&valBit != 0 }
func zeroLen(c byte) int           { return int(c&0x3f) + 1 }
func xzeroLen(b []byte, p int) int { return (int(b[p]&0x3f)<<8 | int(at(b, p+1))) + 1 }
func valValue(c byte) int          { return int(c>>2&0x1f) + 1 }
func valLen(c byte) int            { return int(c&3) + 1 }
func valOp(value, n int) byte      { return byte((value-1)<<2|(n-1)) | valBit }
func appendXzero(b []byte, n int) []byte {
	return append(b, byte((n-1)>>8)|xzeroBit, byte((n-1)&0xff))
}

// appendZeros appends the shortest opcode for a run of n zero registers.
func appendZeros(b []byte, n int) []byte {
	if n > zeroMaxLen {
		return appendXzero(b, n)
	}
	return append(b, byte(n-1))
}

// ToDense returns the valid value b in the dense encoding (b itself if it
// is dense), keeping its header. ErrCorrupt if the sparse opcodes do not
// cover exactly Registers registers.
func ToDense(b []byte) ([]byte, error) {
	if b[4] == encDense {
		return b, nil
	}
	d := make([]byte, DenseSize)
	copy(d, b[:HeaderSize])
	d[4] = encDense
	regs := d[HeaderSize:]
	idx := 0
	walkSparse(b, func(value, n int) bool {
		if value == 0 {
			idx += n
			return true
		}
		if idx+n > Registers {
			idx = -1 // a VAL past the last register: corrupt
			return false
		}
		for range n {
			densePut(regs, idx, uint8(value))
			idx++
		}
		return true
	})
	if idx != Registers {
		return nil, ErrCorrupt
	}
	return d, nil
}

// walkSparse calls f for each opcode of the sparse value b with its value
// (0 for ZERO and XZERO) and run length, until f returns false.
func walkSparse(b []byte, f func(value, n int) bool) {
	for p := HeaderSize; p < len(b); {
		c := b[p]
		var ok bool
		switch {
		case isZero(c):
			ok = f(0, zeroLen(c))
			p++
		case isXzero(c):
			ok = f(0, xzeroLen(b, p))
			p += 2
		default:
			ok = f(valValue(c), valLen(c))
			p++
		}
		if !ok {
			return
		}
	}
}
