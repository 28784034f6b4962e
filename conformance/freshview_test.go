package conformance

import (
	"bufio"
	"fmt"
	"net"
	"testing"
	"time"
)

// TestRedisReadAfterSocketWait: a pipelined read whose bytes arrive after
// the connection's previous read took its view sees every write
// acknowledged before those bytes were sent. Here the second GET is split:
// its first part arrives with the first GET, the rest only after another
// client's SET was acknowledged, so a view kept across the wait for the
// rest would miss the SET.
func TestRedisReadAfterSocketWait(t *testing.T) {
	g := startGateway(t)
	other := g.redisClient(2)
	ctx := testCtx(t)
	nc, err := net.Dial("tcp", g.addr("redis"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	rd := bufio.NewReader(nc)
	line := func() string {
		nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		s, err := rd.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for i := range 20 {
		old, val := fmt.Sprint("old", i), fmt.Sprint("new", i)
		if err := other.Set(ctx, "k", old, 0).Err(); err != nil {
			t.Fatal(err)
		}
		nc.Write([]byte("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*2\r\n$3\r\nGET\r\n"))
		if got := line() + line(); got != fmt.Sprintf("$%d\r\n%s\r\n", len(old), old) {
			t.Fatalf("first GET: %q", got)
		}
		if err := other.Set(ctx, "k", val, 0).Err(); err != nil {
			t.Fatal(err)
		}
		nc.Write([]byte("$1\r\nk\r\n"))
		if got := line() + line(); got != fmt.Sprintf("$%d\r\n%s\r\n", len(val), val) {
			t.Fatalf("round %d: GET completed after SET %s was acknowledged read %q", i, val, got)
		}
	}
}
