package keyspace

import (
	"reflect"
	"testing"
)

// TestLibraryMeta reads shebangs as Redis 7.0 does.
func TestLibraryMeta(t *testing.T) {
	cases := []struct {
		code, name, err string
	}{
		{"#!lua name=lib\nx", "lib", ""},
		{"#!LUA  NAME=lib \r\nx", "lib", ""},
		{"return 1", "", "ERR Missing library metadata"},
		{"#!lua name=x", "", "ERR Invalid library metadata"},
		{"#!lua name=\"x\n", "", "ERR Invalid library metadata"},
		{"#!lua name=a name=b\n", "", "ERR Invalid metadata value, name argument was given multiple times"},
		{"#!lua foo=x\n", "", "ERR Invalid metadata value given: foo=x"},
		{"#!lua\n", "", "ERR Library name was not given"},
		{"#!lua name=a-b\n", "", "ERR " + errBadName},
		{"#!lua name=\n", "", "ERR " + errBadName},
		{"#!js name=a\n", "", "ERR Engine 'js' not found"},
	}
	for _, c := range cases {
		md, err := parseLibrary([]byte(c.code))
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("%q: %v, want %q", c.code, err, c.err)
			}
			continue
		}
		if err != nil || md.name != c.name {
			t.Errorf("%q: %q, %v, want %q", c.code, md.name, err, c.name)
		}
	}
}

// TestFunctions loads libraries and calls their functions as apply does.
func TestFunctions(t *testing.T) {
	ks := newTestKeyspace(t)
	load := func(replace, code string) any {
		r, err := applyFunctionLoad(ks, [][]byte{[]byte(cmdFunctionLoad), []byte(replace), []byte(code)})
		if err != nil {
			return err
		}
		return r
	}
	fcall := func(words ...string) any {
		r, err := runFcall(ks, argv(words), DefaultScriptLimits)
		if err != nil {
			return err
		}
		return r
	}
	lib := "#!lua name=lib\nredis.register_function('setk', function(keys, args) return redis.call('set', keys[1], args[1]) end)\n" +
		"redis.register_function{function_name='Getk', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes', 'allow-stale'}, description='d'}\n"
	steps := []struct {
		got, want any
	}{
		{load("", lib), []byte("lib")},
		{load("", lib), Error("ERR Library 'lib' already exists")},
		{load("replace", lib), []byte("lib")},
		{load("", "#!lua name=other\nredis.register_function('SETK', function() end)"), Error("ERR Function SETK already exists")},
		{load("", "#!lua name=other\nlocal x = 1"), Error("ERR No functions registered")},
		{load("", "#!lua name=other\nredis.register_function('a', function() end) redis.register_function('a', function() end)"), Error("ERR Error registering functions: ERR Function already exists in the library")},
		{load("", "#!lua name=other\nredis.call('ping')"), Error("ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'call'")},
		{load("", "#!lua name=other\nredis.register_function('f', function() end, 1)"), Error("ERR Error registering functions: ERR wrong number of arguments to redis.register_function")},
		{fcall("fcall", "setk", "1", "k", "v"), SimpleString("OK")},
		{fcall("fcall_ro", "getk", "1", "k"), []byte("v")},
		{fcall("fcall_ro", "setk", "1", "k", "v"), Error("ERR Can not execute a script with write flag using *_ro command.")},
		{fcall("fcall", "nosuch", "0"), Error("ERR Function not found")},
		{fcall("fcall", "setk", "x"), Error("ERR Bad number of keys provided")},
		{fcall("fcall", "setk", "2", "k"), Error("ERR Number of keys can't be greater than number of args")},
		{fcall("fcall", "setk", "-1"), Error("ERR Number of keys can't be negative")},
	}
	for i, s := range steps {
		if !reflect.DeepEqual(s.got, s.want) {
			t.Errorf("step %d: %#v, want %#v", i, s.got, s.want)
		}
	}
	libs, err := Libraries(ks.r)
	if err != nil {
		t.Fatal(err)
	}
	want := []*Library{{Name: "lib", Code: []byte(lib), Functions: []FunctionInfo{
		{Name: "setk"},
		{Name: "Getk", Desc: "d", HasDesc: true, Flags: 1<<0 | 1<<2},
	}}}
	if !reflect.DeepEqual(libs, want) {
		t.Fatalf("Libraries = %+v", libs)
	}
	if got := FunctionFlagNames(libs[0].Functions[1].Flags); !reflect.DeepEqual(got, []string{"no-writes", "allow-stale"}) {
		t.Fatalf("flags = %v", got)
	}
	if r, err := applyFunctionDelete(ks, argv([]string{cmdFunctionDelete, "lib"})); r != OK || err != nil {
		t.Fatalf("delete = %v, %v", r, err)
	}
	if r := fcall("fcall", "setk", "1", "k", "v"); r != Error("ERR Function not found") {
		t.Fatalf("FCALL after delete = %v", r)
	}
}

// TestFunctionBounds: a library's top level runs under loadLimits, a
// function under the call's budget, the same way every time.
func TestFunctionBounds(t *testing.T) {
	ks := newTestKeyspace(t)
	code := []byte("#!lua name=b\nredis.register_function('spin', function() while true do end end)")
	if _, err := applyFunctionLoad(ks, [][]byte{[]byte(cmdFunctionLoad), nil, code}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		_, err := runFcall(ks, argv([]string{"fcall", "spin", "0"}), ScriptLimits{Instructions: 100_000, Memory: 1 << 20})
		if err == nil || err.Error() != "ERR Script exceeded lua-instruction-limit (100000 instructions) script: spin, on @user_function:2." {
			t.Fatalf("spin = %v", err)
		}
	}
	_, err := applyFunctionLoad(ks, [][]byte{[]byte(cmdFunctionLoad), nil, []byte("#!lua name=c\nwhile true do end")})
	if err == nil || err.Error() != "ERR Error registering functions: ERR FUNCTION LOAD timeout" {
		t.Fatalf("endless load = %v", err)
	}
}
