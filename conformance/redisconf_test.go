package conformance

import (
	"context"
	"fmt"
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
		"maxmemory":                 "104857600", // replicated: proposed through the log at start
		"maxmemory-policy":          "allkeys-lru",
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
		"user alice on >pw +nosuchcommand\n":    "redis.conf:1: user: ERR Error in ACL SETUSER modifier '+nosuchcommand'",
		"user alice on\nuser alice off\n":       "redis.conf:2: user: Duplicate user 'alice'",
		"maxmemory-policy sometimes\n":          "redis.conf:1: maxmemory-policy",
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

// redisConfUsers is a redis.conf with ACL users and eviction settings,
// which are replicated state: the gateway proposes them through the log
// at start.
const redisConfUsers = `user alice on ">pass word" ~app:* +@all -flushall
user bob off >bobpw ~* +get
maxmemory 64mb
maxmemory-policy allkeys-lfu
`

// cliAs runs a redis-cli script on g after AUTH as user, and returns
// its replies, the AUTH's first.
func cliAs(t *testing.T, g *gateway, user, pass, script string) string {
	t.Helper()
	return redisCLI(t, g, fmt.Sprintf("AUTH %s %q\n%s", user, pass, script))
}

// TestRedisConfUsersAndEviction: a redis.conf's user lines and
// maxmemory settings hold on a node started from it and on every node of
// an ensemble started from it (each proposes what the log lacks); at a
// restart the file's values replace what ACL SETUSER and CONFIG SET
// changed since, as redis-server's do.
func TestRedisConfUsersAndEviction(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "redis.conf")
	if err := os.WriteFile(conf, []byte(redisConfUsers), 0o644); err != nil {
		t.Fatal(err)
	}
	const script = "ACL WHOAMI\nCONFIG GET maxmemory\nCONFIG GET maxmemory-policy\nSET app:1 x\nSET other:1 x\nFLUSHALL\n"
	// redis-cli prints an error reply with an empty line after it.
	const want = "OK\nalice\nmaxmemory\n67108864\nmaxmemory-policy\nallkeys-lfu\nOK\n" +
		"NOPERM this user has no permissions to access one of the keys used as arguments\n\n" +
		"NOPERM this user has no permissions to run the 'flushall' command\n\n"
	check := func(t *testing.T, g *gateway) {
		t.Helper()
		if got := cliAs(t, g, "alice", "pass word", script); got != want {
			t.Errorf("as alice:\n%s\nwant:\n%s", got, want)
		}
		if got := cliAs(t, g, "bob", "bobpw", "GET app:1\n"); !strings.HasPrefix(got, "WRONGPASS") {
			t.Errorf("bob is off in the file, yet: %q", got)
		}
	}

	t.Run("one node", func(t *testing.T) {
		g := startGateway(t, "--redis-conf", conf)
		check(t, g)
		// Changed at run time, then restarted: the file's values again.
		if got := cliAs(t, g, "alice", "pass word", "ACL SETUSER alice nopass ~*\nCONFIG SET maxmemory 0\nACL SETUSER carol on nopass +@all\n"); got != "OK\nOK\nOK\nOK\n" {
			t.Fatalf("run-time changes: %q", got)
		}
		if err := g.stop(); err != nil {
			t.Fatalf("stop: %v", err)
		}
		g.restart()
		check(t, g)
		// A user the file does not name is left as it was.
		if got := cliAs(t, g, "carol", "any", "ACL WHOAMI\n"); got != "OK\ncarol\n" {
			t.Errorf("carol after the restart: %q", got)
		}
	})

	t.Run("ensemble", func(t *testing.T) {
		e := startEnsemble(t, 3, "--redis-conf", conf)
		for _, g := range e.nodes[1:] {
			check(t, g)
		}
	})
}
