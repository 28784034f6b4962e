package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"hourglass/node/adminpb"
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
	// ids holds the id of a node that took slot i's place (gateway
	// members replace); an empty or missing entry means nodeID(i).
	ids []string
}

func nodeID(i int) string { return fmt.Sprintf("n%d", i+1) }

// id returns the id of the node in slot i.
func (e *ensemble) id(i int) string {
	if i < len(e.ids) && e.ids[i] != "" {
		return e.ids[i]
	}
	return nodeID(i)
}

// startEnsemble starts n nodes (in parallel: each waits for a majority)
// and returns once all are ready.
func startEnsemble(t testing.TB, n int, extra ...string) *ensemble {
	t.Helper()
	dirs := make([]string, n)
	for i := range dirs {
		dirs[i] = t.TempDir()
	}
	return startEnsembleIn(t, dirs, nil, extra...)
}

// startEnsembleIn is startEnsemble on the given data directories, one a
// node; nodeArgs, if set, gives each node flags of its own.
func startEnsembleIn(t testing.TB, dirs []string, nodeArgs func(i int) []string, extra ...string) *ensemble {
	t.Helper()
	n := len(dirs)
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
		g := &gateway{t: t, dataDir: dirs[i], args: append(e.nodeArgs(i), extra...)}
		if nodeArgs != nil {
			g.args = append(g.args, nodeArgs(i)...)
		}
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
	startAll(e.nodes)
	return e
}

// startAll starts gateways in parallel (each waits for a majority of its
// ensemble) and returns once all are ready.
func startAll(nodes []*gateway) {
	var wg sync.WaitGroup
	for _, g := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.start()
		}()
	}
	wg.Wait()
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

// status asks node i for the ensemble's status, retrying while the node
// cannot reach a majority (right after a restart, say).
func (e *ensemble) status(i int) *adminpb.StatusResponse {
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		st, err := e.admin(i).Status(ctx, &adminpb.StatusRequest{})
		cancel()
		if err == nil {
			return st
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("status of %s: %v", e.id(i), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sequencer returns the index of the node running the active loglet's
// sequencer, as node from sees it.
func (e *ensemble) sequencer(from int) int {
	segs := e.status(from).Chain.Segments
	seq := segs[len(segs)-1].Loglet.Sequencer
	for i := range e.nodes {
		if e.id(i) == seq {
			return i
		}
	}
	e.t.Fatalf("sequencer %q is not a node", seq)
	return -1
}

// converge waits until every live node has applied the same log prefix,
// then checks that all hold identical state. Writes should have stopped;
// background entries (ZooKeeper session touches, expiry ticks) may still
// come, so a round whose nodes answered at different positions is tried
// again.
func (e *ensemble) converge(live ...int) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for attempt := 0; ; attempt++ {
		tail := e.status(live[0]).Tail
		var sums [][]byte
		var applied []uint64
		for _, i := range live {
			r, err := e.admin(i).Checksum(ctx, &adminpb.ChecksumRequest{AtLeast: tail})
			if err != nil {
				e.t.Fatalf("checksum of %s: %v", e.id(i), err)
			}
			sums = append(sums, r.Checksum)
			applied = append(applied, r.Applied)
		}
		same := true
		for k := range live {
			if applied[k] != applied[0] {
				same = false
			} else if !bytes.Equal(sums[k], sums[0]) {
				e.t.Fatalf("replicas differ at position %d: checksums %x", applied[0], sums)
			}
		}
		if same {
			e.t.Logf("nodes %v converged at position %d", live, applied[0])
			return
		}
		if attempt == 50 {
			e.t.Fatalf("replicas never answered at one position: applied %v, checksums %x", applied, sums)
		}
		time.Sleep(20 * time.Millisecond)
	}
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

// startLogServers starts n LogServer-only processes, ls1 to lsn (the
// first ones with the environments envs, if given), and returns them with
// their --logservers spec.
func startLogServers(t *testing.T, n int, envs ...[]string) ([]*gateway, string) {
	t.Helper()
	var lss []*gateway
	var spec []string
	for i := range n {
		ls := &gateway{t: t, dataDir: t.TempDir(), logServer: true}
		if i < len(envs) {
			ls.env = envs[i]
		}
		ls.start()
		t.Cleanup(ls.kill)
		lss = append(lss, ls)
		spec = append(spec, fmt.Sprintf("ls%d=%s", i+1, ls.addr("peer")))
	}
	return lss, strings.Join(spec, ",")
}

// TestEnsembleDisaggregated moves the log onto three LogServer-only
// processes while clients run, survives losing one of them, and moves the
// log back onto the members' own LogServers.
func TestEnsembleDisaggregated(t *testing.T) {
	e := startEnsemble(t, 3)
	lss, spec := startLogServers(t, 3)
	w := startWorkload(t, e, 6)
	w.waitOps(t, 200, time.Minute)
	out := e.nodes[1].gatewayCLI("reconfigure", "--logservers", spec)
	if !strings.Contains(out, "on ls1,ls2,ls3") {
		t.Fatalf("reconfigure --logservers:\n%s", out)
	}
	w.waitOps(t, 300, time.Minute)
	lss[2].kill() // a majority of LogServers remains
	w.waitOps(t, 300, time.Minute)
	status := e.nodes[0].gatewayCLI("status")
	if !strings.Contains(status, "log servers (disaggregated): ls1=") {
		t.Fatalf("status while disaggregated:\n%s", status)
	}
	out = e.nodes[2].gatewayCLI("reconfigure", "--converged")
	if !strings.Contains(out, "on n1,n2,n3") {
		t.Fatalf("reconfigure --converged:\n%s", out)
	}
	w.waitOps(t, 300, time.Minute)
	w.finish(t)
	e.converge(0, 1, 2)
}

// TestEnsembleMembers adds a fourth node, which catches up and serves,
// then replaces a stopped node with a fresh one.
func TestEnsembleMembers(t *testing.T) {
	e := startEnsemble(t, 3)
	ctx := testCtx(t)
	c := e.nodes[0].redisClient(2)
	for i := range 50 {
		if err := c.Set(ctx, fmt.Sprint("k", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// A new node joins: the others reach it through an inbound proxy,
	// it reaches the founders through its own.
	addNode := func(id string) *gateway {
		in := newProxy(t)
		var peers []string
		for j := range e.nodes {
			out := newProxy(t)
			out.setTarget(e.nodes[j].addr("peer"))
			peers = append(peers, nodeID(j)+"="+out.addr())
		}
		e.nodes[0].gatewayCLI("members", "add", "--new-id", id, "--peer-addr", in.addr())
		g := &gateway{t: t, dataDir: t.TempDir(), args: []string{"--node-id", id, "--peer-addr", "127.0.0.1:0", "--peers", strings.Join(peers, ",")}}
		g.onListen = func(api, addr string) {
			if api == "peer" {
				in.setTarget(addr)
			}
		}
		g.start()
		t.Cleanup(g.kill)
		return g
	}
	n4 := addNode("n4")
	c4 := n4.redisClient(2)
	if got := c4.Get(ctx, "k7").Val(); got != "7" {
		t.Fatalf("new member reads k7 = %q", got)
	}
	if err := c4.Set(ctx, "from-n4", "yes", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got := c.Get(ctx, "from-n4").Val(); got != "yes" {
		t.Fatalf("founder reads the new member's write as %q", got)
	}
	st := e.status(0)
	if len(st.Nodes) != 4 || st.Chain.Segments[len(st.Chain.Segments)-1].Loglet.Servers[3] != "n4" {
		t.Fatalf("after members add: %v", st)
	}
	// n3 is lost for good; n5 takes its place.
	e.nodes[2].kill()
	out := e.nodes[0].gatewayCLI("members", "replace", "--id", "n3", "--new-id", "n5", "--peer-addr", newProxy(t).addr())
	if strings.Contains(out, "n3 at") || !strings.Contains(out, "n5 at") {
		t.Fatalf("members replace:\n%s", out)
	}
	for i := range 20 {
		if err := c4.Incr(ctx, "after").Err(); err != nil {
			t.Fatalf("write %d after the replacement: %v", i, err)
		}
	}
	if got := c.Get(ctx, "after").Val(); got != "20" {
		t.Fatalf("after = %q", got)
	}
	segs := e.status(0).Chain.Segments
	servers := strings.Join(segs[len(segs)-1].Loglet.Servers, ",")
	if strings.Contains(servers, "n3") || !strings.Contains(servers, "n5") {
		t.Fatalf("active loglet after replace on %s", servers)
	}
}

// TestEnsembleFiveNodes: a five-node ensemble loses two nodes, the
// sequencer's among them, and goes on with the remaining majority.
func TestEnsembleFiveNodes(t *testing.T) {
	e := startEnsemble(t, 5)
	w := startWorkload(t, e, 5)
	w.waitOps(t, 300, time.Minute)
	seq := e.sequencer(0)
	other := (seq + 2) % 5
	e.nodes[seq].kill()
	e.nodes[other].kill()
	w.waitOps(t, 300, time.Minute)
	e.nodes[seq].restart()
	e.nodes[other].restart()
	w.waitOps(t, 300, time.Minute)
	w.finish(t)
	e.converge(0, 1, 2, 3, 4)
}

// TestEnsembleRedisAcrossNodes: a message published on one node reaches
// subscribers on another; a WATCH on one node is broken by a write on
// another.
func TestEnsembleRedisAcrossNodes(t *testing.T) {
	e := startEnsemble(t, 3)
	testPubSub(t, e.nodes[1], e.nodes[2])
	ctx := testCtx(t)
	c1, c2 := e.nodes[0].redisClient(2), e.nodes[2].redisClient(3)
	err := c1.Watch(ctx, func(tx *redis.Tx) error {
		if err := c2.Set(ctx, "w", "from-n3", 0).Err(); err != nil {
			return err
		}
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, "w", "from-n1", 0)
			return nil
		})
		return err
	}, "w")
	if !errors.Is(err, redis.TxFailedErr) {
		t.Fatalf("EXEC on n1 after a write on n3 to a watched key: %v", err)
	}
	if got := e.nodes[1].redisClient(2).Get(ctx, "w").Val(); got != "from-n3" {
		t.Fatalf("w = %q", got)
	}
}
