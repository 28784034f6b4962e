package resp

import (
	"io"
	"runtime"
	"testing"
)

// patternReader serves a header, then size bytes of 'x' in chunks of at
// most 32 KiB, then EOF, without allocating.
type patternReader struct {
	header []byte
	size   int
}

func (r *patternReader) Read(p []byte) (int, error) {
	if len(r.header) > 0 {
		n := copy(p, r.header)
		r.header = r.header[n:]
		return n, nil
	}
	if r.size == 0 {
		return 0, io.EOF
	}
	n := min(len(p), r.size, 32<<10)
	for i := range p[:n] {
		p[i] = 'x'
	}
	r.size -= n
	return n, nil
}

// allocated returns the bytes allocated while running f.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestMemoryHugeBulkDeclared(t *testing.T) {
	const sent = 1 << 20
	var err error
	got := allocated(func() {
		rd := NewReader(&patternReader{header: []byte("*1\r\n$536870912\r\n"), size: sent}, Limits{})
		_, err = rd.ReadCommand()
	})
	if err != io.ErrUnexpectedEOF {
		t.Fatalf("error %v, want ErrUnexpectedEOF", err)
	}
	if got > 6<<20 {
		t.Fatalf("allocated %d bytes for a request that sent %d bytes", got, sent)
	}
	t.Logf("allocated %d bytes for %d bytes sent", got, sent)

	// The same through Parse.
	in := append([]byte("*1\r\n$536870912\r\n"), make([]byte, sent)...)
	got = allocated(func() {
		_, _, err = Parse(in, Limits{})
	})
	if err != nil {
		t.Fatal(err)
	}
	if got > 3<<20 {
		t.Fatalf("Parse allocated %d bytes for %d bytes of input", got, len(in))
	}
}

func TestMemoryHugeMultibulkDeclared(t *testing.T) {
	var err error
	got := allocated(func() {
		rd := NewReader(&patternReader{header: []byte("*1000000\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n")}, Limits{})
		_, err = rd.ReadCommand()
	})
	if err != io.ErrUnexpectedEOF {
		t.Fatalf("error %v, want ErrUnexpectedEOF", err)
	}
	if got > 256<<10 {
		t.Fatalf("allocated %d bytes", got)
	}
	t.Logf("allocated %d bytes", got)
}

// TestMemoryLargeBulkComplete checks that a legitimately large bulk is read
// correctly through the direct-read path and costs about twice its size.
func TestMemoryLargeBulkComplete(t *testing.T) {
	const size = 8 << 20
	var cmd [][]byte
	var err error
	got := allocated(func() {
		rd := NewReader(&patternReader{header: []byte("*2\r\n$3\r\nSET\r\n$8388608\r\n"), size: size}, Limits{})
		cmd, err = rd.ReadCommand()
	})
	if err != io.ErrUnexpectedEOF {
		t.Fatalf("error %v", err)
	}
	if got > 3*size {
		t.Fatalf("allocated %d bytes for a %d-byte bulk", got, size)
	}

	r := io.MultiReader(&patternReader{header: []byte("*2\r\n$3\r\nSET\r\n$8388608\r\n"), size: size}, &patternReader{header: []byte("\r\nPING\r\n")})
	rd := NewReader(r, Limits{})
	cmd, err = rd.ReadCommand()
	if err != nil || len(cmd) != 2 || len(cmd[1]) != size || cap(cmd[1]) != size {
		t.Fatalf("got %d args, %v", len(cmd), err)
	}
	for _, c := range cmd[1] {
		if c != 'x' {
			t.Fatal("corrupted bulk")
		}
	}
	if cmd, err = rd.ReadCommand(); err != nil || string(cmd[0]) != "PING" {
		t.Fatalf("got %q %v", cmd, err)
	}
}

func BenchmarkReaderPipelined(b *testing.B) {
	req := []byte("*3\r\n$3\r\nSET\r\n$8\r\nkey:1234\r\n$16\r\nvalue-0123456789\r\n")
	var in []byte
	for i := 0; i < 1000; i++ {
		in = append(in, req...)
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		rd := NewReader(&patternReader{header: in}, Limits{})
		for {
			if _, err := rd.ReadCommand(); err != nil {
				break
			}
		}
	}
}
