package conformance

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// pause stops the process (SIGSTOP) without killing it: its sockets stay
// open, its clock runs on.
func (g *gateway) pause() { g.cmd.Process.Signal(syscall.SIGSTOP) }

// resume continues a paused process (SIGCONT).
func (g *gateway) resume() { g.cmd.Process.Signal(syscall.SIGCONT) }

const checkTailMetric = "hourglass_log_check_tail_duration_seconds"

// TestLeaseReadsSkipTheTail: under its read lease a node answers reads
// from its applied state, without asking the log for its tail: on a
// single node, and on a node of an ensemble that does not run the
// sequencer.
func TestLeaseReadsSkipTheTail(t *testing.T) {
	ctx := context.Background()
	single := startGateway(t, "--http-addr", "127.0.0.1:0")
	e := startEnsemble(t, 3, "--http-addr", "127.0.0.1:0")
	other := e.nodes[(e.sequencer(0)+1)%3]
	for name, g := range map[string]*gateway{"single node": single, "ensemble node": other} {
		c := redis.NewClient(&redis.Options{Addr: g.addr("redis")})
		defer c.Close()
		if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
		// The lease is granted within a term of the start.
		time.Sleep(1500 * time.Millisecond)
		before := scrapeMetrics(t, g)
		for range 300 {
			if v, err := c.Get(ctx, "k").Result(); err != nil || v != "v" {
				t.Fatalf("%s: GET k = %q, %v", name, v, err)
			}
		}
		after := scrapeMetrics(t, g)
		if d := after.value(checkTailMetric, nil) - before.value(checkTailMetric, nil); d > 30 {
			t.Errorf("%s: 300 GETs under a lease checked the log's tail %v times", name, d)
		}
		leased := map[string]string{"path": "lease"}
		if d := after.value("hourglass_reads_total", leased) - before.value("hourglass_reads_total", leased); d < 270 {
			t.Errorf("%s: %v of 300 GETs counted as answered under the lease", name, d)
		}
		if v := after.value("hourglass_read_lease_held", nil); v != 1 {
			t.Errorf("%s: hourglass_read_lease_held = %v", name, v)
		}
	}
	// gateway status says which members hold leases: all three.
	out := other.gatewayCLI("status")
	if n := strings.Count(out, ", read lease"); n != 3 {
		t.Errorf("gateway status shows %d members with a read lease, want 3:\n%s", n, out)
	}
}

// TestLeasePausedNodeAnswersFresh: a node paused (SIGSTOP) past its lease
// while a write is acknowledged elsewhere does not, once it wakes, answer
// a read from its stale state, even for a request that reached it while
// it was paused; and the write waited no longer than about the lease.
func TestLeasePausedNodeAnswersFresh(t *testing.T) {
	ctx := context.Background()
	const term = 500 * time.Millisecond
	e := startEnsemble(t, 3, "--read-lease", term.String())
	// The victim does not run the sequencer (a paused sequencer holds
	// every write until the others fail it over; TestFaultPausedNode
	// covers that); the writer is on the third node.
	seq := e.sequencer(0)
	victim := e.nodes[(seq+1)%3]
	writer := redis.NewClient(&redis.Options{Addr: e.nodes[(seq+2)%3].addr("redis"), MaxRetries: -1})
	defer writer.Close()
	for round := range 3 {
		v1, v2 := fmt.Sprintf("old%d", round), fmt.Sprintf("new%d", round)
		if err := writer.Set(ctx, "k", v1, 0).Err(); err != nil {
			t.Fatal(err)
		}
		raw, err := net.Dial("tcp", victim.addr("redis"))
		if err != nil {
			t.Fatal(err)
		}
		r := bufio.NewReader(raw)
		// The victim has the first write and holds a lease.
		time.Sleep(2 * term)
		fmt.Fprintf(raw, "GET k\r\n")
		if line, _ := r.ReadString('\n'); line != "$"+fmt.Sprint(len(v1))+"\r\n" {
			t.Fatalf("before the pause the victim answered %q", line)
		}
		r.ReadString('\n')

		victim.pause()
		start := time.Now()
		if err := writer.Set(ctx, "k", v2, 0).Err(); err != nil {
			victim.resume()
			t.Fatal(err)
		}
		waited := time.Since(start)
		// A request that reaches the paused node waits in its socket.
		fmt.Fprintf(raw, "GET k\r\n")
		time.Sleep(2 * term)
		victim.resume()
		raw.SetReadDeadline(time.Now().Add(20 * time.Second))
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		val, _ := r.ReadString('\n')
		if got := strings.TrimSpace(val); got != v2 {
			t.Fatalf("round %d: the woken node answered %q %q for a read sent after %q was acknowledged", round, line, got, v2)
		}
		raw.Close()
		if waited > 10*term {
			t.Errorf("round %d: the write waited %v for the paused node's lease of %v", round, waited, term)
		}
		t.Logf("round %d: the write waited %v for the paused node", round, waited)
	}
	e.converge(0, 1, 2)
}

// TestFaultPausedNode runs the linearizability workload while a random
// node is paused (SIGSTOP) for longer than its lease and then woken, over
// and over; porcupine checks the history and the replicas converge.
func TestFaultPausedNode(t *testing.T) {
	e := startEnsemble(t, 3)
	w := startWorkload(t, e, 6)
	phase := faultPhase(t)
	for round := range 3 {
		time.Sleep(phase)
		// The sequencer's node first, then others.
		i := e.sequencer(0)
		if round > 0 {
			i = (i + 1 + rand.IntN(2)) % 3
		}
		victim := e.nodes[i]
		victim.pause()
		w.waitOps(t, 100, time.Minute)
		time.Sleep(phase)
		victim.resume()
		w.waitOps(t, 100, time.Minute)
		t.Logf("round %d: paused and woke %s", round, nodeID(i))
	}
	w.finish(t)
	e.converge(0, 1, 2)
}
