package conformance

import (
	"regexp"
	"strings"
	"testing"
)

// slowlogTimes are the time and duration of a SLOWLOG GET entry (an
// array of six: id, unix time, microseconds, ...), and a client
// address (a TCP one on the gateway, the unix socket's on redis-server).
var (
	slowlogTimes = regexp.MustCompile(`\*6\r\n:(\d+)\r\n:\d+\r\n:\d+\r\n`)
	clientAddr   = regexp.MustCompile(`\$\d+\r\n(127\.0\.0\.1:\d+|/[^\r]*:0)\r\n`)
	// helloReply names the server, its version and the client's id.
	helloReply = regexp.MustCompile(`(?s)^%7\r\n.*?modules\r\n\*0\r\n`)
	// debugObject are DEBUG OBJECT's value address and LRU clock.
	debugObject = regexp.MustCompile(`Value at:0x[0-9a-f]+ (.*) lru:\d+ lru_seconds_idle:\d+`)
)

func maskSlowlog(s string) string {
	s = slowlogTimes.ReplaceAllString(s, "*6\r\n:$1\r\n:TIME\r\n:MICROS\r\n")
	s = helloReply.ReplaceAllString(s, "HELLO\r\n")
	s = debugObject.ReplaceAllString(s, "Value at:ADDR $1 lru:LRU")
	return clientAddr.ReplaceAllString(s, "ADDR\r\n")
}

// diffMaskedWithRedis is diffRawWithRedis with times and client
// addresses masked.
func diffMaskedWithRedis(t *testing.T, g *gateway, lines ...string) {
	t.Helper()
	diffMaskedWithRedisArgs(t, g, nil, lines...)
}

// diffMaskedWithRedisArgs is diffMaskedWithRedis against a redis-server
// started with serverArgs.
func diffMaskedWithRedisArgs(t *testing.T, g *gateway, serverArgs []string, lines ...string) {
	t.Helper()
	payload := strings.Join(lines, "\r\n") + "\r\nQUIT\r\n"
	want := maskSlowlog(rawExchangeOn(t, "unix", startRedisServer(t, serverArgs...), payload))
	got := maskSlowlog(rawExchangeOn(t, "tcp", g.addr("redis"), payload))
	if got != want {
		t.Fatalf("payload %q:\ngateway:      %q\nredis-server: %q", payload, got, want)
	}
}

// TestRedisSlowlogMatchesRedisServer logs every command
// (slowlog-log-slower-than 0) and diffs SLOWLOG's replies, truncation
// of long command lines included, with the times and addresses masked;
// then LATENCY's replies with the monitor off, in RESP2 and RESP3.
func TestRedisSlowlogMatchesRedisServer(t *testing.T) {
	g := startGateway(t)
	long := strings.Repeat("x", 200)
	many := "RPUSH many" + strings.Repeat(" a", 40)
	script := []string{
		"SLOWLOG LEN", "SLOWLOG GET", "CONFIG SET slowlog-log-slower-than 0", "CONFIG GET slowlog-max-len", "CONFIG GET slowlog-log-slower-than",
		"CLIENT SETNAME sl", "SET k v", "GET k", "SET big " + long, many, "PING",
		"SLOWLOG GET 3", "SLOWLOG LEN", "SLOWLOG GET -1", "SLOWLOG GET -2", "SLOWLOG GET x", "SLOWLOG GET 1 2",
		"SLOWLOG RESET", "SLOWLOG LEN x", "SLOWLOG FOO", "SLOWLOG HELP",
		"CONFIG SET slowlog-max-len 2", "SET a 1", "SET b 2", "SET c 3", "SLOWLOG LEN", "SLOWLOG GET",
		"CONFIG SET slowlog-log-slower-than -1", "SLOWLOG RESET", "SET d 4", "SLOWLOG LEN",
		"CONFIG SET slowlog-log-slower-than -2", "CONFIG SET slowlog-max-len -1", "CONFIG SET latency-monitor-threshold x",
		"LATENCY LATEST", "LATENCY HISTORY command", "LATENCY RESET", "LATENCY RESET command fast-command", "LATENCY DOCTOR",
		"LATENCY FOO", "LATENCY HISTORY", "LATENCY LATEST x", "CONFIG GET latency-monitor-threshold",
	}
	diffMaskedWithRedis(t, g, script...)
	diffMaskedWithRedis(t, startGateway(t), append([]string{"HELLO 3"}, script...)...)
}
