// Package resp reads Redis client requests (RESP multibulk and inline
// commands) from a byte stream while enforcing Redis's protocol limits.
//
// A Redis-compatible server uses it in its connection loop instead of a
// general-purpose RESP library because bad input must be answered with
// Redis's exact protocol error text and must never make memory grow
// without bound: a client declaring a 2^40-byte bulk or a 10^7-argument
// multibulk gets "invalid bulk length" / "invalid multibulk length" as soon
// as the header line arrives, and memory used for a request grows only as
// its bytes are actually received.
//
// # Behaviour
//
// Parsing follows Redis 7's processMultibulkBuffer and processInlineBuffer:
//
//   - A request starting with '*' is a multibulk request "*<n>\r\n" followed
//     by n bulk arguments "$<len>\r\n<len bytes>\r\n". Requests with n <= 0
//     are skipped silently. As in Redis, header lines end at the first '\r'
//     and the byte after it is skipped, as are the two bytes after each
//     bulk's data (they are not checked to be "\r\n").
//   - Any other request is an inline command: one line ending in '\n'
//     (an optional preceding '\r' is stripped), split like Redis's
//     sdssplitargs (whitespace separated, "double quotes" with C-like
//     escapes and \xHH, 'single quotes' with only \'). Blank lines are
//     skipped. As in sdssplitargs, a NUL byte ends the line's content.
//
// Protocol violations are reported as *ProtocolError; the server replies
// "-ERR " + err.Error() and closes the connection.
//
// # Limits
//
// [Limits] bounds what one connection may send; zero fields take Redis's
// defaults:
//
//   - MaxMultibulkLen (1048576): arguments per multibulk request, otherwise
//     "invalid multibulk length".
//   - MaxBulkLen (512 MiB, Redis proto-max-bulk-len): bytes per argument,
//     otherwise "invalid bulk length".
//   - MaxInlineLen (64 KiB, Redis PROTO_INLINE_MAX_SIZE): bytes of an inline
//     line or of a "*N"/"$N" header line, otherwise "too big inline
//     request", "too big mbulk count string" or "too big bulk count string".
//   - MaxQueryBuffer (1 GiB, Redis client-query-buffer-limit): total argument
//     bytes of one request, otherwise "query buffer limit exceeded".
//
// Before authentication ([Reader.SetAuthenticated](false)) Redis's tighter
// limits also apply: at most 10 arguments per multibulk request
// ("unauthenticated multibulk length") and 16384 bytes per bulk argument
// ("unauthenticated bulk length").
//
// # Usage
//
//	rd := resp.NewReader(conn, resp.Limits{})
//	rd.SetAuthenticated(!requirePass)
//	for {
//		args, err := rd.ReadCommand()
//		if err != nil {
//			var pe *resp.ProtocolError
//			if errors.As(err, &pe) {
//				fmt.Fprintf(conn, "-ERR %s\r\n", pe.Error())
//			}
//			return // io.EOF, io.ErrUnexpectedEOF, network error, ...
//		}
//		reply := dispatch(args) // args are owned by the caller
//		if rd.Buffered() == 0 {
//			flush(reply) // no pipelined request is waiting
//		}
//	}
package resp
