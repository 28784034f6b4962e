package conformance

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// trackingScript exercises CLIENT TRACKING's, CLIENT CACHING's,
// CLIENT GETREDIR's and CLIENT TRACKINGINFO's replies and errors.
var trackingScript = strings.Join([]string{
	"CLIENT TRACKINGINFO", "CLIENT GETREDIR", "CLIENT CACHING yes", "CLIENT CACHING",
	"CLIENT TRACKING", "CLIENT TRACKING maybe", "CLIENT TRACKING on foo", "CLIENT TRACKING on REDIRECT",
	"CLIENT TRACKING on REDIRECT x", "CLIENT TRACKING on REDIRECT 999999", "CLIENT TRACKING on PREFIX a",
	"CLIENT TRACKING on BCAST OPTIN", "CLIENT TRACKING on OPTIN OPTOUT", "CLIENT TRACKING on BCAST PREFIX a PREFIX ab",
	"CLIENT TRACKING on BCAST PREFIX b PREFIX b", "CLIENT TRACKINGINFO",
	"CLIENT TRACKING on", "CLIENT GETREDIR", "CLIENT TRACKINGINFO", "CLIENT CACHING yes", "CLIENT CACHING no",
	"CLIENT CACHING maybe", "CLIENT TRACKING on BCAST", "CLIENT TRACKING on OPTIN", "CLIENT TRACKINGINFO",
	"CLIENT CACHING yes", "CLIENT TRACKINGINFO", "GET x", "CLIENT TRACKINGINFO", "CLIENT TRACKING on OPTOUT",
	"CLIENT TRACKING on OPTIN NOLOOP", "CLIENT TRACKINGINFO", "CLIENT TRACKING off", "CLIENT TRACKINGINFO",
	"CLIENT TRACKING on OPTOUT", "CLIENT CACHING no", "CLIENT TRACKINGINFO", "CLIENT TRACKING off",
	"CLIENT TRACKING on BCAST PREFIX user: PREFIX obj:", "CLIENT TRACKINGINFO", "CLIENT TRACKING on BCAST PREFIX user:1",
	"CLIENT TRACKING on BCAST PREFIX obj PREFIX z", "CLIENT TRACKING on BCAST PREFIX q", "CLIENT TRACKINGINFO",
	"CLIENT TRACKING on", "CLIENT TRACKING off", "CLIENT TRACKING on BCAST", "CLIENT TRACKINGINFO",
	"CLIENT TRACKING on BCAST NOLOOP", "CLIENT TRACKINGINFO", "CLIENT TRACKING OFF", "CLIENT GETREDIR",
	"CLIENT TRACKING ON NOLOOP", "RESET", "CLIENT TRACKINGINFO",
}, "\n") + "\n"

// TestRedisTrackingMatchesRedisServer diffs CLIENT TRACKING's options,
// checks and state against redis-server, in RESP2 and RESP3.
func TestRedisTrackingMatchesRedisServer(t *testing.T) {
	g := startGateway(t)
	diffScriptsWithRedis(t, g, trackingScript)
}

// A trackStep is one command of a pushes script: conn sends cmd. A step
// marked hide runs without its reply recorded (replies that differ
// between servers: HELLO's, client ids). "$ID<n>" in cmd is replaced by
// connection n's client id.
type trackStep struct {
	conn int
	cmd  string
	hide bool
}

// trackingPushScript: three RESP3 connections (0, 1 tracking; 2 writes)
// and a RESP2 pair (3 subscribed to __redis__:invalidate, 4 redirecting
// to it).
var trackingPushScript = []trackStep{
	{0, "HELLO 3", true}, {1, "HELLO 3", true},
	// Default mode: a key read is invalidated once, on its next write.
	{0, "CLIENT TRACKING on", false}, {0, "GET a", false}, {0, "MGET b c", false},
	{2, "SET a 1", false}, {2, "SET a 2", false}, {0, "GET a", false}, {2, "DEL a b", false},
	{0, "EXISTS c", false}, {0, "HGET h f", false}, {2, "HSET h f v", false}, {2, "MSET c 1 h2 2", false},
	// Writes of keys nobody read, and failed writes, invalidate nothing.
	{0, "GET s", false}, {2, "SET s v", false}, {0, "GET s", false}, {2, "LPUSH s x", false}, {2, "SET s w", false},
	// The client's own write invalidates after its reply; NOLOOP skips it,
	// and the key leaves the table all the same.
	{0, "GET own", false}, {0, "SET own 1", false}, {0, "CLIENT TRACKING on NOLOOP", false}, {0, "GET own", false},
	{0, "SET own 2", false}, {2, "SET own 3", false}, {0, "GET own", false}, {2, "INCR own", false},
	// A flush invalidates everything, with a null.
	{0, "GET f", false}, {2, "FLUSHDB", false}, {2, "SET f 1", false}, {0, "CLIENT TRACKING off", false},
	{0, "GET g", false}, {2, "SET g 1", false},
	// OPTIN: only reads after CLIENT CACHING yes are tracked.
	{0, "CLIENT TRACKING on OPTIN", false}, {0, "GET p", false}, {2, "SET p 1", false},
	{0, "CLIENT CACHING yes", false}, {0, "GET p", false}, {0, "GET q", false}, {2, "MSET p 2 q 2", false},
	{0, "CLIENT TRACKING off", false},
	// OPTOUT: every read but those after CLIENT CACHING no.
	{0, "CLIENT TRACKING on OPTOUT", false}, {0, "CLIENT CACHING no", false}, {0, "GET p", false},
	{0, "GET q", false}, {2, "MSET p 3 q 3", false}, {0, "CLIENT TRACKING off", false},
	// BCAST: every key under the prefixes, one message per prefix.
	{1, "CLIENT TRACKING on BCAST PREFIX user: PREFIX obj:", false}, {2, "SET user:1 a", false},
	{2, "MSET user:2 x obj:1 y other z", false}, {2, "DEL user:1 user:2 nokey", false}, {2, "SET x y", false},
	{1, "CLIENT TRACKING off", false}, {1, "CLIENT TRACKING on BCAST NOLOOP", false}, {1, "SET mine 1", false},
	{2, "SET theirs 1", false}, {2, "FLUSHALL", false}, {1, "CLIENT TRACKING off", false},
	// RESP2 clients hear through a redirect to a subscribed client.
	{3, "CLIENT ID", true}, {3, "SUBSCRIBE __redis__:invalidate", false},
	{4, "CLIENT TRACKING on REDIRECT $ID3", false}, {4, "GET r", false}, {2, "SET r 1", false},
	{4, "CLIENT TRACKING on BCAST PREFIX r REDIRECT $ID3", false}, {4, "CLIENT TRACKING off", false},
	{4, "CLIENT TRACKING on BCAST PREFIX r REDIRECT $ID3", false}, {2, "SET r 2", false}, {2, "SET rr 2", false},
	{2, "FLUSHALL", false},
	// A RESP2 client without a redirect hears nothing.
	{4, "CLIENT TRACKING off", false}, {4, "CLIENT TRACKING on", false}, {4, "GET r2", false}, {2, "SET r2 1", false},
}

// TestRedisTrackingPushesMatchRedisServer runs trackingPushScript on raw
// connections to the gateway and to redis-server and diffs everything
// each connection receives, invalidation pushes included: after each
// command, every other connection sends PING and records what arrives
// before its PONG.
func TestRedisTrackingPushesMatchRedisServer(t *testing.T) {
	g := startGateway(t)
	got := trackingTranscript(t, "tcp", g.addr("redis"), trackingPushScript)
	want := trackingTranscript(t, "unix", startRedisServer(t), trackingPushScript)
	if n := strings.Count(want, "invalidate"); n < 15 {
		t.Fatalf("redis-server sent %d invalidations, the script means more:\n%s", n, want)
	}
	gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range min(len(gl), len(wl)) {
		if gl[i] != wl[i] {
			t.Fatalf("line %d differs: gateway %q, redis-server %q\n--- gateway:\n%s\n--- redis-server:\n%s", i+1, gl[i], wl[i], got, want)
		}
	}
	if len(gl) != len(wl) {
		t.Fatalf("transcripts differ in length\n--- gateway:\n%s\n--- redis-server:\n%s", got, want)
	}
}

// trackingTranscript runs script on fresh connections to addr.
func trackingTranscript(t *testing.T, network, addr string, script []trackStep) string {
	t.Helper()
	n := 0
	for _, s := range script {
		n = max(n, s.conn+1)
	}
	conns := make([]*rawConn, n)
	ids := make([]string, n)
	for i := range conns {
		conns[i] = dialRaw(t, network, addr)
		id := conns[i].do(t, "CLIENT ID")
		ids[i] = strings.TrimSuffix(strings.TrimPrefix(id, ":"), "\r\n")
	}
	subscribed := make([]bool, n)
	var b strings.Builder
	for _, s := range script {
		cmd := s.cmd
		for i, id := range ids {
			cmd = strings.ReplaceAll(cmd, "$ID"+strconv.Itoa(i), id)
		}
		reply := conns[s.conn].do(t, cmd)
		if strings.HasPrefix(cmd, "SUBSCRIBE") {
			subscribed[s.conn] = true
		}
		if !s.hide {
			fmt.Fprintf(&b, "%d> %s\n%s", s.conn, s.cmd, reply)
		}
		for i, c := range conns {
			if i == s.conn {
				continue
			}
			if pushes := c.drain(t, subscribed[i]); pushes != "" {
				fmt.Fprintf(&b, "%d< %s", i, pushes)
			}
		}
		// The connection's own invalidations follow its reply.
		if pushes := conns[s.conn].drain(t, subscribed[s.conn]); pushes != "" {
			fmt.Fprintf(&b, "%d< %s", s.conn, pushes)
		}
	}
	return b.String()
}

// dialRaw opens a raw RESP connection to addr, closed when the test
// ends.
func dialRaw(t *testing.T, network, addr string) *rawConn {
	t.Helper()
	nc, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawConn{nc: nc, rd: bufio.NewReader(nc)}
}

// rawConn is a RESP connection read frame by frame.
type rawConn struct {
	nc net.Conn
	rd *bufio.Reader
}

// do sends cmd (words split on single spaces, "~" standing for a space
// inside a word) and returns its reply.
func (c *rawConn) do(t *testing.T, cmd string) string {
	t.Helper()
	c.send(t, cmd)
	return c.frame(t)
}

func (c *rawConn) send(t *testing.T, cmd string) {
	t.Helper()
	words := strings.Split(cmd, " ")
	out := "*" + strconv.Itoa(len(words)) + "\r\n"
	for _, w := range words {
		w = strings.ReplaceAll(w, "~", " ")
		out += "$" + strconv.Itoa(len(w)) + "\r\n" + w + "\r\n"
	}
	c.nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.nc.Write([]byte(out)); err != nil {
		t.Fatal(err)
	}
}

// drain sends PING and returns the frames that arrive before its answer
// (PONG, or in a RESP2 subscriber ["pong", ""]).
func (c *rawConn) drain(t *testing.T, subscribed bool) string {
	t.Helper()
	c.send(t, "PING")
	pong := "+PONG\r\n"
	if subscribed {
		pong = "*2\r\n$4\r\npong\r\n$0\r\n\r\n"
	}
	var b strings.Builder
	for {
		f := c.frame(t)
		if f == pong {
			return b.String()
		}
		b.WriteString(f)
	}
}

// frame reads one whole RESP2/RESP3 frame, as sent.
func (c *rawConn) frame(t *testing.T) string {
	t.Helper()
	line, err := c.rd.ReadString('\n')
	if err != nil {
		t.Fatalf("reading a reply: %v", err)
	}
	n, _ := strconv.Atoi(strings.TrimSuffix(line[1:], "\r\n"))
	switch line[0] {
	case '$', '=', '!':
		if n < 0 {
			return line
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(c.rd, buf); err != nil {
			t.Fatal(err)
		}
		return line + string(buf)
	case '*', '>', '~':
		for range max(n, 0) {
			line += c.frame(t)
		}
	case '%', '|':
		for range 2 * n {
			line += c.frame(t)
		}
	}
	return line
}

// TestRedisTrackingExpiryAndTableLimit: a key read and then expired is
// invalidated when it expires; past tracking-table-max-keys a key read
// is forgotten, and its reader invalidated, as Redis evicts the table.
func TestRedisTrackingExpiryAndTableLimit(t *testing.T) {
	g := startGateway(t)
	reader, writer := dialRaw(t, "tcp", g.addr("redis")), dialRaw(t, "tcp", g.addr("redis"))
	reader.do(t, "HELLO 3")
	for _, cmd := range []string{"CLIENT TRACKING on", "GET ex"} {
		if r := reader.do(t, cmd); r != "+OK\r\n" && r != "_\r\n" {
			t.Fatalf("%s: %q", cmd, r)
		}
	}
	writer.do(t, "SET ex 1 PX 50")
	if got, want := reader.drain(t, false), ">2\r\n$10\r\ninvalidate\r\n*1\r\n$2\r\nex\r\n"; got != want {
		t.Fatalf("after SET: %q, want %q", got, want)
	}
	reader.do(t, "GET ex")
	var got string
	waitFor(t, "the expiry's invalidation", 10*time.Second, func() bool {
		got += reader.drain(t, false)
		return got != ""
	})
	if want := ">2\r\n$10\r\ninvalidate\r\n*1\r\n$2\r\nex\r\n"; got != want {
		t.Fatalf("after expiry: %q, want %q", got, want)
	}

	writer.do(t, "CONFIG SET tracking-table-max-keys 2")
	reader.do(t, "MGET k1 k2")
	if got := reader.drain(t, false); got != "" {
		t.Fatalf("two keys in a table of two: %q", got)
	}
	reader.do(t, "GET k3")
	got = reader.drain(t, false)
	if !strings.HasPrefix(got, ">2\r\n$10\r\ninvalidate\r\n*1\r\n$2\r\nk") || strings.Count(got, "invalidate") != 1 {
		t.Fatalf("a third key in a table of two: %q, want one key's invalidation", got)
	}
	writer.do(t, "MSET k1 1 k2 2 k3 3")
	if got := reader.drain(t, false); strings.Count(got, "invalidate") != 2 {
		t.Fatalf("writing the three keys: %q, want the two tracked keys' invalidations", got)
	}
}

// TestRedisTrackingClientFlagsMatchRedisServer diffs CLIENT INFO's
// tracking flags and redir field, and the broken redirect a closed
// target leaves, against redis-server.
func TestRedisTrackingClientFlagsMatchRedisServer(t *testing.T) {
	g := startGateway(t)
	got := trackingFlags(t, "tcp", g.addr("redis"))
	want := trackingFlags(t, "unix", startRedisServer(t))
	if got != want {
		t.Fatalf("gateway:\n%s\nredis-server:\n%s", got, want)
	}
}

var clientInfoFields = regexp.MustCompile(` (flags|redir)=(\S*)`)

func trackingFlags(t *testing.T, network, addr string) string {
	target, tracker, writer := dialRaw(t, network, addr), dialRaw(t, network, addr), dialRaw(t, network, addr)
	id := strings.TrimSuffix(strings.TrimPrefix(target.do(t, "CLIENT ID"), ":"), "\r\n")
	var b strings.Builder
	info := func() {
		for _, m := range clientInfoFields.FindAllStringSubmatch(tracker.do(t, "CLIENT INFO"), -1) {
			v := m[2]
			if v == id {
				v = "ID"
			} else if m[1] == "flags" {
				if v = strings.ReplaceAll(v, "U", ""); v == "" { // redis-server's unix socket
					v = "N"
				}
			}
			fmt.Fprintf(&b, "%s=%s ", m[1], v)
		}
		b.WriteString(strings.ReplaceAll(tracker.do(t, "CLIENT TRACKINGINFO"), ":"+id+"\r\n", ":ID\r\n") + "\n")
	}
	info()
	tracker.do(t, "CLIENT TRACKING on BCAST PREFIX x REDIRECT "+id)
	info()
	target.nc.Close()
	waitFor(t, "the redirect target to go", 10*time.Second, func() bool {
		return !strings.Contains(writer.do(t, "CLIENT LIST"), "id="+id+" ")
	})
	writer.do(t, "SET x 1")
	info()
	tracker.do(t, "CLIENT TRACKING off")
	tracker.do(t, "CLIENT TRACKING on OPTIN")
	info()
	return b.String()
}
