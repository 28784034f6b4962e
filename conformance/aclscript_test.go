package conformance

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// aclScriptCalls exercises the permission checks of the commands a
// script runs (redis.call raising, redis.pcall returning the error
// table) in EVAL, EVALSHA, EVAL_RO, FCALL and FCALL_RO, for commands,
// keys and channels, and the ACL LOG entries they leave (context lua).
var aclScriptCalls = strings.Join([]string{
	"ACL LOG RESET", "ACL SETUSER scr reset", "ACL DELUSER scr", "FUNCTION FLUSH",
	"ACL SETUSER scr on nopass ~k* %R~r* &ch* +@all -set -ping -flushall",
	`FUNCTION LOAD "#!lua name=acllib\nredis.register_function('fget', function(keys, args) return redis.call('get', keys[1]) end)\nredis.register_function{function_name='fro', callback=function(keys, args) return redis.pcall('get', args[1]) end, flags={'no-writes'}}\nredis.register_function('fset', function(keys, args) return redis.call('set', keys[1], args[1]) end)"`,
	"SET r1 v", "SET x v", "SCRIPT LOAD \"return redis.call('set', KEYS[1], 'v')\"",
	"AUTH scr any", "ACL WHOAMI",
	// Commands.
	"EVAL \"return redis.call('set', KEYS[1], 'v')\" 1 k1",
	"EVAL \"return redis.pcall('set', KEYS[1], 'v')\" 1 k1",
	"EVAL \"local t = redis.pcall('set', KEYS[1], 'v') return {type(t), t['err']}\" 1 k1",
	"EVAL \"return redis.call('ping')\" 0", "EVAL \"return redis.pcall('ping')\" 0",
	"EVAL \"return redis.call('incr', KEYS[1])\" 1 k1", "EVAL \"return redis.call('time')[1] ~= nil\" 0",
	"EVALSHA b0e7bbc2efc136be74cdebcb73a106ad46ea881b 1 k2",
	// Keys.
	"EVAL \"return redis.call('get', 'x')\" 0", "EVAL \"return redis.pcall('get', 'x')\" 0",
	"EVAL \"return redis.call('get', 'r1')\" 0", "EVAL \"return redis.call('incr', 'r1')\" 0",
	"EVAL \"return redis.call('mget', 'k1', 'x')\" 0", "EVAL_RO \"return redis.call('get', 'x')\" 0",
	"EVAL_RO \"return redis.pcall('get', 'r1')\" 0",
	"EVAL \"redis.pcall('get', 'x') return redis.call('incr', 'k3')\" 0",
	// Channels.
	"EVAL \"return redis.call('publish', 'ch1', 'm')\" 0", "EVAL \"return redis.call('publish', 'zz', 'm')\" 0",
	"EVAL \"return redis.pcall('publish', 'zz', 'm')\" 0",
	// Functions.
	"FCALL fget 1 k1", "FCALL fget 1 x", "FCALL fset 1 k1 v", "FCALL fset 1 r1 v", "FCALL_RO fro 0 x", "FCALL_RO fro 1 x x", "FCALL_RO fro 0 r1",
	// Errors the script meets before the ACL check.
	"EVAL \"return redis.pcall('nosuch')\" 0", "EVAL \"return redis.pcall('get')\" 0",
	"AUTH default any", "ACL LOG 20", "GET k1", "GET k3",
	"ACL SETUSER scr reset", "ACL DELUSER scr", "FUNCTION FLUSH", "DEL r1 x k1 k3",
}, "\n") + "\n"

// TestRedisACLScriptsMatchRedisServer diffs the permission checks
// inside scripts and functions against redis-server 7.0, in RESP2 and
// RESP3.
func TestRedisACLScriptsMatchRedisServer(t *testing.T) {
	g := startGateway(t)
	diffWithRedisMasked(t, g, aclScriptCalls, maskACLLog)
	diffWithRedisMasked(t, g, aclScriptCalls, maskACLLog, "-3")
}

// TestEnsembleACLScripts restricts a user on the first node of an
// ensemble and runs its scripts on the second: the writes' checks run at
// apply on every replica from the replicated user, a change of the user
// holds for the next script, the denials go to the ACL LOG of the
// script's node only, and the replicas end with the same state.
func TestEnsembleACLScripts(t *testing.T) {
	e := startEnsemble(t, 3)
	ctx := testCtx(t)
	admin := redis.NewClient(&redis.Options{Addr: e.nodes[0].addr("redis"), MaxRetries: -1})
	defer admin.Close()
	r(admin.Do(ctx, "ACL", "SETUSER", "es", "on", ">pw", "~k*", "&ch*", "+@all", "-set").Result()).must(t, "ACL SETUSER")
	es := redis.NewClient(&redis.Options{Addr: e.nodes[1].addr("redis"), Username: "es", Password: "pw", MaxRetries: -1})
	defer es.Close()
	const script = "local t = redis.pcall('set', KEYS[1], 'v') redis.call('incr', KEYS[2]) return t['err'] or t['ok']"
	denied := "ERR The user executing the script can't run this command or subcommand"
	if v := r(es.Eval(ctx, script, []string{"k1", "k2"}).Text()).must(t, "EVAL"); v != denied {
		t.Fatalf("EVAL as es: %q, want %q", v, denied)
	}
	expectErr(t, "EVAL get x", es.Eval(ctx, "return redis.call('get', 'x')", nil).Err(),
		"ERR The user executing the script can't access at least one of the keys mentioned in the command arguments script: 7b232de2280a0be147450f1bfc287bf012a22d2b, on @user_script:1.")
	expectErr(t, "EVAL_RO publish", es.EvalRO(ctx, "return redis.call('publish', 'zz', 'm')", nil).Err(),
		"ERR The user executing the script can't publish to the channel mentioned in the command script: e919e1c45c7fb1948fb0ed946bf5dc24a73e7a7b, on @user_script:1.")
	// A change on the first node holds for the next script on the second.
	r(admin.Do(ctx, "ACL", "SETUSER", "es", "+set").Result()).must(t, "ACL SETUSER +set")
	if v := r(es.Eval(ctx, script, []string{"k1", "k2"}).Text()).must(t, "EVAL"); v != "OK" {
		t.Fatalf("EVAL as es after +set: %q", v)
	}
	if v := r(admin.Get(ctx, "k2").Result()).must(t, "GET k2"); v != "2" {
		t.Fatalf("GET k2 = %q", v)
	}
	// A transaction queued on the second node, the user restricted on
	// the first before EXEC: the queued SET is denied at EXEC.
	tx := es.Conn()
	defer tx.Close()
	r(tx.Do(ctx, "MULTI").Result()).must(t, "MULTI")
	r(tx.Do(ctx, "SET", "k3", "v").Result()).must(t, "SET k3")
	r(tx.Do(ctx, "INCR", "k2").Result()).must(t, "INCR k2")
	r(admin.Do(ctx, "ACL", "SETUSER", "es", "-set").Result()).must(t, "ACL SETUSER -set")
	// go-redis reports the first error inside the reply as the command's.
	expectErr(t, "EXEC", tx.Do(ctx, "EXEC").Err(), "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: no permission to execute the command or subcommand")
	if n := r(admin.Exists(ctx, "k3").Result()).must(t, "EXISTS k3"); n != 0 {
		t.Fatalf("EXISTS k3 = %d after the denied SET", n)
	}
	if v := r(admin.Get(ctx, "k2").Result()).must(t, "GET k2"); v != "3" {
		t.Fatalf("GET k2 = %q after EXEC", v)
	}
	// The denials are in the second node's ACL LOG, with context lua
	// (and multi for EXEC's).
	for i, want := range []int{0, 4, 0} {
		c := redis.NewClient(&redis.Options{Addr: e.nodes[i].addr("redis"), MaxRetries: -1})
		entries := r(c.Do(ctx, "ACL", "LOG").Slice()).must(t, "ACL LOG")
		c.Close()
		if len(entries) != want {
			t.Fatalf("node %d: %d ACL LOG entries, want %d: %v", i+1, len(entries), want, entries)
		}
		for _, en := range entries {
			if s := fmt.Sprint(en); !regexp.MustCompile(`context[: ](lua|multi)[\] ]`).MatchString(s) {
				t.Fatalf("node %d: ACL LOG entry %s", i+1, s)
			}
		}
	}
	e.converge(0, 1, 2)
}

// aclExecSteps queue a transaction as a restricted user, restrict the
// user further from another client, then EXEC: each queued command the
// user may no longer run gets Redis's NOPERM error at EXEC. A user
// without restrictions when queueing and restricted before EXEC is
// checked too, and so are the commands of a script at EXEC.
var aclExecSteps = []aclStep{
	{0, "ACL SETUSER mu reset"}, {0, "DEL k1 k3 k4"},
	{0, "ACL SETUSER mu on nopass ~k* &ch* +@all"}, {1, "AUTH mu x"},
	{1, "MULTI"}, {1, "SET k1 v"}, {1, "GET k2"}, {1, "PUBLISH ch1 m"}, {1, "PING"}, {1, "SET k3 v"},
	{1, `EVAL "return redis.call('get', KEYS[1])" 1 k3`}, {1, "SELECT 0"},
	{0, "ACL SETUSER mu resetkeys ~k3 -ping -select resetchannels"}, {1, "EXEC"}, {0, "GET k1"}, {0, "GET k3"},
	{0, "ACL SETUSER mu &ch1"}, {1, "MULTI"}, {1, `EVAL "return redis.call('get', KEYS[1])" 1 k3`}, {1, "PUBLISH ch1 m"},
	{0, "ACL SETUSER mu -eval"}, {1, "EXEC"},
	{0, "ACL SETUSER mu allkeys allchannels +@all"}, {1, "MULTI"}, {1, "SET k4 v"}, {1, "GET k3"},
	{0, "ACL SETUSER mu resetkeys ~k3"}, {1, "EXEC"}, {0, "EXISTS k4"},
	{0, "ACL SETUSER mu allkeys"}, {1, "MULTI"}, {1, "SET k4 v"}, {1, "EXEC"},
	// A script queued by the user without restrictions runs as the user
	// is at EXEC.
	{0, "ACL SETUSER mu allkeys allchannels +@all"}, {1, "MULTI"}, {1, `EVAL "return redis.call('get', 'x5')" 0`},
	{0, "ACL SETUSER mu resetkeys ~k*"}, {1, "EXEC"},
}

// TestRedisACLExecMatchesRedisServer diffs EXEC's permission checks
// against redis-server 7.0, in RESP2 and RESP3, and checks the ACL LOG
// entries (context multi) they leave.
func TestRedisACLExecMatchesRedisServer(t *testing.T) {
	g := startGateway(t)
	ctx := testCtx(t)
	sock := startRedisServer(t)
	for _, proto := range []int{2, 3} {
		gc := redis.NewClient(&redis.Options{Addr: g.addr("redis"), MaxRetries: -1, Protocol: proto})
		r(gc.Do(ctx, "ACL", "LOG", "RESET").Result()).must(t, "ACL LOG RESET")
		out := runRawSteps(t, proto, "tcp", g.addr("redis"), aclExecSteps)
		diffACLSteps(t, out, runRawSteps(t, proto, "unix", sock, aclExecSteps))
		if s := strings.Join(out, "\n"); !strings.Contains(s, "no permission to touch the specified keys") {
			t.Fatalf("RESP%d: no denial at EXEC:\n%s", proto, s)
		}
		var got []string
		for _, e := range r(gc.Do(ctx, "ACL", "LOG").Slice()).must(t, "ACL LOG") {
			s := fmt.Sprint(e)
			for _, f := range []string{"reason", "context", "object"} {
				m := regexp.MustCompile(f + `[: ](\S+?)[\] ]`).FindStringSubmatch(s)
				if m == nil {
					t.Fatalf("ACL LOG entry without %s: %s", f, s)
				}
				got = append(got, m[1])
			}
		}
		want := "key lua x5 key multi k4 command multi eval command multi select command multi ping channel multi ch1 key multi k2 key multi k1"
		if strings.Join(got, " ") != want {
			t.Fatalf("RESP%d: ACL LOG %q, want %q", proto, strings.Join(got, " "), want)
		}
		gc.Close()
	}
}

// runRawSteps runs steps (redis-cli lines) on two raw connections to
// addr in protocol proto and returns each step's reply as the server
// sent it.
func runRawSteps(t *testing.T, proto int, network, addr string, steps []aclStep) []string {
	t.Helper()
	conns := []*rawConn{dialRaw(t, network, addr), dialRaw(t, network, addr)}
	for _, c := range conns {
		if proto == 3 {
			c.do(t, "HELLO 3")
		}
	}
	var out []string
	for _, s := range steps {
		words, err := splitArgs(s.line)
		if err != nil {
			t.Fatal(err)
		}
		req := "*" + strconv.Itoa(len(words)) + "\r\n"
		for _, w := range words {
			req += "$" + strconv.Itoa(len(w)) + "\r\n" + w + "\r\n"
		}
		c := conns[s.conn]
		c.nc.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.nc.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
		out = append(out, s.line+" -> "+strings.ReplaceAll(c.frame(t), "\r\n", " "))
	}
	for _, c := range conns {
		c.nc.Close()
	}
	return out
}
