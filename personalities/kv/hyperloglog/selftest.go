package hyperloglog

import (
	"encoding/binary"
	"fmt"
	"math"
)

// SelfTest is PFSELFTEST: Redis's hllSelfTest checks, on this package's
// code. It sets every dense register to random values 1000 times and
// reads them back, then adds 10 million distinct elements to a dense and
// a sparse value at once and, at 1, 10, 100, ... elements, checks that
// the sparse one is still sparse while small, that both count the same,
// and that the count is within six standard errors (1 at 10 elements).
// rnd supplies Redis's rand(): non-negative 31-bit numbers. The error's
// text is Redis's reply ("TESTFAILED ..."); it takes a few seconds.
func SelfTest(rnd func() uint32) error {
	dense := make([]byte, DenseSize)
	copy(dense, "HYLL")
	regs := dense[HeaderSize:]
	var want [Registers]uint8
	for range 1000 {
		for i := range want {
			want[i] = uint8(rnd() & registerMax)
			densePut(regs, i, want[i])
		}
		for i, w := range want {
			if v := denseGet(regs, i); v != w {
				return fmt.Errorf("TESTFAILED Register %d should be %d but is %d", i, w, v)
			}
		}
	}

	clear(regs)
	sparse := New()
	relerr := 1.04 / math.Sqrt(Registers)
	checkpoint := int64(1)
	seed := uint64(rnd()) | uint64(rnd())<<32
	var ele [8]byte
	for j := int64(1); j <= 10_000_000; j++ {
		binary.LittleEndian.PutUint64(ele[:], uint64(j)^seed)
		index, count := patLen(ele[:])
		denseSet(regs, index, count)
		sparse, _, _ = set(sparse, index, count)
		if j != checkpoint {
			continue
		}
		if j < SparseMaxBytes/2 && !IsSparse(sparse) {
			return fmt.Errorf("TESTFAILED sparse encoding not used")
		}
		d, _ := Count(dense)
		s, _ := Count(sparse)
		if d != s {
			return fmt.Errorf("TESTFAILED dense/sparse disagree")
		}
		abserr := checkpoint - int64(d)
		maxerr := int64(math.Ceil(relerr * 6 * float64(checkpoint)))
		if j == 10 {
			maxerr = 1
		}
		if abserr < 0 {
			abserr = -abserr
		}
		if abserr > maxerr {
			return fmt.Errorf("TESTFAILED Too big error. card:%d abserr:%d", checkpoint, abserr)
		}
		checkpoint *= 10
	}
	return nil
}
