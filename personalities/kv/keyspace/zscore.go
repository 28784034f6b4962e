package keyspace

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"strconv"
)

// Scores and ranges of sorted sets: their order-preserving encoding and
// the parsers Redis uses for them.

// encodeScore returns the 8 bytes of score whose byte order is the
// numeric order: -inf < ... < -0 = 0 < ... < inf. -0 is stored as 0, as
// Redis's listpack stores it, so that it prints as "0" afterwards.
func encodeScore(score float64) []byte {
	return binary.BigEndian.AppendUint64(nil, sortableScore(score))
}

func sortableScore(score float64) uint64 {
	if score == 0 {
		score = 0 // -0 sorts (and is stored) as 0
	}
	bits := math.Float64bits(score)
	if bits&(1<<63) != 0 {
		return ^bits
	}
	return bits | 1<<63
}

// decodeScore inverts encodeScore.
func decodeScore(b []byte) float64 {
	u := binary.BigEndian.Uint64(b)
	if u&(1<<63) != 0 {
		return math.Float64frombits(u &^ (1 << 63))
	}
	return math.Float64frombits(^u)
}

// strtod reads the longest prefix of s that C's strtod reads (in the C
// locale): leading white space, a sign, then a decimal or hexadecimal
// number, "inf", "infinity" or "nan". n is the number of bytes read (0:
// none); erange says that the number overflows to an infinity or is not
// zero but rounds to zero.
func strtod(s []byte) (v float64, n int, erange bool) {
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	start := i
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	sign := func(f float64) float64 {
		if neg {
			return -f
		}
		return f
	}
	rest := s[i:]
	switch {
	case hasPrefixFold(rest, "infinity"):
		return sign(math.Inf(1)), i + 8, false
	case hasPrefixFold(rest, "inf"):
		return sign(math.Inf(1)), i + 3, false
	case hasPrefixFold(rest, "nan"):
		j := i + 3
		if j < len(s) && s[j] == '(' {
			k := j + 1
			for k < len(s) && (isAlnum(s[k]) || s[k] == '_') {
				k++
			}
			if k < len(s) && s[k] == ')' {
				j = k + 1
			}
		}
		return math.NaN(), j, false
	}
	if len(rest) > 2 && rest[0] == '0' && (rest[1]|0x20) == 'x' {
		j, digits, nonzero := 2, 0, false
		for ; j < len(rest) && (isHexDigit(rest[j]) || (rest[j] == '.' && !bytes.Contains(rest[2:j], []byte{'.'}))); j++ {
			if rest[j] != '.' {
				digits++
				nonzero = nonzero || rest[j] != '0'
			}
		}
		if digits > 0 {
			mant := j
			if j < len(rest) && (rest[j]|0x20) == 'p' {
				k := j + 1
				if k < len(rest) && (rest[k] == '+' || rest[k] == '-') {
					k++
				}
				if k < len(rest) && isDigit(rest[k]) {
					for k < len(rest) && isDigit(rest[k]) {
						k++
					}
					j = k
				}
			}
			text := string(s[start : i+j])
			if j == mant {
				text += "p0"
			}
			f, err := strconv.ParseFloat(text, 64)
			return f, i + j, rangeError(err) || (f == 0 && nonzero)
		}
		// "0x" with no digits: strtod reads the "0".
	}
	j, digits, nonzero := 0, 0, false
	for ; j < len(rest) && (isDigit(rest[j]) || (rest[j] == '.' && !bytes.Contains(rest[:j], []byte{'.'}))); j++ {
		if rest[j] != '.' {
			digits++
			nonzero = nonzero || rest[j] != '0'
		}
	}
	if digits == 0 {
		return 0, 0, false
	}
	if j < len(rest) && (rest[j]|0x20) == 'e' {
		k := j + 1
		if k < len(rest) && (rest[k] == '+' || rest[k] == '-') {
			k++
		}
		if k < len(rest) && isDigit(rest[k]) {
			for k < len(rest) && isDigit(rest[k]) {
				k++
			}
			j = k
		}
	}
	f, err := strconv.ParseFloat(string(s[start:i+j]), 64)
	return f, i + j, rangeError(err) || (f == 0 && nonzero)
}

func rangeError(err error) bool {
	var ne *strconv.NumError
	return errors.As(err, &ne) && ne.Err == strconv.ErrRange
}

func isCSpace(c byte) bool   { return c == ' ' || (c >= '\t' && c <= '\r') }
func isDigit(c byte) bool    { return c >= '0' && c <= '9' }
func isAlnum(c byte) bool    { return isDigit(c) || (c|0x20) >= 'a' && (c|0x20) <= 'z' }
func isHexDigit(c byte) bool { return isDigit(c) || (c|0x20) >= 'a' && (c|0x20) <= 'f' }

func hasPrefixFold(b []byte, lower string) bool {
	return len(b) >= len(lower) && EqFold(b[:len(lower)], lower)
}

// parseScore parses a score, weight or increment as Redis's
// getDoubleFromObject (string2d): all of the argument, no leading space,
// not NaN, and neither overflowing nor underflowing to zero.
func parseScore(b []byte) (float64, bool) {
	if len(b) == 0 || isCSpace(b[0]) {
		return 0, false
	}
	v, n, erange := strtod(b)
	if n != len(b) || erange || math.IsNaN(v) {
		return 0, false
	}
	return v, true
}

// scoreRange is a ZRANGEBYSCORE interval; minex and maxex make its ends
// exclusive.
type scoreRange struct {
	min, max     float64
	minex, maxex bool
}

var errScoreRange = Error("ERR min or max is not a float")

// parseScoreRange parses min and max as Redis's zslParseRange: a leading
// "(" makes the end exclusive; the rest is read by strtod up to the end of
// the C string (white space in front, out-of-range values and the empty
// string allowed), and must not be NaN.
func parseScoreRange(min, max []byte) (scoreRange, error) {
	var r scoreRange
	var ok bool
	if r.min, r.minex, ok = parseRangeEnd(min); !ok {
		return r, errScoreRange
	}
	if r.max, r.maxex, ok = parseRangeEnd(max); !ok {
		return r, errScoreRange
	}
	return r, nil
}

func parseRangeEnd(b []byte) (v float64, ex, ok bool) {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i] // C strings end at the first NUL
	}
	if len(b) > 0 && b[0] == '(' {
		ex, b = true, b[1:]
	}
	v, n, _ := strtod(b)
	return v, ex, n == len(b) && !math.IsNaN(v)
}

// empty reports whether no score can be in r.
func (r scoreRange) empty() bool {
	return r.min > r.max || (r.min == r.max && (r.minex || r.maxex))
}

// lexBound is one end of a ZRANGEBYLEX interval: "-" (inf < 0), "+"
// (inf > 0), or a member, exclusive ("(") or not ("[").
type lexBound struct {
	inf int
	v   []byte
	ex  bool
}

// lexRange is a ZRANGEBYLEX interval.
type lexRange struct{ min, max lexBound }

var errLexRange = Error("ERR min or max not valid string range item")

// parseLexRange parses min and max as Redis's zslParseLexRange.
func parseLexRange(min, max []byte) (lexRange, error) {
	var r lexRange
	var ok bool
	if r.min, ok = parseLexBound(min); !ok {
		return r, errLexRange
	}
	if r.max, ok = parseLexBound(max); !ok {
		return r, errLexRange
	}
	return r, nil
}

func parseLexBound(b []byte) (lexBound, bool) {
	if len(b) == 0 {
		return lexBound{}, false
	}
	switch b[0] {
	case '+', '-':
		// Redis reads a C string here: "+" must end at the second byte.
		if len(b) > 1 && b[1] != 0 {
			return lexBound{}, false
		}
		inf := 1
		if b[0] == '-' {
			inf = -1
		}
		return lexBound{inf: inf, ex: true}, true
	case '(':
		return lexBound{v: b[1:], ex: true}, true
	case '[':
		return lexBound{v: b[1:]}, true
	}
	return lexBound{}, false
}

// compareLex orders bounds and members: "-" before every member, "+"
// after every member.
func compareLex(a, b lexBound) int {
	if a.inf != 0 || b.inf != 0 {
		switch {
		case a.inf == b.inf:
			return 0
		case a.inf < b.inf:
			return -1
		}
		return 1
	}
	return bytes.Compare(a.v, b.v)
}

// empty reports whether no member can be in r (Redis's zslIsInLexRange).
func (r lexRange) empty() bool {
	c := compareLex(r.min, r.max)
	return c > 0 || (c == 0 && (r.min.ex || r.max.ex))
}

func (r lexRange) gteMin(member []byte) bool {
	c := compareLex(lexBound{v: member}, r.min)
	if r.min.ex {
		return c > 0
	}
	return c >= 0
}

func (r lexRange) lteMax(member []byte) bool {
	c := compareLex(lexBound{v: member}, r.max)
	if r.max.ex {
		return c < 0
	}
	return c <= 0
}
