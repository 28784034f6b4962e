package conformance

import (
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"
)

// faultPhase is how long each phase of a fault test runs load; set
// HOURGLASS_FAULT_PHASE (a Go duration) for longer soak runs.
func faultPhase(t testing.TB) time.Duration {
	if s := os.Getenv("HOURGLASS_FAULT_PHASE"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("HOURGLASS_FAULT_PHASE: %v", err)
		}
		return d
	}
	return 1500 * time.Millisecond
}

// faultRounds is how many times runFaultSchedule goes through its faults;
// set HOURGLASS_FAULT_ROUNDS for soak runs.
func faultRounds(t testing.TB) int {
	if s := os.Getenv("HOURGLASS_FAULT_ROUNDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("HOURGLASS_FAULT_ROUNDS: %q is not a positive count", s)
		}
		return n
	}
	return 1
}

// runFaultSchedule puts a 3-node ensemble through, each round: kill -9 of
// the sequencer's node and its restart, kill -9 of another node and its
// restart, and a partition of a random node (every link to and from it
// black-holed) and its healing; each fault lasts a phase, and the
// clients must make progress (waitOps) during each fault and after it.
func runFaultSchedule(t *testing.T, e *ensemble, waitOps func(testing.TB, int64, time.Duration)) {
	t.Helper()
	phase := faultPhase(t)
	for round := range faultRounds(t) {
		seq := e.sequencer(0)
		for _, victim := range []int{seq, (seq + 1 + rand.IntN(2)) % 3} {
			time.Sleep(phase)
			e.nodes[victim].kill()
			waitOps(t, 200, time.Minute)
			time.Sleep(phase)
			e.nodes[victim].restart()
			waitOps(t, 200, time.Minute)
		}
		victim := rand.IntN(3)
		time.Sleep(phase)
		e.isolate(victim, linkBlackhole)
		waitOps(t, 200, time.Minute)
		time.Sleep(phase)
		e.isolate(victim, linkUp)
		waitOps(t, 200, time.Minute)
		t.Logf("round %d: killed %s (sequencer), then another node, isolated %s", round, nodeID(seq), nodeID(victim))
	}
}

// TestFaultRedisLinearizable runs go-redis clients on all three nodes,
// with single commands and pipelines of mixed reads and writes, through
// the fault schedule.
func TestFaultRedisLinearizable(t *testing.T) {
	e := startEnsemble(t, 3)
	w := startWorkload(t, e, 6)
	runFaultSchedule(t, e, w.waitOps)
	w.finish(t)
	e.converge(0, 1, 2)
}

// TestFaultKillSequencer kills -9 the node running the sequencer while
// clients on every node write and read; the others fail over, the history
// stays linearizable, and once the node is back every replica converges.
func TestFaultKillSequencer(t *testing.T) {
	e := startEnsemble(t, 3)
	w := startWorkload(t, e, 6)
	phase := faultPhase(t)
	for round := range 2 {
		time.Sleep(phase)
		seq := e.sequencer(0)
		e.nodes[seq].kill()
		w.waitOps(t, 200, time.Minute) // the survivors carry on
		time.Sleep(phase)
		e.nodes[seq].restart()
		w.waitOps(t, 200, time.Minute)
		t.Logf("round %d: killed sequencer %s; history so far %d ok, %d uncertain", round, nodeID(seq), w.h.ok.Load(), w.h.unknown.Load())
	}
	w.finish(t)
	e.converge(0, 1, 2)
}

// TestFaultKillLogServer kills -9 a node that does not run the sequencer:
// its LogServer is gone, a majority remains, writes go on.
func TestFaultKillLogServer(t *testing.T) {
	e := startEnsemble(t, 3)
	w := startWorkload(t, e, 6)
	phase := faultPhase(t)
	time.Sleep(phase)
	victim := (e.sequencer(0) + 1) % 3
	e.nodes[victim].kill()
	w.waitOps(t, 300, time.Minute)
	time.Sleep(phase)
	e.nodes[victim].restart()
	w.waitOps(t, 300, time.Minute)
	w.finish(t)
	e.converge(0, 1, 2)
}

// TestFaultPartition cuts one node off (its links black-holed, as in a
// network partition), first a node without the sequencer, then the
// sequencer's own; the majority side goes on, and after healing the
// isolated node catches up.
func TestFaultPartition(t *testing.T) {
	e := startEnsemble(t, 3)
	w := startWorkload(t, e, 6)
	phase := faultPhase(t)
	for _, victim := range []int{(e.sequencer(0) + 1) % 3, e.sequencer(0)} {
		time.Sleep(phase)
		e.isolate(victim, linkBlackhole)
		w.waitOps(t, 200, time.Minute)
		time.Sleep(phase)
		e.isolate(victim, linkUp)
		w.waitOps(t, 200, time.Minute)
		t.Logf("isolated and healed %s", nodeID(victim))
	}
	w.finish(t)
	e.converge(0, 1, 2)
}

// TestFaultSlowLinks adds latency to every link while clients run.
func TestFaultSlowLinks(t *testing.T) {
	e := startEnsemble(t, 3)
	w := startWorkload(t, e, 6)
	time.Sleep(faultPhase(t))
	for i := range e.links {
		for j := range e.links {
			if i != j {
				e.links[i][j].setDelay(time.Duration(1+rand.IntN(5)) * time.Millisecond)
			}
		}
	}
	w.waitOps(t, 300, time.Minute)
	w.finish(t)
	e.converge(0, 1, 2)
}

// TestFaultReconfigureRepeatedly runs gateway reconfigure on random nodes,
// over and over, while clients run.
func TestFaultReconfigureRepeatedly(t *testing.T) {
	e := startEnsemble(t, 3)
	w := startWorkload(t, e, 6)
	for i := range 12 {
		w.waitOps(t, 50, time.Minute)
		e.nodes[rand.IntN(3)].gatewayCLI("reconfigure")
		_ = i
	}
	w.waitOps(t, 100, time.Minute)
	w.finish(t)
	st := e.status(0)
	if n := len(st.Chain.Segments); n < 13 {
		t.Fatalf("chain has %d segments after 12 reconfigurations", n)
	}
	e.converge(0, 1, 2)
}
