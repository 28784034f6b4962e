package conformance

import (
	"strings"
	"testing"
	"time"
)

// kindSwaps are the reconfigurations the striped tests run, in order:
// onto striped loglets of 2 and 3 stripes and back to native.
var kindSwaps = [][]string{
	{"--kind", "striped", "--stripes", "2"},
	{"--kind", "native"},
	{"--kind", "striped", "--stripes", "3"},
	{"--kind", "native"},
	{"--kind", "striped"}, // the chain keeps 3 stripes
}

// checkSwap checks what `gateway reconfigure args...` printed: the new
// segment, and for a striped loglet its stripes.
func checkSwap(t *testing.T, args []string, out string) {
	t.Helper()
	if !strings.Contains(out, "new segment starts at") {
		t.Fatalf("reconfigure %v printed %q", args, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var active []string // the active segment's line and its stripes
	for i, line := range lines {
		if strings.HasSuffix(line, ", active") {
			active = lines[i:]
		}
	}
	if len(active) == 0 {
		t.Fatalf("reconfigure %v printed no active segment:\n%s", args, out)
	}
	want := 0
	if args[1] == "striped" {
		want = 3
		if len(args) > 3 {
			want = int(args[3][0] - '0')
		}
	}
	if !strings.Contains(active[0], " "+args[1]+" loglet ") || len(active)-1 != want {
		t.Fatalf("reconfigure %v: active segment is\n%s\nwant a %s loglet with %d stripes", args, strings.Join(active, "\n"), args[1], want)
	}
}

// TestReconfigureStripedSingle moves a single node's log onto striped
// loglets (their stripes on the node's one LogServer) and back to native
// while go-redis clients write: no client sees an error, every
// acknowledged write stays, and after a restart (which leaves the striped
// loglet without its writer) the node fails over and keeps serving.
func TestReconfigureStripedSingle(t *testing.T) {
	ctx := testCtx(t)
	g := startGateway(t)
	h := reconfigureWhileDriving(t, g, 6, 100, kindSwaps, func(args []string, out string) { checkSwap(t, args, out) })
	if status := g.gatewayCLI("status"); !strings.Contains(status, "stripe 2: native loglet") {
		t.Fatalf("status does not show the stripes:\n%s", status)
	}

	if err := g.stop(); err != nil {
		t.Fatalf("gateway exit after SIGTERM: %v", err)
	}
	g.restart()
	c := g.redisClient(2)
	if err := c.Set(ctx, "after-restart", "x", 0).Err(); err != nil {
		t.Fatalf("SET after restart on a striped log: %v", err)
	}
	verify(t, ctx, g, h)
}

// TestEnsembleReconfigureStriped moves a 3-node ensemble's log onto
// striped loglets and back to native, from different nodes, while
// go-redis clients on every node write and read: the history is
// linearizable and the replicas converge to equal checksums.
func TestEnsembleReconfigureStriped(t *testing.T) {
	e := startEnsemble(t, 3)
	w := startWorkload(t, e, 6)
	for i, args := range kindSwaps {
		w.waitOps(t, 100, time.Minute)
		checkSwap(t, args, e.nodes[i%3].gatewayCLI(append([]string{"reconfigure"}, args...)...))
	}
	w.waitOps(t, 100, time.Minute)
	w.finish(t)
	segs := e.status(1).Chain.Segments
	active := segs[len(segs)-1].Loglet
	if active.Kind != "striped" || len(active.Stripes) != 3 || len(active.Stripes[0].Servers) != 3 {
		t.Fatalf("active loglet %v; want striped over 3 stripes on 3 LogServers", active)
	}
	e.converge(0, 1, 2)
}

// TestFaultKillStripedWriter kills -9 the node that writes the active
// striped loglet while go-redis clients on every node write and read: the
// survivors, whose appends it took, fail over to a striped loglet of
// their own; the history stays linearizable and, once the node is back,
// every replica converges.
func TestFaultKillStripedWriter(t *testing.T) {
	e := startEnsemble(t, 3)
	w := startWorkload(t, e, 6)
	w.waitOps(t, 100, time.Minute)
	checkSwap(t, kindSwaps[0], e.nodes[0].gatewayCLI(append([]string{"reconfigure"}, kindSwaps[0]...)...))
	w.waitOps(t, 100, time.Minute)
	e.nodes[0].kill()
	w.waitOps(t, 200, time.Minute)
	segs := e.status(1).Chain.Segments
	if l := segs[len(segs)-1].Loglet; l.Kind != "striped" || l.Sequencer == nodeID(0) {
		t.Fatalf("after the writer died the active loglet is %v; want a striped loglet written by a survivor", l)
	}
	e.nodes[0].restart()
	w.waitOps(t, 200, time.Minute)
	t.Logf("history: %d ok, %d uncertain", w.h.ok.Load(), w.h.unknown.Load())
	w.finish(t)
	e.converge(0, 1, 2)
}

// TestEnsembleStripedDisaggregated moves a 3-node ensemble's log onto a
// striped loglet whose stripes live on three LogServer-only processes,
// then back onto the members' own LogServers as a native loglet, while
// go-redis clients write and read.
func TestEnsembleStripedDisaggregated(t *testing.T) {
	e := startEnsemble(t, 3)
	_, spec := startLogServers(t, 3)
	w := startWorkload(t, e, 6)
	w.waitOps(t, 100, time.Minute)
	args := []string{"--kind", "striped", "--stripes", "2", "--logservers", spec}
	out := e.nodes[1].gatewayCLI(append([]string{"reconfigure"}, args...)...)
	checkSwap(t, args, out)
	if strings.Count(out, "native loglet") < 2 || !strings.Contains(out, "stripe 1: native loglet") || !strings.Contains(out[strings.Index(out, "stripe 0"):], "on ls1,ls2,ls3") {
		t.Fatalf("stripes not on the LogServer-only processes:\n%s", out)
	}
	w.waitOps(t, 200, time.Minute)
	activeKind(t, "native", e.nodes[2].gatewayCLI("reconfigure", "--kind", "native", "--converged"))
	w.waitOps(t, 100, time.Minute)
	w.finish(t)
	e.converge(0, 1, 2)
}
