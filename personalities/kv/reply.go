package kv

import (
	"strconv"

	"github.com/tidwall/redcon"
)

// Replies are plain values so that Apply can return them and the
// connection can render them for the client's protocol (RESP2 or RESP3):
//
//	simpleString  +OK
//	[]byte        bulk string
//	nil           null (a null bulk in RESP2, _ in RESP3)
//	int64         integer
//	redisError    error; the text starts with its code (ERR, WRONGTYPE, ...)
//	[]any         array of replies
//	respMap       map (RESP3); a flat array in RESP2
//	float64       double (RESP3); a bulk string ("%.17g") in RESP2
//	respSet       set (RESP3); an array in RESP2
//	nullArray     null (RESP3); a null array (*-1) in RESP2
//	respPairs     array of [a, b] arrays (RESP3); a flat array in RESP2
type (
	simpleString string
	redisError   string
	respMap      []any // key, value, key, value, ...
	respSet      []any
	respPush     []any // RESP3 push (out-of-band); an array in RESP2
	nullArray    struct{}
)

// respPairs is a flat list a, b, a, b, ... whose order matters (so not a
// map), e.g. members and scores of ZRANGE WITHSCORES.
type respPairs []any

func (e redisError) Error() string { return string(e) }

// Error replies, word for word as Redis 7 sends them.
const (
	errSyntax         = redisError("ERR syntax error")
	errNotInteger     = redisError("ERR value is not an integer or out of range")
	errNotFloat       = redisError("ERR value is not a valid float")
	errNoSuchKey      = redisError("ERR no such key")
	errNoAuth         = redisError("NOAUTH Authentication required.")
	errWrongPass      = redisError("WRONGPASS invalid username-password pair or user is disabled.")
	errNoAuthHello    = redisError("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
	errOverflow       = redisError("ERR increment or decrement would overflow")
	errWrongType      = redisError("WRONGTYPE Operation against a key holding the wrong kind of value")
	errDBIndex        = redisError("ERR DB index is out of range")
	errNoProto        = redisError("NOPROTO unsupported protocol version")
	errMaxClients     = redisError("ERR max number of clients reached")
	errOutcomeUnknown = redisError("UNCERTAIN the write may or may not have been applied")
)

var replyOK = simpleString("OK")

func errArity(name string) redisError {
	return redisError("ERR wrong number of arguments for '" + name + "' command")
}

// appendReply renders r for protocol version proto (2 or 3).
func appendReply(b []byte, r any, proto int) []byte {
	switch r := r.(type) {
	case nil:
		if proto >= 3 {
			return append(b, "_\r\n"...)
		}
		return redcon.AppendNull(b)
	case nullArray:
		if proto >= 3 {
			return append(b, "_\r\n"...)
		}
		return append(b, "*-1\r\n"...)
	case simpleString:
		return redcon.AppendString(b, string(r))
	case redisError:
		return redcon.AppendError(b, string(r))
	case []byte:
		return redcon.AppendBulk(b, r)
	case string:
		return redcon.AppendBulkString(b, r)
	case int64:
		return redcon.AppendInt(b, r)
	case int:
		return redcon.AppendInt(b, int64(r))
	case []any:
		b = redcon.AppendArray(b, len(r))
		for _, x := range r {
			b = appendReply(b, x, proto)
		}
		return b
	case respSet:
		if proto >= 3 {
			b = append(b, '~')
			b = strconv.AppendInt(b, int64(len(r)), 10)
			b = append(b, '\r', '\n')
		} else {
			b = redcon.AppendArray(b, len(r))
		}
		for _, x := range r {
			b = appendReply(b, x, proto)
		}
		return b
	case respPush:
		if proto >= 3 {
			b = append(b, '>')
			b = strconv.AppendInt(b, int64(len(r)), 10)
			b = append(b, '\r', '\n')
		} else {
			b = redcon.AppendArray(b, len(r))
		}
		for _, x := range r {
			b = appendReply(b, x, proto)
		}
		return b
	case float64:
		if proto >= 3 {
			b = append(b, ',')
			b = append(b, formatFloat(r)...)
			return append(b, '\r', '\n')
		}
		return redcon.AppendBulk(b, formatFloat(r))
	case respPairs:
		if proto < 3 {
			return appendReply(b, []any(r), proto)
		}
		b = redcon.AppendArray(b, len(r)/2)
		for i := 0; i+1 < len(r); i += 2 {
			b = redcon.AppendArray(b, 2)
			b = appendReply(b, r[i], proto)
			b = appendReply(b, r[i+1], proto)
		}
		return b
	case respMap:
		if proto >= 3 {
			b = append(b, '%')
			b = strconv.AppendInt(b, int64(len(r)/2), 10)
			b = append(b, '\r', '\n')
		} else {
			b = redcon.AppendArray(b, len(r))
		}
		for _, x := range r {
			b = appendReply(b, x, proto)
		}
		return b
	}
	panic("kv: unknown reply type")
}
