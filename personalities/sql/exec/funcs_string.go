package exec

import (
	"crypto/md5"
	"encoding/hex"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// The string functions: case mapping, lengths, substring, position,
// trimming, padding, concatenation, format, quoting, md5, chr/ascii, and
// || with one non-text operand. Lengths and positions count characters
// (the database encoding is UTF8).

func init() {
	T, I := types.OidText, types.OidInt4
	text := func(name string, args []types.Oid, f func(a []any) (any, error)) {
		RegisterFunc(&Func{Name: name, Args: args, Ret: T, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) { return f(a) }})
	}
	ret := func(name string, args []types.Oid, r types.Oid, f func(a []any) (any, error)) {
		RegisterFunc(&Func{Name: name, Args: args, Ret: r, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) { return f(a) }})
	}
	text("lower", []types.Oid{T}, func(a []any) (any, error) { return asciiLower(str(a[0])), nil })
	text("upper", []types.Oid{T}, func(a []any) (any, error) { return asciiUpper(str(a[0])), nil })
	text("initcap", []types.Oid{T}, func(a []any) (any, error) { return initcap(str(a[0])), nil })
	for _, name := range []string{"length", "char_length", "character_length"} {
		ret(name, []types.Oid{T}, I, func(a []any) (any, error) { return int64(utf8.RuneCountInString(str(a[0]))), nil })
	}
	ret("octet_length", []types.Oid{T}, I, func(a []any) (any, error) { return int64(len(str(a[0]))), nil })
	ret("length", []types.Oid{types.OidBytea}, I, func(a []any) (any, error) { return int64(len(a[0].([]byte))), nil })
	ret("octet_length", []types.Oid{types.OidBytea}, I, func(a []any) (any, error) { return int64(len(a[0].([]byte))), nil })
	for _, name := range []string{"substring", "substr"} {
		text(name, []types.Oid{T, I}, func(a []any) (any, error) { return substr(str(a[0]), a[1].(int64), -1, false) })
		text(name, []types.Oid{T, I, I}, func(a []any) (any, error) { return substr(str(a[0]), a[1].(int64), a[2].(int64), true) })
	}
	position := func(a []any) (any, error) {
		i := strings.Index(str(a[0]), str(a[1]))
		if i < 0 {
			return int64(0), nil
		}
		return int64(utf8.RuneCountInString(str(a[0])[:i]) + 1), nil
	}
	ret("position", []types.Oid{T, T}, I, position)
	ret("strpos", []types.Oid{T, T}, I, position)
	text("replace", []types.Oid{T, T, T}, func(a []any) (any, error) {
		if str(a[1]) == "" {
			return a[0], nil
		}
		return strings.ReplaceAll(str(a[0]), str(a[1]), str(a[2])), nil
	})
	trims := map[string]func(s, cut string) string{
		"btrim": func(s, cut string) string { return strings.Trim(s, cut) },
		"ltrim": func(s, cut string) string { return strings.TrimLeft(s, cut) },
		"rtrim": func(s, cut string) string { return strings.TrimRight(s, cut) },
	}
	for _, name := range []string{"btrim", "ltrim", "rtrim"} {
		f := trims[name]
		text(name, []types.Oid{T}, func(a []any) (any, error) { return f(str(a[0]), " "), nil })
		text(name, []types.Oid{T, T}, func(a []any) (any, error) { return f(str(a[0]), str(a[1])), nil })
	}
	text("lpad", []types.Oid{T, I}, func(a []any) (any, error) { return pad(str(a[0]), a[1].(int64), " ", true), nil })
	text("lpad", []types.Oid{T, I, T}, func(a []any) (any, error) { return pad(str(a[0]), a[1].(int64), str(a[2]), true), nil })
	text("rpad", []types.Oid{T, I}, func(a []any) (any, error) { return pad(str(a[0]), a[1].(int64), " ", false), nil })
	text("rpad", []types.Oid{T, I, T}, func(a []any) (any, error) { return pad(str(a[0]), a[1].(int64), str(a[2]), false), nil })
	text("left", []types.Oid{T, I}, func(a []any) (any, error) {
		rs, n := []rune(str(a[0])), int(a[1].(int64))
		if n < 0 {
			n = max(len(rs)+n, 0)
		}
		return string(rs[:min(n, len(rs))]), nil
	})
	text("right", []types.Oid{T, I}, func(a []any) (any, error) {
		rs, n := []rune(str(a[0])), int(a[1].(int64))
		if n < 0 {
			n = max(len(rs)+n, 0)
		}
		return string(rs[len(rs)-min(n, len(rs)):]), nil
	})
	text("repeat", []types.Oid{T, I}, func(a []any) (any, error) {
		n := a[1].(int64)
		if n <= 0 {
			return "", nil
		}
		if int64(len(str(a[0])))*n > 1<<30 {
			return nil, pgerror.New(pgerror.ProgramLimitExceeded, "requested length too large")
		}
		return strings.Repeat(str(a[0]), int(n)), nil
	})
	text("reverse", []types.Oid{T}, func(a []any) (any, error) {
		rs := []rune(str(a[0]))
		for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
			rs[i], rs[j] = rs[j], rs[i]
		}
		return string(rs), nil
	})
	text("split_part", []types.Oid{T, T, I}, func(a []any) (any, error) {
		s, sep, n := str(a[0]), str(a[1]), a[2].(int64)
		if n == 0 {
			return nil, pgerror.New(pgerror.InvalidParameterValue, "field position must not be zero")
		}
		var parts []string
		if sep == "" {
			parts = []string{s}
		} else {
			parts = strings.Split(s, sep)
		}
		if n < 0 {
			n = int64(len(parts)) + n + 1
		}
		if n < 1 || n > int64(len(parts)) {
			return "", nil
		}
		return parts[n-1], nil
	})
	text("md5", []types.Oid{T}, func(a []any) (any, error) {
		sum := md5.Sum([]byte(str(a[0])))
		return hex.EncodeToString(sum[:]), nil
	})
	text("md5", []types.Oid{types.OidBytea}, func(a []any) (any, error) {
		sum := md5.Sum(a[0].([]byte))
		return hex.EncodeToString(sum[:]), nil
	})
	text("chr", []types.Oid{I}, func(a []any) (any, error) {
		c := a[0].(int64)
		if c == 0 {
			return nil, pgerror.New(pgerror.ProgramLimitExceeded, "null character not permitted")
		}
		if c < 0 || c > unicode.MaxRune || (c >= 0xD800 && c <= 0xDFFF) {
			return nil, pgerror.New(pgerror.ProgramLimitExceeded, "requested character too large for encoding: %d", c)
		}
		return string(rune(c)), nil
	})
	ret("ascii", []types.Oid{T}, I, func(a []any) (any, error) {
		r, n := utf8.DecodeRuneInString(str(a[0]))
		if n == 0 {
			return int64(0), nil
		}
		return int64(r), nil
	})
	ret("starts_with", []types.Oid{T, T}, types.OidBool, func(a []any) (any, error) { return strings.HasPrefix(str(a[0]), str(a[1])), nil })
	text("to_hex", []types.Oid{I}, func(a []any) (any, error) { return strconv.FormatUint(uint64(uint32(a[0].(int64))), 16), nil })
	text("to_hex", []types.Oid{types.OidInt8}, func(a []any) (any, error) { return strconv.FormatUint(uint64(a[0].(int64)), 16), nil })
	text("quote_ident", []types.Oid{T}, func(a []any) (any, error) { return catalog.QuoteIdent(str(a[0])), nil })
	text("quote_literal", []types.Oid{T}, func(a []any) (any, error) { return quoteLiteral(str(a[0])), nil })
	RegisterFunc(&Func{Name: "quote_nullable", Args: []types.Oid{T}, Ret: T, Fn: func(_ *EvalCtx, a []any) (any, error) {
		if a[0] == nil {
			return "NULL", nil
		}
		return quoteLiteral(str(a[0])), nil
	}})
	RegisterFunc(&Func{Name: "concat", Args: []types.Oid{types.OidAny}, Variadic: true, Ret: T, CallExpr: func(ctx *EvalCtx, e *FuncExpr, a []any) (any, error) {
		var b strings.Builder
		for i, v := range a {
			if v != nil {
				b.WriteString(formatArg(ctx, e.Args[i], v))
			}
		}
		return b.String(), nil
	}})
	RegisterFunc(&Func{Name: "concat_ws", Args: []types.Oid{T, types.OidAny}, Variadic: true, Ret: T, CallExpr: func(ctx *EvalCtx, e *FuncExpr, a []any) (any, error) {
		if a[0] == nil {
			return nil, nil
		}
		var parts []string
		for i, v := range a[1:] {
			if v != nil {
				parts = append(parts, formatArg(ctx, e.Args[i+1], v))
			}
		}
		return strings.Join(parts, str(a[0])), nil
	}})
	RegisterFunc(&Func{Name: "format", Args: []types.Oid{T, types.OidAny}, Variadic: true, Ret: T, CallExpr: formatFunc})
	RegisterFunc(&Func{Name: "format", Args: []types.Oid{T}, Ret: T, CallExpr: formatFunc})
	// pg_typeof gives the type's name as text (Postgres's result is
	// regtype, which prints the same).
	RegisterFunc(&Func{Name: "pg_typeof", Args: []types.Oid{types.OidAny}, Ret: T, CallExpr: func(_ *EvalCtx, e *FuncExpr, _ []any) (any, error) {
		return types.FormatType(e.Args[0].Type().Oid, -1), nil
	}})
	// text || anynonarray and anynonarray || text.
	RegisterOp("||", &Func{Args: []types.Oid{T, types.OidAny}, Ret: T, Strict: true, CallExpr: concatAny})
	RegisterOp("||", &Func{Args: []types.Oid{types.OidAny, T}, Ret: T, Strict: true, CallExpr: concatAny})
}

// concatAny is text || anynonarray: the other operand is cast to text.
func concatAny(ctx *EvalCtx, e *FuncExpr, a []any) (any, error) {
	var b strings.Builder
	for i, v := range a {
		switch x := v.(type) {
		case string:
			b.WriteString(x)
			continue
		case bool:
			// bool's cast to text spells the word out.
			b.WriteString(strconv.FormatBool(x))
			continue
		}
		s, err := types.Cast(v, e.Args[i].Type(), types.TextType, true, ctx.Env.Session.Types)
		if err != nil {
			return nil, err
		}
		b.WriteString(s.(string))
	}
	return b.String(), nil
}

// formatArg is a non-NULL argument's text, as its type's output function
// prints it.
func formatArg(ctx *EvalCtx, e Expr, v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return types.Format(e.Type(), v, ctx.Env.Session.Types)
}

func initcap(s string) string {
	var b strings.Builder
	prevAlnum := false
	for _, r := range s {
		if prevAlnum {
			b.WriteString(asciiLower(string(r)))
		} else {
			b.WriteString(asciiUpper(string(r)))
		}
		prevAlnum = r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r >= 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r))
	}
	return b.String()
}

// substr is substring(s FROM start [FOR count]) in characters.
func substr(s string, start, count int64, hasCount bool) (any, error) {
	if hasCount && count < 0 {
		return nil, pgerror.New(pgerror.SubstringError, "negative substring length not allowed")
	}
	rs := []rune(s)
	from := start - 1
	to := int64(len(rs))
	if hasCount {
		to = min(to, from+count)
	}
	from = max(from, 0)
	if from >= to || from >= int64(len(rs)) {
		return "", nil
	}
	return string(rs[from:to]), nil
}

// pad is lpad/rpad: s filled with fill to n characters, or cut to n.
func pad(s string, n int64, fill string, left bool) string {
	rs := []rune(s)
	if n <= 0 {
		return ""
	}
	if int64(len(rs)) >= n {
		return string(rs[:n])
	}
	fr := []rune(fill)
	if len(fr) == 0 {
		return s
	}
	need := int(n) - len(rs)
	p := make([]rune, need)
	for i := range p {
		p[i] = fr[i%len(fr)]
	}
	if left {
		return string(p) + s
	}
	return s + string(p)
}

// quoteLiteral quotes a string as a literal: quotes doubled, and an E”
// literal with doubled backslashes when it holds a backslash.
func quoteLiteral(s string) string {
	q := "'" + strings.ReplaceAll(s, "'", "''") + "'"
	if strings.Contains(s, `\`) {
		return "E" + strings.ReplaceAll(q, `\`, `\\`)
	}
	return q
}

// formatFunc is format(fmt, args...): %s, %I, %L and %% with optional
// argument positions (%2$s) and widths (%-10s, %*s).
func formatFunc(ctx *EvalCtx, e *FuncExpr, a []any) (any, error) {
	if a[0] == nil {
		return nil, nil
	}
	f := []rune(str(a[0]))
	args := a[1:]
	var b strings.Builder
	next := 0
	tooFew := func() error { return pgerror.New(pgerror.InvalidParameterValue, "too few arguments for format()") }
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			b.WriteRune(f[i])
			continue
		}
		i++
		if i >= len(f) {
			return nil, pgerror.New(pgerror.InvalidParameterValue, "unterminated format() type specifier").WithHint("For a single \"%%\" use \"%%%%\".")
		}
		if f[i] == '%' {
			b.WriteRune('%')
			continue
		}
		// [n$][flags][width]type
		argIdx := -1
		j := i
		for j < len(f) && f[j] >= '0' && f[j] <= '9' {
			j++
		}
		if j < len(f) && f[j] == '$' && j > i {
			n, _ := strconv.Atoi(string(f[i:j]))
			if n == 0 {
				return nil, pgerror.New(pgerror.InvalidParameterValue, "format specifies argument 0, but arguments are numbered from 1")
			}
			argIdx = n - 1
			i = j + 1
		}
		leftAlign := false
		if i < len(f) && f[i] == '-' {
			leftAlign = true
			i++
		}
		width := 0
		for i < len(f) && f[i] >= '0' && f[i] <= '9' {
			width = width*10 + int(f[i]-'0')
			i++
		}
		if i >= len(f) {
			return nil, pgerror.New(pgerror.InvalidParameterValue, "unterminated format() type specifier").WithHint("For a single \"%%\" use \"%%%%\".")
		}
		if argIdx < 0 {
			argIdx = next
		}
		next = argIdx + 1
		c := f[i]
		if c != 's' && c != 'I' && c != 'L' {
			return nil, pgerror.New(pgerror.InvalidParameterValue, "unrecognized format() type specifier \"%c\"", c).WithHint("For a single \"%%\" use \"%%%%\".")
		}
		if argIdx >= len(args) {
			return nil, tooFew()
		}
		v := args[argIdx]
		var s string
		switch {
		case c == 'L' && v == nil:
			s = "NULL"
		case v == nil:
			if c == 'I' {
				return nil, pgerror.New(pgerror.NullValueNotAllowed, "null values cannot be formatted as an SQL identifier")
			}
		default:
			s = formatArg(ctx, e.Args[argIdx+1], v)
			if c == 'I' {
				s = catalog.QuoteIdent(s)
			} else if c == 'L' {
				s = quoteLiteral(s)
			}
		}
		if pad := width - utf8.RuneCountInString(s); pad > 0 {
			if leftAlign {
				s += strings.Repeat(" ", pad)
			} else {
				s = strings.Repeat(" ", pad) + s
			}
		}
		b.WriteString(s)
	}
	return b.String(), nil
}
