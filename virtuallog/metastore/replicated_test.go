package metastore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"google.golang.org/grpc"

	"hourglass/internal/pebbledb"
	"hourglass/virtuallog"
	"hourglass/virtuallog/metastore"
	pb "hourglass/virtuallog/metastore/metastorepb"
)

// node is one acceptor served over gRPC on 127.0.0.1, on its own Pebble
// database in an in-memory filesystem that can simulate a crash.
type node struct {
	fs   *vfs.MemFS
	addr string // fixed after the first start, so clients find restarts
	db   *pebble.DB
	acc  *metastore.Acceptor
	srv  *grpc.Server
}

func (n *node) start(t *testing.T) {
	t.Helper()
	db, err := pebbledb.Open("meta", pebbledb.Options{FS: n.fs})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := metastore.NewAcceptor(db, "")
	if err != nil {
		t.Fatal(err)
	}
	addr := n.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	n.addr = lis.Addr().String()
	n.db, n.acc, n.srv = db, acc, grpc.NewServer()
	metastore.RegisterAcceptor(n.srv, acc)
	go n.srv.Serve(lis)
}

// stop stops serving and closes the database.
func (n *node) stop() {
	if n.srv == nil {
		return
	}
	n.srv.Stop()
	n.acc.Close()
	n.db.Close()
	n.srv = nil
}

// crash stops the node and keeps only what its database fsynced.
func (n *node) crash() {
	n.stop()
	n.fs = n.fs.CrashClone(vfs.CrashCloneCfg{})
}

type cluster struct {
	nodes []*node
}

func newCluster(t *testing.T, size int) *cluster {
	c := &cluster{}
	for range size {
		n := &node{fs: vfs.NewCrashableMem()}
		n.start(t)
		c.nodes = append(c.nodes, n)
	}
	t.Cleanup(func() {
		for _, n := range c.nodes {
			n.stop()
		}
	})
	return c
}

// client returns a Replicated over its own gRPC connections to every node.
func (c *cluster) client(t *testing.T, id uint64) *metastore.Replicated {
	t.Helper()
	var clients []metastore.AcceptorClient
	for _, n := range c.nodes {
		ac, closer, err := metastore.DialAcceptor(n.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { closer.Close() })
		clients = append(clients, ac)
	}
	return newReplicated(t, clients, metastore.Config{ProposerID: id, RPCTimeout: 500 * time.Millisecond})
}

func newReplicated(t *testing.T, clients []metastore.AcceptorClient, cfg metastore.Config) *metastore.Replicated {
	t.Helper()
	r, err := metastore.NewReplicated(clients, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// ctxFor returns a context that ends after d or with the test.
func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

func mustRead(t *testing.T, m virtuallog.MetaStore) (string, uint64) {
	t.Helper()
	v, ver, err := m.Read(ctxFor(t, 10*time.Second))
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return string(v), ver
}

func mustWrite(t *testing.T, m virtuallog.MetaStore, value string, expected uint64) {
	t.Helper()
	if err := m.Write(ctxFor(t, 10*time.Second), []byte(value), expected); err != nil {
		t.Fatalf("Write(%q, %d): %v", value, expected, err)
	}
}

func TestReplicatedRacingWriters(t *testing.T) {
	for _, size := range []int{3, 5} {
		t.Run(fmt.Sprintf("%d acceptors", size), func(t *testing.T) {
			c := newCluster(t, size)
			var clients []*metastore.Replicated
			for id := range uint64(4) {
				clients = append(clients, c.client(t, id+1))
			}
			for _, m := range clients {
				v, ver, err := m.Read(ctxFor(t, 10*time.Second))
				if err != nil || v != nil || ver != 0 {
					t.Fatalf("fresh Read = %q, %d, %v", v, ver, err)
				}
			}
			for round := range uint64(12) {
				var wg sync.WaitGroup
				var mu sync.Mutex
				var winners []string
				for i, m := range clients {
					wg.Add(1)
					go func() {
						defer wg.Done()
						value := fmt.Sprintf("r%d-c%d", round, i)
						err := m.Write(ctxFor(t, 10*time.Second), []byte(value), round)
						switch {
						case err == nil:
							mu.Lock()
							winners = append(winners, value)
							mu.Unlock()
						case !errors.Is(err, virtuallog.ErrVersionMismatch):
							t.Errorf("round %d: client %d: %v", round, i, err)
						}
					}()
				}
				wg.Wait()
				if len(winners) != 1 {
					t.Fatalf("round %d: winners %q", round, winners)
				}
				// Every read that begins after the write returned sees it.
				for i, m := range clients {
					if v, ver := mustRead(t, m); v != winners[0] || ver != round+1 {
						t.Fatalf("round %d: client %d reads %q at %d, want %q at %d", round, i, v, ver, winners[0], round+1)
					}
				}
			}
		})
	}
}

func TestReplicatedReadAfterWriteAcrossClients(t *testing.T) {
	c := newCluster(t, 3)
	a, b := c.client(t, 1), c.client(t, 2)
	for i := range uint64(10) {
		w, r := a, b
		if i%2 == 1 {
			w, r = b, a
		}
		mustWrite(t, w, fmt.Sprint("v", i+1), i)
		if v, ver := mustRead(t, r); v != fmt.Sprint("v", i+1) || ver != i+1 {
			t.Fatalf("after write %d the other client reads %q at %d", i+1, v, ver)
		}
	}
	// Stale and future versions are refused and leave the register as it
	// was; in particular no version is skipped.
	for _, expected := range []uint64{0, 9, 11, 20} {
		err := a.Write(ctxFor(t, 10*time.Second), []byte("bad"), expected)
		if !errors.Is(err, virtuallog.ErrVersionMismatch) {
			t.Fatalf("Write(expected %d) at version 10 = %v, want a mismatch", expected, err)
		}
	}
	if v, ver := mustRead(t, b); v != "v10" || ver != 10 {
		t.Fatalf("after refused writes Read = %q, %d", v, ver)
	}
	mustWrite(t, b, "v11", 10)
	if v, ver := mustRead(t, a); v != "v11" || ver != 11 {
		t.Fatalf("Read = %q, %d; want v11 at 11", v, ver)
	}
}

func TestReplicatedFaultTolerance(t *testing.T) {
	c := newCluster(t, 3)
	m := c.client(t, 1)
	other := c.client(t, 2)
	for i := range uint64(3) {
		mustWrite(t, m, fmt.Sprint("v", i+1), i)
	}

	// One of three down: the register carries on.
	c.nodes[0].crash()
	mustWrite(t, m, "v4", 3)
	if v, ver := mustRead(t, other); v != "v4" || ver != 4 {
		t.Fatalf("with one node down Read = %q, %d", v, ver)
	}

	// Two of three down: no quorum, and the operations say so instead of
	// hanging.
	c.nodes[1].crash()
	err := m.Write(ctxFor(t, 300*time.Millisecond), []byte("lost"), 4)
	if !errors.Is(err, metastore.ErrNoQuorum) || errors.Is(err, metastore.ErrOutcomeUnknown) {
		t.Fatalf("Write without quorum = %v, want ErrNoQuorum", err)
	}
	if _, _, err := other.Read(ctxFor(t, 300*time.Millisecond)); !errors.Is(err, metastore.ErrNoQuorum) {
		t.Fatalf("Read without quorum = %v, want ErrNoQuorum", err)
	}

	// Restart both from their fsynced data: everything carries on, the
	// failed write took no effect and the earlier versions are intact.
	c.nodes[0].start(t)
	c.nodes[1].start(t)
	if v, ver := mustRead(t, other); v != "v4" || ver != 4 {
		t.Fatalf("after restart Read = %q, %d; want v4 at 4", v, ver)
	}
	mustWrite(t, m, "v5", 4)

	// And a crash of the whole cluster loses nothing either.
	for _, n := range c.nodes {
		n.crash()
	}
	for _, n := range c.nodes {
		n.start(t)
	}
	if v, ver := mustRead(t, other); v != "v5" || ver != 5 {
		t.Fatalf("after a full restart Read = %q, %d; want v5 at 5", v, ver)
	}
	mustWrite(t, other, "v6", 5)
	for slot := uint64(1); slot <= 6; slot++ {
		holders := 0
		for _, n := range c.nodes {
			r, err := n.acc.Prepare(t.Context(), &pb.PrepareRequest{Slot: slot, Ballot: &pb.Ballot{Round: 1 << 40}})
			if err != nil {
				t.Fatal(err)
			}
			if string(r.Accepted.GetValue()) == fmt.Sprint("v", slot) {
				holders++
			}
		}
		if holders < 2 {
			t.Errorf("version %d is held by %d acceptors", slot, holders)
		}
	}
}

// dead is an acceptor that never answers.
type dead struct{}

var errDead = errors.New("dead acceptor")

func (dead) Prepare(context.Context, *pb.PrepareRequest) (*pb.PrepareResponse, error) {
	return nil, errDead
}
func (dead) Accept(context.Context, *pb.AcceptRequest) (*pb.AcceptResponse, error) {
	return nil, errDead
}
func (dead) Learn(context.Context, *pb.LearnRequest) (*pb.LearnResponse, error) { return nil, errDead }
func (dead) Status(context.Context, *pb.StatusRequest) (*pb.StatusResponse, error) {
	return nil, errDead
}

// hung is an acceptor whose calls block until the caller gives up or the
// test ends.
type hung struct{ release <-chan struct{} }

func (h hung) wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-h.release:
		return errDead
	}
}

func (h hung) Prepare(ctx context.Context, _ *pb.PrepareRequest) (*pb.PrepareResponse, error) {
	return nil, h.wait(ctx)
}
func (h hung) Accept(ctx context.Context, _ *pb.AcceptRequest) (*pb.AcceptResponse, error) {
	return nil, h.wait(ctx)
}
func (h hung) Learn(ctx context.Context, _ *pb.LearnRequest) (*pb.LearnResponse, error) {
	return nil, h.wait(ctx)
}
func (h hung) Status(ctx context.Context, _ *pb.StatusRequest) (*pb.StatusResponse, error) {
	return nil, h.wait(ctx)
}

// memAcceptors returns n in-process acceptors on in-memory databases.
func memAcceptors(t *testing.T, n int) []*metastore.Acceptor {
	var accs []*metastore.Acceptor
	for range n {
		a, _ := openAcceptor(t, vfs.NewMem())
		accs = append(accs, a)
	}
	return accs
}

func TestReplicatedSlowMinorityCostsNothing(t *testing.T) {
	accs := memAcceptors(t, 2)
	release := make(chan struct{})
	// Calls to the hung acceptor outlive every operation's context: if an
	// operation waited for all acceptors, it would fail.
	m := newReplicated(t, []metastore.AcceptorClient{accs[0], hung{release}, accs[1]},
		metastore.Config{ProposerID: 1, RPCTimeout: time.Hour})
	t.Cleanup(func() { close(release) }) // runs before m.Close
	for i := range uint64(10) {
		if err := m.Write(ctxFor(t, 5*time.Second), []byte(fmt.Sprint("v", i+1)), i); err != nil {
			t.Fatal(err)
		}
		if v, ver, err := m.Read(ctxFor(t, 5*time.Second)); err != nil || string(v) != fmt.Sprint("v", i+1) || ver != i+1 {
			t.Fatalf("Read = %q, %d, %v", v, ver, err)
		}
	}
}

// TestReplicatedCompletesOthersRounds drives the cases where a proposer
// finds values accepted by a minority: it must adopt them, finish the
// version before its own, and never skip or overwrite a version.
func TestReplicatedCompletesOthersRounds(t *testing.T) {
	ctx := t.Context()
	accs := memAcceptors(t, 3)
	// left talks to acceptors 0 and 1 only, right to 1 and 2 only; each
	// sees a majority, and they overlap in acceptor 1.
	left := newReplicated(t, []metastore.AcceptorClient{accs[0], accs[1], dead{}}, metastore.Config{ProposerID: 1})
	right := newReplicated(t, []metastore.AcceptorClient{dead{}, accs[1], accs[2]}, metastore.Config{ProposerID: 2})
	half := func(slot uint64, value string) {
		t.Helper()
		p := &pb.Proposal{Writer: 99, Seq: slot, Value: []byte(value)}
		r, err := accs[0].Accept(ctx, &pb.AcceptRequest{Slot: slot, Ballot: &pb.Ballot{Round: 1, Proposer: 99}, Proposal: p})
		if err != nil || !r.Ok {
			t.Fatalf("Accept = %v, %v", r, err)
		}
	}

	// A writer that crashed after acceptor 0 accepted x at version 1.
	half(1, "x")
	if v, ver := mustRead(t, right); v != "" || ver != 0 {
		t.Fatalf("right reads %q at %d; x is not chosen", v, ver)
	}
	// left finds x and completes it instead of writing its own value.
	if err := left.Write(ctxFor(t, 5*time.Second), []byte("y"), 0); !errors.Is(err, virtuallog.ErrVersionMismatch) {
		t.Fatalf("Write over a half-written x = %v, want a mismatch", err)
	}
	if v, ver := mustRead(t, right); v != "x" || ver != 1 {
		t.Fatalf("right reads %q at %d; want x at 1", v, ver)
	}

	// z half-written at 2; a write from version 2 first completes z.
	half(2, "z")
	mustWrite(t, left, "w", 2)
	if v, ver := mustRead(t, right); v != "w" || ver != 3 {
		t.Fatalf("right reads %q at %d; want w at 3", v, ver)
	}

	// q half-written at 4; a reader that sees it completes it.
	half(4, "q")
	if v, ver := mustRead(t, right); v != "w" || ver != 3 {
		t.Fatalf("right reads %q at %d; want w at 3", v, ver)
	}
	if v, ver := mustRead(t, left); v != "q" || ver != 4 {
		t.Fatalf("left reads %q at %d; want q at 4", v, ver)
	}
	if v, ver := mustRead(t, right); v != "q" || ver != 4 {
		t.Fatalf("right reads %q at %d; want q at 4", v, ver)
	}

	// At 5, a was chosen at ballot 10 by acceptors 0 and 1 (nobody learned
	// it), while acceptor 2 holds b from an older ballot. A reader that
	// sees both must complete a, the one with the higher ballot.
	for i, value := range map[int]string{0: "a", 1: "a", 2: "b"} {
		round := uint64(10)
		if value == "b" {
			round = 9
		}
		p := &pb.Proposal{Writer: 98, Seq: 1, Value: []byte(value)}
		r, err := accs[i].Accept(ctx, &pb.AcceptRequest{Slot: 5, Ballot: &pb.Ballot{Round: round, Proposer: 98}, Proposal: p})
		if err != nil || !r.Ok {
			t.Fatalf("Accept = %v, %v", r, err)
		}
	}
	if v, ver := mustRead(t, right); v != "a" || ver != 5 {
		t.Fatalf("right reads %q at %d; want a at 5", v, ver)
	}

	// A write from a future version neither succeeds nor leaves a trace.
	if err := right.Write(ctxFor(t, 5*time.Second), []byte("far"), 9); !errors.Is(err, virtuallog.ErrVersionMismatch) {
		t.Fatalf("Write(expected 9) = %v", err)
	}
	for i, a := range accs {
		st, err := a.Status(ctx, &pb.StatusRequest{})
		if err != nil || st.Info.GetMaxSlot() > 5 {
			t.Fatalf("acceptor %d: Status = %v, %v", i, st, err)
		}
	}
}

func TestReplicatedAfterCompaction(t *testing.T) {
	accs := memAcceptors(t, 3)
	m := newReplicated(t, []metastore.AcceptorClient{accs[0], accs[1], accs[2]}, metastore.Config{ProposerID: 1})
	const last = 3 * metastore.RetainedSlots
	for i := range uint64(last) {
		mustWrite(t, m, fmt.Sprint("v", i+1), i)
	}
	m.Close() // lets the last Learns land, so the acceptors compact
	for _, expected := range []uint64{0, 1, last - 1} {
		if err := m.Write(ctxFor(t, 5*time.Second), []byte("stale"), expected); !errors.Is(err, virtuallog.ErrVersionMismatch) {
			t.Fatalf("Write(expected %d) = %v, want a mismatch", expected, err)
		}
	}
	if v, ver := mustRead(t, m); v != fmt.Sprint("v", last) || ver != last {
		t.Fatalf("Read = %q, %d", v, ver)
	}
	st, err := accs[0].Status(t.Context(), &pb.StatusRequest{})
	if err != nil || st.Info.GetFloor() <= 1 {
		t.Fatalf("Status = %v, %v; want a compacted acceptor", st, err)
	}
}

func TestNewReplicatedValidates(t *testing.T) {
	_, err := metastore.NewReplicated([]metastore.AcceptorClient{nil}, metastore.Config{RPCTimeout: -1})
	if err == nil {
		t.Fatal("NewReplicated accepted a nil acceptor, proposer 0 and a negative timeout")
	}
	for _, want := range []string{"nil", "ProposerID", "RPCTimeout"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}
