package conformance

import (
	"context"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisClient returns a go-redis client whose connections go to the
// nodes in turn and whose pool hands out the longest idle connection
// first, so that consecutive commands run on different nodes (a pipeline
// or a transaction stays on its one connection).
func (e *ensemble) redisClient(protocol int) *redis.Client {
	var turn atomic.Uint64
	d := net.Dialer{Timeout: 5 * time.Second}
	c := redis.NewClient(&redis.Options{
		Addr: e.nodes[0].addr("redis"),
		Dialer: func(ctx context.Context, network, _ string) (net.Conn, error) {
			g := e.nodes[(turn.Add(1)-1)%uint64(len(e.nodes))]
			return d.DialContext(ctx, network, g.addr("redis"))
		},
		Protocol:     protocol,
		MaxRetries:   -1,
		PoolFIFO:     true,
		MinIdleConns: len(e.nodes),
		ReadTimeout:  30 * time.Second,
		WriteTimeout: 30 * time.Second,
	})
	e.t.Cleanup(func() { c.Close() })
	return c
}

// TestEnsembleRedisClients runs the go-redis conformance tests against a
// 3-node ensemble with each client's commands spread over the nodes.
func TestEnsembleRedisClients(t *testing.T) {
	e := startEnsemble(t, 3)
	before := commandsProcessed(t, e)
	for _, tc := range []struct {
		name string
		run  func(*testing.T, redisTarget)
	}{
		{"strings", testRedisStrings},
		{"scan", testRedisScanSteps},
		{"hashes", testRedisHashesClients},
		{"bitmaps", testRedisBitmapFlags},
		{"lists", testRedisListsClients},
		{"sets", testRedisSetsClients},
		{"zsets", testZSetGoRedis},
		{"geo", testGeoGoRedis},
		{"watch", testRedisWatchConflict},
		{"pipelines", testRedisPipelinedWritesKeepOrder},
		{"expiry", testRedisActiveExpiry},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := e.nodes[0].redisClient(2).FlushAll(testCtx(t)).Err(); err != nil {
				t.Fatal(err)
			}
			tc.run(t, e)
		})
	}
	requireSpread(t, e, before)
}

// TestEnsembleRedisMatchesRedisServer runs every redis-cli conformance
// script against a 3-node ensemble, each command on the next node in turn,
// and against redis-server, and requires the same reply to every command.
// Consecutive commands on different nodes see each other's writes, so
// the replies are those of a single Redis.
func TestEnsembleRedisMatchesRedisServer(t *testing.T) {
	e := startEnsemble(t, 3)
	ctx := testCtx(t)
	sock := startRedisServer(t)
	type script struct {
		name  string
		text  string
		resp3 bool
	}
	scripts := []script{
		{"strings", stringsScript, false},
		{"cli", cliScript, false},
		{"scan", scanScript, false},
		{"hashes", hashScript, true},
		{"bitmaps", bitmapScript, true},
		{"lists", listScript, false},
		{"sets", setScript, true},
		{"zsets-resp3", zsetRESP3Script, true},
		{"geo", geoScript, true},
		{"transactions", multiScript, false},
		{"blocking", blockingScript, true},
		{"scripting", scriptingScript, true},
		{"shebang", shebangScript, false},
		{"cmsgpack", msgpackScript, false},
		{"struct", structScript, false},
		{"functions", functionScript, true},
		{"function-restore", functionRestoreScript(), true},
		{"streams", streamEntryScript, true},
		{"stream-groups", streamGroupScript, true},
		{"stream-info", streamInfoScript, true},
		{"stream-blocking", streamBlockScript, false},
		{"stream-trimming", streamApproxScript() + streamBytesScript(), false},
		{"hyperloglog", hllScript, true},
		{"hyperloglog-corrupt", hllCorruptScript, false},
		{"sort", sortScript, true},
		{"dump", dumpScript, true},
		{"object", objectScript, true},
		{"lcs", lcsScript, true},
	}
	for _, name := range slices.Sorted(maps.Keys(zsetScripts)) {
		scripts = append(scripts, script{"zsets-" + name, zsetScripts[name], false})
	}
	before := commandsProcessed(t, e)
	for _, s := range scripts {
		protos := []int{2}
		if s.resp3 {
			protos = append(protos, 3)
		}
		for _, proto := range protos {
			t.Run(fmt.Sprintf("%s/RESP%d", s.name, proto), func(t *testing.T) {
				want := redis.NewClient(&redis.Options{Network: "unix", Addr: sock, Protocol: proto, MaxRetries: -1})
				defer want.Close()
				var nodes []*redis.Client
				for _, g := range e.nodes {
					nodes = append(nodes, g.redisClient(proto))
				}
				for _, c := range []*redis.Client{want, nodes[0]} {
					if err := c.FlushAll(ctx).Err(); err != nil {
						t.Fatal(err)
					}
				}
				diffSpread(t, ctx, s.text, want, nodes)
			})
		}
	}
	requireSpread(t, e, before)
}

// requireSpread fails unless every node processed a share (at least 100)
// of the commands since before.
func requireSpread(t *testing.T, e *ensemble, before []int64) {
	t.Helper()
	after := commandsProcessed(t, e)
	for i := range after {
		if after[i]-before[i] < 100 {
			t.Fatalf("node %d processed only %d commands (before %v, after %v)", i+1, after[i]-before[i], before, after)
		}
	}
}

// commandsProcessed reads INFO's total_commands_processed on every node.
func commandsProcessed(t *testing.T, e *ensemble) []int64 {
	t.Helper()
	var out []int64
	for _, g := range e.nodes {
		info, err := g.redisClient(2).Info(testCtx(t), "stats").Result()
		if err != nil {
			t.Fatal(err)
		}
		var n int64 = -1
		for line := range strings.SplitSeq(info, "\r\n") {
			if v, ok := strings.CutPrefix(line, "total_commands_processed:"); ok {
				n, _ = strconv.ParseInt(v, 10, 64)
			}
		}
		if n < 0 {
			t.Fatalf("INFO stats without total_commands_processed:\n%s", info)
		}
		out = append(out, n)
	}
	return out
}

// diffSpread sends each line of a redis-cli script to want over one
// connection, and to the next of the nodes' connections in turn, and
// fails on the first reply that differs. Connection state follows the
// script: a MULTI or WATCH keeps the commands on one connection until
// EXEC, DISCARD or UNWATCH ends it, and a SELECT that takes effect is
// repeated on every other connection.
func diffSpread(t *testing.T, ctx context.Context, script string, want *redis.Client, nodes []*redis.Client) {
	t.Helper()
	w := want.Conn()
	defer w.Close()
	conns := make([]*redis.Conn, len(nodes))
	for i, c := range nodes {
		conns[i] = c.Conn()
		defer conns[i].Close()
	}
	pinned, inMulti, pendingDB := -1, false, ""
	selectAll := func(except int, db string) {
		for i, c := range conns {
			if i != except {
				if err := c.Do(ctx, "SELECT", db).Err(); err != nil {
					t.Fatalf("SELECT %s on node %d: %v", db, i+1, err)
				}
			}
		}
	}
	turn := 0
	for n, line := range strings.Split(script, "\n") {
		words, err := splitArgs(line)
		if err != nil {
			t.Fatalf("line %d %q: %v", n+1, line, err)
		}
		if len(words) == 0 {
			continue
		}
		node := pinned
		if node < 0 {
			node = turn % len(conns)
			turn++
		}
		args := make([]any, len(words))
		for i, w := range words {
			args[i] = w
		}
		wv, werr := w.Do(ctx, args...).Result()
		gv, gerr := conns[node].Do(ctx, args...).Result()
		if g, x := renderReply(gv, gerr), renderReply(wv, werr); g != x {
			t.Fatalf("line %d %q on node %d:\n gateway:      %s\n redis-server: %s", n+1, line, node+1, g, x)
		}
		switch name := strings.ToLower(words[0]); {
		case name == "multi" && werr == nil:
			pinned, inMulti = node, true
		case name == "watch" && werr == nil && !inMulti:
			pinned = node
		case name == "unwatch" && !inMulti:
			pinned = -1
		case name == "discard" && werr == nil:
			pinned, inMulti, pendingDB = -1, false, ""
		case name == "exec" && inMulti:
			if werr == nil && wv != nil && pendingDB != "" {
				selectAll(node, pendingDB)
			}
			pinned, inMulti, pendingDB = -1, false, ""
		case name == "select" && werr == nil && len(words) == 2:
			if inMulti {
				pendingDB = words[1]
			} else {
				selectAll(node, words[1])
			}
		}
	}
}

// renderReply is a go-redis reply as comparable text.
func renderReply(v any, err error) string {
	switch {
	case err == redis.Nil:
		return "(nil)"
	case err != nil:
		return "(error) " + err.Error()
	}
	return fmt.Sprintf("%#v", v)
}

// splitArgs splits a redis-cli command line into words as redis-cli does
// (sdssplitargs): words separated by spaces, "double quotes" with \n, \r,
// \t, \b, \a and \xHH escapes, 'single quotes' with only \'.
func splitArgs(line string) ([]string, error) {
	var words []string
	i := 0
	for {
		for i < len(line) && strings.IndexByte(" \t\r\n\v\f", line[i]) >= 0 {
			i++
		}
		if i == len(line) {
			return words, nil
		}
		var w []byte
		switch q := line[i]; q {
		case '"', '\'':
			i++
			for {
				if i == len(line) {
					return nil, fmt.Errorf("unbalanced quotes")
				}
				c := line[i]
				switch {
				case c == q:
					i++
					if i < len(line) && line[i] != ' ' {
						return nil, fmt.Errorf("closing quote must be followed by a space")
					}
					goto done
				case c == '\\' && q == '"' && i+3 < len(line) && line[i+1] == 'x' && isHex(line[i+2]) && isHex(line[i+3]):
					b, _ := strconv.ParseUint(line[i+2:i+4], 16, 8)
					w = append(w, byte(b))
					i += 4
				case c == '\\' && i+1 < len(line) && (q == '"' || line[i+1] == '\''):
					e := line[i+1]
					if q == '"' {
						if r, ok := map[byte]byte{'n': '\n', 'r': '\r', 't': '\t', 'b': '\b', 'a': '\a'}[e]; ok {
							e = r
						}
					}
					w = append(w, e)
					i += 2
				default:
					w = append(w, c)
					i++
				}
			}
		default:
			for i < len(line) && strings.IndexByte(" \t\r\n\v\f", line[i]) < 0 {
				w = append(w, line[i])
				i++
			}
		}
	done:
		words = append(words, string(w))
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
