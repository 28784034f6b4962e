package luasandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// cjson: the subset of lua-cjson 2.1 Redis scripts use, with its
// defaults: encode, decode and null; numbers as %.14g; '/' escaped; a
// table whose keys are 1..n (holes allowed while n is at most twice the
// number of keys) is an array, any other an object, the empty table {};
// nesting beyond 1000 levels refused.

const cjsonMaxDepth = 1000

func openCJSON(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	null := L.NewUserData()
	t.RawSetString("null", null)
	t.RawSetString("encode", L.NewFunction(func(L *lua.LState) int {
		if L.GetTop() != 1 {
			L.ArgError(1, "expected 1 argument")
		}
		var b bytes.Buffer
		if err := encodeJSON(&b, L.Get(1), null, 0); err != nil {
			L.RaiseError("%s", err.Error())
		}
		L.Push(lua.LString(b.String()))
		return 1
	}))
	t.RawSetString("decode", L.NewFunction(func(L *lua.LState) int {
		s := L.CheckString(1)
		v, err := decodeJSON(L, s, null)
		if err != nil {
			L.RaiseError("%s", err.Error())
		}
		L.Push(v)
		return 1
	}))
	return t
}

func encodeJSON(b *bytes.Buffer, v lua.LValue, null *lua.LUserData, depth int) error {
	switch v := v.(type) {
	case *lua.LNilType:
		b.WriteString("null")
	case lua.LBool:
		b.WriteString(strconv.FormatBool(bool(v)))
	case lua.LNumber:
		f := float64(v)
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return errors.New("Cannot serialise number: must not be NaN or Inf")
		}
		b.WriteString(FormatNumber(f))
	case lua.LString:
		encodeJSONString(b, string(v))
	case *lua.LUserData:
		if v != null {
			return errors.New("Cannot serialise userdata: type not supported")
		}
		b.WriteString("null")
	case *lua.LTable:
		depth++
		if depth > cjsonMaxDepth {
			return errors.New("Cannot serialise, excessive nesting (" + strconv.Itoa(depth) + ")")
		}
		n, isArray, err := arrayLength(v)
		if err != nil {
			return err
		}
		if isArray {
			b.WriteByte('[')
			for i := 1; i <= n; i++ {
				if i > 1 {
					b.WriteByte(',')
				}
				if err := encodeJSON(b, v.RawGetInt(i), null, depth); err != nil {
					return err
				}
			}
			b.WriteByte(']')
			return nil
		}
		b.WriteByte('{')
		first := true
		var ferr error
		v.ForEach(func(k, x lua.LValue) {
			if ferr != nil {
				return
			}
			var key string
			switch k := k.(type) {
			case lua.LString:
				key = string(k)
			case lua.LNumber:
				key = FormatNumber(float64(k))
			default:
				ferr = errors.New("Cannot serialise table: table key must be a number or string")
				return
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			encodeJSONString(b, key)
			b.WriteByte(':')
			ferr = encodeJSON(b, x, null, depth)
		})
		if ferr != nil {
			return ferr
		}
		b.WriteByte('}')
	default:
		return errors.New("Cannot serialise " + v.Type().String() + ": type not supported")
	}
	return nil
}

// arrayLength decides as lua-cjson does whether t is an array, and its
// length.
func arrayLength(t *lua.LTable) (n int, isArray bool, err error) {
	items := 0
	isArray = true
	t.ForEach(func(k, _ lua.LValue) {
		if !isArray {
			return
		}
		f, ok := k.(lua.LNumber)
		if !ok || float64(f) < 1 || float64(f) != math.Floor(float64(f)) {
			isArray = false
			return
		}
		items++
		n = max(n, int(f))
	})
	if !isArray || items == 0 {
		return 0, false, nil
	}
	if n > 10 && n > items*2 {
		return 0, false, errors.New("Cannot serialise table: excessively sparse array")
	}
	return n, true, nil
}

func encodeJSONString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '/':
			b.WriteString(`\/`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if c < 0x20 || c == 0x7f {
				b.WriteString(`\u00`)
				b.WriteByte("0123456789abcdef"[c>>4])
				b.WriteByte("0123456789abcdef"[c&15])
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
}

func decodeJSON(L *lua.LState, s string, null *lua.LUserData) (lua.LValue, error) {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	v, err := decodeValue(L, d, null, 0)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("Expected the end but found invalid token at character " + strconv.FormatInt(d.InputOffset()+1, 10))
	}
	return v, nil
}

func decodeValue(L *lua.LState, d *json.Decoder, null *lua.LUserData, depth int) (lua.LValue, error) {
	tok, err := d.Token()
	if err != nil {
		return nil, errors.New("Expected value but found invalid token at character " + strconv.FormatInt(d.InputOffset()+1, 10))
	}
	switch tok := tok.(type) {
	case json.Delim:
		if depth+1 > cjsonMaxDepth {
			return nil, errors.New("Found too many nested data structures (" + strconv.Itoa(depth+1) + ") at character " + strconv.FormatInt(d.InputOffset(), 10))
		}
		t := L.NewTable()
		switch tok {
		case '[':
			for i := 1; d.More(); i++ {
				v, err := decodeValue(L, d, null, depth+1)
				if err != nil {
					return nil, err
				}
				t.RawSetInt(i, v)
			}
		case '{':
			for d.More() {
				k, err := d.Token()
				if err != nil {
					return nil, errors.New("Expected object key string but found invalid token at character " + strconv.FormatInt(d.InputOffset()+1, 10))
				}
				v, err := decodeValue(L, d, null, depth+1)
				if err != nil {
					return nil, err
				}
				t.RawSetString(k.(string), v)
			}
		}
		if _, err := d.Token(); err != nil {
			return nil, errors.New("Expected comma or end but found invalid token at character " + strconv.FormatInt(d.InputOffset()+1, 10))
		}
		return t, nil
	case string:
		return lua.LString(tok), nil
	case json.Number:
		f, err := strconv.ParseFloat(string(tok), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, err
		}
		return lua.LNumber(f), nil
	case bool:
		return lua.LBool(tok), nil
	case nil:
		return null, nil
	}
	return nil, errors.New("Expected value but found invalid token")
}
