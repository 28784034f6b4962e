package luasandbox

import (
	"errors"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// eval runs src in a fresh protected state and returns its one result
// as a string (tostring's), or the error.
func eval(t *testing.T, lim Limits, src string) (string, error) {
	t.Helper()
	s := New(lim, nil)
	defer s.Close()
	s.Protect()
	proto, err := Compile("user_script", src)
	if err != nil {
		return "", err
	}
	s.L.Push(s.L.NewFunctionFromProto(proto))
	if err := s.L.PCall(0, 1, nil); err != nil {
		if s.Exceeded() != nil {
			return "", s.Exceeded()
		}
		return "", err
	}
	v := s.L.Get(-1)
	if n, ok := v.(lua.LNumber); ok {
		return FormatNumber(float64(n)), nil
	}
	return v.String(), nil
}

func TestLibraries(t *testing.T) {
	cases := []struct{ src, want string }{
		{`return cjson.encode({1, "a/b", {x = true}, false})`, `[1,"a\/b",{"x":true},false]`},
		{`return cjson.encode({})`, `{}`},
		{`return cjson.encode({[1] = 1, [3] = 3})`, `[1,null,3]`},
		{`return cjson.encode("\n\1\127")`, `"\n\u0001\u007f"`},
		{`return cjson.encode(0.1)`, `0.1`},
		{`return cjson.decode('{"a":[1,2.5,"x",null]}').a[2]`, `2.5`},
		{`return cjson.decode('[1,null]')[2] == cjson.null`, `true`},
		{`return cjson.encode(cjson.decode('{"k":"\\u00e9"}'))`, `{"k":"é"}`},
		{`return select(2, pcall(cjson.decode, '[1,'))`, `user_script:1: Expected value but found invalid token at character 4`},
		{`return bit.tobit(0xffffffff)`, `-1`},
		{`return bit.tobit(2^32 + 7)`, `7`},
		{`return bit.band(-1, 0xff)`, `255`},
		{`return bit.bor(1, 2, 4, 8)`, `15`},
		{`return bit.bxor(0xf0, 0xff)`, `15`},
		{`return bit.bnot(0)`, `-1`},
		{`return bit.lshift(1, 31)`, `-2147483648`},
		{`return bit.rshift(-1, 28)`, `15`},
		{`return bit.arshift(-256, 4)`, `-16`},
		{`return bit.rol(0x80000000, 1)`, `1`},
		{`return bit.ror(1, 1)`, `-2147483648`},
		{`return bit.bswap(0x01020304)`, `67305985`},
		{`return bit.tohex(255)`, `000000ff`},
		{`return bit.tohex(-1, -4)`, `FFFF`},
		{`return tostring(1/3)`, `0.33333333333333`},
		{`return tostring(1e15)`, `1e+15`},
		{`return tostring(-0.5)`, `-0.5`},
		{`return math.random(100)`, `18`},
		{`math.randomseed(7) local a = math.random() math.randomseed(7) return a == math.random()`, `true`},
		{`return type(print) == nil`, ``},
	}
	for _, c := range cases {
		got, err := eval(t, Limits{}, c.src)
		if c.want == "" {
			if err == nil {
				t.Errorf("%s = %q, want an error", c.src, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s = %q, %v; want %q", c.src, got, err, c.want)
		}
	}
}

func TestGlobalsProtection(t *testing.T) {
	for src, want := range map[string]string{
		"x = 1":    "user_script:1: Attempt to modify a readonly table",
		"return y": "user_script:1: Script attempted to access nonexistent global variable 'y'",
	} {
		_, err := eval(t, Limits{}, src)
		var ae *lua.ApiError
		if !errors.As(err, &ae) || lua.LVAsString(ae.Object) != want {
			t.Errorf("%s: %v, want %q", src, err, want)
		}
	}
}

func TestBounds(t *testing.T) {
	cases := []struct {
		src  string
		want error
	}{
		{"while true do end", ErrInstructions},
		{"local s = 'x' while true do s = s .. s end", ErrMemory},
		{"return string.rep('x', 2^40)", ErrMemory},
		{"local t = {} for i = 1, 100 do t[i] = string.rep('x', 1e6) end return table.concat(t)", ErrMemory},
	}
	for _, c := range cases {
		var counts []int64
		for range 2 {
			s := New(Limits{Instructions: 1e6, Memory: 16 << 20}, nil)
			proto, err := Compile("user_script", c.src)
			if err != nil {
				t.Fatal(err)
			}
			s.L.Push(s.L.NewFunctionFromProto(proto))
			if err := s.L.PCall(0, 1, nil); err == nil || s.Exceeded() != c.want {
				t.Fatalf("%s: %v, exceeded %v; want %v", c.src, err, s.Exceeded(), c.want)
			}
			counts = append(counts, s.Instructions())
			s.Close()
		}
		if counts[0] != counts[1] {
			t.Errorf("%s stopped after %d, then %d instructions", c.src, counts[0], counts[1])
		}
	}
}

func TestCompileError(t *testing.T) {
	_, err := Compile("user_script", "return (")
	if err == nil || err.Error()[:14] != "user_script:1:" {
		t.Fatalf("compile error %v", err)
	}
}

func TestCompileCachesAndShares(t *testing.T) {
	src := "return ARGV_SUM + 1"
	p1, err := Compile("user_script", src)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := Compile("user_script", src)
	if err != nil || p1 != p2 {
		t.Fatalf("second compile: %p %p %v", p1, p2, err)
	}
	_, e1 := Compile("user_script", "return (")
	_, e2 := Compile("user_script", "return (")
	if e1 == nil || e2 == nil || e1.Error() != e2.Error() {
		t.Fatalf("compile errors %v / %v", e1, e2)
	}
	// One proto runs in two states, each with its own globals.
	for i, n := range []float64{1, 41} {
		s := New(Limits{}, nil)
		s.L.SetGlobal("ARGV_SUM", lua.LNumber(n))
		s.L.Push(s.L.NewFunctionFromProto(p1))
		if err := s.L.PCall(0, 1, nil); err != nil {
			t.Fatal(err)
		}
		if got := s.L.Get(-1); got != lua.LNumber(n+1) {
			t.Errorf("state %d: %v", i, got)
		}
		s.L.Close()
	}
}
