package rdb

// crcTable is the byte table of Redis's crc64: the Jones polynomial
// 0xad93d23594c935a9, reflected (0x95ac9329ac4bc9b5).
var crcTable = func() (t [256]uint64) {
	const poly = 0x95ac9329ac4bc9b5
	for i := range t {
		c := uint64(i)
		for range 8 {
			if c&1 != 0 {
				c = c>>1 ^ poly
			} else {
				c >>= 1
			}
		}
		t[i] = c
	}
	return t
}()

// CRC64 returns Redis's crc64(crc, b): reflected Jones, no inversion.
func CRC64(crc uint64, b []byte) uint64 {
	for _, c := range b {
		crc = crcTable[byte(crc)^c] ^ crc>>8
	}
	return crc
}
