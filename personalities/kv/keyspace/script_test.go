package keyspace

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// TestScripts runs scripts as EVAL does at apply and compares their
// replies with Redis 7.0's.
func TestScripts(t *testing.T) {
	ks := newTestKeyspace(t)
	run(t, ks, "set", "s", "x")
	sha := func(src string) string { return ScriptSHA([]byte(src)) }
	cases := []struct {
		src  string
		want any
	}{
		{"return 1", int64(1)},
		{"return -3.7", int64(-3)},
		{"return {1,2,nil,4}", []any{int64(1), int64(2)}},
		{"return true", int64(1)},
		{"return false", nil},
		{"return redis.call('get','nokey')", nil},
		{"return {ok='FINE'}", SimpleString("FINE")},
		{"return {err='My Error'}", Error("My Error")},
		{"return redis.error_reply('-MY x')", Error("MY x")},
		{"return redis.pcall('incr','s')", Error("ERR value is not an integer or out of range")},
		{"redis.call('incr','s')", Error("ERR value is not an integer or out of range script: " + sha("redis.call('incr','s')") + ", on @user_script:1.")},
		{"return foo", Error("ERR user_script:1: Script attempted to access nonexistent global variable 'foo' script: " + sha("return foo") + ", on @user_script:1.")},
		{"foo=1", Error("ERR user_script:1: Attempt to modify a readonly table script: " + sha("foo=1") + ", on @user_script:1.")},
		{"error('x', 0)", Error("ERR x script: " + sha("error('x', 0)") + ", on @user_script:1.")},
		{"\nerror({err='MYERR boom'})", Error("MYERR boom script: " + sha("\nerror({err='MYERR boom'})") + ", on @user_script:2.")},
		{"return redis.sha1hex('')", []byte("da39a3ee5e6b4b0d3255bfef95601890afd80709")},
		{"return cjson.encode({1,2,{a=1}})", []byte(`[1,2,{"a":1}]`)},
		{"return cjson.decode('[1,2,{\"a\":1.5}]')[3].a", int64(1)},
		{"return bit.band(0xff, 0x0f)", int64(15)},
		{"return bit.tohex(255)", []byte("000000ff")},
		{"return tostring(0.1)", []byte("0.1")},
		{"return tostring(1e100)", []byte("1e+100")},
		{"return math.random(10)", int64(2)},
		{"return redis.call('select', 3)", SimpleString("OK")},
		{"return redis.pcall('multi')['err']", []byte("ERR This Redis command is not allowed from script")},
		{"return redis.pcall('nosuch')['err']", []byte("ERR Unknown Redis command called from script")},
		{"return redis.call('set', KEYS, 1)", Error("ERR Lua redis lib command arguments must be strings or integers script: " + sha("return redis.call('set', KEYS, 1)") + ", on @user_script:1.")},
		{"return type(print)", Error("ERR user_script:1: Script attempted to access nonexistent global variable 'print' script: " + sha("return type(print)") + ", on @user_script:1.")},
	}
	for _, c := range cases {
		got, err := testScript(ks, c.src, DefaultScriptLimits)
		if err != nil {
			got = err
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q = %#v, want %#v", c.src, got, c.want)
		}
	}
}

// TestScriptBounds stops scripts that loop or allocate without bound, at
// the same instruction for the same inputs.
func TestScriptBounds(t *testing.T) {
	ks := newTestKeyspace(t)
	lim := ScriptLimits{Instructions: 1_000_000, Memory: 1 << 20}
	for _, src := range []string{
		"while true do end",
		"local s = 'x' for i = 1, 64 do s = s .. s end return #s",
		"return #string.rep('x', 1e10)",
		"local t = {} for i = 1, 1e9 do t[i] = string.rep('y', 100) .. i end",
		"while true do pcall(function() while true do end end) end",
	} {
		var first any
		for range 2 {
			r, err := testScript(ks, src, lim)
			if err == nil {
				t.Fatalf("%q = %v, want an error", src, r)
			}
			if first != nil && first != any(err) {
				t.Fatalf("%q: %v, then %v", src, first, err)
			}
			first = err
		}
		if !strings.Contains(fmt.Sprint(first), "lua-") {
			t.Errorf("%q: %v", src, first)
		}
	}
}

// testScript runs src as EVAL src 0 would at apply.
func testScript(ks *Keyspace, src string, lim ScriptLimits) (any, error) {
	return runEval(ks, [][]byte{[]byte("eval"), []byte(src), []byte("0")}, lim)
}

// TestShebang reads EVAL scripts' shebangs as Redis 7.0 does.
func TestShebang(t *testing.T) {
	cases := []struct {
		src     string
		shebang bool
		flags   uint64
		err     string
	}{
		{"return 1", false, 0, ""},
		{"#!lua\nreturn 1", true, 0, ""},
		{"#!lua flags=no-writes,no-cluster flags=allow-oom\n", true, 1 | 1<<3 | 1<<1, ""},
		{"#!lua flags=\n", true, 0, ""},
		{"#!lua", false, 0, "ERR Invalid script shebang"},
		{"#!lua \"x\n", false, 0, "ERR Invalid engine in script shebang"},
		{"#!LUA\n", false, 0, "ERR Unexpected engine in script shebang: #!LUA"},
		{"#!lua name=x\n", false, 0, "ERR Unknown lua shebang option: name=x"},
		{"#!lua flags=no-writes,\n", false, 0, "ERR Unexpected flag in script shebang: "},
	}
	for _, c := range cases {
		es, _, err := parseShebang([]byte(c.src))
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("%q: %v, want %q", c.src, err, c.err)
			}
			continue
		}
		if err != nil || es.shebang != c.shebang || es.flags != c.flags {
			t.Errorf("%q: %+v, %v", c.src, es, err)
		}
	}
}
