package conformance

import (
	"strings"
	"testing"
)

// structScript diffs the struct library against redis-server: EVAL
// returns packed bytes of every option, byte order and alignment,
// unpacks them back, and the errors of bad formats and short data.
var structScript = strings.Join([]string{
	`EVAL "return struct.pack('>I2 <i4 b B h H l L', 258, -2, -1, 255, -300, 65000, -5, 2^40)" 0`,
	`EVAL "return struct.pack('>d <f d f', 1.5, -2.25, 0.1, 0.1)" 0`,
	`EVAL "return struct.pack('c3 c0 s x', 'abcdef', 'xyz', 'zt')" 0`,
	`EVAL "return struct.pack('!4 b i4 b h b d', 1, 2, 3, 4, 5, 6)" 0`, `EVAL "return struct.pack('! b d', 1, 2)" 0`,
	`EVAL "return struct.pack('!3 b', 1)" 0`, `EVAL "return struct.pack('i33', 1)" 0`,
	`EVAL "return struct.pack('i3 I5 i8', -2, 2^39, -1)" 0`, `EVAL "return struct.pack('z', 1)" 0`,
	`EVAL "return struct.pack('c5', 'ab')" 0`, `EVAL "return struct.pack('i99999999999', 1)" 0`, `EVAL "return struct.pack('T', 7)" 0`,
	`EVAL "return {struct.unpack('>I2 <i4 b B h H', struct.pack('>I2 <i4 b B h H', 258, -2, -1, 255, -300, 65000))}" 0`,
	`EVAL "return {struct.unpack('c3 s', 'abcxyz\0rest')}" 0`, `EVAL "return {struct.unpack('b c0', '\3abcdef')}" 0`,
	`EVAL "return {struct.unpack('c0', 'abc')}" 0`, `EVAL "return {struct.unpack('i4', 'abc')}" 0`,
	`EVAL "return {struct.unpack('s', 'abc')}" 0`, `EVAL "return {struct.unpack('b', 'abc', 3)}" 0`,
	`EVAL "return {struct.unpack('b', 'abc', 0)}" 0`, `EVAL "return {struct.unpack('b', 'abc', 4)}" 0`,
	`EVAL "return {struct.unpack('!4 b i4', '\1\0\0\0\2\0\0\0')}" 0`,
	`EVAL "return tostring(struct.unpack('>d', struct.pack('>d', 1.25)))" 0`,
	`EVAL "return tostring(struct.unpack('<f', struct.pack('<f', 0.1)))" 0`,
	`EVAL "return struct.size('!4 b i4 d')" 0`, `EVAL "return struct.size('s')" 0`, `EVAL "return struct.size('c0')" 0`,
	`EVAL "return struct.size('>i2 c10 x')" 0`, `EVAL "return struct.size('q')" 0`, `EVAL "return struct.size('b q')" 0`,
	`EVAL "return {struct.unpack('I3 i3', '\255\255\255\255\255\255')}" 0`,
	`EVAL "return {struct.unpack('c2 c0', '12abcdefghijklmn')}" 0`, `EVAL "return {struct.unpack('c99999999', 'abc')}" 0`,
	`EVAL "return {struct.unpack('i4', 'abcd', 9223372036854775807)}" 0`, `EVAL "return {struct.unpack('i4', 'abcd', -1)}" 0`,
	`EVAL "return redis.call('set', 'st', struct.pack('>i4 c0', 7, 'payload'))" 0`, "GET st",
	`EVAL "return {struct.unpack('>i4 c0', redis.call('get', 'st'))}" 0`,
}, "\n") + "\n"

// TestStructMatchesRedisServer diffs struct against redis-server.
func TestStructMatchesRedisServer(t *testing.T) {
	g := startGateway(t)
	diffWithRedis(t, g, structScript)
	diffWithRedisRESP3(t, g, structScript)
}
