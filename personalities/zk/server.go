package zk

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"hourglass/engines/sessionorder"
	"hourglass/internal/accept"
	"hourglass/internal/metrics"
	"hourglass/personalities/zk/jute"
	"hourglass/platform"
)

// Config configures a Server. Zero fields take ZooKeeper's defaults.
type Config struct {
	// MaxBuffer is jute.maxbuffer: the largest frame a client may send
	// (default 0xfffff, ZooKeeper's 1 MB less one byte).
	MaxBuffer int
	// TickTime is ZooKeeper's tick (default 2s); session timeouts are
	// negotiated between MinSessionTimeout and MaxSessionTimeout
	// (default 2 and 20 ticks).
	TickTime          time.Duration
	MinSessionTimeout time.Duration
	MaxSessionTimeout time.Duration
	// SuperDigest, "super:<base64 sha1>", makes a client that adds the
	// matching digest credentials the super user.
	SuperDigest string
	// SASLUsers, if not nil, are the users and passwords that may
	// authenticate with SASL DIGEST-MD5 (ZooKeeper's JAAS Server
	// section); the session then holds the identity sasl:<user>.
	SASLUsers map[string]string
	// SASLSuperUser, if set, is the SASL user who is the super user
	// (ZooKeeper's zookeeper.superUser).
	SASLSuperUser string
	// EnforceAuthSchemes, if not empty, are ZooKeeper's
	// enforce.auth.schemes with enforce.auth.enabled: a session must
	// hold an identity of one of them before any request but auth and
	// sasl, or it gets SessionClosedRequireSaslAuth and is closed.
	EnforceAuthSchemes []string
	// X509SuperUser, if set, is the certificate subject (as the x509
	// identity writes it) whose TLS sessions are the super user
	// (ZooKeeper's zookeeper.X509AuthenticationProvider.superUser).
	X509SuperUser string
	// ContainerCheckInterval is how often empty containers and expired
	// TTL znodes are reaped (default 60s, ZooKeeper's).
	ContainerCheckInterval time.Duration
	// TouchInterval is how often the node tells the log which sessions
	// it heard from (default 500ms, or a quarter of the minimum session
	// timeout if that is less).
	TouchInterval time.Duration
	// MaxClients bounds connections (default 60, as ZooKeeper's
	// maxClientCnxns per address; here per node).
	MaxClients int
	// FourLetterWords, if not nil, are the four-letter words answered
	// (ZooKeeper's 4lw.commands.whitelist; see ParseWhitelist); any
	// other gets ZooKeeper's "not in the whitelist" answer. Nil: all.
	FourLetterWords map[string]bool
	// ProposeTimeout bounds one write or read's wait on the log.
	ProposeTimeout time.Duration
	// Mode is what srvr and stat report: "standalone", or for an
	// ensemble "follower" (there is no leader: any node takes writes).
	Mode   string
	Logger *slog.Logger
	// Clock is the node's clock (default time.Now).
	Clock func() time.Time
	// Metrics, if set, records every request's count, errors and
	// latency.
	Metrics *metrics.Set
	// Node, if set, describes the node for conf, dirs and the
	// AdminServer; it is called for each such command.
	Node func() NodeInfo
}

// NodeInfo is what the node tells the ZooKeeper API about itself.
type NodeInfo struct {
	// ClientPort and SecureClientPort are the ports of the ZooKeeper
	// listeners (-1: none).
	ClientPort, SecureClientPort int
	// DataDir holds the applied state and DataLogDir the log, with the
	// bytes each uses.
	DataDir, DataLogDir      string
	DataDirSize, DataLogSize int64
	// ServerID is ZooKeeper's serverId (0 when standalone).
	ServerID int64
	// InitialConfig is the configuration the node started from, as
	// initial_configuration reports it.
	InitialConfig string
}

func (c *Config) fill() {
	if c.MaxBuffer <= 0 {
		c.MaxBuffer = 0xfffff
	}
	if c.TickTime <= 0 {
		c.TickTime = 2 * time.Second
	}
	if c.MinSessionTimeout <= 0 {
		c.MinSessionTimeout = 2 * c.TickTime
	}
	if c.MaxSessionTimeout <= 0 {
		c.MaxSessionTimeout = 20 * c.TickTime
	}
	if c.ContainerCheckInterval <= 0 {
		c.ContainerCheckInterval = time.Minute
	}
	if c.TouchInterval <= 0 {
		c.TouchInterval = min(500*time.Millisecond, c.MinSessionTimeout/4)
	}
	if c.MaxClients <= 0 {
		c.MaxClients = 10000
	}
	if c.ProposeTimeout <= 0 {
		c.ProposeTimeout = 30 * time.Second
	}
	if c.Mode == "" {
		c.Mode = "standalone"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Node == nil {
		c.Node = func() NodeInfo { return NodeInfo{ClientPort: -1, SecureClientPort: -1} }
	}
}

// Server serves the ZooKeeper API over one engine stack.
type Server struct {
	cfg Config
	// engine is the stack the server proposes through: the session-order
	// engine, which also hears of sessions that end (order.End).
	engine  platform.StreamEngine
	order   *sessionorder.Engine
	log     *slog.Logger
	watches *watchManager
	// notified is the zxid up to which watch events have been handed to
	// connections: a response waits for it to pass its own zxid.
	notified watermark
	// firstZxid is the zxid of the first entry this process applied.
	firstZxid atomic.Int64
	started   time.Time
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup

	mu struct {
		sync.Mutex
		closed    bool
		listeners []net.Listener
		conns     map[*conn]struct{}
		touched   map[int64]bool // sessions heard from since the last touch
	}
	stats *serverStats
	// traceMask is what gtmk reports and set_trace_mask sets.
	traceMask atomic.Int64
}

// New builds a Server whose applicator is registered on order, the
// session-order engine on the stack (on a router mount).
func New(cfg Config, order *sessionorder.Engine) *Server {
	cfg.fill()
	s := &Server{cfg: cfg, engine: order, order: order, log: cfg.Logger, watches: newWatchManager(), started: time.Now(), stats: newServerStats()}
	s.watches.fired = &s.stats.watchesFired
	s.traceMask.Store(defaultTraceMask)
	s.notified.init()
	s.mu.conns = map[*conn]struct{}{}
	s.mu.touched = map[int64]bool{}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	order.RegisterUpcall(&applicator{s: s})
	s.wg.Add(2)
	go s.touchLoop()
	go s.tickLoop()
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
		if s.mu.closed || len(s.mu.conns) >= s.cfg.MaxClients {
			s.mu.Unlock()
			s.stats.connectionRejected.Add(1)
			nc.Close()
			return
		}
		s.mu.conns[c] = struct{}{}
		s.wg.Add(1) // under the lock: Close waits only once no more can start
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			c.serve()
			if c.sessionID() != 0 {
				s.stats.connectionDrops.Add(1)
			}
			s.mu.Lock()
			delete(s.mu.conns, c)
			s.mu.Unlock()
			s.watches.forget(c)
		}()
	})
}

// Close stops the listeners and closes every connection; sessions stay
// in the log until they expire or their clients resume them elsewhere.
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
		c.close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// connections returns the live connections.
func (s *Server) connections() []*conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*conn, 0, len(s.mu.conns))
	for c := range s.mu.conns {
		out = append(out, c)
	}
	return out
}

// touch notes that session was heard from.
func (s *Server) touch(session int64) {
	if session == 0 {
		return
	}
	s.mu.Lock()
	s.mu.touched[session] = true
	s.mu.Unlock()
}

// sessionEnded closes this node's connections of a session that expired
// or was closed, except the one that closed it: that one answers
// closeSession first.
func (s *Server) sessionEnded(id int64) {
	for _, c := range s.connections() {
		if c.sessionID() == id && !c.closingSession.Load() {
			c.closeAfterFlush()
		}
	}
}

// sessionMoved ends this node's connections of a session that resumed on
// another connection (here or on another node): the session's requests
// now come from there, as ZooKeeper's SessionMoved ensures. Such a
// connection reads no more requests; those it has under way are
// answered (a write that the move overtook with SessionMoved), and then
// it closes.
func (s *Server) sessionMoved(id int64, epoch int32) {
	for _, c := range s.connections() {
		if c.sessionID() == id && c.epoch.Load() < uint32(epoch) {
			c.moved.Store(true)
			// Wakes the reader, which sees moved and stops.
			c.nc.SetReadDeadline(time.Now())
		}
	}
}

// errUnexpected is a result no zk apply returns.
var errUnexpected = errors.New("zk: unexpected apply result")

// entry is a proposal: kind, session, identities and payload as the
// applicator decodes them, ordered among the session's requests by seq
// (engines/sessionorder) unless seq is 0.
func entry(kind int32, session int64, seq uint64, auth []ID, payload []byte) *platform.Entry {
	e := &platform.Entry{Body: encodeEntry(kind, session, auth, payload)}
	if seq != 0 {
		sessionorder.Tag(e, session, seq)
	}
	return e
}

// outcome reads a proposal's outcome: its result, or an error when the
// stack failed or refused it (a stale session order included).
func outcome(r platform.Result, err error) (*result, error) {
	if err == nil {
		err = r.Err
	}
	if err != nil {
		return nil, err
	}
	res, ok := r.Value.(*result)
	if !ok {
		return nil, errUnexpected
	}
	return res, nil
}

// propose appends one entry and returns its result.
func (s *Server) propose(ctx context.Context, kind int32, session int64, auth []ID, payload []byte) (*result, error) {
	return outcome(s.engine.Propose(ctx, entry(kind, session, 0, auth, payload)))
}

// touchLoop tells the log, every TouchInterval, which sessions this node
// heard from, so that their deadlines move on every replica.
func (s *Server) touchLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.TouchInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		s.mu.Lock()
		touched := s.mu.touched
		s.mu.touched = map[int64]bool{}
		s.mu.Unlock()
		if len(touched) == 0 {
			continue
		}
		b := jute.AppendInt(nil, int32(len(touched)))
		for id := range touched {
			b = jute.AppendLong(b, id)
		}
		ctx, cancel := context.WithTimeout(s.ctx, s.cfg.ProposeTimeout)
		if _, err := s.propose(ctx, kindTouch, 0, nil, b); err != nil && s.ctx.Err() == nil {
			s.log.Warn("session touch failed", "err", err)
		}
		cancel()
	}
}

// tickLoop proposes a tick when this node's clock says a session's
// deadline has passed (so idle sessions expire without other traffic),
// and every ContainerCheckInterval when there are containers or TTL
// znodes to look at.
func (s *Server) tickLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.TickTime / 4)
	defer t.Stop()
	lastReap := time.Now()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		reap := time.Since(lastReap) >= s.cfg.ContainerCheckInterval
		due, reapable, err := s.tickDue()
		if err != nil {
			continue
		}
		if !due && !(reap && reapable) {
			continue
		}
		if reap {
			lastReap = time.Now()
		}
		ctx, cancel := context.WithTimeout(s.ctx, s.cfg.ProposeTimeout)
		if _, err := s.propose(ctx, kindTick, 0, nil, nil); err != nil && s.ctx.Err() == nil {
			s.log.Warn("proposing a tick failed; retrying at the next", "err", err)
		}
		cancel()
	}
}

// tickDue reports whether a session deadline has passed by this node's
// clock, and whether any container or TTL znode exists.
func (s *Server) tickDue() (due, reapable bool, err error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.ProposeTimeout)
	defer cancel()
	v, err := s.engine.Sync(ctx)
	if err != nil {
		return false, false, err
	}
	defer v.Close()
	it, err := v.NewIter([]byte{prefixDeadline}, []byte{prefixDeadline + 1})
	if err != nil {
		return false, false, err
	}
	if it.First() {
		k := it.Key()
		due = len(k) == 17 && int64(binary.BigEndian.Uint64(k[1:9])) < s.cfg.Clock().UnixMilli()
	}
	it.Close()
	it, err = v.NewIter([]byte{prefixReap}, []byte{prefixReap + 1})
	if err != nil {
		return false, false, err
	}
	reapable = it.First()
	it.Close()
	return due, reapable, nil
}

// readView syncs with the log and returns a view and the zxid of the last
// zk entry it holds, once the watch events up to it have gone out.
func (s *Server) readView(ctx context.Context) (platform.View, int64, error) {
	v, err := s.engine.Sync(ctx)
	if err != nil {
		return nil, 0, err
	}
	var zxid int64
	if b, ok, err := v.Get(lastZxidKey); err != nil {
		v.Close()
		return nil, 0, err
	} else if ok && len(b) == 8 {
		zxid = int64(binary.BigEndian.Uint64(b))
	}
	// The view may hold entries whose PostApply has not run yet; their
	// watch events must reach the clients first. Entries applied before
	// this process started have no watchers here.
	if first := s.firstZxid.Load(); first != 0 && zxid >= first {
		if err := s.notified.wait(ctx, zxid); err != nil {
			v.Close()
			return nil, 0, err
		}
	}
	return v, zxid, nil
}

// newSessionID draws a session id: nonzero, with a top byte that no
// special ephemeral owner uses.
func newSessionID() int64 {
	var b [8]byte
	rand.Read(b[:])
	id := int64(binary.BigEndian.Uint64(b[:]) & 0x00ffffffffffffff)
	return id | 1<<56
}

// watermark is a position that only grows, which goroutines can wait on.
type watermark struct {
	mu  sync.Mutex
	pos int64
	ch  chan struct{}
}

func (w *watermark) init() { w.ch = make(chan struct{}) }

func (w *watermark) advance(pos int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if pos > w.pos {
		w.pos = pos
		close(w.ch)
		w.ch = make(chan struct{})
	}
}

func (w *watermark) wait(ctx context.Context, pos int64) error {
	for {
		w.mu.Lock()
		if w.pos >= pos {
			w.mu.Unlock()
			return nil
		}
		ch := w.ch
		w.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Clients returns the number of open client connections.
func (s *Server) Clients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.mu.conns)
}
