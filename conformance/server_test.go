package conformance

import (
	"fmt"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestRedisConnectionCommandsMatchRedisServer diffs connection and server
// commands whose answers do not depend on the server's identity.
func TestRedisConnectionCommandsMatchRedisServer(t *testing.T) {
	g := startGateway(t)
	script := strings.Join([]string{
		"CLIENT SETNAME myconn", "CLIENT GETNAME", "CLIENT SETNAME \"bad name\"", "CLIENT FOO", "CLIENT NO-EVICT on", "CLIENT NO-EVICT maybe",
		"COMMAND GETKEYS SET a b", "COMMAND GETKEYS MSET a 1 b 2", "COMMAND GETKEYS PING", "COMMAND GETKEYS NOSUCH", "COMMAND GETKEYS GET",
		"COMMAND FOO", "CONFIG GET maxclients", "CONFIG GET databases", "CONFIG SET nosuch 1", "CONFIG FOO", "CONFIG GET",
		"AUTH x", "AUTH a b", "HELLO 4", "HELLO x", "PING a b", "ECHO",
		"SET k v", "RESET", "CLIENT GETNAME", "GET k", "MULTI", "RESET", "EXEC",
	}, "\n") + "\n"
	diffWithRedis(t, g, script)
}

// TestRedisServerCommands checks INFO, CLIENT LIST/KILL, TIME, SAVE.
func TestRedisServerCommands(t *testing.T) {
	g := startGateway(t)
	ctx := testCtx(t)
	c := g.redisClient(2)
	c.Set(ctx, "a", 1, 0)
	c.Set(ctx, "b", 1, 100e9)
	info := r(c.Info(ctx).Result()).must(t, "INFO")
	for _, want := range []string{"# Server", "redis_version:", "# Clients", "connected_clients:", "# Memory", "used_memory:", "# Stats", "# Keyspace", "db0:keys=2,expires=1", "# Ensemble", "node_id:n1", "sequencer:n1"} {
		if !strings.Contains(info, want) {
			t.Fatalf("INFO lacks %q:\n%s", want, info)
		}
	}
	if ks := r(c.Info(ctx, "keyspace").Result()).must(t, "INFO keyspace"); strings.Contains(ks, "# Server") || !strings.Contains(ks, "db0:") {
		t.Fatalf("INFO keyspace:\n%s", ks)
	}
	other := g.redisClient(3)
	other.Do(ctx, "CLIENT", "SETNAME", "victim")
	id := r(other.ClientID(ctx).Result()).must(t, "CLIENT ID")
	list := r(c.ClientList(ctx).Result()).must(t, "CLIENT LIST")
	if !strings.Contains(list, fmt.Sprintf("id=%d ", id)) || !strings.Contains(list, "name=victim") {
		t.Fatalf("CLIENT LIST:\n%s", list)
	}
	if n := r(c.Do(ctx, "CLIENT", "KILL", "ID", id).Int()).must(t, "CLIENT KILL"); n != 1 {
		t.Fatalf("CLIENT KILL ID = %d", n)
	}
	tm := r(c.Time(ctx).Result()).must(t, "TIME")
	if tm.Year() < 2024 {
		t.Fatalf("TIME = %v", tm)
	}
	if r(c.Save(ctx).Result()).must(t, "SAVE") != "OK" {
		t.Fatal("SAVE")
	}
	if last := r(c.LastSave(ctx).Result()).must(t, "LASTSAVE"); last < tm.Unix()-5 {
		t.Fatalf("LASTSAVE %d before TIME %d", last, tm.Unix())
	}
}

// TestRedisAuth: with a password set, nothing but AUTH/HELLO/QUIT/RESET
// passes before authenticating, and the pre-AUTH request limits are
// Redis's tight ones.
func TestRedisAuth(t *testing.T) {
	g := startGateway(t, "--requirepass", "s3cret")
	addr := g.addr("redis")
	if got := rawExchange(t, addr, []byte("GET k\r\nAUTH wrong\r\nAUTH s3cret\r\nGET k\r\nQUIT\r\n")); got != "-NOAUTH Authentication required.\r\n-WRONGPASS invalid username-password pair or user is disabled.\r\n+OK\r\n$-1\r\n+OK\r\n" {
		t.Fatalf("exchange: %q", got)
	}
	if got := rawExchange(t, addr, []byte("*11\r\n")); got != "-ERR Protocol error: unauthenticated multibulk length\r\n" {
		t.Fatalf("11 arguments before AUTH: %q", got)
	}
	if got := rawExchange(t, addr, []byte("*2\r\n$3\r\nGET\r\n$20000\r\n")); got != "-ERR Protocol error: unauthenticated bulk length\r\n" {
		t.Fatalf("20000-byte bulk before AUTH: %q", got)
	}
	ctx := testCtx(t)
	good := redis.NewClient(&redis.Options{Addr: addr, Password: "s3cret"})
	defer good.Close()
	if err := good.Set(ctx, "k", strings.Repeat("v", 100000), 0).Err(); err != nil {
		t.Fatalf("authenticated big SET: %v", err)
	}
	bad := redis.NewClient(&redis.Options{Addr: addr, Password: "nope", MaxRetries: -1})
	defer bad.Close()
	if err := bad.Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
		t.Fatalf("wrong password: %v", err)
	}
}

// configScript sets and reads CONFIG parameters of every kind (bools,
// integers and their bounds, memory values and units, enums, aliases,
// the parameters with a syntax of their own, immutable and protected
// ones), and checks that a CONFIG SET with a bad value changes nothing.
var configScript = strings.Join([]string{
	"CONFIG SET hz 20", "CONFIG GET hz", "CONFIG SET hz -1", "CONFIG SET hz abc", "CONFIG SET hz 5 hz 6",
	"CONFIG SET hz 30 appendonly maybe", "CONFIG GET hz",
	"CONFIG SET lazyfree-lazy-eviction YES", "CONFIG GET lazyfree-lazy-eviction", "CONFIG SET lazyfree-lazy-eviction 1",
	"CONFIG SET maxmemory-policy ALLKEYS-LRU", "CONFIG GET maxmemory-policy", "CONFIG SET maxmemory-policy lru",
	"CONFIG SET hash-max-ziplist-entries 256", "CONFIG GET hash-max-listpack-entries", "CONFIG GET hash-max-ziplist-entries",
	"CONFIG SET list-max-listpack-size -3", "CONFIG GET list-max-ziplist-size", "CONFIG SET list-max-listpack-size 0",
	"CONFIG SET zset-max-listpack-value 1kb", "CONFIG GET zset-max-ziplist-value", "CONFIG SET zset-max-listpack-value 2k",
	"CONFIG GET zset-max-listpack-value", "CONFIG SET zset-max-listpack-value 1GB", "CONFIG GET zset-max-listpack-value",
	"CONFIG SET zset-max-listpack-value -1", "CONFIG SET zset-max-listpack-value 1tb",
	"CONFIG SET set-max-intset-entries 1024", "CONFIG GET set-max-intset-entries",
	"CONFIG SET slowlog-log-slower-than -1", "CONFIG GET slowlog-log-slower-than",
	`CONFIG SET client-output-buffer-limit "normal 1mb 2mb 60"`, "CONFIG GET client-output-buffer-limit",
	`CONFIG SET client-output-buffer-limit "replica 1 2 3 pubsub 4 5 6"`, "CONFIG GET client-output-buffer-limit",
	`CONFIG SET client-output-buffer-limit "normal 1 2"`, `CONFIG SET client-output-buffer-limit "foo 1 2 3"`,
	`CONFIG SET client-output-buffer-limit "normal x 2 3"`,
	`CONFIG SET oom-score-adj-values "300 200 100"`, "CONFIG GET oom-score-adj-values",
	`CONFIG SET oom-score-adj-values "1 2"`, `CONFIG SET oom-score-adj-values "-3000 0 0"`,
	`CONFIG SET latency-tracking-info-percentiles "50 99.5"`, "CONFIG GET latency-tracking-info-percentiles",
	"CONFIG SET latency-tracking-info-percentiles 101", "CONFIG SET latency-tracking-info-percentiles abc",
	"CONFIG SET maxmemory-clients 10%", "CONFIG GET maxmemory-clients", "CONFIG SET maxmemory-clients 101%",
	"CONFIG SET maxmemory-clients abc", "CONFIG SET maxmemory-clients 1mb", "CONFIG GET maxmemory-clients",
	`CONFIG SET save "3600 1 300 100"`, "CONFIG GET save", "CONFIG SET save 1", `CONFIG SET save "10 x"`,
	"CONFIG SET cluster-announce-hostname a_b", "CONFIG SET daemonize yes", "CONFIG SET dir /tmp",
	"CONFIG SET nosuch 1", "CONFIG GET nosuch", "CONFIG SET hz", "CONFIG SET proto-max-bulk-len 1",
	"CONFIG GET stream-node-max-bytes", "CONFIG GET active-defrag-cycle-max", "CONFIG SET notify-keyspace-events Q",
	"CONFIG SET hz 10 lazyfree-lazy-eviction no maxmemory-policy noeviction", "CONFIG GET hz",
}, "\n") + "\n"

// TestRedisConfigMatchesRedisServer diffs CONFIG SET and GET against
// redis-server.
func TestRedisConfigMatchesRedisServer(t *testing.T) {
	diffWithRedis(t, startGateway(t), configScript)
}
