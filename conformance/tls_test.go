package conformance

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"hourglass/loglet/native/nativepb"
	"hourglass/node/adminpb"
)

// certDir makes a CA and the named certificates (for 127.0.0.1 and
// localhost) in a fresh directory with gateway certs.
func certDir(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	run := func(args ...string) {
		if out, err := exec.Command(gatewayBin, append([]string{"certs"}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("gateway certs %v: %v\n%s", args, err, out)
		}
	}
	run("init", "--dir", dir)
	for _, n := range names {
		run("issue", "--dir", dir, "--name", n)
	}
	return dir
}

// clientTLS trusts the CA in caDir and, if name is set, presents that
// certificate of certDir.
func clientTLS(t *testing.T, caDir, certDir, name string) *tls.Config {
	t.Helper()
	pem, err := os.ReadFile(filepath.Join(caDir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	if name != "" {
		cert, err := tls.LoadX509KeyPair(filepath.Join(certDir, name+".crt"), filepath.Join(certDir, name+".key"))
		if err != nil {
			t.Fatal(err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c
}

// reloadTLS copies node n1's certificate, key and CA from src over
// those in dst, which g was started with, and sends g SIGHUP.
func reloadTLS(t *testing.T, g *gateway, src, dst string) {
	t.Helper()
	for _, f := range []string{"n1.crt", "n1.key", "ca.crt"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
}

// zkTLSSession reports whether go-zookeeper gets a session over TLS with
// cfg within a few seconds, and the client if it does.
func zkTLSSession(t *testing.T, addr string, cfg *tls.Config) (*zk.Conn, bool) {
	dialer := zk.WithDialer(func(network, address string, timeout time.Duration) (net.Conn, error) {
		return tls.DialWithDialer(&net.Dialer{Timeout: timeout}, network, address, cfg)
	})
	c, events, err := zk.Connect([]string{addr}, 5*time.Second, zk.WithLogger(nopLogger{}), dialer)
	if err != nil {
		t.Fatal(err)
	}
	if !awaitSession(events, 4*time.Second) {
		c.Close()
		return nil, false
	}
	t.Cleanup(c.Close)
	return c, true
}

// zkCliTLS runs zkCli.sh over TLS (the Netty client socket, PEM key and
// trust stores). Debian's zkCli.sh leaves Netty off its class path, so
// the class path is given whole.
func zkCliTLS(t *testing.T, addr, dir, name string, cmd ...string) (string, error) {
	t.Helper()
	pem := filepath.Join(t.TempDir(), name+".pem")
	crt, _ := os.ReadFile(filepath.Join(dir, name+".crt"))
	key, _ := os.ReadFile(filepath.Join(dir, name+".key"))
	if err := os.WriteFile(pem, append(crt, key...), 0o600); err != nil {
		t.Fatal(err)
	}
	cp := []string{"/etc/zookeeper/conf", "/usr/share/java/zookeeper.jar"}
	for _, j := range []string{"resolver", "codec", "handler", "buffer", "common", "transport", "transport-native-unix-common", "transport-native-epoll"} {
		cp = append(cp, "/usr/share/java/netty-"+j+".jar")
	}
	flags := []string{
		"-cp", strings.Join(cp, ":"),
		"-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty",
		"-Dzookeeper.client.secure=true",
		"-Dzookeeper.ssl.keyStore.location=" + pem, "-Dzookeeper.ssl.keyStore.type=PEM",
		"-Dzookeeper.ssl.trustStore.location=" + filepath.Join(dir, "ca.crt"), "-Dzookeeper.ssl.trustStore.type=PEM",
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, "/usr/share/zookeeper/bin/zkCli.sh", append([]string{"-server", addr}, cmd...)...)
	c.Env = append(os.Environ(), "CLIENT_JVMFLAGS="+strings.Join(flags, " "))
	out, err := c.CombinedOutput()
	return string(out), err
}

// TestTLSClientPorts: the Redis TLS port, ZooKeeper's secure client port
// and Postgres's SSL, each with its real clients; plain clients, clients
// without a certificate and clients of another CA are refused; SIGHUP
// reloads the node's certificates.
func TestTLSClientPorts(t *testing.T) {
	dir := certDir(t, "n1", "client")
	other := certDir(t, "n1", "client") // another CA, with the same names
	g := startGateway(t,
		"--tls-cert-file", filepath.Join(dir, "n1.crt"), "--tls-key-file", filepath.Join(dir, "n1.key"),
		"--tls-ca-cert-file", filepath.Join(dir, "ca.crt"),
		"--redis-tls-addr", "127.0.0.1:0", "--zk-secure-addr", "127.0.0.1:0", "--pg-ssl-required")
	ctx := testCtx(t)

	// Redis.
	rport := g.port("redis-tls")
	cli := func(args ...string) (string, error) {
		out, err := exec.Command("redis-cli", append([]string{"-p", rport}, args...)...).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	tlsArgs := []string{"--tls", "--cacert", filepath.Join(dir, "ca.crt"), "--cert", filepath.Join(dir, "client.crt"), "--key", filepath.Join(dir, "client.key")}
	if out, err := cli(append(tlsArgs, "SET", "k", "over-tls")...); err != nil || out != "OK" {
		t.Fatalf("redis-cli --tls SET: %q %v", out, err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: g.addr("redis-tls"), TLSConfig: clientTLS(t, dir, dir, "client"), MaxRetries: -1})
	defer rdb.Close()
	if v, err := rdb.Get(ctx, "k").Result(); err != nil || v != "over-tls" {
		t.Fatalf("go-redis over TLS: %q %v", v, err)
	}
	for what, args := range map[string][]string{
		"plain":          {"GET", "k"},
		"no certificate": {"--tls", "--cacert", filepath.Join(dir, "ca.crt"), "GET", "k"},
		"another CA":     {"--tls", "--insecure", "--cert", filepath.Join(other, "client.crt"), "--key", filepath.Join(other, "client.key"), "GET", "k"},
	} {
		if out, err := cli(args...); strings.Contains(out, "over-tls") {
			t.Errorf("Redis TLS port served a %s client: %q %v", what, out, err)
		}
	}
	bad := redis.NewClient(&redis.Options{Addr: g.addr("redis-tls"), TLSConfig: clientTLS(t, other, other, "client"), MaxRetries: -1})
	defer bad.Close()
	if err := bad.Ping(ctx).Err(); err == nil {
		t.Error("go-redis trusting another CA connected")
	}

	// ZooKeeper.
	zaddr := g.addr("zookeeper-secure")
	zc, ok := zkTLSSession(t, zaddr, clientTLS(t, dir, dir, "client"))
	if !ok {
		t.Fatal("go-zookeeper got no session over TLS")
	}
	if _, err := zc.Create("/tls", []byte("secure"), 0, openACL); err != nil {
		t.Fatal(err)
	}
	if out, err := zkCliTLS(t, zaddr, dir, "client", "get", "/tls"); err != nil || !strings.Contains(out, "secure") {
		t.Errorf("zkCli.sh over TLS: %v\n%s", err, out)
	}
	otherClient := clientTLS(t, dir, other, "client") // trusts the node, but its certificate is another CA's
	if _, ok := zkTLSSession(t, zaddr, otherClient); ok {
		t.Error("go-zookeeper with another CA's certificate got a session")
	}
	if _, ok := zkTLSSession(t, zaddr, clientTLS(t, dir, dir, "")); ok {
		t.Error("go-zookeeper without a certificate got a session")
	}

	// Postgres.
	pport := g.port("postgres")
	dsn := func(host, mode, root string) string {
		return fmt.Sprintf("host=%s port=%s user=postgres dbname=postgres sslmode=%s sslrootcert=%s", host, pport, mode, filepath.Join(root, "ca.crt"))
	}
	for _, host := range []string{"127.0.0.1", "localhost"} {
		out, err := exec.Command("psql", "-X", "-Atc", "SELECT 'tls ' || 42", dsn(host, "verify-full", dir)).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "tls 42" {
			t.Errorf("psql sslmode=verify-full to %s: %v\n%s", host, err, out)
		}
	}
	out, err := exec.Command("psql", "-X", "-Atc", "SELECT 1", dsn("127.0.0.1", "disable", dir)).CombinedOutput()
	if err == nil || !strings.Contains(string(out), `no pg_hba.conf entry for host "127.0.0.1", user "postgres", database "postgres", no encryption`) {
		t.Errorf("psql without SSL: %v\n%s", err, out)
	}
	pc, err := pgx.Connect(ctx, dsn("127.0.0.1", "verify-full", dir))
	if err != nil {
		t.Fatal(err)
	}
	var v int
	if err := pc.QueryRow(ctx, "SELECT 7").Scan(&v); err != nil || v != 7 {
		t.Errorf("pgx over TLS: %d %v", v, err)
	}
	pc.Close(ctx)
	if c, err := pgx.Connect(ctx, dsn("127.0.0.1", "verify-full", other)); err == nil {
		c.Close(ctx)
		t.Error("pgx trusting another CA connected with verify-full")
	}

	// SIGHUP: the node's files now hold the other CA's material; new
	// connections see it, and clients of the first CA are refused.
	reloadTLS(t, g, other, dir)
	reloaded := redis.NewClient(&redis.Options{Addr: g.addr("redis-tls"), TLSConfig: clientTLS(t, other, other, "client"), MaxRetries: -1})
	defer reloaded.Close()
	waitFor(t, "a client of the new CA to connect after SIGHUP", 10*time.Second, func() bool {
		return reloaded.Ping(ctx).Err() == nil
	})
	// dir's client certificate is still the first CA's.
	stale := redis.NewClient(&redis.Options{Addr: g.addr("redis-tls"), TLSConfig: clientTLS(t, other, dir, "client"), MaxRetries: -1})
	defer stale.Close()
	if err := stale.Ping(ctx).Err(); err == nil {
		t.Error("a client certificate of the replaced CA was accepted after the reload")
	}
}

// TestTLSEnsemblePeersAndAdmin: an ensemble whose peer and admin
// endpoints speak mutual TLS replicates as usual; the admin commands work
// with a certificate of the ensemble's CA and are refused without one or
// with another CA's; a peer client of another CA cannot reach the peer
// endpoint.
func TestTLSEnsemblePeersAndAdmin(t *testing.T) {
	dir := certDir(t, "node", "admin")
	other := certDir(t, "node", "admin")
	files := func(d, name string) []string {
		return []string{"--tls-cert-file", filepath.Join(d, name+".crt"), "--tls-key-file", filepath.Join(d, name+".key"), "--tls-ca-cert-file", filepath.Join(d, "ca.crt")}
	}
	e := startEnsemble(t, 3, files(dir, "node")...)
	ctx := testCtx(t)
	w, r := e.nodes[0].redisClient(2), e.nodes[2].redisClient(2)
	for i := range 20 {
		if err := w.Set(ctx, fmt.Sprint("k", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
		if v, err := r.Get(ctx, fmt.Sprint("k", i)).Int(); err != nil || v != i {
			t.Fatalf("read on another node over the TLS ensemble: %d %v", v, err)
		}
	}

	adminStatus := func(extra ...string) (string, error) {
		args := append([]string{"status", "--admin-addr", e.nodes[1].addr("admin")}, extra...)
		out, err := exec.Command(gatewayBin, args...).CombinedOutput()
		return string(out), err
	}
	out, err := adminStatus(files(dir, "admin")...)
	if err != nil || strings.Count(out, "applied") < 3 || strings.Contains(out, "unreachable") {
		t.Errorf("gateway status with the ensemble's certificate: %v\n%s", err, out)
	}
	if out, err := adminStatus(); err == nil {
		t.Errorf("gateway status without TLS succeeded:\n%s", out)
	}
	if out, err := adminStatus(files(other, "admin")...); err == nil {
		t.Errorf("gateway status with another CA's certificate succeeded:\n%s", out)
	}

	// peer makes one call of each kind a peer makes (status, an append
	// to the sequencer, a store on a LogServer) to node 1's peer
	// endpoint, and returns the first error.
	peer := func(cfg *tls.Config) error {
		c, err := grpc.NewClient(e.nodes[0].addr("peer"), grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
		if err != nil {
			return err
		}
		defer c.Close()
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if _, err = adminpb.NewPeerClient(c).NodeStatus(cctx, &adminpb.NodeStatusRequest{}); err != nil {
			return err
		}
		if cfg.Certificates == nil || cfg.RootCAs == nil {
			return nil
		}
		// With the ensemble's certificate these reach the services,
		// which refuse a loglet that does not exist; refused by TLS,
		// they never do.
		_, err = nativepb.NewSequencerClient(c).Append(cctx, &nativepb.AppendRequest{Loglet: 1 << 40, Client: 1, Seq: 1, Entries: [][]byte{[]byte("stranger")}})
		if status.Code(err) == codes.Unavailable {
			return err
		}
		_, err = nativepb.NewLogServerClient(c).Store(cctx, &nativepb.StoreRequest{Loglet: 1 << 40, First: 0, Entries: [][]byte{[]byte("stranger")}})
		if status.Code(err) == codes.Unavailable {
			return err
		}
		return nil
	}
	if err := peer(clientTLS(t, dir, dir, "node")); err != nil {
		t.Fatalf("peer calls with the ensemble's certificate: %v", err)
	}
	for what, cfg := range map[string]*tls.Config{
		"another CA's certificate": clientTLS(t, dir, other, "node"),
		"no certificate":           clientTLS(t, dir, dir, ""),
	} {
		if err := peer(cfg); status.Code(err) != codes.Unavailable {
			t.Errorf("a peer with %s: %v, want a refused connection", what, err)
		}
	}

	// A node with another CA's certificate, added as a member, cannot
	// join: the members refuse it and it refuses them, so it never
	// opens the log, while the ensemble writes on.
	n4Peer := "127.0.0.1:" + freePort(t)
	add := exec.Command(gatewayBin, append([]string{"members", "add", "--new-id", "n4", "--peer-addr", n4Peer, "--admin-addr", e.nodes[0].addr("admin")}, files(dir, "admin")...)...)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("members add: %v\n%s", err, out)
	}
	var peers []string
	for i, g := range e.nodes {
		peers = append(peers, nodeID(i)+"="+g.addr("peer"))
	}
	n4 := exec.Command(gatewayBin, append([]string{"serve", "--node-id", "n4", "--data-dir", t.TempDir(), "--log-format", "json",
		"--peer-addr", n4Peer, "--peers", strings.Join(append(peers, "n4="+n4Peer), ","),
		"--redis-addr", "127.0.0.1:0", "--zk-addr", "127.0.0.1:0", "--pg-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"},
		files(other, "node")...)...)
	stderr, err := n4.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := n4.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n4.Process.Kill(); n4.Wait() })
	var joined atomic.Bool
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if strings.Contains(sc.Text(), `"node ready"`) {
				joined.Store(true)
			}
		}
	}()
	// The members cannot reach it: its certificate is not of their CA.
	var report string
	waitFor(t, "the members to report n4 refused for its certificate", time.Minute, func() bool {
		report, _ = adminStatus(files(dir, "admin")...)
		i := strings.Index(report, "n4 at ")
		return i >= 0 && strings.Contains(strings.SplitN(report[i:], "\n", 2)[0], "certificate")
	})
	wctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := range 10 {
		if err := w.Set(wctx, fmt.Sprint("after-n4-", i), i, 0).Err(); err != nil {
			t.Fatalf("a write after the stranger tried to join: %v", err)
		}
	}
	if joined.Load() {
		t.Errorf("a node with another CA's certificate joined the ensemble:\n%s", report)
	}
}
