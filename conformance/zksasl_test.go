package conformance

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"hourglass/internal/zkserver"
)

// saslJAAS is the servers' JAAS file: ZooKeeper's Server section with
// two DIGEST-MD5 users.
const saslJAAS = `Server {
       org.apache.zookeeper.server.auth.DigestLoginModule required
       user_bob="bobsecret"
       user_alice="alicesecret"
       user_admin="adminsecret";
};
`

// saslKazoo authenticates with kazoo (pure-sasl's DIGEST-MD5): bob makes
// a znode only he may touch, alice is refused it, and a wrong password
// fails the connection.
const saslKazoo = `import sys, logging
from kazoo.client import KazooClient
from kazoo.security import make_acl
from kazoo.exceptions import NoAuthError, AuthFailedError
logging.basicConfig(level=logging.CRITICAL)
host = sys.argv[1]
def client(user, pw):
    zk = KazooClient(hosts=host, timeout=5, connection_retry={"max_tries": 5, "delay": 0.2},
        sasl_options={"mechanism": "DIGEST-MD5", "username": user, "password": pw})
    zk.start(timeout=30)
    return zk
bob = client("bob", "bobsecret")
bob.create("/s", b"bob's", acl=[make_acl("sasl", "bob", all=True)])
print("bob reads", bob.get("/s")[0].decode())
print("acl", [(a.id.scheme, a.id.id, a.perms) for a in bob.get_acls("/s")[0]])
bob.create("/auth", b"", acl=[make_acl("auth", "", all=True)])
print("auth acl", [(a.id.scheme, a.id.id) for a in bob.get_acls("/auth")[0]])
bob.stop()
alice = client("alice", "alicesecret")
try:
    alice.get("/s")
    print("alice reads /s")
except NoAuthError:
    print("alice: NoAuth")
alice.stop()
admin = client("admin", "adminsecret")
print("the super user reads", admin.get("/s")[0].decode())
admin.stop()
# Whether the refusal shows at start (a timeout) or at the first request
# (the connection lost) is a race in either server; what matters is that
# a wrong password never reads.
try:
    zk = client("bob", "wrong")
    zk.get("/s")
    print("wrong password: read /s")
except Exception as e:
    refused = type(e).__name__ in ("KazooTimeoutError", "ConnectionLoss", "AuthFailedError", "SessionExpiredError")
    print("wrong password:", "refused" if refused else type(e).__name__)
`

// saslServers starts the gateway and Apache ZooKeeper 3.8 with the same
// SASL users, both enforcing sasl authentication, and returns their
// ZooKeeper addresses and the JAAS file.
func saslServers(t *testing.T) (gw, real string) {
	t.Helper()
	dir := t.TempDir()
	jaas := filepath.Join(dir, "jaas.conf")
	if err := os.WriteFile(jaas, []byte(saslJAAS), 0o644); err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, "--zk-jaas", jaas, "--zk-enforce-auth-schemes", "sasl", "--zk-sasl-super-user", "admin")
	s, err := zkserver.StartJVM(t.TempDir(), 60*time.Second,
		"authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\nenforce.auth.enabled=true\nenforce.auth.schemes=sasl\nsuperUser=admin\n",
		"-Djava.security.auth.login.config="+jaas)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return g.addr("zookeeper"), s.Addr
}

// zkCliSASL runs zkCli.sh scripts concurrently, each as its JAAS Client
// section's user, and returns their outputs in order.
func zkCliSASL(t *testing.T, runs ...saslRun) []string {
	t.Helper()
	fs := make([]func() (string, error), len(runs))
	for i, r := range runs {
		jaas := filepath.Join(t.TempDir(), "client.jaas")
		client := "Client {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  username=\"" + r.user + "\"\n  password=\"" + r.pass + "\";\n};\n"
		if err := os.WriteFile(jaas, []byte(client), 0o644); err != nil {
			t.Fatal(err)
		}
		fs[i] = func() (string, error) {
			return zkCliRun(r.addr, r.script, "CLIENT_JVMFLAGS=-Djava.security.auth.login.config="+jaas)
		}
	}
	outs, errs := parallel(fs...)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("zkCli.sh as %s: %v\n%s", runs[i].user, err, outs[i])
		}
	}
	return outs
}

// saslRun is one zkCli.sh script run as a SASL user.
type saslRun struct{ addr, user, pass, script string }

// parallel runs fs concurrently and returns their results in order.
func parallel(fs ...func() (string, error)) ([]string, []error) {
	outs := make([]string, len(fs))
	errs := make([]error, len(fs))
	var wg sync.WaitGroup
	for i, f := range fs {
		wg.Go(func() { outs[i], errs[i] = f() })
	}
	wg.Wait()
	return outs, errs
}

// TestZKSASLMatchesZooKeeper: SASL DIGEST-MD5 through kazoo and zkCli.sh
// gives the same results on the gateway as on Apache ZooKeeper 3.8
// configured alike: sasl ACLs admit their user only, a wrong password
// fails, and a session that does not authenticate is closed at its first
// request.
func TestZKSASLMatchesZooKeeper(t *testing.T) {
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import kazoo, puresasl").Run(); err != nil {
		t.Skip("python3-kazoo or python3-pure-sasl is not installed")
	}
	gw, real := saslServers(t)
	kazoo := func(addr string) func() (string, error) {
		return func() (string, error) {
			// Its stderr tells of the failed authentication's thread.
			cmd := exec.Command(python, "-c", saslKazoo, addr)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				return string(out) + stderr.String(), err
			}
			return string(out), nil
		}
	}
	outs, errs := parallel(kazoo(gw), kazoo(real))
	for i, err := range errs {
		if err != nil {
			t.Fatalf("kazoo (%d: gateway, ZooKeeper): %v\n%s", i, err, outs[i])
		}
	}
	if outs[0] != outs[1] {
		t.Fatalf("kazoo differs\ngateway:\n%s\nZooKeeper:\n%s", outs[0], outs[1])
	}
	for _, want := range []string{"bob reads bob's", "('sasl', 'bob', 31)", "auth acl [('sasl', 'bob')]", "alice: NoAuth", "the super user reads bob's", "wrong password: refused"} {
		if !strings.Contains(outs[0], want) {
			t.Errorf("kazoo output lacks %q:\n%s", want, outs[0])
		}
	}

	// zkCli.sh with a JAAS Client section.
	script := "get /s\ngetAcl /s\nwhoami"
	clis := zkCliSASL(t, saslRun{gw, "bob", "bobsecret", script}, saslRun{real, "bob", "bobsecret", script},
		saslRun{gw, "alice", "alicesecret", script}, saslRun{real, "alice", "alicesecret", script})
	for i := 0; i < len(clis); i += 2 {
		if clis[i] != clis[i+1] {
			t.Errorf("zkCli.sh differs\ngateway:\n%s\nZooKeeper:\n%s", clis[i], clis[i+1])
		}
	}
	if !strings.Contains(clis[0], "bob's") || !strings.Contains(clis[2], "Insufficient permission") {
		t.Errorf("zkCli.sh as bob:\n%s\nas alice:\n%s", clis[0], clis[2])
	}

	// Without SASL the session is closed at its first request.
	errs = make([]error, 2)
	for i, addr := range []string{gw, real} {
		c, _, err := zk.Connect([]string{addr}, 5*time.Second, zk.WithLogger(nopLogger{}), zk.WithMaxConnBufferSize(1<<20))
		if err != nil {
			t.Fatal(err)
		}
		_, _, errs[i] = c.Get("/s")
		c.Close()
	}
	if errs[0] == nil || errs[1] == nil || errs[0].Error() != errs[1].Error() {
		t.Errorf("unauthenticated get: gateway %v, ZooKeeper %v", errs[0], errs[1])
	}
}
