package node

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"hourglass/internal/tlsconf"
	"hourglass/loglet/native"
	"hourglass/node/adminpb"
	"hourglass/personalities/sql"
	"hourglass/virtuallog/metastore"
	"hourglass/virtuallog/vlogpb"
)

// connPool keeps one gRPC connection per peer address, made lazily.
type connPool struct {
	mu    sync.Mutex
	conns map[string]*grpc.ClientConn
	creds credentials.TransportCredentials
}

// newConnPool dials with mutual TLS when the node has TLS material.
func newConnPool(m *tlsconf.Material) *connPool {
	return &connPool{conns: map[string]*grpc.ClientConn{}, creds: peerCredentials(m)}
}

// peerCredentials are a peer or admin client's transport credentials:
// mutual TLS with m, or none without it.
func peerCredentials(m *tlsconf.Material) credentials.TransportCredentials {
	if m == nil {
		return insecure.NewCredentials()
	}
	return credentials.NewTLS(m.Client())
}

// serverOptions are a peer or admin gRPC server's transport options:
// with TLS material, only clients whose certificate the ensemble's CA
// signed are served.
func serverOptions(m *tlsconf.Material) []grpc.ServerOption {
	// Peers ping idle connections (see connPool.get): allow it. Stop
	// waits for the handlers it cancels, so none still reads a database
	// the node then closes (a node restarts in place; see Run).
	opts := []grpc.ServerOption{
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: peerKeepalive / 2, PermitWithoutStream: true}),
		grpc.WaitForHandlers(true),
	}
	if m == nil {
		return opts
	}
	return append(opts, grpc.Creds(credentials.NewTLS(m.Server(tlsconf.RequireClient))))
}

// peerKeepalive is how often a peer connection with nothing received is
// pinged; one unanswered for peerKeepaliveTimeout is closed, so a peer
// that stopped without closing its sockets (paused, or its machine hung)
// fails calls as unreachable instead of holding them, and the log fails
// over from a sequencer there.
const (
	peerKeepalive        = 2 * time.Second
	peerKeepaliveTimeout = 3 * time.Second
)

// get returns the connection to addr. Connections reconnect by themselves
// with a backoff capped at 200ms, so a restarted peer (on which failover
// may depend) is reached again almost at once.
func (p *connPool) get(addr string) (*grpc.ClientConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c := p.conns[addr]; c != nil {
		return c, nil
	}
	c, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(p.creds),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 10 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 200 * time.Millisecond},
			MinConnectTimeout: time.Second,
		}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20), grpc.MaxCallSendMsgSize(64<<20)),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: peerKeepalive, Timeout: peerKeepaliveTimeout, PermitWithoutStream: true}),
	)
	if err != nil {
		return nil, err
	}
	p.conns[addr] = c
	return c, nil
}

func (p *connPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = map[string]*grpc.ClientConn{}
}

// startPeer starts the endpoint the other nodes talk to and the replicated
// MetaStore. Its founding acceptors are the founding nodes'; each chain
// it holds names the next acceptor set, the chain's members (see
// chainAcceptors), so that changing members changes acceptors.
func (n *Node) startPeer() error {
	var err error
	if n.acceptor, err = metastore.NewAcceptor(n.metaDB, n.cfg.NodeID); err != nil {
		return err
	}
	n.peer = grpc.NewServer(append(serverOptions(n.tls), grpc.MaxRecvMsgSize(64<<20), grpc.MaxSendMsgSize(64<<20))...)
	native.RegisterLogServer(n.peer, n.server)
	native.RegisterSequencer(n.peer, n.localSequencer)
	metastore.RegisterAcceptor(n.peer, n.acceptor)
	adminpb.RegisterPeerServer(n.peer, &peerService{n: n})
	if err := n.listen("peer", n.cfg.PeerAddr, n.peer.Serve); err != nil {
		return err
	}
	var founders []metastore.AcceptorClient
	var names []metastore.AcceptorRef
	for _, p := range n.cfg.Nodes {
		ref := metastore.AcceptorRef{ID: p.ID, Addr: p.PeerAddr}
		c, err := n.dialAcceptor(ref)
		if err != nil {
			return err
		}
		founders, names = append(founders, c), append(names, ref)
	}
	n.meta, err = metastore.NewReplicated(founders, metastore.Config{
		ProposerID:  proposerID(n.cfg.NodeID),
		Founders:    names,
		Dial:        n.dialAcceptor,
		AcceptorsOf: chainAcceptors,
		// This node's acceptor may know a set that replaced the
		// founders, when most of them are gone.
		Seeds:  []metastore.AcceptorClient{n.acceptor},
		Logger: n.log.With("component", "metastore"),
	})
	return err
}

// dialAcceptor returns the client of the MetaStore acceptor ref names:
// this node's own in process, another node's over its peer endpoint at
// the address this node's config gives it, or else the one the chain
// recorded.
func (n *Node) dialAcceptor(ref metastore.AcceptorRef) (metastore.AcceptorClient, error) {
	if ref.ID == n.cfg.NodeID {
		return n.acceptor, nil
	}
	addr := ref.Addr
	for _, p := range n.cfg.Nodes {
		if p.ID == ref.ID {
			addr = p.PeerAddr
		}
	}
	c, err := n.conns.get(addr)
	if err != nil {
		return nil, err
	}
	return metastore.NewAcceptorClient(c), nil
}

// chainAcceptors is the MetaStore acceptor set a chain names for the
// version after it: its members.
func chainAcceptors(value []byte) ([]metastore.AcceptorRef, error) {
	var chain vlogpb.Chain
	if err := proto.Unmarshal(value, &chain); err != nil {
		return nil, err
	}
	var set []metastore.AcceptorRef
	for _, m := range chain.Members {
		set = append(set, metastore.AcceptorRef{ID: m.Id, Addr: m.PeerAddr})
	}
	return set, nil
}

// acceptors returns the MetaStore acceptor set that decides the next
// version of the chain, and the version it is known at; nil for a single
// node.
func (n *Node) acceptors() ([]*vlogpb.Member, uint64) {
	r, ok := n.meta.(*metastore.Replicated)
	if !ok {
		return nil, 0
	}
	set, version := r.Acceptors()
	out := make([]*vlogpb.Member, len(set))
	for i, a := range set {
		out[i] = &vlogpb.Member{Id: a.ID, PeerAddr: a.Addr}
	}
	return out, version
}

// resolve returns the address this node reaches node id by: its own
// config first (which may route through a proxy), then the chain.
func (n *Node) resolve(id string) (string, error) {
	for _, p := range n.cfg.Nodes {
		if p.ID == id {
			return p.PeerAddr, nil
		}
	}
	if n.vlog != nil {
		chain, _ := n.vlog.Chain()
		for _, m := range append(chain.Members, chain.LogServers...) {
			if m.Id == id {
				return m.PeerAddr, nil
			}
		}
	}
	return "", fmt.Errorf("node: no address known for node %q", id)
}

// serverFor returns the LogServer called id: the in-process one for this
// node, a gRPC client otherwise.
func (n *Node) serverFor(id string) (native.Server, error) {
	if id == "local" || id == n.cfg.NodeID {
		return n.server, nil
	}
	c, err := n.peerConn(id)
	if err != nil {
		return nil, err
	}
	return native.NewClient(c), nil
}

// peerConn returns the connection to node id's peer endpoint.
func (n *Node) peerConn(id string) (*grpc.ClientConn, error) {
	addr, err := n.resolve(id)
	if err != nil {
		return nil, err
	}
	return n.conns.get(addr)
}

// peerService answers the other nodes.
type peerService struct {
	adminpb.UnimplementedPeerServer
	n *Node
}

func (p *peerService) NodeStatus(ctx context.Context, _ *adminpb.NodeStatusRequest) (*adminpb.NodeStatusResponse, error) {
	if err := p.n.diskFailure(); err != nil {
		return nil, status.Error(codes.FailedPrecondition, err.Error())
	}
	var applied uint64
	if p.n.base != nil {
		applied = p.n.base.Applied()
	}
	var leased bool
	if l := p.n.leaseRef.Load(); l != nil {
		leased = l.Leased()
	}
	return &adminpb.NodeStatusResponse{Id: p.n.cfg.NodeID, Applied: applied, Leased: leased}, nil
}

// CancelStatement cancels the statement of this node's Postgres
// connection with the request's process id if the secret key matches.
func (p *peerService) CancelStatement(ctx context.Context, req *adminpb.CancelStatementRequest) (*adminpb.CancelStatementResponse, error) {
	if s := p.n.pgCancel.Load(); s != nil {
		s.Cancel(req.ProcessId, req.SecretKey)
	}
	return &adminpb.CancelStatementResponse{}, nil
}

// pgNodes are the ids of the ensemble's founding nodes, sorted: a node's
// Postgres index (see sql.Config.Node) is its position in them, from 1,
// the same on every node whatever order its config lists them in.
func (n *Node) pgNodes() []string {
	ids := make([]string, 0, len(n.cfg.Nodes))
	for _, p := range n.cfg.Nodes {
		ids = append(ids, p.ID)
	}
	sort.Strings(ids)
	return ids
}

// pgNode is this node's Postgres index: 0 for a single node, or for a
// node outside the founding list or beyond sql.MaxNode (cancel requests
// for its connections are then honoured by it alone).
func (n *Node) pgNode() int {
	for i, id := range n.pgNodes() {
		if id == n.cfg.NodeID && i+1 <= sql.MaxNode {
			return i + 1
		}
	}
	return 0
}

// forwardCancel sends a Postgres cancel request to the node whose
// Postgres index is node, over its peer endpoint, within ctx.
func (n *Node) forwardCancel(ctx context.Context, node int, pid, key uint32) error {
	ids := n.pgNodes()
	if node < 1 || node > len(ids) {
		return fmt.Errorf("node: no node has Postgres index %d", node)
	}
	addr, err := n.resolve(ids[node-1])
	if err != nil {
		return err
	}
	c, err := n.conns.get(addr)
	if err != nil {
		return err
	}
	_, err = adminpb.NewPeerClient(c).CancelStatement(ctx, &adminpb.CancelStatementRequest{ProcessId: pid, SecretKey: key})
	return err
}

// peersApplied returns the applied positions of the other members (0
// for one that does not answer); nil for a single node.
func (n *Node) peersApplied(ctx context.Context) []uint64 {
	chain, _ := n.vlog.Chain()
	if len(chain.Members) < 2 {
		return nil
	}
	var out []uint64
	for _, st := range n.nodeStates(ctx, chain) {
		if st.Id != n.cfg.NodeID {
			out = append(out, st.Applied)
		}
	}
	return out
}

// nodeStates asks every member for its apply progress.
func (n *Node) nodeStates(ctx context.Context, chain *vlogpb.Chain) []*adminpb.NodeState {
	out := make([]*adminpb.NodeState, len(chain.Members))
	var wg sync.WaitGroup
	for i, m := range chain.Members {
		st := &adminpb.NodeState{Id: m.Id, PeerAddr: m.PeerAddr}
		out[i] = st
		if m.Id == n.cfg.NodeID {
			st.Reachable, st.Applied, st.Leased = true, n.base.Applied(), n.lease.Leased()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			addr, err := n.resolve(m.Id)
			var c *grpc.ClientConn
			if err == nil {
				c, err = n.conns.get(addr)
			}
			if err == nil {
				cctx, cancel := context.WithTimeout(ctx, time.Second)
				defer cancel()
				var r *adminpb.NodeStatusResponse
				if r, err = adminpb.NewPeerClient(c).NodeStatus(cctx, &adminpb.NodeStatusRequest{}); err == nil {
					st.Reachable, st.Applied, st.Leased = true, r.Applied, r.Leased
				}
			}
			if err != nil {
				st.Error = err.Error()
			}
		}()
	}
	wg.Wait()
	return out
}
