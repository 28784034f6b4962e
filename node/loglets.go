package node

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"hourglass/loglet"
	"hourglass/loglet/native"
	"hourglass/loglet/striped"
	zkloglet "hourglass/loglet/zk"
	"hourglass/virtuallog"
	"hourglass/virtuallog/vlogpb"
)

const (
	// stripeShift places the ids of a striped loglet's stripes: stripe k
	// of loglet id is native loglet id | (k+1)<<stripeShift, apart from
	// every id the chain's counter hands out.
	stripeShift = 48
	// defaultStripes is the number of stripes when the chain names none;
	// maxStripes bounds it.
	defaultStripes = 2
	maxStripes     = 64
)

// newProvider offers the loglet kinds this node can host: "native", on
// the node's own LogServer (single node) or on the ensemble's LogServers
// with this node's sequencer (ensemble); "striped", over native stripes
// placed the same way, written by this node; "zookeeper", in an
// Apache ZooKeeper ensemble; and "backup", a sealed segment read from a
// backup directory's copy of the log.
func (n *Node) newProvider() (*virtuallog.Kinds, error) {
	return virtuallog.NewKinds("native", map[string]virtuallog.Kind{
		"native":  {Place: n.placeNative, Open: n.openNative},
		"striped": {Place: n.placeStriped, Open: n.openStriped},
		// A sealed segment restored from a backup directory.
		"backup": {Place: placeBackup, Open: n.openBackupLoglet},
		"zookeeper": {
			Place: placeZK,
			Open: func(ctx context.Context, cfg *vlogpb.LogletConfig, fresh bool) (loglet.Loglet, error) {
				return zkloglet.Open(ctx, zkloglet.Config{Servers: cfg.Servers, Root: cfg.Path, Logger: n.log.With("component", "loglet", "loglet", cfg.Id)})
			},
		},
	})
}

// placeZK puts a zookeeper loglet on the chain's ZooKeeper ensemble, under
// a root znode of its own. Every node appends to it directly.
func placeZK(cfg *vlogpb.LogletConfig, chain *vlogpb.Chain) error {
	if len(chain.ZkLogServers) == 0 {
		return fmt.Errorf("node: no ZooKeeper ensemble for zookeeper loglet %d: give --zk-log-servers", cfg.Id)
	}
	cfg.Servers, cfg.Sequencer = slices.Clone(chain.ZkLogServers), ""
	cfg.Path = fmt.Sprintf("/hourglass/%016x/loglet-%d", rand.Uint64(), cfg.Id)
	return nil
}

// placeNative puts a native loglet on the single node's own LogServer, or
// on the chain's LogServers (the members' own if it names none) with this
// node as the sequencer.
func (n *Node) placeNative(cfg *vlogpb.LogletConfig, chain *vlogpb.Chain) error {
	if !n.cfg.Ensemble() {
		cfg.Servers, cfg.Sequencer = []string{"local"}, ""
		return nil
	}
	cfg.Servers = nil
	servers := chain.LogServers
	if len(servers) == 0 {
		servers = chain.Members
	}
	for _, m := range servers {
		cfg.Servers = append(cfg.Servers, m.Id)
	}
	if len(cfg.Servers) == 0 {
		return fmt.Errorf("node: no LogServers to place loglet %d on", cfg.Id)
	}
	cfg.Sequencer = n.cfg.NodeID
	return nil
}

func (n *Node) openNative(ctx context.Context, cfg *vlogpb.LogletConfig, fresh bool) (loglet.Loglet, error) {
	nc := native.Config{
		ID:     native.LogletID(cfg.Id),
		Fresh:  fresh,
		Logger: n.log.With("component", "loglet"),
	}
	// Readers try the co-located LogServer first.
	for _, id := range cfg.Servers {
		s, err := n.serverFor(id)
		if err != nil {
			return nil, err
		}
		if id == "local" || id == n.cfg.NodeID {
			nc.Servers = append([]native.Server{s}, nc.Servers...)
		} else {
			nc.Servers = append(nc.Servers, s)
		}
	}
	if cfg.Sequencer != "" && cfg.Sequencer != n.cfg.NodeID {
		c, err := n.sequencerClient(cfg.Sequencer)
		if err != nil {
			return nil, err
		}
		nc.Sequencer = c
	}
	return native.Open(ctx, nc)
}

// sequencerClient reaches the Sequencer service of node id.
func (n *Node) sequencerClient(id string) (*native.SequencerClient, error) {
	c, err := n.peerConn(id)
	if err != nil {
		return nil, err
	}
	return native.NewSequencerClient(c), nil
}

// placeStriped places a striped loglet of chain.Stripes native stripes,
// each placed as a native loglet is; this node writes it.
func (n *Node) placeStriped(cfg *vlogpb.LogletConfig, chain *vlogpb.Chain) error {
	count := int(chain.Stripes)
	if count == 0 {
		count = defaultStripes
	}
	if count > maxStripes {
		return fmt.Errorf("node: %d stripes; at most %d", count, maxStripes)
	}
	if err := n.placeNative(cfg, chain); err != nil {
		return err
	}
	cfg.Stripes = nil
	for k := range count {
		s := &vlogpb.LogletConfig{Kind: "native", Id: cfg.Id | uint64(k+1)<<stripeShift}
		if err := n.placeNative(s, chain); err != nil {
			return err
		}
		cfg.Stripes = append(cfg.Stripes, s)
	}
	return nil
}

func (n *Node) openStriped(ctx context.Context, cfg *vlogpb.LogletConfig, fresh bool) (loglet.Loglet, error) {
	if len(cfg.Stripes) == 0 {
		return nil, fmt.Errorf("node: striped loglet %d has no stripes", cfg.Id)
	}
	sc := striped.Config{Fresh: fresh, Logger: n.log.With("component", "loglet", "loglet", cfg.Id)}
	for _, s := range cfg.Stripes {
		if s.Kind != "native" {
			closeAll(sc.Stripes)
			return nil, fmt.Errorf("node: striped loglet %d: stripes of kind %q are not supported", cfg.Id, s.Kind)
		}
		l, err := n.openNative(ctx, s, fresh)
		if err != nil {
			closeAll(sc.Stripes)
			return nil, err
		}
		sc.Stripes = append(sc.Stripes, l)
	}
	if !fresh && cfg.Sequencer != "" && cfg.Sequencer != n.cfg.NodeID {
		c, err := n.sequencerClient(cfg.Sequencer)
		if err != nil {
			closeAll(sc.Stripes)
			return nil, err
		}
		sc.Forward = forwarder{c: c, id: native.LogletID(cfg.Id)}
	}
	l, err := striped.Open(sc)
	if err != nil {
		closeAll(sc.Stripes)
		return nil, err
	}
	return l, nil
}

func closeAll(ls []loglet.Loglet) {
	for _, l := range ls {
		l.Close()
	}
}

// forwarder hands a striped loglet's appends to its writer's node.
type forwarder struct {
	c  *native.SequencerClient
	id native.LogletID
}

func (f forwarder) Append(ctx context.Context, aid loglet.AppendID, entries [][]byte) (loglet.Position, error) {
	return f.c.Append(ctx, f.id, aid, entries)
}

// localSequencer returns the writer of loglet id if its sequencer runs on
// this node, for appends forwarded by the other nodes: a native loglet's
// handle, a striped loglet's, or a stripe's.
func (n *Node) localSequencer(id native.LogletID) loglet.Writer {
	if n.vlog == nil {
		return nil
	}
	chain, _ := n.vlog.Chain()
	for _, seg := range chain.Segments {
		cfg := seg.Loglet
		if cfg.Sequencer != n.cfg.NodeID {
			continue
		}
		stripe := -1
		for k, s := range cfg.Stripes {
			if s.Id == uint64(id) {
				stripe = k
			}
		}
		if cfg.Id != uint64(id) && stripe < 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		l, err := n.provider.Open(ctx, cfg)
		if err != nil {
			n.log.Warn("opening a loglet for a forwarded append", "loglet", id, "err", err)
			return nil
		}
		if sl, ok := l.(*striped.Loglet); ok && stripe >= 0 {
			return sl.Stripe(stripe)
		}
		return l
	}
	return nil
}
