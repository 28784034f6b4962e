package node

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ZooCfgNote is a zoo.cfg key that was accepted but changes nothing
// here, kept for the node to log at start-up (never silently dropped).
type ZooCfgNote struct {
	Key, Value string
	// Where is file:line.
	Where string
	// Why says why the key has no effect.
	Why string
}

// zooCfgUnknown is the note on a key the gateway does not know.
const zooCfgUnknown = "unknown key"

// Bounds on a zoo.cfg file: its size and its server.N lines.
const (
	maxZooCfgBytes   = 1 << 20
	maxZooCfgServers = 255
)

// zooCfgNoEffect are the ZooKeeper keys the gateway accepts and ignores,
// with the reason logged.
var zooCfgNoEffect = map[string]string{
	"initLimit":                      "no leader election: followers never sync from a leader",
	"syncLimit":                      "no leader election: followers never sync from a leader",
	"autopurge.snapRetainCount":      "the log is trimmed by --log-retain",
	"autopurge.purgeInterval":        "the log is trimmed by --log-retain",
	"standaloneEnabled":              "a single node runs standalone whatever this says",
	"reconfigEnabled":                "membership changes go through `gateway members`",
	"dataLogDir":                     "the log lives under dataDir",
	"electionAlg":                    "no leader election",
	"electionPortBindRetry":          "no leader election",
	"quorumListenOnAllIPs":           "the peer endpoint listens on the server line's host",
	"preAllocSize":                   "no transaction log files",
	"snapCount":                      "no snapshot files",
	"snapSizeLimitInKb":              "no snapshot files",
	"globalOutstandingLimit":         "requests are bounded per connection",
	"leaderServes":                   "every node serves clients",
	"cnxTimeout":                     "no leader election",
	"syncEnabled":                    "no observers",
	"serverCnxnFactory":              "the gateway has its own connection handling",
	"clientCnxnSocket":               "a client setting",
	"localSessionsEnabled":           "every session is global",
	"localSessionsUpgradingEnabled":  "every session is global",
	"maxResponseCacheSize":           "no response cache",
	"ssl.protocol":                   "Go's TLS picks the protocol (TLS 1.2 and 1.3)",
	"ssl.enabledProtocols":           "Go's TLS picks the protocol (TLS 1.2 and 1.3)",
	"ssl.ciphersuites":               "Go's TLS picks the cipher suites",
	"ssl.hostnameVerification":       "client host names are not verified",
	"ssl.quorum.keyStore.location":   "peers use the same TLS files as clients",
	"ssl.quorum.trustStore.location": "peers use the same TLS files as clients",
	"sslQuorum":                      "peers use TLS when the node has TLS files",
	"portUnification":                "the plain and secure ports are separate",
	"authProvider.1":                 "digest, ip, sasl and x509 authentication are built in",
	"metricsProvider.className":      "metrics are served on --http-addr",
	"enforceQuota":                   "hard quotas are always enforced",
}

// zooCfgNoEffectPrefixes are key families accepted and ignored.
var zooCfgNoEffectPrefixes = map[string]string{
	"admin.":           "the AdminServer serves plain HTTP on admin.serverAddress:admin.serverPort",
	"metricsProvider.": "metrics are served on --http-addr",
	"authProvider.":    "digest, ip, sasl and x509 authentication are built in",
	"group.":           "no hierarchical quorums: a majority of all nodes",
	"weight.":          "no hierarchical quorums: a majority of all nodes",
	"zookeeper.":       "a system property with no counterpart here",
}

// LoadZooCfg reads an Apache ZooKeeper zoo.cfg (as `gateway serve
// --zoo-cfg`). clientPort/clientPortAddress set ZKAddr (every interface
// without an address, as ZooKeeper), secureClientPort the secure port with
// PEM key and trust stores, dataDir the data directory, tickTime, the
// session timeout bounds, maxClientCnxns and 4lw.commands.whitelist the ZK
// API's settings. server.N=host:quorumPort:electionPort[:role][;[addr:]port]
// lines make an ensemble of nodes "n<N>" whose peer endpoints listen on
// host:quorumPort; dataDir/myid names this node, as in ZooKeeper. Keys
// with no effect here are kept in c.ZooCfgNotes for the node to log.
// Settings that cannot be honoured (observers, encrypted or JKS key
// stores, dynamic config files) fail the load. sessionRequireClientSASLAuth
// (or requireClientAuthScheme=sasl) and enforce.auth.enabled with
// enforce.auth.schemes set the schemes a session must authenticate with;
// the SASL users come from --zk-jaas (the JVM's JAAS flags are not read).
func (c *Config) LoadZooCfg(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxZooCfgBytes+1))
	if err != nil {
		return err
	}
	if len(data) > maxZooCfgBytes {
		return fmt.Errorf("%s: larger than %d bytes", path, maxZooCfgBytes)
	}
	c.ZooCfgText = string(data)
	z := zooCfg{c: c, path: path, whitelist: "srvr"}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 4096), maxZooCfgBytes)
	for line := 1; sc.Scan(); line++ {
		if err := z.line(line, sc.Text()); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return z.finish()
}

// zooCfg is one zoo.cfg file being read.
type zooCfg struct {
	c    *Config
	path string
	// host and port of clientPortAddress and clientPort, and of the
	// secure ones.
	host, port             string
	secureHost, securePort string
	keyStore, trustStore   string
	whitelist              string
	// adminOff is admin.enableServer=false; adminHost and adminPort
	// place the AdminServer (ZooKeeper's defaults: 0.0.0.0:8080).
	adminOff             bool
	adminHost, adminPort string
	servers              []Peer
	clientAddrs          map[string]string
	// requireSASL (sessionRequireClientSASLAuth) enforces sasl; else
	// enforce (enforce.auth.enabled) enforces enforceSchemes.
	requireSASL, enforce bool
	enforceSchemes       string
}

func (z *zooCfg) line(n int, text string) error {
	text = strings.TrimSpace(text)
	if text == "" || text[0] == '#' || text[0] == '!' {
		return nil
	}
	where := fmt.Sprintf("%s:%d", z.path, n)
	if strings.HasSuffix(text, `\`) {
		return fmt.Errorf("%s: line continuations are not supported", where)
	}
	i := strings.IndexAny(text, "=: \t")
	if i < 0 {
		return fmt.Errorf("%s: %q: want key=value", where, text)
	}
	key := text[:i]
	val := strings.TrimLeft(strings.TrimSpace(text[i:]), "=:")
	val = strings.TrimSpace(val)
	if err := z.set(key, val, where); err != nil {
		return fmt.Errorf("%s: %s=%s: %w", where, key, val, err)
	}
	return nil
}

// set applies one key.
func (z *zooCfg) set(key, val, where string) error {
	c := z.c
	var err error
	switch key {
	case "clientPort":
		z.port, err = zooPort(val)
	case "clientPortAddress":
		z.host = val
	case "secureClientPort":
		z.securePort, err = zooPort(val)
	case "secureClientPortAddress":
		z.secureHost = val
	case "dataDir":
		c.DataDir = val
	case "tickTime":
		c.ZKTickTime, err = zooMillis(val)
	case "minSessionTimeout":
		c.ZKMinSessionTimeout, err = zooMillis(val)
	case "maxSessionTimeout":
		c.ZKMaxSessionTimeout, err = zooMillis(val)
	case "maxClientCnxns":
		c.ZKMaxClients, err = zooInt(val, 1<<20)
	case "jute.maxbuffer":
		c.ZKMaxBuffer, err = zooInt(val, 1<<30)
	case "4lw.commands.whitelist":
		z.whitelist = val
	case "admin.enableServer":
		// As Java's Boolean.parseBoolean: anything but "true" is false.
		z.adminOff = !strings.EqualFold(val, "true")
	case "admin.serverAddress":
		z.adminHost = val
	case "admin.serverPort":
		z.adminPort, err = zooPort(val)
	case "admin.commandURL":
		c.ZKAdminCommandURL = val
	case "ssl.keyStore.location":
		z.keyStore = val
	case "ssl.trustStore.location":
		z.trustStore = val
	case "ssl.keyStore.type", "ssl.trustStore.type":
		if !strings.EqualFold(val, "PEM") {
			err = errors.New("only PEM key and trust stores are supported (convert the JKS or PKCS12 store to PEM)")
		}
	case "ssl.keyStore.password", "ssl.trustStore.password":
		if val != "" {
			err = errors.New("encrypted PEM stores are not supported: give the key unencrypted")
		}
	case "ssl.clientAuth":
		c.TLSAuthClients, err = zooClientAuth(val)
	case "requireClientAuthScheme":
		if val != "sasl" {
			err = errors.New(`want "sasl"`)
		}
		z.requireSASL = true
	case "sessionRequireClientSASLAuth":
		z.requireSASL = strings.EqualFold(val, "true") // Java's Boolean.parseBoolean
	case "enforce.auth.enabled":
		z.enforce = strings.EqualFold(val, "true")
	case "enforce.auth.schemes":
		z.enforceSchemes = val
	case "superUser":
		c.ZKSASLSuperUser = val
	case "dynamicConfigFile":
		err = errors.New("dynamic config files are not supported: list the server.N lines in zoo.cfg")
	default:
		if id, ok := strings.CutPrefix(key, "server."); ok {
			return z.server(id, val)
		}
		z.note(key, val, where)
	}
	return err
}

// note records a key that changes nothing.
func (z *zooCfg) note(key, val, where string) {
	why, ok := zooCfgNoEffect[key]
	for p, w := range zooCfgNoEffectPrefixes {
		if !ok && strings.HasPrefix(key, p) {
			why, ok = w, true
		}
	}
	if !ok {
		why = zooCfgUnknown
	}
	z.c.ZooCfgNotes = append(z.c.ZooCfgNotes, ZooCfgNote{Key: key, Value: val, Where: where, Why: why})
}

// server parses server.N=host:quorumPort:electionPort[:role][;[addr:]port].
func (z *zooCfg) server(id, val string) error {
	if _, err := strconv.ParseUint(id, 10, 8); err != nil {
		return fmt.Errorf("server id %q: want 0-255", id)
	}
	if len(z.servers) >= maxZooCfgServers {
		return fmt.Errorf("more than %d servers", maxZooCfgServers)
	}
	quorum, client, _ := strings.Cut(val, ";")
	parts := strings.Split(quorum, ":")
	if len(parts) < 3 || len(parts) > 4 || parts[0] == "" {
		return errors.New("want host:quorumPort:electionPort[:role][;[clientAddress:]clientPort]")
	}
	if len(parts) == 4 && parts[3] != "participant" {
		return fmt.Errorf("role %q: only participants are supported (no observers)", parts[3])
	}
	for _, p := range parts[1:3] {
		if _, err := zooPort(p); err != nil {
			return err
		}
	}
	p := Peer{ID: "n" + id, PeerAddr: net.JoinHostPort(parts[0], parts[1])}
	if client != "" {
		host, port := "", client
		if i := strings.LastIndexByte(client, ':'); i >= 0 {
			host, port = client[:i], client[i+1:]
		}
		if _, err := zooPort(port); err != nil {
			return err
		}
		p.ZKAddr = net.JoinHostPort(host, port)
	}
	for _, q := range z.servers {
		if q.ID == p.ID {
			return fmt.Errorf("server.%s listed twice", id)
		}
	}
	z.servers = append(z.servers, p)
	return nil
}

// finish applies what needs the whole file: addresses, TLS files, the
// whitelist and this node's entry among the servers.
func (z *zooCfg) finish() error {
	c := z.c
	if z.port != "" {
		c.ZKAddr = net.JoinHostPort(z.host, z.port)
	}
	if z.securePort != "" {
		c.ZKSecureAddr = net.JoinHostPort(z.secureHost, z.securePort)
	}
	if z.keyStore != "" {
		// A PEM key store holds the key and the certificate chain; TLS
		// reads each from the same file.
		c.TLSCertFile, c.TLSKeyFile = z.keyStore, z.keyStore
	}
	if z.trustStore != "" {
		c.TLSCACertFile = z.trustStore
	}
	c.ZK4LWWhitelist = z.whitelist
	if !z.adminOff {
		c.ZKAdminAddr = net.JoinHostPort(cmp.Or(z.adminHost, "0.0.0.0"), cmp.Or(z.adminPort, "8080"))
	}
	switch {
	case z.requireSASL:
		c.ZKEnforceAuthSchemes = []string{"sasl"}
	case z.enforce:
		c.ZKEnforceAuthSchemes = nil
		for s := range strings.SplitSeq(z.enforceSchemes, ",") {
			if s = strings.TrimSpace(s); s != "" {
				c.ZKEnforceAuthSchemes = append(c.ZKEnforceAuthSchemes, s)
			}
		}
		if len(c.ZKEnforceAuthSchemes) == 0 {
			return fmt.Errorf("%s: enforce.auth.enabled needs enforce.auth.schemes", z.path)
		}
	}
	if len(z.servers) == 0 {
		return nil
	}
	if c.DataDir == "" {
		return fmt.Errorf("%s: server.N lines need a dataDir holding myid", z.path)
	}
	myid, err := readMyID(filepath.Join(c.DataDir, "myid"))
	if err != nil {
		return fmt.Errorf("%s: this node's id: %w", z.path, err)
	}
	c.NodeID = "n" + myid
	found := false
	for i := range z.servers {
		p := &z.servers[i]
		if p.ID == c.NodeID {
			found = true
			p.DataDir = c.DataDir
			if z.port != "" || p.ZKAddr == "" {
				p.ZKAddr = c.ZKAddr
			}
			c.ZKAddr = p.ZKAddr
		}
	}
	if !found {
		return fmt.Errorf("%s: myid %q (in %s) has no server.%s line", z.path, myid, c.DataDir, myid)
	}
	c.Nodes = z.servers
	return nil
}

// readMyID reads ZooKeeper's myid file: the server id, 0-255.
func readMyID(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 64))
	if err != nil {
		return "", err
	}
	id := strings.TrimSpace(string(b))
	if _, err := strconv.ParseUint(id, 10, 8); err != nil {
		return "", fmt.Errorf("%s: %q is not a server id (0-255)", path, id)
	}
	return id, nil
}

func zooPort(v string) (string, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("port %q: want 1-65535", v)
	}
	return v, nil
}

func zooInt(v string, limit int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > limit {
		return 0, fmt.Errorf("%q: want an integer from 0 to %d", v, limit)
	}
	return n, nil
}

// zooMillis reads a ZooKeeper duration in milliseconds (bounded to a day).
func zooMillis(v string) (time.Duration, error) {
	n, err := zooInt(v, 24*3600*1000)
	return time.Duration(n) * time.Millisecond, err
}

// zooClientAuth maps ssl.clientAuth onto tls-auth-clients.
func zooClientAuth(v string) (string, error) {
	switch strings.ToLower(v) {
	case "need":
		return "yes", nil
	case "want":
		return "optional", nil
	case "none":
		return "no", nil
	}
	return "", fmt.Errorf("%q: want need, want or none", v)
}

// logZooCfgNotes logs every zoo.cfg key that changes nothing here.
func (n *Node) logZooCfgNotes() {
	for _, z := range n.cfg.ZooCfgNotes {
		lvl := slog.LevelInfo
		if z.Why == zooCfgUnknown {
			lvl = slog.LevelWarn
		}
		n.log.Log(context.Background(), lvl, "zoo.cfg key has no effect", "at", z.Where, "key", z.Key, "value", z.Value, "why", z.Why)
	}
}
