package node

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"hourglass/internal/tlsconf"
)

// loadZooCfg writes text as a zoo.cfg (with $DIR replaced by dir) and
// loads it into a fresh Config.
func loadZooCfg(t *testing.T, dir, text string) (Config, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "zoo.cfg")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(text, "$DIR", dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	var c Config
	err := c.LoadZooCfg(path)
	return c, err
}

func TestZooCfgEnsembleEntry(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "myid"), []byte("2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := loadZooCfg(t, dir, `# zkServer.sh style
tickTime=500
dataDir=$DIR
clientPort=2182
minSessionTimeout = 1000
maxSessionTimeout: 9000
maxClientCnxns=30
initLimit=5
server.1=10.0.0.1:2888:3888
server.2=10.0.0.2:2888:3888:participant
server.3=10.0.0.3:2888:3888;10.0.0.3:2181
no.such.key=1
`)
	if err != nil {
		t.Fatal(err)
	}
	want := []Peer{
		{ID: "n1", PeerAddr: "10.0.0.1:2888"},
		{ID: "n2", PeerAddr: "10.0.0.2:2888", ZKAddr: ":2182", DataDir: dir},
		{ID: "n3", PeerAddr: "10.0.0.3:2888", ZKAddr: "10.0.0.3:2181"},
	}
	if !reflect.DeepEqual(c.Nodes, want) {
		t.Fatalf("nodes %+v, want %+v", c.Nodes, want)
	}
	if c.NodeID != "n2" || c.ZKAddr != ":2182" || c.DataDir != dir || c.ZKTickTime != 500*time.Millisecond ||
		c.ZKMinSessionTimeout != time.Second || c.ZKMaxSessionTimeout != 9*time.Second || c.ZKMaxClients != 30 {
		t.Fatalf("config %+v", c)
	}
	if c.ZK4LWWhitelist != "srvr" {
		t.Fatalf("whitelist %q: ZooKeeper's default is srvr", c.ZK4LWWhitelist)
	}
	var keys []string
	for _, n := range c.ZooCfgNotes {
		keys = append(keys, n.Key+": "+n.Why)
	}
	if len(keys) != 2 || !strings.HasPrefix(keys[0], "initLimit: ") || keys[1] != "no.such.key: unknown key" {
		t.Fatalf("notes %q", keys)
	}
	c.EnsureDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.PeerAddr != "10.0.0.2:2888" {
		t.Fatalf("peer-addr %q", c.PeerAddr)
	}
}

// A PEM key store holding both the key and the certificate serves as
// both TLS files.
func TestZooCfgSecurePort(t *testing.T) {
	dir := t.TempDir()
	if err := tlsconf.InitCA(dir); err != nil {
		t.Fatal(err)
	}
	if err := tlsconf.Issue(dir, "node", []string{"127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	var store []byte
	for _, f := range []string{"node.key", "node.crt"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		store = append(store, b...)
	}
	if err := os.WriteFile(filepath.Join(dir, "store.pem"), store, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := loadZooCfg(t, dir, `dataDir=$DIR
clientPort=2181
secureClientPort=2281
secureClientPortAddress=127.0.0.1
ssl.keyStore.location=$DIR/store.pem
ssl.keyStore.type=PEM
ssl.trustStore.location=$DIR/ca.crt
ssl.trustStore.type=PEM
ssl.clientAuth=want
4lw.commands.whitelist=*
`)
	if err != nil {
		t.Fatal(err)
	}
	if c.ZKSecureAddr != "127.0.0.1:2281" || c.ZKAddr != ":2181" || c.TLSAuthClients != "optional" || c.ZK4LWWhitelist != "*" {
		t.Fatalf("config %+v", c)
	}
	if _, err := tlsconf.Load(c.tlsFiles()); err != nil {
		t.Fatalf("loading the PEM key store: %v", err)
	}
}

func TestZooCfgRefuses(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "myid"), []byte("7"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ text, want string }{
		{"clientPort=0", "want 1-65535"},
		{"clientPort=abc", "want 1-65535"},
		{"tickTime=-1", "want an integer"},
		{"maxClientCnxns=99999999999", "want an integer"},
		{"ssl.keyStore.type=JKS", "only PEM"},
		{"ssl.keyStore.password=secret", "encrypted PEM"},
		{"ssl.clientAuth=maybe", "want need, want or none"},
		{"requireClientAuthScheme=kerberos", "want \"sasl\""},
		{"enforce.auth.enabled=true", "needs enforce.auth.schemes"},
		{"dynamicConfigFile=/x/zoo.cfg.dynamic", "dynamic config"},
		{"dataDir=$DIR\nserver.1=h:1:2:observer", "observers"},
		{"dataDir=$DIR\nserver.1=h:1", "want host:quorumPort"},
		{"dataDir=$DIR\nserver.x=h:1:2", "server id"},
		{"dataDir=$DIR\nserver.1=h:1:2\nserver.1=h:3:4", "listed twice"},
		{"dataDir=$DIR\nserver.1=h:1:2", `myid "7"`},
		{"dataDir=$DIR/none\nserver.1=h:1:2", "this node's id"},
		{"server.1=h:1:2", "need a dataDir"},
		{"clientPort=1\\\n2", "line continuations"},
		{"justakey", "want key=value"},
	} {
		_, err := loadZooCfg(t, dir, tc.text)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.text, err, tc.want)
		}
	}
	c := Default()
	c.ZK4LWWhitelist = "ruok,toolong"
	c.ZKMinSessionTimeout, c.ZKMaxSessionTimeout = 5*time.Second, time.Second
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "toolong") || !strings.Contains(err.Error(), "zk-max-session-timeout") {
		t.Fatalf("validate: %v", err)
	}
}

// TestZooCfgAdminServer: the AdminServer is on by default at ZooKeeper's
// 0.0.0.0:8080; admin.* place it or turn it off.
func TestZooCfgAdminServer(t *testing.T) {
	for _, c := range []struct{ text, addr, url string }{
		{"clientPort=2181\n", "0.0.0.0:8080", ""},
		{"admin.serverAddress=127.0.0.1\nadmin.serverPort=9090\nadmin.commandURL=/zk\n", "127.0.0.1:9090", "/zk"},
		{"admin.enableServer=false\nadmin.serverPort=9090\n", "", ""},
		{"admin.enableServer=TRUE\n", "0.0.0.0:8080", ""},
	} {
		cfg, err := loadZooCfg(t, t.TempDir(), c.text)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.ZKAdminAddr != c.addr || cfg.ZKAdminCommandURL != c.url {
			t.Errorf("%q: admin %q %q, want %q %q", c.text, cfg.ZKAdminAddr, cfg.ZKAdminCommandURL, c.addr, c.url)
		}
	}
	if _, err := loadZooCfg(t, t.TempDir(), "admin.serverPort=0\n"); err == nil {
		t.Error("admin.serverPort=0 accepted")
	}
}

func TestZooCfgEnforceAuth(t *testing.T) {
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"sessionRequireClientSASLAuth=true", []string{"sasl"}},
		{"requireClientAuthScheme=sasl", []string{"sasl"}},
		{"enforce.auth.enabled=true\nenforce.auth.schemes=sasl, digest", []string{"sasl", "digest"}},
		{"enforce.auth.enabled=false\nenforce.auth.schemes=sasl\nsuperUser=admin", nil},
	} {
		c, err := loadZooCfg(t, t.TempDir(), tc.text)
		if strings.Contains(tc.text, "superUser") && c.ZKSASLSuperUser != "admin" {
			t.Errorf("superUser: %q", c.ZKSASLSuperUser)
		}
		if err != nil || !reflect.DeepEqual(c.ZKEnforceAuthSchemes, tc.want) {
			t.Errorf("%q: %v, %v; want %v", tc.text, c.ZKEnforceAuthSchemes, err, tc.want)
		}
	}
}

func TestZKSASLUsers(t *testing.T) {
	jaas := filepath.Join(t.TempDir(), "jaas.conf")
	os.WriteFile(jaas, []byte(`Server { org.apache.zookeeper.server.auth.DigestLoginModule required user_bob="secret" user_al="x"; };`), 0o644)
	c := Config{ZKJAASFile: jaas, ZKSASLUsers: []string{"al=y", "cy=z=w"}}
	u, err := c.zkSASLUsers()
	if err != nil || !reflect.DeepEqual(u, map[string]string{"bob": "secret", "al": "y", "cy": "z=w"}) {
		t.Fatalf("%v, %v", u, err)
	}
	c = Default()
	c.ZKSASLUsers, c.ZKEnforceAuthSchemes = []string{"nopass"}, []string{"kerberos"}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "nopass") || !strings.Contains(err.Error(), "kerberos") {
		t.Fatalf("validate: %v", err)
	}
}
