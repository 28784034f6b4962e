package node

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"hourglass/internal/pebbledb"
)

// diskProbeEvery is how often a node whose disk failed tries a synced
// write again.
const diskProbeEvery = time.Second

// diskProbeSize is what the probe writes: enough to need new blocks on a
// filesystem that is still full.
const diskProbeSize = 64 << 10

// Run starts a node from cfg and runs it until ctx ends (it then closes
// the node and returns Close's error) or the node fails for a reason
// other than its disk (it returns that error). started is called with
// each node Run starts.
//
// A write or fsync error stops the database that met it, and nothing it
// had not synced is trusted again (see pebbledb.ErrFailed). The node keeps
// serving what it can meanwhile: reads, and the disk's error to every
// write. Each second it tries a synced write into its data directory;
// once one succeeds it is closed and started again in place (the same
// data directory and the same addresses), which recovers what was synced
// exactly as after a crash and catches up from the log.
func Run(ctx context.Context, cfg Config, started func(*Node)) error {
	for {
		n, err := Start(ctx, cfg)
		if err != nil {
			return err
		}
		started(n)
		restart, err := n.superviseDisk(ctx)
		if !restart {
			if cerr := n.Close(); err == nil {
				err = cerr
			}
			return err
		}
		cfg = n.pinnedConfig()
		if err := n.Close(); err != nil {
			n.log.Warn("closing the node whose disk failed", "err", err)
		}
		n.log.Info("restarting the node in place")
	}
}

// superviseDisk waits until ctx ends (false, nil), the apply loop stops
// for a reason other than the disk (false and that reason), or the disk
// failed and takes a synced write again (true).
func (n *Node) superviseDisk(ctx context.Context) (restart bool, err error) {
	fatal := n.Fatal()
	t := time.NewTicker(diskProbeEvery)
	defer t.Stop()
	reported := false
	for {
		select {
		case <-ctx.Done():
			return false, nil
		case err := <-fatal:
			if !errors.Is(err, pebbledb.ErrFailed) {
				return false, err
			}
			fatal = nil // the store's disk failed: probe it below
		case <-t.C:
		}
		failure := n.diskFailure()
		if failure == nil {
			continue
		}
		if !reported {
			reported = true
			n.log.Error("the node's disk failed; it takes no writes until a synced write succeeds again, then restarts in place", "err", failure)
		}
		if err := probeDisk(n.cfg.FS, n.cfg.DataDir); err != nil {
			n.log.Debug("disk probe failed", "err", err)
			continue
		}
		n.log.Warn("the node's disk takes synced writes again; restarting the node to recover what it had synced", "failure", failure)
		return true, nil
	}
}

// probeDisk writes, fsyncs and removes a file in dir through fs (nil:
// the real filesystem).
func probeDisk(fs vfs.FS, dir string) (err error) {
	if fs == nil {
		fs = vfs.Default
	}
	path := filepath.Join(dir, ".disk-probe")
	f, err := fs.Create(path, vfs.WriteCategoryUnspecified)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if rerr := fs.Remove(path); err == nil {
			err = rerr
		}
	}()
	if _, err := f.Write(make([]byte, diskProbeSize)); err != nil {
		return err
	}
	return f.Sync()
}

// pinnedConfig returns the node's config with each listener asked for on
// port 0 pinned to the port it got, so a restart in place listens where
// clients found it.
func (n *Node) pinnedConfig() Config {
	cfg := n.cfg
	for api, addr := range map[string]*string{
		"redis": &cfg.RedisAddr, "redis-tls": &cfg.RedisTLSAddr,
		"zookeeper": &cfg.ZKAddr, "zookeeper-secure": &cfg.ZKSecureAddr, "zookeeper-admin": &cfg.ZKAdminAddr,
		"postgres": &cfg.PGAddr, "admin": &cfg.AdminAddr, "http": &cfg.HTTPAddr, "debug": &cfg.DebugAddr,
		"peer": &cfg.PeerAddr,
	} {
		if _, port, err := net.SplitHostPort(*addr); err == nil && port == "0" && n.addrs[api] != "" {
			*addr = n.addrs[api]
		}
	}
	return cfg
}

// RunLogServer runs a LogServer-only process from cfg until ctx ends, as
// Run runs a node: after a disk failure it keeps serving reads of what it
// synced and, once a synced write into its data directory succeeds,
// closes and starts again in place (the same address). started is called
// with each process it starts.
func RunLogServer(ctx context.Context, cfg LogServerConfig, started func(*LogServerProcess)) error {
	for {
		p, err := StartLogServer(ctx, cfg)
		if err != nil {
			return err
		}
		started(p)
		if !p.awaitDiskRecovery(ctx, cfg.FS, cfg.DataDir) {
			return p.Close()
		}
		cfg.PeerAddr = p.Addr()
		if err := p.Close(); err != nil {
			cfg.Logger.Warn("closing the LogServer whose disk failed", "err", err)
		}
		cfg.Logger.Info("restarting the LogServer in place")
	}
}

// awaitDiskRecovery waits until ctx ends (false) or the server's disk
// failed and takes a synced write again (true).
func (p *LogServerProcess) awaitDiskRecovery(ctx context.Context, fs vfs.FS, dir string) bool {
	t := time.NewTicker(diskProbeEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
		if p.server.Failed() != nil && probeDisk(fs, dir) == nil {
			return true
		}
	}
}
