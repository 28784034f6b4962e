package conformance

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// hllScript exercises the HyperLogLog commands against redis-server: the
// values' bytes (GET after every kind of change), the sparse opcodes
// and their promotion to dense, the cached cardinality, merges, PFDEBUG,
// values changed or made by string commands, corrupt values, wrong types
// and arity.
var hllScript = buildHLLScript()

// hllHeader is a sparse header whose cached cardinality is stale.
const hllHeader = `HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80`

// esc renders b as a redis-cli double-quoted argument.
func esc(b []byte) string {
	var sb strings.Builder
	sb.WriteByte('"')
	for _, c := range b {
		fmt.Fprintf(&sb, `\x%02x`, c)
	}
	sb.WriteByte('"')
	return sb.String()
}

// pfaddLine adds n elements named format(from), format(from+1), ...
func pfaddLine(key, format string, from, n int) string {
	words := []string{"PFADD", key}
	for i := from; i < from+n; i++ {
		words = append(words, fmt.Sprintf(format, i))
	}
	return strings.Join(words, " ")
}

// hllCorrupt are strings that pass Redis's HyperLogLog check (magic,
// encoding, dense size) but whose registers are not well formed, or that
// fail the check; each is driven through every command.
func hllCorrupt() []string {
	ops := func(s string) string { return `"` + hllHeader + s + `"` }
	out := []string{
		ops(""),                           // no opcodes
		ops(`\x7f\xfe`),                   // one register short
		ops(`\x7f\xff\x00`),               // one register too many
		ops(`\x7f\xfd\x83`),               // a VAL past the last register
		ops(`\x7f\xff\x80`),               // a VAL after every register
		ops(`\x7f`),                       // an XZERO cut short
		ops(`\x7f\x00`),                   // opcodes that stop at 16129
		ops(strings.Repeat(`\x3f`, 300)),  // ZEROs past the end
		ops(strings.Repeat(`\x3f`, 256)),  // 256 ZEROs of 64: well formed
		ops(strings.Repeat(`\x83`, 4096)), // VALs only, longer than the sparse limit
		ops(strings.Repeat(`\xff`, 4096)), // every register 32
		ops(`\x40\x09\x84\x00\x7f\xf3`),   // well formed, hand made
		`"HYLL\x01\x00\x00\x00\x2a\x00\x00\x00\x00\x00\x00\x00\x7f\xfe"`, // a current cache over corrupt opcodes
		`"HYLL\x01\x00\x00\x00\x2a\x00\x00\x00\x00\x00\x00\x00"`,         // header only, current cache
		`"HYLL\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff"`, // unknown encoding
		`"HYLL\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff"`, // dense, wrong size
		`"hyll\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff"`, // wrong magic
		`"HYLL\x01\x00\x00\x00\x00\x00\x00"`,                             // truncated header
		"HYLL", "12345", `""`,
	}
	// Seeded random damage to a well formed sparse value: bytes changed,
	// dropped, repeated or cut off.
	rng := rand.New(rand.NewPCG(7, 11))
	base := []byte("HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x40\x09\x84\x00\x10\x91\x88\x3f\x7f\x00\x0c\x8a\x6f\x50")
	for range 24 {
		v := append([]byte(nil), base...)
		for range 1 + rng.IntN(3) {
			i := 16 + rng.IntN(len(v)-16)
			switch rng.IntN(4) {
			case 0:
				v[i] = byte(rng.IntN(256))
			case 1:
				v = append(v[:i], v[i+1:]...)
			case 2:
				v = append(v[:i+1], v[i:]...)
			default:
				v = v[:i]
			}
			if len(v) <= 16 {
				v = append(v, 0x7f)
			}
		}
		out = append(out, esc(v))
	}
	return out
}

func buildHLLScript() string {
	var l []string
	add := func(lines ...string) { l = append(l, lines...) }
	// Creation, changes, no-ops and the cached cardinality.
	add("PFADD h", "GET h", "PFDEBUG ENCODING h", "PFDEBUG DECODE h", "PFCOUNT h", "GET h", "PFADD h",
		"PFADD h a b c", "GET h", "PFADD h a b", "PFCOUNT h", "GET h", "PFCOUNT h", "PFADD h c", "GET h",
		"PFADD h d", "GET h", "PFCOUNT h", "GET h",
		`PFADD h "" "\x00\xff" "an element longer than eight bytes" "seven77" "eight888"`,
		"PFCOUNT h", "GET h", "STRLEN h", "TYPE h", "PFDEBUG DECODE h", "PFCOUNT nokey", "EXISTS nokey",
		"PFADD h a", "pfadd h A", "PfCount h", "GET h")
	// From sparse to dense, 100 new elements a line.
	for i := range 25 {
		add(pfaddLine("big", "user:%d", i*100, 100), "PFDEBUG ENCODING big", "STRLEN big")
		if i%4 == 0 || (i >= 14 && i <= 18) {
			add("PFCOUNT big", "GET big")
		}
	}
	add("PFCOUNT big", "PFCOUNT big", "GET big", "PFADD big user:5", "PFADD big user:2500 user:2501", "GET big",
		"PFCOUNT big", "PFDEBUG DECODE big", "PFDEBUG TODENSE big", "PFDEBUG ENCODING big")
	// PFCOUNT of several keys counts the union and changes none.
	add("PFADD s1 a b c", "PFADD s2 c d e", "PFADD s3 user:1 user:2 x y z", "PFCOUNT s1 s2", "PFCOUNT s1 s2 nokey",
		"PFCOUNT s1 s1", "PFCOUNT s1 big", "PFCOUNT big s1 s2 s3", "PFCOUNT nokey nokey2", "GET s1", "GET s2", "EXISTS nokey")
	// PFMERGE: sparse into new, existing, itself; dense sources make the
	// destination dense; the destination's own registers count.
	add("PFMERGE m s1 s2", "GET m", "PFCOUNT m", "PFDEBUG ENCODING m", "PFMERGE m", "GET m", "PFCOUNT m",
		"PFMERGE m2 nokey nokey2", "GET m2", "PFCOUNT m2", "PFMERGE s1 s2", "GET s1", "PFCOUNT s1",
		"PFMERGE m s3", "GET m", "PFCOUNT m", "PFMERGE md s3 big", "PFDEBUG ENCODING md", "GET md", "PFCOUNT md",
		"PFMERGE m big", "PFDEBUG ENCODING m", "GET m", "PFCOUNT m", "PFMERGE big s3 s2", "GET big", "PFCOUNT big",
		"PFMERGE m3 s1 s2 s3", "PFDEBUG DECODE m3", "PFCOUNT m3")
	// A time to live stays through every change.
	add("PFADD t x", "EXPIRE t 100", "PFADD t y", "TTL t", "PFCOUNT t", "TTL t", "PFMERGE t s3", "TTL t",
		"PFDEBUG TODENSE t", "TTL t", "PFADD t z", "TTL t", "PFMERGE nt t", "TTL nt")
	// PFDEBUG.
	add("PFDEBUG GETREG s2", "PFDEBUG ENCODING s2", "GET s2", "PFDEBUG TODENSE s2", "PFDEBUG TODENSE s1",
		"PFDEBUG DECODE s1", "PFDEBUG encoding s1", "PFDEBUG todense m3", "PFDEBUG FOO s1", "PFDEBUG GETREG nokey",
		"PFDEBUG FOO nokey", "PFDEBUG", "PFDEBUG GETREG", "PFDEBUG GETREG s1 s2", "PFDEBUG DECODE nokey", "EXISTS nokey")
	// WATCH: a PFCOUNT that caches its count touches the key, PFDEBUG's
	// re-encoding and a PFCOUNT from the cache do not.
	add("PFADD w a", "WATCH w", "PFDEBUG TODENSE w", "MULTI", "PING", "EXEC", "PFADD w2 a", "WATCH w2",
		"PFDEBUG ENCODING w2", "PFDEBUG GETREG w2", "PFDEBUG DECODE w2", "MULTI", "PING", "EXEC", "PFADD w3 a",
		"WATCH w3", "PFCOUNT w3", "MULTI", "PING", "EXEC", "WATCH w3", "PFCOUNT w3", "PFCOUNT w3 w2", "PFADD w3 a",
		"MULTI", "PING", "EXEC", "WATCH w3", "PFADD w3 b", "MULTI", "PING", "EXEC", "WATCH w3", "PFMERGE w3",
		"MULTI", "PING", "EXEC")
	// Dense values made and changed by string commands: registers up to
	// 63, a stale cache kept current by SETRANGE, sizes off by one.
	add(`SETRANGE dz 12303 "\x00"`, "PFCOUNT dz", "SETRANGE dz 0 HYLL", "PFDEBUG ENCODING dz", "PFCOUNT dz",
		"PFADD dz a", "PFCOUNT dz", `SETRANGE dz 16 "\xff\xff\xff"`, "PFCOUNT dz", `SETRANGE dz 15 "\x80"`,
		"PFCOUNT dz", "GET dz", `SETRANGE dz 200 "\x28\x00\xc0"`, `SETRANGE dz 15 "\x80"`, "PFCOUNT dz",
		"PFMERGE dm dz s3", "PFCOUNT dm", "PFDEBUG DECODE dz", "APPEND dz x", "PFCOUNT dz", "PFADD dz a",
		"PFMERGE dz s1", "PFMERGE s1 dz", "SETRANGE dz 12304 x", "PFCOUNT dz")
	// Sparse values changed by string commands.
	add("PFADD sp a b c d e f g", `SETRANGE sp 17 "\x00"`, "PFDEBUG DECODE sp", "PFCOUNT sp", "PFADD sp h",
		"GET sp", "APPEND sp z", "PFCOUNT sp", "PFADD sp i", "GET sp")
	// Wrong types; a failed command changes nothing.
	add("SET str hello", "PFADD str a", "PFCOUNT str", "PFCOUNT s1 str", "PFMERGE str s1", "PFMERGE s1 str",
		"PFMERGE nokey str", "EXISTS nokey", "PFDEBUG ENCODING str", "PFDEBUG GETREG str", "GET str",
		"SET num 12345", "PFADD num a", "PFCOUNT num", "LPUSH l a", "PFADD l a", "PFCOUNT l", "PFCOUNT s1 l",
		"PFMERGE l s1", "PFMERGE s1 l", "PFDEBUG ENCODING l", "SADD st a", "PFCOUNT st", "PFMERGE st",
		"HSET hs f v", "PFADD hs a", "GET s1")
	// Scripts and transactions.
	add(`EVAL "return redis.call('PFADD', KEYS[1], 'a', 'b')" 1 ev`, `EVAL "return redis.call('PFCOUNT', KEYS[1])" 1 ev`,
		"GET ev", `EVAL_RO "return redis.call('PFCOUNT', KEYS[1], KEYS[2])" 2 ev s1`,
		`EVAL_RO "return redis.call('PFADD', KEYS[1], 'c')" 1 ev`, "MULTI", "PFADD tx a", "PFCOUNT tx", "PFADD tx b",
		"PFCOUNT tx", "PFMERGE tx2 tx s1", "GET tx", "EXEC", "GET tx")
	// Arity.
	add("PFADD", "PFCOUNT", "PFMERGE", "PFSELFTEST x", "PFDEBUG x")
	return strings.Join(l, "\n") + "\n"
}

// hllCorruptScript drives each of hllCorrupt's strings through every
// command.
var hllCorruptScript = func() string {
	var l []string
	for i, v := range hllCorrupt() {
		k := fmt.Sprint("c", i)
		l = append(l, "SET "+k+" "+v, "PFCOUNT "+k, "PFCOUNT "+k+" nokey", "PFMERGE cm "+k, "PFDEBUG DECODE "+k,
			"PFADD "+k+" x", "GET "+k, "PFADD "+k+" y z w", "PFCOUNT "+k, "GET "+k, "PFDEBUG TODENSE "+k)
	}
	return strings.Join(l, "\n") + "\n"
}()

// TestRedisHyperLogLogMatchRedisServer diffs the HyperLogLog commands
// against redis-server, in RESP2 (raw and formatted) and RESP3.
func TestRedisHyperLogLogMatchRedisServer(t *testing.T) {
	g := startGateway(t)
	diffWithRedis(t, g, hllScript)
	diffWithRedisRESP3(t, g, hllScript)
}

// TestRedisHyperLogLogCorruptMatchRedisServer diffs the replies to
// strings that are no well formed HyperLogLog against redis-server's:
// INVALIDOBJ or WRONGTYPE where Redis answers them, and the same bytes
// where Redis changes the value anyway.
func TestRedisHyperLogLogCorruptMatchRedisServer(t *testing.T) {
	diffWithRedis(t, startGateway(t), hllCorruptScript)
}

// TestRedisHyperLogLogUniqueVisitors counts unique visitors on a 3-node
// ensemble through go-redis, each command on the next node, beside a
// redis-server fed the same commands: the counts are Redis's exactly, the
// values' bytes too, and within Redis's error of the truth.
func TestRedisHyperLogLogUniqueVisitors(t *testing.T) {
	e := startEnsemble(t, 3)
	ctx := testCtx(t)
	sock := startRedisServer(t)
	want := redis.NewClient(&redis.Options{Network: "unix", Addr: sock, MaxRetries: -1})
	defer want.Close()
	var nodes []*redis.Client
	for _, g := range e.nodes {
		nodes = append(nodes, g.redisClient(2))
	}
	turn := 0
	next := func() *redis.Client { turn++; return nodes[turn%len(nodes)] }
	both := func(what string, do func(c *redis.Client) (any, error)) any {
		t.Helper()
		wv, werr := do(want)
		gv, gerr := do(next())
		if g, w := renderReply(gv, gerr), renderReply(wv, werr); g != w {
			t.Fatalf("%s:\n gateway:      %.200s\n redis-server: %.200s", what, g, w)
		}
		return gv
	}

	// Three days of visits: a day's visitors come in batches on every
	// node; some return the next day.
	rng := rand.New(rand.NewPCG(1, 2))
	truth := map[string]bool{}
	var days []string
	for day := range 3 {
		key := fmt.Sprintf("visitors:day%d", day)
		days = append(days, key)
		daily := map[string]bool{}
		for batch := range 30 {
			var ids []any
			for range 100 {
				id := fmt.Sprintf("user-%d", rng.IntN(6000)+day*2000)
				ids = append(ids, id)
				daily[id], truth[id] = true, true
			}
			both(fmt.Sprintf("PFADD %s batch %d", key, batch), func(c *redis.Client) (any, error) {
				return c.PFAdd(ctx, key, ids...).Result()
			})
		}
		n := both("PFCOUNT "+key, func(c *redis.Client) (any, error) { return c.PFCount(ctx, key).Result() }).(int64)
		checkEstimate(t, key, n, len(daily))
		both("GET "+key, func(c *redis.Client) (any, error) { return c.Get(ctx, key).Result() })
	}
	n := both("PFCOUNT all days", func(c *redis.Client) (any, error) { return c.PFCount(ctx, days...).Result() }).(int64)
	checkEstimate(t, "union", n, len(truth))
	both("PFMERGE", func(c *redis.Client) (any, error) { return c.PFMerge(ctx, "visitors:all", days...).Result() })
	for range 3 {
		m := both("PFCOUNT merged", func(c *redis.Client) (any, error) { return c.PFCount(ctx, "visitors:all").Result() }).(int64)
		if m != n {
			t.Fatalf("the merged key counts %d, the union %d", m, n)
		}
	}
	for _, key := range append(days, "visitors:all") {
		both("GET "+key, func(c *redis.Client) (any, error) { return c.Get(ctx, key).Result() })
	}

	// A value copied from redis-server to the gateway and back keeps
	// counting the same.
	raw, err := want.Get(ctx, "visitors:day0").Result()
	if err != nil {
		t.Fatal(err)
	}
	r(nodes[0].Set(ctx, "copied", raw, 0).Result()).must(t, "SET copied")
	r(want.Set(ctx, "copied", raw, 0).Result()).must(t, "SET copied")
	both("PFADD copied", func(c *redis.Client) (any, error) { return c.PFAdd(ctx, "copied", "newcomer").Result() })
	both("PFCOUNT copied", func(c *redis.Client) (any, error) { return c.PFCount(ctx, "copied").Result() })
	both("GET copied", func(c *redis.Client) (any, error) { return c.Get(ctx, "copied").Result() })

	// Every node holds the same bytes.
	for i, c := range nodes {
		got := r(c.Get(ctx, "visitors:all").Result()).must(t, "GET")
		if exp := r(want.Get(ctx, "visitors:all").Result()).must(t, "GET"); got != exp {
			t.Fatalf("node %d holds other bytes than redis-server", i+1)
		}
	}
	// The sparse limit is Redis's default, and fixed: every replica
	// must promote a value at the same size.
	both("CONFIG GET", func(c *redis.Client) (any, error) {
		return c.ConfigGet(ctx, "hll-sparse-max-bytes").Result()
	})
	both("CONFIG SET 3000", func(c *redis.Client) (any, error) {
		return c.ConfigSet(ctx, "hll-sparse-max-bytes", "3000").Result()
	})
	_, err = nodes[2].ConfigSet(ctx, "hll-sparse-max-bytes", "100").Result()
	expectErr(t, "CONFIG SET hll-sparse-max-bytes 100", err,
		`ERR CONFIG SET failed (possibly related to argument 'hll-sparse-max-bytes') - this server supports only "3000"`)
	if s := r(nodes[1].Do(ctx, "PFSELFTEST").Result()).must(t, "PFSELFTEST"); s != "OK" {
		t.Fatalf("PFSELFTEST = %v", s)
	}
}

// checkEstimate requires n within 3% of the true count (HyperLogLog's
// standard error is 0.81%).
func checkEstimate(t *testing.T, what string, n int64, truth int) {
	t.Helper()
	if d := float64(n-int64(truth)) / float64(truth); d > 0.03 || d < -0.03 {
		t.Fatalf("%s: estimated %d, truly %d", what, n, truth)
	}
}
