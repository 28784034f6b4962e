package conformance

import (
	"strings"
	"testing"
)

// msgpackScript diffs cmsgpack against redis-server: EVAL returns the
// packed bytes of every type and size class, unpacks them back, and
// unpack's errors.
var msgpackScript = strings.Join([]string{
	`EVAL "return cmsgpack.pack()" 0`,
	`EVAL "return cmsgpack.pack({1,2,{a=1}}, 'x', 1.5, 0.1, -1, -100, 70000, 2^40, -2^40, true, false, nil)" 0`,
	`EVAL "return cmsgpack.pack(0, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296, -32, -33, -128, -129, -32768, -32769, -2147483648, -2147483649)" 0`,
	`EVAL "return cmsgpack.pack(1/0, -1/0, 2^63, -2^63, 1e300, string.rep('x', 31), string.rep('x', 40), string.rep('y', 300), string.rep('z', 70000))" 0`,
	`EVAL "local t = {} for i = 1, 70000 do t[i] = i % 7 end return cmsgpack.pack(t, {}, {{}})" 0`,
	`EVAL "local t = {} t[1] = t return cmsgpack.pack(t)" 0`,
	`EVAL "return cmsgpack.pack({[1.5]=1}, {[0]=1}, {[-1]='x'}, {a={b={c='d'}}})" 0`,
	`EVAL "return cmsgpack.pack(KEYS[1], ARGV[1], tonumber(ARGV[1]))" 1 key 42`,
	`EVAL "return {cmsgpack.unpack(cmsgpack.pack(1, 'two', {3, 4}, true, 2.5, -7))}" 0`,
	`EVAL "return cmsgpack.unpack('\xc1')" 0`, `EVAL "return cmsgpack.unpack('\x92\x01')" 0`,
	`EVAL "return cmsgpack.unpack('\xdd\xff\xff\xff\xff')" 0`, `EVAL "return cmsgpack.unpack('\xdb\xff\xff\xff\xff')" 0`,
	`EVAL "return cmsgpack.unpack('\xdf\x7f\xff\xff\xff\x01')" 0`, `EVAL "return cmsgpack.unpack('\xc4\x01a')" 0`,
	`EVAL "return cmsgpack.unpack_limit('\x01\x02', -1)" 0`, `EVAL "return cmsgpack.unpack_one('\x01\x02', 5)" 0`,
	`EVAL "return {cmsgpack.unpack_one('\x01\x02', 2)}" 0`, `EVAL "return {cmsgpack.unpack_one('\x01\x02')}" 0`,
	`EVAL "return {cmsgpack.unpack_limit('\x01\x02\x03', 2, 1)}" 0`, `EVAL "return {cmsgpack.unpack_limit('\x01\x02\x03', 0)}" 0`,
	`EVAL "return {cmsgpack.unpack_limit('\x01\x02\x03', 5)}" 0`,
	`EVAL "return tostring(cmsgpack.unpack('\xcf\xff\xff\xff\xff\xff\xff\xff\xff'))" 0`,
	`EVAL "return tostring(cmsgpack.unpack('\xd3\x80\x00\x00\x00\x00\x00\x00\x00'))" 0`,
	`EVAL "return tostring(cmsgpack.unpack('\xca\x3f\xc0\x00\x00'))" 0`, `EVAL "return cmsgpack.unpack('\xd9\x03abc')" 0`,
	`EVAL "return cmsgpack.unpack(1)" 0`, `EVAL "return type(cmsgpack._VERSION)" 0`,
	`EVAL "return {cmsgpack.unpack('')}" 0`, `EVAL "return {cmsgpack.unpack_one('')}" 0`,
	`EVAL "return redis.call('set', 'packed', cmsgpack.pack({'a', 'b'}))" 0`, "STRLEN packed",
	`EVAL "return cmsgpack.unpack(redis.call('get', 'packed'))" 0`,
}, "\n") + "\n"

// TestMsgpackMatchesRedisServer diffs cmsgpack against redis-server.
func TestMsgpackMatchesRedisServer(t *testing.T) {
	g := startGateway(t)
	diffWithRedis(t, g, msgpackScript)
	diffWithRedisRESP3(t, g, msgpackScript)
}

// TestMsgpackBadInput: msgpack claiming huge lengths, nesting without
// end, and packs of self-referencing tables get an error in bounded
// memory, and the node serves on.
func TestMsgpackBadInput(t *testing.T) {
	g := startGateway(t)
	ctx := testCtx(t)
	c := g.redisClient(2)
	defer c.Close()
	base := g.rssBytes()
	r(c.ConfigSet(ctx, "lua-memory-limit", "8388608").Result()).must(t, "CONFIG SET")
	requireEvalErrors(t, g, c, base, []evalError{
		{`return cmsgpack.unpack('\221\255\255\255\255')`, "ERR user_script:1: Missing bytes in input."},
		{`return cmsgpack.unpack('\219\255\255\255\255' .. string.rep('x', 1000))`, "ERR user_script:1: Missing bytes in input."},
		{`return cmsgpack.unpack(string.rep('\145', 1000000))`, "ERR user_script:1: stack overflow"},
		{`return #cmsgpack.unpack(string.rep('\220\255\255', 100000))`, "ERR user_script:1: stack overflow"},
		{`local t = {} for i = 1, 100 do t[i] = t end return #cmsgpack.pack(t)`, "ERR Script exceeded lua-memory-limit"},
	})
}
