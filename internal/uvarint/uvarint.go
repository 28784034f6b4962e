// Package uvarint reads unsigned varints strictly: only the canonical
// (shortest) encoding of a value is accepted, so that a byte string that
// travels through the log has exactly one reading.
package uvarint

import "encoding/binary"

// Len returns the length of v's canonical encoding.
func Len(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}

// Read decodes the canonical uvarint at the start of b and returns it with
// its length; ok is false if b does not start with one.
func Read(b []byte) (v uint64, n int, ok bool) {
	v, n = binary.Uvarint(b)
	if n <= 0 || n != Len(v) {
		return 0, 0, false
	}
	return v, n, true
}

// ReadBytes decodes a canonical length prefix and the bytes it announces
// at the start of b, returning them (aliasing b) and the rest of b.
func ReadBytes(b []byte) (field, rest []byte, ok bool) {
	l, n, ok := Read(b)
	if !ok || l > uint64(len(b)-n) {
		return nil, nil, false
	}
	return b[n : n+int(l)], b[n+int(l):], true
}
