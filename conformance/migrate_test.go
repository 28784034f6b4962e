package conformance

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// migrateScript diffs MIGRATE's argument errors, NOKEY and a target that
// refuses the connection (port 1) against redis-server.
var migrateScript = strings.Join([]string{
	"SET k v", "MIGRATE 127.0.0.1 1 nokey 0 1000", `MIGRATE 127.0.0.1 1 "" 0 1000 KEYS nokey1 nokey2`,
	`MIGRATE 127.0.0.1 1 "" 0 1000 KEYS`, "MIGRATE 127.0.0.1 1 k 0 abc", "MIGRATE 127.0.0.1 1 k x 1000",
	"MIGRATE 127.0.0.1 1 k 0 1000 FOO", "MIGRATE 127.0.0.1 1 k 0 1000 AUTH", "MIGRATE 127.0.0.1 1 k 0 1000 AUTH2 u",
	"MIGRATE 127.0.0.1 1 k 0 1000 KEYS k", "MIGRATE 127.0.0.1 1 k 0 1000 COPY REPLACE FOO",
	"MIGRATE 127.0.0.1 1 k 0 1000", "MIGRATE 127.0.0.1 1 k 0 1000 COPY AUTH pw", `MIGRATE 127.0.0.1 1 "" 0 100 KEYS k nokey`,
	"MIGRATE 127.0.0.1 1 k 0", "GET k",
}, "\n") + "\n"

func TestRedisMigrateMatchesRedisServer(t *testing.T) {
	diffScriptsWithRedis(t, startGateway(t), migrateScript)
}

// TestRedisMigrateWithRedisServer migrates keys of every type from the
// gateway to a real redis-server 7.0 and back: values, TTLs, COPY,
// REPLACE, the destination database, AUTH and AUTH2, and the target's
// errors.
func TestRedisMigrateWithRedisServer(t *testing.T) {
	g := startGateway(t)
	ctx := testCtx(t)
	gw := g.redisClient(2)
	port := freePort(t)
	startRedisServer(t, "--port", port, "--bind", "127.0.0.1", "--requirepass", "secret")
	rs := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + port, Password: "secret", Protocol: 2, MaxRetries: -1})
	defer rs.Close()
	migrate := func(args ...any) (string, error) {
		return gw.Do(ctx, append([]any{"MIGRATE", "127.0.0.1", port}, args...)...).Text()
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(gw.Set(ctx, "s", "string", time.Hour).Err())
	must(gw.RPush(ctx, "l", "a", "b", "c").Err())
	must(gw.HSet(ctx, "h", "f", "v", "g", "w").Err())
	must(gw.SAdd(ctx, "set", "x", "y").Err())
	must(gw.ZAdd(ctx, "z", redis.Z{Score: 1.5, Member: "m"}).Err())
	dumps := map[string]string{}
	for _, k := range []string{"s", "l", "h", "set", "z"} {
		dumps[k] = gw.Dump(ctx, k).Val()
	}

	if r, err := migrate("", 0, 5000, "AUTH", "wrong", "KEYS", "s", "l"); err == nil || err.Error() != "ERR Target instance replied with error: WRONGPASS invalid username-password pair or user is disabled." {
		t.Fatalf("MIGRATE with a wrong password: %q, %v", r, err)
	}
	if n := gw.Exists(ctx, "s", "l").Val(); n != 2 {
		t.Fatalf("a failed MIGRATE deleted keys: %d left", n)
	}
	if r, err := migrate("", 0, 5000, "AUTH", "secret", "KEYS", "s", "l", "nokey"); r != "OK" || err != nil {
		t.Fatalf("MIGRATE s l: %q, %v", r, err)
	}
	if n := gw.Exists(ctx, "s", "l").Val(); n != 0 {
		t.Fatalf("MIGRATE left %d keys behind", n)
	}
	if ttl := rs.TTL(ctx, "s").Val(); ttl < 59*time.Minute || ttl > time.Hour {
		t.Fatalf("TTL on the target: %v", ttl)
	}
	if got := rs.LRange(ctx, "l", 0, -1).Val(); strings.Join(got, ",") != "a,b,c" {
		t.Fatalf("list on the target: %v", got)
	}
	if r, err := migrate("h", 3, 5000, "COPY", "AUTH2", "default", "secret"); r != "OK" || err != nil {
		t.Fatalf("MIGRATE h to db 3 with COPY: %q, %v", r, err)
	}
	if gw.Exists(ctx, "h").Val() != 1 {
		t.Fatal("MIGRATE COPY deleted the key")
	}
	rs3 := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + port, Password: "secret", DB: 3, Protocol: 2, MaxRetries: -1})
	defer rs3.Close()
	if d := rs3.Dump(ctx, "h").Val(); d != dumps["h"] {
		t.Fatalf("hash in db 3: DUMP %q, want %q", d, dumps["h"])
	}
	must(rs.Set(ctx, "set", "taken", 0).Err())
	if r, err := migrate("", 0, 5000, "AUTH", "secret", "KEYS", "set", "z"); err == nil || err.Error() != "ERR Target instance replied with error: BUSYKEY Target key name already exists." {
		t.Fatalf("MIGRATE onto an existing key: %q, %v", r, err)
	}
	if gw.Exists(ctx, "set").Val() != 1 || gw.Exists(ctx, "z").Val() != 0 {
		t.Fatal("the key the target refused must stay, the one it took must go")
	}
	if r, err := migrate("set", 0, 5000, "REPLACE", "AUTH", "secret"); r != "OK" || err != nil {
		t.Fatalf("MIGRATE REPLACE: %q, %v", r, err)
	}
	if d := rs.Dump(ctx, "z").Val(); d != dumps["z"] {
		t.Fatalf("z on the target: DUMP %q, want %q", d, dumps["z"])
	}
	// A set is a hash table in redis-server 7.0: its DUMP order is its own.
	if got := rs.SMembers(ctx, "set").Val(); len(got) != 2 || !slices.Contains(got, "x") || !slices.Contains(got, "y") {
		t.Fatalf("set on the target: %v", got)
	}

	// Back: redis-server migrates into the gateway (RESTORE, with SELECT).
	if r, err := rs.Do(ctx, "MIGRATE", "127.0.0.1", g.port("redis"), "", 0, 5000, "KEYS", "s", "l", "set").Text(); r != "OK" || err != nil {
		t.Fatalf("redis-server MIGRATE to the gateway: %q, %v", r, err)
	}
	if got := gw.SMembers(ctx, "set").Val(); len(got) != 2 || !slices.Contains(got, "x") || !slices.Contains(got, "y") {
		t.Fatalf("set back on the gateway: %v", got)
	}
	for _, k := range []string{"s", "l"} {
		if d := gw.Dump(ctx, k).Val(); d != dumps[k] {
			t.Fatalf("%s back on the gateway: DUMP %q, want %q", k, d, dumps[k])
		}
	}
	if ttl := gw.TTL(ctx, "s").Val(); ttl < 59*time.Minute || ttl > time.Hour {
		t.Fatalf("TTL back on the gateway: %v", ttl)
	}
	// A cluster node's MIGRATE sends RESTORE-ASKING: accepted.
	if r, err := gw.Do(ctx, "RESTORE-ASKING", "z2", 0, dumps["z"]).Text(); r != "OK" || err != nil {
		t.Fatalf("RESTORE-ASKING: %q, %v", r, err)
	}
	if d := gw.Dump(ctx, "z2").Val(); d != dumps["z"] {
		t.Fatalf("RESTORE-ASKING stored %q", d)
	}
}
