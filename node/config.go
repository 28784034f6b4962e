package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"hourglass/engines/viewtracking"
	"hourglass/internal/tlsconf"
	"hourglass/personalities/kv/keyspace"
	"hourglass/personalities/zk"
)

// Config is everything a node needs. The gateway's flags and its config
// file both map onto it; field names in the file are the flag names.
type Config struct {
	// NodeID names the node in its ensemble. A single node defaults to
	// "n1".
	NodeID string `json:"node-id"`
	// DataDir holds the node's databases: log/ (the LogServer), meta/
	// (the MetaStore) and store/ (the LocalStore).
	DataDir string `json:"data-dir"`
	// RedisAddr is where the Redis API listens; port 0 picks a free port.
	RedisAddr string `json:"redis-addr"`
	// ZKAddr is where the ZooKeeper API listens.
	ZKAddr string `json:"zk-addr"`
	// PGAddr is where the Postgres API listens.
	PGAddr string `json:"pg-addr"`
	// AdminAddr is the local admin endpoint (gRPC) used by the gateway's
	// admin sub-commands.
	AdminAddr string `json:"admin-addr"`
	// TLS material (PEM files) for the TLS listeners: the node's
	// certificate and key, and the CA whose signature a client
	// certificate must carry. TLSAuthClients is redis-server's
	// tls-auth-clients: yes (default), optional or no.
	TLSCertFile    string `json:"tls-cert-file"`
	TLSKeyFile     string `json:"tls-key-file"`
	TLSCACertFile  string `json:"tls-ca-cert-file"`
	TLSAuthClients string `json:"tls-auth-clients"`
	// RedisTLSAddr, if set, is a Redis port that speaks TLS (redis-server's
	// tls-port); ZKSecureAddr is ZooKeeper's secureClientPort. With TLS
	// material, the Postgres API answers SSLRequest and PGSSLRequired
	// refuses connections without it.
	RedisTLSAddr  string `json:"redis-tls-addr"`
	ZKSecureAddr  string `json:"zk-secure-addr"`
	PGSSLRequired bool   `json:"pg-ssl-required"`
	// RedisDirectives are a redis.conf file's directives for the Redis
	// API (see LoadRedisConf).
	RedisDirectives []RedisDirective `json:"-"`
	// HTTPAddr, if set, serves /metrics (Prometheus), /healthz and
	// /readyz over HTTP.
	HTTPAddr string `json:"http-addr"`
	// HTTPTLSAuthClients is what the HTTP listener asks of clients'
	// certificates when the node has TLS (it then serves HTTPS): "yes"
	// (mutual TLS, as the admin endpoint), "optional" or "no" (default).
	HTTPTLSAuthClients string `json:"http-tls-auth-clients"`
	// DebugAddr, if set, serves Go's pprof profiles over HTTP.
	DebugAddr string `json:"debug-addr"`
	// PeerAddr is where the node serves the other nodes of its ensemble
	// (LogServer, sequencer, MetaStore acceptor, status, checkpoints). It
	// may differ from the address the others reach it by (its entry in
	// Nodes), a proxy in between, say. Defaults to this node's entry.
	PeerAddr string `json:"peer-addr"`
	// Nodes lists the ensemble's founding nodes, whose MetaStore acceptors
	// decide the log's first chain (later chains name their own
	// acceptors, the members then): how this node reaches each one. Every
	// node of an ensemble must list the same founders. Empty means a
	// single node. A node added later (gateway members add) lists the
	// founders and is not among them. One file can serve every node of an
	// ensemble: each picks its own entry by NodeID, and takes its
	// addresses from it unless set explicitly.
	Nodes []Peer `json:"nodes"`

	// StoreCacheBytes is the LocalStore's block cache size.
	StoreCacheBytes int64 `json:"store-cache-bytes"`

	// ReadLease is the term of the node's read lease (see
	// engines/lease): 0 means lease.DefaultTerm, negative turns leases
	// off (every read then checks the log's tail).
	ReadLease time.Duration `json:"read-lease"`

	// LogRetain is how many applied entries the node keeps in the log
	// before trimming below them.
	LogRetain uint64 `json:"log-retain"`
	// TrimRetention is how long, in log time, the ensemble keeps the log
	// for a member that stopped reporting its position (see
	// engines/viewtracking); past it the member catches up by a peer's
	// checkpoint.
	TrimRetention time.Duration `json:"trim-retention"`

	// BackupDir, if set, is a directory (local or mounted) the node
	// copies every committed log entry into, fsynced, in order; the log
	// is not trimmed below what it has copied. `gateway backup create`
	// writes checkpoints into the same directory, and restore replays
	// the copied entries on top of them.
	BackupDir string `json:"backup-dir"`
	// replayEnd, set only by Restore, makes the node apply the log up to
	// this position and no further, and append nothing.
	replayEnd uint64

	// Log is the loglet kind of a new log's first segment: "native" (the
	// default) or "zookeeper", which needs ZKLogServers.
	Log string `json:"log"`
	// ZKLogServers is the Apache ZooKeeper ensemble (host:port each) that
	// zookeeper loglets are stored in.
	ZKLogServers []string `json:"zk-log-servers"`

	// Redis connection limits, as Redis names them.
	ProtoMaxBulkLen        int64 `json:"proto-max-bulk-len"`
	ClientQueryBufferLimit int64 `json:"client-query-buffer-limit"`
	MaxMultibulkLen        int   `json:"max-multibulk-len"`
	MaxClients             int   `json:"maxclients"`
	// RequirePass is the Redis default user's password (AUTH).
	RequirePass string `json:"requirepass"`
	// NotifyKeyspaceEvents is Redis's notify-keyspace-events: the
	// keyspace notifications the node delivers, in Redis's letters
	// ("KEA", "Ex", ...); empty: none.
	NotifyKeyspaceEvents string `json:"notify-keyspace-events"`
	// PGPassword, if set, is the password Postgres clients must give
	// (SCRAM-SHA-256); without it loopback clients are trusted.
	PGPassword string `json:"pg-password"`
	// PGMaxMessage bounds a Postgres client message's length in bytes
	// (0: the personality's default, 64 MiB).
	PGMaxMessage int `json:"pg-max-message"`
	// PGStageBytes is how much a Postgres transaction buffers before it
	// spills its writes through the log to its staging area (0: 8 MiB);
	// it bounds the memory of a large COPY on every node.
	PGStageBytes int `json:"pg-stage-bytes"`

	// ZooKeeper settings, as ZooKeeper names them: the tick (session
	// timeouts are negotiated between 2 and 20 ticks), jute.maxbuffer,
	// the super user's digest ("super:<base64 sha1>"), and how often
	// empty containers and expired TTL znodes are reaped.
	ZKTickTime               time.Duration `json:"zk-tick-time"`
	ZKMaxBuffer              int           `json:"zk-max-buffer"`
	ZKSuperDigest            string        `json:"zk-super-digest"`
	ZKContainerCheckInterval time.Duration `json:"zk-container-check-interval"`
	// ZKMinSessionTimeout and ZKMaxSessionTimeout bound the session
	// timeouts clients negotiate (0: 2 and 20 ticks); ZKMaxClients bounds
	// the ZooKeeper API's connections (0: 10000).
	ZKMinSessionTimeout time.Duration `json:"zk-min-session-timeout"`
	ZKMaxSessionTimeout time.Duration `json:"zk-max-session-timeout"`
	ZKMaxClients        int           `json:"zk-max-clients"`
	// ZK4LWWhitelist is ZooKeeper's 4lw.commands.whitelist: the
	// four-letter words answered, comma separated; "*" or empty: all.
	ZK4LWWhitelist string `json:"zk-4lw-whitelist"`
	// ZKAdminAddr, if set, serves ZooKeeper's AdminServer over HTTP
	// (admin.serverAddress and admin.serverPort) under ZKAdminCommandURL
	// (admin.commandURL, default /commands). The HTTP listener
	// (HTTPAddr) serves it too.
	ZKAdminAddr       string `json:"zk-admin-addr"`
	ZKAdminCommandURL string `json:"zk-admin-command-url"`
	// ZKJAASFile is a JAAS login configuration whose Server section
	// lists the users that may authenticate with SASL DIGEST-MD5
	// (DigestLoginModule's user_<name>="<password>"); ZKSASLUsers adds
	// name=password pairs. Neither: SASL is not configured.
	ZKJAASFile  string   `json:"zk-jaas"`
	ZKSASLUsers []string `json:"zk-sasl-user"`
	// ZKSASLSuperUser is the SASL user who is the super user
	// (ZooKeeper's zookeeper.superUser).
	ZKSASLSuperUser string `json:"zk-sasl-super-user"`
	// ZKEnforceAuthSchemes are ZooKeeper's enforce.auth.schemes (with
	// enforce.auth.enabled): a session must authenticate with one of
	// them before its first request. Empty: not enforced.
	ZKEnforceAuthSchemes []string `json:"zk-enforce-auth-schemes"`
	// ZKX509SuperUser is the client certificate subject (RFC 2253, as
	// the x509 identity reads, e.g. "CN=admin,O=Hourglass") that is the
	// super user on the secure port.
	ZKX509SuperUser string `json:"zk-x509-super-user"`
	// ZooCfgNotes are the zoo.cfg keys that change nothing here (see
	// LoadZooCfg), logged when the node starts.
	ZooCfgNotes []ZooCfgNote `json:"-"`
	// ZooCfgText is the zoo.cfg file read (LoadZooCfg), which the
	// ZooKeeper AdminServer reports as the initial configuration.
	ZooCfgText string `json:"-"`

	// Logger receives the node's logs; nil means slog.Default().
	Logger *slog.Logger `json:"-"`
	// FS is the filesystem the node's databases live on; nil means the
	// real one. It must name the same directories as the operating
	// system does (vfs.Default, perhaps wrapped), since checkpoints are
	// moved into place with os calls. Tests inject disk faults through
	// it (internal/faultfs).
	FS vfs.FS `json:"-"`
}

// Peer is one node of an ensemble as the config lists it.
type Peer struct {
	ID        string `json:"id"`
	PeerAddr  string `json:"peer-addr"`
	RedisAddr string `json:"redis-addr,omitempty"`
	ZKAddr    string `json:"zk-addr,omitempty"`
	PGAddr    string `json:"pg-addr,omitempty"`
	AdminAddr string `json:"admin-addr,omitempty"`
	HTTPAddr  string `json:"http-addr,omitempty"`
	// DataDir lets one shared file give each node its own directory.
	DataDir string `json:"data-dir,omitempty"`
}

// Defaults, filled in by EnsureDefaults.
const (
	DefaultNodeID    = "n1"
	DefaultDataDir   = "data"
	DefaultRedisAddr = "127.0.0.1:6379"
	DefaultZKAddr    = "127.0.0.1:2181"
	DefaultPGAddr    = "127.0.0.1:5432"
	DefaultAdminAddr = "127.0.0.1:7070"
	DefaultLogRetain = 100_000
	// DefaultStoreCacheBytes is the LocalStore's default block cache.
	DefaultStoreCacheBytes = 128 << 20
)

// Default returns a Config with every default filled in.
func Default() Config {
	var c Config
	c.EnsureDefaults()
	return c
}

// Ensemble reports whether the config describes a node of an ensemble
// rather than a single node.
func (c *Config) Ensemble() bool { return len(c.Nodes) > 0 }

// self returns this node's entry in Nodes.
func (c *Config) self() (Peer, bool) {
	for _, p := range c.Nodes {
		if p.ID == c.NodeID {
			return p, true
		}
	}
	return Peer{}, false
}

// EnsureDefaults fills every unset field with its default: first from this
// node's entry in Nodes, then from the single-node defaults. Limits left
// at zero take the Redis personality's defaults.
func (c *Config) EnsureDefaults() {
	if c.NodeID == "" {
		c.NodeID = DefaultNodeID
	}
	if me, ok := c.self(); ok {
		if c.PeerAddr == "" {
			c.PeerAddr = me.PeerAddr
		}
		if c.RedisAddr == "" {
			c.RedisAddr = me.RedisAddr
		}
		if c.ZKAddr == "" {
			c.ZKAddr = me.ZKAddr
		}
		if c.PGAddr == "" {
			c.PGAddr = me.PGAddr
		}
		if c.AdminAddr == "" {
			c.AdminAddr = me.AdminAddr
		}
		if c.HTTPAddr == "" {
			c.HTTPAddr = me.HTTPAddr
		}
		if c.DataDir == "" {
			c.DataDir = me.DataDir
		}
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.RedisAddr == "" {
		c.RedisAddr = DefaultRedisAddr
	}
	if c.ZKAddr == "" {
		c.ZKAddr = DefaultZKAddr
	}
	if c.PGAddr == "" {
		c.PGAddr = DefaultPGAddr
	}
	if c.AdminAddr == "" {
		c.AdminAddr = DefaultAdminAddr
	}
	if c.StoreCacheBytes == 0 {
		c.StoreCacheBytes = DefaultStoreCacheBytes
	}
	if c.LogRetain == 0 {
		c.LogRetain = DefaultLogRetain
	}
	if c.TrimRetention == 0 {
		c.TrimRetention = viewtracking.DefaultRetention
	}
	if c.Log == "" {
		c.Log = "native"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports every problem with c at once.
func (c *Config) Validate() error {
	var errs []error
	addrs := []struct{ name, addr string }{
		{"redis-addr", c.RedisAddr}, {"zk-addr", c.ZKAddr}, {"pg-addr", c.PGAddr}, {"admin-addr", c.AdminAddr},
	}
	if c.HTTPAddr != "" {
		addrs = append(addrs, struct{ name, addr string }{"http-addr", c.HTTPAddr})
	}
	if c.RedisTLSAddr != "" {
		addrs = append(addrs, struct{ name, addr string }{"redis-tls-addr", c.RedisTLSAddr})
	}
	if c.ZKSecureAddr != "" {
		addrs = append(addrs, struct{ name, addr string }{"zk-secure-addr", c.ZKSecureAddr})
	}
	if c.ZKAdminAddr != "" {
		addrs = append(addrs, struct{ name, addr string }{"zk-admin-addr", c.ZKAdminAddr})
	}
	if u := c.ZKAdminCommandURL; u != "" && (!strings.HasPrefix(u, "/") || strings.ContainsAny(u, "{}?# ")) {
		errs = append(errs, fmt.Errorf("zk-admin-command-url %q: want a path such as /commands", u))
	}
	if c.tlsFiles().Set() || c.RedisTLSAddr != "" || c.ZKSecureAddr != "" || c.PGSSLRequired {
		f := c.tlsFiles()
		if f.Cert == "" || f.Key == "" || f.CA == "" {
			errs = append(errs, errors.New("TLS needs tls-cert-file, tls-key-file and tls-ca-cert-file"))
		}
	}
	if _, err := tlsconf.ParseClientAuth(c.TLSAuthClients); err != nil {
		errs = append(errs, err)
	}
	if a := c.HTTPTLSAuthClients; a != "" {
		if _, err := tlsconf.ParseClientAuth(a); err != nil {
			errs = append(errs, fmt.Errorf("http-tls-auth-clients: %w", err))
		}
	}
	if c.DebugAddr != "" {
		addrs = append(addrs, struct{ name, addr string }{"debug-addr", c.DebugAddr})
	}
	if c.Ensemble() {
		addrs = append(addrs, struct{ name, addr string }{"peer-addr", c.PeerAddr})
	}
	for _, a := range addrs {
		if _, _, err := net.SplitHostPort(a.addr); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %v", a.name, a.addr, err))
		}
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data-dir is empty"))
	}
	if c.NodeID == "" || strings.ContainsAny(c.NodeID, "=, ") {
		errs = append(errs, fmt.Errorf("node-id %q: must be non-empty, without '=', ',' or spaces", c.NodeID))
	}
	if c.Ensemble() {
		seen := map[string]bool{}
		for _, p := range c.Nodes {
			if p.ID == "" || seen[p.ID] {
				errs = append(errs, fmt.Errorf("nodes: missing or duplicate id %q", p.ID))
			}
			seen[p.ID] = true
			if _, _, err := net.SplitHostPort(p.PeerAddr); err != nil {
				errs = append(errs, fmt.Errorf("nodes: %s's peer-addr %q: %v", p.ID, p.PeerAddr, err))
			}
		}
		// A node that joined later (gateway members add) is not among the
		// founding nodes, whose acceptors founded the MetaStore; it must say
		// where it serves its peers.
		if !seen[c.NodeID] && c.PeerAddr == "" {
			errs = append(errs, fmt.Errorf("node-id %q is not among the nodes and has no peer-addr", c.NodeID))
		}
	}
	switch c.Log {
	case "native":
	case "zookeeper":
		if len(c.ZKLogServers) == 0 {
			errs = append(errs, errors.New("log zookeeper needs zk-log-servers"))
		}
	default:
		errs = append(errs, fmt.Errorf("log %q: want native or zookeeper", c.Log))
	}
	for _, s := range c.ZKLogServers {
		if _, _, err := net.SplitHostPort(s); err != nil {
			errs = append(errs, fmt.Errorf("zk-log-servers %q: %v", s, err))
		}
	}
	for _, f := range []struct {
		name string
		bad  bool
	}{
		{"proto-max-bulk-len < 0", c.ProtoMaxBulkLen < 0},
		{"client-query-buffer-limit < 0", c.ClientQueryBufferLimit < 0},
		{"max-multibulk-len < 0", c.MaxMultibulkLen < 0},
		{"store-cache-bytes < 0", c.StoreCacheBytes < 0},
		{"trim-retention < 0", c.TrimRetention < 0},
		{"maxclients < 0", c.MaxClients < 0},
		{"zk-max-clients < 0", c.ZKMaxClients < 0},
		{"zk-min-session-timeout < 0", c.ZKMinSessionTimeout < 0},
		{"zk-max-session-timeout < zk-min-session-timeout", c.ZKMaxSessionTimeout > 0 && c.ZKMaxSessionTimeout < c.ZKMinSessionTimeout},
		{"notify-keyspace-events: invalid event class character (use 'Ag$lshzxeKEtmdn')", !validEventClasses(c.NotifyKeyspaceEvents)},
	} {
		if f.bad {
			errs = append(errs, errors.New(f.name))
		}
	}
	errs = append(errs, c.validateZKAuth()...)
	if err := zk.CheckWhitelist(c.ZK4LWWhitelist); err != nil {
		errs = append(errs, fmt.Errorf("zk-4lw-whitelist: %w", err))
	}
	return errors.Join(errs...)
}

// ParsePeers parses "id=host:port,id=host:port,..." into Nodes entries.
func ParsePeers(s string) ([]Peer, error) {
	var out []Peer
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		id, addr, ok := strings.Cut(item, "=")
		if !ok || id == "" || addr == "" {
			return nil, fmt.Errorf("peer %q: want id=host:port", item)
		}
		out = append(out, Peer{ID: id, PeerAddr: addr})
	}
	return out, nil
}

// LoadFile reads a JSON config file into c; fields the file does not
// mention keep their values. Unknown fields are an error.
func (c *Config) LoadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	return nil
}

// trimEvery is how often the node moves its trim point forward.
const trimEvery = time.Second

// tlsFiles are the node's TLS material files.
func (c *Config) tlsFiles() tlsconf.Files {
	return tlsconf.Files{Cert: c.TLSCertFile, Key: c.TLSKeyFile, CA: c.TLSCACertFile}
}

// validEventClasses reports whether s is a notify-keyspace-events value.
func validEventClasses(s string) bool {
	_, ok := keyspace.ParseEventClasses(s)
	return ok
}

// eventClasses returns the classes of a valid notify-keyspace-events
// value.
func eventClasses(s string) keyspace.EventClass {
	c, _ := keyspace.ParseEventClasses(s)
	return c
}
