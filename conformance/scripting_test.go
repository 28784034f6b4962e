package conformance

import (
	"crypto/sha1"
	"encoding/hex"
	"strings"
	"testing"
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
