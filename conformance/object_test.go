package conformance

import (
	"fmt"
	"strings"
	"testing"
)

// numbers returns "p0 p1 ... p(n-1)" for a command line.
func numbers(p string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, " %s%d", p, i)
	}
	return b.String()
}

// objectScript diffs OBJECT against redis-server: the encodings of
// values built at once (strings by content and size; lists; sets,
// hashes and sorted sets on both sides of every threshold, written
// directly, by STORE commands and by RESTORE), REFCOUNT of shared
// integers, missing keys and every error.
var objectScript = strings.Join([]string{
	"SET s1 123", "SET s2 -5", "SET s3 hello", "SET s4 " + strings.Repeat("x", 44), "SET s5 " + strings.Repeat("x", 45),
	"SET s6 12345678901234567890", "SET s7 0123", "SET s8 9999", "SET s9 10000", "SET s10 -1", "SET s11 9223372036854775807",
	"INCR s12", "SET s13 ''",
	"OBJECT ENCODING s1", "OBJECT ENCODING s2", "OBJECT ENCODING s3", "OBJECT ENCODING s4", "OBJECT ENCODING s5",
	"OBJECT ENCODING s6", "OBJECT ENCODING s7", "OBJECT ENCODING s11", "OBJECT ENCODING s12", "OBJECT ENCODING s13",
	"OBJECT REFCOUNT s1", "OBJECT REFCOUNT s2", "OBJECT REFCOUNT s3", "OBJECT REFCOUNT s8", "OBJECT REFCOUNT s9",
	"OBJECT REFCOUNT s10", "OBJECT REFCOUNT s12", "OBJECT refcount s13",
	"RPUSH l a", "OBJECT ENCODING l", "RPUSH l2" + numbers("item", 1000), "OBJECT ENCODING l2", "OBJECT REFCOUNT l2",
	"SADD i 1 2 -3", "OBJECT ENCODING i", "SADD i2 1 x", "OBJECT ENCODING i2", "SADD i3 01", "OBJECT ENCODING i3",
	"SADD i4" + numbers("", 512), "OBJECT ENCODING i4", "SADD i5" + numbers("", 513), "OBJECT ENCODING i5",
	"SINTERSTORE i6 i i2", "OBJECT ENCODING i6", "SUNIONSTORE i7 i i2", "OBJECT ENCODING i7", "OBJECT REFCOUNT i7",
	"HSET h f v", "OBJECT ENCODING h", "HSET h2 f " + strings.Repeat("v", 64), "OBJECT ENCODING h2",
	"HSET h3 f " + strings.Repeat("v", 65), "OBJECT ENCODING h3", "HSET h4 " + strings.Repeat("f", 65) + " v", "OBJECT ENCODING h4",
	"HSET h5" + numbers("f", 1024), "OBJECT ENCODING h5", "HSET h6" + numbers("f", 1026), "OBJECT ENCODING h6",
	"ZADD z 1 a", "OBJECT ENCODING z", "ZADD z2 1 " + strings.Repeat("m", 64), "OBJECT ENCODING z2",
	"ZADD z3 1 " + strings.Repeat("m", 65), "OBJECT ENCODING z3", "ZADD z4" + strings.ReplaceAll(numbers("", 128), " ", " 1 m"), "OBJECT ENCODING z4",
	"ZADD z5" + strings.ReplaceAll(numbers("", 129), " ", " 1 m"), "OBJECT ENCODING z5", "ZUNIONSTORE z6 2 z z2", "OBJECT ENCODING z6",
	"ZUNIONSTORE z7 2 z z3", "OBJECT ENCODING z7",
	"RESTORE r1 0 " + withFooter("\x0b\x0c\x02\x00\x00\x00\x02\x00\x00\x00\x01\x00\x02\x00", 10), "OBJECT ENCODING r1", "SMEMBERS r1",
	// FREQ without an LFU policy. (IDLETIME of a key is redis-server's
	// LRU clock, whole seconds that may tick during the script.)
	"OBJECT FREQ s3", "OBJECT FREQ nokey",
	// Missing keys, wrong arity, unknown subcommands, HELP.
	"OBJECT ENCODING nokey", "OBJECT REFCOUNT nokey", "OBJECT IDLETIME nokey", "OBJECT", "OBJECT ENCODING",
	"OBJECT ENCODING s1 s2", "OBJECT FOO", "OBJECT FOO s1", "OBJECT HELP x", "OBJECT help", "OBJECT Encoding s3",
}, "\n") + "\n"

// objectConfigScript changes the thresholds and the eviction policy
// with CONFIG SET (a node's own setting, so not for an ensemble) and
// restores them at the end.
var objectConfigScript = strings.Join([]string{
	"CONFIG SET hash-max-listpack-entries 2", "HSET c1 a 1 b 2", "OBJECT ENCODING c1", "HSET c2 a 1 b 2 c 3", "OBJECT ENCODING c2",
	"CONFIG SET hash-max-listpack-value 1kb", "HSET c3 a " + strings.Repeat("v", 1000), "OBJECT ENCODING c3",
	"CONFIG SET set-max-intset-entries 1", "SADD c4 1", "OBJECT ENCODING c4", "SADD c5 1 2", "OBJECT ENCODING c5",
	"CONFIG SET zset-max-listpack-entries 0", "ZADD c6 1 a", "OBJECT ENCODING c6",
	"CONFIG SET zset-max-listpack-entries 5", "CONFIG SET zset-max-listpack-value 2", "ZADD c7 1 ab", "OBJECT ENCODING c7",
	"ZADD c8 1 abc", "OBJECT ENCODING c8",
	"CONFIG SET maxmemory-policy allkeys-lfu", "DEL f1", "SET f1 hello", "OBJECT FREQ f1", "OBJECT IDLETIME f1", "OBJECT FREQ nokey",
	"CONFIG SET maxmemory-policy volatile-lfu", "OBJECT IDLETIME f1", "CONFIG SET maxmemory-policy allkeys-lru", "OBJECT FREQ f1",
	// (f1's idle time is now what Redis reads of its LFU counter: junk.)
	"CONFIG SET maxmemory-policy noeviction", "CONFIG SET hash-max-listpack-entries 512", "CONFIG SET hash-max-listpack-value 64",
	"CONFIG SET set-max-intset-entries 512", "CONFIG SET zset-max-listpack-entries 128", "CONFIG SET zset-max-listpack-value 64",
}, "\n") + "\n"

// TestRedisObjectMatchesRedisServer diffs OBJECT against redis-server,
// in RESP2 (raw and formatted) and RESP3.
func TestRedisObjectMatchesRedisServer(t *testing.T) {
	diffScriptsWithRedis(t, startGateway(t), objectScript, objectConfigScript)
}
