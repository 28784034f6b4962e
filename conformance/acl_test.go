package conformance

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// aclUsersScript puts the users aclScript uses in a known state: on
// every run, on the gateway (which keeps its users) and on a fresh
// redis-server alike.
var aclUsersScript = strings.Join([]string{
	"ACL LOG RESET", "ACL SETUSER foo reset", "ACL SETUSER bar reset", "ACL SETUSER lim reset", "ACL SETUSER sel reset",
	"ACL SETUSER x reset", "ACL DELUSER foo bar lim sel x",
}, "\n") + "\n"

// aclScript exercises ACL SETUSER's rules, the ACL reads, DRYRUN, and a
// restricted user's NOPERM errors and ACL LOG entries. Rules leave at
// most one single command beside categories, since Redis lists those in
// its hash table's order.
var aclScript = aclUsersScript + strings.Join([]string{
	"ACL SETUSER foo", "ACL LIST", "ACL USERS", "ACL WHOAMI",
	"ACL SETUSER bar on >p1 #5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8 %R~r* ~k* %W~w* &ch* +@hash -hset (+set ~s*) (%R~a* -@all +@read)",
	"ACL GETUSER bar", "ACL LIST", "ACL GETUSER nosuch", "ACL GETUSER default",
	"ACL SETUSER bar <p1 resetkeys ~z* %RW~y* %R~z* resetchannels &* clearselectors", "ACL GETUSER bar",
	"ACL SETUSER bar nopass allkeys allcommands -@dangerous", "ACL GETUSER bar", "ACL SETUSER bar resetpass nocommands +@stream -xadd",
	"ACL GETUSER bar", "ACL SETUSER bar reset", "ACL LIST",
	"ACL SETUSER sel on nopass (~a* +get) (~b* +set)", "ACL GETUSER sel", "ACL SETUSER sel skip-sanitize-payload +client|id +@admin",
	"ACL GETUSER sel", "ACL SETUSER sel -@all +select|0", "ACL GETUSER sel",
	// Rules that do not parse.
	"ACL SETUSER x %~a", "ACL SETUSER x %RX~a", "ACL SETUSER x %R", "ACL SETUSER x ff", "ACL SETUSER x +nosuch",
	"ACL SETUSER x -@nosuch", "ACL SETUSER x +client|id|x", "ACL SETUSER x +get|", "ACL SETUSER x -select|0", "ACL SETUSER x (~a",
	"ACL SETUSER x (~a +get", "ACL SETUSER x ~* ~a", "ACL SETUSER x &* &a", "ACL SETUSER x <nopass", "ACL SETUSER x !abc",
	"ACL SETUSER x #abc", `ACL SETUSER "a b"`, "ACL SETUSER x on >ok ~k ff", "ACL LIST", "ACL SETUSER", "ACL GETUSER",
	// The other subcommands.
	"ACL CAT", "ACL CAT nosuch", "ACL CAT read x", "ACL GENPASS 0", "ACL GENPASS 5000", "ACL GENPASS x",
	"ACL GENPASS -1", "ACL DELUSER default", "ACL DELUSER foo nosuch foo", "ACL USERS", "ACL SAVE", "ACL LOAD",
	"ACL LOG x", "ACL LOG 1 2", "ACL FOO", "ACL HELP", "ACL",
	"ACL SETUSER lim on >pw ~k* %R~r* %W~w* &c* +get +set +publish +subscribe +multi +exec +lmove +auth +copy",
	"ACL DRYRUN lim get x", "ACL DRYRUN lim del k", "ACL DRYRUN nouser get k", "ACL DRYRUN lim nosuch k",
	"ACL DRYRUN lim get", "ACL DRYRUN lim get k1", "ACL DRYRUN lim publish x y", "ACL DRYRUN lim lmove k1 r1 left left",
	"ACL DRYRUN lim copy r1 w1", "ACL DRYRUN lim client id", "ACL DRYRUN lim",
	// As the restricted user.
	"AUTH lim pw", "ACL WHOAMI", "GET x", "GET k1", "SET x 1", "SET r1 1", "SET w1 1", "GET w1", "COPY r1 w1",
	"LMOVE k1 r1 left left", "DEL k", "PUBLISH z m", "PUBLISH c1 m", "SUBSCRIBE c1 z", "AUTH lim bad", "AUTH nouser bad",
	"AUTH bad", "MULTI", "DEL k", "GET x", "SET k1 v", "EXEC", "PING", "AUTH default nopass-ignored", "ACL LOG 12",
}, "\n") + "\n"

// aclLogVaries matches what differs between two servers' ACL LOG
// entries: the entry's age and the client's details.
var aclLogVaries = regexp.MustCompile(`(?m)("?age-seconds"?(\n| => | )).*$|^.*id=\d+ addr=.*$`)

func maskACLLog(out string) string {
	return aclLogVaries.ReplaceAllString(out, "${1}<varies>")
}

// TestRedisACLMatchesRedisServer diffs ACL and the permission checks
// against redis-server 7.0, in RESP2 (raw and formatted) and RESP3.
func TestRedisACLMatchesRedisServer(t *testing.T) {
	g := startGateway(t)
	diffWithRedisMasked(t, g, aclScript, maskACLLog)
	diffWithRedisMasked(t, g, aclScript, maskACLLog, "-3")
}

// aclSteps is a session of three clients: the first sets a user up, the
// second authenticates as it and runs allowed and denied commands, the
// third reads the user back and deletes it.
type aclStep struct {
	conn int
	line string
}

var aclSteps = []aclStep{
	{0, "ACL SETUSER app on >secret ~app:* %R~shared:* &news.* +@string +@pubsub"},
	{1, "AUTH app wrong"}, {1, "AUTH app secret"}, {1, "ACL WHOAMI"},
	{1, "SET app:1 v"}, {1, "GET app:1"}, {1, "SET other v"}, {1, "GET other"}, {1, "GET shared:x"},
	{1, "SET shared:x v"}, {1, "FLUSHALL"}, {1, "PUBLISH news.a m"}, {1, "PUBLISH sports m"},
	{1, "MSET app:2 a app:3 b"}, {1, "MSET app:4 a other b"}, {1, "MGET app:1 app:2 app:3"},
	{2, "ACL GETUSER app"}, {2, "ACL DRYRUN app set shared:x v"}, {2, "ACL DRYRUN app get shared:x"},
	{0, "ACL SETUSER app -get"}, {1, "GET app:1"}, {1, "MGET app:1"},
	{0, "ACL SETUSER app +get"}, {1, "GET app:1"},
	{2, "ACL LIST"},
}

// runACLSteps runs aclSteps on conns (one per client) and returns the
// rendered replies.
func runACLSteps(t *testing.T, ctx context.Context, conns []*redis.Conn, steps []aclStep) []string {
	t.Helper()
	var out []string
	for _, s := range steps {
		words, err := splitArgs(s.line)
		if err != nil {
			t.Fatal(err)
		}
		args := make([]any, len(words))
		for i, w := range words {
			args[i] = w
		}
		out = append(out, s.line+" -> "+renderReply(conns[s.conn].Do(ctx, args...).Result()))
	}
	return out
}

// TestEnsembleACL runs aclSteps with its three clients on the three
// nodes of an ensemble (a user set on one node authenticates on
// another) and on redis-server, and requires the same replies; then the
// user's deletion on the third node closes its connection on the
// second.
func TestEnsembleACL(t *testing.T) {
	e := startEnsemble(t, 3)
	ctx := testCtx(t)
	want := redis.NewClient(&redis.Options{Network: "unix", Addr: startRedisServer(t), MaxRetries: -1, Protocol: 2})
	defer want.Close()
	var wconns, gconns []*redis.Conn
	for i := range 3 {
		wconns = append(wconns, want.Conn())
		gconns = append(gconns, e.nodes[i].redisClient(2).Conn())
	}
	defer func() {
		for _, c := range append(wconns, gconns...) {
			c.Close()
		}
	}()
	diffACLSteps(t, runACLSteps(t, ctx, gconns, aclSteps), runACLSteps(t, ctx, wconns, aclSteps))
	if n, err := gconns[2].Do(ctx, "ACL", "DELUSER", "app").Int64(); n != 1 || err != nil {
		t.Fatalf("ACL DELUSER app: %d, %v", n, err)
	}
	waitFor(t, "the deleted user's connection to close", 10*time.Second, func() bool {
		return gconns[1].Ping(ctx).Err() != nil
	})
	// Every node has the same users.
	for i := range 3 {
		users := r(e.nodes[i].redisClient(2).Do(ctx, "ACL", "USERS").StringSlice()).must(t, "ACL USERS")
		if strings.Join(users, ",") != "default" {
			t.Fatalf("node %d: ACL USERS %q", i+1, users)
		}
	}
}

func diffACLSteps(t *testing.T, g, w []string) {
	t.Helper()
	for i := range w {
		if g[i] != w[i] {
			t.Fatalf("step %d:\n gateway:      %s\n redis-server: %s", i+1, g[i], w[i])
		}
	}
}

// TestRedisACLRequirepass checks that requirepass is the default user's
// password, as in redis-server started with it, and that disabling a
// user closes its connections.
func TestRedisACLRequirepass(t *testing.T) {
	g := startGateway(t, "--requirepass", "pw")
	ctx := testCtx(t)
	want := redis.NewClient(&redis.Options{Network: "unix", Addr: startRedisServer(t, "--requirepass", "pw"), MaxRetries: -1, Protocol: 2})
	defer want.Close()
	gc := redis.NewClient(&redis.Options{Addr: g.addr("redis"), MaxRetries: -1, Protocol: 2})
	defer gc.Close()
	steps := []aclStep{
		{0, "GET k"}, {0, "AUTH nopw"}, {0, "AUTH default nopw"}, {0, "AUTH pw"}, {0, "ACL WHOAMI"},
		{0, "ACL GETUSER default"}, {0, "ACL LIST"}, {1, "AUTH default pw"},
		{0, "ACL SETUSER u on >x +@all ~*"}, {1, "AUTH u x"}, {1, "ACL WHOAMI"}, {1, "SET k v"},
		{0, "CONFIG SET requirepass other"}, {0, "ACL GETUSER default"}, {2, "AUTH pw"}, {2, "AUTH other"},
		{0, "ACL SETUSER default resetchannels &news"}, {0, "ACL GETUSER default"},
	}
	var gconns, wconns []*redis.Conn
	for range 3 {
		gconns, wconns = append(gconns, gc.Conn()), append(wconns, want.Conn())
	}
	diffACLSteps(t, runACLSteps(t, ctx, gconns, steps), runACLSteps(t, ctx, wconns, steps))
	// Disabling u closes its connection.
	if err := gconns[0].Do(ctx, "ACL", "SETUSER", "u", "off").Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the disabled user's connection to close", 10*time.Second, func() bool {
		return gconns[1].Ping(ctx).Err() != nil
	})
	for _, c := range append(gconns, wconns...) {
		c.Close()
	}
}

// TestRedisACLRestart checks that users survive a restart, and that a
// client authenticates as one with go-redis's Username option.
func TestRedisACLRestart(t *testing.T) {
	g := startGateway(t)
	ctx := testCtx(t)
	c := g.redisClient(2)
	for _, rule := range [][]any{
		{"ACL", "SETUSER", "app", "on", ">secret", "~app:*", "+@all", "-flushall"},
		{"ACL", "SETUSER", "ro", "on", "#2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b", "%R~*", "+@read", "(~tmp:* +set)"},
		{"ACL", "SETUSER", "gone", "on", "nopass"}, {"ACL", "DELUSER", "gone"},
	} {
		if err := c.Do(ctx, rule...).Err(); err != nil {
			t.Fatalf("%v: %v", rule, err)
		}
	}
	before := r(c.Do(ctx, "ACL", "LIST").StringSlice()).must(t, "ACL LIST")
	c.Close()
	if err := g.stop(); err != nil {
		t.Fatal(err)
	}
	g.restart()
	c = g.redisClient(2)
	after := r(c.Do(ctx, "ACL", "LIST").StringSlice()).must(t, "ACL LIST")
	if strings.Join(after, "\n") != strings.Join(before, "\n") || len(after) != 3 {
		t.Fatalf("ACL LIST before the restart:\n%s\nafter:\n%s", strings.Join(before, "\n"), strings.Join(after, "\n"))
	}
	app := redis.NewClient(&redis.Options{Addr: g.addr("redis"), Username: "app", Password: "secret"})
	defer app.Close()
	r(app.Set(ctx, "app:1", "v", 0).Result()).must(t, "SET app:1")
	if v := r(app.Get(ctx, "app:1").Result()).must(t, "GET app:1"); v != "v" {
		t.Fatalf("GET app:1 = %q", v)
	}
	expectErr(t, "SET other", app.Set(ctx, "other", "v", 0).Err(), "NOPERM this user has no permissions to access one of the keys used as arguments")
	expectErr(t, "FLUSHALL", app.FlushAll(ctx).Err(), "NOPERM this user has no permissions to run the 'flushall' command")
	// The password "secret" hashes to ro's digest; its selector writes tmp:*.
	ro := redis.NewClient(&redis.Options{Addr: g.addr("redis"), Username: "ro", Password: "secret", Protocol: 3})
	defer ro.Close()
	r(ro.Get(ctx, "app:1").Result()).must(t, "GET app:1 as ro")
	r(ro.Set(ctx, "tmp:1", "v", 0).Result()).must(t, "SET tmp:1 as ro")
	expectErr(t, "SET app:1 as ro", ro.Set(ctx, "app:1", "w", 0).Err(), "NOPERM this user has no permissions to access one of the keys used as arguments")
	bad := redis.NewClient(&redis.Options{Addr: g.addr("redis"), Username: "app", Password: "wrong", MaxRetries: -1})
	defer bad.Close()
	expectErr(t, "a wrong password", bad.Ping(ctx).Err(), "WRONGPASS invalid username-password pair or user is disabled.")
}

// redisPyACL authenticates as a named user with redis-py and meets its
// key patterns.
const redisPyACL = `
import sys, redis
admin = redis.Redis(port=int(sys.argv[1]))
admin.acl_setuser("py", enabled=True, passwords=["+pypass"], keys=["py:*"], commands=["+@string", "+ping"], reset=True)
assert "py" in admin.acl_users()
u = admin.acl_getuser("py")
assert "on" in u["flags"] and u["keys"] == ["~py:*"], u
r = redis.Redis(port=int(sys.argv[1]), username="py", password="pypass", decode_responses=True)
assert r.ping()
r.set("py:a", "1")
assert r.incr("py:a") == 2
try:
    r.set("other", "1")
    raise SystemExit("SET other was allowed")
except redis.exceptions.NoPermissionError as e:
    assert "no permissions to access one of the keys" in str(e), e
try:
    r.lpush("py:l", "x")
    raise SystemExit("LPUSH was allowed")
except redis.exceptions.NoPermissionError as e:
    assert "'lpush' command" in str(e), e
try:
    redis.Redis(port=int(sys.argv[1]), username="py", password="nope").ping()
    raise SystemExit("a wrong password was accepted")
except (redis.exceptions.AuthenticationError, redis.exceptions.ResponseError) as e:
    assert str(e).startswith("WRONGPASS") or "invalid username-password pair" in str(e), e
log = admin.acl_log()
assert log[0]["reason"] == "auth" and log[0]["username"] == "py", log[0]
admin.acl_deluser("py")
print("ok")
`

// TestRedisACLRedisPy runs redis-py's ACL helpers and a client
// authenticated as a named user against the gateway.
func TestRedisACLRedisPy(t *testing.T) {
	g := startGateway(t)
	runRedisPy(t, redisPyACL, g.port("redis"))
}
