package conformance

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// rawExchangeOn sends payload on a new connection to network/addr and
// returns everything the server answers until it closes.
func rawExchangeOn(t *testing.T, network, addr, payload string) string {
	t.Helper()
	conn, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	go conn.Write([]byte(payload))
	reply, err := io.ReadAll(conn)
	if err != nil && !isReset(err) {
		t.Fatalf("reading reply: %v (got %q)", err, reply)
	}
	return string(reply)
}

// diffRawWithRedis sends one inline-command payload to the gateway and
// to a fresh redis-server and requires identical bytes back.
func diffRawWithRedis(t *testing.T, g *gateway, lines ...string) {
	t.Helper()
	payload := strings.Join(lines, "\r\n") + "\r\nQUIT\r\n"
	want := rawExchangeOn(t, "unix", startRedisServer(t), payload)
	got := rawExchangeOn(t, "tcp", g.addr("redis"), payload)
	if got != want {
		t.Fatalf("payload %q:\ngateway:      %q\nredis-server: %q", payload, got, want)
	}
}

// TestRedisClientReplyMatchesRedisServer diffs CLIENT REPLY and the
// argument errors of CLIENT PAUSE, GETREDIR and TRACKINGINFO,
// byte for byte over a raw connection, in RESP2 and RESP3.
func TestRedisClientReplyMatchesRedisServer(t *testing.T) {
	g := startGateway(t)
	lines := []string{
		"CLIENT REPLY SKIP", "SET a 1", "GET a", "CLIENT REPLY SKIP", "NOSUCH x", "INCR a",
		"CLIENT REPLY OFF", "SET b 2", "NOSUCH", "GET b", "CLIENT REPLY SKIP", "GET a", "CLIENT REPLY ON", "GET b",
		"CLIENT REPLY maybe", "CLIENT REPLY", "CLIENT REPLY on x",
		"CLIENT PAUSE x", "CLIENT PAUSE -1", "CLIENT PAUSE 10 foo", "CLIENT PAUSE x foo", "CLIENT PAUSE 9223372036854775807",
		"CLIENT PAUSE 0", "CLIENT PAUSE 0 WRITE", "CLIENT PAUSE", "CLIENT UNPAUSE", "CLIENT UNPAUSE x",
		"CLIENT GETREDIR", "CLIENT TRACKINGINFO", "MULTI", "SET c 3", "EXEC", "GET c",
	}
	diffRawWithRedis(t, g, lines...)
	resp3 := append([]string{"FLUSHALL"}, lines...)
	// HELLO's reply names the server; compare only what follows it.
	payload := "HELLO 3\r\n" + strings.Join(resp3, "\r\n") + "\r\nQUIT\r\n"
	want := rawExchangeOn(t, "unix", startRedisServer(t), payload)
	got := rawExchangeOn(t, "tcp", g.addr("redis"), payload)
	cut := func(s string) string { return s[strings.Index(s, "+OK\r\n"):] }
	if cut(got) != cut(want) {
		t.Fatalf("RESP3:\ngateway:      %q\nredis-server: %q", cut(got), cut(want))
	}
}

// TestRedisClientPause: a WRITE pause holds another client's write, not
// its reads, until CLIENT UNPAUSE; an ALL pause holds reads too, until
// its timeout.
func TestRedisClientPause(t *testing.T) {
	g := startGateway(t)
	ctx := testCtx(t)
	admin, other := g.redisClient(2), g.redisClient(3)
	blocked := func() string {
		info := r(admin.Info(ctx, "clients").Result()).must(t, "INFO clients")
		for _, l := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(l, "blocked_clients:"); ok {
				return v
			}
		}
		t.Fatalf("INFO clients lacks blocked_clients:\n%s", info)
		return ""
	}
	r(admin.Set(ctx, "k", "before", 0).Result()).must(t, "SET")
	r(admin.Do(ctx, "CLIENT", "PAUSE", 60000, "WRITE").Result()).must(t, "CLIENT PAUSE WRITE")
	if v := r(other.Get(ctx, "k").Result()).must(t, "GET while paused"); v != "before" {
		t.Fatalf("GET = %q", v)
	}
	done := make(chan error, 1)
	go func() { done <- other.Set(ctx, "k", "after", 0).Err() }()
	waitFor(t, "the write to be held", 10*time.Second, func() bool { return blocked() == "1" })
	select {
	case err := <-done:
		t.Fatalf("SET answered (%v) during a WRITE pause", err)
	default:
	}
	if v := r(admin.Get(ctx, "k").Result()).must(t, "GET"); v != "before" {
		t.Fatalf("GET during the pause = %q", v)
	}
	r(admin.Do(ctx, "CLIENT", "UNPAUSE").Result()).must(t, "CLIENT UNPAUSE")
	if err := <-done; err != nil {
		t.Fatalf("SET after UNPAUSE: %v", err)
	}
	if v := r(admin.Get(ctx, "k").Result()).must(t, "GET"); v != "after" {
		t.Fatalf("GET after UNPAUSE = %q", v)
	}

	// ALL holds reads as well, here until the timeout ends it.
	start := time.Now()
	r(admin.Do(ctx, "CLIENT", "PAUSE", 400).Result()).must(t, "CLIENT PAUSE ALL")
	if v := r(other.Get(ctx, "k").Result()).must(t, "GET during ALL"); v != "after" {
		t.Fatalf("GET = %q", v)
	}
	if d := time.Since(start); d < 350*time.Millisecond {
		t.Fatalf("GET answered after %v during a 400ms ALL pause", d)
	}
	if blocked() != "0" {
		t.Fatal("a client still counted as blocked after the pause")
	}
	// CLIENT NO-TOUCH (Redis 7.2) is accepted; reads never touch here.
	if v := r(admin.Do(ctx, "CLIENT", "NO-TOUCH", "on").Result()).must(t, "CLIENT NO-TOUCH"); v != "OK" {
		t.Fatalf("CLIENT NO-TOUCH on = %v", v)
	}
	if err := admin.Do(ctx, "CLIENT", "NO-TOUCH", "x").Err(); err == nil || err.Error() != "ERR syntax error" {
		t.Fatalf("CLIENT NO-TOUCH x: %v", err)
	}
}
