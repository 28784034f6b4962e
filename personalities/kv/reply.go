package kv

import (
	"errors"
	"strconv"

	"github.com/tidwall/redcon"

	"hourglass/personalities/kv/keyspace"
	"hourglass/platform"
)

// push is a RESP3 push (an out-of-band message to a subscriber); an array
// in RESP2. The other reply types are package keyspace's.
type push []any

// monitorLine is a MONITOR line, sent as a status reply.
type monitorLine []byte

// verbatim is a text reply: a RESP3 verbatim string of format "txt", a
// bulk string in RESP2.
type verbatim string

// Error replies of the connection, word for word as Redis 7 sends them.
const (
	errNoAuth         = keyspace.Error("NOAUTH Authentication required.")
	errWrongPass      = keyspace.Error("WRONGPASS invalid username-password pair or user is disabled.")
	errNoAuthHello    = keyspace.Error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
	errNoProto        = keyspace.Error("NOPROTO unsupported protocol version")
	errMaxClients     = keyspace.Error("ERR max number of clients reached")
	errOutcomeUnknown = keyspace.Error("UNCERTAIN the write may or may not have been applied")
)

// replyOf turns a command's result into a reply: an Error is the
// command's own failure; any other error is the server's.
func replyOf(r any, err error) any {
	if err == nil {
		return r
	}
	var re keyspace.Error
	if errors.As(err, &re) {
		return re
	}
	return keyspace.Errorf("ERR %s", err)
}

// platformError turns a failure of the stack into a reply.
//
// A failed disk is reported as Redis reports a failed AOF write
// (MISCONF), saying whether the write may still have been applied.
func platformError(err error) any {
	switch {
	case errors.Is(err, platform.ErrStorageFailed):
		reason := "the log's storage failed"
		if errors.Is(err, platform.ErrDiskFull) {
			reason = "No space left on device"
		}
		if errors.Is(err, platform.ErrOutcomeUnknown) {
			return keyspace.Errorf("MISCONF Errors writing to the log: %s; the write may or may not have been applied", reason)
		}
		return keyspace.Errorf("MISCONF Errors writing to the log: %s", reason)
	case errors.Is(err, platform.ErrOutcomeUnknown):
		return errOutcomeUnknown
	case errors.Is(err, platform.ErrUnavailable):
		return keyspace.Errorf("TRYAGAIN the log is unavailable: %s", err)
	}
	return keyspace.Errorf("ERR %s", err)
}

// appendReply renders r, one of package keyspace's reply types or a push,
// for protocol version proto (2 or 3).
func appendReply(b []byte, r any, proto int) []byte {
	switch r := r.(type) {
	case nil:
		if proto >= 3 {
			return append(b, "_\r\n"...)
		}
		return redcon.AppendNull(b)
	case keyspace.NullArray:
		if proto >= 3 {
			return append(b, "_\r\n"...)
		}
		return append(b, "*-1\r\n"...)
	case keyspace.SimpleString:
		return redcon.AppendString(b, string(r))
	case verbatim:
		if proto >= 3 {
			b = append(b, '=')
			b = strconv.AppendInt(b, int64(len(r)+4), 10)
			return append(append(append(b, "\r\ntxt:"...), r...), "\r\n"...)
		}
		return redcon.AppendBulkString(b, string(r))
	case keyspace.Error:
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
	case keyspace.Set:
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
	case monitorLine:
		b = append(b, '+')
		b = append(b, r...)
		return append(b, '\r', '\n')
	case push:
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
			b = append(b, keyspace.FormatFloat(r)...)
			return append(b, '\r', '\n')
		}
		return redcon.AppendBulk(b, keyspace.FormatFloat(r))
	case keyspace.DoubleText:
		if proto >= 3 {
			b = append(b, ',')
			b = append(b, r...)
			return append(b, '\r', '\n')
		}
		return redcon.AppendBulk(b, r)
	case keyspace.Pairs:
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
	case keyspace.KeyedArrays:
		if proto >= 3 {
			return appendReply(b, keyspace.Map(r), proto)
		}
		b = redcon.AppendArray(b, len(r)/2)
		for i := 0; i+1 < len(r); i += 2 {
			b = appendReply(b, []any{r[i], r[i+1]}, proto)
		}
		return b
	case keyspace.Map:
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
