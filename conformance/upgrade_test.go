package conformance

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/encoding/protojson"

	"hourglass/node/adminpb"
)

// nextBin is the gateway built as the next version: the timekeeper's
// stored format v2 supported (built once, beside gatewayBin).
var nextBin struct {
	once sync.Once
	path string
	err  error
}

// nextGateway builds the next version's binary.
func nextGateway(t *testing.T) string {
	t.Helper()
	nextBin.once.Do(func() {
		nextBin.path = filepath.Join(filepath.Dir(gatewayBin), "gateway-next")
		build := exec.Command("go", "build", "-ldflags", "-X hourglass/engines/timekeeper.maxVersion=2", "-o", nextBin.path, "hourglass/cmd/gateway")
		out, err := build.CombinedOutput()
		if err != nil {
			nextBin.err = fmt.Errorf("building the next version: %v\n%s", err, out)
		}
	})
	if nextBin.err != nil {
		t.Fatal(nextBin.err)
	}
	return nextBin.path
}

// upgradeStatus runs `gateway upgrade status --json` against node i.
func (e *ensemble) upgradeStatus(i int) *adminpb.UpgradeStatusResponse {
	e.t.Helper()
	out := e.nodes[i].gatewayCLI("upgrade", "status", "--json")
	st := &adminpb.UpgradeStatusResponse{}
	if err := protojson.Unmarshal([]byte(out), st); err != nil {
		e.t.Fatalf("upgrade status: %v\n%s", err, out)
	}
	return st
}

// engineVersion is the named engine's enabled version in st.
func engineVersion(st *adminpb.UpgradeStatusResponse, name string) *adminpb.EngineVersion {
	for _, ev := range st.Engines {
		if ev.Name == name {
			return ev
		}
	}
	return &adminpb.EngineVersion{Name: name}
}

// upgradeLoad writes distinct Redis keys and znodes over every live node
// while the test runs, retrying a write the way a client does (on a lost
// connection, TRYAGAIN or UNCERTAIN; SET is idempotent, and a create
// retried after a lost outcome finds its own znode), and keeps what was
// acknowledged.
type upgradeLoad struct {
	e    *ensemble
	stop chan struct{}
	wg   sync.WaitGroup

	mu struct {
		sync.Mutex
		acked map[string]string // "redis <key>" or "zk <path>" -> value
		err   error
	}
}

func startUpgradeLoad(e *ensemble) *upgradeLoad {
	l := &upgradeLoad{e: e, stop: make(chan struct{})}
	l.mu.acked = map[string]string{}
	l.wg.Add(2)
	go l.run("redis", l.redisWriter())
	go l.run("zk", l.zkWriter())
	return l
}

// writer writes op's key and value on node n (modulo the nodes), if it
// is up; close releases its connections.
type writer struct {
	write     func(n int, key, val string) error
	transient func(error) bool
	close     func()
}

// redisWriter sets keys through go-redis, a client per node address.
func (l *upgradeLoad) redisWriter() writer {
	clients := map[string]*redis.Client{}
	return writer{
		write: func(n int, key, val string) error {
			addr, err := l.addr(n, "redis")
			if err != nil {
				return err
			}
			if clients[addr] == nil {
				clients[addr] = redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 2 * time.Second, ReadTimeout: 10 * time.Second})
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			return clients[addr].Set(ctx, key, val, 0).Err()
		},
		transient: func(err error) bool {
			var re redis.Error
			if !errors.As(err, &re) {
				return true // the connection: the node went down
			}
			return strings.HasPrefix(re.Error(), "TRYAGAIN") || strings.HasPrefix(re.Error(), "UNCERTAIN")
		},
		close: func() {
			for _, c := range clients {
				c.Close()
			}
		},
	}
}

// zkWriter creates znodes through go-zookeeper, a session per node
// address, dropped when its connection fails.
func (l *upgradeLoad) zkWriter() writer {
	conns := map[string]*zk.Conn{}
	drop := func(addr string) {
		if c := conns[addr]; c != nil {
			c.Close()
			delete(conns, addr)
		}
	}
	return writer{
		write: func(n int, path, val string) error {
			addr, err := l.addr(n, "zookeeper")
			if err != nil {
				return err
			}
			if conns[addr] == nil {
				c, events, err := zk.Connect([]string{addr}, 5*time.Second, zk.WithLogger(nopLogger{}))
				if err != nil {
					return err
				}
				if !awaitSession(events, 5*time.Second) {
					c.Close()
					return zk.ErrNoServer
				}
				conns[addr] = c
			}
			// A request sent as the node dies waits for a reconnection
			// that never comes (the node comes back on another port):
			// closing the session ends it.
			stop := time.AfterFunc(10*time.Second, conns[addr].Close)
			defer stop.Stop()
			_, err = conns[addr].Create(path, []byte(val), 0, openACL)
			if errors.Is(err, zk.ErrNodeExists) {
				// A retry of a create whose outcome was lost: it is
				// done if the znode is this one.
				var data []byte
				if data, _, err = conns[addr].Get(path); err == nil && string(data) != val {
					err = fmt.Errorf("%s holds %q", path, data)
				}
			}
			if err != nil && !errors.Is(err, zk.ErrNodeExists) {
				drop(addr)
			}
			return err
		},
		transient: func(err error) bool {
			return errors.Is(err, errNodeDown) || errors.Is(err, zk.ErrConnectionClosed) || errors.Is(err, zk.ErrNoServer) ||
				errors.Is(err, zk.ErrSessionExpired) || errors.Is(err, zk.ErrSessionMoved) || errors.Is(err, zk.ErrClosing)
		},
		close: func() {
			for addr := range conns {
				drop(addr)
			}
		},
	}
}

var errNodeDown = errors.New("the node is down")

// addr is node n's (modulo the nodes) api address, or errNodeDown.
func (l *upgradeLoad) addr(n int, api string) (string, error) {
	if addr := l.e.nodes[n%len(l.e.nodes)].liveAddr(api); addr != "" {
		return addr, nil
	}
	return "", errNodeDown
}

// run writes one key after another with w until the test stops it.
func (l *upgradeLoad) run(api string, w writer) {
	defer l.wg.Done()
	defer w.close()
	for op := 0; op < 100000; op++ {
		select {
		case <-l.stop:
			return
		default:
		}
		key, val := fmt.Sprintf("up:%d", op), fmt.Sprint(op)
		if api == "zk" {
			key = fmt.Sprintf("/up-%d", op)
		}
		deadline := time.Now().Add(30 * time.Second)
		for try := op; ; try++ {
			err := w.write(try, key, val)
			if err == nil {
				l.mu.Lock()
				l.mu.acked[api+" "+key] = val
				l.mu.Unlock()
				break
			}
			if !w.transient(err) || time.Now().After(deadline) {
				l.mu.Lock()
				l.mu.err = errors.Join(l.mu.err, fmt.Errorf("%s write of %s: %w", api, key, err))
				l.mu.Unlock()
				return
			}
			select {
			case <-l.stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// end stops the load and returns what was acknowledged.
func (l *upgradeLoad) end(t *testing.T) map[string]string {
	close(l.stop)
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mu.err != nil {
		t.Fatalf("a write failed beyond retries: %v", l.mu.err)
	}
	return l.mu.acked
}

// count returns how many writes were acknowledged so far.
func (l *upgradeLoad) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.mu.acked)
}

// TestRollingUpgrade: three nodes of this version serve Redis and
// ZooKeeper writes; each in
// turn is restarted as the next version (whose timekeeper supports its
// stored format v2). The new format is not enabled while any member runs
// the old build, is enabled once all three run the new one, at one
// position on every replica, whose states stay equal; no write fails
// beyond retries and every acknowledged write is there. The old build
// then refuses to start on a node's data.
func TestRollingUpgrade(t *testing.T) {
	next := nextGateway(t)
	e := startEnsemble(t, 3)
	load := startUpgradeLoad(e)
	progress := func() {
		n := load.count()
		waitFor(t, "writes to go on", 30*time.Second, func() bool { return load.count() > n+20 })
	}
	progress()
	for i := range e.nodes {
		other := (i + 1) % 3
		if v := engineVersion(e.upgradeStatus(other), "time"); v.Enabled != 1 {
			t.Fatalf("time v%d enabled while %s runs the old build", v.Enabled, nodeID(i))
		}
		e.nodes[i].kill()
		e.nodes[i].bin = next
		e.nodes[i].restart()
		progress()
		if i == len(e.nodes)-1 {
			break
		}
		// The restarted node announced v2; the others hold it back.
		waitFor(t, nodeID(i)+"'s announcement", 30*time.Second, func() bool {
			st := e.upgradeStatus(i)
			want := []string{}
			for j := i + 1; j < 3; j++ {
				want = append(want, nodeID(j))
			}
			for _, p := range st.Pending {
				if p.Name == "time" && p.Version == 2 && slices.Equal(p.Missing, want) {
					return engineVersion(st, "time").Enabled == 1
				}
			}
			return false
		})
		if v := engineVersion(e.upgradeStatus(other), "time"); v.Enabled != 1 {
			t.Fatalf("time v%d enabled while %s runs the old build", v.Enabled, nodeID(other))
		}
	}
	var at uint64
	waitFor(t, "time v2 to be enabled on every node", 30*time.Second, func() bool {
		ats := map[uint64]bool{}
		for i := range e.nodes {
			v := engineVersion(e.upgradeStatus(i), "time")
			if v.Enabled != 2 {
				return false
			}
			ats[v.EnabledAt] = true
			at = v.EnabledAt
		}
		if len(ats) != 1 {
			t.Fatalf("nodes enabled time v2 at different positions: %v", ats)
		}
		return true
	})
	t.Logf("time v2 enabled at position %d", at)
	progress() // writes after the switch use the new format
	acked := load.end(t)
	e.converge(0, 1, 2)
	ctx := testCtx(t)
	for i := range e.nodes {
		c, z := e.nodes[i].redisClient(2), e.nodes[i].zkClient(t)
		for k, v := range acked {
			api, key, _ := strings.Cut(k, " ")
			var got string
			var err error
			if api == "redis" {
				got, err = c.Get(ctx, key).Result()
			} else {
				var b []byte
				b, _, err = z.Get(key)
				got = string(b)
			}
			if err != nil || got != v {
				t.Fatalf("%s: %s read of %s = %q, %v; acknowledged %q", nodeID(i), api, key, got, err, v)
			}
		}
	}
	perAPI := map[string]int{}
	for k := range acked {
		api, _, _ := strings.Cut(k, " ")
		perAPI[api]++
	}
	if perAPI["redis"] == 0 || perAPI["zk"] == 0 {
		t.Fatalf("acknowledged writes per API: %v", perAPI)
	}
	t.Logf("acknowledged writes on every node: %v", perAPI)
	if out := e.nodes[0].gatewayCLI("upgrade", "status"); !strings.Contains(out, "time          v2 since position") || !strings.Contains(out, "pending: none") {
		t.Fatalf("gateway upgrade status:\n%s", out)
	}

	// The old build does not apply state it cannot: it stops at once.
	g := e.nodes[0]
	g.kill()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, gatewayBin, g.commandArgs()...).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "enabled version not supported by this build: time v2") {
		t.Fatalf("the old build on upgraded data: %v\n%s", err, out)
	}
	g.restart()
	e.converge(0, 1, 2)
}
