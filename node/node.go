// Package node assembles one gateway node: the LogServer, the MetaStore and
// the VirtualLog below the waist, the engine stack above it, the
// personalities on top, the local admin endpoint and, in an ensemble, the
// peer endpoint the other nodes talk to.
//
//	n, err := node.Start(ctx, node.Config{DataDir: "data"})
//	defer n.Close()
//	fmt.Println(n.Addr("redis"))
package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"google.golang.org/grpc"

	"hourglass/engines/batching"
	"hourglass/engines/lease"
	"hourglass/engines/sessionorder"
	"hourglass/engines/timekeeper"
	"hourglass/engines/upgrade"
	"hourglass/engines/viewtracking"
	"hourglass/internal/metrics"
	"hourglass/internal/pebbledb"
	"hourglass/internal/tlsconf"
	"hourglass/loglet/backup"
	"hourglass/loglet/native"
	"hourglass/node/adminpb"
	"hourglass/personalities/kv"
	"hourglass/personalities/kv/keyspace"
	"hourglass/personalities/kv/resp"
	"hourglass/personalities/sql"
	"hourglass/personalities/zk"
	"hourglass/platform"
	"hourglass/virtuallog"
	"hourglass/virtuallog/metastore"
	"hourglass/virtuallog/vlogpb"
)

// Node is one running gateway node.
type Node struct {
	cfg Config
	log *slog.Logger

	logDB, metaDB, storeDB *pebble.DB
	server                 *native.LogServer
	acceptor               *metastore.Acceptor
	meta                   virtuallog.MetaStore
	provider               *virtuallog.Kinds
	vlog                   *virtuallog.VirtualLog
	base                   *platform.BaseEngine
	// shared is the log as the engine stack sees it.
	shared  *sharedLog
	lease   *lease.Engine
	upgrade *upgrade.Engine
	views   *viewtracking.Engine
	// leaseRef is lease for the peer endpoint, which starts before it.
	leaseRef             atomic.Pointer[lease.Engine]
	kv                   *kv.Server
	zk                   *zk.Server
	sql                  *sql.Server
	admin, peer          *grpc.Server
	http, debug, zkAdmin *http.Server
	metrics              *metrics.Set
	// tls is the node's TLS material; nil without it.
	tls   *tlsconf.Material
	conns *connPool
	// pgCancel is sql for the peer service, which may be called before
	// the Postgres API is built.
	pgCancel atomic.Pointer[sql.Server]

	addrs map[string]string
	// zkFsync is the ZooKeeper API once built, which counts the log's
	// fsyncs in its statistics.
	zkFsync atomic.Pointer[zk.Server]
	// boundPorts are the listeners' ports (api -> int) once bound, for
	// the ZooKeeper API's conf (which may be asked while the node still
	// binds its other listeners).
	boundPorts sync.Map
	// backupCopied is the position after the last entry the LogBackup
	// copied into the backup directory (0 without one).
	backupCopied atomic.Uint64
	// backupRun is where the contiguous run of the backup's log that
	// ends at backupCopied starts.
	backupRun atomic.Uint64
	// rolling says a roll of the active segment (maybeRoll) is running.
	rolling atomic.Bool
	stop    chan struct{}
	wg      sync.WaitGroup
}

// Start opens the node's data, joins its ensemble (waiting, within ctx,
// for a majority of it), replays the log from the applied cursor in the
// background, and starts every listener. On error everything opened so
// far is closed again.
func Start(ctx context.Context, cfg Config) (*Node, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := &Node{
		cfg:     cfg,
		log:     cfg.Logger.With("node", cfg.NodeID),
		addrs:   map[string]string{},
		stop:    make(chan struct{}),
		metrics: metrics.New(),
	}
	started := false
	defer func() {
		if !started {
			n.Close()
		}
	}()
	var err error
	if cfg.tlsFiles().Set() {
		if n.tls, err = tlsconf.Load(cfg.tlsFiles()); err != nil {
			return nil, err
		}
	}
	n.conns = newConnPool(n.tls)
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, err
	}
	open := func(name string, cache int64) (*pebble.DB, error) {
		return pebbledb.Open(filepath.Join(cfg.DataDir, name), pebbledb.Options{FS: cfg.FS, Logger: n.log.With("db", name), CacheBytes: cache})
	}
	if n.logDB, err = open("log", 16<<20); err != nil {
		return nil, err
	}
	if n.metaDB, err = open("meta", 1<<20); err != nil {
		return nil, err
	}
	if n.storeDB, err = open("store", cfg.StoreCacheBytes); err != nil {
		return nil, err
	}
	if n.server, err = native.OpenLogServer(n.logDB, false, n.log.With("component", "logserver")); err != nil {
		return nil, err
	}
	n.server.OnFsync(func(d time.Duration) {
		n.metrics.Fsync.Observe(d.Seconds())
		if z := n.zkFsync.Load(); z != nil {
			z.ObserveFsync(d)
		}
	})
	if n.provider, err = n.newProvider(); err != nil {
		return nil, err
	}
	if cfg.Ensemble() {
		if err := n.startPeer(); err != nil {
			return nil, err
		}
	} else {
		n.meta = metastore.NewLocal(n.metaDB)
	}
	if n.vlog, err = n.openLog(ctx); err != nil {
		return nil, err
	}
	sl := newSharedLog(n.vlog, n.metrics)
	n.shared = sl
	// With a backup directory every trim stops at a segment boundary,
	// whichever vote is the lowest (see archive).
	sl.segmentTrims = cfg.BackupDir != ""
	var lg platform.Log = sl
	if cfg.replayEnd > 0 {
		lg = replayLog{Log: sl, end: cfg.replayEnd}
	}
	bc := platform.BaseConfig{
		Log:    lg,
		Store:  n.storeDB,
		Logger: n.log.With("component", "engine"),
		// Bulk writes are built beside the store, on its filesystem.
		ScratchFS:  cfg.FS,
		ScratchDir: filepath.Join(cfg.DataDir, "scratch"),
	}
	if cfg.Ensemble() {
		// A node that falls behind a trimmed log restores from a peer.
		bc.Restore = n.restore
	}
	if n.base, err = platform.NewBase(bc); err != nil {
		return nil, err
	}
	n.storeDB = nil // the engine owns it now (and may replace it)
	var bw *backup.Writer
	var bnext platform.Position
	if cfg.BackupDir != "" {
		if bw, bnext, err = n.openBackup(); err != nil {
			return nil, fmt.Errorf("node: backup directory: %w", err)
		}
	}
	// The stack, bottom up: base, lease (reads without the log's tail),
	// upgrade (which version of each engine applies), timekeeper (one
	// time per log entry), views (the members' positions, for the trim),
	// batching, router; the ZooKeeper API has the
	// session-order engine on its mount.
	if n.lease, err = lease.New(n.base, lease.Config{
		Node:   cfg.NodeID,
		Term:   cfg.ReadLease,
		Logger: n.log.With("component", "lease"),
	}); err != nil {
		return nil, err
	}
	n.leaseRef.Store(n.lease)
	if n.upgrade, err = upgrade.New(n.lease, upgrade.Config{
		Node:      cfg.NodeID,
		Supported: supportedVersions(),
		Members:   n.memberIDs,
		View:      n.base.LocalView,
		Logger:    n.log.With("component", "upgrade"),
	}); err != nil {
		return nil, err
	}
	tk := timekeeper.New(n.upgrade, nil)
	tk.SetVersion(func() uint32 { return n.upgrade.Enabled("time") })
	n.views = viewtracking.New(tk, viewtracking.Config{
		Node:      cfg.NodeID,
		Retention: cfg.TrimRetention,
		Durable: func() (platform.Position, error) {
			pos := n.base.Applied()
			return pos, n.base.MakeDurable()
		},
		Applied: n.base.Applied,
		Backup:  n.backupTrimPoint,
		Members: n.memberIDs,
		Logger:  n.log.With("component", "views"),
	})
	router := platform.NewRouter(batching.New(n.views, batching.Config{}))
	n.kv = kv.New(kv.Config{
		Limits: resp.Limits{
			MaxBulkLen:      cfg.ProtoMaxBulkLen,
			MaxMultibulkLen: cfg.MaxMultibulkLen,
			MaxQueryBuffer:  cfg.ClientQueryBufferLimit,
		},
		MaxClients:           cfg.MaxClients,
		RequirePass:          cfg.RequirePass,
		NotifyKeyspaceEvents: eventClasses(cfg.NotifyKeyspaceEvents),
		Logger:               n.log.With("api", "redis"),
		Save:                 func() error { return n.base.MakeDurable() },
		Ensemble:             n.ensembleInfo,
		Applied:              n.base.Applied,
		PeersApplied:         n.peersApplied,
		Metrics:              n.metrics,
	}, router.Mount("kv"))
	mode := "standalone"
	if cfg.Ensemble() {
		mode = "follower" // no leader: every node takes writes
	}
	redisFile, err := n.applyRedisDirectives()
	if err != nil {
		return nil, err
	}
	n.logZooCfgNotes()
	saslUsers, err := cfg.zkSASLUsers()
	if err != nil {
		return nil, err
	}
	n.zk = zk.New(zk.Config{
		SASLUsers:              saslUsers,
		EnforceAuthSchemes:     cfg.ZKEnforceAuthSchemes,
		X509SuperUser:          cfg.ZKX509SuperUser,
		SASLSuperUser:          cfg.ZKSASLSuperUser,
		MaxBuffer:              cfg.ZKMaxBuffer,
		TickTime:               cfg.ZKTickTime,
		SuperDigest:            cfg.ZKSuperDigest,
		ContainerCheckInterval: cfg.ZKContainerCheckInterval,
		MinSessionTimeout:      cfg.ZKMinSessionTimeout,
		MaxSessionTimeout:      cfg.ZKMaxSessionTimeout,
		MaxClients:             cfg.ZKMaxClients,
		FourLetterWords:        zk.ParseWhitelist(cfg.ZK4LWWhitelist),
		Mode:                   mode,
		Logger:                 n.log.With("api", "zookeeper"),
		Metrics:                n.metrics,
		Node:                   n.zkNodeInfo,
	}, sessionorder.New(router.Mount("zk")))
	n.zkFsync.Store(n.zk)
	pc := sql.Config{
		Password:    cfg.PGPassword,
		MaxMessage:  cfg.PGMaxMessage,
		StageBytes:  cfg.PGStageBytes,
		Version:     func() uint32 { return n.upgrade.Enabled("sql") },
		Logger:      n.log.With("api", "postgres"),
		Node:        n.pgNode(),
		Metrics:     n.metrics,
		SSLRequired: cfg.PGSSLRequired,
		// The other APIs' state, as the read-only schemas redis and
		// zookeeper; their mounts' names are the ones above.
		SystemSchemas: []platform.TableSchema{
			{Name: "redis", Mount: "kv", Tables: keyspace.Tables()},
			{Name: "zookeeper", Mount: "zk", Tables: zk.Tables()},
		},
	}
	if n.tls != nil {
		// Postgres clients present certificates only when asked by
		// sslcert; the password (or trust) authenticates them.
		pc.TLS = n.tls.Server(tlsconf.OptionalClient)
	}
	if cfg.Ensemble() {
		pc.ForwardCancel = n.forwardCancel
	}
	n.sql = sql.New(pc, router.Mount("sql"))
	n.pgCancel.Store(n.sql)
	if err := n.base.Start(); err != nil {
		if bw != nil {
			bw.Close()
		}
		return nil, err
	}
	if bw != nil {
		n.wg.Add(1)
		go n.backupLoop(bw, bnext)
	}
	n.lease.Start()
	n.upgrade.Start()
	n.views.Start()
	if cfg.Ensemble() && n.lease.Enabled() {
		go n.pushApplied()
	}
	if err := n.proposeRedisFileState(ctx, redisFile); err != nil {
		return nil, err
	}

	if err := n.listen("redis", cfg.RedisAddr, func(ln net.Listener) error { return n.kv.Serve(ln) }); err != nil {
		return nil, err
	}
	if err := n.listen("zookeeper", cfg.ZKAddr, func(ln net.Listener) error { return n.zk.Serve(ln) }); err != nil {
		return nil, err
	}
	if err := n.listen("postgres", cfg.PGAddr, func(ln net.Listener) error { return n.sql.Serve(ln) }); err != nil {
		return nil, err
	}
	if err := n.listenTLS(); err != nil {
		return nil, err
	}
	n.admin = grpc.NewServer(serverOptions(n.tls)...)
	adminpb.RegisterAdminServer(n.admin, &adminService{n: n})
	if err := n.listen("admin", cfg.AdminAddr, n.admin.Serve); err != nil {
		return nil, err
	}
	n.registerGauges(sl)
	if cfg.HTTPAddr != "" {
		if err := n.serveHTTP(cfg.HTTPAddr); err != nil {
			return nil, err
		}
	}
	if cfg.ZKAdminAddr != "" {
		n.zkAdmin = &http.Server{Handler: n.zk.AdminHandler(cfg.ZKAdminCommandURL), ReadHeaderTimeout: 10 * time.Second}
		if err := n.listen("zookeeper-admin", cfg.ZKAdminAddr, n.zkAdmin.Serve); err != nil {
			return nil, err
		}
	}
	if cfg.DebugAddr != "" {
		if err := n.serveDebug(cfg.DebugAddr); err != nil {
			return nil, err
		}
	}

	n.wg.Add(1)
	go n.trimLoop()
	if cfg.Ensemble() {
		n.wg.Add(1)
		go n.rehomeLoop()
	}
	started = true
	return n, nil
}

// openLog opens the VirtualLog, creating the chain if the MetaStore holds
// none. In an ensemble it retries until a majority of the nodes answers or
// ctx ends.
func (n *Node) openLog(ctx context.Context) (*virtuallog.VirtualLog, error) {
	marker, restored, err := readRestoreMarker(n.cfg.DataDir)
	if err != nil {
		return nil, err
	}
	cfg := virtuallog.Config{
		Meta:        n.meta,
		Provider:    n.provider,
		Logger:      n.log.With("component", "virtuallog"),
		InitialKind: n.cfg.Log,
		Archive:     n.archive,
		Initial: func(c *vlogpb.Chain) {
			c.ZkLogServers = slices.Clone(n.cfg.ZKLogServers)
			for _, p := range n.cfg.Nodes {
				c.Members = append(c.Members, &vlogpb.Member{Id: p.ID, PeerAddr: p.PeerAddr, RedisAddr: p.RedisAddr, AdminAddr: p.AdminAddr})
			}
			if restored {
				initialSegments(marker, c)
			}
		},
	}
	if restored {
		// A store restored from a backup has applied the log up to the
		// marker's end: a new log continues from there.
		cfg.InitialStart = marker.End
	}
	for attempt := 0; ; attempt++ {
		vl, err := virtuallog.Open(ctx, cfg)
		if err == nil || !n.cfg.Ensemble() || ctx.Err() != nil {
			return vl, err
		}
		if attempt%10 == 0 {
			n.log.Info("waiting for a majority of the ensemble", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// listenTLS starts the Redis TLS port and ZooKeeper's secure client port
// that are configured.
func (n *Node) listenTLS() error {
	auth, _ := tlsconf.ParseClientAuth(n.cfg.TLSAuthClients)
	if a := n.cfg.RedisTLSAddr; a != "" {
		if err := n.listen("redis-tls", a, func(ln net.Listener) error { return n.kv.Serve(tls.NewListener(ln, n.tls.Server(auth))) }); err != nil {
			return err
		}
	}
	if a := n.cfg.ZKSecureAddr; a != "" {
		if err := n.listen("zookeeper-secure", a, func(ln net.Listener) error { return n.zk.Serve(tls.NewListener(ln, n.tls.Server(auth))) }); err != nil {
			return err
		}
	}
	return nil
}

// ReloadTLS reads the node's TLS files again (on SIGHUP); connections
// made afterwards use the new material. Without TLS it does nothing.
func (n *Node) ReloadTLS() error {
	if n.tls == nil {
		return nil
	}
	return n.tls.Reload()
}

// listen binds addr and serves it on a goroutine, logging the address
// actually bound (port 0 picks a free one).
func (n *Node) listen(api, addr string, serve func(net.Listener) error) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s api: %w", api, err)
	}
	n.addrs[api] = ln.Addr().String()
	n.boundPorts.Store(api, ln.Addr().(*net.TCPAddr).Port)
	n.log.Info("listening", "api", api, "addr", ln.Addr().String())
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if err := serve(ln); err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, grpc.ErrServerStopped) && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("listener stopped", "api", api, "err", err)
		}
	}()
	return nil
}

// Addr returns the address the named API ("redis", "admin", "peer")
// listens on.
func (n *Node) Addr(api string) string { return n.addrs[api] }

// Listeners returns "api=addr" for every listener, sorted.
func (n *Node) Listeners() []string {
	var out []string
	for api, addr := range n.addrs {
		out = append(out, api+"="+addr)
	}
	sort.Strings(out)
	return out
}

// trimLoop lets the log be trimmed below all but the last LogRetain
// applied entries. It is one vote: the views engine votes the lowest
// durable position of the members that still need the log, and the
// BaseEngine trims below the lowest vote, and only below applied state it
// has made durable.
func (n *Node) trimLoop() {
	defer n.wg.Done()
	t := time.NewTicker(trimEvery)
	defer t.Stop()
	for {
		// The vote is cast from the start (0 while fewer than LogRetain
		// entries applied), so the other votes never trim the last
		// LogRetain entries.
		applied := n.base.Applied()
		n.base.SetTrimPrefix("retain", applied-min(applied, n.cfg.LogRetain))
		select {
		case <-n.stop:
			return
		case <-t.C:
		}
	}
}

// Reconfigure seals the active loglet and moves the log to a fresh one of
// the given kind ("" keeps the kind).
func (n *Node) Reconfigure(ctx context.Context, kind string) (uint64, error) {
	return n.vlog.Reconfigure(ctx, kind)
}

// proposerID derives a MetaStore ballot tag from the node id.
func proposerID(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64() | 1
}

// Close stops the listeners, the apply loop and the databases, in that
// order. Everything acknowledged is already durable in the log.
func (n *Node) Close() error {
	select {
	case <-n.stop:
		return nil
	default:
		close(n.stop)
	}
	if n.kv != nil {
		n.kv.Close()
	}
	if n.zk != nil {
		n.zk.Close()
	}
	if n.sql != nil {
		n.sql.Close()
	}
	if n.admin != nil {
		n.admin.Stop()
	}
	for _, h := range []*http.Server{n.http, n.debug, n.zkAdmin} {
		if h != nil {
			h.Close()
		}
	}
	if n.lease != nil {
		n.lease.Close()
	}
	if n.upgrade != nil {
		n.upgrade.Close()
	}
	if n.views != nil {
		n.views.Close()
	}
	if n.base != nil {
		n.base.Close()
	}
	// Closing the loglets and stopping the peer service first makes
	// every log call under way fail fast, so the log's close below (which
	// waits for them) and the peers' view of this node (gone, so they
	// fail over) never wait on each other.
	var errs []error
	if n.provider != nil {
		errs = append(errs, n.provider.Close())
	}
	if n.peer != nil {
		n.peer.Stop()
	}
	if n.shared != nil {
		n.shared.close(n.log)
	}
	n.wg.Wait()
	if r, ok := n.meta.(*metastore.Replicated); ok {
		errs = append(errs, r.Close())
	}
	if n.acceptor != nil {
		n.acceptor.Close()
	}
	if n.conns != nil {
		n.conns.close()
	}
	if n.server != nil {
		errs = append(errs, n.server.Close())
	}
	if n.base != nil {
		n.storeDB = n.base.Store()
	}
	for _, db := range []*pebble.DB{n.storeDB, n.metaDB, n.logDB} {
		if db != nil {
			errs = append(errs, db.Close())
		}
	}
	n.log.Info("node stopped")
	return errors.Join(errs...)
}

// Fatal delivers the error that stopped the node's apply loop, if one
// does; the node then serves nothing useful and should be restarted.
func (n *Node) Fatal() <-chan error {
	ch := make(chan error, 1)
	go func() {
		select {
		case <-n.base.Done():
			if err := n.base.Err(); err != nil {
				ch <- err
			}
		case <-n.stop:
		}
	}()
	return ch
}

// ensembleInfo is INFO's Ensemble section.
func (n *Node) ensembleInfo() [][2]string {
	chain, _ := n.vlog.Chain()
	seg := chain.Segments[len(chain.Segments)-1]
	members := n.memberIDs()
	seq := seg.Loglet.Sequencer
	if seq == "" {
		seq = n.cfg.NodeID
	}
	return [][2]string{
		{"node_id", n.cfg.NodeID},
		{"members", strings.Join(members, ",")},
		{"applied", strconv.FormatUint(n.base.Applied(), 10)},
		{"log_segments", strconv.Itoa(len(chain.Segments))},
		{"active_loglet", strconv.FormatUint(seg.Loglet.Id, 10)},
		{"sequencer", seq},
		{"log_servers", strings.Join(seg.Loglet.Servers, ",")},
	}
}
