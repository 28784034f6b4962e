package resp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// oneByteReader returns its data one byte per Read.
type oneByteReader struct{ data []byte }

func (r *oneByteReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = r.data[0]
	r.data = r.data[1:]
	return 1, nil
}

// chunkReader returns its chunks one per Read (split further if p is short).
type chunkReader struct{ chunks [][]byte }

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.chunks) > 0 && len(r.chunks[0]) == 0 {
		r.chunks = r.chunks[1:]
	}
	if len(r.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.chunks[0])
	r.chunks[0] = r.chunks[0][n:]
	return n, nil
}

var errBlocked = errors.New("test: read would block")

// blockingReader serves data, then fails with errBlocked instead of EOF, so a
// test can tell whether the Reader wanted more input.
type blockingReader struct{ data []byte }

func (r *blockingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, errBlocked
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// readAll reads commands until an error and returns them with the error.
func readAll(rd *Reader) ([][][]byte, error) {
	var cmds [][][]byte
	for {
		cmd, err := rd.ReadCommand()
		if err != nil {
			return cmds, err
		}
		if len(cmd) == 0 {
			return cmds, errors.New("test: ReadCommand returned no arguments")
		}
		cmds = append(cmds, cmd)
	}
}

// encode renders cmd as a RESP multibulk request.
func encode(cmd [][]byte) []byte {
	var b bytes.Buffer
	b.WriteString("*" + strconv.Itoa(len(cmd)) + "\r\n")
	for _, a := range cmd {
		b.WriteString("$" + strconv.Itoa(len(a)) + "\r\n")
		b.Write(a)
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

func cmdsEqual(a, b [][][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if !bytes.Equal(a[i][j], b[i][j]) {
				return false
			}
		}
	}
	return true
}

func fmtCmds(cmds [][][]byte) string {
	var b bytes.Buffer
	for _, c := range cmds {
		b.WriteString("[")
		for j, a := range c {
			if j > 0 {
				b.WriteString(" ")
			}
			b.WriteString(strconv.Quote(string(a)))
		}
		b.WriteString("]")
	}
	return b.String()
}

// errMsg renders err for comparisons: a ProtocolError's Msg, else the error.
func errMsg(err error) string {
	if err == nil {
		return "<nil>"
	}
	var pe *ProtocolError
	if errors.As(err, &pe) {
		return "proto: " + pe.Msg
	}
	return fmt.Sprintf("%T: %v", err, err)
}

// checkReaderMatchesParse feeds data through a Reader over r and checks that
// it yields exactly what parse returns for the whole input.
func checkReaderMatchesParse(data []byte, r io.Reader, lim Limits, auth bool) error {
	want, n, perr := parse(data, lim, auth)
	rd := NewReader(r, lim)
	rd.SetAuthenticated(auth)
	got, err := readAll(rd)
	if !cmdsEqual(got, want) {
		return fmt.Errorf("reader commands %s, parse commands %s", fmtCmds(got), fmtCmds(want))
	}
	var wantErr error
	switch {
	case perr != nil:
		wantErr = perr
	case n == len(data):
		wantErr = io.EOF
	default:
		wantErr = io.ErrUnexpectedEOF
	}
	if errMsg(err) != errMsg(wantErr) {
		return fmt.Errorf("reader error %q, want %q (parse n=%d of %d)", errMsg(err), errMsg(wantErr), n, len(data))
	}
	return nil
}
