package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"

	"github.com/cockroachdb/pebble/v2/vfs"
	"google.golang.org/grpc"

	"hourglass/internal/pebbledb"
	"hourglass/internal/tlsconf"
	"hourglass/loglet/native"
)

// LogServerConfig configures a LogServer-only process (disaggregated
// deployment): it stores loglet entries for an ensemble and nothing else.
type LogServerConfig struct {
	// DataDir holds the LogServer's database.
	DataDir string
	// PeerAddr is where it serves the LogServer gRPC service.
	PeerAddr string
	// Logger receives its logs; nil means slog.Default().
	Logger *slog.Logger
	// TLS, if its files are set, makes the LogServer serve only clients
	// with a certificate of the ensemble's CA (mutual TLS).
	TLS tlsconf.Files
	// FS is the filesystem of its database; nil means the real one
	// (tests inject disk faults through it, as Config.FS).
	FS vfs.FS
}

// LogServerProcess is a running LogServer-only process.
type LogServerProcess struct {
	server *native.LogServer
	grpc   *grpc.Server
	addr   string
	done   chan struct{}
}

// StartLogServer opens the LogServer in cfg.DataDir and serves it.
func StartLogServer(ctx context.Context, cfg LogServerConfig) (*LogServerProcess, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.DataDir == "" || cfg.PeerAddr == "" {
		return nil, errors.New("node: a LogServer needs a data dir and a peer address")
	}
	var m *tlsconf.Material
	if cfg.TLS.Set() {
		var err error
		if m, err = tlsconf.Load(cfg.TLS); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, err
	}
	db, err := pebbledb.Open(filepath.Join(cfg.DataDir, "log"), pebbledb.Options{FS: cfg.FS, Logger: cfg.Logger.With("db", "log"), CacheBytes: 16 << 20})
	if err != nil {
		return nil, err
	}
	server, err := native.OpenLogServer(db, true, cfg.Logger.With("component", "logserver"))
	if err != nil {
		db.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.PeerAddr)
	if err != nil {
		server.Close()
		return nil, fmt.Errorf("peer api: %w", err)
	}
	p := &LogServerProcess{server: server, grpc: grpc.NewServer(append(serverOptions(m), grpc.MaxRecvMsgSize(64<<20))...), addr: ln.Addr().String(), done: make(chan struct{})}
	native.RegisterLogServer(p.grpc, server)
	cfg.Logger.Info("listening", "api", "peer", "addr", p.addr)
	go func() {
		defer close(p.done)
		p.grpc.Serve(ln)
	}()
	return p, nil
}

// Addr returns the address the LogServer serves on.
func (p *LogServerProcess) Addr() string { return p.addr }

// Close stops serving and closes the database.
func (p *LogServerProcess) Close() error {
	p.grpc.Stop()
	<-p.done
	return p.server.Close()
}
