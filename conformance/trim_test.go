package conformance

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"hourglass/node/adminpb"
)

// restoredMsg is the node's log line when it replaced its state with a
// peer's checkpoint.
const restoredMsg = "restored the applied state from a peer's checkpoint"

// leftBehindMetric counts the members the log is no longer kept for.
const leftBehindMetric = "hourglass_log_trim_members_left_behind"

// memberView returns member id's view in a status's trim policy.
func memberView(t *testing.T, st *adminpb.StatusResponse, id string) *adminpb.MemberView {
	t.Helper()
	for _, m := range st.GetTrim().GetMembers() {
		if m.Id == id {
			return m
		}
	}
	t.Fatalf("status of %s has no trim view of %s: %v", st.NodeId, id, st.GetTrim())
	return nil
}

// TestEnsembleTrimRetention: the log is trimmed only below what every
// member has made durable. A node that is stopped for less than the
// retention holds the trim back at its position, and on restart catches
// up from the log; once it has been silent longer than the retention (in
// log time) the others trim past it, and on restart it catches up from a
// peer's checkpoint. The replicas end identical.
func TestEnsembleTrimRetention(t *testing.T) {
	e := startEnsemble(t, 3, "--log-retain", "20", "--trim-retention", "12s", "--http-addr", "127.0.0.1:0")
	ctx := testCtx(t)
	victim := (e.sequencer(0) + 1) % 3
	var live []int
	for i := range 3 {
		if i != victim {
			live = append(live, i)
		}
	}
	id := nodeID(victim)
	c := e.nodes[live[0]].redisClient(2)
	write := func(prefix string, n int) {
		t.Helper()
		for i := range n {
			if err := c.Set(ctx, fmt.Sprint(prefix, i), i, 0).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	write("before", 100)
	e.nodes[live[0]].gatewayCLI("reconfigure")
	write("more", 20)
	// The victim reports a durable position past the segments before
	// the active one.
	segs := e.status(live[0]).Chain.Segments
	segEnd := segs[len(segs)-1].Start
	waitFor(t, id+" to report past the sealed segments", 30*time.Second, func() bool {
		return memberView(t, e.status(live[0]), id).Durable > segEnd
	})
	e.nodes[victim].kill()

	// Within the retention: the others write and reconfigure; the log is
	// trimmed up to the stopped node's durable position, not past it.
	write("during", 20)
	e.nodes[live[0]].gatewayCLI("reconfigure")
	write("during", 20)
	var held *adminpb.MemberView
	waitFor(t, "the log to be trimmed up to the stopped node", 30*time.Second, func() bool {
		st := e.status(live[0])
		held = memberView(t, st, id)
		return st.Chain.Segments[0].Start >= segEnd
	})
	st := e.status(live[0])
	held = memberView(t, st, id)
	if !held.Waited || held.LeftBehind {
		t.Fatalf("%s is not waited for within the retention: %v", id, st.Trim)
	}
	// The stopped node bounds the views vote (a live node's last report
	// may be lower still) and the trim point (the retain vote may be).
	if v := st.Trim.Votes["views"]; v > held.Durable || st.Trim.Point > held.Durable {
		t.Fatalf("trim point %d, views vote %d; %s's durable position %d", st.Trim.Point, v, id, held.Durable)
	}
	if start := st.Chain.Segments[0].Start; start > held.Durable {
		t.Fatalf("the log starts at %d, past %s's durable position %d", start, id, held.Durable)
	}
	if out := e.nodes[live[0]].gatewayCLI("status"); !strings.Contains(out, id+": applied") || !strings.Contains(out, "holds the trim") || strings.Contains(out, "left behind") {
		t.Fatalf("gateway status:\n%s", out)
	}
	if v := scrapeMetrics(t, e.nodes[live[0]]).value(leftBehindMetric, nil); v != 0 {
		t.Fatalf("%s = %v within the retention", leftBehindMetric, v)
	}
	e.nodes[victim].restart()
	cv := e.nodes[victim].redisClient(2)
	if got := cv.Get(ctx, "during7").Val(); got != "7" {
		t.Fatalf("%s reads during7 = %q after catching up", id, got)
	}
	if n := e.nodes[victim].loggedCount(restoredMsg); n != 0 {
		t.Fatalf("%s restored from a checkpoint %d times; the log was kept for it", id, n)
	}
	e.converge(0, 1, 2)

	// Past the retention: the others trim past the stopped node, which
	// then restores from a peer's checkpoint.
	e.nodes[victim].kill()
	var behind *adminpb.MemberView
	waitFor(t, "the log to be trimmed past the node left behind", time.Minute, func() bool {
		write("after", 20)
		e.nodes[live[0]].gatewayCLI("reconfigure")
		st := e.status(live[0])
		behind = memberView(t, st, id)
		return behind.LeftBehind && st.Chain.Segments[0].Start > behind.Durable
	})
	if out := e.nodes[live[0]].gatewayCLI("status"); !strings.Contains(out, id+": applied") || !strings.Contains(out, "left behind") {
		t.Fatalf("gateway status:\n%s", out)
	}
	if v := scrapeMetrics(t, e.nodes[live[0]]).value(leftBehindMetric, nil); v != 1 {
		t.Fatalf("%s = %v past the retention", leftBehindMetric, v)
	}
	e.nodes[victim].restart()
	cv = e.nodes[victim].redisClient(2)
	if got := cv.Get(ctx, "after7").Val(); got != "7" {
		t.Fatalf("%s reads after7 = %q after restoring", id, got)
	}
	if err := cv.Incr(ctx, "during0").Err(); err != nil {
		t.Fatal(err)
	}
	if n := e.nodes[victim].loggedCount(restoredMsg); n != 1 {
		t.Fatalf("%s restored from a checkpoint %d times, want once", id, n)
	}
	e.converge(0, 1, 2)
}
