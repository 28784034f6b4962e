package conformance

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"hourglass/internal/zkserver"
)

// writeZooCfg writes a zoo.cfg into dir and returns its path.
func writeZooCfg(t *testing.T, dir, text string) string {
	t.Helper()
	path := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// zooCfgEnsemble writes the zoo.cfg files of an n-node ensemble on
// loopback, as go-zookeeper's test cluster writes ZooKeeper's: each in
// its own directory, with server.1..n lines, its own dataDir holding its
// myid, a free clientPort, and the extra lines. It returns the
// directories and the client addresses.
func zooCfgEnsemble(t *testing.T, n int, extra string) (confDirs, addrs []string) {
	t.Helper()
	var servers strings.Builder
	clientPorts := make([]string, n)
	for i := range n {
		clientPorts[i] = freePort(t)
		fmt.Fprintf(&servers, "server.%d=127.0.0.1:%s:%s\n", i+1, freePort(t), freePort(t))
	}
	for i := range n {
		dataDir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dataDir, "myid"), fmt.Appendf(nil, "%d\n", i+1), 0o644); err != nil {
			t.Fatal(err)
		}
		confDirs = append(confDirs, t.TempDir())
		writeZooCfg(t, confDirs[i], fmt.Sprintf(
			"tickTime=500\ninitLimit=10\nsyncLimit=5\ndataDir=%s\nclientPort=%s\nclientPortAddress=127.0.0.1\n"+
				"4lw.commands.whitelist=*\nadmin.enableServer=false\n%s%s",
			dataDir, clientPorts[i], extra, servers.String()))
		addrs = append(addrs, "127.0.0.1:"+clientPorts[i])
	}
	return confDirs, addrs
}

// startZooCfgGateway starts `gateway serve --zoo-cfg path`.
func startZooCfgGateway(t *testing.T, path string) *gateway {
	g := &gateway{t: t, zooCfg: path}
	g.start()
	t.Cleanup(g.kill)
	return g
}

// TestZooCfgSingleNode: a gateway started from a zoo.cfg serves
// zkCli.sh and go-zookeeper on its clientPort, keeps its data under
// dataDir, and answers the four-letter words as Apache ZooKeeper 3.8 does
// with the same whitelist.
func TestZooCfgSingleNode(t *testing.T) {
	const whitelist = "4lw.commands.whitelist=ruok, srvr"
	real, err := zkserver.StartWith(t.TempDir(), 60*time.Second, whitelist)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(real.Stop)

	dataDir, port := t.TempDir(), freePort(t)
	path := writeZooCfg(t, t.TempDir(), fmt.Sprintf(
		"# a zkServer.sh config\ntickTime=500\ninitLimit=10\nsyncLimit=5\ndataDir=%s\nclientPort=%s\nclientPortAddress=127.0.0.1\n"+
			"maxClientCnxns=100\nminSessionTimeout=1000\nmaxSessionTimeout=8000\nautopurge.purgeInterval=1\nadmin.enableServer=false\n%s\n",
		dataDir, port, whitelist))
	startZooCfgGateway(t, path)
	addr := "127.0.0.1:" + port

	for _, word := range []string{"ruok", "stat", "mntr", "cons"} {
		got, err := zkserver.FourLetter(addr, word)
		if err != nil {
			t.Fatalf("%s: %v", word, err)
		}
		want, err := zkserver.FourLetter(real.Addr, word)
		if err != nil {
			t.Fatalf("%s on ZooKeeper: %v", word, err)
		}
		if string(got) != string(want) {
			t.Fatalf("%s: gateway %q, ZooKeeper %q", word, got, want)
		}
	}
	if got, _ := zkserver.FourLetter(addr, "ruok"); string(got) != "imok" {
		t.Fatalf("ruok: %q", got)
	}
	if got, _ := zkserver.FourLetter(addr, "srvr"); !strings.Contains(string(got), "Mode: standalone") {
		t.Fatalf("srvr: %q", got)
	}

	c, _ := zkConnect(t, []string{addr}, 4*time.Second)
	mustZK[string](t, "create")(c.Create("/cfg", []byte("from go-zookeeper"), 0, openACL))
	out := zkCli(t, addr, "create /cli hello\nget /cli\nget /cfg")
	if out != "Created /cli\nhello\nfrom go-zookeeper" {
		t.Fatalf("zkCli.sh printed %q", out)
	}
	for _, sub := range []string{"log", "meta", "store"} {
		if _, err := os.Stat(filepath.Join(dataDir, sub)); err != nil {
			t.Fatalf("the node's data is not under dataDir: %v", err)
		}
	}
}

// TestZooCfgEnsemble starts three gateways as go-zookeeper's test cluster
// starts ZooKeeper: one zoo.cfg each with server.1..3 lines and a myid in
// each dataDir. A client given every address writes; the node it is on is
// killed; it fails over to another and reads its data, as does kazoo
// given every address.
func TestZooCfgEnsemble(t *testing.T) {
	const n = 3
	confDirs, addrs := zooCfgEnsemble(t, n, "standaloneEnabled=false\nreconfigEnabled=true\n")
	nodes := make([]*gateway, n)
	for i := range n {
		nodes[i] = &gateway{t: t, zooCfg: filepath.Join(confDirs[i], "zoo.cfg")}
		t.Cleanup(nodes[i].kill)
	}
	startAll(nodes)
	for i, a := range addrs {
		if got, _ := zkserver.FourLetter(a, "srvr"); !strings.Contains(string(got), "Mode: follower") {
			t.Fatalf("node %d srvr: %q", i+1, got)
		}
	}

	c, _ := zkConnect(t, addrs, 4*time.Second)
	mustZK[string](t, "create")(c.Create("/failover", []byte("kept"), 0, openACL))
	on := c.Server()
	killed := -1
	for i, a := range addrs {
		if a == on {
			killed = i
			nodes[i].kill()
		}
	}
	if killed < 0 {
		t.Fatalf("the client is on %q, none of %v", on, addrs)
	}
	var data []byte
	waitFor(t, "a read after failing over", 20*time.Second, func() bool {
		d, _, err := c.Get("/failover")
		data = d
		return err == nil
	})
	if string(data) != "kept" {
		t.Fatalf("read %q after failing over", data)
	}
	if c.Server() == on {
		t.Fatalf("the client is still on the killed node %s", on)
	}

	// kazoo, given every address (one of them dead), reads it too.
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import kazoo").Run(); err != nil {
		t.Skip("python3-kazoo is not installed")
	}
	script := `import sys
from kazoo.client import KazooClient
zk = KazooClient(hosts=sys.argv[1], timeout=5)
zk.start(timeout=15)
print(zk.get("/failover")[0].decode())
zk.stop()`
	// Its stderr tells of the dead node's refused connection.
	cmd := exec.Command(python, "-c", script, strings.Join(addrs, ","))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || strings.TrimSpace(string(out)) != "kept" {
		t.Fatalf("kazoo: %v: %q\n%s", err, out, stderr.String())
	}
}

// TestZooCfgSecurePort: secureClientPort with a PEM key store (key and
// certificate in one file) and a PEM trust store serves go-zookeeper over
// TLS, and ssl.clientAuth=need refuses a client without a certificate.
func TestZooCfgSecurePort(t *testing.T) {
	certs := certDir(t, "node", "client")
	var store []byte
	for _, f := range []string{"node.key", "node.crt"} {
		b, err := os.ReadFile(filepath.Join(certs, f))
		if err != nil {
			t.Fatal(err)
		}
		store = append(store, b...)
	}
	keyStore := filepath.Join(certs, "node.pem")
	if err := os.WriteFile(keyStore, store, 0o600); err != nil {
		t.Fatal(err)
	}
	port, securePort := freePort(t), freePort(t)
	path := writeZooCfg(t, t.TempDir(), fmt.Sprintf(
		"dataDir=%s\nclientPort=%s\nclientPortAddress=127.0.0.1\nsecureClientPort=%s\nsecureClientPortAddress=127.0.0.1\n"+
			"serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory\n"+
			"ssl.keyStore.location=%s\nssl.keyStore.type=PEM\nssl.trustStore.location=%s\nssl.trustStore.type=PEM\nssl.clientAuth=need\n"+
			"admin.enableServer=false\n",
		t.TempDir(), port, securePort, keyStore, filepath.Join(certs, "ca.crt")))
	startZooCfgGateway(t, path)
	secure := "127.0.0.1:" + securePort

	c, ok := zkTLSSession(t, secure, clientTLS(t, certs, certs, "client"))
	if !ok {
		t.Fatal("no session over TLS with a client certificate")
	}
	mustZK[string](t, "create over TLS")(c.Create("/tls", []byte("x"), 0, openACL))
	if _, ok := zkTLSSession(t, secure, clientTLS(t, certs, "", "")); ok {
		t.Fatal("a client without a certificate got a session (ssl.clientAuth=need)")
	}
	plain, _ := zkConnect(t, []string{"127.0.0.1:" + port}, 4*time.Second)
	if d, _, err := plain.Get("/tls"); err != nil || string(d) != "x" {
		t.Fatalf("plain port read %q, %v", d, err)
	}
}

// TestZkServerScript starts a 3-node ensemble as zkServer.sh users do,
// through scripts/zkServer.sh: one zoo.cfg per node with server.1..3
// lines and a myid in each dataDir, named by ZOOCFGDIR, by --config and
// by a path argument (go-zookeeper's test cluster's way); status reports
// each node's mode. A go-zookeeper client given every address keeps its
// session, ephemeral and data when the node it is on is stopped, and the
// stopped node, started again, rejoins and serves the writes it missed.
func TestZkServerScript(t *testing.T) {
	script, err := filepath.Abs("../scripts/zkServer.sh")
	if err != nil {
		t.Fatal(err)
	}
	const n = 3
	confDirs, addrs := zooCfgEnsemble(t, n, "")
	// zkServer runs `zkServer.sh cmd` for node i, its config named in
	// one of the three ways; it returns stdout.
	zkServer := func(i int, cmd string) (string, error) {
		var c *exec.Cmd
		env := append(os.Environ(), "GATEWAY="+gatewayBin,
			"GATEWAY_OPTS=--redis-addr 127.0.0.1:0 --pg-addr 127.0.0.1:0 --admin-addr 127.0.0.1:0")
		switch i {
		case 0:
			c = exec.Command(script, cmd)
			env = append(env, "ZOOCFGDIR="+confDirs[i])
		case 1:
			c = exec.Command(script, "--config", confDirs[i], cmd)
		default:
			c = exec.Command(script, cmd, filepath.Join(confDirs[i], "zoo.cfg"))
		}
		c.Env = env
		var stderr strings.Builder
		c.Stderr = &stderr
		out, err := c.Output()
		if err != nil {
			return string(out), fmt.Errorf("zkServer.sh %s (node %d): %v\n%s%s", cmd, i+1, err, out, stderr.String())
		}
		return string(out), nil
	}
	// On failure, show each node's log (zkServer.sh writes it to a
	// .out file in the node's dataDir).
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, dir := range confDirs {
			cfg, _ := os.ReadFile(filepath.Join(dir, "zoo.cfg"))
			for _, line := range strings.Split(string(cfg), "\n") {
				if data, ok := strings.CutPrefix(line, "dataDir="); ok {
					outs, _ := filepath.Glob(filepath.Join(data, "*.out"))
					for _, f := range outs {
						b, _ := os.ReadFile(f)
						t.Logf("%s:\n%s", f, b)
					}
				}
			}
		}
	})
	for i := range n {
		t.Cleanup(func() { zkServer(i, "stop") })
		if out, err := zkServer(i, "start"); err != nil || out != "Starting zookeeper ... STARTED\n" {
			t.Fatalf("start: %q %v", out, err)
		}
	}
	follower := func(i int) {
		waitFor(t, fmt.Sprintf("node %d's status", i+1), 60*time.Second, func() bool {
			out, err := zkServer(i, "status")
			return err == nil && strings.HasSuffix(out, "\nMode: follower\n")
		})
	}
	for i := range n {
		follower(i)
	}

	c, _ := zkConnect(t, addrs, 4*time.Second)
	session := c.SessionID()
	mustZK[string](t, "create")(c.Create("/script", []byte("kept"), 0, openACL))
	mustZK[string](t, "create ephemeral")(c.Create("/script/eph", nil, zk.FlagEphemeral, openACL))
	on := slices.Index(addrs, c.Server())
	if on < 0 {
		t.Fatalf("the client is on %q, none of %v", c.Server(), addrs)
	}
	if out, err := zkServer(on, "stop"); err != nil || out != "Stopping zookeeper ... STOPPED\n" {
		t.Fatalf("stop: %q %v", out, err)
	}
	if out, err := zkServer(on, "status"); err == nil || !strings.Contains(out, "It is probably not running") {
		t.Errorf("status of the stopped node: %q %v", out, err)
	}
	// Under a loaded machine the failover and the client's reconnects
	// (go-zookeeper backs off between servers) take a while. The state
	// is polled: go-zookeeper drops events once its small channel is
	// full, which the reconnects of a failover can fill before this
	// test reads them.
	waitFor(t, "a session on another node", 60*time.Second, func() bool {
		return c.State() == zk.StateHasSession && c.Server() != addrs[on]
	})
	if c.SessionID() != session || c.Server() == addrs[on] {
		t.Fatalf("session %#x on %s after failing over, was %#x on %s", c.SessionID(), c.Server(), session, addrs[on])
	}
	if d, _, err := c.Get("/script"); err != nil || string(d) != "kept" {
		t.Fatalf("read after failing over: %q %v", d, err)
	}
	if ok, st, err := c.Exists("/script/eph"); err != nil || !ok || st.EphemeralOwner != session {
		t.Fatalf("the session's ephemeral after failing over: %v %+v %v", ok, st, err)
	}
	mustZK[string](t, "create after failing over")(c.Create("/script/after", []byte("missed"), 0, openACL))

	if out, err := zkServer(on, "start"); err != nil || out != "Starting zookeeper ... STARTED\n" {
		t.Fatalf("start again: %q %v", out, err)
	}
	follower(on)
	back, _ := zkConnect(t, []string{addrs[on]}, 4*time.Second)
	if _, err := back.Sync("/script"); err != nil {
		t.Fatal(err)
	}
	if d, _, err := back.Get("/script/after"); err != nil || string(d) != "missed" {
		t.Fatalf("the restarted node reads %q %v", d, err)
	}
}
