package types

import (
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"hourglass/personalities/sql/pgerror"
)

// Format returns d's text form, as the type's output function prints it.
// REQUIRES: d is not nil (NULL has no text form) and is t's
// representation.
func Format(t Type, d any, s *Settings) string {
	if n, ok := d.(int64); ok && s != nil && s.RegOutput != nil && IsRegType(t.Oid) {
		return s.RegOutput(t.Oid, n)
	}
	switch v := d.(type) {
	case bool:
		if v {
			return "t"
		}
		return "f"
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		if t.Oid == OidFloat4 {
			return formatFloat(v, 32, s)
		}
		return formatFloat(v, 64, s)
	case string:
		return v
	case []byte:
		if s != nil && s.ByteaOutput == "escape" {
			return escapeBytea(v)
		}
		return `\x` + hex.EncodeToString(v)
	}
	return formatOther(t, d, s)
}

// formatFloat prints f as float4out/float8out do with extra_float_digits
// >= 1: the shortest text that reads back exactly, in %g style with the
// exponent switch at 1e-4 and 1e15 (1e6 for float4's precision).
func formatFloat(f float64, bits int, s *Settings) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	if f == 0 {
		if math.Signbit(f) {
			return "-0"
		}
		return "0"
	}
	if s != nil && s.ExtraFloatDigits <= 0 {
		// %.*g with DBL_DIG (FLT_DIG) + extra_float_digits digits.
		prec := 15
		if bits == 32 {
			prec = 6
		}
		return strconv.FormatFloat(f, 'g', max(prec+s.ExtraFloatDigits, 1), bits)
	}
	digits := strconv.FormatFloat(f, 'e', -1, bits)
	// digits is d.ddde±XX: decide fixed or exponent as %g would with the
	// shortest precision.
	mant, expText, _ := strings.Cut(digits, "e")
	exp, _ := strconv.Atoi(expText)
	neg := strings.HasPrefix(mant, "-")
	mant = strings.TrimPrefix(mant, "-")
	ds := strings.Replace(mant, ".", "", 1)
	limit := 15
	if bits == 32 {
		limit = 6
	}
	if len(ds) > limit {
		limit = len(ds)
	}
	var out string
	if exp < -4 || exp >= limit {
		e := "e+"
		if exp < 0 {
			e, exp = "e-", -exp
		}
		es := strconv.Itoa(exp)
		if len(es) < 2 {
			es = "0" + es
		}
		m := ds[:1]
		if len(ds) > 1 {
			m += "." + ds[1:]
		}
		out = m + e + es
	} else if exp < 0 {
		out = "0." + strings.Repeat("0", -exp-1) + ds
	} else if exp+1 >= len(ds) {
		out = ds + strings.Repeat("0", exp+1-len(ds))
	} else {
		out = ds[:exp+1] + "." + ds[exp+1:]
	}
	if neg {
		out = "-" + out
	}
	return out
}

func escapeBytea(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		switch {
		case c == '\\':
			sb.WriteString(`\\`)
		case c < 0x20 || c > 0x7e:
			sb.WriteByte('\\')
			sb.WriteByte('0' + c>>6)
			sb.WriteByte('0' + (c>>3)&7)
			sb.WriteByte('0' + c&7)
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

// Parse reads text as the type's input function does, then applies t's
// modifier (as an assignment would). Errors are Postgres's (22P02 and
// friends), with Postgres's messages.
func Parse(t Type, text string, s *Settings) (any, error) {
	switch t.Oid {
	case OidBool:
		return parseBool(text)
	case OidInt2, OidInt4, OidInt8, OidOid, OidRegproc, OidRegclass, OidRegtype, OidRegnamespace, OidRegrole, OidRegoper, OidRegprocedure, OidXid, OidCid:
		return parseInt(t.Oid, text)
	case OidFloat4, OidFloat8:
		return parseFloat(t.Oid, text)
	case OidText, OidVarchar, OidBpchar, OidName, OidUnknown, OidCstring:
		if !utf8.ValidString(text) {
			return nil, pgerror.New(pgerror.CharacterNotInRepertoire, "invalid byte sequence for encoding \"UTF8\"")
		}
		if t.Oid == OidName && len(text) > 63 {
			text = truncateUTF8(text, 63)
		}
		return Coerce(t, text, false)
	case OidChar:
		if text == "" {
			return "", nil
		}
		return text[:1], nil
	case OidBytea:
		return parseBytea(text)
	}
	return parseOther(t, text, s)
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func parseBool(text string) (any, error) {
	s := strings.ToLower(strings.TrimSpace(text))
	if s != "" {
		switch s[0] {
		case 't':
			if strings.HasPrefix("true", s) {
				return true, nil
			}
		case 'y':
			if strings.HasPrefix("yes", s) {
				return true, nil
			}
		case 'f':
			if strings.HasPrefix("false", s) {
				return false, nil
			}
		case 'n':
			if strings.HasPrefix("no", s) {
				return false, nil
			}
		case 'o':
			// "o" alone could be on or off.
			if len(s) >= 2 && strings.HasPrefix("on", s) {
				return true, nil
			}
			if len(s) >= 2 && strings.HasPrefix("off", s) {
				return false, nil
			}
		case '1':
			if s == "1" {
				return true, nil
			}
		case '0':
			if s == "0" {
				return false, nil
			}
		}
	}
	return nil, pgerror.New(pgerror.InvalidTextRepresentation, "invalid input syntax for type boolean: \"%s\"", text)
}

// intRange gives the bounds and the SQL name of an integer type.
func intRange(oid Oid) (lo, hi int64, name string) {
	switch oid {
	case OidInt2:
		return math.MinInt16, math.MaxInt16, "smallint"
	case OidInt4:
		return math.MinInt32, math.MaxInt32, "integer"
	case OidOid, OidRegproc, OidRegclass, OidRegtype, OidRegnamespace, OidRegrole, OidRegoper, OidRegprocedure, OidXid, OidCid:
		return 0, math.MaxUint32, "oid"
	}
	return math.MinInt64, math.MaxInt64, "bigint"
}

func parseInt(oid Oid, text string) (any, error) {
	lo, hi, name := intRange(oid)
	s := strings.TrimSpace(text)
	n, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 10, 64)
	if err != nil || s == "" || strings.HasPrefix(s, "_") || strings.HasSuffix(s, "_") || strings.Contains(s, "__") {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return nil, pgerror.New(pgerror.NumericValueOutOfRange, "value \"%s\" is out of range for type %s", text, name)
		}
		return nil, pgerror.New(pgerror.InvalidTextRepresentation, "invalid input syntax for type %s: \"%s\"", name, text)
	}
	if n < lo || n > hi {
		return nil, pgerror.New(pgerror.NumericValueOutOfRange, "value \"%s\" is out of range for type %s", text, name)
	}
	return n, nil
}

func parseFloat(oid Oid, text string) (any, error) {
	name := "double precision"
	bits := 64
	if oid == OidFloat4 {
		name, bits = "real", 32
	}
	s := strings.TrimSpace(text)
	switch strings.ToLower(s) {
	case "nan":
		return math.NaN(), nil
	case "infinity", "+infinity", "inf", "+inf":
		return math.Inf(1), nil
	case "-infinity", "-inf":
		return math.Inf(-1), nil
	}
	f, err := strconv.ParseFloat(s, bits)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return nil, pgerror.New(pgerror.NumericValueOutOfRange, "\"%s\" is out of range for type %s", text, name)
		}
		return nil, pgerror.New(pgerror.InvalidTextRepresentation, "invalid input syntax for type %s: \"%s\"", name, text)
	}
	if strings.ContainsAny(s, "xXpP_") { // Go accepts hex floats and underscores; Postgres does not
		return nil, pgerror.New(pgerror.InvalidTextRepresentation, "invalid input syntax for type %s: \"%s\"", name, text)
	}
	return f, nil
}

func parseBytea(text string) (any, error) {
	if strings.HasPrefix(text, `\x`) {
		h := strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, text[2:])
		for i := 0; i < len(h); i++ {
			if !strings.ContainsRune("0123456789abcdefABCDEF", rune(h[i])) {
				_, size := utf8.DecodeRuneInString(h[i:])
				return nil, pgerror.New(pgerror.InvalidParameterValue, "invalid hexadecimal digit: \"%s\"", h[i:i+size])
			}
		}
		b, err := hex.DecodeString(h)
		if err != nil {
			return nil, pgerror.New(pgerror.InvalidParameterValue, "invalid hexadecimal data: odd number of digits")
		}
		return b, nil
	}
	var out []byte
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		switch {
		case i+1 < len(text) && text[i+1] == '\\':
			out = append(out, '\\')
			i++
		case i+3 < len(text) && isOctal(text[i+1]) && isOctal(text[i+2]) && isOctal(text[i+3]) && text[i+1] <= '3':
			out = append(out, (text[i+1]-'0')<<6|(text[i+2]-'0')<<3|(text[i+3]-'0'))
			i += 3
		default:
			return nil, pgerror.New(pgerror.InvalidTextRepresentation, "invalid input syntax for type bytea")
		}
	}
	return out, nil
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// Coerce applies t's modifier to d, a value of t's base type, as an
// assignment (explicit false) or an explicit cast (explicit true) does:
// varchar(n) rejects (or, explicitly, cuts) longer strings, bpchar(n)
// pads with spaces, numeric(p,s) rounds to s digits and checks p,
// timestamp(p) and time(p) round to p fractional digits.
func Coerce(t Type, d any, explicit bool) (any, error) {
	if d == nil || t.Mod < 0 {
		return d, nil
	}
	switch t.Oid {
	case OidVarchar, OidBpchar:
		s := d.(string)
		n := int(t.Mod - 4)
		runes := utf8.RuneCountInString(s)
		if runes > n {
			if !explicit {
				// Trailing spaces beyond the limit are cut silently.
				trimmed := strings.TrimRight(s, " ")
				if utf8.RuneCountInString(trimmed) > n {
					return nil, pgerror.New(pgerror.StringDataRightTruncation, "value too long for type %s", FormatType(t.Oid, t.Mod))
				}
			}
			s = truncateRunes(s, n)
		} else if t.Oid == OidBpchar && runes < n {
			s += strings.Repeat(" ", n-runes)
		}
		return s, nil
	}
	return coerceOther(t, d, explicit)
}

func truncateRunes(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}
