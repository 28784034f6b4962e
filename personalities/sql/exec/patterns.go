package exec

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"

	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// Pattern matching: LIKE and ILIKE (~~, ~~*, with ESCAPE through
// like_escape), SIMILAR TO (similar_to_escape, then ~), POSIX regular
// expressions (~ ~* !~ !~*), regexp_replace, regexp_match and the regex
// forms of substring.
//
// Regular expressions run on Go's regexp (RE2), not Postgres's ARE
// engine. The common syntax is the same; what differs: back references
// (\1 in a pattern), lookahead and lookbehind, \m \M \y word boundaries
// and [[:<:]] are refused as invalid regular expressions (2201B), and
// error messages for a bad pattern carry Go's wording. As in Postgres, "."
// matches a newline.

// regexCache holds compiled patterns by their source; compiling is
// deterministic, so the cache only saves time.
var regexCache struct {
	sync.Mutex
	m map[string]*regexp.Regexp
}

// regexErrors words Go's regexp errors as Postgres's regex engine does.
var regexErrors = map[syntax.ErrorCode]string{
	syntax.ErrMissingParen:          "parentheses () not balanced",
	syntax.ErrUnexpectedParen:       "parentheses () not balanced",
	syntax.ErrMissingBracket:        "brackets [] not balanced",
	syntax.ErrInvalidRepeatOp:       "quantifier operand invalid",
	syntax.ErrMissingRepeatArgument: "quantifier operand invalid",
	syntax.ErrInvalidRepeatSize:     "invalid repetition count(s)",
	syntax.ErrInvalidEscape:         "invalid escape \\ sequence",
	syntax.ErrInvalidCharRange:      "invalid character range",
	syntax.ErrInvalidCharClass:      "invalid character class",
	syntax.ErrTrailingBackslash:     "invalid escape \\ sequence",
}

// compileRegex compiles a Postgres regular expression (flags "i" for
// case-insensitive).
func compileRegex(pattern string, insensitive bool) (*regexp.Regexp, error) {
	src := "(?s)"
	if insensitive {
		src = "(?is)"
	}
	src += pattern
	regexCache.Lock()
	defer regexCache.Unlock()
	if re, ok := regexCache.m[src]; ok {
		return re, nil
	}
	re, err := regexp.Compile(src)
	if err != nil {
		msg := err.Error()
		if e, ok := err.(*syntax.Error); ok {
			msg = regexErrors[e.Code]
			if msg == "" {
				msg = e.Code.String()
			}
		}
		return nil, pgerror.New(pgerror.InvalidRegularExpression, "invalid regular expression: %s", msg)
	}
	if regexCache.m == nil || len(regexCache.m) > 512 {
		regexCache.m = map[string]*regexp.Regexp{}
	}
	regexCache.m[src] = re
	return re, nil
}

func like(s, pattern string, insensitive bool) (bool, error) {
	if insensitive {
		s, pattern = asciiLower(s), asciiLower(pattern)
	}
	r, err := likeMatch([]rune(s), []rune(pattern))
	return r == likeTrue, err
}

// The outcomes of likeMatch: abort means no match is possible for any
// later start either.
const (
	likeFalse = iota
	likeTrue
	likeAbort
)

// likeMatch matches t against a LIKE pattern (backslash escapes) as
// Postgres's MatchText does, including when a trailing escape is an
// error (only once the match reaches it).
func likeMatch(t, p []rune) (int, error) {
	errEnd := pgerror.New(pgerror.InvalidEscapeSequence, "LIKE pattern must not end with escape character")
	for len(t) > 0 && len(p) > 0 {
		switch p[0] {
		case '\\':
			p = p[1:]
			if len(p) == 0 {
				return 0, errEnd
			}
			if t[0] != p[0] {
				return likeFalse, nil
			}
		case '%':
			p = p[1:]
			for len(p) > 0 {
				if p[0] == '%' {
					p = p[1:]
				} else if p[0] == '_' {
					if len(t) == 0 {
						return likeAbort, nil
					}
					t, p = t[1:], p[1:]
				} else {
					break
				}
			}
			if len(p) == 0 {
				return likeTrue, nil
			}
			first := p[0]
			if first == '\\' {
				if len(p) < 2 {
					return 0, errEnd
				}
				first = p[1]
			}
			for ; len(t) > 0; t = t[1:] {
				if t[0] == first {
					r, err := likeMatch(t, p)
					if r != likeFalse || err != nil {
						return r, err
					}
				}
			}
			return likeAbort, nil
		case '_':
		default:
			if t[0] != p[0] {
				return likeFalse, nil
			}
		}
		t, p = t[1:], p[1:]
	}
	if len(t) > 0 {
		return likeFalse, nil
	}
	for len(p) > 0 && p[0] == '%' {
		p = p[1:]
	}
	if len(p) == 0 {
		return likeTrue, nil
	}
	return likeAbort, nil
}

// asciiLower lower-cases ASCII letters only, as Postgres does in the C
// locale.
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// asciiUpper upper-cases ASCII letters only.
func asciiUpper(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}, s)
}

// likeEscape rewrites a pattern with escape character esc into one with
// backslash escapes, as Postgres's like_escape does.
func likeEscape(pattern, esc string) (string, error) {
	er := []rune(esc)
	if len(er) > 1 {
		return "", pgerror.New(pgerror.InvalidEscapeSequence, "invalid escape string").WithHint("Escape string must be empty or one character.")
	}
	var b strings.Builder
	rs := []rune(pattern)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case len(er) == 0:
			if c == '\\' {
				b.WriteString(`\\`)
			} else {
				b.WriteRune(c)
			}
		case c == er[0]:
			if i+1 >= len(rs) {
				return "", pgerror.New(pgerror.InvalidEscapeSequence, "LIKE pattern must not end with escape character")
			}
			i++
			b.WriteRune('\\')
			b.WriteRune(rs[i])
		case c == '\\':
			b.WriteString(`\\`)
		default:
			b.WriteRune(c)
		}
	}
	return b.String(), nil
}

// similarRegex translates a SQL regular expression (SIMILAR TO) to a
// POSIX one, as Postgres's similar_to_escape does.
func similarRegex(pattern string, esc []rune) (string, error) {
	if len(esc) > 1 {
		return "", pgerror.New(pgerror.InvalidEscapeSequence, "invalid escape string").WithHint("Escape string must be empty or one character.")
	}
	var b strings.Builder
	b.WriteString("^(?:")
	inBracket := false
	rs := []rune(pattern)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case len(esc) == 1 && c == esc[0]:
			if i+1 >= len(rs) {
				return "", pgerror.New(pgerror.InvalidEscapeSequence, "invalid escape string").WithHint("Escape string must be empty or one character.")
			}
			i++
			b.WriteString(regexp.QuoteMeta(string(rs[i])))
		case inBracket:
			if c == ']' {
				inBracket = false
			}
			b.WriteRune(c)
		case c == '[':
			inBracket = true
			b.WriteRune(c)
		case c == '%':
			b.WriteString(".*")
		case c == '_':
			b.WriteString(".")
		case c == '(':
			b.WriteString("(?:")
		case c == '.' || c == '^' || c == '$':
			b.WriteRune('\\')
			b.WriteRune(c)
		default:
			b.WriteRune(c)
		}
	}
	b.WriteString(")$")
	return b.String(), nil
}

// regexReplace implements regexp_replace: replacement's \1..\9 are the
// groups, \& the whole match, \\ a backslash; flag g replaces every match.
func regexReplace(src, pattern, repl, flags string) (any, error) {
	global, insensitive, err := regexFlags(flags, "regexp_replace")
	if err != nil {
		return nil, err
	}
	re, err := compileRegex(pattern, insensitive)
	if err != nil {
		return nil, err
	}
	n := 1
	if global {
		n = -1
	}
	matches := re.FindAllStringSubmatchIndex(src, n)
	var b strings.Builder
	last := 0
	for _, m := range matches {
		b.WriteString(src[last:m[0]])
		for i := 0; i < len(repl); i++ {
			c := repl[i]
			if c != '\\' || i+1 >= len(repl) {
				b.WriteByte(c)
				continue
			}
			i++
			switch d := repl[i]; {
			case d >= '1' && d <= '9':
				g := int(d - '0')
				if 2*g+1 < len(m) && m[2*g] >= 0 {
					b.WriteString(src[m[2*g]:m[2*g+1]])
				}
			case d == '&':
				b.WriteString(src[m[0]:m[1]])
			case d == '\\':
				b.WriteByte('\\')
			default:
				b.WriteByte('\\')
				b.WriteByte(d)
			}
		}
		last = m[1]
	}
	b.WriteString(src[last:])
	return b.String(), nil
}

// regexFlags reads the flags argument of the regexp functions.
func regexFlags(flags, fn string) (global, insensitive bool, err error) {
	for _, f := range flags {
		switch f {
		case 'g':
			global = true
		case 'i':
			insensitive = true
		case 'c', 'n', 'p', 'w', 's', 't', 'x', 'q', 'e':
			// Accepted; case-sensitive and newline modes are Go's defaults.
		default:
			return false, false, pgerror.New(pgerror.InvalidParameterValue, "invalid regular expression option: \"%c\"", f)
		}
	}
	return global, insensitive, nil
}

// regexMatch is regexp_match: the captured groups of the first match (the
// whole match without groups) as text[], NULL without a match.
func regexMatch(src, pattern, flags string) (any, error) {
	global, insensitive, err := regexFlags(flags, "regexp_match")
	if err != nil {
		return nil, err
	}
	if global {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "regexp_match() does not support the \"global\" option").WithHint("Use the regexp_matches function instead.")
	}
	re, err := compileRegex(pattern, insensitive)
	if err != nil {
		return nil, err
	}
	m := re.FindStringSubmatchIndex(src)
	if m == nil {
		return nil, nil
	}
	var elems []any
	if len(m) == 2 {
		elems = []any{src[m[0]:m[1]]}
	} else {
		for g := 1; 2*g < len(m); g++ {
			if m[2*g] < 0 {
				elems = append(elems, nil)
			} else {
				elems = append(elems, src[m[2*g]:m[2*g+1]])
			}
		}
	}
	return types.NewArray(types.OidText, elems), nil
}

// substringRegex is substring(s FROM pattern): the first group's match,
// or the whole match without groups; NULL without a match.
func substringRegex(s, pattern string) (any, error) {
	re, err := compileRegex(pattern, false)
	if err != nil {
		return nil, err
	}
	m := re.FindStringSubmatchIndex(s)
	if m == nil {
		return nil, nil
	}
	if len(m) > 2 {
		if m[2] < 0 {
			return nil, nil
		}
		return s[m[2]:m[3]], nil
	}
	return s[m[0]:m[1]], nil
}

func str(v any) string { return v.(string) }

func init() {
	text2 := []types.Oid{types.OidText, types.OidText}
	boolOp := func(name string, f func(s, p string) (bool, error), negate bool) {
		RegisterOp(name, &Func{Args: text2, Ret: types.OidBool, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) {
			ok, err := f(str(a[0]), str(a[1]))
			return ok != negate, err
		}})
	}
	likeCase := func(s, p string) (bool, error) { return like(s, p, false) }
	likeFold := func(s, p string) (bool, error) { return like(s, p, true) }
	regex := func(insensitive bool) func(s, p string) (bool, error) {
		return func(s, p string) (bool, error) {
			re, err := compileRegex(p, insensitive)
			if err != nil {
				return false, err
			}
			return re.MatchString(s), nil
		}
	}
	boolOp("~~", likeCase, false)
	boolOp("!~~", likeCase, true)
	boolOp("~~*", likeFold, false)
	boolOp("!~~*", likeFold, true)
	boolOp("~", regex(false), false)
	boolOp("!~", regex(false), true)
	boolOp("~*", regex(true), false)
	boolOp("!~*", regex(true), true)
	RegisterFunc(&Func{Name: "like_escape", Args: text2, Ret: types.OidText, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) {
		return likeEscape(str(a[0]), str(a[1]))
	}})
	RegisterFunc(&Func{Name: "similar_to_escape", Args: []types.Oid{types.OidText}, Ret: types.OidText, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) {
		return similarRegex(str(a[0]), []rune{'\\'})
	}})
	RegisterFunc(&Func{Name: "similar_to_escape", Args: text2, Ret: types.OidText, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) {
		return similarRegex(str(a[0]), []rune(str(a[1])))
	}})
	RegisterFunc(&Func{Name: "regexp_replace", Args: []types.Oid{types.OidText, types.OidText, types.OidText}, Ret: types.OidText, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) {
		return regexReplace(str(a[0]), str(a[1]), str(a[2]), "")
	}})
	RegisterFunc(&Func{Name: "regexp_replace", Args: []types.Oid{types.OidText, types.OidText, types.OidText, types.OidText}, Ret: types.OidText, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) {
		return regexReplace(str(a[0]), str(a[1]), str(a[2]), str(a[3]))
	}})
	textArray := types.ArrayOf(types.OidText)
	RegisterFunc(&Func{Name: "regexp_match", Args: text2, Ret: textArray, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) {
		return regexMatch(str(a[0]), str(a[1]), "")
	}})
	RegisterFunc(&Func{Name: "regexp_match", Args: []types.Oid{types.OidText, types.OidText, types.OidText}, Ret: textArray, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) {
		return regexMatch(str(a[0]), str(a[1]), str(a[2]))
	}})
	RegisterFunc(&Func{Name: "substring", Args: text2, Ret: types.OidText, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) {
		return substringRegex(str(a[0]), str(a[1]))
	}})
	RegisterFunc(&Func{Name: "substring", Args: []types.Oid{types.OidText, types.OidText, types.OidText}, Ret: types.OidText, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) {
		re, err := similarRegex(str(a[1]), []rune(str(a[2])))
		if err != nil {
			return nil, err
		}
		return substringRegex(str(a[0]), re)
	}})
}
