package node

import (
	"context"
	"slices"
	"time"

	"hourglass/virtuallog/vlogpb"
)

// rehomeEvery is how often the node running the active loglet's
// sequencer looks for sealed segments left on servers that are gone.
const rehomeEvery = 2 * time.Second

// rehomeLoop keeps every sealed segment of the log on servers of the
// ensemble: once a member (or a LogServer-only process) leaves, the
// sealed native segments it served are copied, one at a time, onto a
// fresh loglet on today's servers (see VirtualLog.Rehome), so the log's
// history stays readable with a majority of the servers there are, not of
// those there were. One node does it: the one that runs the active
// loglet's sequencer (it places loglets anyway); another takes over when
// the active loglet moves.
func (n *Node) rehomeLoop() {
	defer n.wg.Done()
	t := time.NewTicker(rehomeEvery)
	defer t.Stop()
	for {
		select {
		case <-n.stop:
			return
		case <-t.C:
		}
		// The cached chain is enough to decide: the node that changes
		// the members reconfigures, so it runs the new active loglet's
		// sequencer and holds the chain that change wrote.
		chain, _ := n.vlog.Chain()
		segs := chain.Segments
		if segs[len(segs)-1].Loglet.Sequencer != n.cfg.NodeID || !slices.ContainsFunc(segs[:len(segs)-1], func(s *vlogpb.Segment) bool { return serversGone(s.Loglet, chain) }) {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		go func() {
			select {
			case <-n.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		for {
			moved, err := n.vlog.Rehome(ctx, "native", serversGone)
			if err != nil {
				n.log.Warn("rehoming a sealed segment failed; retrying later", "err", err)
			}
			if !moved || err != nil {
				break
			}
		}
		cancel()
	}
}

// serversGone reports whether cfg is a native loglet with a server that
// is neither a member of chain nor one of its LogServer-only processes.
func serversGone(cfg *vlogpb.LogletConfig, chain *vlogpb.Chain) bool {
	if cfg.Kind != "native" {
		return false
	}
	known := func(id string) bool {
		in := func(m *vlogpb.Member) bool { return m.Id == id }
		return slices.ContainsFunc(chain.Members, in) || slices.ContainsFunc(chain.LogServers, in)
	}
	for _, s := range cfg.Servers {
		if !known(s) {
			return true
		}
	}
	return false
}
