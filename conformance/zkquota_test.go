package conformance

import (
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"hourglass/internal/zkserver"
)

// zkQuotaScript is a zkCli.sh quota session: soft and hard limits set,
// listed, passed and deleted.
const zkQuotaScript = `create /q
create /q/a x
setquota -n 5 /q
listquota /q
get /zookeeper/quota/q/zookeeper_limits
get /zookeeper/quota/q/zookeeper_stats
setquota -N 3 /q
setquota -B 10 /q
listquota /q
create /q/b 12345678
create /q/c
setquota -b 100 /q
listquota /q
set /q/a 123456789012
set /q/a 1
setquota -n 2 /q/a
create /q/a/x
create /q/a/y
get -s /zookeeper/quota/q/zookeeper_stats
delete /q/a/x
listquota /q
delquota -n /q
listquota /q
delquota -N /q
listquota /q
create /q/c
delquota /q
listquota /q
ls /zookeeper/quota
setquota -n 2 /nonexist
setquota -N 2 -B 3 /q
setquota -x 2 /q
ls /q`

// TestZKQuotaMatchesZooKeeper runs a zkCli.sh quota session against the
// gateway and against Apache ZooKeeper 3.8 (with enforceQuota=true) and
// requires the same output, zxids and times aside: the limits and stats
// nodes, listquota, and QuotaExceeded past a hard limit.
func TestZKQuotaMatchesZooKeeper(t *testing.T) {
	g := startGateway(t)
	// The reference run is repeated, on a fresh server, if the JVM lost
	// its connection (a loaded machine, not the subject of the test).
	reference := func() (string, error) {
		for attempt := 0; ; attempt++ {
			real, err := zkserver.StartWith(t.TempDir(), 60*time.Second, "enforceQuota=true")
			if err != nil {
				return "", err
			}
			out, err := zkCliRun(real.Addr, zkQuotaScript)
			real.Stop()
			if attempt < 2 && strings.Contains(out, "ConnectionLoss") {
				t.Logf("Apache ZooKeeper lost zkCli.sh's connection; running it again:\n%s", out)
				continue
			}
			return out, err
		}
	}
	outs, errs := parallel(
		func() (string, error) { return zkCliRun(g.addr("zookeeper"), zkQuotaScript) },
		reference,
	)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("zkCli.sh: %v\n%s", err, outs[i])
		}
	}
	got, want := zkVolatile.ReplaceAllString(outs[0], "$1 = X"), zkVolatile.ReplaceAllString(outs[1], "$1 = X")
	if got != want {
		t.Fatalf("zkCli.sh differs\ngateway:\n%s\nZooKeeper:\n%s", got, want)
	}
	for _, line := range []string{"Quota has exceeded : /q/c", "Output stat for /q count=3,bytes=9"} {
		if !strings.Contains(got, line) {
			t.Errorf("output lacks %q:\n%s", line, got)
		}
	}
}

// TestZKQuotaEnsemble: a hard quota set through one node is enforced for
// a client of another, and every node keeps the same stats.
func TestZKQuotaEnsemble(t *testing.T) {
	e := startEnsemble(t, 3, "--zk-tick-time", "250ms")
	if out, err := zkCliRun(e.nodes[0].addr("zookeeper"), "create /e\nsetquota -N 3 /e\nsetquota -B 4 /e"); err != nil {
		t.Fatalf("zkCli.sh: %v\n%s", err, out)
	}
	c := e.nodes[1].zkClient(t)
	mustZK[string](t, "create /e/a")(c.Create("/e/a", []byte("ab"), 0, openACL))
	if _, err := c.Create("/e/b", []byte("abc"), 0, openACL); err == nil || !strings.Contains(err.Error(), "-125") {
		t.Fatalf("a create past the byte quota: %v", err)
	}
	if _, err := c.Set("/e/a", []byte("abcde"), -1); err == nil || !strings.Contains(err.Error(), "-125") {
		t.Fatalf("a setData past the byte quota: %v", err)
	}
	// A multi fails whole at its operation past the quota.
	_, err := c.Multi(&zk.CreateRequest{Path: "/e/m1", Acl: openACL}, &zk.CreateRequest{Path: "/e/m2", Acl: openACL})
	if err == nil || !strings.Contains(err.Error(), "-125") {
		t.Fatalf("a multi past the count quota: %v", err)
	}
	mustZK[string](t, "create /e/b")(c.Create("/e/b", nil, 0, openACL))
	for i, g := range e.nodes {
		cl := g.zkClient(t)
		if _, err := cl.Sync("/"); err != nil {
			t.Fatal(err)
		}
		data, _, err := cl.Get("/zookeeper/quota/e/zookeeper_stats")
		if err != nil || string(data) != "count=3,bytes=2" {
			t.Errorf("node %d: stats %q, %v", i+1, data, err)
		}
	}
}
