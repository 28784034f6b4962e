package sql

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"hourglass/internal/accept"
	"hourglass/internal/metrics"
	"hourglass/personalities/sql/exec"
	"hourglass/platform"
)

// Config configures the Postgres personality. Zero fields take defaults.
type Config struct {
	// Password, if set, is the password every client must give (with
	// SCRAM-SHA-256, whatever its user name). Without it, every client is
	// trusted. See auth.go.
	Password string
	// MaxMessage bounds a client message's length (default 64 MiB;
	// Postgres allows 1 GiB, but a statement or a COPY travels through
	// the log as one entry, and entries are kept far smaller). A longer
	// message gets 08P01 "invalid message length" and the connection
	// closes. It also bounds the data of one COPY FROM.
	MaxMessage int
	// MaxConnections bounds the open connections (default 100, as
	// Postgres's max_connections).
	MaxConnections int
	// ProposeTimeout bounds a statement's wait on the log (default 30s).
	ProposeTimeout time.Duration
	// ServerVersion is what server_version reports (default "15.8").
	ServerVersion string
	Logger        *slog.Logger
	// Node is this node's index in its ensemble, 1 to MaxNode, the same
	// on every node. The process ids of its connections carry it (see
	// cancel.go), so that a CancelRequest reaching another node can be
	// forwarded here. 0 (a single node) carries no owner; so does an
	// index out of range, and ForwardCancel is then ignored.
	Node int
	// ForwardCancel, if set, sends a CancelRequest whose process id
	// carries another node's index to that node, which cancels as Cancel
	// does. ctx bounds it (a short timeout); it is called on the
	// requesting connection's goroutine. Its error is only logged: a
	// CancelRequest gets no answer.
	ForwardCancel func(ctx context.Context, node int, pid, key uint32) error
	// Clock is the node's clock (default time.Now): it fixes now() for the
	// statements this node proposes.
	Clock func() time.Time
	// Metrics, if set, records every statement's count, errors and
	// latency by its command tag.
	Metrics *metrics.Set
	// TLS, if set, lets clients upgrade with an SSLRequest (answered
	// 'S'); without it SSLRequest is answered 'N'. SSLRequired refuses a
	// client that did not upgrade, as a pg_hba.conf of hostssl lines
	// does.
	TLS         *tls.Config
	SSLRequired bool
	// SystemSchemas are the other personalities' tables, shown as
	// read-only views in schemas of their names (see exec's
	// sysschemas.go). They are installed for the whole process: every
	// node of a process must give the same.
	SystemSchemas []platform.TableSchema
	// Version, if set, is called at apply for the personality's version
	// the ensemble enabled at the entry (the upgrade engine's
	// Enabled("sql")); without it, the highest this build has. Version 2
	// brings large transactions' staging entries (stage.go).
	Version func() uint32
	// StageBytes is how much a transaction buffers before it spills its
	// writes to its staging area through the log (default 8 MiB; see
	// stage.go): what bounds a large COPY's memory.
	StageBytes int
}

// Versions is the range of the personality's versions this build applies.
func Versions() (lo, hi uint32) { return 1, 2 }

// stagingVersion is the version that brings staging entries.
const stagingVersion = 2

func (c *Config) fill() {
	if c.MaxMessage <= 0 {
		c.MaxMessage = 64 << 20
	}
	if c.Version == nil {
		_, hi := Versions()
		c.Version = func() uint32 { return hi }
	}
	if c.StageBytes <= 0 {
		c.StageBytes = DefaultStageBytes
	}
	if c.MaxConnections <= 0 {
		c.MaxConnections = 100
	}
	if c.ProposeTimeout <= 0 {
		c.ProposeTimeout = 30 * time.Second
	}
	if c.ServerVersion == "" {
		c.ServerVersion = "15.8"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
}

// Server serves the Postgres API over one engine stack.
type Server struct {
	cfg      Config
	engine   platform.StreamEngine
	log      *slog.Logger
	catalogs *exec.Catalogs
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	nextConn atomic.Uint32
	scramState
	// boot tells this run's staging areas from earlier runs' ones.
	boot [16]byte
	// parsed caches the parse of the queries clients send.
	parsed parseCache
	// enabled is the personality's version at the last entry applied:
	// a transaction stages only once version 2 is on.
	enabled atomic.Uint32

	mu struct {
		sync.Mutex
		closed    bool
		listeners []net.Listener
		conns     map[*conn]struct{}
	}
}

// New builds a Server whose applicator is registered on engine (a router
// mount).
func New(cfg Config, engine platform.StreamEngine) *Server {
	cfg.fill()
	if cfg.Node < 0 || cfg.Node > MaxNode {
		cfg.Node, cfg.ForwardCancel = 0, nil
	}
	exec.InstallSystemSchemas(cfg.SystemSchemas)
	s := &Server{cfg: cfg, engine: engine, log: cfg.Logger, catalogs: &exec.Catalogs{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.mu.conns = map[*conn]struct{}{}
	// Connection numbers start small, as Postgres's process ids do, and
	// are distinct per connection on this node (until 2^24 wrap around).
	var b [2]byte
	rand.Read(b[:])
	s.nextConn.Store(uint32(binary.BigEndian.Uint16(b[:])) + 1000)
	rand.Read(s.boot[:])
	engine.RegisterUpcall(&applicator{s: s})
	s.wg.Add(1)
	go s.sweepStaged()
	return s
}

// Serve accepts connections on ln until Close; it returns nil after
// Close.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.mu.closed {
		s.mu.Unlock()
		return net.ErrClosed
	}
	s.mu.listeners = append(s.mu.listeners, ln)
	s.mu.Unlock()
	return accept.Loop(ln, s.ctx.Done(), func(nc net.Conn) {
		c := newConn(s, nc)
		s.mu.Lock()
		if s.mu.closed {
			s.mu.Unlock()
			nc.Close()
			return
		}
		full := len(s.mu.conns) >= s.cfg.MaxConnections
		s.mu.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			c.serve(full)
			s.mu.Lock()
			delete(s.mu.conns, c)
			s.mu.Unlock()
		}()
	})
}

// Close stops the listeners and closes every connection.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.mu.closed {
		s.mu.Unlock()
		return nil
	}
	s.mu.closed = true
	s.cancel()
	for _, ln := range s.mu.listeners {
		ln.Close()
	}
	for c := range s.mu.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// Clients returns the number of open client connections.
func (s *Server) Clients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.mu.conns)
}
