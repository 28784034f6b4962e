// Package hyperloglog is Redis 7's HyperLogLog, byte for byte: the value
// PFADD, PFCOUNT and PFMERGE keep in a string, so that a value moves
// between the gateway and a redis-server (GET, SET) unchanged.
//
// A value is a 16-byte header and the registers:
//
//	"HYLL" encoding(1) unused(3) card(8, little endian)
//
// encoding 0 is dense: 16384 registers of 6 bits, packed little endian
// (12288 bytes, 12304 in all); 1 is sparse: a run-length code of
// opcodes, ZERO (00xxxxxx: 1 to 64 zero registers), XZERO (01xxxxxx
// yyyyyyyy: 1 to 16384 zero registers) and VAL (1vvvvvxx: 1 to 4
// registers of value 1 to 32). The most significant bit of card's last
// byte set means the cached cardinality is stale.
//
// An element hashes with MurmurHash64A, seed 0xadc83b19: the low 14 bits
// pick the register, the position of the lowest set bit of the other 50
// (plus one) is its candidate value. A sparse value that would grow past
// SparseMaxBytes (Redis's hll-sparse-max-bytes default, 3000), or hold a
// register over 32, becomes dense. Counting uses Redis 7's estimator
// (Ertl's, with hllSigma and hllTau), in the same float64 operations, so
// counts agree with Redis exactly.
//
// Values are changed in place: functions that change one take the slice
// and return it (perhaps reallocated), like append. A value that is not
// well formed gives ErrCorrupt, as Redis answers INVALIDOBJ, where Redis
// does; reading it never goes out of bounds and never allocates more
// than a dense value. Where Redis reads the string's terminating NUL
// (a truncated XZERO opcode, the byte after the last dense register),
// this package reads a zero.
//
// The functions are pure and safe for concurrent use on distinct values.
//
//	v := hyperloglog.New()
//	v, changed, err := hyperloglog.Add(v, []byte("alice"))
//	n, err := hyperloglog.Count(v) // 1
package hyperloglog
