package node

import (
	"context"
	"time"

	"hourglass/node/adminpb"
)

// pushApplied carries this node's applied position to every other
// member, as it moves, for the read leases (see engines/lease): one
// stream per member, kept up while the node runs, following the
// membership.
func (n *Node) pushApplied() {
	running := map[string]context.CancelFunc{}
	defer func() {
		for _, cancel := range running {
			cancel()
		}
	}()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		chain, _ := n.vlog.Chain()
		want := map[string]bool{}
		for _, m := range chain.GetMembers() {
			if m.Id != n.cfg.NodeID {
				want[m.Id] = true
			}
		}
		for id := range want {
			if running[id] == nil {
				ctx, cancel := context.WithCancel(context.Background())
				running[id] = cancel
				go n.pushTo(ctx, id)
			}
		}
		for id, cancel := range running {
			if !want[id] {
				cancel()
				delete(running, id)
			}
		}
		select {
		case <-tick.C:
		case <-n.stop:
			return
		}
	}
}

// pushTo keeps a stream to member id open and sends it this node's
// applied position whenever it moves, and at least every eighth of a
// lease term; each acknowledgment tells the lease engine id hears us.
func (n *Node) pushTo(ctx context.Context, id string) {
	keepalive := max(n.lease.Term()/8, 5*time.Millisecond)
	for ctx.Err() == nil {
		err := n.pushStream(ctx, id, keepalive)
		if ctx.Err() != nil {
			return
		}
		n.log.Debug("applied-position stream ended; reconnecting", "peer", id, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (n *Node) pushStream(ctx context.Context, id string, keepalive time.Duration) error {
	c, err := n.peerConn(id)
	if err != nil {
		return err
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := adminpb.NewPeerClient(c).Applied(sctx)
	if err != nil {
		return err
	}
	go func() {
		for {
			if _, err := stream.Recv(); err != nil {
				cancel()
				return
			}
			n.lease.Acked(id)
		}
	}()
	timer := time.NewTimer(keepalive)
	defer timer.Stop()
	for {
		pos, changed := n.lease.Applied()
		if err := stream.Send(&adminpb.AppliedNotice{Node: n.cfg.NodeID, Applied: pos}); err != nil {
			return err
		}
		timer.Reset(keepalive)
		select {
		case <-changed:
		case <-timer.C:
		case <-sctx.Done():
			return sctx.Err()
		}
	}
}

// Applied takes another node's applied positions for the read leases,
// acknowledging each.
func (p *peerService) Applied(stream adminpb.Peer_AppliedServer) error {
	for {
		m, err := stream.Recv()
		if err != nil {
			return err
		}
		if l := p.n.leaseRef.Load(); l != nil {
			l.ObservePeer(m.Node, m.Applied)
		}
		if err := stream.Send(&adminpb.AppliedAck{}); err != nil {
			return err
		}
	}
}
