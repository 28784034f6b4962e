package conformance

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// replaceMember replaces the stopped member old of e with a fresh node
// called id, through node via's admin endpoint, and starts it: the others
// reach it through an inbound proxy, it reaches the founders through its
// own (to nowhere for the dead ones). The new node is appended to
// e.nodes.
func (e *ensemble) replaceMember(via int, old, id string) *gateway {
	t := e.t
	t.Helper()
	in := newProxy(t)
	out := e.nodes[via].gatewayCLI("members", "replace", "--id", old, "--new-id", id, "--peer-addr", in.addr())
	if strings.Contains(out, old+" at") || !strings.Contains(out, id+" at") {
		t.Fatalf("members replace %s by %s:\n%s", old, id, out)
	}
	var peers []string
	for j := range e.links {
		p := newProxy(t)
		if a := e.nodes[j].liveAddr("peer"); a != "" {
			p.setTarget(a)
		}
		peers = append(peers, nodeID(j)+"="+p.addr())
	}
	g := &gateway{t: t, dataDir: t.TempDir(), args: []string{"--node-id", id, "--peer-addr", "127.0.0.1:0", "--peers", strings.Join(peers, ",")}}
	g.onListen = func(api, addr string) {
		if api == "peer" {
			in.setTarget(addr)
		}
	}
	g.start()
	t.Cleanup(g.kill)
	e.nodes = append(e.nodes, g)
	return g
}

// TestEnsembleReplaceFounders replaces two of the three founders, each
// killed for good, one at a time, so that the MetaStore's acceptors move
// with the members; then restarts the last founder, which finds the chain
// through the new acceptors. Every acknowledged write stays readable and
// the replicas end equal.
func TestEnsembleReplaceFounders(t *testing.T) {
	e := startEnsemble(t, 3)
	ctx := testCtx(t)
	var acked []string
	// write retries a SET that meets a failover (its outcome may be
	// unknown; SET is idempotent) until it is acknowledged.
	write := func(c *redis.Client, key string) {
		t.Helper()
		last := ""
		waitFor(t, "SET "+key, 30*time.Second, func() bool {
			err := c.Set(ctx, key, "v-"+key, 0).Err()
			if err != nil && err.Error() != last {
				last = err.Error()
				t.Logf("SET %s: %v (retrying)", key, err)
			}
			return err == nil
		})
		acked = append(acked, key)
	}
	acceptors := func(g *gateway) string {
		t.Helper()
		for _, line := range strings.Split(g.gatewayCLI("status"), "\n") {
			if strings.HasPrefix(line, "metastore acceptors") {
				return line
			}
		}
		t.Fatal("status shows no metastore acceptors")
		return ""
	}
	// segmentsOn returns the chain's sealed segments whose loglet has a
	// LogServer on node id, as status prints them.
	segmentsOn := func(g *gateway, id string) []string {
		t.Helper()
		var on []string
		for _, line := range strings.Split(g.gatewayCLI("status"), "\n") {
			_, servers, ok := strings.Cut(line, " native loglet ")
			if ok && strings.HasSuffix(line, ", sealed") && slices.Contains(strings.Split(strings.Fields(servers)[2], ","), id) {
				on = append(on, strings.TrimSpace(line))
			}
		}
		return on
	}
	c1 := e.nodes[0].redisClient(2)
	for i := range 20 {
		write(c1, fmt.Sprint("a", i))
	}
	if a := acceptors(e.nodes[0]); !strings.Contains(a, " n1=") || !strings.Contains(a, " n2=") || !strings.Contains(a, " n3=") {
		t.Fatalf("founding acceptors: %s", a)
	}

	// n3 is lost; n4 takes its place, as member and acceptor.
	e.nodes[2].kill()
	n4 := e.replaceMember(0, "n3", "n4")
	for i := range 20 {
		write(c1, fmt.Sprint("b", i))
	}
	if a := acceptors(e.nodes[0]); strings.Contains(a, " n3=") || !strings.Contains(a, " n4=") {
		t.Fatalf("after replacing n3: %s", a)
	}
	// The sealed segments n3 served move to today's LogServers.
	waitFor(t, "the sealed segments on n3 to move", 60*time.Second, func() bool {
		return len(segmentsOn(e.nodes[0], "n3")) == 0
	})

	// n2 is lost; n5 takes its place. n1 is the last founder.
	e.nodes[1].kill()
	n5 := e.replaceMember(0, "n2", "n5")
	c4 := n4.redisClient(2)
	for i := range 20 {
		write(c4, fmt.Sprint("c", i))
	}
	if a := acceptors(n5); strings.Contains(a, " n2=") || !strings.Contains(a, " n1=") || !strings.Contains(a, " n4=") || !strings.Contains(a, " n5=") {
		t.Fatalf("after replacing n2: %s", a)
	}
	waitFor(t, "the sealed segments on n2 to move", 60*time.Second, func() bool {
		return len(segmentsOn(n4, "n2")) == 0
	})
	if on := segmentsOn(n4, "n4"); len(on) == 0 {
		t.Fatal("no sealed segment is on n4")
	}

	// n1 dies too: n4 and n5 carry on alone. n1 comes back knowing only
	// the founders, two of them gone, and finds the chain through its
	// own acceptor's knowledge of the new set; what it replays of the log
	// (from what its store had synced) is on n4 and n5 now.
	e.nodes[0].kill()
	for i := range 20 {
		write(c4, fmt.Sprint("d", i))
	}
	e.nodes[0].restart()
	c1 = e.nodes[0].redisClient(2)
	write(c1, "e0")
	if a := acceptors(e.nodes[0]); strings.Contains(a, " n2=") || strings.Contains(a, " n3=") || !strings.Contains(a, " n4=") || !strings.Contains(a, " n5=") {
		t.Fatalf("restarted n1 knows acceptors %s", a)
	}
	for _, c := range []*redis.Client{c1, c4, n5.redisClient(2)} {
		for _, k := range acked {
			if got, err := c.Get(ctx, k).Result(); err != nil || got != "v-"+k {
				t.Fatalf("GET %s = %q, %v after the founders were replaced", k, got, err)
			}
		}
	}
	e.converge(0, 3, 4)
}
