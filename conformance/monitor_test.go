package conformance

import (
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// monitorScript is sent, one command at a time, by a client while
// another connection MONITORs: commands shown, refused (unknown, wrong
// arity), admin commands left out, credentials redacted, MULTI, scripts
// and quoting.
var monitorScript = []string{
	"AUTH pw", "AUTH u pw", "HELLO 3 AUTH default pw", "HELLO 2", "SET a 1\"x\"\\\x01\xc3\t\r\n", "GET a",
	"MULTI", "SET b 2", "GET b", "NOSUCH", "EXEC", "MULTI", "SET b 3", "EXEC",
	"WATCH w", "SET w 1", "MULTI", "SET q 1", "EXEC", "EXEC",
	"EVAL redis.call('set','c','3')~return~redis.call('get','c') 0",
	"EVAL_RO return~redis.call('get','c') 0", "EVAL return~redis.call('nosuch') 0",
	"CONFIG GET maxmemory", "CLIENT ID", "CLIENT LIST", "CLIENT KILL ID 999999", "CLIENT NOSUCH", "PING",
	"SELECT 2", "SET x y", "LPUSH x 1", "INCR nokey", "FOO bar", "GET", "SLOWLOG LEN", "CLIENT SETNAME n",
	"SELECT 0", "DEL a b c", "PUBLISH ch msg", "ECHO end",
}

// monitorMask hides what differs between servers: the time and the
// client's address (a script's "lua" stays).
var monitorMask = regexp.MustCompile(`^\+\d+\.\d{6} \[(\d+) (?:\d+\.\d+\.\d+\.\d+:\d+|unix:[^\]]*|(lua|log))\]`)

func maskMonitor(line string) string {
	return monitorMask.ReplaceAllStringFunc(line, func(m string) string {
		g := monitorMask.FindStringSubmatch(m)
		if g[2] != "" {
			return "+T [" + g[1] + " " + g[2] + "]"
		}
		return "+T [" + g[1] + " addr]"
	})
}

// TestRedisMonitorMatchesRedisServer diffs the lines MONITOR shows for
// monitorScript, and what a monitor connection may still do, against
// redis-server.
func TestRedisMonitorMatchesRedisServer(t *testing.T) {
	g := startGateway(t)
	got := monitorTranscript(t, "tcp", g.addr("redis"))
	want := monitorTranscript(t, "unix", startRedisServer(t))
	if got != want {
		t.Fatalf("MONITOR differs\n--- gateway:\n%s\n--- redis-server:\n%s", got, want)
	}
}

// monitorTranscript runs monitorScript against addr and returns the
// masked monitor lines, then the monitor connection's own replies.
func monitorTranscript(t *testing.T, network, addr string) string {
	t.Helper()
	mon, client := dialRaw(t, network, addr), dialRaw(t, network, addr)
	if r := mon.do(t, "MONITOR"); r != "+OK\r\n" {
		t.Fatalf("MONITOR: %q", r)
	}
	for _, cmd := range monitorScript {
		client.do(t, cmd)
	}
	var b strings.Builder
	for {
		line := mon.frame(t)
		b.WriteString(maskMonitor(line))
		if strings.Contains(line, `"end"`) {
			break
		}
	}
	// A monitor is a replica to Redis: no keyspace commands; a second
	// MONITOR is ignored; RESET makes it a client again.
	b.WriteString(mon.do(t, "GET a"))
	mon.send(t, "MONITOR")
	b.WriteString(mon.do(t, "ECHO x"))
	b.WriteString(maskMonitor(mon.frame(t)))
	b.WriteString(mon.do(t, "RESET"))
	b.WriteString(mon.do(t, "GET c"))
	return b.String()
}

// TestRedisMonitorSlowClientDisconnected: a monitor that reads nothing
// is disconnected once its lines pass client-output-buffer-limit's
// normal class, and the node's memory stays bounded meanwhile.
func TestRedisMonitorSlowClientDisconnected(t *testing.T) {
	g := startGateway(t)
	ctx := testCtx(t)
	c := g.redisClient(2)
	if err := c.ConfigSet(ctx, "client-output-buffer-limit", "normal 4mb 2mb 1").Err(); err != nil {
		t.Fatal(err)
	}
	nc, err := net.Dial("tcp", g.addr("redis"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Write([]byte("*1\r\n$7\r\nMONITOR\r\n")); err != nil {
		t.Fatal(err)
	}
	monitors := func() int {
		list, err := c.ClientList(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		return strings.Count(list, "flags=O ")
	}
	waitFor(t, "the monitor", 10*time.Second, func() bool { return monitors() == 1 })
	// 64 MiB of lines, far past the limit and the socket's buffers.
	value := strings.Repeat("v", 64<<10)
	for i := 0; i < 1024 && monitors() > 0; i += 64 {
		p := c.Pipeline()
		for j := range 64 {
			p.Set(ctx, "k", value[:len(value)-j], 0)
		}
		if _, err := p.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the slow monitor's disconnection", 10*time.Second, func() bool { return monitors() == 0 })
	info, err := c.Info(ctx, "memory").Result()
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`used_memory:(\d+)`).FindStringSubmatch(info)
	if m == nil {
		t.Fatalf("no used_memory in %q", info)
	}
	if n, _ := strconv.Atoi(m[1]); n > 256<<20 {
		t.Fatalf("used memory after the slow monitor: %d bytes", n)
	}
}

// TestEnsembleMonitorShowsOtherNodesWrites: a monitor on node 1 shows
// its own clients' commands with their addresses, and the writes node 1
// applies from other nodes' clients as "[db log]", each once, in log
// order; reads on other nodes are theirs alone.
func TestEnsembleMonitorShowsOtherNodesWrites(t *testing.T) {
	e := startEnsemble(t, 3)
	mon := dialRaw(t, "tcp", e.nodes[0].addr("redis"))
	if r := mon.do(t, "MONITOR"); r != "+OK\r\n" {
		t.Fatalf("MONITOR: %q", r)
	}
	ctx := testCtx(t)
	local, remote := e.nodes[0].redisClient(2), e.nodes[1].redisClient(2)
	steps := []func() error{
		func() error { return local.Set(ctx, "a", "1", 0).Err() },
		func() error { return remote.Set(ctx, "b", "2", 0).Err() },
		func() error { return remote.Get(ctx, "b").Err() },
		func() error {
			_, err := remote.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Incr(ctx, "n")
				p.Select(ctx, 1)
				p.Set(ctx, "c", "3", 0)
				return nil
			})
			return err
		},
		func() error { return remote.Eval(ctx, "return redis.call('set', KEYS[1], 'x')", []string{"d"}).Err() },
		// A read on node 1 follows what node 1 applied of the acknowledged writes.
		func() error { return local.Get(ctx, "end").Err() },
	}
	for _, s := range steps {
		if err := s(); err != nil && err != redis.Nil {
			t.Fatal(err)
		}
	}
	var got []string
	for {
		line := mon.frame(t)
		if !strings.Contains(line, `"hello"`) && !strings.Contains(line, `"setinfo"`) { // go-redis's handshake
			got = append(got, maskMonitor(line))
		}
		if strings.Contains(line, `"end"`) {
			break
		}
	}
	want := []string{
		`+T [0 addr] "set" "a" "1"`,
		`+T [0 log] "set" "b" "2"`,
		`+T [0 log] "incr" "n"`, `+T [1 log] "select" "1"`, `+T [1 log] "set" "c" "3"`, `+T [1 log] "EXEC"`,
		`+T [0 log] "eval" "return redis.call('set', KEYS[1], 'x')" "1" "d"`,
		`+T [0 addr] "get" "end"`,
	}
	if strings.Join(got, "") != strings.Join(want, "\r\n")+"\r\n" {
		t.Fatalf("node 1's monitor:\n%s\nwant:\n%s", strings.Join(got, ""), strings.Join(want, "\r\n"))
	}
}
