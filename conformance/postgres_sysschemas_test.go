package conformance

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/redis/go-redis/v9"
)

// The system schemas: the Redis and ZooKeeper APIs' state as read-only
// views in the Postgres API (redis.*, zookeeper.*), read at one view.

func pgConnect(t testing.TB, g *gateway) *pgx.Conn {
	t.Helper()
	ctx := testCtx(t)
	c, err := pgx.Connect(ctx, pgURL(g.addr("postgres")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// pgRows runs a query and returns its rows as text, cells joined by '|'.
func pgRows(t testing.TB, c *pgx.Conn, sql string, args ...any) []string {
	t.Helper()
	rows, err := c.Query(testCtx(t), sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		cells := make([]string, len(vals))
		for i, v := range vals {
			switch x := v.(type) {
			case nil:
				cells[i] = "NULL"
			case []byte:
				cells[i] = fmt.Sprintf("\\x%x", x)
			default:
				cells[i] = fmt.Sprint(x)
			}
		}
		out = append(out, strings.Join(cells, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
}

func wantRows(t testing.TB, what string, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// TestPostgresSystemSchemasEnsemble writes through go-redis on one node
// and go-zookeeper on another, and reads both through pgx on a third.
func TestPostgresSystemSchemasEnsemble(t *testing.T) {
	e := startEnsemble(t, 3)
	ctx := testCtx(t)
	rc := e.nodes[0].redisClient(2)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(rc.Set(ctx, "user:1", "alice", 0).Err())
	must(rc.Set(ctx, "user:2", "bob", time.Hour).Err())
	must(rc.Set(ctx, "bin", "a\xffb", 0).Err())
	must(rc.HSet(ctx, "h", "f1", "v1", "f2", "v2").Err())
	must(rc.RPush(ctx, "l", "a", "b", "c").Err())
	must(rc.LPush(ctx, "l", "z").Err())
	must(rc.SAdd(ctx, "s", "x", "y").Err())
	must(rc.ZAdd(ctx, "z", redisZ(1.5, "m1"), redisZ(-2, "m2")).Err())
	must(rc.XAdd(ctx, &redis.XAddArgs{Stream: "x", ID: "5-1", Values: []any{"f", "1", "g", "2"}}).Err())
	must(rc.XAdd(ctx, &redis.XAddArgs{Stream: "x", ID: "7-0", Values: []any{"f", "3"}}).Err())
	rc1 := redis.NewClient(&redis.Options{Addr: e.nodes[0].addr("redis"), DB: 1})
	defer rc1.Close()
	must(rc1.Set(ctx, "ptr", "/app/a", 0).Err())
	zc := e.nodes[1].zkClient(t)
	mustZK[string](t, "create /app")(zc.Create("/app", []byte("top"), 0, openACL))
	mustZK[string](t, "create /app/a")(zc.Create("/app/a", []byte("1"), 0, openACL))
	mustZK[string](t, "create /app/b")(zc.Create("/app/b", []byte{0xff}, zk.FlagEphemeral, zk.DigestACL(zk.PermRead, "u", "p")))
	mustZK[*zk.Stat](t, "set /app/a")(zc.Set("/app/a", []byte("2"), 0))

	pc := pgConnect(t, e.nodes[2])
	wantRows(t, "redis.keys", pgRows(t, pc, "SELECT db, key, type, ttl_ms > 0 AND ttl_ms <= 3600000, size FROM redis.keys WHERE db = 0 ORDER BY key"),
		"0|bin|string|NULL|3", "0|h|hash|NULL|2", "0|l|list|NULL|4", "0|s|set|NULL|2", "0|user:1|string|NULL|5", "0|user:2|string|true|3", "0|x|stream|NULL|2", "0|z|zset|NULL|2")
	wantRows(t, "redis.strings", pgRows(t, pc, "SELECT key, value, value_bytes FROM redis.strings WHERE db = 0 ORDER BY key"),
		"bin|NULL|\\x61ff62", "user:1|alice|\\x616c696365", "user:2|bob|\\x626f62")
	wantRows(t, "redis.hashes", pgRows(t, pc, "SELECT key, field, value FROM redis.hashes"), "h|f1|v1", "h|f2|v2")
	wantRows(t, "redis.lists", pgRows(t, pc, "SELECT key, idx, value FROM redis.lists"), "l|0|z", "l|1|a", "l|2|b", "l|3|c")
	wantRows(t, "redis.sets", pgRows(t, pc, "SELECT member FROM redis.sets WHERE key = 's'"), "x", "y")
	wantRows(t, "redis.streams", pgRows(t, pc, "SELECT key, id, field, value FROM redis.streams"), "x|5-1|f|1", "x|5-1|g|2", "x|7-0|f|3")
	wantRows(t, "redis.zsets", pgRows(t, pc, "SELECT member, score FROM redis.zsets WHERE key = 'z' ORDER BY score"), "m2|-2", "m1|1.5")
	_, top, err := zc.Get("/app")
	must(err)
	_, a, err := zc.Get("/app/a")
	must(err)
	_, b, err := zc.Exists("/app/b")
	must(err)
	wantRows(t, "zookeeper.znodes", pgRows(t, pc, "SELECT path, parent, data, version, czxid, mzxid, pzxid, num_children, cversion, ephemeral_owner, data_length FROM zookeeper.znodes WHERE path LIKE '/app%' ORDER BY path"),
		fmt.Sprintf("/app|/|top|0|%d|%d|%d|2|2|0|3", top.Czxid, top.Mzxid, top.Pzxid),
		fmt.Sprintf("/app/a|/app|2|1|%d|%d|%d|0|0|0|1", a.Czxid, a.Mzxid, a.Pzxid),
		fmt.Sprintf("/app/b|/app|NULL|0|%d|%d|%d|0|0|%d|1", b.Czxid, b.Mzxid, b.Pzxid, zc.SessionID()))
	wantRows(t, "zookeeper.znodes times", pgRows(t, pc, "SELECT (extract(epoch FROM ctime) * 1000)::int8, (extract(epoch FROM mtime) * 1000)::int8 FROM zookeeper.znodes WHERE path = '/app/a'"),
		fmt.Sprintf("%d|%d", a.Ctime, a.Mtime))
	wantRows(t, "zookeeper.acls", pgRows(t, pc, "SELECT path, scheme, perms FROM zookeeper.acls WHERE path LIKE '/app/%'"),
		"/app/a|world|31", "/app/b|digest|1")
	wantRows(t, "zookeeper.sessions", pgRows(t, pc, "SELECT ephemerals, timeout_ms > 0 FROM zookeeper.sessions WHERE id = $1", zc.SessionID()), "1|true")
	wantRows(t, "a join across the APIs", pgRows(t, pc, "SELECT s.db, s.key, z.path, z.data FROM redis.strings s JOIN zookeeper.znodes z ON z.path = s.value"), "1|ptr|/app/a|2")

	// A statement that writes runs at apply on every replica, reading the
	// other APIs' state at its log position: the replicas agree.
	for _, q := range []string{
		"CREATE TABLE snap (k text, ttl boolean, data text)",
		"INSERT INTO snap SELECT key, ttl_ms IS NOT NULL, NULL FROM redis.keys WHERE db = 0",
		"INSERT INTO snap SELECT path, false, data FROM zookeeper.znodes WHERE parent = '/app'",
	} {
		if _, err := pc.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	e.converge(0, 1, 2)
	wantRows(t, "a snapshot written at apply, read on another node", pgRows(t, pgConnect(t, e.nodes[0]), "SELECT k, ttl, data FROM snap ORDER BY k"),
		"/app/a|false|2", "/app/b|false|NULL", "bin|false|NULL", "h|false|NULL", "l|false|NULL", "s|false|NULL", "user:1|false|NULL", "user:2|true|NULL", "x|false|NULL", "z|false|NULL")
}

func redisZ(score float64, member string) redis.Z { return redis.Z{Score: score, Member: member} }

// TestPostgresSystemSchemasOneView moves a counter through the three APIs
// in lockstep (a Redis hash field, then a znode, then a user table, each
// write acknowledged before the next starts) while readers on every node
// join the three in one query: at any one log position the hash is at
// most one step ahead of the znode, which is at most one step ahead of
// the table, and the hash at most one step ahead of the table.
func TestPostgresSystemSchemasOneView(t *testing.T) {
	e := startEnsemble(t, 3)
	ctx := testCtx(t)
	rc := e.nodes[0].redisClient(2)
	zc := e.nodes[1].zkClient(t)
	wc := pgConnect(t, e.nodes[2])
	if _, err := wc.Exec(ctx, "CREATE TABLE step (id int PRIMARY KEY, n int)"); err != nil {
		t.Fatal(err)
	}
	if _, err := wc.Exec(ctx, "INSERT INTO step VALUES (1, 0)"); err != nil {
		t.Fatal(err)
	}
	if err := rc.HSet(ctx, "moving", "n", 0).Err(); err != nil {
		t.Fatal(err)
	}
	mustZK[string](t, "create /moving")(zc.Create("/moving", []byte("0"), 0, openACL))

	const query = `SELECT h.value::int, z.data::int, s.n FROM step s, redis.hashes h, zookeeper.znodes z
		WHERE s.id = 1 AND h.db = 0 AND h.key = 'moving' AND h.field = 'n' AND z.path = '/moving'`
	var steps atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var failed atomic.Value
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := rc.HSet(ctx, "moving", "n", i).Err(); err != nil {
				failed.Store(err)
				return
			}
			if _, err := zc.Set("/moving", []byte(strconv.Itoa(i)), -1); err != nil {
				failed.Store(err)
				return
			}
			if _, err := wc.Exec(ctx, "UPDATE step SET n = $1 WHERE id = 1", i); err != nil {
				failed.Store(err)
				return
			}
			steps.Store(int64(i))
		}
	}()
	var reads atomic.Int64
	var mu sync.Mutex
	var bad []string
	for _, g := range e.nodes {
		c := pgConnect(t, g)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				var h, z, n int64
				if err := c.QueryRow(ctx, query).Scan(&h, &z, &n); err != nil {
					failed.Store(err)
					return
				}
				reads.Add(1)
				if !(h-z >= 0 && h-z <= 1 && z-n >= 0 && z-n <= 1 && h-n <= 1) {
					mu.Lock()
					bad = append(bad, fmt.Sprintf("hash %d, znode %d, table %d", h, z, n))
					mu.Unlock()
				}
			}
		}()
	}
	waitFor(t, "30 lockstep moves", 20*time.Second, func() bool { return steps.Load() >= 30 || failed.Load() != nil })
	close(stop)
	wg.Wait()
	if err := failed.Load(); err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Fatalf("%d of %d reads saw the APIs at different positions, first: %s", len(bad), reads.Load(), bad[0])
	}
	t.Logf("%d moves, %d consistent reads", steps.Load(), reads.Load())
}

// wantSQLState checks that err is a Postgres error with code.
func wantSQLState(t testing.TB, what string, err error, code string) {
	t.Helper()
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != code {
		t.Errorf("%s: got %v, want SQLSTATE %s", what, err, code)
	}
}

// TestPostgresSystemSchemasConflict: a transaction that read a Redis key
// or a znode through the system schemas and wrote a user table fails
// with 40001 if that key or znode changed before its COMMIT.
func TestPostgresSystemSchemasConflict(t *testing.T) {
	g := startGateway(t)
	ctx := testCtx(t)
	rc := g.redisClient(2)
	zc := g.zkClient(t)
	pc := pgConnect(t, g)
	if _, err := pc.Exec(ctx, "CREATE TABLE audit (k text, v text)"); err != nil {
		t.Fatal(err)
	}
	if err := rc.Set(ctx, "k", "one", 0).Err(); err != nil {
		t.Fatal(err)
	}
	mustZK[string](t, "create /cfg")(zc.Create("/cfg", []byte("one"), 0, openACL))
	run := func(read string, change func()) error {
		tx, err := pc.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var v string
		if err := tx.QueryRow(ctx, read).Scan(&v); err != nil {
			t.Fatalf("%s: %v", read, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO audit VALUES ('seen', $1)", v); err != nil {
			t.Fatal(err)
		}
		if change != nil {
			change()
		}
		return tx.Commit(ctx)
	}
	const readKey = "SELECT value FROM redis.strings WHERE key = 'k'"
	const readNode = "SELECT data FROM zookeeper.znodes WHERE path = '/cfg'"
	if err := run(readKey, nil); err != nil {
		t.Fatalf("unchanged Redis key: %v", err)
	}
	if err := run(readKey, func() { rc.Set(ctx, "other", "x", 0) }); err != nil {
		t.Fatalf("another Redis key changed: %v", err)
	}
	wantSQLState(t, "Redis key changed", run(readKey, func() { rc.Set(ctx, "k", "two", 0) }), "40001")
	wantSQLState(t, "Redis key deleted", run(readKey, func() { rc.Del(ctx, "k") }), "40001")
	if err := run(readNode, nil); err != nil {
		t.Fatalf("unchanged znode: %v", err)
	}
	wantSQLState(t, "znode changed", run(readNode, func() { zc.Set("/cfg", []byte("two"), -1) }), "40001")
	// A scan of a prefix conflicts with a key created inside it.
	wantSQLState(t, "key added to a scanned prefix", run("SELECT count(*)::text FROM redis.keys WHERE key LIKE 'user:%'", func() { rc.Set(ctx, "user:9", "x", 0) }), "40001")
	wantRows(t, "audit", pgRows(t, pc, "SELECT k, v FROM audit"), "seen|one", "seen|one", "seen|one")
}

// TestPostgresSystemSchemasPushdown: conditions on db, key, path and
// parent become range scans, which EXPLAIN shows and which read only
// their range (the node's count of system keys read).
func TestPostgresSystemSchemasPushdown(t *testing.T) {
	g := startGateway(t, "--http-addr", "127.0.0.1:0")
	ctx := testCtx(t)
	rc := g.redisClient(2)
	pipe := rc.Pipeline()
	for i := range 300 {
		pipe.Set(ctx, fmt.Sprintf("bulk:%03d", i), i, 0)
	}
	pipe.Set(ctx, "user:1", "a", 0)
	pipe.Set(ctx, "user:2", "b", 0)
	pipe.HSet(ctx, "user:h", "f", "v")
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	zc := g.zkClient(t)
	for _, p := range []string{"/big", "/small", "/small/a", "/small/b"} {
		mustZK[string](t, "create "+p)(zc.Create(p, nil, 0, openACL))
	}
	for i := range 100 {
		mustZK[string](t, "create child")(zc.Create(fmt.Sprintf("/big/c%03d", i), nil, 0, openACL))
	}
	pc := pgConnect(t, g)
	for _, q := range []string{"CREATE TABLE refs (id int PRIMARY KEY, rkey text)", "INSERT INTO refs VALUES (1, 'bulk:010'), (2, 'bulk:020'), (3, 'none')"} {
		if _, err := pc.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	explain := func(q string) string { return strings.Join(pgRows(t, pc, "EXPLAIN "+q), "\n") }
	for _, c := range []struct{ q, want string }{
		{"SELECT * FROM redis.keys WHERE db = 0 AND key LIKE 'user:%'", "Foreign Scan on keys\n  Index Cond: ((db = 0) AND (key ~~ 'user:%'::text))"},
		{"SELECT * FROM redis.strings WHERE key >= 'a' AND key < 'c' AND value = 'x'", "Foreign Scan on strings\n  Index Cond: ((key >= 'a'::text) AND (key < 'c'::text))\n  Filter: (value = 'x'::text)"},
		{"SELECT * FROM zookeeper.znodes WHERE parent = '/a'", "Foreign Scan on znodes\n  Index Cond: (parent = '/a'::text)"},
		{"SELECT * FROM zookeeper.znodes z WHERE path = '/a'", "Foreign Scan on znodes z\n  Index Cond: (path = '/a'::text)"},
		{"SELECT * FROM zookeeper.sessions", "Foreign Scan on sessions"},
		{"SELECT r.id, s.value FROM refs r JOIN redis.strings s ON s.key = r.rkey", "Nested Loop\n  ->  Seq Scan on refs r\n  ->  Foreign Scan on strings s\n        Index Cond: (s.key = r.rkey)"},
	} {
		if got := explain(c.q); got != c.want {
			t.Errorf("EXPLAIN %s:\n%s\nwant\n%s", c.q, got, c.want)
		}
	}
	keysRead := func(q string, want ...string) float64 {
		t.Helper()
		before := scrapeMetrics(t, g).value("hourglass_sql_system_keys_read_total", nil)
		wantRows(t, q, pgRows(t, pc, q), want...)
		return scrapeMetrics(t, g).value("hourglass_sql_system_keys_read_total", nil) - max(before, 0)
	}
	all := keysRead("SELECT count(*) FROM redis.keys", "303")
	if all < 303 {
		t.Errorf("a whole scan read %v keys, want at least 303", all)
	}
	for _, c := range []struct {
		q     string
		want  []string
		limit float64
	}{
		{"SELECT key FROM redis.keys WHERE db = 0 AND key LIKE 'user:%'", []string{"user:1", "user:2", "user:h"}, 3},
		{"SELECT value FROM redis.strings WHERE key = 'bulk:007'", []string{"7"}, 1},
		{"SELECT field FROM redis.hashes WHERE key = 'user:h'", []string{"f"}, 2},
		{"SELECT count(*) FROM redis.keys WHERE key >= 'bulk:100' AND key < 'bulk:110'", []string{"10"}, 10},
		{"SELECT path FROM zookeeper.znodes WHERE parent = '/small'", []string{"/small/a", "/small/b"}, 4},
		{"SELECT path FROM zookeeper.znodes WHERE path LIKE '/small/%'", []string{"/small/a", "/small/b"}, 2},
		{"SELECT path FROM zookeeper.znodes WHERE path = '/big/c050'", []string{"/big/c050"}, 1},
		{"SELECT r.id, s.value FROM refs r JOIN redis.strings s ON s.key = r.rkey ORDER BY r.id", []string{"1|10", "2|20"}, 3},
	} {
		if n := keysRead(c.q, c.want...); n > c.limit {
			t.Errorf("%s read %v keys, want at most %v", c.q, n, c.limit)
		}
	}
}

// TestPostgresSystemSchemasReadOnly: writes and DDL on the system schemas
// are refused with Postgres's errors, and psql lists them as views.
func TestPostgresSystemSchemasReadOnly(t *testing.T) {
	g := startGateway(t)
	ctx := testCtx(t)
	pc := pgConnect(t, g)
	for _, c := range []struct{ sql, code string }{
		{"INSERT INTO redis.strings (key, value) VALUES ('k', 'v')", "55000"},
		{"UPDATE redis.hashes SET value = 'x'", "55000"},
		{"DELETE FROM zookeeper.znodes WHERE path = '/a'", "55000"},
		{"TRUNCATE redis.keys", "42809"},
		{"CREATE TABLE redis.mine (a int)", "42501"},
		{"CREATE VIEW zookeeper.v AS SELECT 1", "42501"},
		{"DROP VIEW redis.keys", "2BP01"},
		{"DROP SCHEMA zookeeper", "2BP01"},
		{"COPY redis.keys TO STDOUT", "42809"},
		{"COPY redis.strings FROM STDIN", "42809"},
	} {
		_, err := pc.Exec(ctx, c.sql)
		wantSQLState(t, c.sql, err, c.code)
	}
	wantRows(t, "information_schema", pgRows(t, pc, `SELECT t.table_name, t.table_type, t.is_insertable_into, c.data_type, c.is_updatable
		FROM information_schema.tables t JOIN information_schema.columns c USING (table_schema, table_name)
		WHERE t.table_schema = 'redis' AND t.table_name = 'keys' AND c.column_name = 'ttl_ms'`), "keys|VIEW|NO|bigint|NO")
	wantRows(t, "regclass oids", pgRows(t, pc, "SELECT 'zookeeper.znodes'::regclass::oid <> 'information_schema.tables'::regclass::oid"), "true")
	out, err := exec.Command("psql", "-X", "-h", "127.0.0.1", "-p", g.port("postgres"), "-U", "postgres", "-d", "postgres",
		"-c", `\dv zookeeper.*`, "-c", `\dn`, "-c", `SELECT 'redis.keys'::regclass AS name`).CombinedOutput()
	if err != nil {
		t.Fatalf("psql: %v\n%s", err, out)
	}
	for _, want := range []string{" zookeeper | acls     | view | postgres", " zookeeper | sessions | view | postgres", " zookeeper | znodes   | view | postgres", " redis     | postgres", "\n redis.keys\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("psql output lacks %q:\n%s", want, out)
		}
	}
}

// TestPostgresSystemSchemasPrepared: a prepared statement over a system
// view, executed again after the Redis and ZooKeeper state changed, reads
// the new state (its kept plan holds no rows).
func TestPostgresSystemSchemasPrepared(t *testing.T) {
	g := startGateway(t)
	ctx := testCtx(t)
	rc := g.redisClient(2)
	zc := g.zkClient(t)
	pc := pgConnect(t, g)
	const q = "SELECT value FROM redis.strings WHERE db = 0 AND key = $1"
	const zq = "SELECT data FROM zookeeper.znodes WHERE path = $1"
	mustZK[string](t, "create /p")(zc.Create("/p", []byte("z0"), 0, openACL))
	for i := range 3 {
		v := fmt.Sprint("v", i)
		if err := rc.Set(ctx, "pk", v, 0).Err(); err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			if _, err := zc.Set("/p", []byte(fmt.Sprint("z", i)), -1); err != nil {
				t.Fatal(err)
			}
		}
		// pgx prepares and caches both statements on the first run.
		if got := pgRows(t, pc, q, "pk"); len(got) != 1 || got[0] != v {
			t.Fatalf("run %d: %s = %q, want %q", i, q, got, v)
		}
		if got := pgRows(t, pc, zq, "/p"); len(got) != 1 || got[0] != fmt.Sprint("z", i) {
			t.Fatalf("run %d: %s = %q", i, zq, got)
		}
	}
}
