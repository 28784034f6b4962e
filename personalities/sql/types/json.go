package types

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/cockroachdb/apd/v3"

	"hourglass/personalities/sql/pgerror"
)

// JSON values: json keeps its text as given (once validated); jsonb is
// held as its canonical text (the text jsonb_out prints). Operators work
// on a parsed tree, JSONValue.

// JSONValue is a parsed JSON value: nil (null), bool, string,
// *apd.Decimal (a number), []JSONValue (an array) or *JSONObject.
type JSONValue any

// JSONObject is an object's members in order. For jsonb they are sorted
// as Postgres sorts them (shorter keys first, then bytewise) and unique.
type JSONObject struct {
	Keys []string
	Vals []JSONValue
}

// Get returns the value of key, if present (the last one, for json with
// duplicates).
func (o *JSONObject) Get(key string) (JSONValue, bool) {
	for i := len(o.Keys) - 1; i >= 0; i-- {
		if o.Keys[i] == key {
			return o.Vals[i], true
		}
	}
	return nil, false
}

type jsonParser struct {
	s    string
	i    int
	typ  string
	text string
}

func (p *jsonParser) fail(detail string, args ...any) error {
	e := pgerror.New(pgerror.InvalidTextRepresentation, "invalid input syntax for type %s", p.typ).WithDetail(detail, args...)
	e.Where = p.context(min(p.i+len(p.token()), len(p.s)))
	return e
}

// context is the CONTEXT Postgres gives a JSON error ending at end: the
// line up to the bad token, at most 50 bytes of it.
func (p *jsonParser) context(end int) string {
	line, lineStart := 1, 0
	for i := 0; i < end; i++ {
		if p.s[i] == '\n' {
			line++
			lineStart = i + 1
		}
	}
	start, prefix, suffix := lineStart, "", ""
	if end-start > 50 {
		start = end - 50
		for start < end && !utf8.RuneStart(p.s[start]) {
			start++
		}
		prefix = "..."
	}
	if end < len(p.s) && p.s[end] != '\n' && p.s[end] != '\r' {
		suffix = "..."
	}
	return fmt.Sprintf("JSON data, line %d: %s%s%s", line, prefix, p.s[start:end], suffix)
}

func (p *jsonParser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// token returns the token at the parser's position, for errors.
func (p *jsonParser) token() string {
	j := p.i
	if j >= len(p.s) {
		return ""
	}
	c := p.s[j]
	if strings.IndexByte("{}[],:\"", c) >= 0 {
		return string(c)
	}
	for j < len(p.s) && strings.IndexByte(" \t\n\r{}[],:\"", p.s[j]) < 0 {
		j++
	}
	return p.s[p.i:j]
}

func (p *jsonParser) value(depth int) (JSONValue, error) {
	if depth > 6400 {
		return nil, pgerror.New(pgerror.StatementTooComplex, "stack depth limit exceeded")
	}
	p.ws()
	if p.i >= len(p.s) {
		return nil, p.fail("The input string ended unexpectedly.")
	}
	switch c := p.s[p.i]; {
	case c == '}' || c == ']' || c == ',' || c == ':':
		return nil, p.fail("Expected JSON value, but found \"%c\".", c)
	case c == '{':
		p.i++
		obj := &JSONObject{}
		p.ws()
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			return obj, nil
		}
		for {
			p.ws()
			if p.i >= len(p.s) {
				return nil, p.fail("The input string ended unexpectedly.")
			}
			if p.s[p.i] != '"' {
				if tok := p.token(); !validJSONToken(tok) {
					return nil, p.fail("Token \"%s\" is invalid.", tok)
				}
				return nil, p.fail("Expected string, but found \"%s\".", p.token())
			}
			k, err := p.str()
			if err != nil {
				return nil, err
			}
			p.ws()
			if p.i >= len(p.s) {
				return nil, p.fail("The input string ended unexpectedly.")
			}
			if p.s[p.i] != ':' {
				return nil, p.fail("Expected \":\", but found \"%s\".", p.token())
			}
			p.i++
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			obj.Keys = append(obj.Keys, k)
			obj.Vals = append(obj.Vals, v)
			p.ws()
			if p.i >= len(p.s) {
				return nil, p.fail("The input string ended unexpectedly.")
			}
			if p.s[p.i] == '}' {
				p.i++
				return obj, nil
			}
			if p.s[p.i] != ',' {
				return nil, p.fail("Expected \",\" or \"}\", but found \"%s\".", p.token())
			}
			p.i++
		}
	case c == '[':
		p.i++
		arr := []JSONValue{}
		p.ws()
		if p.i < len(p.s) && p.s[p.i] == ']' {
			p.i++
			return arr, nil
		}
		for {
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
			p.ws()
			if p.i >= len(p.s) {
				return nil, p.fail("The input string ended unexpectedly.")
			}
			if p.s[p.i] == ']' {
				p.i++
				return arr, nil
			}
			if p.s[p.i] != ',' {
				return nil, p.fail("Expected \",\" or \"]\", but found \"%s\".", p.token())
			}
			p.i++
		}
	case c == '"':
		return p.str()
	case c == '-' || isDigit(c):
		j := p.i
		if p.s[j] == '-' {
			j++
		}
		start := j
		for j < len(p.s) && isDigit(p.s[j]) {
			j++
		}
		ok := j > start && !(p.s[start] == '0' && j-start > 1)
		if ok && j < len(p.s) && p.s[j] == '.' {
			j++
			k := j
			for j < len(p.s) && isDigit(p.s[j]) {
				j++
			}
			ok = j > k
		}
		if ok && j < len(p.s) && (p.s[j] == 'e' || p.s[j] == 'E') {
			j++
			if j < len(p.s) && (p.s[j] == '+' || p.s[j] == '-') {
				j++
			}
			k := j
			for j < len(p.s) && isDigit(p.s[j]) {
				j++
			}
			ok = j > k
		}
		if !ok || j < len(p.s) && strings.IndexByte(" \t\n\r{}[],:\"", p.s[j]) < 0 {
			p.i = start - (start - p.i)
			return nil, p.fail("Token \"%s\" is invalid.", p.token())
		}
		d, _, err := apd.NewFromString(p.s[p.i:j])
		if err != nil {
			return nil, p.fail("Token \"%s\" is invalid.", p.s[p.i:j])
		}
		p.i = j
		return normalizeNumeric(d), nil
	default:
		tok := p.token()
		switch tok {
		case "true":
			p.i += 4
			return true, nil
		case "false":
			p.i += 5
			return false, nil
		case "null":
			p.i += 4
			return nil, nil
		}
		return nil, p.fail("Token \"%s\" is invalid.", tok)
	}
}

// validJSONToken reports whether the JSON lexer accepts tok (a word it
// does not know is an invalid token before it is an unexpected one).
func validJSONToken(tok string) bool {
	switch tok {
	case "true", "false", "null", "{", "}", "[", "]", ",", ":", "\"":
		return true
	}
	_, _, err := apd.NewFromString(tok)
	return err == nil && (tok[0] == '-' || isDigit(tok[0]))
}

func (p *jsonParser) str() (string, error) {
	p.i++ // the opening quote
	var sb strings.Builder
	for {
		if p.i >= len(p.s) {
			return "", p.fail("The input string ended unexpectedly.")
		}
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return sb.String(), nil
		case c < 0x20:
			return "", p.fail("Character with value 0x%02x must be escaped.", c)
		case c == '\\':
			if p.i+1 >= len(p.s) {
				return "", p.fail("The input string ended unexpectedly.")
			}
			e := p.s[p.i+1]
			p.i += 2
			switch e {
			case '"', '\\', '/':
				sb.WriteByte(e)
			case 'b':
				sb.WriteByte('\b')
			case 'f':
				sb.WriteByte('\f')
			case 'n':
				sb.WriteByte('\n')
			case 'r':
				sb.WriteByte('\r')
			case 't':
				sb.WriteByte('\t')
			case 'u':
				r, ok := p.hex4()
				if !ok {
					return "", p.fail("\"\\u\" must be followed by four hexadecimal digits.")
				}
				if utf16.IsSurrogate(r) {
					if p.i+1 < len(p.s) && p.s[p.i] == '\\' && p.s[p.i+1] == 'u' {
						p.i += 2
						r2, ok := p.hex4()
						if !ok {
							return "", p.fail("\"\\u\" must be followed by four hexadecimal digits.")
						}
						r = utf16.DecodeRune(r, r2)
					}
					if r == utf8.RuneError {
						return "", pgerror.New(pgerror.UntranslatableCharacter, "invalid input syntax for type %s", p.typ).WithDetail("Unicode low surrogate must follow a high surrogate.")
					}
				}
				if r == 0 {
					return "", pgerror.New(pgerror.UntranslatableCharacter, "unsupported Unicode escape sequence").WithDetail("\\u0000 cannot be converted to text.")
				}
				sb.WriteRune(r)
			default:
				return "", p.fail("Escape sequence \"\\%c\" is invalid.", e)
			}
		default:
			sb.WriteByte(c)
			p.i++
		}
	}
}

func (p *jsonParser) hex4() (rune, bool) {
	if p.i+4 > len(p.s) {
		return 0, false
	}
	n, err := strconv.ParseUint(p.s[p.i:p.i+4], 16, 32)
	if err != nil {
		return 0, false
	}
	p.i += 4
	return rune(n), true
}

// ParseJSONValue parses JSON text (for type json or jsonb, named in
// errors).
func ParseJSONValue(text, typ string) (JSONValue, error) {
	p := &jsonParser{s: text, typ: typ, text: text}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i < len(p.s) {
		return nil, p.fail("Expected end of input, but found \"%s\".", p.token())
	}
	return v, nil
}

// CanonJSONB sorts objects' keys as jsonb does and drops duplicate keys
// (the last one wins), recursively. It returns v, modified.
func CanonJSONB(v JSONValue) JSONValue {
	switch x := v.(type) {
	case []JSONValue:
		for i := range x {
			x[i] = CanonJSONB(x[i])
		}
	case *JSONObject:
		idx := make([]int, len(x.Keys))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool {
			ka, kb := x.Keys[idx[a]], x.Keys[idx[b]]
			if len(ka) != len(kb) {
				return len(ka) < len(kb)
			}
			return ka < kb
		})
		out := &JSONObject{}
		for j, i := range idx {
			if j+1 < len(idx) && x.Keys[idx[j+1]] == x.Keys[i] {
				continue // a later duplicate wins
			}
			out.Keys = append(out.Keys, x.Keys[i])
			out.Vals = append(out.Vals, CanonJSONB(x.Vals[i]))
		}
		return out
	}
	return v
}

// AppendJSON appends v's text as jsonb_out prints it (", " and ": "
// separators).
func AppendJSON(b []byte, v JSONValue) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, x)
	case string:
		return AppendJSONString(b, x)
	case *apd.Decimal:
		return append(b, formatNumeric(x)...)
	case []JSONValue:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = AppendJSON(b, e)
		}
		return append(b, ']')
	case *JSONObject:
		return AppendJSONObject(b, x, ": ")
	}
	return fmt.Appendf(b, "%v", v)
}

// AppendJSONObject appends an object with keySep between each key and
// its value (jsonb prints ": ", the json builders " : ").
func AppendJSONObject(b []byte, o *JSONObject, keySep string) []byte {
	b = append(b, '{')
	for i, k := range o.Keys {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = AppendJSONString(b, k)
		b = append(b, keySep...)
		b = AppendJSON(b, o.Vals[i])
	}
	return append(b, '}')
}

// AppendJSONString appends s quoted as Postgres's escape_json does.
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			b = append(b, `\"`...)
		case '\\':
			b = append(b, `\\`...)
		case '\b':
			b = append(b, `\b`...)
		case '\f':
			b = append(b, `\f`...)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		default:
			if c < 0x20 {
				b = fmt.Appendf(b, `\u%04x`, c)
			} else {
				b = append(b, c)
			}
		}
	}
	return append(b, '"')
}

// ParseJSONB parses text to jsonb's canonical text.
func ParseJSONB(text string) (JSONB, error) {
	v, err := ParseJSONValue(text, "json")
	if err != nil {
		return "", err
	}
	return JSONBOf(v), nil
}

// JSONBOf returns v's jsonb (canonicalizing v).
func JSONBOf(v JSONValue) JSONB { return JSONB(AppendJSON(nil, CanonJSONB(v))) }

// Value parses a jsonb value (which is valid by construction).
func (j JSONB) Value() JSONValue {
	v, err := ParseJSONValue(string(j), "jsonb")
	if err != nil {
		return nil
	}
	return v
}

// jsonbRank orders jsonb values of different kinds as Postgres does:
// null < string < number < boolean < array < object (an empty top-level
// array sorts before null, which this does not model).
func jsonbRank(v JSONValue) int {
	switch v.(type) {
	case nil:
		return 0
	case string:
		return 1
	case *apd.Decimal:
		return 2
	case bool:
		return 3
	case []JSONValue:
		return 4
	}
	return 5
}

// CompareJSONB orders jsonb values: by kind, then arrays and objects by
// length first, then element by element.
func CompareJSONB(a, b JSONValue) int {
	ra, rb := jsonbRank(a), jsonbRank(b)
	if ra != rb {
		return ra - rb
	}
	switch x := a.(type) {
	case string:
		return strings.Compare(x, b.(string))
	case *apd.Decimal:
		return compareNumeric(x, b.(*apd.Decimal))
	case bool:
		y := b.(bool)
		if x == y {
			return 0
		}
		if !x {
			return -1
		}
		return 1
	case []JSONValue:
		y := b.([]JSONValue)
		if len(x) != len(y) {
			return len(x) - len(y)
		}
		for i := range x {
			if c := CompareJSONB(x[i], y[i]); c != 0 {
				return c
			}
		}
	case *JSONObject:
		y := b.(*JSONObject)
		if len(x.Keys) != len(y.Keys) {
			return len(x.Keys) - len(y.Keys)
		}
		for i := range x.Keys {
			if c := strings.Compare(x.Keys[i], y.Keys[i]); c != 0 {
				return c
			}
			if c := CompareJSONB(x.Vals[i], y.Vals[i]); c != 0 {
				return c
			}
		}
	}
	return 0
}
