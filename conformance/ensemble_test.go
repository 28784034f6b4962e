package conformance

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"hourglass/platform/node/adminpb"
)

// ensemble is n gateway processes whose peer traffic runs through one
// proxy per directed link, so that a test can kill, cut or slow any of
// them.
type ensemble struct {
	t     testing.TB
	nodes []*gateway
	// links[i][j] carries node i's connections to node j.
	links [][]*proxy
	extra []string
}

func nodeID(i int) string { return fmt.Sprintf("n%d", i+1) }

// startEnsemble starts n nodes (in parallel: each waits for a majority)
// and returns once all are ready.
func startEnsemble(t testing.TB, n int, extra ...string) *ensemble {
	t.Helper()
	e := &ensemble{t: t, extra: extra}
	e.links = make([][]*proxy, n)
	for i := range n {
		e.links[i] = make([]*proxy, n)
		for j := range n {
			if i != j {
				e.links[i][j] = newProxy(t)
			}
		}
	}
	for i := range n {
		g := &gateway{t: t, dataDir: t.TempDir(), args: append(e.nodeArgs(i), extra...)}
		g.onListen = func(api, addr string) {
			if api != "peer" {
				return
			}
			for k := range n {
				if k != i {
					e.links[k][i].setTarget(addr)
				}
			}
		}
		e.nodes = append(e.nodes, g)
		t.Cleanup(g.kill)
	}
	var wg sync.WaitGroup
	for _, g := range e.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.start()
		}()
	}
	wg.Wait()
	return e
}

// nodeArgs are node i's serve flags: its id, a free peer port, and the
// ensemble as it reaches it (through its own links).
func (e *ensemble) nodeArgs(i int) []string {
	n := len(e.links)
	var peers []string
	for j := range n {
		addr := ""
		if j == i {
			// Never dialed by i itself; the address others use.
			addr = e.links[(i+1)%n][i].addr()
		} else {
			addr = e.links[i][j].addr()
		}
		peers = append(peers, nodeID(j)+"="+addr)
	}
	return []string{"--node-id", nodeID(i), "--peer-addr", "127.0.0.1:0", "--peers", strings.Join(peers, ",")}
}

// isolate cuts (or restores) every link to and from node i.
func (e *ensemble) isolate(i int, m linkMode) {
	for j := range e.links {
		if j != i {
			e.links[i][j].set(m)
			e.links[j][i].set(m)
		}
	}
}

// admin returns an admin client for node i.
func (e *ensemble) admin(i int) adminpb.AdminClient {
	conn, err := grpc.NewClient(e.nodes[i].addr("admin"), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { conn.Close() })
	return adminpb.NewAdminClient(conn)
}

// status asks node i for the ensemble's status.
func (e *ensemble) status(i int) *adminpb.StatusResponse {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := e.admin(i).Status(ctx, &adminpb.StatusRequest{})
	if err != nil {
		e.t.Fatalf("status of %s: %v", nodeID(i), err)
	}
	return st
}

// sequencer returns the index of the node running the active loglet's
// sequencer, as node from sees it.
func (e *ensemble) sequencer(from int) int {
	segs := e.status(from).Chain.Segments
	seq := segs[len(segs)-1].Loglet.Sequencer
	for i := range e.nodes {
		if nodeID(i) == seq {
			return i
		}
	}
	e.t.Fatalf("sequencer %q is not a node", seq)
	return -1
}

// converge waits until every live node has applied the same log prefix
// (no writes may run), then checks that all hold identical state.
func (e *ensemble) converge(live ...int) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tail := e.status(live[0]).Tail
	var sums [][]byte
	var applied []uint64
	for _, i := range live {
		r, err := e.admin(i).Checksum(ctx, &adminpb.ChecksumRequest{AtLeast: tail})
		if err != nil {
			e.t.Fatalf("checksum of %s: %v", nodeID(i), err)
		}
		sums = append(sums, r.Checksum)
		applied = append(applied, r.Applied)
	}
	for k := range live {
		if applied[k] != applied[0] || !bytes.Equal(sums[k], sums[0]) {
			e.t.Fatalf("replicas differ: applied %v, checksums %x", applied, sums)
		}
	}
	e.t.Logf("nodes %v converged at position %d", live, applied[0])
}

// TestEnsembleBasics: writes on any node are visible on every node, reads
// are linearizable across nodes, and status reports every member.
func TestEnsembleBasics(t *testing.T) {
	e := startEnsemble(t, 3)
	ctx := testCtx(t)
	var clients []*redis.Client
	for i := range e.nodes {
		clients = append(clients, e.nodes[i].redisClient(2))
	}
	for round := range 30 {
		w := clients[round%3]
		if err := w.Set(ctx, "k", fmt.Sprint(round), 0).Err(); err != nil {
			t.Fatal(err)
		}
		// A read on any other node, begun after the write returned, sees it.
		for _, r := range clients {
			if got := r.Get(ctx, "k").Val(); got != fmt.Sprint(round) {
				t.Fatalf("round %d: read %q after the write on another node", round, got)
			}
		}
		if n := clients[(round+1)%3].Incr(ctx, "n").Val(); n != int64(round+1) {
			t.Fatalf("round %d: INCR = %d", round, n)
		}
	}
	st := e.status(1)
	if len(st.Nodes) != 3 {
		t.Fatalf("status lists %d nodes", len(st.Nodes))
	}
	for _, n := range st.Nodes {
		if !n.Reachable {
			t.Fatalf("node %s unreachable in status: %s", n.Id, n.Error)
		}
	}
	out := e.nodes[0].gatewayCLI("status")
	if !strings.Contains(out, "nodes (3):") || !strings.Contains(out, "sequencer n") {
		t.Fatalf("gateway status:\n%s", out)
	}
	e.converge(0, 1, 2)
}
