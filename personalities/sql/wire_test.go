package sql

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"

	"hourglass/personalities/sql/pgerror"
)

// frontendBytes encodes frontend messages as a client sends them.
func frontendBytes(t testing.TB, msgs ...pgproto3.FrontendMessage) []byte {
	var b []byte
	for _, m := range msgs {
		var err error
		if b, err = m.Encode(b); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// decodeAll reads a startup packet and then messages until an error, as
// a connection does; it returns the messages' types and the error.
func decodeAll(data []byte, max int) ([]byte, error) {
	f := newFrameReader(bytes.NewReader(data), max)
	if _, err := f.readStartup(); err != nil {
		return nil, err
	}
	var types []byte
	for {
		typ, body, err := f.readMessage()
		if err != nil {
			return types, err
		}
		if _, err := decodeMessage(typ, body); err != nil {
			return types, err
		}
		types = append(types, typ)
	}
}

func seedCorpus(t testing.TB) [][]byte {
	startup := frontendBytes(t, &pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: map[string]string{"user": "u", "database": "d"}})
	return [][]byte{
		startup,
		append(append([]byte(nil), startup...), frontendBytes(t, &pgproto3.Query{String: "SELECT 1"}, &pgproto3.Terminate{})...),
		append(append([]byte(nil), startup...), frontendBytes(t,
			&pgproto3.Parse{Name: "s", Query: "SELECT $1::int", ParameterOIDs: []uint32{23}},
			&pgproto3.Bind{PreparedStatement: "s", ParameterFormatCodes: []int16{1}, Parameters: [][]byte{{0, 0, 0, 1}}, ResultFormatCodes: []int16{1}},
			&pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{MaxRows: 1}, &pgproto3.Sync{},
			&pgproto3.CopyData{Data: []byte("1\t2\n")}, &pgproto3.CopyDone{}, &pgproto3.CopyFail{Message: "no"})...),
		frontendBytes(t, &pgproto3.SSLRequest{}),
		frontendBytes(t, &pgproto3.CancelRequest{ProcessID: 7, SecretKey: []byte{1, 2, 3, 4}}),
		{0, 0, 0, 8, 0, 3, 0, 1},                                                   // protocol 3.1, no parameters
		{0, 0, 0x27, 0x11, 0, 3, 0, 0},                                             // 10001 bytes declared
		append(append([]byte(nil), startup...), 'Q', 0x7f, 0xff, 0xff, 0xff, 'x'),  // 2 GiB declared
		append(append([]byte(nil), startup...), 'Q', 0, 0, 0, 3),                   // shorter than its length field
		append(append([]byte(nil), startup...), 'x', 0, 0, 0, 4),                   // unknown type
		append(append([]byte(nil), startup...), 'B', 0, 0, 0, 8, 0, 0, 0xff, 0xff), // truncated Bind
	}
}

// FuzzFrontendDecoder feeds arbitrary bytes to the startup and message
// decoders: they must return (an error or messages), never panic or
// allocate beyond what arrived.
func FuzzFrontendDecoder(f *testing.F) {
	for _, s := range seedCorpus(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		decodeAll(data, 1<<20)
	})
}

func TestFrameErrors(t *testing.T) {
	corpus := seedCorpus(t)
	for _, tc := range []struct {
		name string
		data []byte
		code string
		msg  string
	}{
		{"long startup", corpus[6], pgerror.ProtocolViolation, "invalid length of startup packet"},
		{"huge message", corpus[7], pgerror.ProtocolViolation, "invalid message length"},
		{"short length", corpus[8], pgerror.ProtocolViolation, "invalid message length"},
		{"unknown type", corpus[9], pgerror.ProtocolViolation, "invalid frontend message type 120"},
		{"bad bind", corpus[10], pgerror.ProtocolViolation, "invalid message format"},
		{"short startup", []byte{0, 0, 0, 7, 0, 3, 0}, pgerror.ProtocolViolation, "invalid length of startup packet"},
		{"old protocol", []byte{0, 0, 0, 8, 0, 2, 0, 0}, pgerror.FeatureNotSupported, "unsupported frontend protocol 2.0: server supports 3.0 to 3.0"},
		{"no terminator", []byte{0, 0, 0, 10, 0, 3, 0, 0, 'a', 0}, pgerror.ProtocolViolation, "invalid startup packet layout: expected terminator as last byte"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeAll(tc.data, 1<<20)
			var pe *pgerror.Error
			if !errors.As(err, &pe) || pe.Code != tc.code || pe.Message != tc.msg {
				t.Fatalf("got %v, want %s %q", err, tc.code, tc.msg)
			}
		})
	}
	types, err := decodeAll(corpus[2], 1<<20)
	if err != io.EOF || string(types) != "PBDESdcf" {
		t.Fatalf("extended batch: %q %v", types, err)
	}
}

// TestDeclaredLengthDoesNotAllocate: a message that declares 60 MiB and
// sends ten bytes costs a chunk, not 60 MiB.
func TestDeclaredLengthDoesNotAllocate(t *testing.T) {
	data := frontendBytes(t, &pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: map[string]string{"user": "u"}})
	data = append(data, 'Q')
	data = binary.BigEndian.AppendUint32(data, 60<<20)
	data = append(data, "SELECT 1;;"...)
	f := newFrameReader(bytes.NewReader(data), 64<<20)
	if _, err := f.readStartup(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.readMessage(); err != io.ErrUnexpectedEOF {
		t.Fatalf("got %v, want unexpected EOF", err)
	}
	if cap(f.buf) > 2*readChunk {
		t.Fatalf("buffer of %d bytes for 10 received", cap(f.buf))
	}
}

// TestDecodeStartup checks parameters, protocol 3.x minors and requests.
func TestDecodeStartup(t *testing.T) {
	p, err := decodeStartup([]byte("\x00\x03\x00\x02user\x00u\x00_pq_.x\x00y\x00\x00"))
	if err != nil || p.code != 3<<16|2 || len(p.params) != 2 || p.params[1] != [2]string{"_pq_.x", "y"} {
		t.Fatalf("%+v %v", p, err)
	}
	p, err = decodeStartup([]byte{0x04, 0xd2, 0x16, 0x2e, 0, 0, 0, 9, 0, 0, 0, 5})
	if err != nil || p.code != cancelCode || p.pid != 9 || p.key != 5 {
		t.Fatalf("%+v %v", p, err)
	}
}
