package conformance

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"maps"
	"math/rand/v2"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"hourglass/personalities/kv/rdb"
)

// quoteArg quotes b for a redis-cli line: "..." with \xHH escapes.
func quoteArg(b []byte) string {
	var s strings.Builder
	s.WriteByte('"')
	for _, c := range b {
		fmt.Fprintf(&s, "\\x%02x", c)
	}
	s.WriteByte('"')
	return s.String()
}

// withFooter returns obj (an object type and encoding) with an RDB
// version and a correct CRC64, as a redis-cli argument.
func withFooter(obj string, version uint16) string {
	p := binary.LittleEndian.AppendUint16([]byte(obj), version)
	return quoteArg(binary.LittleEndian.AppendUint64(p, rdb.CRC64(0, p)))
}

// dumpScript diffs DUMP and RESTORE against redis-server: payloads both
// write the same way (values whose encoding has one order: strings,
// small lists, intsets, sorted sets, hashes in byte order), RESTORE's
// options and every error, in Redis's order of checks.
var dumpScript = func() string {
	hello := withFooter("\x00\x05hello", 10)
	list := withFooter("\x12\x01\x02\x0d\x0d\x00\x00\x00\x02\x00\x81a\x02\x81b\x02\xff", 10)
	lines := []string{
		"DUMP nokey", "SET s hello", "DUMP s", "SET n 12345", "DUMP n", "SET n -7", "DUMP n", "SET n 4294967296", "DUMP n",
		"SET e ''", "DUMP e", "RPUSH l a b 1 -200 70000", "DUMP l", "SADD is 5 -3 1 70000 9223372036854775807", "DUMP is",
		"HSET h a 1 b 2 c xyz", "DUMP h", "ZADD z 1 a 2.5 b -inf c 1e20 d 0 e", "DUMP z",
		// RESTORE of each, with and without a time to live.
		"RESTORE r1 0 " + hello, "GET r1", "TTL r1", "RESTORE r2 100000 " + hello, "TTL r2", "RESTORE r3 0 " + list, "LRANGE r3 0 -1",
		"RESTORE r4 0 " + list + " ABSTTL", "TYPE r4", "RESTORE r5 4102444800000 " + hello + " ABSTTL", "EXPIRETIME r5",
		"RESTORE r6 1 " + hello + " ABSTTL", "EXISTS r6", "RESTORE r1 1 " + hello + " ABSTTL REPLACE", "EXISTS r1",
		"RESTORE r7 0 " + hello + " IDLETIME 100", "RESTORE r8 0 " + hello + " FREQ 100", "RESTORE r9 0 " + hello + " idletime 0 replace absttl",
		// In a transaction.
		"MULTI", "DUMP l", "RESTORE tx 0 " + list, "LRANGE tx 0 -1", "RESTORE tx 0 " + hello, "EXEC",
		// The ziplist encodings of Redis 6 (RDB version 9), which
		// redis-server 7.0 still loads: a list, a quicklist of
		// ziplists (one empty), a hash, a sorted set.
		"RESTORE old1 0 " + withFooter("\n@ww\x00\x00\x00-\x00\x00\x00\t\x00\x00\x01a\x03\xfd\x02\xfe\xff\x03\xc0\xc8\x00\x04\xf0\xc0c\xff\x05\xf0@KL\x05\xe0\x00\xa2/M\xff\xff\xff\xff\n\x01x\x03@F0000000000000000000000000000000000000000000000000000000000000000000007\xff", 9), "LRANGE old1 0 -1",
		"RESTORE old2 0 " + withFooter("\x0e\x03\x17\x17\x00\x00\x00\x12\x00\x00\x00\x04\x00\x00\x01a\x03\xfd\x02\xfe\xff\x03\xc0\xc8\x00\xff\v\v\x00\x00\x00\n\x00\x00\x00\x00\x00\xff@kk\x00\x00\x00!\x00\x00\x00\x05\x00\x00\xf0\xc0c\xff\x05\xf0@KL\x05\xe0\x00\xa2/M\xff\xff\xff\xff\n\x01x\x03@F0000000000000000000000000000000000000000000000000000000000000000000007\xff", 9), "LRANGE old2 0 -1",
		"RESTORE old3 0 " + withFooter("\r@ee\x00\x00\x00\x1b\x00\x00\x00\x06\x00\x00\x02f1\x04\x01v\x03\x02f2\x04\xf8\x02\x02f3\x04@F0000000000000000000000000000000000000000000000000000000000000000000007\xff", 9), "HGETALL old3",
		"RESTORE old4 0 " + withFooter("\f!!\x00\x00\x00\x1b\x00\x00\x00\x06\x00\x00\x01c\x03\x04-inf\x06\x01a\x03\xf2\x02\x01b\x03\x032.5\xff", 9), "ZRANGE old4 0 -1 WITHSCORES",
		// Errors, in the order redis-server checks them.
		"RESTORE s 0 " + hello, "RESTORE s 0 " + hello + " REPLACE", "GET s", "RESTORE s -1 " + hello, "RESTORE s x badpayload",
		"RESTORE nk -1 badpayload", "RESTORE nk x " + hello, "RESTORE nk 0 badpayload", "RESTORE nk 0 ''", "RESTORE nk 0 " + withFooter("\x00\x05hello", 11),
		"RESTORE nk 0 " + withFooter("\x00\x05hel", 10), "RESTORE nk 0 " + withFooter("\x0f\x00", 10), "RESTORE nk 0 " + withFooter("\x02\x00", 10),
		"RESTORE nk 0 " + withFooter("\x02\x02\x01a\x01a", 10), "RESTORE nk 0 " + withFooter("", 10), "RESTORE nk 0 " + withFooter("\x00\x05hello and more", 10),
		"GET nk", "DEL nk",
		"RESTORE nk 0 " + hello + " IDLETIME -1", "RESTORE nk 0 " + hello + " IDLETIME x", "RESTORE nk 0 " + hello + " FREQ 256",
		"RESTORE nk 0 " + hello + " FREQ -1", "RESTORE nk 0 " + hello + " FREQ x", "RESTORE nk 0 " + hello + " FREQ 1 IDLETIME 1",
		"RESTORE nk 0 " + hello + " IDLETIME 1 FREQ 1", "RESTORE nk 0 " + hello + " IDLETIME", "RESTORE nk 0 " + hello + " FOO",
		"RESTORE s 0 " + hello + " FOO", "RESTORE s -1 badpayload FREQ 300", "RESTORE nk 0", "DUMP", "DUMP a b", "DBSIZE",
	}
	return strings.Join(lines, "\n") + "\n"
}()

// TestRedisDumpMatchesRedisServer diffs DUMP and RESTORE against
// redis-server, in RESP2 (raw and formatted) and RESP3.
func TestRedisDumpMatchesRedisServer(t *testing.T) {
	g := startGateway(t)
	diffWithRedis(t, g, dumpScript)
	diffWithRedisRESP3(t, g, dumpScript)
}

// dumpValue is one value to move between servers: how to write it and
// how to read it back comparably.
type dumpValue struct {
	key   string
	write func(ctx context.Context, c *redis.Client, key string) error
	read  func(ctx context.Context, c *redis.Client, key string) (string, error)
}

func readString(ctx context.Context, c *redis.Client, k string) (string, error) {
	return c.Get(ctx, k).Result()
}
func readList(ctx context.Context, c *redis.Client, k string) (string, error) {
	v, err := c.LRange(ctx, k, 0, -1).Result()
	return fmt.Sprintf("%q", v), err
}
func readSet(ctx context.Context, c *redis.Client, k string) (string, error) {
	v, err := c.SMembers(ctx, k).Result()
	slices.Sort(v)
	return fmt.Sprintf("%q", v), err
}
func readHash(ctx context.Context, c *redis.Client, k string) (string, error) {
	v, err := c.HGetAll(ctx, k).Result()
	keys := slices.Sorted(maps.Keys(v))
	var b strings.Builder
	for _, f := range keys {
		fmt.Fprintf(&b, "%q=%q ", f, v[f])
	}
	return b.String(), err
}
func readZSet(ctx context.Context, c *redis.Client, k string) (string, error) {
	v, err := c.ZRangeWithScores(ctx, k, 0, -1).Result()
	return fmt.Sprint(v), err
}

// dumpValues covers every type the gateway serializes, small (the
// compact encodings) and large (the plain ones, several quicklist nodes,
// LZF-compressed strings).
func dumpValues() []dumpValue {
	rng := rand.New(rand.NewPCG(1, 2))
	randBytes := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return string(b)
	}
	items := func(n int, f func(i int) string) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	str := func(v string) func(context.Context, *redis.Client, string) error {
		return func(ctx context.Context, c *redis.Client, k string) error { return c.Set(ctx, k, v, 0).Err() }
	}
	list := func(vals []any) func(context.Context, *redis.Client, string) error {
		return func(ctx context.Context, c *redis.Client, k string) error { return c.RPush(ctx, k, vals...).Err() }
	}
	set := func(vals []any) func(context.Context, *redis.Client, string) error {
		return func(ctx context.Context, c *redis.Client, k string) error { return c.SAdd(ctx, k, vals...).Err() }
	}
	hash := func(n, size int) func(context.Context, *redis.Client, string) error {
		return func(ctx context.Context, c *redis.Client, k string) error {
			return c.HSet(ctx, k, items(2*n, func(i int) string { return fmt.Sprint(i, strings.Repeat("v", size)) })...).Err()
		}
	}
	zset := func(n, size int) func(context.Context, *redis.Client, string) error {
		return func(ctx context.Context, c *redis.Client, k string) error {
			var zs []redis.Z
			for i := range n {
				zs = append(zs, redis.Z{Score: float64(i%7) * 1.25, Member: fmt.Sprint(strings.Repeat("m", size), i)})
			}
			zs = append(zs, redis.Z{Score: -1e300, Member: "low"})
			return c.ZAdd(ctx, k, zs...).Err()
		}
	}
	return []dumpValue{
		{"str-short", str("hello"), readString},
		{"str-int", str("-123456"), readString},
		{"str-bigint", str("9223372036854775807"), readString},
		{"str-empty", str(""), readString},
		{"str-lzf", str(strings.Repeat("compress me ", 5000)), readString},
		{"str-binary", str(randBytes(3000)), readString},
		{"list-small", list(items(10, func(i int) string { return fmt.Sprint(i*1000 - 3000) })), readList},
		{"list-nodes", list(items(5000, func(i int) string { return fmt.Sprint("item-", i, strings.Repeat("x", i%50)) })), readList},
		{"list-bigitem", list([]any{randBytes(20000), "a", strings.Repeat("z", 70000)}), readList},
		{"set-intset", set(items(100, func(i int) string { return fmt.Sprint(i*i - 5000) })), readSet},
		{"set-bigints", set(items(600, func(i int) string { return fmt.Sprint(i * 1000003) })), readSet},
		{"set-strings", set(items(300, func(i int) string { return fmt.Sprint("member", i) })), readSet},
		{"hash-small", hash(10, 3), readHash},
		{"hash-many", hash(200, 3), readHash},
		{"hash-long", hash(5, 100), readHash},
		{"zset-small", zset(20, 2), readZSet},
		{"zset-many", zset(300, 2), readZSet},
		{"zset-long", zset(5, 80), readZSet},
	}
}

// TestRedisDumpRestoreWithRedisServer moves values of every type between
// redis-server and the gateway with go-redis: DUMP on one, RESTORE on
// the other, and the contents must match, both ways.
func TestRedisDumpRestoreWithRedisServer(t *testing.T) {
	g := startGateway(t)
	ctx := testCtx(t)
	real := redis.NewClient(&redis.Options{Network: "unix", Addr: startRedisServer(t)})
	defer real.Close()
	gw := g.redisClient(2)
	for _, dir := range []struct {
		name     string
		from, to *redis.Client
	}{{"redis-to-gateway", real, gw}, {"gateway-to-redis", gw, real}} {
		for _, v := range dumpValues() {
			t.Run(dir.name+"/"+v.key, func(t *testing.T) {
				src, dst := "src:"+v.key, "dst:"+v.key
				if err := v.write(ctx, dir.from, src); err != nil {
					t.Fatal(err)
				}
				payload := r(dir.from.Dump(ctx, src).Result()).must(t, "DUMP")
				if err := dir.to.RestoreReplace(ctx, dst, 0, payload).Err(); err != nil {
					t.Fatalf("RESTORE of %d bytes (type %d): %v", len(payload), payload[0], err)
				}
				want := r(v.read(ctx, dir.from, src)).must(t, "read source")
				if got := r(v.read(ctx, dir.to, dst)).must(t, "read restored"); got != want {
					t.Fatalf("restored value differs:\n got %.300s\nwant %.300s", got, want)
				}
			})
		}
	}
}

// TestRedisRestoreRejectsDamage sends the gateway payloads with a wrong
// checksum and cut short, from a real DUMP: each gets Redis's error and
// leaves no key; the gateway keeps serving.
func TestRedisRestoreRejectsDamage(t *testing.T) {
	g := startGateway(t)
	ctx := testCtx(t)
	c := g.redisClient(2)
	if err := c.RPush(ctx, "l", "a", strings.Repeat("abc", 100), 42).Err(); err != nil {
		t.Fatal(err)
	}
	payload := []byte(r(c.Dump(ctx, "l").Result()).must(t, "DUMP"))
	flipped := bytes.Clone(payload)
	flipped[5] ^= 0x40
	expectErr(t, "RESTORE with a wrong checksum", c.Restore(ctx, "x", 0, string(flipped)).Err(), "ERR DUMP payload version or checksum are wrong")
	for n := range len(payload) {
		expectErr(t, fmt.Sprintf("RESTORE cut to %d bytes", n), c.Restore(ctx, "x", 0, string(payload[:n])).Err(), "ERR DUMP payload version or checksum are wrong")
	}
	// A cut object under a recomputed footer is a bad format.
	body := payload[:len(payload)-10]
	for _, n := range []int{1, 2, 5, len(body) / 2, len(body) - 1} {
		p := binary.LittleEndian.AppendUint16(bytes.Clone(body[:n]), 10)
		p = binary.LittleEndian.AppendUint64(p, rdb.CRC64(0, p))
		expectErr(t, fmt.Sprintf("RESTORE of an object cut to %d bytes", n), c.Restore(ctx, "x", 0, string(p)).Err(), "ERR Bad data format")
	}
	if n := r(c.Exists(ctx, "x").Result()).must(t, "EXISTS"); n != 0 {
		t.Fatal("a rejected RESTORE left a key")
	}
	if err := c.Restore(ctx, "x", 0, string(payload)).Err(); err != nil {
		t.Fatal(err)
	}
	if got := r(c.LLen(ctx, "x").Result()).must(t, "LLEN"); got != 3 {
		t.Fatalf("restored list has %d items", got)
	}
}

// redisPyDump moves values between two servers with redis-py (DUMP on
// the first, RESTORE on the second) and uses its SORT, SORT_RO, OBJECT
// and LCS helpers on the second; argv: each server's port or unix socket.
const redisPyDump = `
import sys, redis
def connect(addr):
    return redis.Redis(port=int(addr)) if addr.isdigit() else redis.Redis(unix_socket_path=addr)
a, b = connect(sys.argv[1]), connect(sys.argv[2])
for c in (a, b):
    c.flushall()
a.rpush("l", *[str(i * 7 % 100) for i in range(300)])
a.sadd("s", *range(600))
a.hset("h", mapping={"f%d" % i: "v" * (i % 60) for i in range(100)})
a.zadd("z", {"m%d" % i: i / 3 for i in range(200)})
a.set("str", "lzf " * 1000)
for k in ("l", "s", "h", "z", "str"):
    b.restore(k, 0, a.dump(k), replace=True)
assert b.lrange("l", 0, -1) == a.lrange("l", 0, -1)
assert b.smembers("s") == a.smembers("s")
assert b.hgetall("h") == a.hgetall("h")
assert b.zrange("z", 0, -1, withscores=True) == a.zrange("z", 0, -1, withscores=True)
assert b.get("str") == a.get("str")
try:
    b.restore("l", 0, a.dump("l"))
    raise SystemExit("RESTORE over a key")
except redis.exceptions.ResponseError as e:
    assert str(e).startswith("BUSYKEY"), e
nums = sorted(int(x) for x in a.lrange("l", 0, -1))
assert [int(x) for x in b.sort("l")] == nums
assert [int(x) for x in b.sort("l", desc=True, start=5, num=10)] == sorted(nums, reverse=True)[5:15]
assert b.sort("l", store="sorted") == 300 and [int(x) for x in b.lrange("sorted", 0, -1)] == nums
b.mset({"w_%d" % i: 100 - i for i in range(10)})
b.rpush("ids", *range(10))
assert b.sort("ids", by="w_*", get=["#", "w_*"]) == [x for i in range(9, -1, -1) for x in (str(i).encode(), str(100 - i).encode())]
assert b.sort_ro("ids", by="w_*", alpha=True)[:2] == [b"0", b"9"]  # "100" < "91"
assert b.object("encoding", "s") == b"hashtable" and b.object("encoding", "h") == b"listpack"
assert b.object("encoding", "z") == b"skiplist" and b.object("encoding", "l") == b"quicklist"
assert b.object("refcount", "str") == 1
b.mset({"k1": "ohmytext", "k2": "mynewtext"})
assert b.lcs("k1", "k2") == b"mytext" and b.lcs("k1", "k2", len=True) == 6
print("ok")
`

// TestRedisPyDump runs redis-py's DUMP, RESTORE, SORT, OBJECT and LCS
// between redis-server and the gateway, both ways.
func TestRedisPyDump(t *testing.T) {
	gw, real := startGateway(t).port("redis"), startRedisServer(t)
	for _, dir := range [][2]string{{real, gw}, {gw, real}} {
		out, err := exec.Command("/usr/bin/python3", "-c", redisPyDump, dir[0], dir[1]).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "ok" {
			t.Fatalf("python3-redis from %s to %s: %v\n%s", dir[0], dir[1], err, out)
		}
	}
}
