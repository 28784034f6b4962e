package conformance

import (
	"errors"
	"fmt"
	"math"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// expectErr checks that err is a Redis error with exactly the text want.
func expectErr(t *testing.T, what string, err error, want string) {
	t.Helper()
	var re redis.Error
	if !errors.As(err, &re) {
		t.Fatalf("%s: got %v, want error %q", what, err, want)
	}
	if re.Error() != want {
		t.Fatalf("%s: error %q, want %q", what, re.Error(), want)
	}
}

// res carries a client call's two results so that they can be checked in
// one expression: r(c.Get(ctx, k).Result()).must(t, "GET").
type res[T any] struct {
	v   T
	err error
}

func r[T any](v T, err error) res[T] { return res[T]{v, err} }

func (x res[T]) must(t *testing.T, what string) T {
	t.Helper()
	if x.err != nil {
		t.Fatalf("%s: %v", what, x.err)
	}
	return x.v
}

// TestRedisStrings drives the first slice of string and key commands
// through go-redis, over RESP2 and RESP3, checking Redis's exact replies.
func TestRedisStrings(t *testing.T) { testRedisStrings(t, startGateway(t)) }

func testRedisStrings(t *testing.T, g redisTarget) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			ctx := testCtx(t)
			c := g.redisClient(proto)
			p := func(k string) string { return fmt.Sprintf("p%d:%s", proto, k) }
			if got := r(c.Ping(ctx).Result()).must(t, "PING"); got != "PONG" {
				t.Fatalf("PING = %q", got)
			}
			if got := r(c.Echo(ctx, "hi\r\nthere").Result()).must(t, "ECHO"); got != "hi\r\nthere" {
				t.Fatalf("ECHO = %q", got)
			}
			if _, err := c.Get(ctx, p("missing")).Result(); err != redis.Nil {
				t.Fatalf("GET missing: %v, want nil", err)
			}
			if got := r(c.Set(ctx, p("k"), "v1", 0).Result()).must(t, "SET"); got != "OK" {
				t.Fatalf("SET = %q", got)
			}
			if got := r(c.Get(ctx, p("k")).Result()).must(t, "GET"); got != "v1" {
				t.Fatalf("GET = %q", got)
			}
			// Binary-safe values, empty values.
			bin := "\x00\xff\r\n$*"
			r(c.Set(ctx, p("bin"), bin, 0).Result()).must(t, "SET bin")
			if got := r(c.Get(ctx, p("bin")).Result()).must(t, "GET bin"); got != bin {
				t.Fatalf("GET bin = %q", got)
			}
			r(c.Set(ctx, p("empty"), "", 0).Result()).must(t, "SET empty")
			if got, err := c.Get(ctx, p("empty")).Result(); err != nil || got != "" {
				t.Fatalf("GET empty = %q, %v", got, err)
			}

			// NX / XX.
			if ok := r(c.SetNX(ctx, p("k"), "v2", 0).Result()).must(t, "SETNX existing"); ok {
				t.Fatal("SET NX on an existing key succeeded")
			}
			if ok := r(c.SetXX(ctx, p("nokey"), "v", 0).Result()).must(t, "SET XX missing"); ok {
				t.Fatal("SET XX on a missing key succeeded")
			}
			if ok := r(c.SetXX(ctx, p("k"), "v2", 0).Result()).must(t, "SET XX existing"); !ok {
				t.Fatal("SET XX on an existing key failed")
			}
			// GET option returns the old value, also when NX stops the write.
			if got := r(c.SetArgs(ctx, p("k"), "v3", redis.SetArgs{Get: true}).Result()).must(t, "SET GET"); got != "v2" {
				t.Fatalf("SET GET = %q, want v2", got)
			}
			if got := r(c.Do(ctx, "SET", p("k"), "v4", "NX", "GET").Text()).must(t, "SET NX GET"); got != "v3" {
				t.Fatalf("SET NX GET = %q, want v3", got)
			}
			if _, err := c.Do(ctx, "SET", p("fresh"), "x", "GET").Result(); err != redis.Nil {
				t.Fatalf("SET GET on a missing key: %v, want nil", err)
			}

			// Expiry: EX/PX set a TTL, KEEPTTL keeps it, a plain SET drops it.
			r(c.Set(ctx, p("ttl"), "v", 100*time.Second).Result()).must(t, "SET EX")
			if ttl := r(c.TTL(ctx, p("ttl")).Result()).must(t, "TTL"); ttl < 99*time.Second || ttl > 100*time.Second {
				t.Fatalf("TTL after EX 100 = %v", ttl)
			}
			r(c.SetArgs(ctx, p("ttl"), "w", redis.SetArgs{KeepTTL: true}).Result()).must(t, "SET KEEPTTL")
			if ttl := r(c.TTL(ctx, p("ttl")).Result()).must(t, "TTL"); ttl < 98*time.Second {
				t.Fatalf("TTL after KEEPTTL = %v", ttl)
			}
			r(c.Set(ctx, p("ttl"), "x", 0).Result()).must(t, "SET")
			if ttl := r(c.TTL(ctx, p("ttl")).Result()).must(t, "TTL"); ttl != -1 {
				t.Fatalf("TTL after plain SET = %v, want -1", ttl)
			}
			if ttl := r(c.Do(ctx, "TTL", p("nokey")).Int()).must(t, "TTL missing"); ttl != -2 {
				t.Fatalf("TTL of missing key = %d, want -2", ttl)
			}
			r(c.Set(ctx, p("short"), "v", 150*time.Millisecond).Result()).must(t, "SET PX")
			if n := r(c.Exists(ctx, p("short")).Result()).must(t, "EXISTS short"); n != 1 {
				t.Fatal("key with PX 150 gone at once")
			}
			waitFor(t, "PX key to expire", 10*time.Second, func() bool {
				_, err := c.Get(ctx, p("short")).Result()
				return err == redis.Nil
			})
			past := time.Now().Add(-time.Hour).UnixMilli()
			r(c.Do(ctx, "SET", p("past"), "v", "PXAT", past).Text()).must(t, "SET PXAT past")
			if n := r(c.Exists(ctx, p("past")).Result()).must(t, "EXISTS past"); n != 0 {
				t.Fatal("key with PXAT in the past exists")
			}
			// An expired key counts as missing for NX and INCR.
			if ok := r(c.SetNX(ctx, p("past"), "again", 0).Result()).must(t, "SETNX over expired"); !ok {
				t.Fatal("SET NX over an expired key failed")
			}

			// Counters.
			if n := r(c.Incr(ctx, p("n")).Result()).must(t, "INCR"); n != 1 {
				t.Fatalf("INCR new = %d", n)
			}
			if n := r(c.IncrBy(ctx, p("n"), 41).Result()).must(t, "INCRBY"); n != 42 {
				t.Fatalf("INCRBY = %d", n)
			}
			if n := r(c.Decr(ctx, p("n")).Result()).must(t, "DECR"); n != 41 {
				t.Fatalf("DECR = %d", n)
			}
			if n := r(c.DecrBy(ctx, p("n"), 50).Result()).must(t, "DECRBY"); n != -9 {
				t.Fatalf("DECRBY = %d", n)
			}
			if got := r(c.Get(ctx, p("n")).Result()).must(t, "GET counter"); got != "-9" {
				t.Fatalf("counter reads %q", got)
			}
			r(c.Set(ctx, p("max"), math.MaxInt64, 0).Result()).must(t, "SET max")
			_, err := c.Incr(ctx, p("max")).Result()
			expectErr(t, "INCR at max", err, "ERR increment or decrement would overflow")
			_, err = c.Incr(ctx, p("k")).Result()
			expectErr(t, "INCR non-integer", err, "ERR value is not an integer or out of range")
			_, err = c.Do(ctx, "INCRBY", p("n"), "1.5").Result()
			expectErr(t, "INCRBY 1.5", err, "ERR value is not an integer or out of range")
			_, err = c.Do(ctx, "INCRBY", p("n"), "+1").Result()
			expectErr(t, "INCRBY +1", err, "ERR value is not an integer or out of range")
			_, err = c.Do(ctx, "DECRBY", p("n"), "-9223372036854775808").Result()
			expectErr(t, "DECRBY min", err, "ERR decrement would overflow")
			r(c.Set(ctx, p("sp"), " 1", 0).Result()).must(t, "SET spaced")
			_, err = c.Incr(ctx, p("sp")).Result()
			expectErr(t, "INCR ' 1'", err, "ERR value is not an integer or out of range")
			// INCR keeps the TTL.
			r(c.Set(ctx, p("tc"), "5", 100*time.Second).Result()).must(t, "SET EX counter")
			r(c.Incr(ctx, p("tc")).Result()).must(t, "INCR ttl")
			if ttl := r(c.TTL(ctx, p("tc")).Result()).must(t, "TTL"); ttl < 98*time.Second {
				t.Fatalf("INCR dropped the TTL: %v", ttl)
			}

			// MSET / MGET / EXISTS / DEL / DBSIZE.
			r(c.MSet(ctx, p("a"), "1", p("b"), "2", p("a"), "3").Result()).must(t, "MSET")
			got := r(c.MGet(ctx, p("a"), p("b"), p("none")).Result()).must(t, "MGET")
			if len(got) != 3 || got[0] != "3" || got[1] != "2" || got[2] != nil {
				t.Fatalf("MGET = %#v", got)
			}
			if n := r(c.Exists(ctx, p("a"), p("a"), p("none"), p("b")).Result()).must(t, "EXISTS"); n != 3 {
				t.Fatalf("EXISTS a a none b = %d, want 3", n)
			}
			before := r(c.DBSize(ctx).Result()).must(t, "DBSIZE")
			if n := r(c.Del(ctx, p("a"), p("b"), p("none"), p("a")).Result()).must(t, "DEL"); n != 2 {
				t.Fatalf("DEL = %d, want 2", n)
			}
			if after := r(c.DBSize(ctx).Result()).must(t, "DBSIZE"); after != before-2 {
				t.Fatalf("DBSIZE %d -> %d after deleting 2", before, after)
			}

			// Errors, word for word.
			_, err = c.Do(ctx, "GET").Result()
			expectErr(t, "GET arity", err, "ERR wrong number of arguments for 'get' command")
			_, err = c.Do(ctx, "MSET", p("a"), "1", p("b")).Result()
			expectErr(t, "MSET odd", err, "ERR wrong number of arguments for 'mset' command")
			_, err = c.Do(ctx, "SET", p("k"), "v", "NX", "XX").Result()
			expectErr(t, "SET NX XX", err, "ERR syntax error")
			_, err = c.Do(ctx, "SET", p("k"), "v", "EX", "10", "PX", "100").Result()
			expectErr(t, "SET EX PX", err, "ERR syntax error")
			_, err = c.Do(ctx, "SET", p("k"), "v", "EX").Result()
			expectErr(t, "SET EX without value", err, "ERR syntax error")
			_, err = c.Do(ctx, "SET", p("k"), "v", "EX", "0").Result()
			expectErr(t, "SET EX 0", err, "ERR invalid expire time in 'set' command")
			_, err = c.Do(ctx, "SET", p("k"), "v", "PX", "-5").Result()
			expectErr(t, "SET PX -5", err, "ERR invalid expire time in 'set' command")
			_, err = c.Do(ctx, "SET", p("k"), "v", "EX", "ten").Result()
			expectErr(t, "SET EX ten", err, "ERR value is not an integer or out of range")
			_, err = c.Do(ctx, "SET", p("k"), "v", "EX", "9223372036854775807").Result()
			expectErr(t, "SET EX huge", err, "ERR invalid expire time in 'set' command")
			_, err = c.Do(ctx, "NOSUCHCMD", "a", "b").Result()
			expectErr(t, "unknown command", err, "ERR unknown command 'NOSUCHCMD', with args beginning with: 'a' 'b' ")
			_, err = c.Do(ctx, "SELECT", "16").Result()
			expectErr(t, "SELECT 16", err, "ERR DB index is out of range")
			// The failed commands wrote nothing.
			if got := r(c.Get(ctx, p("k")).Result()).must(t, "GET k"); got != "v3" {
				t.Fatalf("GET k after failed SETs = %q, want v3", got)
			}
		})
	}
}

// TestRedisPipelineAndDatabases checks read-your-writes inside a pipeline
// and that SELECT separates databases.
func TestRedisPipelineAndDatabases(t *testing.T) {
	g := startGateway(t)
	ctx := testCtx(t)
	c := g.redisClient(2)
	pipe := c.Pipeline()
	var incrs []*redis.IntCmd
	var gets []*redis.StringCmd
	for i := range 50 {
		incrs = append(incrs, pipe.Incr(ctx, "pc"))
		gets = append(gets, pipe.Get(ctx, "pc"))
		pipe.Set(ctx, fmt.Sprint("pk", i), i, 0)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range incrs {
		if incrs[i].Val() != int64(i+1) || gets[i].Val() != fmt.Sprint(i+1) {
			t.Fatalf("pipeline step %d: INCR %d, GET %q", i, incrs[i].Val(), gets[i].Val())
		}
	}
	other := redis.NewClient(&redis.Options{Addr: g.addr("redis"), DB: 5})
	defer other.Close()
	if _, err := other.Get(ctx, "pc").Result(); err != redis.Nil {
		t.Fatalf("db 5 sees db 0's key: %v", err)
	}
	r(other.Set(ctx, "pc", "five", 0).Result()).must(t, "SET db5")
	if got := r(c.Get(ctx, "pc").Result()).must(t, "GET db0"); got != "50" {
		t.Fatalf("db 0 pc = %q after db 5 write", got)
	}
	if n := r(other.DBSize(ctx).Result()).must(t, "DBSIZE db5"); n != 1 {
		t.Fatalf("DBSIZE db5 = %d", n)
	}
}

// TestRedisPipelinedWritesKeepOrder sends thousands of writes in one
// pipeline with no read between them: they must apply in the order sent,
// across the bundles the connection groups them into.
func TestRedisPipelinedWritesKeepOrder(t *testing.T) {
	testRedisPipelinedWritesKeepOrder(t, startGateway(t))
}

func testRedisPipelinedWritesKeepOrder(t *testing.T, g redisTarget) {
	ctx := testCtx(t)
	c := g.redisClient(2)
	const n = 3000
	pipe := c.Pipeline()
	var appends, incrs []*redis.IntCmd
	var want strings.Builder
	for i := range n {
		s := fmt.Sprint(i, ",")
		want.WriteString(s)
		appends = append(appends, pipe.Append(ctx, "order", s))
		incrs = append(incrs, pipe.Incr(ctx, "n"))
		if i%500 == 250 {
			pipe.Incr(ctx, "order") // fails: not an integer; the rest go on
		}
	}
	if _, err := pipe.Exec(ctx); err == nil {
		t.Fatal("pipeline with failing INCRs reported no error")
	}
	for i := range n {
		if err := appends[i].Err(); err != nil {
			t.Fatalf("APPEND %d: %v", i, err)
		}
		if i > 0 && appends[i].Val() <= appends[i-1].Val() {
			t.Fatalf("APPEND %d returned %d after %d: writes reordered", i, appends[i].Val(), appends[i-1].Val())
		}
		if incrs[i].Val() != int64(i+1) {
			t.Fatalf("INCR %d returned %d: writes reordered", i, incrs[i].Val())
		}
	}
	if got := r(c.Get(ctx, "order").Result()).must(t, "GET order"); got != want.String() {
		t.Fatalf("order holds %d bytes, want %d; writes applied out of order", len(got), want.Len())
	}
}

// redisCLI runs redis-cli against the gateway.
func redisCLI(t *testing.T, g *gateway, stdin string, args ...string) string {
	t.Helper()
	path, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Fatal("redis-cli not found: install Debian's redis-tools (.ci/run does)")
	}
	cmd := exec.Command(path, append([]string{"-h", "127.0.0.1", "-p", g.port("redis")}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// TestRedisCLI drives the gateway with Debian's redis-cli, one command per
// invocation and as a script on stdin.
func TestRedisCLI(t *testing.T) {
	g := startGateway(t)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"PING"}, "PONG\n"},
		{[]string{"SET", "greeting", "hello world"}, "OK\n"},
		{[]string{"GET", "greeting"}, "hello world\n"},
		{[]string{"GET", "nothing"}, "\n"},
		{[]string{"INCR", "visits"}, "1\n"},
		{[]string{"INCRBY", "visits", "9"}, "10\n"},
		{[]string{"MSET", "x", "1", "y", "2"}, "OK\n"},
		{[]string{"MGET", "x", "y", "z"}, "1\n2\n\n"},
		{[]string{"EXISTS", "x", "z"}, "1\n"},
		{[]string{"DEL", "x", "z"}, "1\n"},
		{[]string{"DBSIZE"}, "3\n"},
		// redis-cli prints an error in raw mode with an empty line after it.
		{[]string{"INCR", "greeting"}, "ERR value is not an integer or out of range\n\n"},
		{[]string{"FROB", "x"}, "ERR unknown command 'FROB', with args beginning with: 'x' \n\n"},
	}
	for _, c := range cases {
		if got := redisCLI(t, g, "", c.args...); got != c.want {
			t.Fatalf("redis-cli %q = %q, want %q", c.args, got, c.want)
		}
	}
	// Interactive-style script on stdin, with redis-cli's own formatting.
	script := "SET s 1\nINCR s\nGET s\nSET s 5 EX 100\nTTL s\nECHO \"quoted value\"\n"
	got := redisCLI(t, g, script)
	want := "OK\n2\n2\nOK\n100\nquoted value\n"
	if got != want {
		t.Fatalf("redis-cli script output %q, want %q", got, want)
	}
	// Raw-protocol view of a nil and an error, as redis-cli shows them.
	if got := redisCLI(t, g, "", "--no-raw", "GET", "nothing"); got != "(nil)\n" {
		t.Fatalf("redis-cli --no-raw GET nothing = %q", got)
	}
	if got := redisCLI(t, g, "", "--no-raw", "INCR", "greeting"); got != "(error) ERR value is not an integer or out of range\n" {
		t.Fatalf("redis-cli --no-raw INCR error = %q", got)
	}
}

// startRedisServer starts Debian's redis-server on a unix socket (no
// persistence) and returns the socket's path.
func startRedisServer(t *testing.T, extra ...string) string {
	t.Helper()
	server, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal("redis-server not found: install Debian's redis-server (.ci/run does)")
	}
	sock := filepath.Join(t.TempDir(), "redis.sock")
	rs := exec.Command(server, append([]string{"--port", "0", "--unixsocket", sock, "--save", "", "--appendonly", "no"}, extra...)...)
	if err := rs.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rs.Process.Kill(); rs.Wait() })
	// The socket file appears when it is bound, a moment before the
	// server listens on it: wait until a connection is accepted.
	waitFor(t, "redis-server socket", 10*time.Second, func() bool {
		c, err := net.Dial("unix", sock)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
	return sock
}

// diffWithRedis runs one redis-cli script (one command per line) against
// the gateway g and against a fresh redis-server, in raw and in formatted
// mode, and fails on the first line that differs. Scripts must avoid
// replies whose order Redis leaves unspecified.
func diffWithRedis(t *testing.T, g *gateway, script string) {
	t.Helper()
	diffWithRedisProto(t, g, script)
}

// diffWithRedisRESP3 is diffWithRedis over RESP3 (redis-cli -3), from
// empty databases.
func diffWithRedisRESP3(t *testing.T, g *gateway, script string) {
	t.Helper()
	diffWithRedisProto(t, g, "FLUSHALL\n"+script, "-3")
}

// diffScriptsWithRedis runs diffWithRedis and diffWithRedisRESP3 for
// each script in turn, on the one gateway.
func diffScriptsWithRedis(t *testing.T, g *gateway, scripts ...string) {
	t.Helper()
	for _, s := range scripts {
		diffWithRedis(t, g, s)
		diffWithRedisRESP3(t, g, s)
	}
}

func diffWithRedisProto(t *testing.T, g *gateway, script string, extra ...string) {
	t.Helper()
	diffWithRedisMasked(t, g, script, nil, extra...)
}

// diffWithRedisMasked is diffWithRedisProto with both outputs passed
// through mask (if not nil) before they are compared, to hide what
// legitimately differs (ages, client details).
func diffWithRedisMasked(t *testing.T, g *gateway, script string, mask func(string) string, extra ...string) {
	t.Helper()
	sock := startRedisServer(t)
	run := func(args ...string) string {
		cmd := exec.Command("redis-cli", append(extra, args...)...)
		cmd.Stdin = strings.NewReader(script)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	for _, mode := range []string{"--no-raw", "--raw"} {
		want := dropCLITimings(run(mode, "-s", sock))
		got := dropCLITimings(run(mode, "-h", "127.0.0.1", "-p", g.port("redis")))
		if mask != nil {
			want, got = mask(want), mask(got)
		}
		if got != want {
			gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
			for i := range min(len(gl), len(wl)) {
				if gl[i] != wl[i] {
					t.Fatalf("%v %s: line %d differs: gateway %q, redis-server %q\n--- gateway:\n%s\n--- redis-server:\n%s", extra, mode, i+1, gl[i], wl[i], got, want)
				}
			}
			t.Fatalf("%v %s: output lengths differ\n--- gateway:\n%s\n--- redis-server:\n%s", extra, mode, got, want)
		}
	}
}

// cliTiming is the line redis-cli prints, in its formatted mode, after a
// reply that took half a second or more ("(0.69s)"); a loaded machine
// can delay any command that long.
var cliTiming = regexp.MustCompile(`(?m)^\(\d+\.\d\ds\)\n`)

// dropCLITimings removes redis-cli's timing lines from its output. A
// reply never prints as such a line in formatted mode (strings are
// quoted there), and raw mode prints no timings.
func dropCLITimings(out string) string { return cliTiming.ReplaceAllString(out, "") }

// cliScript is a redis-cli script (one command per line) of the first slice of commands (strings, counters, SET options, SELECT);
// it is diffed against redis-server on one gateway and on an ensemble.
var cliScript = strings.Join([]string{
	"PING", "PING hello", "ECHO \"a b\"",
	"SET k v", "GET k", "SET k v2 NX", "SET k v3 XX GET", "SET k v4 NX GET", "GET k",
	"SET n 10", "INCR n", "DECR n", "INCRBY n -20", "DECRBY n 5", "INCR k",
	"SET big 9223372036854775807", "INCR big", "INCRBY n abc", "DECRBY n -9223372036854775808",
	"MSET a 1 b 2 c 3", "MGET a b c d", "MSET a", "EXISTS a b d a", "DEL a d", "DBSIZE",
	"SET e 1 EX 0", "SET e 1 PX -1", "SET e 1 EX x", "SET e 1 NX XX", "SET e 1 KEEPTTL EX 5", "SET e 1 FOO",
	"SET t 1 EX 1000", "TTL t", "SET t 2 KEEPTTL", "TTL t", "SET t 3", "TTL t", "TTL nokey", "PTTL nokey",
	"GET", "SET x", "GETX a", "SELECT 99", "SELECT x", "SELECT 3", "DBSIZE", "SELECT 0", "DBSIZE",
}, "\n") + "\n"

// TestRedisCLIMatchesRedisServer runs one redis-cli script against the
// gateway and against Debian's redis-server and requires identical output.
func TestRedisCLIMatchesRedisServer(t *testing.T) {
	g := startGateway(t)
	diffWithRedis(t, g, cliScript)
}

// scanScript is a redis-cli script (one command per line) of SCAN, HSCAN, SSCAN and ZSCAN argument handling;
// it is diffed against redis-server on one gateway and on an ensemble.
var scanScript = strings.Join([]string{
	"SET str v", "HSET h f v", "SADD s m", "ZADD z 1 m",
	`SCAN "" COUNT 100 TYPE string`, "SCAN +0 MATCH h TYPE hash", `SCAN " 1"`, "SCAN -", "SCAN 18446744073709551616",
	"SCAN 0 FOO", "SCAN 0 COUNT 0", "SCAN 0 COUNT x", "SCAN 0 MATCH", "SCAN 0 TYPE zset MATCH z COUNT 1000",
	"HSCAN nokey 0 FOO", "HSCAN str 0 FOO", "HSCAN h 0 FOO", "HSCAN h 0 TYPE hash", "HSCAN h x", "HSCAN nokey x", "HSCAN h 0 MATCH f*",
	"SSCAN nokey 0 COUNT 0", "SSCAN str 0 COUNT 0", "SSCAN s 0 COUNT 0", `SSCAN s "" MATCH m`,
	"ZSCAN nokey 0 FOO", "ZSCAN str 0 FOO", "ZSCAN z 0 COUNT 1", "ZSCAN z 0 TYPE zset", "ZSCAN z abc",
}, "\n")

// TestRedisScanMatchesRedisServer diffs SCAN, HSCAN, SSCAN and ZSCAN
// argument handling against redis-server: cursors as strtoul reads them,
// and a collection scan's key looked at before its options.
func TestRedisScanMatchesRedisServer(t *testing.T) {
	g := startGateway(t)
	diffWithRedis(t, g, scanScript)
	// A cursor this node never handed out (-1 is 2^64-1) is accepted and
	// starts the scan over, so that no key is missed.
	ctx := testCtx(t)
	cur, err := g.redisClient(2).Do(ctx, "SCAN", "-1", "COUNT", "100").Slice()
	if err != nil {
		t.Fatalf("SCAN -1: %v", err)
	}
	if len(cur) != 2 || len(cur[1].([]any)) != 4 {
		t.Fatalf("SCAN -1 = %v", cur)
	}
}

// TestRedisScanSteps: SCAN in small steps, with MATCH and TYPE, returns
// every key exactly once when nothing changes meanwhile, and every key
// present throughout when keys are added and deleted between steps.
func TestRedisScanSteps(t *testing.T) { testRedisScanSteps(t, startGateway(t)) }

func testRedisScanSteps(t *testing.T, g redisTarget) {
	ctx := testCtx(t)
	c := g.redisClient(2)
	var all []string
	for i := range 300 {
		k := fmt.Sprintf("scan:%03d", i)
		all = append(all, k)
		if i%3 == 0 {
			r(c.SAdd(ctx, k, "m").Result()).must(t, "SADD")
		} else {
			r(c.Set(ctx, k, "v", 0).Result()).must(t, "SET")
		}
	}
	scanAll := func(match, typ string, during func(step int)) map[string]int {
		seen := map[string]int{}
		var cursor uint64
		for step := 0; ; step++ {
			keys, next, err := c.ScanType(ctx, cursor, match, 7, typ).Result()
			if err != nil {
				t.Fatalf("SCAN %d: %v", cursor, err)
			}
			for _, k := range keys {
				seen[k]++
			}
			if next == 0 {
				return seen
			}
			if step > 1000 {
				t.Fatal("SCAN does not finish")
			}
			if during != nil {
				during(step)
			}
			cursor = next
		}
	}
	seen := scanAll("scan:*", "", nil)
	for _, k := range all {
		if seen[k] != 1 {
			t.Fatalf("SCAN returned %s %d times", k, seen[k])
		}
	}
	if len(seen) != len(all) {
		t.Fatalf("SCAN returned %d keys, want %d", len(seen), len(all))
	}
	sets := scanAll("scan:*", "set", nil)
	if len(sets) != 100 {
		t.Fatalf("SCAN TYPE set returned %d keys, want 100", len(sets))
	}
	// Keys added and deleted between steps: every key present throughout
	// is returned.
	seen = scanAll("scan:*", "", func(step int) {
		r(c.Set(ctx, fmt.Sprintf("scan:new%03d", step), "v", 0).Result()).must(t, "SET")
		r(c.Del(ctx, fmt.Sprintf("scan:%03d", 299-step)).Result()).must(t, "DEL")
	})
	for _, k := range all[:250] {
		if seen[k] == 0 {
			t.Fatalf("SCAN under changes missed %s", k)
		}
	}
}

// stringsScript is a redis-cli script (one command per line) of the string and generic key commands, edge cases and errors included;
// it is diffed against redis-server on one gateway and on an ensemble.
var stringsScript = strings.Join([]string{
	"SETNX s 1", "SETNX s 2", "GET s", "SETEX s 100 v", "TTL s", "SETEX s 0 v", "SETEX s x v", "PSETEX p 100000 v", "TTL p",
	"GETSET s new", "GET s", "GETSET nokey v", "GETDEL s", "GETDEL s", "EXISTS s",
	"SET g v EX 100", "GETEX g", "TTL g", "GETEX g PERSIST", "TTL g", "GETEX g EX 50", "TTL g", "GETEX g PX 0", "GETEX g FOO", "GETEX nokey",
	"MSETNX m1 a m2 b", "MSETNX m2 x m3 y", "MGET m1 m2 m3", "MSETNX m1",
	"APPEND a hello", "APPEND a \" world\"", "GET a", "STRLEN a", "STRLEN nokey",
	"GETRANGE a 0 4", "GETRANGE a -5 -1", "GETRANGE a 5 3", "GETRANGE a -100 100", "GETRANGE a 0 x", "GETRANGE nokey 0 10",
	"SETRANGE a 6 WORLD", "GET a", "SETRANGE r 3 x", "GET r", "STRLEN r", "SETRANGE a -1 x", "SETRANGE a 2 \"\"",
	"SET f 10.5", "INCRBYFLOAT f 0.1", "INCRBYFLOAT f -5", "INCRBYFLOAT f 5.0e3", "INCRBYFLOAT f abc", "INCRBYFLOAT a 1", "INCRBYFLOAT newf 3",
	"SET i 1", "INCRBYFLOAT i 1.5", "GET i",
	"INCRBYFLOAT i 0x10", "INCRBYFLOAT i 0X1.8p1", "INCRBYFLOAT i 0x", "INCRBYFLOAT i inf", "INCRBYFLOAT i -inf",
	"INCRBYFLOAT i nan", "INCRBYFLOAT i 1e400", "INCRBYFLOAT i 1e5000", `INCRBYFLOAT i " 1"`, "SET hexv 0x20", "INCRBYFLOAT hexv 1",
	"SET inf inf", "INCRBYFLOAT inf 1", "RPUSH lst a", "INCRBYFLOAT lst abc", "DEL lst",
	"TYPE a", "TYPE nokey", "RENAME a b", "GET b", "EXISTS a", "RENAME nokey x", "RENAME b b", "SET c 1", "RENAMENX b c", "RENAMENX b d", "GET d",
	"COPY d d2", "GET d2", "COPY d d2", "COPY d d2 REPLACE", "COPY d d DB 0", "COPY d dd DB 3", "COPY nokey x", "COPY d x FOO",
	"SET e v", "EXPIRE e 100", "TTL e", "EXPIRE e 50 NX", "EXPIRE e 50 XX", "TTL e", "EXPIRE e 200 GT", "TTL e", "EXPIRE e 10 GT", "EXPIRE e 10 LT", "TTL e",
	"EXPIRE e 5 NX XX", "EXPIRE e 5 GT LT", "EXPIRE e 5 FOO", "EXPIRE e x", "EXPIRE nokey 10",
	"PERSIST e", "PERSIST e", "TTL e", "EXPIRE e 200 GT", "EXPIRE e 200 LT", "TTL e",
	"EXPIREAT e 4102444800", "EXPIRETIME e", "PEXPIRETIME e", "PEXPIREAT e 4102444800123", "PEXPIRETIME e", "EXPIRETIME nokey", "SET np 1", "EXPIRETIME np",
	"EXPIRE e -1", "EXISTS e", "SET e v", "PEXPIRE e 100000", "TTL e",
	"TOUCH c d nokey c", "MOVE c 1", "MOVE c 1", "EXISTS c", "SELECT 1", "GET c", "MOVE c 1", "SELECT 0", "MOVE nokey 1", "MOVE c 99",
	"SET x0 0", "SELECT 1", "SET x1 1", "SWAPDB 0 1", "GET x1", "GET x0", "SELECT 0", "GET x1", "GET x0", "SWAPDB 0 99", "SWAPDB a 1", "SWAPDB 0 1",
	"KEYS x0*", "KEYS x1*", "KEYS zz*", "DBSIZE", "SELECT 5", "SET only 1", "KEYS *", "RANDOMKEY", "FLUSHDB", "DBSIZE", "RANDOMKEY", "FLUSHDB FOO", "SELECT 0",
	"DEL i f newf", "UNLINK d d2 nokey", "FLUSHALL", "DBSIZE", "KEYS *",
}, "\n") + "\n"

// TestRedisStringsAndKeysMatchRedisServer diffs the string and generic key
// commands against redis-server, edge cases and errors included.
func TestRedisStringsAndKeysMatchRedisServer(t *testing.T) {
	g := startGateway(t)
	diffWithRedis(t, g, stringsScript)
}

// TestRedisActiveExpiry: keys with a TTL disappear from DBSIZE without any
// access, on every replica's clock-independent log time.
func TestRedisActiveExpiry(t *testing.T) { testRedisActiveExpiry(t, startGateway(t)) }

func testRedisActiveExpiry(t *testing.T, g redisTarget) {
	ctx := testCtx(t)
	c := g.redisClient(2)
	for i := range 50 {
		if err := c.Set(ctx, fmt.Sprint("temp", i), i, time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
	}
	c.Set(ctx, "keep", 1, 0)
	if n := r(c.DBSize(ctx).Result()).must(t, "DBSIZE"); n != 51 {
		t.Fatalf("DBSIZE = %d, want 51", n)
	}
	for i := range 50 {
		if !r(c.PExpire(ctx, fmt.Sprint("temp", i), time.Millisecond).Result()).must(t, "PEXPIRE") {
			t.Fatalf("PEXPIRE temp%d: no such key", i)
		}
	}
	// Nothing touches the keys; active expiry must remove them.
	waitFor(t, "expired keys to leave DBSIZE", 30*time.Second, func() bool {
		return r(c.DBSize(ctx).Result()).must(t, "DBSIZE") == 1
	})
}
