package conformance

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// rawExchange sends raw bytes on a fresh connection and returns everything
// the server sent back until it closed the connection.
func rawExchange(t *testing.T, addr string, payload []byte) string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	// Write in the background: the server may close before reading it all.
	go conn.Write(payload)
	reply, err := io.ReadAll(conn)
	if err != nil && !isReset(err) {
		t.Fatalf("reading reply: %v (got %q)", err, reply)
	}
	return string(reply)
}

func isReset(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe"))
}

// ping checks that the gateway still answers on a new connection.
func ping(t *testing.T, addr string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("gateway no longer accepts connections: %v", err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	conn.Write([]byte("PING\r\n"))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || line != "+PONG\r\n" {
		t.Fatalf("PING after bad input = %q, %v", line, err)
	}
}

// TestBadInput sends malformed and hostile requests. Each gets Redis's
// protocol error and a closed connection; the node stays up.
func TestBadInput(t *testing.T) {
	g := startGateway(t)
	addr := g.addr("redis")
	many := append([]byte("*10000000\r\n"), bytes.Repeat([]byte("$1\r\nx\r\n"), 100000)...)
	cases := []struct {
		name    string
		payload []byte
		want    string
	}{
		{"bulk length 2^40", []byte("*2\r\n$3\r\nGET\r\n$1099511627776\r\nxx"), "-ERR Protocol error: invalid bulk length\r\n"},
		{"10^7 multibulk items", many, "-ERR Protocol error: invalid multibulk length\r\n"},
		{"negative bulk length", []byte("*1\r\n$-5\r\n"), "-ERR Protocol error: invalid bulk length\r\n"},
		{"bulk length not a number", []byte("*1\r\n$abc\r\n"), "-ERR Protocol error: invalid bulk length\r\n"},
		{"multibulk count not a number", []byte("*x\r\n"), "-ERR Protocol error: invalid multibulk length\r\n"},
		{"missing $", []byte("*2\r\n$4\r\nPING\r\n:1\r\n"), "-ERR Protocol error: expected '$', got ':'\r\n"},
		{"unbalanced quotes", []byte("SET \"k v\r\n"), "-ERR Protocol error: unbalanced quotes in request\r\n"},
		{"inline line too long", bytes.Repeat([]byte("a"), 70*1024), "-ERR Protocol error: too big inline request\r\n"},
		{"bulk count line too long", append([]byte("*1\r\n$"), bytes.Repeat([]byte("1"), 70*1024)...), "-ERR Protocol error: too big bulk count string\r\n"},
		{"good command then garbage", []byte("PING\r\n*1\r\n$-1x\r\n"), "+PONG\r\n-ERR Protocol error: invalid bulk length\r\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := rawExchange(t, addr, c.payload); got != c.want {
				t.Fatalf("reply %q, want %q", got, c.want)
			}
			ping(t, addr)
		})
	}

	// Dropped connections: half a request, then gone; a pipeline of
	// writes whose replies are never read.
	for range 20 {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conn.Write([]byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\nhal"))
		conn.Close()
		conn, err = net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		for i := range 100 {
			fmt.Fprintf(&b, "SET drop%d %d\r\n", i, i)
		}
		conn.Write(b.Bytes())
		conn.Close()
	}
	ping(t, addr)
}

// TestBadInputMemoryBounded declares huge requests on many connections at
// once and sends only part of them: memory grows with what clients send,
// not with what they declare.
func TestBadInputMemoryBounded(t *testing.T) {
	g := startGateway(t)
	addr := g.addr("redis")
	ping(t, addr)
	base := g.rssBytes()
	const conns = 16
	const sent = 8 << 20
	var wg sync.WaitGroup
	var open []net.Conn
	var mu sync.Mutex
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			open = append(open, conn)
			mu.Unlock()
			// A legal 512 MiB bulk (the default limit), of which only
			// 8 MiB ever arrives.
			conn.Write([]byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870912\r\n"))
			chunk := bytes.Repeat([]byte("x"), 64<<10)
			for n := 0; n < sent; n += len(chunk) {
				if _, err := conn.Write(chunk); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	// Declared counts and lengths that are refused outright cost nothing.
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rawExchange(t, addr, []byte("*10000000\r\n$1099511627776\r\n"))
		}()
	}
	wg.Wait()
	ping(t, addr)
	peak := g.rssBytes()
	for _, c := range open {
		c.Close()
	}
	grew := peak - base
	t.Logf("RSS %d MiB before, %d MiB with %d connections holding %d MiB each of a declared 512 MiB bulk", base>>20, peak>>20, conns, sent>>20)
	// What was declared is 16 x 512 MiB = 8 GiB; what was sent is 128 MiB.
	if grew > 1<<30 {
		t.Fatalf("RSS grew by %d MiB: memory follows declared lengths", grew>>20)
	}
	ping(t, addr)
}

// TestConfiguredLimits: the limits are settings; a gateway started with
// small ones enforces them.
func TestConfiguredLimits(t *testing.T) {
	g := startGateway(t, "--proto-max-bulk-len", "1024", "--max-multibulk-len", "8", "--client-query-buffer-limit", "4096")
	addr := g.addr("redis")
	big := fmt.Sprintf("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2048\r\n%s\r\n", strings.Repeat("v", 2048))
	if got := rawExchange(t, addr, []byte(big)); got != "-ERR Protocol error: invalid bulk length\r\n" {
		t.Fatalf("2 KiB bulk under a 1 KiB limit: %q", got)
	}
	nine := "*9\r\n" + strings.Repeat("$1\r\na\r\n", 9)
	if got := rawExchange(t, addr, []byte(nine)); got != "-ERR Protocol error: invalid multibulk length\r\n" {
		t.Fatalf("9 arguments under a limit of 8: %q", got)
	}
	ok := fmt.Sprintf("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1000\r\n%s\r\nQUIT\r\n", strings.Repeat("v", 1000))
	if got := rawExchange(t, addr, []byte(ok)); got != "+OK\r\n+OK\r\n" {
		t.Fatalf("1000-byte SET under the limits: %q", got)
	}
	ping(t, addr)
}
