package resp

import (
	"bytes"
	"errors"
	"testing"
)

// fuzzLimits are the limit sets each fuzz input is checked under: the
// defaults and tiny ones that the fuzzer can actually hit.
var fuzzLimits = []Limits{
	{},
	{MaxMultibulkLen: 4, MaxBulkLen: 8, MaxInlineLen: 12, MaxQueryBuffer: 16},
}

func FuzzParse(f *testing.F) {
	for _, tc := range parseCases {
		if len(tc.in) <= 4096 {
			f.Add([]byte(tc.in))
		}
	}
	f.Add([]byte("*2\r\n$3\r\nGET\r\n$3\r\nkey\r\nSET k \"v\\x00\"\r\n*0\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, lim := range fuzzLimits {
			for _, auth := range []bool{true, false} {
				cmds, n, err := parse(data, lim, auth)
				if err != nil {
					var pe *ProtocolError
					if !errors.As(err, &pe) {
						t.Fatalf("non-protocol error %T %v", err, err)
					}
					if bytes.ContainsAny([]byte(pe.Error()), "\r\n") {
						t.Fatalf("error %q contains a line break", pe.Error())
					}
				}
				if n < 0 || n > len(data) {
					t.Fatalf("n = %d out of range [0, %d]", n, len(data))
				}
				for _, cmd := range cmds {
					if len(cmd) == 0 {
						t.Fatal("empty command returned")
					}
					enc := encode(cmd)
					again, n2, err2 := Parse(enc, Limits{})
					if err2 != nil || n2 != len(enc) || len(again) != 1 || !cmdsEqual(again, [][][]byte{cmd}) {
						t.Fatalf("round trip of %s: %s n=%d/%d err=%v", fmtCmds([][][]byte{cmd}), fmtCmds(again), n2, len(enc), err2)
					}
				}
				if err == nil {
					// The unused tail is an incomplete request: it parses to
					// nothing, and stays so as a suffix of the used bytes.
					rest, n3, err3 := parse(data[n:], lim, auth)
					if len(rest) != 0 || n3 != 0 || err3 != nil {
						t.Fatalf("tail %q parsed to %s n=%d err=%v", data[n:], fmtCmds(rest), n3, err3)
					}
				}
				if err := checkReaderMatchesParse(data, &oneByteReader{data: data}, lim, auth); err != nil {
					t.Fatalf("one byte reader (lim %+v auth %v): %v", lim, auth, err)
				}
				if err := checkReaderMatchesParse(data, bytes.NewReader(data), lim, auth); err != nil {
					t.Fatalf("whole reader (lim %+v auth %v): %v", lim, auth, err)
				}
			}
		}
	})
}
