package conformance

import (
	"context"
	"strings"
	"testing"
)

// commandScript asks COMMAND about commands the gateway serves. It
// avoids replies whose order redis-server leaves to its hash tables: the
// subcommands of a container, and lists of several commands.
var commandScript = strings.Join([]string{
	"COMMAND INFO get set lmove zunionstore xread blpop sort eval nosuch",
	"COMMAND INFO object|encoding xinfo|stream Get nosuch|x get|x",
	"COMMAND DOCS get zadd xadd set nosuch", "COMMAND DOCS object|encoding", "COMMAND DOCS georadius bitfield",
	"COMMAND LIST FILTERBY PATTERN getr*", "COMMAND LIST FILTERBY PATTERN object|enc*",
	"COMMAND LIST FILTERBY ACLCAT nosuch", "COMMAND LIST FILTERBY MODULE x", "COMMAND LIST FILTERBY foo bar",
	"COMMAND LIST x", "COMMAND LIST FILTERBY PATTERN", "COMMAND LIST FILTERBY PATTERN a b c",
	"COMMAND GETKEYS get a", "COMMAND GETKEYS mset a 1 b 2", "COMMAND GETKEYS zunionstore d 2 a b",
	"COMMAND GETKEYS zunionstore d x a", "COMMAND GETKEYS zunionstore d 3 a b", "COMMAND GETKEYS eval s 0",
	"COMMAND GETKEYS eval s 2 a b c", "COMMAND GETKEYS xread count 2 streams a b 0 0",
	"COMMAND GETKEYS xread streams a b c", "COMMAND GETKEYS sort k by x store d limit 0 1 store e",
	"COMMAND GETKEYS sort_ro k by x", "COMMAND GETKEYS set a b get", "COMMAND GETKEYSANDFLAGS set a b",
	"COMMAND GETKEYSANDFLAGS set a b GET", "COMMAND GETKEYSANDFLAGS lmove a b left right",
	"COMMAND GETKEYSANDFLAGS bitfield k get u8 0", "COMMAND GETKEYSANDFLAGS bitfield k get u8 0 set u8 0 1",
	"COMMAND GETKEYSANDFLAGS sort k store d", "COMMAND GETKEYSANDFLAGS georadius k 0 0 1 m store d storedist e",
	"COMMAND GETKEYS ping", "COMMAND GETKEYS nosuch a", "COMMAND GETKEYS get", "COMMAND GETKEYS object encoding k",
	"COMMAND GETKEYS object", "COMMAND GETKEYS object nosuch k", "COMMAND GETKEYS blmpop 0 2 a b left",
	"COMMAND GETKEYS zinter 0 a", "COMMAND GETKEYS publish ch m", "COMMAND GETKEYS msetnx a 1 b",
	"COMMAND GETKEYS xreadgroup group g c streams a b 0 0",
	"COMMAND GETKEYS", "COMMAND GETKEYSANDFLAGS get", "COMMAND HELP", "COMMAND HELP x", "COMMAND FOO",
	"COMMAND COUNT x", "COMMAND INFO", "COMMAND DOCS nosuch",
}, "\n") + "\n"

// TestRedisCommandMatchesRedisServer diffs COMMAND against redis-server
// 7.0, in RESP2 (raw and formatted) and RESP3.
func TestRedisCommandMatchesRedisServer(t *testing.T) {
	g := startGateway(t)
	script := strings.ReplaceAll(commandScript, "COMMAND INFO\n", "")
	diffScriptsWithRedis(t, g, script)
}

// TestRedisCommandServed checks that COMMAND COUNT, COMMAND LIST and
// COMMAND INFO agree on the commands the gateway serves, through go-redis.
func TestRedisCommandServed(t *testing.T) {
	g := startGateway(t)
	c := g.redisClient(2)
	ctx := context.Background()
	count := r(c.Do(ctx, "COMMAND", "COUNT").Int64()).must(t, "COMMAND COUNT")
	list := r(c.Do(ctx, "COMMAND", "LIST").StringSlice()).must(t, "COMMAND LIST")
	all := r(c.Do(ctx, "COMMAND").Slice()).must(t, "COMMAND")
	top := 0
	for _, name := range list {
		if !strings.Contains(name, "|") {
			top++
		}
	}
	if int64(top) != count || int64(len(all)) != count {
		t.Fatalf("COMMAND COUNT %d, COMMAND LIST %d commands, COMMAND %d", count, top, len(all))
	}
	// go-redis reads COMMAND's reply into its own table.
	cmds := r(c.Command(ctx).Result()).must(t, "go-redis Command")
	// CLUSTER is redis-server's, not served here.
	if cmds["get"] == nil || cmds["get"].Arity != 2 || !cmds["get"].ReadOnly || cmds["monitor"] == nil || cmds["cluster"] != nil {
		t.Fatalf("go-redis's command table: get %+v, monitor %+v, cluster %+v", cmds["get"], cmds["monitor"], cmds["cluster"])
	}
	keys := r(c.CommandGetKeys(ctx, "lmove", "a", "b", "left", "right").Result()).must(t, "COMMAND GETKEYS")
	if strings.Join(keys, ",") != "a,b" {
		t.Fatalf("COMMAND GETKEYS lmove: %q", keys)
	}
}
