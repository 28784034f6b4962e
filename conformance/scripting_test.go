package conformance

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func sha1hex(s string) string {
	h := sha1.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// scriptingScript is a redis-cli script of EVAL, EVALSHA, EVAL_RO and
// SCRIPT: replies of every type converted both ways, errors as Redis
// words them (redis.call and redis.pcall, compile-free runtime errors,
// globals protection), NOSCRIPT, cjson and bit, numbers and nils; it is
// diffed against redis-server on one gateway and on an ensemble.
var scriptingScript = strings.Join([]string{
	"SET s x",
	`EVAL "return 1" 0`, `EVAL "return -3.7" 0`, `EVAL "return 3.99" 0`, `EVAL "return 1e100" 0`,
	`EVAL "return {1,2,3,'ciao',{1,2}}" 0`, `EVAL "return {1,2,nil,4}" 0`,
	`EVAL "return true" 0`, `EVAL "return false" 0`, `EVAL "return nil" 0`,
	`EVAL "return redis.call('get','nokey')" 0`, `EVAL "return {ok='FINE'}" 0`, `EVAL "return {err='My Error'}" 0`,
	`EVAL "return redis.error_reply('MY x')" 0`, `EVAL "return redis.error_reply('-MY y')" 0`, `EVAL "return redis.status_reply('OKK')" 0`,
	`EVAL "return redis.call('incr','s')" 0`, `EVAL "return redis.pcall('incr','s')" 0`,
	`EVAL "local t = redis.pcall('incr','s'); return t['err']" 0`,
	`EVAL "return redis.call('nosuch')" 0`, `EVAL "return redis.pcall('nosuch')" 0`,
	`EVAL "return redis.call('incr','k','x')" 0`, `EVAL "return redis.call('multi')" 0`,
	`EVAL "return redis.call('blpop','x', 0)" 0`, `EVAL "return redis.call('eval','return 1', 0)" 0`,
	`EVAL "return foo" 0`, `EVAL "foo=1" 0`, `EVAL "error('x')" 0`, `EVAL "error('x', 0)" 0`,
	`EVAL "error({err='MYERR boom'})" 0`, `EVAL "error(42)" 0`,
	`EVAL "return redis.sha1hex('')" 0`, `EVAL "return redis.sha1hex('abc')" 0`,
	`EVAL "return cjson.encode({1,2,{a=1}})" 0`, `EVAL "return cjson.encode({a='x/y\"z'})" 0`,
	`EVAL "return cjson.decode('[1,2,{\"a\":1.5}]')[3].a" 0`,
	`EVAL "return cjson.encode(cjson.decode('{\"k\":[1,\"two\",null,true,-2.5]}'))" 0`,
	`EVAL "return cjson.encode({})" 0`, `EVAL "return cjson.decode('[1,2,3]')" 0`,
	`EVAL "return bit.band(0xff, 0x0f)" 0`, `EVAL "return bit.bor(1, 2, 4)" 0`, `EVAL "return bit.bxor(5, 3)" 0`,
	`EVAL "return bit.lshift(1, 31)" 0`, `EVAL "return bit.rshift(-1, 28)" 0`, `EVAL "return bit.arshift(-256, 4)" 0`,
	`EVAL "return bit.tobit(2^32 + 5)" 0`, `EVAL "return bit.tohex(255)" 0`, `EVAL "return bit.tohex(-1, -4)" 0`, `EVAL "return bit.bnot(0)" 0`,
	`EVAL "return tostring(0.1)" 0`, `EVAL "return tostring(1/0)" 0`, `EVAL "return tostring(1e100)" 0`, `EVAL "return tostring(-0.5)" 0`,
	`EVAL "return string.format('%5.2f', 3.14159)" 0`, `EVAL "return string.format('%d-%s', 7, 'x')" 0`,
	`EVAL "return KEYS[1] .. ARGV[1]" 1 k v`, `EVAL "return {KEYS[1], ARGV[1], ARGV[2]}" 1 k a b`, `EVAL "return #KEYS + #ARGV" 2 a b c`,
	`EVAL "return redis.call('set', KEYS[1], ARGV[1])" 1 mykey myval`, "GET mykey",
	`EVAL "return redis.call('get', KEYS[1])" 1 mykey`,
	`EVAL "return 1" -1`, `EVAL "return 1" 2 a`, `EVAL "return 1" x`, "EVAL", `EVAL "return 1"`,
	"EVALSHA ffffffffffffffffffffffffffffffffffffffff 0", "EVALSHA abc 0",
	`SCRIPT LOAD "return 'loaded'"`, "EVALSHA " + sha1hex("return 'loaded'") + " 0",
	"EVALSHA " + strings.ToUpper(sha1hex("return 'loaded'")) + " 0",
	"SCRIPT EXISTS " + sha1hex("return 'loaded'") + " ffffffffffffffffffffffffffffffffffffffff",
	`EVAL "return 'cached'" 0`, "EVALSHA " + sha1hex("return 'cached'") + " 0",
	"SCRIPT FLUSH", "SCRIPT EXISTS " + sha1hex("return 'loaded'"), "EVALSHA " + sha1hex("return 'loaded'") + " 0",
	"SCRIPT FLUSH ASYNC", "SCRIPT FLUSH NOW", "SCRIPT FOO", "SCRIPT KILL",
	`EVAL_RO "return redis.call('get', KEYS[1])" 1 mykey`, `EVAL_RO "return redis.call('set', KEYS[1], 1)" 1 mykey`,
	`SCRIPT LOAD "return redis.call('get', KEYS[1])"`, "EVALSHA_RO " + sha1hex("return redis.call('get', KEYS[1])") + " 1 mykey",
	`EVAL "return redis.call('hgetall','nokey')" 0`, "HSET h f v", `EVAL "return redis.call('hgetall','h')" 0`,
	`EVAL "redis.setresp(3); return redis.call('hgetall','h')" 0`, `EVAL "return redis.setresp(4)" 0`,
	`EVAL "return redis.call()" 0`, `EVAL "return redis.call('get', {})" 0`, `EVAL "return redis.call('get', 1.5)" 0`,
	`EVAL "return type(redis.replicate_commands())" 0`, `EVAL "return redis.REPL_ALL" 0`, `EVAL "return redis.set_repl(redis.REPL_ALL)" 0`,
	`EVAL "return redis.log(redis.LOG_WARNING, 'from a script')" 0`,
	`EVAL "return table.concat({'a','b'}, ',')" 0`, `EVAL "return loadstring('return 1')()" 0`,
	`EVAL "return type(print)" 0`, `EVAL "return type(dofile)" 0`, `EVAL "return string.rep('x', 3)" 0`,
	`EVAL "return {1, {}, 3}" 0`, `EVAL "return {a=1}" 0`, `EVAL "return unpack({1,2})" 0`,
	"MULTI", `EVAL "return redis.call('incr', KEYS[1])" 1 cnt`, `EVAL "return redis.call('incrby', KEYS[1], 10)" 1 cnt`, "EXEC",
	`EVAL "redis.call('rpush', KEYS[1], 'a', 'b'); return redis.call('lrange', KEYS[1], 0, -1)" 1 lst`,
	`EVAL "return redis.call('zadd', 'z', 1.5, 'm')" 0`, `EVAL "return redis.call('zscore', 'z', 'm')" 0`,
	`EVAL "return redis.call('ping')" 0`, `EVAL "return redis.call('select', 3)" 0`, `EVAL "return #redis.call('time')" 0`,
	`EVAL "redis.call('select', 5); redis.call('set', 'in5', 1); return redis.call('dbsize')" 0`, "DBSIZE", "SELECT 5", "GET in5", "SELECT 0",
}, "\n") + "\n"

// TestScriptMatchesRedisServer diffs scripting against redis-server.
func TestScriptMatchesRedisServer(t *testing.T) {
	g := startGateway(t)
	diffWithRedis(t, g, scriptingScript)
	diffWithRedisRESP3(t, g, scriptingScript)
}

// redisPyLock is a python3-redis program that takes, extends and
// releases a Lock (Lua scripts through EVALSHA, loaded on NOSCRIPT), and
// checks that a client that does not own the lock cannot release it.
const redisPyLock = `
import sys, redis
from redis.exceptions import LockNotOwnedError, LockError
r = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]))
r.script_flush()
lock = r.lock("resource", timeout=10)
assert lock.acquire(blocking=False), "acquire"
assert lock.owned(), "owned"
other = r.lock("resource", timeout=10)
assert not other.acquire(blocking=False), "a second owner"
assert lock.extend(20), "extend"
assert r.pttl("resource") > 20000, r.pttl("resource")
assert lock.reacquire(), "reacquire"
thief = r.lock("resource", timeout=10)
thief.local.token = b"not-the-owner"
try:
    thief.release()
    raise SystemExit("a non-owner released the lock")
except LockNotOwnedError:
    pass
thief.local.token = b"not-the-owner"  # release forgot it
try:
    thief.extend(5)
    raise SystemExit("a non-owner extended the lock")
except LockNotOwnedError:
    pass
r.script_flush()  # the next EVALSHA meets NOSCRIPT and loads the script again
lock.release()
assert r.get("resource") is None, "released"
assert other.acquire(blocking=False), "acquire after release"
other.release()
with r.lock("ctx", timeout=5, blocking_timeout=2):
    assert r.exists("ctx") == 1
assert r.exists("ctx") == 0
print("ok")
`

// runRedisPy runs a python3-redis program against a Redis port, with
// Debian's python3 (the one with python3-redis).
func runRedisPy(t *testing.T, program, port string) {
	t.Helper()
	out, err := exec.Command("/usr/bin/python3", "-c", program, port).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("python3-redis: %v\n%s", err, out)
	}
}

// TestScriptRedisPyLock runs redis-py's Lock against a gateway.
func TestScriptRedisPyLock(t *testing.T) {
	g := startGateway(t)
	runRedisPy(t, redisPyLock, g.port("redis"))
}

// luaRelease is the usual Lua lock release: delete the key only if it
// holds the caller's token.
const luaRelease = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`

// luaRateLimit is a fixed-window rate limiter: at most ARGV[1] calls per
// ARGV[2] seconds for KEYS[1]; it answers {allowed, remaining}.
const luaRateLimit = `
local n = redis.call("incr", KEYS[1])
if n == 1 then redis.call("expire", KEYS[1], ARGV[2]) end
local limit = tonumber(ARGV[1])
if n > limit then return {0, 0} end
return {1, limit - n}
`

func testScriptGoRedis(t *testing.T, g redisTarget) {
	ctx := testCtx(t)
	c := g.redisClient(2)
	defer c.Close()
	if err := c.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	release := redis.NewScript(luaRelease)
	r(c.Set(ctx, "lock", "token-1", 0).Result()).must(t, "SET lock")
	if n := r(release.Run(ctx, c, []string{"lock"}, "token-2").Int()).must(t, "release by a non-owner"); n != 0 {
		t.Fatalf("a non-owner released the lock: %d", n)
	}
	if n := r(release.Run(ctx, c, []string{"lock"}, "token-1").Int()).must(t, "release"); n != 1 {
		t.Fatalf("release = %d", n)
	}
	if n := r(c.Exists(ctx, "lock").Result()).must(t, "EXISTS lock"); n != 0 {
		t.Fatal("the lock is still held")
	}
	limiter := redis.NewScript(luaRateLimit)
	for i := range 5 {
		got := r(limiter.Run(ctx, c, []string{"rate:client"}, 3, 60).Int64Slice()).must(t, "rate limiter")
		want := []int64{1, int64(2 - i)}
		if i >= 3 {
			want = []int64{0, 0}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("call %d: %v, want %v", i+1, got, want)
		}
	}
	if ttl := r(c.TTL(ctx, "rate:client").Result()).must(t, "TTL"); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("TTL of the window = %v", ttl)
	}
	// Run went through EVALSHA: the scripts are loaded now.
	ok := r(c.ScriptExists(ctx, release.Hash(), limiter.Hash()).Result()).must(t, "SCRIPT EXISTS")
	if !ok[0] || !ok[1] {
		t.Fatalf("SCRIPT EXISTS = %v", ok)
	}
}

// TestScriptGoRedis runs go-redis's Script (EVALSHA, then EVAL on
// NOSCRIPT) with a lock release and a rate limiter.
func TestScriptGoRedis(t *testing.T) { testScriptGoRedis(t, startGateway(t)) }

// TestScriptBadInput: malformed Lua gets Redis's compile error; a script
// that loops forever or allocates without bound is stopped by its
// budget with an error, in bounded memory, and the node serves on; SCRIPT
// KILL stops a read-only script and refuses a writing one.
func TestScriptBadInput(t *testing.T) {
	g := startGateway(t)
	ctx := testCtx(t)
	c := g.redisClient(2)
	defer c.Close()
	base := g.rssBytes()
	r(c.ConfigSet(ctx, "lua-instruction-limit", "5000000").Result()).must(t, "CONFIG SET")
	r(c.ConfigSet(ctx, "lua-memory-limit", "67108864").Result()).must(t, "CONFIG SET")
	cases := []evalError{
		{"retur 1", "ERR Error compiling script (new function): user_script:1:"},
		{"return (", "ERR Error compiling script (new function): user_script:1:"},
		{"while true do end", "ERR Script exceeded lua-instruction-limit (5000000 instructions) script: "},
		{"local s = 'x' while true do s = s .. s end", "ERR Script exceeded lua-memory-limit (67108864 bytes of strings) script: "},
		{"local t = {} local s = string.rep('x', 1000) for i = 1, 1e9 do t[i] = s .. i end", "ERR Script exceeded lua-memory-limit"},
		{"return string.rep('x', 1e10)", "ERR Script exceeded lua-memory-limit"},
		{"local t = {} for i = 1, 1e9 do t[i] = i end", "ERR Script exceeded lua-instruction-limit"},
		{"return string.format('%999999999d', 1)", "ERR user_script:1: invalid format (width or precision too long)"},
	}
	requireEvalErrors(t, g, c, base, cases)
	// A writing script runs at apply and cannot be killed; nothing else
	// runs: NOTBUSY.
	if err := c.ScriptKill(ctx).Err(); err == nil || err.Error() != "NOTBUSY No scripts in execution right now." {
		t.Fatalf("SCRIPT KILL = %v", err)
	}
	r(c.ConfigSet(ctx, "lua-instruction-limit", "100000000000").Result()).must(t, "CONFIG SET")
	done := make(chan error, 1)
	go func() { done <- c.EvalRO(ctx, "while true do end", nil).Err() }()
	killer := g.redisClient(2)
	defer killer.Close()
	waitFor(t, "SCRIPT KILL to find the script", 10*time.Second, func() bool {
		return killer.ScriptKill(ctx).Err() == nil
	})
	if err := <-done; err == nil || !strings.HasPrefix(err.Error(), "ERR Script killed by user with SCRIPT KILL... script: ") {
		t.Fatalf("killed EVAL_RO = %v", err)
	}
}

// TestScriptEnsemble runs scripts on a 3-node ensemble: a script loaded
// on one node runs by its SHA on the others and after a restart; a
// script drawing random numbers and one that overruns its budget leave
// every replica with the same state, the overrun failing with the same
// error on every node; WATCH aborts an EVAL in EXEC; a script's PUBLISH
// and RPUSH reach subscribers and blocked clients on other nodes.
func TestScriptEnsemble(t *testing.T) {
	e := startEnsemble(t, 3)
	ctx := testCtx(t)
	cs := e.redisClients(t)
	src := "return redis.call('incrby', KEYS[1], ARGV[1])"
	sha := r(cs[0].ScriptLoad(ctx, src).Result()).must(t, "SCRIPT LOAD on n1")
	for i, c := range cs {
		if got := r(c.EvalSha(ctx, sha, []string{"n"}, 10).Int()).must(t, "EVALSHA"); got != 10*(i+1) {
			t.Fatalf("EVALSHA on n%d = %d", i+1, got)
		}
	}

	random := "local t = {} for i = 1, 20 do t[i] = math.random(1000000) end redis.call('set', KEYS[1], table.concat(t, ',')) return t"
	drawn := r(cs[0].Eval(ctx, random, []string{"drawn"}).Int64Slice()).must(t, "EVAL random")
	requireDrawn(t, cs, drawn)

	overrun := "redis.call('set', KEYS[1], 'before the loop') while true do end"
	requireOverrun(t, cs, "ERR Script exceeded lua-instruction-limit (3000000 instructions) script: "+sha1hex(overrun)+", on @user_script:1.",
		func(c *redis.Client) error { return c.Eval(ctx, overrun, []string{"partial"}).Err() })

	err := cs[0].Watch(ctx, func(tx *redis.Tx) error {
		if err := cs[2].Set(ctx, "w", "from-n3", 0).Err(); err != nil {
			return err
		}
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Eval(ctx, "return redis.call('set', KEYS[1], 'from-n1')", []string{"w"})
			return nil
		})
		return err
	}, "w")
	if !errors.Is(err, redis.TxFailedErr) {
		t.Fatalf("EXEC with EVAL on n1 after a write on n3 to a watched key: %v", err)
	}

	sub := cs[2].Subscribe(ctx, "news")
	defer sub.Close()
	r(sub.Receive(ctx)).must(t, "SUBSCRIBE")
	blocked := make(chan []string, 1)
	go func() { blocked <- cs[1].BLPop(ctx, 10*time.Second, "queue").Val() }()
	waitFor(t, "BLPOP to block", 10*time.Second, func() bool {
		return strings.Contains(cs[1].Info(ctx, "clients").Val(), "blocked_clients:1")
	})
	r(cs[0].Eval(ctx, "redis.call('publish', 'news', 'from a script') return redis.call('rpush', KEYS[1], 'job')", []string{"queue"}).Result()).must(t, "EVAL publish and rpush")
	msg := r(sub.ReceiveMessage(ctx)).must(t, "message")
	if msg.Payload != "from a script" {
		t.Fatalf("message %q", msg.Payload)
	}
	if got := <-blocked; !slices.Equal(got, []string{"queue", "job"}) {
		t.Fatalf("BLPOP = %v", got)
	}

	e.converge(0, 1, 2)
	e.nodes[1].kill()
	e.nodes[1].restart()
	c := e.nodes[1].redisClient(2)
	defer c.Close()
	if got := r(c.EvalSha(ctx, sha, []string{"n"}, 1).Int()).must(t, "EVALSHA after a restart"); got != 31 {
		t.Fatalf("EVALSHA after a restart = %d", got)
	}
	e.converge(0, 1, 2)
}

// redisClients returns a RESP2 client of each node, closed when t ends.
func (e *ensemble) redisClients(t *testing.T) []*redis.Client {
	var cs []*redis.Client
	for _, g := range e.nodes {
		c := g.redisClient(2)
		t.Cleanup(func() { c.Close() })
		cs = append(cs, c)
	}
	return cs
}

// requireDrawn fails unless every node holds the numbers a script drew
// under "drawn", comma separated.
func requireDrawn(t *testing.T, cs []*redis.Client, drawn []int64) {
	t.Helper()
	want := strings.Trim(strings.ReplaceAll(fmt.Sprint(drawn), " ", ","), "[]")
	for i, c := range cs {
		if got := r(c.Get(testCtx(t), "drawn").Result()).must(t, "GET drawn"); got != want {
			t.Fatalf("n%d holds %q, the script drew %v", i+1, got, drawn)
		}
	}
}

// requireOverrun runs, on each node with a budget of 3,000,000
// instructions, a script that sets "partial" and loops; it must fail
// with want, its write kept.
func requireOverrun(t *testing.T, cs []*redis.Client, want string, run func(*redis.Client) error) {
	t.Helper()
	ctx := testCtx(t)
	for i, c := range cs {
		r(c.ConfigSet(ctx, "lua-instruction-limit", "3000000").Result()).must(t, "CONFIG SET")
		if err := run(c); err == nil || err.Error() != want {
			t.Fatalf("n%d: %v, want %q", i+1, err, want)
		}
		if got := r(c.Get(ctx, "partial").Result()).must(t, "GET partial"); got != "before the loop" {
			t.Fatalf("partial = %q", got)
		}
	}
}

// evalError is a script and the start of the error EVAL answers.
type evalError struct{ src, want string }

// requireEvalErrors runs each script with EVAL (one key, "k") and
// requires its error, the node answering PING after each, and its RSS
// grown by less than 1 GiB from base.
func requireEvalErrors(t *testing.T, g *gateway, c *redis.Client, base int64, cases []evalError) {
	t.Helper()
	ctx := testCtx(t)
	for _, tc := range cases {
		err := c.Eval(ctx, tc.src, []string{"k"}).Err()
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Fatalf("EVAL %q: %v, want %q...", tc.src, err, tc.want)
		}
		if got := r(c.Ping(ctx).Result()).must(t, "PING after "+tc.src); got != "PONG" {
			t.Fatal(got)
		}
	}
	if grew := g.rssBytes() - base; grew > 1<<30 {
		t.Fatalf("RSS grew by %d MiB", grew>>20)
	}
}
