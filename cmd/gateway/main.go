// Command gateway is the Hourglass binary: `gateway serve` runs a node that
// speaks the Redis and ZooKeeper APIs over the shared log, `gateway
// logserver` runs a LogServer-only process, and the other sub-commands
// administer a running node through its local admin endpoint.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"hourglass/internal/faultfs"
	"hourglass/internal/tlsconf"
	"hourglass/node"
	"hourglass/node/adminpb"
	"hourglass/virtuallog/vlogpb"
)

const usage = `usage: gateway <command> [flags]

commands:
  serve        run a node (embedded single-node default: data in ./data,
               Redis API on 127.0.0.1:6379, ZooKeeper API on
               127.0.0.1:2181, admin endpoint on 127.0.0.1:7070); with
               --peers or a config file listing nodes, a member of an
               ensemble
  logserver    run a LogServer-only process (disaggregated log storage)
  status       print the log's chain of segments, every node's progress,
               the MetaStore's acceptors and the trim policy
  reconfigure  seal the active loglet and move the log to a fresh one
  members      add, remove or replace a member of the ensemble (and its
               MetaStore acceptor)
  upgrade      show the engines' enabled versions, what each member
               supports and the upgrades pending (upgrade status)
  backup       create a checkpoint of a running node's state in a backup
               directory (backup create), build a data directory from
               one at any position the backup reaches (backup restore),
               check a backup (backup verify)
  certs        make a CA (certs init) and sign node and client
               certificates with it (certs issue), for TLS

Run 'gateway <command> -h' for the command's flags.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "logserver":
		err = logserver(os.Args[2:])
	case "reconfigure":
		err = reconfigure(os.Args[2:], os.Stdout)
	case "status":
		err = statusCmd(os.Args[2:], os.Stdout)
	case "members":
		err = members(os.Args[2:], os.Stdout)
	case "certs":
		err = certs(os.Args[2:], os.Stdout)
	case "upgrade":
		err = upgradeCmd(os.Args[2:], os.Stdout)
	case "backup":
		err = backupCmd(os.Args[2:], os.Stdout)
	case "-h", "-help", "--help", "help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "gateway: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "gateway:", err)
		}
		os.Exit(1)
	}
}

// fileArg finds a file flag's value (--config, --zoo-cfg, --redis-conf) in args
// before the flags are parsed, so that the file's settings become the
// flags' defaults.
func fileArg(args []string, name string) string {
	for i, a := range args {
		for _, p := range []string{"-" + name, "--" + name} {
			if a == p && i+1 < len(args) {
				return args[i+1]
			}
			if v, ok := strings.CutPrefix(a, p+"="); ok {
				return v
			}
		}
	}
	return ""
}

// serveFlags maps the serve flags onto a node.Config: a config file, if
// given, sets the defaults; flags on the command line override it.
func serveFlags(args []string) (node.Config, *slog.Logger, error) {
	var cfg node.Config
	if file := fileArg(args, "config"); file != "" {
		if err := cfg.LoadFile(file); err != nil {
			return cfg, nil, err
		}
	}
	if file := fileArg(args, "zoo-cfg"); file != "" {
		if err := cfg.LoadZooCfg(file); err != nil {
			return cfg, nil, err
		}
	}
	if file := fileArg(args, "redis-conf"); file != "" {
		if err := cfg.LoadRedisConf(file); err != nil {
			return cfg, nil, err
		}
	}
	def := cfg
	def.EnsureDefaults()
	// Addresses that come from this node's entry in the nodes list are
	// filled in later, once --node-id is known.
	fromEntry := func(v string) string {
		if len(cfg.Nodes) > 0 {
			return ""
		}
		return v
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.String("config", "", "JSON config file; keys are the flag names, plus \"nodes\" for an ensemble")
	fs.String("redis-conf", "", "a redis.conf file: its bind, port, tls-* and every CONFIG parameter apply to the Redis API (flags override it)")
	fs.String("zoo-cfg", "", "an Apache ZooKeeper zoo.cfg: clientPort, dataDir, tickTime, server.N lines with dataDir/myid, ... apply (flags override it)")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	peers := fs.String("peers", "", "the ensemble: id=peer-host:port for every node, this one included, comma separated")
	fs.StringVar(&cfg.NodeID, "node-id", def.NodeID, "this node's id in its ensemble")
	fs.StringVar(&cfg.DataDir, "data-dir", fromEntry(def.DataDir), "directory for the node's data")
	fs.StringVar(&cfg.RedisAddr, "redis-addr", fromEntry(def.RedisAddr), "Redis API address (port 0 picks a free port)")
	fs.StringVar(&cfg.ZKAddr, "zk-addr", fromEntry(def.ZKAddr), "ZooKeeper API address (port 0 picks a free port)")
	fs.StringVar(&cfg.PGAddr, "pg-addr", fromEntry(def.PGAddr), "Postgres API address (port 0 picks a free port)")
	fs.IntVar(&cfg.PGStageBytes, "pg-stage-bytes", def.PGStageBytes, "bytes a Postgres transaction buffers before it stages its writes through the log (0: 8 MiB); bounds a large COPY's memory")
	fs.IntVar(&cfg.PGMaxMessage, "pg-max-message", def.PGMaxMessage, "longest Postgres client message in bytes (0: 64 MiB); a longer one closes the connection (08P01)")
	fs.StringVar(&cfg.PGPassword, "pg-password", def.PGPassword, "Postgres password: clients authenticate with SCRAM-SHA-256 (none when empty: trust)")
	fs.StringVar(&cfg.AdminAddr, "admin-addr", fromEntry(def.AdminAddr), "local admin endpoint address")
	fs.StringVar(&cfg.PeerAddr, "peer-addr", cfg.PeerAddr, "address the node serves its ensemble peers on (default: its entry in --peers)")
	fs.StringVar(&cfg.TLSCertFile, "tls-cert-file", cfg.TLSCertFile, "the node's TLS certificate (PEM)")
	fs.StringVar(&cfg.TLSKeyFile, "tls-key-file", cfg.TLSKeyFile, "the node's TLS private key (PEM)")
	fs.StringVar(&cfg.TLSCACertFile, "tls-ca-cert-file", cfg.TLSCACertFile, "the CA that signs acceptable client certificates (PEM)")
	fs.StringVar(&cfg.TLSAuthClients, "tls-auth-clients", cfg.TLSAuthClients, "client certificates on the Redis and ZooKeeper TLS ports: yes (required), optional or no")
	fs.StringVar(&cfg.RedisTLSAddr, "redis-tls-addr", cfg.RedisTLSAddr, "Redis TLS port address, as redis-server's tls-port (off when empty)")
	fs.StringVar(&cfg.ZKSecureAddr, "zk-secure-addr", cfg.ZKSecureAddr, "ZooKeeper secureClientPort address (off when empty)")
	fs.BoolVar(&cfg.PGSSLRequired, "pg-ssl-required", cfg.PGSSLRequired, "refuse Postgres clients that do not use SSL")
	fs.StringVar(&cfg.HTTPAddr, "http-addr", cfg.HTTPAddr, "serve /metrics, /healthz and /readyz over HTTP on this address (off when empty); HTTPS when the node has TLS files")
	fs.StringVar(&cfg.HTTPTLSAuthClients, "http-tls-auth-clients", cfg.HTTPTLSAuthClients, "client certificates on the HTTPS listener: yes (required), optional, no (empty: no)")
	fs.StringVar(&cfg.DebugAddr, "debug-addr", def.DebugAddr, "serve Go pprof profiles on this address (off when empty)")
	fs.Int64Var(&cfg.StoreCacheBytes, "store-cache-bytes", def.StoreCacheBytes, "block cache of the local state store, in bytes")
	fs.DurationVar(&cfg.ReadLease, "read-lease", def.ReadLease, "term of the node's read lease, under which it answers reads without checking the log's tail (0: 1s; negative: no leases)")
	fs.Uint64Var(&cfg.LogRetain, "log-retain", def.LogRetain, "applied log entries kept before trimming")
	fs.DurationVar(&cfg.TrimRetention, "trim-retention", def.TrimRetention, "how long, in log time, the log is kept for a member that stopped reporting its position; past it the member catches up by a peer's checkpoint")
	fs.StringVar(&cfg.BackupDir, "backup-dir", def.BackupDir, "copy every committed log entry into this backup directory; the log is not trimmed below what it holds (off when empty)")
	fs.StringVar(&cfg.Log, "log", def.Log, "loglet kind of a new log: native, or zookeeper (in --zk-log-servers)")
	zkLogServers := fs.String("zk-log-servers", strings.Join(def.ZKLogServers, ","), "Apache ZooKeeper ensemble for zookeeper loglets: host:port,...")
	fs.Int64Var(&cfg.ProtoMaxBulkLen, "proto-max-bulk-len", def.ProtoMaxBulkLen, "largest Redis bulk argument in bytes (0: 512 MiB)")
	fs.Int64Var(&cfg.ClientQueryBufferLimit, "client-query-buffer-limit", def.ClientQueryBufferLimit, "largest Redis request in bytes (0: 1 GiB)")
	fs.IntVar(&cfg.MaxMultibulkLen, "max-multibulk-len", def.MaxMultibulkLen, "most arguments in one Redis request (0: 1048576)")
	fs.IntVar(&cfg.MaxClients, "maxclients", def.MaxClients, "most concurrent Redis clients (0: 10000)")
	fs.StringVar(&cfg.RequirePass, "requirepass", def.RequirePass, "Redis password: clients must AUTH first (none when empty)")
	fs.StringVar(&cfg.NotifyKeyspaceEvents, "notify-keyspace-events", def.NotifyKeyspaceEvents, "Redis keyspace notifications this node delivers, in Redis's letters, e.g. KEA (none when empty)")
	fs.DurationVar(&cfg.ZKTickTime, "zk-tick-time", def.ZKTickTime, "ZooKeeper tick: session timeouts are negotiated between 2 and 20 ticks (0: 2s)")
	fs.IntVar(&cfg.ZKMaxBuffer, "zk-max-buffer", def.ZKMaxBuffer, "ZooKeeper jute.maxbuffer: largest request in bytes (0: 1048575)")
	fs.StringVar(&cfg.ZKSuperDigest, "zk-super-digest", def.ZKSuperDigest, "ZooKeeper super user, as super:<base64 sha1 of super:password> (none when empty)")
	fs.DurationVar(&cfg.ZKMinSessionTimeout, "zk-min-session-timeout", def.ZKMinSessionTimeout, "ZooKeeper minSessionTimeout (0: 2 ticks)")
	fs.DurationVar(&cfg.ZKMaxSessionTimeout, "zk-max-session-timeout", def.ZKMaxSessionTimeout, "ZooKeeper maxSessionTimeout (0: 20 ticks)")
	fs.IntVar(&cfg.ZKMaxClients, "zk-max-clients", def.ZKMaxClients, "most concurrent ZooKeeper connections (0: 10000)")
	fs.StringVar(&cfg.ZK4LWWhitelist, "zk-4lw-whitelist", def.ZK4LWWhitelist, "ZooKeeper 4lw.commands.whitelist: four-letter words answered, comma separated (empty or *: all)")
	fs.StringVar(&cfg.ZKAdminAddr, "zk-admin-addr", def.ZKAdminAddr, "serve ZooKeeper's AdminServer over HTTP on this address (off when empty)")
	fs.StringVar(&cfg.ZKAdminCommandURL, "zk-admin-command-url", def.ZKAdminCommandURL, "ZooKeeper admin.commandURL: the AdminServer's path (empty: /commands)")
	fs.StringVar(&cfg.ZKJAASFile, "zk-jaas", def.ZKJAASFile, "JAAS file whose Server section lists the ZooKeeper SASL DIGEST-MD5 users (user_<name>=\"<password>\")")
	fs.Func("zk-sasl-user", "a ZooKeeper SASL DIGEST-MD5 user, name=password (repeatable)", func(v string) error {
		cfg.ZKSASLUsers = append(cfg.ZKSASLUsers, v)
		return nil
	})
	fs.StringVar(&cfg.ZKSASLSuperUser, "zk-sasl-super-user", def.ZKSASLSuperUser, "ZooKeeper super user among the SASL users, as zookeeper.superUser (none when empty)")
	fs.StringVar(&cfg.ZKX509SuperUser, "zk-x509-super-user", def.ZKX509SuperUser, "ZooKeeper super user on the secure port: a client certificate subject as the x509 identity reads it, e.g. CN=admin,O=Hourglass (none when empty)")
	zkEnforce := fs.String("zk-enforce-auth-schemes", strings.Join(def.ZKEnforceAuthSchemes, ","), "ZooKeeper enforce.auth.schemes: a session must authenticate with one of these (ip, digest, sasl, x509) before its first request (none when empty)")
	fs.DurationVar(&cfg.ZKContainerCheckInterval, "zk-container-check-interval", def.ZKContainerCheckInterval, "how often empty containers and expired TTL znodes are reaped (0: 60s)")
	if err := fs.Parse(args); err != nil {
		return cfg, nil, err
	}
	if fs.NArg() > 0 {
		return cfg, nil, fmt.Errorf("serve: unexpected arguments %q", fs.Args())
	}
	cfg.ZKLogServers = splitList(*zkLogServers)
	cfg.ZKEnforceAuthSchemes = splitList(*zkEnforce)
	// A flag on the command line overrides the redis.conf directive of
	// the same name (requirepass, maxclients and the limits).
	fs.Visit(func(f *flag.Flag) {
		cfg.RedisDirectives = slices.DeleteFunc(cfg.RedisDirectives, func(d node.RedisDirective) bool { return d.Name == f.Name })
	})
	if *peers != "" {
		nodes, err := node.ParsePeers(*peers)
		if err != nil {
			return cfg, nil, err
		}
		cfg.Nodes = nodes
	}
	logger, err := newLogger(os.Stderr, *logFormat, *logLevel)
	if err != nil {
		return cfg, nil, err
	}
	cfg.Logger = logger
	if cfg.FS = faultfs.FromEnv(); cfg.FS != nil {
		logger.Warn("test-only disk-full hook is on", "while-exists", os.Getenv(faultfs.EnvDiskFull))
	}
	return cfg, logger, nil
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log-level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log-format %q: want text or json", format)
}

func serve(args []string) error {
	cfg, logger, err := serveFlags(args)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// SIGHUP reloads the TLS files of the node running (Run restarts a
	// node in place after its disk failed and works again).
	var current atomic.Pointer[node.Node]
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			n := current.Load()
			if n == nil {
				continue
			}
			if err := n.ReloadTLS(); err != nil {
				logger.Error("reloading TLS files failed; the old ones stay", "err", err)
			} else {
				logger.Info("TLS files reloaded")
			}
		}
	}()
	err = node.Run(ctx, cfg, func(n *node.Node) {
		current.Store(n)
		logger.Info("node ready", "node", cfg.NodeID, "data_dir", cfg.DataDir, "listeners", strings.Join(n.Listeners(), " "))
	})
	if err != nil && ctx.Err() == nil {
		// The node cannot go on (its state fell behind a trimmed log,
		// say): exit so that a supervisor restarts it, which recovers.
		logger.Error("node failed; exiting", "err", err)
	}
	return err
}

func logserver(args []string) error {
	fs := flag.NewFlagSet("logserver", flag.ContinueOnError)
	dataDir := fs.String("data-dir", "logserver-data", "directory for the LogServer's data")
	peerAddr := fs.String("peer-addr", "127.0.0.1:7201", "address to serve the LogServer on (port 0 picks a free port)")
	fs.String("zoo-cfg", "", "an Apache ZooKeeper zoo.cfg: clientPort, dataDir, tickTime, server.N lines with dataDir/myid, ... apply (flags override it)")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	files := tlsFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger, err := newLogger(os.Stderr, *logFormat, *logLevel)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	cfg := node.LogServerConfig{DataDir: *dataDir, PeerAddr: *peerAddr, Logger: logger, TLS: *files}
	if cfg.FS = faultfs.FromEnv(); cfg.FS != nil {
		logger.Warn("test-only disk-full hook is on", "while-exists", os.Getenv(faultfs.EnvDiskFull))
	}
	return node.RunLogServer(ctx, cfg, func(p *node.LogServerProcess) {
		logger.Info("logserver ready", "data_dir", *dataDir, "addr", p.Addr())
	})
}

// adminClient dials the admin endpoint named by the common admin flags.
func adminClient(fs *flag.FlagSet, args []string) (adminpb.AdminClient, func(), error) {
	addr := fs.String("admin-addr", node.DefaultAdminAddr, "the node's admin endpoint")
	files := tlsFlags(fs)
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	creds := insecure.NewCredentials()
	if files.Set() {
		m, err := tlsconf.Load(*files)
		if err != nil {
			return nil, nil, err
		}
		creds = credentials.NewTLS(m.Client())
	}
	conn, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return nil, nil, err
	}
	return adminpb.NewAdminClient(conn), func() { conn.Close() }, nil
}

// tlsFlags are the flags naming a client's or LogServer's TLS files.
func tlsFlags(fs *flag.FlagSet) *tlsconf.Files {
	var f tlsconf.Files
	fs.StringVar(&f.Cert, "tls-cert-file", "", "TLS certificate (PEM) presented to the node (mutual TLS)")
	fs.StringVar(&f.Key, "tls-key-file", "", "TLS private key (PEM)")
	fs.StringVar(&f.CA, "tls-ca-cert-file", "", "the ensemble's CA (PEM)")
	return &f
}

// parseMembers parses "id=host:port,..." into chain members.
func parseMembers(s string) ([]*vlogpb.Member, error) {
	peers, err := node.ParsePeers(s)
	if err != nil {
		return nil, err
	}
	var out []*vlogpb.Member
	for _, p := range peers {
		out = append(out, &vlogpb.Member{Id: p.ID, PeerAddr: p.PeerAddr})
	}
	return out, nil
}

func reconfigure(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("reconfigure", flag.ContinueOnError)
	kind := fs.String("kind", "", "loglet kind of the new segment (default: the active segment's)")
	logServers := fs.String("logservers", "", "move the log onto these LogServer-only processes: id=host:port,...")
	converged := fs.Bool("converged", false, "move the log back onto the members' own LogServers")
	stripes := fs.Uint("stripes", 0, "number of stripes of new striped loglets (default: the chain's, else 2)")
	zkLogServers := fs.String("zk-log-servers", "", "Apache ZooKeeper ensemble new zookeeper loglets go on: host:port,... (default: the chain's)")
	client, done, err := adminClient(fs, args)
	if err != nil {
		return err
	}
	defer done()
	if *stripes > 64 {
		return fmt.Errorf("reconfigure: %d stripes; at most 64", *stripes)
	}
	req := &adminpb.ReconfigureRequest{LogletKind: *kind, Converged: *converged, Stripes: uint32(*stripes), ZkLogServers: splitList(*zkLogServers)}
	if *logServers != "" {
		if req.LogServers, err = parseMembers(*logServers); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := client.Reconfigure(ctx, req)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "reconfigured in %dus: new segment starts at %d\n", resp.Micros, resp.Start)
	printChain(out, resp.Chain)
	return nil
}

func members(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("members: want add, remove or replace")
	}
	op := args[0]
	fs := flag.NewFlagSet("members "+op, flag.ContinueOnError)
	id := fs.String("id", "", "the member removed (remove, replace)")
	newID := fs.String("new-id", "", "the id of the member added (add, replace)")
	peerAddr := fs.String("peer-addr", "", "the added member's peer address (add, replace)")
	redisAddr := fs.String("redis-addr", "", "the added member's Redis address, for status (optional)")
	client, done, err := adminClient(fs, args[1:])
	if err != nil {
		return err
	}
	defer done()
	req := &adminpb.MembersRequest{Op: op, Id: *id}
	if *newID != "" {
		req.Member = &vlogpb.Member{Id: *newID, PeerAddr: *peerAddr, RedisAddr: *redisAddr}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := client.Members(ctx, req)
	if err != nil {
		return err
	}
	printMembers(out, resp.Chain)
	printAcceptors(out, resp.Acceptors, 0)
	printChain(out, resp.Chain)
	return nil
}

func statusCmd(args []string, out io.Writer) error {
	return adminQuery("status", args, out, func(ctx context.Context, c adminpb.AdminClient) (*adminpb.StatusResponse, error) {
		return c.Status(ctx, &adminpb.StatusRequest{})
	}, printStatus)
}

// adminQuery runs a read-only admin command: it parses the admin flags
// and --json, asks the node with call, and prints the answer as JSON or
// with print.
func adminQuery[T proto.Message](name string, args []string, out io.Writer, call func(context.Context, adminpb.AdminClient) (T, error), print func(io.Writer, T)) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the status as JSON")
	client, done, err := adminClient(fs, args)
	if err != nil {
		return err
	}
	defer done()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := call(ctx, client)
	if err != nil {
		return err
	}
	if *asJSON {
		b, err := protojson.Marshal(st)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, string(b))
		return nil
	}
	print(out, st)
	return nil
}

// printStatus prints a node's status for people.
func printStatus(out io.Writer, st *adminpb.StatusResponse) {
	fmt.Fprintf(out, "node %s: tail %d, applied %d (lag %d)\n", st.NodeId, st.Tail, st.Applied, st.Tail-min(st.Tail, st.Applied))
	fmt.Fprintf(out, "listeners: %s\n", strings.Join(st.Listeners, " "))
	if len(st.Nodes) > 0 {
		fmt.Fprintf(out, "nodes (%d):\n", len(st.Nodes))
		for _, n := range st.Nodes {
			if !n.Reachable {
				fmt.Fprintf(out, "  %s at %s: unreachable (%s)\n", n.Id, n.PeerAddr, n.Error)
				continue
			}
			lease := "no read lease"
			if n.Leased {
				lease = "read lease"
			}
			fmt.Fprintf(out, "  %s at %s: applied %d (lag %d), %s\n", n.Id, n.PeerAddr, n.Applied, st.Tail-min(st.Tail, n.Applied), lease)
		}
	}
	if ls := st.Chain.GetLogServers(); len(ls) > 0 {
		fmt.Fprintf(out, "log servers (disaggregated):")
		for _, m := range ls {
			fmt.Fprintf(out, " %s=%s", m.Id, m.PeerAddr)
		}
		fmt.Fprintln(out)
	}
	printAcceptors(out, st.Acceptors, st.MetastoreVersion)
	printTrim(out, st.Trim)
	printChain(out, st.Chain)
}

// printAcceptors prints the MetaStore's acceptor set, known at version
// (0: not given); nothing for a single node.
func printAcceptors(out io.Writer, acceptors []*vlogpb.Member, version uint64) {
	if len(acceptors) == 0 {
		return
	}
	fmt.Fprintf(out, "metastore acceptors (%d)", len(acceptors))
	if version > 0 {
		fmt.Fprintf(out, ", deciding version %d", version+1)
	}
	fmt.Fprint(out, ":")
	for _, m := range acceptors {
		fmt.Fprintf(out, " %s=%s", m.Id, m.PeerAddr)
	}
	fmt.Fprintln(out)
}

func printMembers(out io.Writer, chain *vlogpb.Chain) {
	fmt.Fprintf(out, "members (%d):\n", len(chain.GetMembers()))
	for _, m := range chain.GetMembers() {
		fmt.Fprintf(out, "  %s at %s\n", m.Id, m.PeerAddr)
	}
}

func printChain(out io.Writer, chain *vlogpb.Chain) {
	fmt.Fprintf(out, "chain (%d segments):\n", len(chain.GetSegments()))
	for i, seg := range chain.GetSegments() {
		state := "sealed"
		if i == len(chain.Segments)-1 {
			state = "active"
		}
		end := "..."
		if i+1 < len(chain.Segments) {
			end = fmt.Sprint(chain.Segments[i+1].Start)
		}
		seq := ""
		if seg.Loglet.Sequencer != "" {
			seq = ", sequencer " + seg.Loglet.Sequencer
		}
		where := "on " + strings.Join(seg.Loglet.Servers, ",")
		if len(seg.Loglet.Servers) == 0 {
			where = "in the backup directory"
		}
		fmt.Fprintf(out, "  [%d, %s) %s loglet %d %s%s, %s\n", seg.Start, end, seg.Loglet.Kind, seg.Loglet.Id, where, seq, state)
		if seg.Loglet.Path != "" {
			fmt.Fprintf(out, "    at %s\n", seg.Loglet.Path)
		}
		for k, s := range seg.Loglet.Stripes {
			fmt.Fprintf(out, "    stripe %d: %s loglet %d on %s\n", k, s.Kind, s.Id, strings.Join(s.Servers, ","))
		}
	}
}

// certs makes a dev or test ensemble's TLS material: "certs init --dir D"
// a CA, "certs issue --dir D --name N --hosts h1,h2" a certificate for a
// node or client signed by it.
func certs(args []string, out io.Writer) error {
	if len(args) == 0 || (args[0] != "init" && args[0] != "issue") {
		return errors.New("usage: gateway certs init --dir DIR | gateway certs issue --dir DIR --name NAME [--hosts 127.0.0.1,localhost]")
	}
	fs := flag.NewFlagSet("certs "+args[0], flag.ContinueOnError)
	dir := fs.String("dir", "certs", "directory of the CA and the certificates")
	name := fs.String("name", "", "the certificate's name (files NAME.crt and NAME.key)")
	hosts := fs.String("hosts", "127.0.0.1,localhost", "IP addresses and DNS names the certificate is valid for, comma separated")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if args[0] == "init" {
		if err := tlsconf.InitCA(*dir); err != nil {
			return err
		}
		fmt.Fprintf(out, "CA written to %s/ca.crt and %s/ca.key\n", *dir, *dir)
		return nil
	}
	if err := tlsconf.Issue(*dir, *name, strings.Split(*hosts, ",")); err != nil {
		return err
	}
	fmt.Fprintf(out, "certificate written to %s/%s.crt and %s/%s.key\n", *dir, *name, *dir, *name)
	return nil
}
