package kv

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"hourglass/internal/accept"
	"hourglass/internal/metrics"
	"hourglass/personalities/kv/acl"
	"hourglass/personalities/kv/keyspace"
	"hourglass/personalities/kv/resp"
	"hourglass/platform"
)

// Config configures the Redis personality.
type Config struct {
	// Limits bound what one connection may send (see package resp).
	Limits resp.Limits
	// MaxClients bounds concurrent connections; 0 means 10000.
	MaxClients int
	// ProposeTimeout bounds how long a write waits for the log, and a read
	// for its Sync; 0 means 30s. A write that times out is answered as
	// uncertain.
	ProposeTimeout time.Duration
	// MaxPipeline bounds the replies one connection may have outstanding
	// before the server writes them out; 0 means 1024.
	MaxPipeline int
	// Logger receives the personality's log lines; nil discards them.
	Logger *slog.Logger
	// Clock is the wall clock reads use to decide expiry; nil means
	// time.Now.
	Clock func() time.Time
	// RequirePass, if set, is the default user's password: clients must
	// AUTH before anything else, under tight request limits.
	RequirePass string
	// Save makes the applied state durable (SAVE, BGSAVE); nil means
	// nothing to do (the log already holds every write durably).
	Save func() error
	// Ensemble, if set, reports the node's ensemble for INFO's Ensemble
	// section.
	Ensemble func() [][2]string
	// Applied returns this node's applied log position, and
	// PeersApplied the applied positions of the other nodes of the
	// ensemble (0 for one that does not answer within a second), for
	// WAIT; either nil, or no other nodes: WAIT answers 0 at once.
	Applied      func() uint64
	PeersApplied func(ctx context.Context) []uint64
	// ScriptLimits bound a script's run: its Lua instructions and the
	// bytes of strings it makes (CONFIG lua-instruction-limit and
	// lua-memory-limit); zero fields mean keyspace.DefaultScriptLimits.
	// A write script carries the bounds of the node that proposed it, so
	// every replica stops it at the same point.
	ScriptLimits keyspace.ScriptLimits
	// Metrics, if set, records every command's requests, errors and
	// latency.
	Metrics *metrics.Set
	// NotifyKeyspaceEvents are the keyspace notifications this node
	// delivers to its subscribers (CONFIG notify-keyspace-events); 0:
	// none.
	NotifyKeyspaceEvents keyspace.EventClass
}

// settings are the parameters CONFIG SET may change at run time.
type settings struct {
	maxClients   int
	requirePass  string
	scriptLimits keyspace.ScriptLimits
	// limits bound what a connection may send; a connection takes them
	// when it is accepted.
	limits resp.Limits
	// notify is notify-keyspace-events; Server.notify mirrors it for
	// the apply goroutine.
	notify keyspace.EventClass
	// monitor configures the slow log and the latency monitor;
	// Server.monitor mirrors it.
	monitor monitorSettings
	// params are the CONFIG parameters set that mean nothing here, by
	// name (aliases included); never changed in place, only replaced.
	params map[string]string
}

// Server is the Redis personality: the RESP front end and the top-layer
// applicator of the "kv" mount.
type Server struct {
	cfg    Config
	engine platform.StreamEngine
	log    *slog.Logger

	nextID atomic.Int64
	// acl is the node's copy of the ACL users and its ACL LOG.
	acl      aclState
	cursors  cursors
	hub      hub
	tracker  tracker
	monitors monitors
	blocker  blocker
	scripts  scripts
	started  time.Time
	lastSave atomic.Int64
	stats    struct {
		commands, connections, rejected, blocked atomic.Int64
		// evicted counts the keys eviction deleted at apply here.
		evicted atomic.Int64
	}
	// eviction is the replicated eviction settings as of the last entry
	// applied; touches the keys reads touched since the last touch
	// entry (see eviction.go).
	eviction   atomic.Pointer[keyspace.EvictionConfig]
	touches    touchSet
	settingsMu sync.Mutex
	current    settings
	notify     atomic.Uint32 // current.notify, read without the lock
	pause      pauseState
	// activeExpire: this node proposes expiry ticks (DEBUG
	// SET-ACTIVE-EXPIRE).
	activeExpire atomic.Bool
	monitor      atomic.Pointer[monitorSettings] // current.monitor, read without the lock
	slowlog      slowlog
	latency      latencyMonitor
	ctx          context.Context // canceled on Close
	cancel       context.CancelFunc

	mu struct {
		sync.Mutex
		conns     map[*conn]struct{}
		byID      map[int64]*conn
		listeners []net.Listener
		closed    bool
	}
	wg sync.WaitGroup
}

// New returns a Redis personality proposing through engine, and registers
// its applicator there.
func New(cfg Config, engine platform.StreamEngine) *Server {
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = 10000
	}
	if cfg.ProposeTimeout <= 0 {
		cfg.ProposeTimeout = 30 * time.Second
	}
	if cfg.MaxPipeline <= 0 {
		cfg.MaxPipeline = 1024
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.ScriptLimits.Instructions <= 0 {
		cfg.ScriptLimits.Instructions = keyspace.DefaultScriptLimits.Instructions
	}
	if cfg.ScriptLimits.Memory <= 0 {
		cfg.ScriptLimits.Memory = keyspace.DefaultScriptLimits.Memory
	}
	s := &Server{cfg: cfg, engine: engine, log: cfg.Logger, started: time.Now()}
	s.lastSave.Store(s.started.Unix())
	s.activeExpire.Store(true)
	s.current = settings{maxClients: cfg.MaxClients, requirePass: cfg.RequirePass, scriptLimits: cfg.ScriptLimits, limits: cfg.Limits.WithDefaults(), notify: cfg.NotifyKeyspaceEvents, monitor: defaultMonitorSettings()}
	s.notify.Store(uint32(cfg.NotifyKeyspaceEvents))
	m := s.current.monitor
	s.monitor.Store(&m)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.mu.conns = make(map[*conn]struct{})
	s.mu.byID = make(map[int64]*conn)
	s.tracker.token = rand.Uint64()
	engine.RegisterUpcall(newApplicator(s))
	s.eviction.Store(&keyspace.DefaultEvictionConfig)
	go s.tickLoop(time.Second)
	go s.touchLoop()
	return s
}

// Serve accepts connections on ln until Close. It returns nil after Close.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.mu.closed {
		s.mu.Unlock()
		return net.ErrClosed
	}
	s.mu.listeners = append(s.mu.listeners, ln)
	s.mu.Unlock()
	return accept.Loop(ln, s.ctx.Done(), func(nc net.Conn) {
		st := s.settings()
		c := &conn{s: s, nc: nc, id: s.nextID.Add(1), proto: 2, created: time.Now(), authed: s.defaultOpen()}
		c.lastAt.Store(c.created.UnixNano())
		c.pushProto.Store(2)
		c.rd = resp.NewReader(nc, st.limits)
		c.rd.SetAuthenticated(c.authed)
		c.rd.SetBeforeRead(c.beforeRead)
		s.stats.connections.Add(1)
		s.mu.Lock()
		if s.mu.closed || len(s.mu.conns) >= st.maxClients {
			s.mu.Unlock()
			s.stats.rejected.Add(1)
			nc.Write(appendReply(nil, errMaxClients, 2))
			nc.Close()
			return
		}
		s.mu.conns[c] = struct{}{}
		s.mu.byID[c.id] = c
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			c.serve()
			s.mu.Lock()
			delete(s.mu.conns, c)
			delete(s.mu.byID, c.id)
			s.mu.Unlock()
		}()
	})
}

// Close stops accepting, closes every connection and waits for their
// goroutines.
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

// Clients returns the number of open connections.
func (s *Server) Clients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.mu.conns)
}

// conn is one client connection. Only its own goroutine touches it.
type conn struct {
	s      *Server
	nc     net.Conn
	rd     *resp.Reader
	id     int64
	proto  int // 2 or 3
	db     int
	quit   bool
	authed bool
	reply  replyMode
	// perm is the connection's user as of table generation permGen.
	perm    *acl.User
	permGen uint64
	// synced is the user as last read from a synced view, from the
	// stored text and requirepass in syncedKey.
	synced    *acl.User
	syncedKey string

	// Read by other connections (CLIENT LIST, INFO) too.
	created        time.Time
	lastAt         atomic.Int64 // unix nanos of the last command
	lastName       atomic.Pointer[string]
	name           atomic.Pointer[string]
	info           atomic.Pointer[clientLib]
	subscribedHint atomic.Bool
	blocked        atomic.Pointer[waiter] // set while a blocking command waits
	user           atomic.Pointer[string] // the ACL user; nil: default

	out []byte
	// pending are replies not yet written, in request order.
	pending []*slot
	// multi is the open transaction (MULTI ... EXEC), nil if none;
	// watches are the WATCHed keys.
	multi   *multiState
	watches []keyspace.Watch
	// view is the Sync view shared by a run of reads with no write
	// between them, all received before it was taken (it is dropped
	// before the connection waits for more bytes); nil when there is
	// none.
	view platform.View

	// Pub/sub: subscriptions, and the queue its writer drains. outMu
	// orders writes to nc between replies and pushed messages.
	subs, psubs  map[string]struct{}
	pushes       chan any
	pushProto    atomic.Int32
	pushMu       sync.Mutex // guards pushesClosed and sends on pushes
	pushesClosed bool
	outMu        sync.Mutex
	// pushQueued and pushWritten count the messages queued and written;
	// pushTick wakes awaitPushes after a write; pushFailed: the writer
	// gave up.
	pushQueued, pushWritten atomic.Uint64
	pushTick                chan struct{}
	pushFailed              atomic.Bool
	// pushBytes are the bytes of MONITOR lines queued; softSince is
	// when they went past the soft limit (guarded by pushMu).
	pushBytes atomic.Int64
	softSince time.Time
	// monitoring: the connection is a MONITOR; ownLines are the lines
	// of its own commands, sent after their replies; luaLines the
	// commands its read-only script ran, shown after the script's line.
	monitoring atomic.Bool
	ownLines   []monitorLine
	luaLines   []monitorLine
	// execLines are the MONITOR lines of the transaction EXEC runs.
	execLines []monitorLine

	// stream proposes the connection's writes in order; made at the
	// first write.
	stream platform.Stream

	// Client-side caching: CLIENT TRACKING's state (see tracking.go),
	// CLIENT CACHING's answer for the next command, and the reads whose
	// keys are remembered once their replies are written.
	track      trackState
	caching    bool
	trackReads []trackedRead
}

// slot is one reply in request order: ready at once, or when its
// proposal is applied.
type slot struct {
	p     *platform.Pending // nil: reply is ready
	reply any
	// m records the command when its reply goes out; start is when it
	// arrived.
	m     *metrics.Command
	start time.Time
	// silent: CLIENT REPLY drops the reply.
	silent bool
	// note, if set, logs the command in the monitors once settled, in
	// request order.
	note *monitorNote
	// exec, if set, are the MONITOR lines of an EXEC, shown once it is
	// settled: its queued commands' unless WATCH aborted it, then its own.
	exec []monitorLine
}

func (c *conn) serve() {
	defer c.nc.Close()
	defer c.dropView()
	defer func() {
		c.unsubscribeAll()
		c.s.disableTracking(c)
		c.stopMonitor()
		c.stopPushes()
	}()
	for !c.quit {
		args, err := c.rd.ReadCommand()
		if err != nil {
			var perr *resp.ProtocolError
			if errors.As(err, &perr) {
				c.s.log.Debug("protocol error; closing connection", "client", c.id, "addr", c.nc.RemoteAddr().String(), "err", perr)
				c.push(keyspace.Error("ERR " + perr.Error()))
			}
			c.flush()
			return
		}
		c.handle(args)
		if len(c.pending) >= c.s.cfg.MaxPipeline && !c.flush() {
			return
		}
	}
	c.flush()
}

// errWriteFailed stops the reader once a reply could not be written.
var errWriteFailed = errors.New("kv: writing to the client failed")

// beforeRead runs whenever the connection has no complete request left
// and must wait for the socket: the replies held so far go out, and the
// read view goes, so that a request that arrives later is never served
// from a view taken before it arrived (it may follow a write another
// client had acknowledged meanwhile).
func (c *conn) beforeRead() error {
	if !c.flush() {
		return errWriteFailed
	}
	return nil
}

// push queues a ready reply.
func (c *conn) push(r any) { c.pending = append(c.pending, &slot{reply: r}) }

// flush waits for every pending reply in order and writes them out. It
// reports whether the connection is still usable.
func (c *conn) flush() bool {
	c.dropView()
	c.out = c.out[:0]
	for _, s := range c.pending {
		c.settle(s)
		c.logNote(s)
		c.feedExec(s)
		if s.m != nil {
			_, failed := s.reply.(keyspace.Error)
			s.m.Done(s.start, failed)
		}
		if !s.silent {
			c.out = appendReply(c.out, s.reply, c.proto)
		}
	}
	clear(c.pending)
	c.pending = c.pending[:0]
	if len(c.out) == 0 {
		c.rememberReads()
		c.sendOwnLines()
		return true
	}
	c.awaitPushes()
	c.outMu.Lock()
	_, err := c.nc.Write(c.out)
	c.outMu.Unlock()
	c.rememberReads()
	c.sendOwnLines()
	if cap(c.out) > 64<<10 {
		c.out = nil // do not keep a large buffer for an idle connection
	}
	return err == nil
}

func (c *conn) dropView() {
	if c.view != nil {
		c.view.Close()
		c.view = nil
	}
}

// waitPending waits for every queued write, so that a later read sees it.
func (c *conn) waitPending() {
	for _, s := range c.pending {
		c.settle(s)
		c.logNote(s)
		c.feedExec(s)
	}
}

// handle runs one command, and marks the replies it queued for the
// command's metrics.
func (c *conn) handle(args [][]byte) {
	if !c.waitPause(args) {
		c.quit = true
		return
	}
	start := time.Now()
	c.lastAt.Store(start.UnixNano())
	n := len(c.pending)
	cmd := c.run(args, start)
	if len(c.pending) > n {
		c.feedMonitors(cmd, args, start, c.pending[len(c.pending)-1].reply)
	} else {
		c.feedMonitors(cmd, args, start, nil)
	}
	if c.multi == nil && (cmd == nil || cmd.Name != "client") {
		c.caching = false // CLIENT CACHING holds for one command
	}
	c.silence(n)
	c.noteDuration(cmd, args, start, n)
	if c.s.cfg.Metrics == nil || len(c.pending) == n {
		return
	}
	name := "unknown"
	if cmd != nil {
		name = cmd.Name
	}
	m := c.s.cfg.Metrics.Command(metrics.Redis, name)
	for _, s := range c.pending[n:] {
		s.m, s.start = m, start
	}
}

// run runs one command and returns it (nil if unknown).
func (c *conn) run(args [][]byte, now time.Time) *command {
	c.s.stats.commands.Add(1)
	cmd := lookupCommand(args[0])
	if cmd == nil {
		if c.multi != nil {
			c.multi.failed = true
		}
		c.push(errUnknownCommand(args))
		return nil
	}
	if !cmd.ArityOK(len(args)) {
		if c.multi != nil {
			c.multi.failed = true
		}
		c.push(keyspace.ErrArity(cmd.Name))
		return cmd
	}
	c.lastName.Store(&cmd.Name)
	if !c.authed && !cmd.noAuth {
		c.push(errNoAuth)
		return cmd
	}
	if err := c.checkPermission(args); err != nil {
		if c.multi != nil {
			c.multi.failed = true
		}
		c.push(err)
		return cmd
	}
	if r := c.monitorRefuses(cmd, args); r != nil {
		c.push(r)
		return nil // refused before it runs: no monitor sees it
	}
	if c.multi != nil && !cmd.control {
		c.push(c.queue(cmd, args))
		return cmd
	}
	if c.proto == 2 && c.subscriptions() > 0 && !cmd.pubsub && cmd.Name != "ping" && cmd.Name != "quit" && cmd.Name != "reset" {
		c.push(keyspace.Errorf("ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context", cmd.Name))
		return cmd
	}
	d := cmd.data
	if d == nil {
		if r := cmd.local(c, args); r != (deferred{}) {
			c.push(r)
		}
		return cmd
	}
	if err := d.Check(args, now); err != nil {
		c.push(replyOf(nil, err))
		return cmd
	}
	if err := checkScript(d, args); err != nil {
		c.push(replyOf(nil, err))
		return cmd
	}
	if d.BlocksWith(args) {
		c.runBlocking(d, args, now)
		return cmd
	}
	switch d.KindOf(args) {
	case keyspace.KindRead, keyspace.KindScan:
		ks, err := c.readKeyspace()
		if err != nil {
			c.push(platformError(err))
			return cmd
		}
		if misses := c.s.noteMisses(ks); misses != nil {
			defer c.s.publishAll(misses)
		}
		if d.Kind == keyspace.KindScan {
			c.push(replyOf(d.Scan(ks, args, &c.s.cursors)))
			return cmd
		}
		if d.Name == "eval_ro" || d.Name == "evalsha_ro" || d.Name == "fcall_ro" {
			kill := c.s.scripts.start(args, c.s.cfg.Clock())
			c.push(replyOf(d.Exec(ks.WithScripting(c.scriptEnv(kill)), args)))
			c.s.scripts.done(kill)
			return cmd
		}
		if d.Name == "object" || d.Name == "lcs" {
			ks = ks.WithNodeConfig(c.s.nodeConfig())
		}
		c.push(replyOf(d.Exec(ks, args)))
		c.noteRead(cmd, args)
		c.s.noteAccess(c.db, d, args)
	case keyspace.KindWrite:
		c.proposeCommand(c.writeBody(d, args))
	}
	return cmd
}

// readKeyspace returns the connection's database as of readView.
func (c *conn) readKeyspace() (*keyspace.Keyspace, error) {
	v, err := c.readView()
	if err != nil {
		return nil, err
	}
	return keyspace.NewView(v, c.db, c.s.cfg.Clock(), rand.Uint64()), nil
}

// readView returns a view of the applied state taken by a Sync after the
// connection's earlier writes were applied; a run of reads shares it.
func (c *conn) readView() (platform.View, error) {
	if c.view == nil {
		c.waitPending()
		ctx, cancel := context.WithTimeout(c.s.ctx, c.s.cfg.ProposeTimeout)
		v, err := c.s.engine.Sync(ctx)
		cancel()
		if err != nil {
			return nil, err
		}
		c.view = v
	}
	return c.view, nil
}

// proposeCommand queues a reply slot for body, a write, and proposes it
// on the connection's stream. A connection's writes reach the log in the
// order it sent them: the batching engine below keeps a stream's
// proposals in order, with at most one batch of them in flight, and
// bundles those that queue meanwhile into the next.
func (c *conn) proposeCommand(body []byte) {
	c.dropView()
	c.pending = append(c.pending, &slot{p: c.propose(body)})
}

// propose proposes body on the connection's stream.
func (c *conn) propose(body []byte) *platform.Pending {
	if c.stream == nil {
		c.stream = c.s.engine.NewStream()
	}
	e := &platform.Entry{Body: body}
	c.tagOrigin(e)
	return c.stream.Propose(e)
}

// settle waits for a proposed write's outcome (within ProposeTimeout)
// and turns it into the slot's reply.
func (c *conn) settle(s *slot) {
	if s.p == nil {
		return
	}
	var r platform.Result
	var err error
	if s.p.Ready() {
		r, err = s.p.Result()
	} else {
		ctx, cancel := context.WithTimeout(c.s.ctx, c.s.cfg.ProposeTimeout)
		r, err = s.p.Wait(ctx)
		cancel()
	}
	s.p, s.reply = nil, resultReply(r, err)
	if s.note != nil && !s.note.measured {
		s.note.dur, s.note.measured = time.Since(s.note.start), true
	}
}

// resultReply is the reply to a write: the applied command's reply, or
// the error of a stack that failed or refused it.
func resultReply(r platform.Result, err error) any {
	switch {
	case err != nil:
		return platformError(err)
	case r.Err != nil:
		return platformError(r.Err)
	}
	return r.Value
}

// limits returns the connection limits with defaults filled in.

// settings returns the current run-time settings.
func (s *Server) settings() settings {
	s.settingsMu.Lock()
	defer s.settingsMu.Unlock()
	return s.current
}

func (s *Server) updateSettings(f func(*settings)) {
	s.settingsMu.Lock()
	defer s.settingsMu.Unlock()
	f(&s.current)
	s.acl.gen.Add(1)
	s.notify.Store(uint32(s.current.notify))
	m := s.current.monitor
	s.monitor.Store(&m)
}

// connections returns the open connections, by id.
func (s *Server) connections() []*conn {
	s.mu.Lock()
	out := make([]*conn, 0, len(s.mu.conns))
	for c := range s.mu.conns {
		out = append(out, c)
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// clientLib is what CLIENT SETINFO recorded.
type clientLib struct{ name, ver string }

func (c *conn) lib() clientLib {
	if l := c.info.Load(); l != nil {
		return *l
	}
	return clientLib{}
}

func (c *conn) setName(n string) { c.name.Store(&n) }

func (c *conn) getName() string {
	if n := c.name.Load(); n != nil {
		return *n
	}
	return ""
}

func (c *conn) lastCmd() string {
	if n := c.lastName.Load(); n != nil {
		return *n
	}
	return "NULL"
}

// connByID returns the open connection id, or nil.
func (s *Server) connByID(id int64) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.byID[id]
}

// kill closes c from another connection (CLIENT KILL).
func (c *conn) kill() { c.nc.Close() }
