package types

import (
	"encoding/binary"
	"strings"

	"hourglass/personalities/sql/pgerror"
)

// Arrays: text I/O as array_in and array_out, ordering as array_cmp.

// NewArray returns a one-dimensional array (lower bound 1) of elems; an
// empty array when elems is empty.
func NewArray(elem Oid, elems []any) *Array {
	a := &Array{Elem: elem, Elems: elems}
	if len(elems) > 0 {
		a.Dims, a.Lbounds = []int32{int32(len(elems))}, []int32{1}
	}
	return a
}

// arrayNeedsQuote reports whether array_out quotes an element's text.
func arrayNeedsQuote(s string) bool {
	if s == "" || strings.EqualFold(s, "NULL") {
		return true
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{', '}', ',', '"', '\\', ' ', '\t', '\n', '\r', '\v', '\f':
			return true
		}
	}
	return false
}

// FormatArray prints an array as array_out does.
func FormatArray(a *Array, s *Settings) string {
	var b strings.Builder
	if len(a.Dims) == 0 {
		return "{}"
	}
	nonDefault := false
	for _, l := range a.Lbounds {
		if l != 1 {
			nonDefault = true
		}
	}
	if nonDefault {
		for i := range a.Dims {
			b.WriteString("[")
			b.WriteString(itoa(int64(a.Lbounds[i])))
			b.WriteString(":")
			b.WriteString(itoa(int64(a.Lbounds[i] + a.Dims[i] - 1)))
			b.WriteString("]")
		}
		b.WriteString("=")
	}
	et := T(a.Elem)
	k := 0
	var rec func(dim int)
	rec = func(dim int) {
		b.WriteByte('{')
		for i := int32(0); i < a.Dims[dim]; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			if dim+1 < len(a.Dims) {
				rec(dim + 1)
				continue
			}
			e := a.Elems[k]
			k++
			if e == nil {
				b.WriteString("NULL")
				continue
			}
			t := Format(et, e, s)
			if arrayNeedsQuote(t) {
				b.WriteByte('"')
				for j := 0; j < len(t); j++ {
					if t[j] == '"' || t[j] == '\\' {
						b.WriteByte('\\')
					}
					b.WriteByte(t[j])
				}
				b.WriteByte('"')
			} else {
				b.WriteString(t)
			}
		}
		b.WriteByte('}')
	}
	rec(0)
	return b.String()
}

func itoa(n int64) string { return string(appendInt(nil, n)) }

func appendInt(b []byte, n int64) []byte {
	if n < 0 {
		b = append(b, '-')
		n = -n
	}
	var d [20]byte
	i := len(d)
	for {
		i--
		d[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(b, d[i:]...)
}

func errMalformedArray(text, detail string, args ...any) error {
	return pgerror.New(pgerror.InvalidTextRepresentation, "malformed array literal: \"%s\"", text).WithDetail(detail, args...)
}

// ParseArray reads an array literal of element type elem:
// '{1,2,NULL}', '{"a b","c\"d"}', '{{1,2},{3,4}}'. Dimension decorations
// ("[0:1]={...}") are not accepted.
func ParseArray(t Type, text string, s *Settings) (*Array, error) {
	elem := ElemOf(t.Oid)
	p := strings.TrimLeft(text, " \t\n\r")
	if p == "" || p[0] != '{' {
		if p != "" && p[0] == '[' {
			return nil, pgerror.New(pgerror.FeatureNotSupported, "array dimension decorations are not supported")
		}
		return nil, errMalformedArray(text, "Array value must start with \"{\" or dimension information.")
	}
	type item struct {
		text   string
		quoted bool
	}
	var items []item
	var dims []int32
	counts := []int32{}
	depth := 0
	maxDepth := -1
	i := 0
	expectElem := true
	for i < len(p) {
		c := p[i]
		switch {
		case c == '{':
			if !expectElem {
				return nil, errMalformedArray(text, "Unexpected \"{\" character.")
			}
			if maxDepth >= 0 && depth >= maxDepth {
				return nil, errMalformedArray(text, "Unexpected \"{\" character.")
			}
			depth++
			if len(counts) < depth {
				counts = append(counts, 0)
			}
			counts[depth-1] = 0
			i++
		case c == '}':
			if depth == 0 {
				return nil, errMalformedArray(text, "Unexpected \"}\" character.")
			}
			if expectElem && counts[depth-1] > 0 {
				return nil, errMalformedArray(text, "Unexpected \"}\" character.")
			}
			if maxDepth < 0 {
				maxDepth = depth
			}
			if len(dims) < depth {
				for len(dims) < depth {
					dims = append(dims, -1)
				}
			}
			if dims[depth-1] == -1 {
				dims[depth-1] = counts[depth-1]
			} else if dims[depth-1] != counts[depth-1] {
				return nil, errMalformedArray(text, "Multidimensional arrays must have sub-arrays with matching dimensions.")
			}
			depth--
			if depth > 0 {
				counts[depth-1]++
			}
			i++
			expectElem = false
			if depth == 0 {
				rest := strings.TrimSpace(p[i:])
				if rest != "" {
					return nil, errMalformedArray(text, "Junk after closing right brace.")
				}
				i = len(p)
			}
		case c == ',':
			if expectElem || depth == 0 {
				return nil, errMalformedArray(text, "Unexpected \",\" character.")
			}
			expectElem = true
			i++
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		default:
			if !expectElem {
				return nil, errMalformedArray(text, "Unexpected array element.")
			}
			if maxDepth >= 0 && depth != maxDepth {
				return nil, errMalformedArray(text, "Multidimensional arrays must have sub-arrays with matching dimensions.")
			}
			var sb strings.Builder
			quoted := false
			if c == '"' {
				quoted = true
				i++
				for {
					if i >= len(p) {
						return nil, errMalformedArray(text, "Unexpected end of input.")
					}
					if p[i] == '\\' && i+1 < len(p) {
						sb.WriteByte(p[i+1])
						i += 2
						continue
					}
					if p[i] == '"' {
						i++
						break
					}
					sb.WriteByte(p[i])
					i++
				}
			} else {
				for i < len(p) && p[i] != ',' && p[i] != '}' {
					if p[i] == '{' || p[i] == '"' {
						return nil, errMalformedArray(text, "Unexpected \"%c\" character.", p[i])
					}
					if p[i] == '\\' && i+1 < len(p) {
						sb.WriteByte(p[i+1])
						i += 2
						continue
					}
					sb.WriteByte(p[i])
					i++
				}
			}
			v := sb.String()
			if !quoted {
				v = strings.TrimRight(v, " \t\n\r")
			}
			maxDepth = depth
			items = append(items, item{v, quoted})
			counts[depth-1]++
			expectElem = false
		}
	}
	if depth != 0 {
		return nil, errMalformedArray(text, "Unexpected end of input.")
	}
	a := &Array{Elem: elem}
	if len(items) == 0 {
		return a, nil
	}
	a.Dims = dims
	a.Lbounds = make([]int32, len(dims))
	for i := range a.Lbounds {
		a.Lbounds[i] = 1
	}
	et := Type{Oid: elem, Mod: t.Mod}
	for _, it := range items {
		if !it.quoted && strings.EqualFold(it.text, "NULL") {
			a.Elems = append(a.Elems, nil)
			continue
		}
		v, err := Parse(et, it.text, s)
		if err != nil {
			return nil, err
		}
		a.Elems = append(a.Elems, v)
	}
	return a, nil
}

// CompareArray orders arrays as array_cmp: element by element (NULL
// after any value), then the shorter first.
func CompareArray(x, y *Array) int {
	n := min(len(x.Elems), len(y.Elems))
	for i := 0; i < n; i++ {
		a, b := x.Elems[i], y.Elems[i]
		switch {
		case a == nil && b == nil:
			continue
		case a == nil:
			return 1
		case b == nil:
			return -1
		}
		if c := Compare(x.Elem, a, b); c != 0 {
			return c
		}
	}
	switch {
	case len(x.Elems) < len(y.Elems):
		return -1
	case len(x.Elems) > len(y.Elems):
		return 1
	case len(x.Dims) != len(y.Dims):
		if len(x.Dims) < len(y.Dims) {
			return -1
		}
		return 1
	}
	for i := range x.Dims {
		if x.Dims[i] != y.Dims[i] {
			if x.Dims[i] < y.Dims[i] {
				return -1
			}
			return 1
		}
		if x.Lbounds[i] != y.Lbounds[i] {
			if x.Lbounds[i] < y.Lbounds[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// appendKeyArray encodes each element's key (with its NULL marker), then
// 0x00, so that a prefix sorts first. Dimensions are not encoded: arrays
// with the same elements in different shapes have the same key.
func appendKeyArray(b []byte, a *Array) ([]byte, error) {
	var err error
	for _, e := range a.Elems {
		if b, err = AppendKey(b, a.Elem, e, false); err != nil {
			return b, err
		}
	}
	return append(b, 0), nil
}

func appendValueArray(b []byte, a *Array) ([]byte, error) {
	b = binary.AppendUvarint(b, uint64(len(a.Dims)))
	for i := range a.Dims {
		b = binary.AppendVarint(b, int64(a.Dims[i]))
		b = binary.AppendVarint(b, int64(a.Lbounds[i]))
	}
	var err error
	for _, e := range a.Elems {
		if b, err = AppendValue(b, a.Elem, e); err != nil {
			return b, err
		}
	}
	return b, nil
}

func decodeValueArray(b []byte, t Oid) (any, []byte, error) {
	elem := ElemOf(t)
	nd, k := binary.Uvarint(b)
	if k <= 0 || nd > 6 {
		return nil, nil, errCorrupt
	}
	b = b[k:]
	a := &Array{Elem: elem}
	n := int64(1)
	for i := uint64(0); i < nd; i++ {
		d, k := binary.Varint(b)
		if k <= 0 {
			return nil, nil, errCorrupt
		}
		b = b[k:]
		l, k := binary.Varint(b)
		if k <= 0 {
			return nil, nil, errCorrupt
		}
		b = b[k:]
		a.Dims = append(a.Dims, int32(d))
		a.Lbounds = append(a.Lbounds, int32(l))
		n *= d
	}
	if nd == 0 {
		n = 0
	}
	if n < 0 || n > int64(len(b)) {
		return nil, nil, errCorrupt
	}
	for i := int64(0); i < n; i++ {
		v, rest, err := DecodeValue(b, elem)
		if err != nil {
			return nil, nil, err
		}
		a.Elems = append(a.Elems, v)
		b = rest
	}
	return a, b, nil
}

func encodeArrayBinary(a *Array) ([]byte, error) {
	var b []byte
	b = binary.BigEndian.AppendUint32(b, uint32(len(a.Dims)))
	hasNull := uint32(0)
	for _, e := range a.Elems {
		if e == nil {
			hasNull = 1
		}
	}
	b = binary.BigEndian.AppendUint32(b, hasNull)
	b = binary.BigEndian.AppendUint32(b, uint32(a.Elem))
	for i := range a.Dims {
		b = binary.BigEndian.AppendUint32(b, uint32(a.Dims[i]))
		b = binary.BigEndian.AppendUint32(b, uint32(a.Lbounds[i]))
	}
	for _, e := range a.Elems {
		if e == nil {
			b = binary.BigEndian.AppendUint32(b, 0xffffffff)
			continue
		}
		eb, err := EncodeBinary(T(a.Elem), e)
		if err != nil {
			return nil, err
		}
		b = binary.BigEndian.AppendUint32(b, uint32(len(eb)))
		b = append(b, eb...)
	}
	return b, nil
}

func decodeArrayBinary(t Type, b []byte) (*Array, error) {
	bad := pgerror.New(pgerror.InvalidBinaryRepresentation, "insufficient data left in message")
	if len(b) < 12 {
		return nil, bad
	}
	nd := binary.BigEndian.Uint32(b)
	elem := Oid(binary.BigEndian.Uint32(b[8:]))
	if nd > 6 {
		return nil, pgerror.New(pgerror.InvalidBinaryRepresentation, "invalid number of dimensions: %d", nd)
	}
	if elem != ElemOf(t.Oid) {
		return nil, pgerror.New(pgerror.DatatypeMismatch, "binary data has array element type %d (%s) instead of expected %d (%s)", elem, FormatType(elem, -1), ElemOf(t.Oid), FormatType(ElemOf(t.Oid), -1))
	}
	b = b[12:]
	a := &Array{Elem: elem}
	n := int64(1)
	for i := uint32(0); i < nd; i++ {
		if len(b) < 8 {
			return nil, bad
		}
		d, l := int32(binary.BigEndian.Uint32(b)), int32(binary.BigEndian.Uint32(b[4:]))
		if d < 0 {
			return nil, bad
		}
		a.Dims, a.Lbounds = append(a.Dims, d), append(a.Lbounds, l)
		n *= int64(d)
		b = b[8:]
	}
	if nd == 0 {
		n = 0
	}
	if n > int64(len(b)) {
		return nil, bad
	}
	for i := int64(0); i < n; i++ {
		if len(b) < 4 {
			return nil, bad
		}
		l := int32(binary.BigEndian.Uint32(b))
		b = b[4:]
		if l == -1 {
			a.Elems = append(a.Elems, nil)
			continue
		}
		if l < 0 || int(l) > len(b) {
			return nil, bad
		}
		v, err := DecodeBinary(Type{Oid: elem, Mod: t.Mod}, b[:l])
		if err != nil {
			return nil, err
		}
		a.Elems = append(a.Elems, v)
		b = b[l:]
	}
	if len(a.Elems) == 0 {
		a.Dims, a.Lbounds = nil, nil
	}
	return a, nil
}
