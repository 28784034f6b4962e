package conformance

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestRedisConfFile starts a gateway from a redis.conf: its parameters are
// what CONFIG GET reports, requirepass and maxclients take effect,
// settings the gateway cannot honour are ignored with the value it has,
// a flag overrides the file, and a bad directive stops the start with
// the file and line.
func TestRedisConfFile(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "redis.conf")
	write := func(text string) {
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(`# as redis-server would read it
requirepass s3cret
maxclients 50
appendonly no
save 900 1 300 10
hash-max-listpack-entries 64
timeout 300
tcp-keepalive 60
maxmemory 100mb
maxmemory-policy allkeys-lru
databases 16
lua-instruction-limit 1000000
`)
	g := startGateway(t, "--redis-conf", conf)
	ctx := testCtx(t)
	rdb := redis.NewClient(&redis.Options{Addr: g.addr("redis"), Password: "s3cret", MaxRetries: -1})
	defer rdb.Close()
	for name, want := range map[string]string{
		"requirepass":               "s3cret",
		"maxclients":                "50",
		"appendonly":                "yes", // every write is in the durable log
		"save":                      "900 1 300 10",
		"hash-max-listpack-entries": "64",
		"timeout":                   "300",
		"tcp-keepalive":             "60",
		"maxmemory":                 "0",          // replicated: set with CONFIG SET, a file's value is ignored
		"maxmemory-policy":          "noeviction", // likewise
		"lua-instruction-limit":     "1000000",
	} {
		got, err := rdb.ConfigGet(ctx, name).Result()
		if err != nil {
			t.Fatal(err)
		}
		if got[name] != want {
			t.Errorf("CONFIG GET %s = %q, want %q", name, got[name], want)
		}
	}
	anon := redis.NewClient(&redis.Options{Addr: g.addr("redis"), MaxRetries: -1})
	defer anon.Close()
	if err := anon.Set(ctx, "k", "v", 0).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
		t.Errorf("a client without the file's password: %v", err)
	}

	over := startGateway(t, "--redis-conf", conf, "--requirepass", "fromflag")
	byFlag := redis.NewClient(&redis.Options{Addr: over.addr("redis"), Password: "fromflag", MaxRetries: -1})
	defer byFlag.Close()
	if err := byFlag.Ping(ctx).Err(); err != nil {
		t.Errorf("--requirepass did not override the file: %v", err)
	}

	for bad, want := range map[string]string{
		"maxclients 50\nmaxclients abc\n":       "redis.conf:2: maxclients \"abc\"",
		"hash-max-listpack-entries\n":           "redis.conf:1: hash-max-listpack-entries",
		"no-such-directive 1\n":                 "Bad directive",
		"rename-command CONFIG \"\"\n":          "rename-command is not supported",
		"notify-keyspace-events \"\"\nport 0\n": "port 0",
	} {
		write(bad)
		cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		out, err := exec.CommandContext(cctx, gatewayBin, "serve", "--redis-conf", conf, "--data-dir", t.TempDir(),
			"--redis-addr", "127.0.0.1:0", "--zk-addr", "127.0.0.1:0", "--pg-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0").CombinedOutput()
		cancel()
		if err == nil || !strings.Contains(string(out), want) {
			t.Errorf("%q: %v, output lacks %q:\n%s", bad, err, want, out)
		}
	}
}
