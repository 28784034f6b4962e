package conformance

import (
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"hourglass/personalities/kv/rdb"
)

// functionRestoreScript diffs FUNCTION DUMP and FUNCTION RESTORE against
// redis-server: each policy, library and function collisions within the
// payload and with the libraries loaded, the payload's errors, and the
// bytes of a dump of one library.
func functionRestoreScript() string {
	lib := func(name, fn, ret string) string {
		return "#!lua name=" + name + "\nredis.register_function('" + fn + "', function() return '" + ret + "' end)"
	}
	pay := func(codes ...string) string {
		var bs [][]byte
		for _, c := range codes {
			bs = append(bs, []byte(c))
		}
		return quoteArg(rdb.DumpFunctions(bs))
	}
	short := "#!lua name=s\nredis.register_function('s', function() end)"
	raw := func(op byte) string { return withFooter(string([]byte{op, byte(len(short))})+short, rdb.Version) }
	str := func(s string) string { return string(rune(len(s))) + s }
	preGA := func(fields ...string) string { return withFooter("\xf6"+strings.Join(fields, ""), rdb.Version) }
	body := "redis.register_function('pg', function() return 'pre-GA' end)"
	la, la2, lc := lib("la", "fa", "a"), lib("la", "fa2", "a2"), lib("lc", "fc", "c")
	return strings.Join([]string{
		"FUNCTION FLUSH", "FUNCTION DUMP",
		`FUNCTION LOAD "` + strings.ReplaceAll(la, "\n", `\n`) + `"`, "FUNCTION DUMP",
		"FUNCTION RESTORE " + pay(la), "FUNCTION RESTORE " + pay(la) + " APPEND",
		"FUNCTION RESTORE " + pay(la2) + " REPLACE", "FCALL fa2 0", "FCALL fa 0",
		"FUNCTION RESTORE " + pay(lib("lb", "FA2", "b")), "FUNCTION RESTORE " + pay(lib("lb", "fa2", "b")) + " replace",
		"FUNCTION RESTORE " + pay(lc) + " append", "FCALL fc 0",
		"FUNCTION RESTORE " + pay(lib("ld", "fd", "d"), lib("ld", "fe", "e")),
		"FUNCTION RESTORE " + pay(lib("ld", "fx", "d"), lib("le", "fx", "e")),
		"FUNCTION RESTORE " + pay(lib("ld", "fd", "d"), "return 1"),
		"FUNCTION RESTORE " + pay(lib("ld", "fd", "d"), "#!lua name=le\nlocal x = KEYS"),
		"FUNCTION STATS",
		"FUNCTION RESTORE " + pay(lc) + " FLUSH", "FUNCTION LIST", "FCALL fa2 0", "FCALL fc 0", "FUNCTION DUMP",
		"FUNCTION RESTORE " + pay(lc) + " BAD", "FUNCTION RESTORE " + pay(lc) + " FLUSH x",
		"FUNCTION RESTORE garbage", "FUNCTION RESTORE 0123456789", "FUNCTION RESTORE " + pay(),
		"FUNCTION RESTORE " + withFooter("\xf5\xff", rdb.Version+1),
		"FUNCTION RESTORE " + raw(246), "FUNCTION RESTORE " + raw(0), "FUNCTION RESTORE " + raw(245),
		"FUNCTION RESTORE " + withFooter("\xf5\x40", rdb.Version), "FUNCTION RESTORE " + withFooter("\xf5\x80\xff\xff\xff\xff", rdb.Version),
		"FUNCTION RESTORE " + withFooter("\xf5\xc3\x05\x7f\xffabcde", rdb.Version),
		"FUNCTION LIST LIBRARYNAME s", "FUNCTION FLUSH",
		"FUNCTION RESTORE " + preGA(str("pga"), str("LUA"), "\x00", str(body)), "FUNCTION LIST WITHCODE", "FCALL pg 0",
		"FUNCTION RESTORE " + preGA(str("pgb"), str("LUA"), "\x01", str("a description"), str(strings.ReplaceAll(body, "pg", "pgb"))) + " FLUSH",
		"FUNCTION LIST WITHCODE",
		"FUNCTION RESTORE " + preGA(), "FUNCTION RESTORE " + preGA(str("pga")), "FUNCTION RESTORE " + preGA(str("pga"), str("LUA")),
		"FUNCTION RESTORE " + preGA(str("pga"), str("LUA"), "\x01"), "FUNCTION RESTORE " + preGA(str("pga"), str("LUA"), "\x00"),
		"FUNCTION RESTORE " + preGA(str("pga"), str("js"), "\x00", str(body)), "FUNCTION FLUSH",
	}, "\n") + "\n"
}

// TestFunctionRestoreMatchesRedisServer diffs FUNCTION DUMP and
// FUNCTION RESTORE against redis-server.
func TestFunctionRestoreMatchesRedisServer(t *testing.T) {
	g := startGateway(t)
	script := functionRestoreScript()
	diffWithRedis(t, g, script)
	diffWithRedisRESP3(t, g, script)
}

// TestFunctionDumpBetweenServers moves libraries from redis-server to a
// gateway with FUNCTION DUMP and FUNCTION RESTORE, and back to a fresh
// redis-server; each side lists the same libraries and runs them.
func TestFunctionDumpBetweenServers(t *testing.T) {
	ctx := testCtx(t)
	redisAt := func() *redis.Client {
		return redis.NewClient(&redis.Options{Network: "unix", Addr: startRedisServer(t)})
	}
	src, dst := redisAt(), redisAt()
	defer src.Close()
	defer dst.Close()
	g := startGateway(t)
	gw := g.redisClient(2)
	defer gw.Close()
	libs := []string{functionLib,
		"#!lua name=big\n-- " + strings.Repeat("a long comment that compresses well ", 200) + "\nredis.register_function('big', function(k, a) return #a end)",
	}
	for _, l := range libs {
		r(src.FunctionLoad(ctx, l).Result()).must(t, "FUNCTION LOAD on redis-server")
	}
	payload := r(src.FunctionDump(ctx).Result()).must(t, "FUNCTION DUMP on redis-server")
	r(gw.FunctionRestore(ctx, payload).Result()).must(t, "FUNCTION RESTORE on the gateway")
	if n := r(gw.FCall(ctx, "big", nil, 1, 2, 3).Int()).must(t, "FCALL big"); n != 3 {
		t.Fatalf("FCALL big = %d", n)
	}
	if n := r(gw.FCall(ctx, "counter_add", []string{"c"}, 5).Int()).must(t, "FCALL counter_add"); n != 5 {
		t.Fatalf("FCALL counter_add = %d", n)
	}
	back := r(gw.FunctionDump(ctx).Result()).must(t, "FUNCTION DUMP on the gateway")
	r(dst.FunctionRestore(ctx, back).Result()).must(t, "FUNCTION RESTORE on redis-server")
	if n := r(dst.FCall(ctx, "big", nil, 1).Int()).must(t, "FCALL big on redis-server"); n != 1 {
		t.Fatalf("FCALL big on redis-server = %d", n)
	}
	list := func(c *redis.Client) []string {
		ls := r(c.FunctionList(ctx, redis.FunctionListQuery{WithCode: true}).Result()).must(t, "FUNCTION LIST")
		var out []string
		for _, l := range ls {
			var fs []string
			for _, f := range l.Functions {
				fs = append(fs, f.Name+"/"+f.Description+"/"+strings.Join(f.Flags, ","))
			}
			slices.Sort(fs)
			out = append(out, l.Name+" "+l.Engine+" "+strings.Join(fs, " ")+" "+l.Code)
		}
		slices.Sort(out)
		return out
	}
	want := list(src)
	for name, c := range map[string]*redis.Client{"gateway": gw, "redis-server after the round trip": dst} {
		if got := list(c); !slices.Equal(got, want) {
			t.Fatalf("%s lists %q, want %q", name, got, want)
		}
	}
}
