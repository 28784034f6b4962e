package resp

import (
	"errors"
	"io"
)

// Default limits, matching Redis's defaults.
const (
	DefaultMaxMultibulkLen = 1 << 20           // arguments per multibulk request
	DefaultMaxBulkLen      = 512 * 1024 * 1024 // Redis proto-max-bulk-len
	DefaultMaxInlineLen    = 64 * 1024         // Redis PROTO_INLINE_MAX_SIZE
	DefaultMaxQueryBuffer  = 1 << 30           // Redis client-query-buffer-limit
)

// Limits before authentication (Redis authRequired checks).
const (
	unauthMaxMultibulkLen = 10
	unauthMaxBulkLen      = 16384
)

// Limits bounds what one connection may send. Zero (or negative) fields take
// the Default* values. A Limits is a plain value; NewReader and Parse copy it.
type Limits struct {
	MaxMultibulkLen int   // max number of arguments in one multibulk request
	MaxBulkLen      int64 // max length of one bulk argument
	MaxInlineLen    int   // max length of an inline line or a "*N"/"$N" header line
	MaxQueryBuffer  int64 // max total argument bytes of one request
}

// WithDefaults returns l with every zero (or negative) field set to its
// default.
func (l Limits) WithDefaults() Limits {
	if l.MaxMultibulkLen <= 0 {
		l.MaxMultibulkLen = DefaultMaxMultibulkLen
	}
	if l.MaxBulkLen <= 0 {
		l.MaxBulkLen = DefaultMaxBulkLen
	}
	if l.MaxInlineLen <= 0 {
		l.MaxInlineLen = DefaultMaxInlineLen
	}
	if l.MaxQueryBuffer <= 0 {
		l.MaxQueryBuffer = DefaultMaxQueryBuffer
	}
	return l
}

// ProtocolError is a violation of the protocol; the server replies
// "-ERR " + Error() and closes the connection. Msg never contains '\r' or
// '\n', so Error() can be sent as an error reply as is. ProtocolError values
// are immutable once returned and may be shared between goroutines.
type ProtocolError struct{ Msg string }

// Error returns "Protocol error: " + e.Msg, the text Redis sends after "-ERR ".
func (e *ProtocolError) Error() string { return "Protocol error: " + e.Msg }

func protoErr(msg string) *ProtocolError { return &ProtocolError{Msg: msg} }

const (
	readBufSize   = 16 << 10 // initial (and usual) size of the read buffer
	maxEmptyReads = 100      // consecutive (0, nil) reads before io.ErrNoProgress
)

// Reader reads requests from an io.Reader, keeping at most one partly
// received request and a small read buffer. It is not safe for concurrent
// use; one goroutine (the connection's) should own it.
type Reader struct {
	rd   io.Reader
	buf  []byte // buf[r:w] holds read but unconsumed bytes
	r, w int
	err  error // pending error from rd, returned once the buffer is used up
	perr error // sticky protocol error
	p    parser
	lim  Limits
	// beforeRead, if set, runs before every read from rd (see
	// SetBeforeRead).
	beforeRead func() error
}

// NewReader returns a Reader reading requests from r under the limits lim
// (zero fields take the defaults). The Reader starts authenticated. r is
// used only by the Reader's methods, and only from the calling goroutine.
func NewReader(r io.Reader, lim Limits) *Reader {
	lim = lim.WithDefaults()
	rd := &Reader{rd: r, lim: lim}
	rd.p.lim = lim
	rd.p.auth = true
	return rd
}

// SetAuthenticated switches between Redis's tight pre-AUTH limits (ok ==
// false: at most 10 arguments per multibulk request and 16384 bytes per
// bulk) and the normal ones. It takes effect for the next header line
// parsed, even within a partly read request. A new Reader is authenticated.
func (r *Reader) SetAuthenticated(ok bool) { r.p.auth = ok }

// SetBeforeRead sets f to run before each read from the underlying reader,
// that is, whenever no further request can be completed from what was
// already received. A connection uses it to write out the replies it holds
// and to let go of state that must not outlive the bytes received so far
// (a read view: a request that arrives later must not be served from a
// view taken before it arrived). An error from f is returned by
// ReadCommand as it is, and nothing is read.
func (r *Reader) SetBeforeRead(f func() error) { r.beforeRead = f }

// Buffered reports how many bytes have been read from the underlying reader
// but not yet consumed, i.e. whether another pipelined request may be
// (partly) available without blocking on the socket.
func (r *Reader) Buffered() int { return r.w - r.r }

// ReadCommand returns the next request's arguments (len >= 1). Blank inline
// lines and "*0"/"*-1" requests are skipped silently as Redis does. The
// returned slices are freshly allocated and owned by the caller: they do not
// alias the Reader's buffer and are not reused by later calls.
//
// Errors: *ProtocolError for protocol violations (sticky: later calls return
// it again); io.EOF on a clean EOF between requests; io.ErrUnexpectedEOF when
// the stream ends inside a request; other errors as returned by the
// underlying reader (returned once; a later call retries the read, resuming
// the partly read request).
func (r *Reader) ReadCommand() ([][]byte, error) {
	if r.perr != nil {
		return nil, r.perr
	}
	for {
		n, done, cmd, err := r.p.feed(r.buf[r.r:r.w])
		r.r += n
		if err != nil {
			r.perr = err
			return nil, err
		}
		if done {
			if cmd != nil {
				return cmd, nil
			}
			continue // empty request, skipped
		}
		// The parser needs more input.
		if r.r == r.w {
			r.r, r.w = 0, 0
		}
		if r.err != nil {
			err := r.err
			r.err = nil
			if err == io.EOF && (r.w > r.r || !r.p.idle()) {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if r.beforeRead != nil {
			if err := r.beforeRead(); err != nil {
				return nil, err
			}
		}
		if r.w == r.r {
			if space := r.p.bulkSpace(len(r.buf)); space != nil {
				// Large bulk: read straight into the argument.
				n, err := r.readInto(space)
				r.p.bulkAdvance(n)
				r.err = err
				continue
			}
		}
		r.fill()
	}
}

// fill reads more data into the buffer, making room first.
func (r *Reader) fill() {
	if r.buf == nil {
		r.buf = make([]byte, readBufSize)
	}
	if r.w == len(r.buf) {
		if r.r > 0 {
			r.w = copy(r.buf, r.buf[r.r:r.w])
			r.r = 0
		} else {
			// An incomplete line fills the whole buffer. Lines are bounded
			// by MaxInlineLen+2 bytes (the parser fails beyond that), so
			// this growth is bounded too.
			size := 2 * len(r.buf)
			if limit := r.lim.MaxInlineLen + 2; size > limit && limit > len(r.buf) {
				size = limit
			}
			nb := make([]byte, size)
			copy(nb, r.buf[:r.w])
			r.buf = nb
		}
	}
	n, err := r.readInto(r.buf[r.w:])
	r.w += n
	r.err = err
}

// readInto reads into p, retrying (0, nil) reads a bounded number of times.
func (r *Reader) readInto(p []byte) (int, error) {
	for i := 0; i < maxEmptyReads; i++ {
		n, err := r.rd.Read(p)
		if n < 0 || n > len(p) {
			return 0, errNegativeRead
		}
		if n > 0 || err != nil {
			return n, err
		}
	}
	return 0, io.ErrNoProgress
}

var errNegativeRead = errors.New("resp: reader returned invalid count from Read")

// Parse is a pure function for tests and fuzzing: it parses as many complete
// requests as b holds (authenticated, under lim with defaults filled in) and
// reports how many bytes they used. It returns (cmds, n, nil) where b[n:] is
// an incomplete prefix of a request, or, on a protocol violation, the
// requests before the bad one, the bytes they used, and a *ProtocolError.
// Empty requests are skipped but counted in n. The returned arguments are
// copies and do not alias b.
func Parse(b []byte, lim Limits) (cmds [][][]byte, n int, err error) {
	return parse(b, lim, true)
}

func parse(b []byte, lim Limits, auth bool) (cmds [][][]byte, n int, err error) {
	p := parser{lim: lim.WithDefaults(), auth: auth}
	pos := 0
	for {
		k, done, cmd, err := p.feed(b[pos:])
		pos += k
		if err != nil {
			return cmds, n, err
		}
		if !done {
			return cmds, n, nil
		}
		n = pos
		if cmd != nil {
			cmds = append(cmds, cmd)
		}
	}
}
