package sql

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"

	"github.com/jackc/pgx/v5/pgproto3"

	"hourglass/personalities/sql/pgerror"
)

// The frontend framing is read here rather than by pgproto3's Backend:
// the Backend allocates a message's whole declared length before any of
// it arrives, and its errors are not Postgres's. A message's body grows
// as its bytes arrive (at most readChunk more than has been received), so
// a client that declares a large length and sends nothing costs nothing.

// Startup packet limits, as Postgres's (MAX_STARTUP_PACKET_LENGTH).
const (
	minStartupLen = 8
	maxStartupLen = 10000
	readChunk     = 64 << 10
)

// Startup request codes.
const (
	protocol30    = 3 << 16
	sslRequest    = 80877103
	gssEncRequest = 80877104
	cancelCode    = 80877102
)

// startupPacket is a decoded startup-phase packet: code is the protocol
// version or one of the request codes.
type startupPacket struct {
	code uint32
	// params are a StartupMessage's parameters in the order sent.
	params [][2]string
	// pid and key are a CancelRequest's.
	pid uint32
	key uint32
}

// frameReader reads frontend packets from a connection.
type frameReader struct {
	r   *bufio.Reader
	max int
	buf []byte
}

func newFrameReader(r io.Reader, max int) *frameReader {
	return &frameReader{r: bufio.NewReaderSize(r, 8192), max: max}
}

// readBody reads n bytes into the reader's buffer, growing it only as
// bytes arrive. The result is valid until the next read.
func (f *frameReader) readBody(n int) ([]byte, error) {
	if cap(f.buf) > 1<<20 {
		f.buf = nil // do not keep a large message's buffer
	}
	b := f.buf[:0]
	for len(b) < n {
		chunk := min(n-len(b), readChunk)
		if cap(b)-len(b) < chunk {
			nb := make([]byte, len(b), max(2*cap(b), len(b)+chunk))
			copy(nb, b)
			b = nb
		}
		m, err := io.ReadFull(f.r, b[len(b):len(b)+chunk])
		b = b[:len(b)+m]
		if err != nil {
			return nil, unexpectedEOF(err)
		}
	}
	f.buf = b
	return b, nil
}

func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// errProtocol reports a framing violation: the connection is closed after
// a FATAL error with it.
func errProtocol(format string, args ...any) *pgerror.Error {
	return pgerror.New(pgerror.ProtocolViolation, format, args...)
}

// readStartup reads one startup-phase packet. io.EOF means the client
// closed the connection before sending anything.
func (f *frameReader) readStartup() (*startupPacket, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(f.r, hdr[:]); err != nil {
		return nil, err
	}
	n := int(int32(binary.BigEndian.Uint32(hdr[:])))
	if n < minStartupLen || n > maxStartupLen {
		return nil, errProtocol("invalid length of startup packet")
	}
	body, err := f.readBody(n - 4)
	if err != nil {
		return nil, err
	}
	return decodeStartup(body)
}

// decodeStartup decodes a startup packet's body (after its length).
func decodeStartup(body []byte) (*startupPacket, error) {
	if len(body) < 4 {
		return nil, errProtocol("invalid length of startup packet")
	}
	p := &startupPacket{code: binary.BigEndian.Uint32(body)}
	rest := body[4:]
	switch {
	case p.code == cancelCode:
		if len(rest) != 8 {
			return nil, errProtocol("invalid length of startup packet")
		}
		p.pid, p.key = binary.BigEndian.Uint32(rest), binary.BigEndian.Uint32(rest[4:])
		return p, nil
	case p.code == sslRequest || p.code == gssEncRequest:
		return p, nil
	case p.code>>16 != 3:
		return nil, pgerror.New(pgerror.FeatureNotSupported, "unsupported frontend protocol %d.%d: server supports 3.0 to 3.0", p.code>>16, p.code&0xffff)
	}
	for {
		k, r, ok := cstring(rest)
		if !ok {
			return nil, errProtocol("invalid startup packet layout: expected terminator as last byte")
		}
		if k == "" {
			if len(r) != 0 {
				return nil, errProtocol("invalid startup packet layout: expected terminator as last byte")
			}
			return p, nil
		}
		v, r, ok := cstring(r)
		if !ok {
			return nil, errProtocol("invalid startup packet layout: expected terminator as last byte")
		}
		p.params = append(p.params, [2]string{k, v})
		rest = r
	}
}

// cstring splits a NUL-terminated string off b.
func cstring(b []byte) (string, []byte, bool) {
	for i, ch := range b {
		if ch == 0 {
			return string(b[:i]), b[i+1:], true
		}
	}
	return "", nil, false
}

// readMessage reads one regular message: its type byte and body (valid
// until the next read).
func (f *frameReader) readMessage() (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(f.r, hdr[:1]); err != nil {
		return 0, nil, err
	}
	if _, err := io.ReadFull(f.r, hdr[1:]); err != nil {
		return 0, nil, unexpectedEOF(err)
	}
	typ := hdr[0]
	if !knownType(typ) {
		return 0, nil, errProtocol("invalid frontend message type %d", typ)
	}
	n := int(int32(binary.BigEndian.Uint32(hdr[1:])))
	if n < 4 || n-4 > f.max {
		return 0, nil, errProtocol("invalid message length")
	}
	body, err := f.readBody(n - 4)
	return typ, body, err
}

func knownType(t byte) bool {
	switch t {
	case 'Q', 'P', 'B', 'D', 'E', 'C', 'S', 'H', 'X', 'd', 'c', 'f', 'p', 'F':
		return true
	}
	return false
}

// decodeMessage decodes a regular message body by its type. 'p' (a
// password or SASL response) is returned raw as *pgproto3.PasswordMessage
// bytes in a SASLResponse for the authenticator to interpret. The result
// may alias body.
func decodeMessage(typ byte, body []byte) (pgproto3.FrontendMessage, error) {
	var m pgproto3.FrontendMessage
	switch typ {
	case 'Q':
		m = &pgproto3.Query{}
	case 'P':
		m = &pgproto3.Parse{}
	case 'B':
		m = &pgproto3.Bind{}
	case 'D':
		m = &pgproto3.Describe{}
	case 'E':
		m = &pgproto3.Execute{}
	case 'C':
		m = &pgproto3.Close{}
	case 'S':
		m = &pgproto3.Sync{}
	case 'H':
		m = &pgproto3.Flush{}
	case 'X':
		m = &pgproto3.Terminate{}
	case 'd':
		m = &pgproto3.CopyData{}
	case 'c':
		m = &pgproto3.CopyDone{}
	case 'f':
		m = &pgproto3.CopyFail{}
	case 'p':
		m = &pgproto3.SASLResponse{}
	case 'F':
		m = &pgproto3.FunctionCall{}
	default:
		return nil, errProtocol("invalid frontend message type %d", typ)
	}
	if err := m.Decode(body); err != nil {
		return nil, errProtocol("invalid message format")
	}
	return m, nil
}
