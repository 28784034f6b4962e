package hyperloglog

import (
	"math"
	"strconv"
)

// alphaInf is 0.5/ln(2), Redis's HLL_ALPHA_INF.
const alphaInf = 0.721347520444481703680

// Union is the register-wise maximum of values, PFCOUNT's and PFMERGE's
// accumulator (Redis's HLL_RAW registers). The zero value is empty.
type Union [Registers]uint8

// Merge raises u's registers to those of the valid value b. ErrCorrupt if
// b's sparse opcodes do not cover exactly Registers registers; u may
// then hold part of b.
func (u *Union) Merge(b []byte) error {
	if b[4] == encDense {
		regs := b[HeaderSize:]
		for i := range u {
			u[i] = max(u[i], denseGet(regs, i))
		}
		return nil
	}
	i := 0
	walkSparse(b, func(value, n int) bool {
		if value == 0 {
			i += n
			return true
		}
		if i+n > Registers {
			i = -1 // a VAL past the last register: corrupt
			return false
		}
		for range n {
			u[i] = max(u[i], uint8(value))
			i++
		}
		return true
	})
	if i != Registers {
		return ErrCorrupt
	}
	return nil
}

// Count returns u's estimated cardinality.
func (u *Union) Count() uint64 {
	var h histogram
	for _, r := range u {
		h[r]++
	}
	return h.estimate()
}

// Store raises the valid value b's registers to u's, as PFMERGE writes
// its destination, and marks its cached cardinality stale.
func (u *Union) Store(b []byte) []byte {
	for i, r := range u {
		if r != 0 {
			b, _, _ = set(b, i, r)
		}
	}
	Invalidate(b)
	return b
}

// Count returns the estimated cardinality of the valid value b's
// registers (not its cache). ErrCorrupt if b's sparse opcodes do not
// cover exactly Registers registers.
func Count(b []byte) (uint64, error) {
	var h histogram
	if b[4] == encDense {
		regs := b[HeaderSize:]
		for i := range Registers {
			h[denseGet(regs, i)]++
		}
		return h.estimate(), nil
	}
	idx := 0
	walkSparse(b, func(value, n int) bool {
		idx += n
		h[value] += n
		return true
	})
	if idx != Registers {
		return 0, ErrCorrupt
	}
	return h.estimate(), nil
}

// histogram counts registers by value.
type histogram [64]int

// estimate is Redis 7's hllCount estimator ("New cardinality estimation
// algorithms for HyperLogLog sketches", Otmar Ertl, arXiv:1702.01284).
// The explicit float64 conversions keep every operation rounded on its
// own, as the C code is, never fused.
func (h *histogram) estimate() uint64 {
	const m = float64(Registers)
	z := float64(m * tau(float64(m-float64(h[q+1]))/m))
	for j := q; j >= 1; j-- {
		z += float64(h[j])
		z *= 0.5
	}
	z += float64(m * sigma(float64(h[0])/m))
	return uint64(math.Round(float64(float64(alphaInf*m)*m) / z))
}

func sigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y, z := 1.0, x
	for {
		x *= x
		zPrime := z
		z += float64(x * y)
		y += y
		if zPrime == z {
			return z
		}
	}
}

func tau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y, z := 1.0, 1-x
	for {
		x = math.Sqrt(x)
		zPrime := z
		y *= 0.5
		t := 1 - x
		z -= float64(float64(t*t) * y)
		if zPrime == z {
			return z / 3
		}
	}
}

// RegistersOf returns the registers of the valid dense value b.
func RegistersOf(b []byte) []uint8 {
	out := make([]uint8, Registers)
	regs := b[HeaderSize:]
	for i := range out {
		out[i] = denseGet(regs, i)
	}
	return out
}

// MaxDecode is the longest text Decode returns; longer is ErrCorrupt.
// No sparse value Redis writes comes near it.
const MaxDecode = 1 << 20

// Decode renders the valid sparse value b's opcodes as PFDEBUG DECODE
// does ("z:len", "Z:len", "v:value,len", space separated).
func Decode(b []byte) ([]byte, error) {
	var out []byte
	for p := HeaderSize; p < len(b); {
		c := b[p]
		switch {
		case isZero(c):
			out = strconv.AppendInt(append(out, "z:"...), int64(zeroLen(c)), 10)
			p++
		case isXzero(c):
			out = strconv.AppendInt(append(out, "Z:"...), int64(xzeroLen(b, p)), 10)
			p += 2
		default:
			out = strconv.AppendInt(append(out, "v:"...), int64(valValue(c)), 10)
			out = strconv.AppendInt(append(out, ','), int64(valLen(c)), 10)
			p++
		}
		out = append(out, ' ')
		if len(out) > MaxDecode {
			return nil, ErrCorrupt
		}
	}
	if len(out) > 0 {
		out = out[:len(out)-1]
	}
	return out, nil
}
