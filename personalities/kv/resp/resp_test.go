package resp

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

type parseCase struct {
	name   string
	in     string
	want   [][]string // commands returned before the end or the error
	err    string     // ProtocolError.Msg, "" for none
	n      int        // bytes used when err == ""; -1 means len(in)
	lim    Limits
	unauth bool
}

var rep = strings.Repeat

var parseCases = []parseCase{
	// Multibulk.
	{name: "set", in: "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n", want: [][]string{{"SET", "k", "hello"}}, n: -1},
	{name: "pipelined", in: "*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$0\r\n\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nx\r\n",
		want: [][]string{{"PING"}, {"ECHO", ""}, {"PING"}, {"GET", "x"}}, n: -1},
	{name: "binary bulk", in: "*2\r\n$4\r\necho\r\n$6\r\na\r\n\x00\xffb\r\n", want: [][]string{{"echo", "a\r\n\x00\xffb"}}, n: -1},
	{name: "bulk trailer not checked", in: "*1\r\n$1\r\naXY*1\r\n$1\r\nb\r\n", want: [][]string{{"a"}, {"b"}}, n: -1},
	{name: "header byte after CR not checked", in: "*2\rX$1\rYaZZ$1\r\nb\r\n", want: [][]string{{"a", "b"}}, n: -1},
	{name: "empty multibulk skipped", in: "*0\r\n*-1\r\n*-5\r\nPING\r\n*0\r\n", want: [][]string{{"PING"}}, n: -1},
	{name: "incomplete header", in: "*1\r\n$4\r\nPING\r\n*1\r", want: [][]string{{"PING"}}, n: 14},
	{name: "incomplete data", in: "*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPI", want: [][]string{{"PING"}}, n: 14},
	{name: "incomplete trailer", in: "*1\r\n$4\r\nPING\r", n: 0},
	{name: "max multibulk ok", in: "*1048576\r\n", n: 0},
	{name: "max bulk ok", in: "*1\r\n$536870912\r\n", n: 0},
	{name: "big header line ok", in: "*" + rep("0", 65535) + "\r\n", err: "invalid multibulk length"},
	{name: "big bulk header line ok", in: "*1\r\n$" + rep("0", 65535) + "\r\n", err: "invalid bulk length"},

	// Inline.
	{name: "inline", in: "PING\r\n", want: [][]string{{"PING"}}, n: -1},
	{name: "inline lf", in: "SET a b\nGET a\n", want: [][]string{{"SET", "a", "b"}, {"GET", "a"}}, n: -1},
	{name: "inline spaces", in: "  SET \t a   b  \r\n", want: [][]string{{"SET", "a", "b"}}, n: -1},
	{name: "inline quotes", in: "SET \"a b\" 'c d' \"\" ''\r\n", want: [][]string{{"SET", "a b", "c d", "", ""}}, n: -1},
	{name: "inline escapes", in: `"\x41\x4a\x6b\n\r\t\b\a\\\"\z\'" x` + "\r\n", want: [][]string{{"AJk\n\r\t\b\a\\\"z'", "x"}}, n: -1},
	{name: "inline bad hex", in: `"\xZZ\x4" "\x"` + "\n", want: [][]string{{"xZZx4", "x"}}, n: -1},
	{name: "inline single quote escapes", in: `'it\'s' 'a\nb' 'a\\b'` + "\n", want: [][]string{{"it's", `a\nb`, `a\\b`}}, n: -1},
	{name: "single quote backslashes", in: `'\\'` + "\n", err: "unbalanced quotes in request"},
	{name: "inline quote mid token", in: "foo\"bar baz\"  x'y'\n", want: [][]string{{"foobar baz", "xy"}}, n: -1},
	{name: "inline quote then vtab", in: "\"a\"\vb\n", want: [][]string{{"a", "b"}}, n: -1},
	{name: "inline vtab", in: "\va\vb c\n", want: [][]string{{"a\vb", "c"}}, n: -1},
	{name: "inline nul ends line", in: "GET a\x00b \"c\r\nPING\r\n", want: [][]string{{"GET", "a"}, {"PING"}}, n: -1},
	{name: "inline extra cr", in: "PING\r\r\n\"a\r\"\r\n", want: [][]string{{"PING"}, {"a\r"}}, n: -1},
	{name: "empty lines", in: "\r\n\n   \r\n\t\nPING\n\r\n", want: [][]string{{"PING"}}, n: -1},
	{name: "incomplete inline", in: "PING\r\nPI", want: [][]string{{"PING"}}, n: 6},
	{name: "max inline ok", in: rep("a", 65536) + "\n", want: [][]string{{rep("a", 65536)}}, n: -1},
	{name: "max inline crlf ok", in: rep("a", 65535) + "\r\n", want: [][]string{{rep("a", 65535)}}, n: -1},
	{name: "inline then multibulk", in: "PING\r\n*1\r\n$4\r\nPING\r\n", want: [][]string{{"PING"}, {"PING"}}, n: -1},

	// Multibulk errors.
	{name: "mbulk not a number", in: "*abc\r\n", err: "invalid multibulk length"},
	{name: "mbulk plus", in: "*+1\r\n", err: "invalid multibulk length"},
	{name: "mbulk leading zero", in: "*01\r\n", err: "invalid multibulk length"},
	{name: "mbulk space", in: "* 1\r\n", err: "invalid multibulk length"},
	{name: "mbulk trailing space", in: "*1 \r\n", err: "invalid multibulk length"},
	{name: "mbulk minus zero", in: "*-0\r\n", err: "invalid multibulk length"},
	{name: "mbulk minus", in: "*-\r\n", err: "invalid multibulk length"},
	{name: "mbulk empty", in: "*\r\n", err: "invalid multibulk length"},
	{name: "mbulk overflow", in: "*99999999999999999999\r\n", err: "invalid multibulk length"},
	{name: "mbulk lf only", in: "*1\n$1\r\na\r\n", err: "invalid multibulk length"},
	{name: "mbulk too many", in: "*1048577\r\n", err: "invalid multibulk length"},
	{name: "mbulk 10^7", in: "*10000000\r\n", err: "invalid multibulk length"},
	{name: "mbulk after command", in: "PING\r\n*x\r\n", want: [][]string{{"PING"}}, err: "invalid multibulk length"},
	{name: "too big mbulk count", in: "*" + rep("1", 65536), err: "too big mbulk count string"},
	{name: "too big mbulk count cr late", in: "*" + rep("1", 65536) + "\r\n", err: "too big mbulk count string"},

	// Bulk errors.
	{name: "expected dollar", in: "*1\r\nfoo\r\n", err: "expected '$', got 'f'"},
	{name: "expected dollar cr", in: "*1\r\n\r\n", err: "expected '$', got ' '"},
	{name: "expected dollar lf", in: "*1\r\n\n\r\n", err: "expected '$', got ' '"},
	{name: "expected dollar nul", in: "*1\r\n\x00\r\n", err: "expected '$', got '"},
	{name: "expected dollar high byte", in: "*1\r\n\xff\r\n", err: "expected '$', got '\xff'"},
	{name: "expected dollar waits for line", in: "*1\r\nfoo", n: 0},
	{name: "expected dollar second arg", in: "*2\r\n$1\r\na\r\n:1\r\n", err: "expected '$', got ':'"},
	{name: "bulk not a number", in: "*1\r\n$abc\r\n", err: "invalid bulk length"},
	{name: "bulk negative", in: "*1\r\n$-1\r\n", err: "invalid bulk length"},
	{name: "bulk empty", in: "*1\r\n$\r\n", err: "invalid bulk length"},
	{name: "bulk 2^40", in: "*1\r\n$1099511627776\r\n", err: "invalid bulk length"},
	{name: "bulk too long", in: "*1\r\n$536870913\r\n", err: "invalid bulk length"},
	{name: "bulk count at limit", in: "*1\r\n$" + rep("1", 65535), n: 0},
	{name: "too big bulk count", in: "*1\r\n$" + rep("1", 65536), err: "too big bulk count string"},

	// Inline errors.
	{name: "unterminated double", in: "SET \"abc\r\n", err: "unbalanced quotes in request"},
	{name: "unterminated single", in: "SET 'abc\n", err: "unbalanced quotes in request"},
	{name: "escaped closing quote", in: "SET \"abc\\\"\n", err: "unbalanced quotes in request"},
	{name: "double then text", in: "SET \"a\"b\n", err: "unbalanced quotes in request"},
	{name: "single then text", in: "SET 'a'b\n", err: "unbalanced quotes in request"},
	{name: "quote then nul", in: "SET \"a\x00\"\n", err: "unbalanced quotes in request"},
	{name: "too big inline", in: rep("a", 65537), err: "too big inline request"},
	{name: "too big inline lf late", in: rep("a", 65537) + "\n", err: "too big inline request"},
	{name: "too big inline after command", in: "PING\n" + rep("a", 65537), want: [][]string{{"PING"}}, err: "too big inline request"},

	// Configurable limits.
	{name: "max bulk 10 ok", in: "*1\r\n$10\r\n0123456789\r\n", want: [][]string{{"0123456789"}}, n: -1, lim: Limits{MaxBulkLen: 10}},
	{name: "max bulk 10", in: "*1\r\n$11\r\n", err: "invalid bulk length", lim: Limits{MaxBulkLen: 10}},
	{name: "max multibulk 2 ok", in: "*2\r\n$1\r\na\r\n$1\r\nb\r\n", want: [][]string{{"a", "b"}}, n: -1, lim: Limits{MaxMultibulkLen: 2}},
	{name: "max multibulk 2", in: "*3\r\n", err: "invalid multibulk length", lim: Limits{MaxMultibulkLen: 2}},
	{name: "max inline 8 ok", in: "1234567\r\n12345678\n", want: [][]string{{"1234567"}, {"12345678"}}, n: -1, lim: Limits{MaxInlineLen: 8}},
	{name: "max inline 8", in: "1234567\r\n12345678\r\n", want: [][]string{{"1234567"}}, err: "too big inline request", lim: Limits{MaxInlineLen: 8}},
	{name: "max inline 8 header ok", in: "*0000001\r\n", err: "invalid multibulk length", lim: Limits{MaxInlineLen: 8}},
	{name: "max inline 8 header", in: "*00000001\r\n", err: "too big mbulk count string", lim: Limits{MaxInlineLen: 8}},
	{name: "max inline 8 bulk header", in: "*1\r\n$00000001", err: "too big bulk count string", lim: Limits{MaxInlineLen: 8}},
	{name: "query buffer ok", in: "*2\r\n$5\r\nhello\r\n$5\r\nworld\r\n", want: [][]string{{"hello", "world"}}, n: -1, lim: Limits{MaxQueryBuffer: 10}},
	{name: "query buffer", in: "*2\r\n$5\r\nhello\r\n$6\r\n", err: "query buffer limit exceeded", lim: Limits{MaxQueryBuffer: 10}},
	{name: "query buffer per request", in: "*1\r\n$8\r\nabcdefgh\r\n*1\r\n$8\r\nabcdefgh\r\n", want: [][]string{{"abcdefgh"}, {"abcdefgh"}}, n: -1, lim: Limits{MaxQueryBuffer: 10}},

	// Unauthenticated limits.
	{name: "unauth 10 args ok", in: "*10\r\n", n: 0, unauth: true},
	{name: "unauth 11 args", in: "*11\r\n", err: "unauthenticated multibulk length", unauth: true},
	{name: "unauth invalid first", in: "*1048577\r\n", err: "invalid multibulk length", unauth: true},
	{name: "unauth bulk ok", in: "*1\r\n$16384\r\n", n: 0, unauth: true},
	{name: "unauth bulk", in: "*1\r\n$16385\r\n", err: "unauthenticated bulk length", unauth: true},
	{name: "unauth bulk invalid first", in: "*1\r\n$536870913\r\n", err: "invalid bulk length", unauth: true},
	{name: "unauth inline", in: "AUTH a b c d e f g h i j k l\r\n", want: [][]string{strings.Fields("AUTH a b c d e f g h i j k l")}, n: -1, unauth: true},
	{name: "unauth skip", in: "*-1\r\n*0\r\n", n: -1, unauth: true},
}

func toCmds(s [][]string) [][][]byte {
	var out [][][]byte
	for _, c := range s {
		var cmd [][]byte
		for _, a := range c {
			cmd = append(cmd, []byte(a))
		}
		out = append(out, cmd)
	}
	return out
}

func (tc parseCase) wantN() int {
	if tc.n < 0 {
		return len(tc.in)
	}
	return tc.n
}

func (tc parseCase) check(t *testing.T, in []byte) {
	t.Helper()
	cmds, n, err := parse(in, tc.lim, !tc.unauth)
	if !cmdsEqual(cmds, toCmds(tc.want)) {
		t.Errorf("commands %s, want %s", fmtCmds(cmds), fmtCmds(toCmds(tc.want)))
	}
	if tc.err != "" {
		var pe *ProtocolError
		if !errors.As(err, &pe) || pe.Msg != tc.err {
			t.Fatalf("error %q, want protocol error %q", errMsg(err), tc.err)
		}
		if got, want := pe.Error(), "Protocol error: "+tc.err; got != want {
			t.Errorf("Error() = %q, want %q", got, want)
		}
		if strings.ContainsAny(pe.Error(), "\r\n") {
			t.Errorf("Error() %q contains a line break", pe.Error())
		}
		return
	}
	if err != nil {
		t.Fatalf("unexpected error %v", err)
	}
	if n != tc.wantN() {
		t.Errorf("n = %d, want %d", n, tc.wantN())
	}
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t, []byte(tc.in))
			if !tc.unauth {
				// The exported function is the authenticated variant.
				c1, n1, e1 := Parse([]byte(tc.in), tc.lim)
				c2, n2, e2 := parse([]byte(tc.in), tc.lim, true)
				if !cmdsEqual(c1, c2) || n1 != n2 || errMsg(e1) != errMsg(e2) {
					t.Errorf("Parse differs from parse")
				}
			}
		})
	}
}

// TestParsePrefixes checks Parse on every prefix of every case: the commands
// must be a prefix of the full result and any error must be the full error.
func TestParsePrefixes(t *testing.T) {
	for _, tc := range parseCases {
		if len(tc.in) > 1000 {
			continue // the long cases are covered by the one-byte reader
		}
		t.Run(tc.name, func(t *testing.T) {
			full, _, fullErr := parse([]byte(tc.in), tc.lim, !tc.unauth)
			for i := 0; i <= len(tc.in); i++ {
				prefix := []byte(tc.in[:i])
				cmds, n, err := parse(prefix, tc.lim, !tc.unauth)
				if len(cmds) > len(full) || !cmdsEqual(cmds, full[:len(cmds)]) {
					t.Fatalf("prefix %q: commands %s not a prefix of %s", prefix, fmtCmds(cmds), fmtCmds(full))
				}
				if err != nil {
					if errMsg(err) != errMsg(fullErr) {
						t.Fatalf("prefix %q: error %q, full input error %q", prefix, errMsg(err), errMsg(fullErr))
					}
					continue
				}
				if n < 0 || n > i {
					t.Fatalf("prefix %q: n = %d", prefix, n)
				}
				// The unused tail must parse to nothing, without error.
				rest, n2, err := parse(prefix[n:], tc.lim, !tc.unauth)
				if len(rest) != 0 || n2 != 0 || err != nil {
					t.Fatalf("prefix %q: tail %q is not an incomplete prefix: %s %d %v", prefix, prefix[n:], fmtCmds(rest), n2, err)
				}
			}
		})
	}
}

func TestReader(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in)
			readers := map[string]func() io.Reader{
				"whole":    func() io.Reader { return bytes.NewReader(in) },
				"one byte": func() io.Reader { return &oneByteReader{data: in} },
			}
			for name, mk := range readers {
				if err := checkReaderMatchesParse(in, mk(), tc.lim, !tc.unauth); err != nil {
					t.Errorf("%s: %v", name, err)
				}
			}
			// The expected outcome, independently of parse.
			rd := NewReader(bytes.NewReader(in), tc.lim)
			rd.SetAuthenticated(!tc.unauth)
			cmds, err := readAll(rd)
			if !cmdsEqual(cmds, toCmds(tc.want)) {
				t.Errorf("commands %s, want %s", fmtCmds(cmds), fmtCmds(toCmds(tc.want)))
			}
			var want error = io.ErrUnexpectedEOF
			switch {
			case tc.err != "":
				want = &ProtocolError{Msg: tc.err}
			case tc.wantN() == len(in):
				want = io.EOF
			}
			if errMsg(err) != errMsg(want) {
				t.Errorf("error %q, want %q", errMsg(err), errMsg(want))
			}
		})
	}
}

// TestReaderSplits feeds every case in two reads, split at every byte.
func TestReaderSplits(t *testing.T) {
	for _, tc := range parseCases {
		if len(tc.in) > 1000 {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in)
			for i := 0; i <= len(in); i++ {
				r := &chunkReader{chunks: [][]byte{append([]byte(nil), in[:i]...), append([]byte(nil), in[i:]...)}}
				if err := checkReaderMatchesParse(in, r, tc.lim, !tc.unauth); err != nil {
					t.Fatalf("split at %d: %v", i, err)
				}
			}
		})
	}
}

// TestImmediateErrors checks that oversized declarations fail as soon as the
// header line is complete, without waiting for (or reading) more data.
func TestImmediateErrors(t *testing.T) {
	for _, tc := range []struct{ in, err string }{
		{"*1\r\n$1099511627776\r\n", "invalid bulk length"},
		{"*10000000\r\n", "invalid multibulk length"},
		{"*2\r\n$3\r\nGET\r\n$536870913\r\n", "invalid bulk length"},
	} {
		// All at once, then block.
		rd := NewReader(&blockingReader{data: []byte(tc.in)}, Limits{})
		if _, err := rd.ReadCommand(); errMsg(err) != "proto: "+tc.err {
			t.Errorf("%q: error %q, want %q", tc.in, errMsg(err), tc.err)
		}
		// Byte at a time, then block.
		rd = NewReader(io.MultiReader(&oneByteReader{data: []byte(tc.in)}, &blockingReader{}), Limits{})
		if _, err := rd.ReadCommand(); errMsg(err) != "proto: "+tc.err {
			t.Errorf("%q one byte: error %q, want %q", tc.in, errMsg(err), tc.err)
		}
	}
}

func TestReaderStickyProtocolError(t *testing.T) {
	rd := NewReader(strings.NewReader("PING\r\n*x\r\nPING\r\n"), Limits{})
	if cmd, err := rd.ReadCommand(); err != nil || string(cmd[0]) != "PING" {
		t.Fatalf("first command: %q %v", cmd, err)
	}
	for i := 0; i < 3; i++ {
		if _, err := rd.ReadCommand(); errMsg(err) != "proto: invalid multibulk length" {
			t.Fatalf("call %d: error %q", i, errMsg(err))
		}
	}
}

func TestReaderReadErrors(t *testing.T) {
	boom := errors.New("boom")
	// A read error mid-request is returned as is, and a later call resumes.
	r := &scriptReader{steps: []scriptStep{
		{data: "*2\r\n$3\r\nGET\r\n$1"},
		{err: boom},
		{data: "\r\nk\r\nPING\r\n"},
		{err: boom},
	}}
	rd := NewReader(r, Limits{})
	if _, err := rd.ReadCommand(); err != boom {
		t.Fatalf("error %v, want boom", err)
	}
	cmd, err := rd.ReadCommand()
	if err != nil || fmtCmds([][][]byte{cmd}) != `["GET" "k"]` {
		t.Fatalf("got %q %v", cmd, err)
	}
	if rd.Buffered() != 6 {
		t.Errorf("Buffered() = %d, want 6", rd.Buffered())
	}
	cmd, err = rd.ReadCommand()
	if err != nil || string(cmd[0]) != "PING" {
		t.Fatalf("got %q %v", cmd, err)
	}
	if rd.Buffered() != 0 {
		t.Errorf("Buffered() = %d, want 0", rd.Buffered())
	}
	if _, err := rd.ReadCommand(); err != boom {
		t.Fatalf("error %v, want boom", err)
	}
	if _, err := rd.ReadCommand(); err != io.EOF {
		t.Fatalf("error %v, want EOF", err)
	}

	// Data returned together with EOF is used.
	rd = NewReader(&scriptReader{steps: []scriptStep{{data: "PING\r\n", err: io.EOF}}}, Limits{})
	if cmd, err := rd.ReadCommand(); err != nil || string(cmd[0]) != "PING" {
		t.Fatalf("got %q %v", cmd, err)
	}
	if _, err := rd.ReadCommand(); err != io.EOF {
		t.Fatalf("error %v, want EOF", err)
	}

	// A reader that never makes progress.
	rd = NewReader(&scriptReader{steps: []scriptStep{{}}, repeat: true}, Limits{})
	if _, err := rd.ReadCommand(); err != io.ErrNoProgress {
		t.Fatalf("error %v, want ErrNoProgress", err)
	}

	// EOF inside a multibulk request whose bytes were all consumed.
	rd = NewReader(strings.NewReader("*2\r\n$1\r\na\r\n"), Limits{})
	if _, err := rd.ReadCommand(); err != io.ErrUnexpectedEOF {
		t.Fatalf("error %v, want ErrUnexpectedEOF", err)
	}
}

type scriptStep struct {
	data string
	err  error
}

type scriptReader struct {
	steps  []scriptStep
	repeat bool
}

func (r *scriptReader) Read(p []byte) (int, error) {
	if len(r.steps) == 0 {
		return 0, io.EOF
	}
	s := &r.steps[0]
	n := copy(p, s.data)
	s.data = s.data[n:]
	if s.data != "" {
		return n, nil
	}
	err := s.err
	if !r.repeat {
		r.steps = r.steps[1:]
	}
	return n, err
}

func TestBuffered(t *testing.T) {
	in := "*1\r\n$4\r\nPING\r\nPING\r\n*1\r\n$4\r\nPI"
	rd := NewReader(strings.NewReader(in), Limits{})
	if rd.Buffered() != 0 {
		t.Fatalf("Buffered() = %d before reading", rd.Buffered())
	}
	wantBuffered := []int{len(in) - 14, len(in) - 20}
	for i, want := range wantBuffered {
		if _, err := rd.ReadCommand(); err != nil {
			t.Fatal(err)
		}
		if rd.Buffered() != want {
			t.Errorf("after command %d: Buffered() = %d, want %d", i, rd.Buffered(), want)
		}
	}
	if _, err := rd.ReadCommand(); err != io.ErrUnexpectedEOF {
		t.Fatalf("error %v, want ErrUnexpectedEOF", err)
	}
}

// TestBeforeRead: the hook runs before every read of the underlying
// reader and never while a complete request is buffered; its error stops
// ReadCommand without a read.
func TestBeforeRead(t *testing.T) {
	src := &chunkReader{chunks: [][]byte{
		[]byte("*1\r\n$4\r\nPING\r\nPING\r\n*2\r\n$3\r\nGET"),
		[]byte("\r\n$1\r\nk\r\n"),
	}}
	rd := NewReader(src, Limits{})
	var trace []string
	rd.SetBeforeRead(func() error {
		trace = append(trace, "read")
		return nil
	})
	for range 3 {
		cmd, err := rd.ReadCommand()
		if err != nil {
			t.Fatal(err)
		}
		trace = append(trace, string(cmd[0]))
	}
	if got := strings.Join(trace, " "); got != "read PING PING read GET" {
		t.Fatalf("trace %q, want the hook before each read only", got)
	}
	stop := errors.New("stop")
	rd.SetBeforeRead(func() error { return stop })
	if _, err := rd.ReadCommand(); err != stop {
		t.Fatalf("error %v, want the hook's", err)
	}
}

func TestSetAuthenticated(t *testing.T) {
	in := "*11\r\n" + rep("$1\r\na\r\n", 11)
	rd := NewReader(strings.NewReader(in+in), Limits{})
	rd.SetAuthenticated(false)
	if _, err := rd.ReadCommand(); errMsg(err) != "proto: unauthenticated multibulk length" {
		t.Fatalf("error %q", errMsg(err))
	}

	rd = NewReader(strings.NewReader("AUTH pw\r\n"+in+"*1\r\n$16385\r\n"), Limits{})
	rd.SetAuthenticated(false)
	if cmd, err := rd.ReadCommand(); err != nil || string(cmd[0]) != "AUTH" {
		t.Fatalf("got %q %v", cmd, err)
	}
	rd.SetAuthenticated(true)
	if cmd, err := rd.ReadCommand(); err != nil || len(cmd) != 11 {
		t.Fatalf("got %q %v", cmd, err)
	}
	rd.SetAuthenticated(false)
	if _, err := rd.ReadCommand(); errMsg(err) != "proto: unauthenticated bulk length" {
		t.Fatalf("error %q", errMsg(err))
	}
}

// TestNoAliasing checks that returned arguments are not overwritten by later
// reads or by changes to Parse's input.
func TestNoAliasing(t *testing.T) {
	var in []byte
	for i := 0; i < 5000; i++ {
		in = append(in, "*2\r\n$3\r\nSET\r\n$5\r\nvalue\r\nSET key value\r\n"...)
	}
	rd := NewReader(bytes.NewReader(in), Limits{})
	var all [][][]byte
	for {
		cmd, err := rd.ReadCommand()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, cmd)
	}
	if len(all) != 10000 {
		t.Fatalf("%d commands", len(all))
	}
	for i, cmd := range all {
		if string(cmd[0]) != "SET" || string(cmd[len(cmd)-1]) != "value" {
			t.Fatalf("command %d corrupted: %s", i, fmtCmds([][][]byte{cmd}))
		}
	}

	b := []byte("*1\r\n$3\r\nabc\r\nxyz\r\n")
	cmds, _, _ := Parse(b, Limits{})
	for i := range b {
		b[i] = '!'
	}
	if fmtCmds(cmds) != `["abc"]["xyz"]` {
		t.Fatalf("Parse result aliases its input: %s", fmtCmds(cmds))
	}
}

// TestLongLineOneByte feeds long lines a byte at a time after a pipelined
// request, exercising buffer compaction and growth.
func TestLongLineOneByte(t *testing.T) {
	in := "PING\r\n" + rep("x", 40000) + " " + rep("y", 25000) + "\r\n*1\r\n$" + rep("0", 30000) + "5\r\nhello\r\n"
	rd := NewReader(&oneByteReader{data: []byte(in)}, Limits{})
	cmds, err := readAll(rd)
	// Redis's string2ll rejects leading zeros.
	if errMsg(err) != "proto: invalid bulk length" || len(cmds) != 2 {
		t.Fatalf("error %q after %d commands", errMsg(err), len(cmds))
	}
	in = "PING\r\n" + rep("x", 40000) + " " + rep("y", 25000) + "\r\n*1\r\n$5" + "\r\nhello\r\n" + rep("z", 70000)
	rd = NewReader(&oneByteReader{data: []byte(in)}, Limits{})
	cmds, err = readAll(rd)
	if errMsg(err) != "proto: too big inline request" {
		t.Fatalf("error %q", errMsg(err))
	}
	if len(cmds) != 3 || len(cmds[1]) != 2 || len(cmds[1][0]) != 40000 || len(cmds[1][1]) != 25000 || string(cmds[2][0]) != "hello" {
		t.Fatalf("unexpected commands")
	}
}
