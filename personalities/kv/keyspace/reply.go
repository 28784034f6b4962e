package keyspace

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Commands return their replies as plain values, so that Apply can hand
// them up the stack in a platform.Result and the server can render them
// for the client's protocol (RESP2 or RESP3):
//
//	SimpleString  +OK
//	[]byte        bulk string (string too)
//	nil           null (a null bulk in RESP2, _ in RESP3)
//	int64         integer (int too)
//	Error         error; the text starts with its code (ERR, WRONGTYPE, ...)
//	[]any         array of replies
//	Map           map (RESP3); a flat array in RESP2
//	float64       double (RESP3); a bulk string (FormatFloat) in RESP2
//	Set           set (RESP3); an array in RESP2
//	NullArray     null (RESP3); a null array (*-1) in RESP2
//	Pairs         array of [a, b] arrays (RESP3); a flat array in RESP2
//	DoubleText    double (RESP3) with its text given; a bulk string in RESP2
//	KeyedArrays   map (RESP3); an array of [key, value] arrays in RESP2
//	WouldBlock    not a reply: a blocking command that must wait
//
// A reply does not alias the store; it may alias the command's arguments.

// SimpleString is a status reply (+OK).
type SimpleString string

// Error is an error reply; its text starts with the error code (ERR,
// WRONGTYPE, ...). It is also the error a command returns for its own
// failure.
type Error string

// Map is a map reply, key, value, key, value, ...: a map in RESP3, a flat
// array in RESP2.
type Map []any

// Set is a set reply: a set in RESP3, an array in RESP2.
type Set []any

// NullArray is the null of a missing array: null in RESP3, *-1 in RESP2.
type NullArray struct{}

// Pairs is a flat list a, b, a, b, ... whose order matters (so not a
// map), e.g. members and scores of ZRANGE WITHSCORES: an array of [a, b]
// arrays in RESP3, a flat array in RESP2.
type Pairs []any

// DoubleText is a double reply whose text is already formatted, as
// Redis's addReplyHumanLongDouble sends coordinates: a double in RESP3, a
// bulk string in RESP2.
type DoubleText []byte

// KeyedArrays is a flat list key, value, key, value, ... that RESP3 sends
// as a map and RESP2 as an array of [key, value] arrays, as XREAD replies.
type KeyedArrays []any

// Error returns the reply's text.
func (e Error) Error() string { return string(e) }

// Errorf formats an error reply, replacing the line breaks (of a client's
// argument, say) that cannot travel in one.
func Errorf(format string, args ...any) Error {
	return Error(strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, fmt.Sprintf(format, args...)))
}

// Error replies, word for word as Redis 7 sends them.
const (
	ErrSyntax     = Error("ERR syntax error")
	ErrNotInteger = Error("ERR value is not an integer or out of range")
	ErrDBIndex    = Error("ERR DB index is out of range")
	errNotFloat   = Error("ERR value is not a valid float")
	errNoSuchKey  = Error("ERR no such key")
	errOverflow   = Error("ERR increment or decrement would overflow")
	errWrongType  = Error("WRONGTYPE Operation against a key holding the wrong kind of value")
)

// OK is the +OK reply.
const OK = SimpleString("OK")

// ErrArity is Redis's reply to a command line of the wrong length.
func ErrArity(name string) Error {
	return Error("ERR wrong number of arguments for '" + name + "' command")
}

// ErrSubcommand is Redis's reply to a container command (OBJECT,
// CLIENT, CONFIG, ...) whose subcommand, args[1], is unknown, or known
// (one of known, in lower case) but given the wrong number of arguments.
func ErrSubcommand(container string, args [][]byte, known ...string) Error {
	sub := strings.ToLower(string(args[1]))
	for _, k := range known {
		if k == sub {
			return ErrArity(strings.ToLower(container) + "|" + sub)
		}
	}
	name := args[1]
	if len(name) > 128 {
		name = name[:128]
	}
	return Errorf("ERR unknown subcommand '%s'. Try %s HELP.", name, container)
}

// FormatFloat formats a double reply as Redis's addReplyDouble does
// (%.17g, "inf" and "-inf").
func FormatFloat(f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return []byte("inf")
	case math.IsInf(f, -1):
		return []byte("-inf")
	}
	return strconv.AppendFloat(nil, f, 'g', 17, 64)
}

// humanLongDouble formats f as Redis's ld2string in LD_STR_HUMAN mode
// does for a double: "%.17Lf" with the trailing zeros (and a trailing
// point) dropped, "-0" as "0", infinities as "inf" and "-inf".
func humanLongDouble(f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return []byte("inf")
	case math.IsInf(f, -1):
		return []byte("-inf")
	}
	return trimHuman(strconv.FormatFloat(f, 'f', 17, 64))
}

// trimHuman drops the trailing zeros of a decimal's fraction (and the
// point if nothing is left of it), and turns "-0" into "0".
func trimHuman(s string) []byte {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s == "-0" {
		s = "0"
	}
	return []byte(s)
}
