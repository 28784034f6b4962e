package conformance

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// functionScript is a redis-cli script of FUNCTION and FCALL: the
// shebang's errors, redis.register_function in both forms and its
// errors, the load-time sandbox, flags, FCALL and FCALL_RO replies and
// errors, LIST, STATS, DELETE, FLUSH and HELP. Each listed library has
// one function, since Redis lists them in its hash order.
var functionScript = strings.Join([]string{
	"FUNCTION FLUSH",
	`FUNCTION LOAD "return 1"`, `FUNCTION LOAD "#!lua"`, `FUNCTION LOAD "#!lua name=a b"`,
	`FUNCTION LOAD "#!lua name=a name=b\nreturn 1"`, `FUNCTION LOAD "#!lua foo=x\nreturn 1"`,
	`FUNCTION LOAD "#!lua\nreturn 1"`, `FUNCTION LOAD "#!lua name=a-b\nreturn 1"`,
	`FUNCTION LOAD "#!js name=ab\nreturn 1"`, `FUNCTION LOAD "#!LUA name=ab\nreturn 1"`,
	`FUNCTION LOAD "#!lua name=\nreturn 1"`, `FUNCTION LOAD "#!lua name=\"q\nreturn 1"`, `FUNCTION LOAD "#! name=z\nreturn 1"`,
	`FUNCTION LOAD "#!lua name=z flags=no-writes\nreturn 1"`,
	`FUNCTION LOAD "#!lua name=ab\nredis.call('set','x','y')"`,
	`FUNCTION LOAD "#!lua name=ab\nredis.register_function('f-x', function() return 1 end)"`,
	`FUNCTION LOAD "#!lua name=ab\nredis.register_function('f', function() return 1 end) redis.register_function('f', function() return 2 end)"`,
	`FUNCTION LOAD "#!lua name=ab\nredis.register_function('f', 1)"`,
	`FUNCTION LOAD "#!lua name=ab\nredis.register_function('f')"`,
	`FUNCTION LOAD "#!lua name=ab\nredis.register_function()"`,
	`FUNCTION LOAD "#!lua name=ab\nredis.register_function('a','b','c')"`,
	`FUNCTION LOAD "#!lua name=ab\nredis.register_function{function_name='f'}"`,
	`FUNCTION LOAD "#!lua name=ab\nredis.register_function{callback=function() end}"`,
	`FUNCTION LOAD "#!lua name=ab\nredis.register_function{function_name='f', callback=function() end, flags={'bad'}}"`,
	`FUNCTION LOAD "#!lua name=ab\nredis.register_function{function_name='f', callback=function() end, flags='no-writes'}"`,
	`FUNCTION LOAD "#!lua name=ab\nredis.register_function{function_name='f', callback=function() end, foo=1}"`,
	`FUNCTION LOAD "#!lua name=ab\nredis.register_function{function_name={}, callback=function() end}"`,
	`FUNCTION LOAD "#!lua name=ab\nredis.register_function{function_name='f', callback=1}"`,
	`FUNCTION LOAD "#!lua name=ab\nredis.register_function{function_name='f', callback=function() end, description={}}"`,
	`FUNCTION LOAD "#!lua name=ab\nredis.register_function{[1]='f'}"`,
	`FUNCTION LOAD "#!lua name=ab\nlocal x = KEYS"`, `FUNCTION LOAD "#!lua name=ab\nfoo = 1"`,
	`FUNCTION LOAD "#!lua name=ab\nreturn redis.setresp(3)"`, `FUNCTION LOAD "#!lua name=ab\nreturn redis.log(redis.LOG_WARNING, 'x')"`,
	`FUNCTION LOAD "#!lua name=ab\nreturn math.random()"`, `FUNCTION LOAD "#!lua name=ab\nlocal x = string"`,
	`FUNCTION LOAD "#!lua name=ab\nerror('boom')"`, `FUNCTION LOAD "#!lua name=ab\nredis.register_function = 1"`,
	`FUNCTION LOAD "#!lua name=lib1\nredis.register_function('f1', function(keys, args) return redis.call('set', keys[1], args[1]) end)"`,
	`FUNCTION LOAD "#!lua name=lib1\nredis.register_function('g', function() return 1 end)"`,
	`FUNCTION LOAD "#!lua name=lib2\nredis.register_function('F1', function() return 1 end)"`,
	`FUNCTION LOAD "#!lua name=lib2\nredis.register_function{function_name='f2', callback=function(keys, args) return redis.call('get', keys[1]) end, flags={'no-writes'}, description='reads'}"`,
	"FCALL f1 1 k v", "FCALL F1 1 k v2", "FCALL f2 1 k", "FCALL_RO f2 1 k", "FCALL_RO f1 1 k v",
	"FCALL nof 0", "FCALL nof x", "FCALL f1 x", "FCALL f1 -1", "FCALL f1 5 a", "FCALL f1",
	"FUNCTION LIST LIBRARYNAME lib1", "FUNCTION LIST LIBRARYNAME LIB2 WITHCODE", "FUNCTION LIST WITHCODE LIBRARYNAME lib1",
	"FUNCTION LIST LIBRARYNAME x*", "FUNCTION LIST LIBRARYNAME", "FUNCTION LIST FOO", "FUNCTION LIST WITHCODE WITHCODE",
	"FUNCTION STATS", "FUNCTION STATS x", "FUNCTION KILL",
	`FUNCTION LOAD "#!lua name=flags\nredis.register_function{function_name='o', callback=function(k, a) return redis.call('get', 'k') end, flags={'no-writes', 'ALLOW-OOM', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'}}"`,
	"FUNCTION LIST LIBRARYNAME flags", "FCALL_RO o 0", "FCALL o 0",
	`FUNCTION LOAD "#!lua name=ro\nredis.register_function{function_name='n', callback=function(k, a) return redis.call('set', 'x', 1) end, flags={'no-writes'}}"`,
	"FCALL n 0", "FCALL_RO n 0",
	`FUNCTION LOAD "#!lua name=rt\nredis.register_function('rt', function(k, a) return {#k, #a, type(KEYS)} end)"`, "FCALL rt 1 a b",
	`FUNCTION LOAD REPLACE "#!lua name=rt\nredis.register_function('rt', function(k, a) return {k[1], a[1], a[2], redis.status_reply('fine'), 3.9, true, false} end)"`,
	"FCALL rt 1 a b c", "FCALL_RO rt 1 a b c",
	`FUNCTION LOAD "#!lua name=er\nredis.register_function('er', function(k, a) error('boom') end)"`, "FCALL er 0",
	`FUNCTION LOAD "#!lua name=er2\nredis.register_function('er2', function(k, a) return redis.call('nosuch') end)"`, "FCALL er2 0",
	`FUNCTION LOAD "#!lua name=er3\nredis.register_function('er3', function(k, a) x = 1 end)"`, "FCALL er3 0",
	`FUNCTION LOAD "#!lua name=er4\nredis.register_function('er4', function(k, a) error({err='MYERR x'}) end)"`, "FCALL er4 0",
	`FUNCTION LOAD "#!lua name=er5\nredis.register_function('er5', function(k, a) return redis.call('fcall', 'rt', 0) end)"`, "FCALL er5 0",
	`FUNCTION LOAD "#!lua name=er6\nredis.register_function('er6', function(k, a) return redis.pcall('incr', 'x', 'y') end)"`, "FCALL er6 0",
	`FUNCTION LOAD "#!lua name=hp\nlocal function helper(x) return x * 2 end\nredis.register_function('hp', function(k, a) return helper(tonumber(a[1])) end)"`, "FCALL hp 0 21",
	`FUNCTION LOAD "#!lua name=h3\nredis.register_function('h3', function(k, a) return redis.call('hgetall', k[1]) end)"`, "HSET h f v", "FCALL h3 1 h",
	`EVAL "return redis.call('fcall', 'rt', 0)" 0`, `EVAL "return redis.call('function', 'list')" 0`,
	`FUNCTION LOAD REPLACE "#!lua name=rt\nredis.register_function('hp', function(k, a) return 2 end)"`,
	`FUNCTION LOAD REPLACE REPLACE "#!lua name=rt\nredis.register_function('rt', function(k, a) return 2 end)"`,
	"FCALL rt 0", "FUNCTION STATS",
	"FUNCTION DELETE nolib", "FUNCTION DELETE LIB1", "FUNCTION DELETE lib1", "FCALL f1 1 k v", "FUNCTION DELETE", "FUNCTION DELETE a b",
	"FUNCTION FLUSH ASYNC", "FUNCTION STATS", "FUNCTION LIST", "FUNCTION FLUSH x", "FUNCTION FLUSH a b", "FUNCTION FLUSH SYNC",
	"FUNCTION", "FUNCTION FOO", "FUNCTION LOAD", "FUNCTION LOAD REPLACE", `FUNCTION LOAD FOO "#!lua name=x\n"`,
	"FUNCTION HELP", "FUNCTION HELP x", "FCALL rt 0",
	`FUNCTION LOAD "#!lua name=tx\nredis.register_function('incr2', function(k, a) return redis.call('incrby', k[1], 2) end)"`,
	"MULTI", "FCALL incr2 1 cnt", "FCALL incr2 1 cnt", "EXEC", "FUNCTION FLUSH",
}, "\n") + "\n"

// TestFunctionMatchesRedisServer diffs functions against redis-server.
func TestFunctionMatchesRedisServer(t *testing.T) {
	g := startGateway(t)
	diffWithRedis(t, g, functionScript)
	diffWithRedisRESP3(t, g, functionScript)
}

// functionLib is a library an application might load: a lock (acquire
// with a token and a TTL, release only by its owner) and a counter with
// a read-only getter.
const functionLib = `#!lua name=app
local function acquire(keys, args)
  return redis.call('set', keys[1], args[1], 'NX', 'PX', args[2]) and 1 or 0
end
local function release(keys, args)
  if redis.call('get', keys[1]) == args[1] then
    return redis.call('del', keys[1])
  end
  return 0
end
redis.register_function('lock_acquire', acquire)
redis.register_function('lock_release', release)
redis.register_function('counter_add', function(keys, args)
  return redis.call('incrby', keys[1], args[1])
end)
redis.register_function{
  function_name = 'counter_get',
  callback = function(keys) return tonumber(redis.call('get', keys[1]) or '0') end,
  flags = { 'no-writes' },
  description = 'reads a counter',
}
`

func testFunctionGoRedis(t *testing.T, c *redis.Client) {
	ctx := testCtx(t)
	if err := c.FunctionFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	r(c.Del(ctx, "hits", "lock").Result()).must(t, "DEL")
	if name := r(c.FunctionLoad(ctx, functionLib).Result()).must(t, "FUNCTION LOAD"); name != "app" {
		t.Fatalf("FUNCTION LOAD = %q", name)
	}
	if err := c.FunctionLoad(ctx, functionLib).Err(); err == nil || err.Error() != "ERR Library 'app' already exists" {
		t.Fatalf("second FUNCTION LOAD = %v", err)
	}
	r(c.FunctionLoadReplace(ctx, functionLib).Result()).must(t, "FUNCTION LOAD REPLACE")
	if n := r(c.FCall(ctx, "lock_acquire", []string{"lock"}, "me", 10000).Int()).must(t, "acquire"); n != 1 {
		t.Fatalf("acquire = %d", n)
	}
	if n := r(c.FCall(ctx, "lock_acquire", []string{"lock"}, "other", 10000).Int()).must(t, "second acquire"); n != 0 {
		t.Fatalf("a second owner acquired the lock: %d", n)
	}
	if n := r(c.FCall(ctx, "lock_release", []string{"lock"}, "other").Int()).must(t, "release by a non-owner"); n != 0 {
		t.Fatalf("a non-owner released the lock: %d", n)
	}
	if n := r(c.FCall(ctx, "lock_release", []string{"lock"}, "me").Int()).must(t, "release"); n != 1 {
		t.Fatalf("release = %d", n)
	}
	for i := 1; i <= 5; i++ {
		if n := r(c.FCall(ctx, "counter_add", []string{"hits"}, i).Int()).must(t, "counter_add"); n != i*(i+1)/2 {
			t.Fatalf("counter_add = %d", n)
		}
	}
	if n := r(c.FCallRO(ctx, "counter_get", []string{"hits"}).Int()).must(t, "FCALL_RO counter_get"); n != 15 {
		t.Fatalf("counter_get = %d", n)
	}
	if err := c.FCallRO(ctx, "counter_add", []string{"hits"}, 1).Err(); err == nil || err.Error() != "ERR Can not execute a script with write flag using *_ro command." {
		t.Fatalf("FCALL_RO of a writing function = %v", err)
	}
	libs := r(c.FunctionList(ctx, redis.FunctionListQuery{LibraryNamePattern: "app", WithCode: true}).Result()).must(t, "FUNCTION LIST")
	if len(libs) != 1 || libs[0].Name != "app" || libs[0].Engine != "LUA" || libs[0].Code != functionLib || len(libs[0].Functions) != 4 {
		t.Fatalf("FUNCTION LIST = %+v", libs)
	}
	for _, f := range libs[0].Functions {
		if f.Name == "counter_get" && (f.Description != "reads a counter" || len(f.Flags) != 1 || f.Flags[0] != "no-writes") {
			t.Fatalf("counter_get listed as %+v", f)
		}
	}
	stats := r(c.FunctionStats(ctx).Result()).must(t, "FUNCTION STATS")
	if len(stats.Engines) != 1 || stats.Engines[0].LibrariesCount != 1 || stats.Engines[0].FunctionsCount != 4 || stats.Running() {
		t.Fatalf("FUNCTION STATS = %+v", stats)
	}
	r(c.FunctionDelete(ctx, "app").Result()).must(t, "FUNCTION DELETE")
	if err := c.FCall(ctx, "counter_add", []string{"hits"}, 1).Err(); err == nil || err.Error() != "ERR Function not found" {
		t.Fatalf("FCALL after FUNCTION DELETE = %v", err)
	}
}

// TestFunctionGoRedis runs a lock and a counter written as a function
// library through go-redis, over RESP2 and RESP3.
func TestFunctionGoRedis(t *testing.T) {
	g := startGateway(t)
	for _, proto := range []int{2, 3} {
		c := g.redisClient(proto)
		testFunctionGoRedis(t, c)
		c.Close()
	}
}

// TestFunctionBadInput: malformed libraries get Redis's errors, a
// library whose top level loops or allocates without bound is stopped
// in bounded memory, a function that overruns its budget fails, and
// FUNCTION KILL stops a running FCALL_RO (which FUNCTION STATS shows),
// while SCRIPT KILL refuses to.
func TestFunctionBadInput(t *testing.T) {
	g := startGateway(t)
	ctx := testCtx(t)
	c := g.redisClient(2)
	defer c.Close()
	base := g.rssBytes()
	cases := []struct{ code, want string }{
		{"#!lua name=x\nretur 1", "ERR Error compiling function: user_function:2:"},
		{"#!lua name=x\nwhile true do end", "ERR Error registering functions: ERR FUNCTION LOAD timeout"},
		{"#!lua name=x\nlocal s = 'x' while true do s = s .. s end", "ERR Error registering functions: ERR FUNCTION LOAD exceeded its memory"},
		{"#!lua name=x\n" + strings.Repeat("redis.register_function('f', function() end)\n", 3), "ERR Error registering functions: ERR Function already exists in the library"},
		{"#!lua name=" + strings.Repeat("x", 1000) + "-\n", "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"},
		{"\x00\xff#!lua", "ERR Missing library metadata"},
	}
	for _, tc := range cases {
		err := c.FunctionLoad(ctx, tc.code).Err()
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Fatalf("FUNCTION LOAD %.40q: %v, want %q...", tc.code, err, tc.want)
		}
	}
	r(c.ConfigSet(ctx, "lua-instruction-limit", "2000000").Result()).must(t, "CONFIG SET")
	r(c.FunctionLoad(ctx, "#!lua name=spin\nredis.register_function('spin', function() while true do end end)\nredis.register_function{function_name='spin_ro', callback=function() while true do end end, flags={'no-writes'}}").Result()).must(t, "FUNCTION LOAD spin")
	if err := c.FCall(ctx, "spin", nil).Err(); err == nil || err.Error() != "ERR Script exceeded lua-instruction-limit (2000000 instructions) script: spin, on @user_function:2." {
		t.Fatalf("FCALL spin = %v", err)
	}
	if grew := g.rssBytes() - base; grew > 1<<30 {
		t.Fatalf("RSS grew by %d MiB", grew>>20)
	}
	r(c.ConfigSet(ctx, "lua-instruction-limit", "100000000000").Result()).must(t, "CONFIG SET")
	done := make(chan error, 1)
	go func() { done <- c.FCallRO(ctx, "spin_ro", nil).Err() }()
	other := g.redisClient(2)
	defer other.Close()
	waitFor(t, "FUNCTION STATS to show the function", 10*time.Second, func() bool {
		s, err := other.FunctionStats(ctx).Result()
		return err == nil && s.Running()
	})
	if err := other.ScriptKill(ctx).Err(); err == nil || err.Error() != "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE." {
		t.Fatalf("SCRIPT KILL during FCALL_RO = %v", err)
	}
	r(other.FunctionKill(ctx).Result()).must(t, "FUNCTION KILL")
	if err := <-done; err == nil || err.Error() != "ERR Script killed by user with SCRIPT KILL... script: spin_ro, on @user_function:3." {
		t.Fatalf("killed FCALL_RO = %v", err)
	}
	if err := other.FunctionKill(ctx).Err(); err == nil || err.Error() != "NOTBUSY No scripts in execution right now." {
		t.Fatalf("FUNCTION KILL with nothing running = %v", err)
	}
}

// TestFunctionEnsemble runs functions on a 3-node ensemble: a library
// loaded on one node runs on the others, by FCALL and FCALL_RO; a
// function drawing random numbers and one that overruns its budget
// leave every replica with the same state, the overrun failing with the
// same error on every node, which serves on; a library is still there on
// a node killed and restarted, and gone on every node once deleted.
func TestFunctionEnsemble(t *testing.T) {
	e := startEnsemble(t, 3)
	ctx := testCtx(t)
	cs := e.redisClients(t)
	lib := "#!lua name=ens\n" +
		"redis.register_function('add', function(keys, args) return redis.call('incrby', keys[1], args[1]) end)\n" +
		"redis.register_function{function_name='get', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}}\n" +
		"redis.register_function('draw', function(keys) local t = {} for i = 1, 20 do t[i] = math.random(1000000) end redis.call('set', keys[1], table.concat(t, ',')) return t end)\n" +
		"redis.register_function('overrun', function(keys) redis.call('set', keys[1], 'before the loop') while true do end end)\n"
	r(cs[0].FunctionLoad(ctx, lib).Result()).must(t, "FUNCTION LOAD on n1")
	for i, c := range cs {
		if got := r(c.FCall(ctx, "add", []string{"n"}, 10).Int()).must(t, "FCALL add"); got != 10*(i+1) {
			t.Fatalf("FCALL add on n%d = %d", i+1, got)
		}
		if got := r(cs[(i+1)%3].FCallRO(ctx, "get", []string{"n"}).Text()).must(t, "FCALL_RO get"); got != fmt.Sprint(10*(i+1)) {
			t.Fatalf("FCALL_RO get on n%d = %s", (i+1)%3+1, got)
		}
	}
	drawn := r(cs[1].FCall(ctx, "draw", []string{"drawn"}).Int64Slice()).must(t, "FCALL draw")
	requireDrawn(t, cs, drawn)
	requireOverrun(t, cs, "ERR Script exceeded lua-instruction-limit (3000000 instructions) script: overrun, on @user_function:5.",
		func(c *redis.Client) error { return c.FCall(ctx, "overrun", []string{"partial"}).Err() })
	e.converge(0, 1, 2)
	e.nodes[2].kill()
	e.nodes[2].restart()
	c := e.nodes[2].redisClient(2)
	defer c.Close()
	if got := r(c.FCall(ctx, "add", []string{"n"}, 1).Int()).must(t, "FCALL after a restart"); got != 31 {
		t.Fatalf("FCALL add after a restart = %d", got)
	}
	libs := r(c.FunctionList(ctx, redis.FunctionListQuery{}).Result()).must(t, "FUNCTION LIST after a restart")
	if len(libs) != 1 || libs[0].Name != "ens" || len(libs[0].Functions) != 4 {
		t.Fatalf("FUNCTION LIST after a restart = %+v", libs)
	}
	r(cs[0].FunctionDelete(ctx, "ens").Result()).must(t, "FUNCTION DELETE")
	for i, c := range []*redis.Client{cs[1], c} {
		if err := c.FCall(ctx, "add", []string{"n"}, 1).Err(); err == nil || err.Error() != "ERR Function not found" {
			t.Fatalf("FCALL on node %d after FUNCTION DELETE = %v", i+2, err)
		}
	}
	e.converge(0, 1, 2)
}
