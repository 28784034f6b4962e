package luasandbox

import (
	"strings"
	"testing"
)

// TestStruct packs, unpacks and sizes as Redis 7.0's struct does.
func TestStruct(t *testing.T) {
	cases := []struct{ src, want string }{
		{`return struct.pack('>I2', 258)`, "\x01\x02"},
		{`return struct.pack('<i4', -2)`, "\xfe\xff\xff\xff"},
		{`return struct.pack('!4 b i4', 1, 2)`, "\x01\x00\x00\x00\x02\x00\x00\x00"},
		{`return struct.pack('c0 s', 'ab', 'c')`, "abc\x00"},
		{`local a, b, n = struct.unpack('>h <H', '\255\254\1\2') return a .. ' ' .. b .. ' ' .. n`, "-2 513 5"},
		{`local s, n = struct.unpack('b c0', '\3abcdef') return s .. n`, "abc5"},
		{`return struct.size('!4 b i4 d')`, "16"},
	}
	for _, c := range cases {
		got, err := eval(t, Limits{}, c.src)
		if err != nil || got != c.want {
			t.Errorf("%s = %q, %v, want %q", c.src, got, err, c.want)
		}
	}
}

// TestStructBadInput: sizes beyond the data or the arguments fail
// without allocating them; many results stop at the stack's bound.
func TestStructBadInput(t *testing.T) {
	cases := []struct{ src, want string }{
		{`return struct.pack('c2000000000', 'x')`, "string too short"},
		{`return struct.unpack('c2000000000', 'x')`, "data string too short"},
		{`return struct.unpack('i99999999999', 'x')`, "integral size overflow"},
		{`return struct.unpack('b c0', '\255x')`, "data string too short"},
		{`return struct.unpack(string.rep('b', 100000), string.rep('y', 100000))`, "stack overflow"},
		{`return #struct.pack(string.rep('c0', 100000), unpack((function() local t = {} for i = 1, 100000 do t[i] = string.rep('z', 1000) end return t end)()))`, "memory limit"},
	}
	for _, c := range cases {
		_, err := eval(t, Limits{Instructions: 1e7, Memory: 1 << 20}, c.src)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%.60s: %v, want %q", c.src, err, c.want)
		}
	}
}
