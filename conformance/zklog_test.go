package conformance

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// activeKind checks that reconfigure printed a new active segment of the
// given loglet kind.
func activeKind(t *testing.T, kind string, out string) {
	t.Helper()
	for line := range strings.SplitSeq(out, "\n") {
		if strings.HasSuffix(line, ", active") {
			if !strings.Contains(line, " "+kind+" loglet ") {
				t.Fatalf("active segment %q, want a %s loglet\n%s", line, kind, out)
			}
			return
		}
	}
	t.Fatalf("no active segment in:\n%s", out)
}

// TestServeOnZooKeeperLog starts a single node whose log begins in a real
// Apache ZooKeeper, moves it to native, striped and back to ZooKeeper
// while go-redis clients write, then restarts the node on its ZooKeeper
// loglet: every acknowledged write stays.
func TestServeOnZooKeeperLog(t *testing.T) {
	zk := startRealZK(t)
	g := startGateway(t, "--log", "zookeeper", "--zk-log-servers", zk)
	if st := g.gatewayCLI("status"); !strings.Contains(st, "zookeeper loglet 1 on "+zk) {
		t.Fatalf("status of a node started on ZooKeeper:\n%s", st)
	}
	swaps := [][]string{
		{"--kind", "native"},
		{"--kind", "zookeeper"}, // the chain's ZooKeeper
		{"--kind", "striped"},
		{"--kind", "zookeeper", "--zk-log-servers", zk},
	}
	h := reconfigureWhileDriving(t, g, 6, 100, swaps, func(args []string, out string) { activeKind(t, args[1], out) })
	if err := g.stop(); err != nil {
		t.Fatalf("gateway exit after SIGTERM: %v", err)
	}
	g.restart()
	ctx := testCtx(t)
	if err := g.redisClient(2).Set(ctx, "after-restart", "x", 0).Err(); err != nil {
		t.Fatalf("SET after restart on a ZooKeeper log: %v", err)
	}
	verify(t, ctx, g, h)
}

// TestEnsembleReconfigureZooKeeper moves a running 3-node ensemble's log
// into a real ZooKeeper and back to native while go-redis clients on every
// node write and read: the history is linearizable and the replicas
// converge to equal checksums.
func TestEnsembleReconfigureZooKeeper(t *testing.T) {
	zk := startRealZK(t)
	e := startEnsemble(t, 3)
	w := startWorkload(t, e, 6)
	for i, args := range [][]string{
		{"--kind", "zookeeper", "--zk-log-servers", zk},
		{"--kind", "native"},
		{"--kind", "zookeeper"},
	} {
		w.waitOps(t, 100, time.Minute)
		activeKind(t, args[1], e.nodes[i].gatewayCLI(append([]string{"reconfigure"}, args...)...))
	}
	w.waitOps(t, 100, time.Minute)
	w.finish(t)
	e.converge(0, 1, 2)
}

// TestEnsembleSwapLogletKinds swaps the log's loglet kind, native ->
// striped -> zookeeper -> native, from every node in turn, while go-redis
// and go-zookeeper clients on all three nodes write and read. Both
// histories must be linearizable, the replicas converge to equal
// checksums, and the client-visible errors (operations whose outcome the
// client could not learn) are counted. It makes ten swaps;
// HOURGLASS_SWAPS sets another number for a longer soak.
func TestEnsembleSwapLogletKinds(t *testing.T) {
	n := 10
	if s := os.Getenv("HOURGLASS_SWAPS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			t.Fatalf("HOURGLASS_SWAPS=%q", s)
		}
		n = v
	}
	zk := startRealZK(t)
	e := startEnsemble(t, 3, "--zk-log-servers", zk)
	kv := startWorkload(t, e, 6)
	zw := startZKWorkload(t, e, 3, 4*time.Second)
	kinds := [][]string{{"--kind", "striped", "--stripes", "2"}, {"--kind", "zookeeper"}, {"--kind", "native"}}
	swaps := 0
	for ; swaps < n; swaps++ {
		args := kinds[swaps%len(kinds)]
		kv.waitOps(t, 50, time.Minute)
		zw.waitOps(t, 20, time.Minute)
		activeKind(t, args[1], e.nodes[swaps%3].gatewayCLI(append([]string{"reconfigure"}, args...)...))
	}
	kv.waitOps(t, 50, time.Minute)
	zw.waitOps(t, 20, time.Minute)
	t.Logf("%d swaps; go-redis: %d ok, %d uncertain; go-zookeeper: %d ok, %d uncertain",
		swaps, kv.h.ok.Load(), kv.h.unknown.Load(), zw.h.ok.Load(), zw.h.unknown.Load())
	kv.finish(t)
	zw.finish(t)
	e.converge(0, 1, 2)
}
