package conformance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRedisDebugMatchesRedisServer: DEBUG is refused by default, as in
// Redis 7.0; with enable-debug-command local (set by the node's
// --redis-conf file, as redis-server takes it from its own), SLEEP,
// SET-ACTIVE-EXPIRE, OBJECT, HELP and the errors of the others match
// redis-server's, with DEBUG OBJECT's address and LRU clock masked.
func TestRedisDebugMatchesRedisServer(t *testing.T) {
	refused := []string{"DEBUG HELP", "DEBUG SLEEP 0", "DEBUG FOO", "DEBUG"}
	diffMaskedWithRedis(t, startGateway(t), refused...)

	conf := filepath.Join(t.TempDir(), "redis.conf")
	if err := os.WriteFile(conf, []byte("enable-debug-command local\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, "--redis-conf", conf)
	allowed := []string{
		"CONFIG GET enable-debug-command", "CONFIG SET enable-debug-command yes",
		"DEBUG SLEEP 0", "DEBUG SLEEP x", "DEBUG SLEEP 0.01", "DEBUG SLEEP -1", "DEBUG SLEEP", "DEBUG FOO",
		"DEBUG SET-ACTIVE-EXPIRE 0", "DEBUG SET-ACTIVE-EXPIRE 1", "DEBUG SET-ACTIVE-EXPIRE", "DEBUG HELP",
		"SET s hello", "SET n 12", "SET big " + strings.Repeat("ab", 40), "HSET h f v", "SADD si 1 2 3", "SADD ss a b", "ZADD z 1 a",
		"DEBUG OBJECT s", "DEBUG OBJECT n", "DEBUG OBJECT big", "DEBUG OBJECT h", "DEBUG OBJECT si", "DEBUG OBJECT ss", "DEBUG OBJECT z",
		"DEBUG OBJECT nokey", "DEBUG OBJECT a b",
	}
	serverArgs := []string{"--enable-debug-command", "local"}
	diffMaskedWithRedisArgs(t, g, serverArgs, allowed...)
	diffMaskedWithRedisArgs(t, g, serverArgs, append([]string{"HELLO 3", "FLUSHALL"}, allowed...)...)

	// DEBUG SLEEP holds its own connection only; the latency monitor
	// and the slow log see it.
	ctx := testCtx(t)
	a, b := g.redisClient(2), g.redisClient(2)
	r(a.ConfigSet(ctx, "latency-monitor-threshold", "100").Result()).must(t, "CONFIG SET")
	done := make(chan time.Duration, 1)
	start := time.Now()
	go func() {
		a.Do(ctx, "DEBUG", "SLEEP", "0.3")
		done <- time.Since(start)
	}()
	r(b.Ping(ctx).Result()).must(t, "PING during DEBUG SLEEP")
	if d := <-done; d < 300*time.Millisecond {
		t.Fatalf("DEBUG SLEEP 0.3 answered after %v", d)
	}
	latest := r(b.Do(ctx, "LATENCY", "LATEST").Slice()).must(t, "LATENCY LATEST")
	if len(latest) != 1 {
		t.Fatalf("LATENCY LATEST = %v", latest)
	}
	ev := latest[0].([]any)
	if ev[0] != "command" || ev[2].(int64) < 300 || ev[3].(int64) < 300 {
		t.Fatalf("LATENCY LATEST = %v", latest)
	}
	if h := r(b.Do(ctx, "LATENCY", "HISTORY", "command").Slice()).must(t, "LATENCY HISTORY"); len(h) != 1 {
		t.Fatalf("LATENCY HISTORY command = %v", h)
	}
	doctor := r(b.Do(ctx, "LATENCY", "DOCTOR").Text()).must(t, "LATENCY DOCTOR")
	if !strings.Contains(doctor, "command: 1 latency spikes") {
		t.Fatalf("LATENCY DOCTOR = %q", doctor)
	}
	slow := r(b.Do(ctx, "SLOWLOG", "GET", "1").Slice()).must(t, "SLOWLOG GET 1")
	if e := slow[0].([]any); len(slow) != 1 || e[2].(int64) < 300000 || e[3].([]any)[1] != "SLEEP" {
		t.Fatalf("SLOWLOG GET 1 = %v", slow)
	}
	if n := r(b.Do(ctx, "LATENCY", "RESET").Int()).must(t, "LATENCY RESET"); n != 1 {
		t.Fatalf("LATENCY RESET = %d", n)
	}
}
