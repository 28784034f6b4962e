package luasandbox

import (
	"errors"
	"strings"
	"testing"
)

// TestMsgpack packs and unpacks as lua-cmsgpack does in Redis 7.0.
func TestMsgpack(t *testing.T) {
	hex := func(s string) string {
		return `local s = ` + s + ` local t = {} for i = 1, #s do t[i] = string.format('%02x', s:byte(i)) end return table.concat(t)`
	}
	cases := []struct{ src, want string }{
		{hex(`cmsgpack.pack(1, -1, -33, 200, -200, 70000, -70000, 2^40, -2^40)`), "01ffd0dfccc8d1ff38ce00011170d2fffeee90cf0000010000000000d3ffffff0000000000"},
		{hex(`cmsgpack.pack(1.5, 0.1, 1/0)`), "ca3fc00000cb3fb999999999999aca7f800000"},
		{hex(`cmsgpack.pack({1, 2, {a = true}}, 'x', false, nil)`), "930102" + "81a161c3" + "a178c2c0"},
		{hex(`cmsgpack.pack({}, string.rep('y', 40))`), "90d928" + strings.Repeat("79", 40)},
		{hex(`(function() local t = {} t[1] = t return cmsgpack.pack(t) end)()`), strings.Repeat("91", 16) + "c0"},
		{`local a, b, c = cmsgpack.unpack(cmsgpack.pack(1, 'two', {3})) return a .. b .. c[1]`, "1two3"},
		{`local o, v = cmsgpack.unpack_one('\1\2', 1) return o .. ':' .. v`, "-1:2"},
		{`local o, a, b = cmsgpack.unpack_limit('\1\2\3', 2) return o .. ':' .. a .. b`, "2:12"},
		{`return cmsgpack.unpack('\207\255\255\255\255\255\255\255\255')`, "-1"},
		{`return cmsgpack.unpack('\218\0\3abc')`, "abc"},
	}
	for _, c := range cases {
		got, err := eval(t, Limits{}, c.src)
		if err != nil || got != c.want {
			t.Errorf("%s = %q, %v, want %q", c.src, got, err, c.want)
		}
	}
}

// TestMsgpackBadInput: lengths claiming more than the input, deep
// nesting and packs that grow without bound fail with an error, without
// allocating what they claim.
func TestMsgpackBadInput(t *testing.T) {
	cases := []struct{ src, want string }{
		{`return cmsgpack.unpack('\221\255\255\255\255')`, "Missing bytes in input."},
		{`return cmsgpack.unpack('\223\255\255\255\255')`, "Missing bytes in input."},
		{`return cmsgpack.unpack('\219\255\255\255\255x')`, "Missing bytes in input."},
		{`return cmsgpack.unpack('\193')`, "Bad data format in input."},
		{`return cmsgpack.unpack(string.rep('\145', 100000) .. '\1')`, "stack overflow"},
		{`return cmsgpack.unpack(string.rep('\1', 100000))`, "stack overflow"},
		{`return cmsgpack.unpack_one('\1', 5)`, "Start offset 5 greater than input length 1."},
		{`return cmsgpack.unpack_limit('\1', -1)`, "Invalid request to unpack with offset of 0 and limit of 1."},
		{`return cmsgpack.pack()`, "bad argument #0 to 'pack' (MessagePack pack needs input.)"},
	}
	for _, c := range cases {
		_, err := eval(t, Limits{Instructions: 1e6, Memory: 1 << 20}, c.src)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.src, err, c.want)
		}
	}
	wide := `local t = {} for i = 1, 100 do t[i] = t end return #cmsgpack.pack(t)`
	if _, err := eval(t, Limits{Instructions: 1e6, Memory: 1 << 20}, wide); !errors.Is(err, ErrMemory) {
		t.Errorf("a self-referencing wide table: %v", err)
	}
}
