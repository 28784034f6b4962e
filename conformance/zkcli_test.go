package conformance

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"hourglass/internal/zkserver"
)

// zkCliPath is Debian's zkCli.sh.
const zkCliPath = "/usr/share/zookeeper/bin/zkCli.sh"

// startRealZK starts Apache ZooKeeper (Debian's package) standalone on a
// free loopback port and returns its address.
func startRealZK(t testing.TB) string {
	t.Helper()
	s, err := zkserver.Start(t.TempDir(), 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s.Addr
}

// zkCli runs a zkCli.sh script (one command per line) against addr and
// returns what the commands printed, without the connection chatter.
func zkCli(t *testing.T, addr, script string) string {
	t.Helper()
	out, err := zkCliRun(addr, script)
	if err != nil {
		t.Fatalf("zkCli.sh: %v\n%s", err, out)
	}
	return out
}

// zkCliRun is zkCli for any goroutine, with extra environment variables
// (CLIENT_JVMFLAGS=...).
func zkCliRun(addr, script string, env ...string) (string, error) {
	cmd := exec.Command(zkCliPath, "-server", addr)
	cmd.Stdin = strings.NewReader(script + "\nquit\n")
	cmd.Env = append(append(os.Environ(), "JAVA_TOOL_OPTIONS=-Xmx128m"), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), err
	}
	var keep []string
	for line := range strings.SplitSeq(string(out), "\n") {
		if strings.HasPrefix(line, "SLF4J") || strings.HasPrefix(line, "WATCHER::") || strings.HasPrefix(line, "WatchedEvent") ||
			strings.HasPrefix(line, "Connecting to") || strings.HasPrefix(line, "Welcome to") || strings.HasPrefix(line, "JLine") ||
			strings.HasPrefix(line, "Picked up JAVA_TOOL_OPTIONS") || strings.TrimSpace(line) == "" {
			continue
		}
		keep = append(keep, line)
	}
	return strings.Join(keep, "\n"), nil
}

// Lines whose values differ between any two servers: zxids, times and
// session ids.
var zkVolatile = regexp.MustCompile(`(?m)^(cZxid|mZxid|pZxid|ctime|mtime|ephemeralOwner) = .*$`)

// TestZKCliMatchesZooKeeper runs one zkCli.sh script against the gateway
// and against Apache ZooKeeper 3.8 and requires the same output, but for
// zxids, times and session ids.
func TestZKCliMatchesZooKeeper(t *testing.T) {
	g := startGateway(t)
	real := startRealZK(t)
	script := strings.Join([]string{
		"ls /", "ls /zookeeper", "create /app hello", "create /app again", "create /nope/child",
		"get /app", "set /app world", "get /app", "stat /app", "get -s /app",
		"create /app/b", "create /app/a data", "ls /app", "ls -s /app", "create -s /app/seq- x", "create -s /app/seq- y",
		"create -e /app/eph", "create /app/eph/child", "ls /app",
		"set -v 7 /app x", "set -v 1 /app x", "delete /app", "delete -v 5 /app/a", "delete /app/a", "delete /app/a",
		"getAcl /app", "setAcl /app world:anyone:r", "getAcl /app", "set /app y", "stat /app",
		"create /acl data digest:alice:V55/p2T0OpjQ+low3NVAH4aLvm0=:cdrwa", "getAcl /acl", "get /acl",
		"addauth digest alice:pw", "get /acl", "getAcl /acl",
		"create -c /box", "stat /box", "create /box/item", "ls /box", "stat /",
	}, "\n")
	got, want := zkCli(t, g.addr("zookeeper"), script), zkCli(t, real, script)
	got, want = zkVolatile.ReplaceAllString(got, "$1 = ?"), zkVolatile.ReplaceAllString(want, "$1 = ?")
	if got != want {
		gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("line %d differs: gateway %q, ZooKeeper %q\n--- gateway:\n%s\n--- ZooKeeper:\n%s", i+1, gl[i], wl[i], got, want)
			}
		}
		t.Fatalf("output lengths differ\n--- gateway:\n%s\n--- ZooKeeper:\n%s", got, want)
	}
}
