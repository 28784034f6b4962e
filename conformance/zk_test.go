package conformance

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"hourglass/internal/zkserver"
)

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}

// zkConnect opens a go-zookeeper session to addrs and waits until it has
// one.
func zkConnect(t testing.TB, addrs []string, timeout time.Duration) (*zk.Conn, <-chan zk.Event) {
	t.Helper()
	c, events, err := zk.Connect(addrs, timeout, zk.WithLogger(nopLogger{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if !awaitSession(events, 15*time.Second) {
		t.Fatalf("no ZooKeeper session from %v", addrs)
	}
	return c, events
}

// awaitSession reports whether a session is established within limit.
func awaitSession(events <-chan zk.Event, limit time.Duration) bool {
	deadline := time.After(limit)
	for {
		select {
		case e := <-events:
			if e.State == zk.StateHasSession {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

func (g *gateway) zkClient(t testing.TB) *zk.Conn {
	c, _ := zkConnect(t, []string{g.addr("zookeeper")}, 10*time.Second)
	return c
}

var openACL = zk.WorldACL(zk.PermAll)

func mustZK[T any](t testing.TB, what string) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
}

func wantZKErr(t testing.TB, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: %v, want %v", what, err, want)
	}
}

// TestZKNodes drives create, get, set, exists, delete and getChildren
// through go-zookeeper, with every Stat field and every error case.
func TestZKNodes(t *testing.T) {
	g := startGateway(t)
	c := g.zkClient(t)

	root := mustZK[*zk.Stat](t, "exists /")(func() (*zk.Stat, error) { _, st, err := c.Exists("/"); return st, err }())
	before := time.Now().UnixMilli()
	if p := mustZK[string](t, "create /app")(c.Create("/app", []byte("v0"), 0, openACL)); p != "/app" {
		t.Fatalf("create returned %q", p)
	}
	data, st, err := c.Get("/app")
	if err != nil || string(data) != "v0" {
		t.Fatalf("get /app = %q, %v", data, err)
	}
	if st.Czxid == 0 || st.Mzxid != st.Czxid || st.Pzxid != st.Czxid || st.Version != 0 || st.Cversion != 0 ||
		st.Aversion != 0 || st.EphemeralOwner != 0 || st.DataLength != 2 || st.NumChildren != 0 ||
		st.Ctime != st.Mtime || st.Ctime < before-5000 || st.Ctime > time.Now().UnixMilli()+5000 {
		t.Fatalf("stat of a new znode: %+v", st)
	}
	created := *st
	_, rootAfter, _ := c.Exists("/")
	if rootAfter.Cversion != root.Cversion+1 || rootAfter.NumChildren != root.NumChildren+1 ||
		rootAfter.Pzxid != created.Czxid || rootAfter.Mzxid != root.Mzxid {
		t.Fatalf("root before %+v after %+v: want cversion+1, numChildren+1, pzxid = %#x, mzxid unchanged", root, rootAfter, created.Czxid)
	}

	// Versions.
	st = mustZK[*zk.Stat](t, "set")(c.Set("/app", []byte("v1"), 0))
	if st.Version != 1 || st.Mzxid <= created.Mzxid || st.Czxid != created.Czxid || st.Mtime < st.Ctime || st.DataLength != 2 {
		t.Fatalf("stat after set: %+v", st)
	}
	_, err = c.Set("/app", []byte("v2"), 0)
	wantZKErr(t, "set with a stale version", err, zk.ErrBadVersion)
	st = mustZK[*zk.Stat](t, "set -1")(c.Set("/app", nil, -1))
	if st.Version != 2 || st.DataLength != 0 {
		t.Fatalf("stat after set -1: %+v", st)
	}
	_, err = c.Set("/missing", nil, -1)
	wantZKErr(t, "set missing", err, zk.ErrNoNode)

	// Errors of create.
	_, err = c.Create("/app", nil, 0, openACL)
	wantZKErr(t, "create existing", err, zk.ErrNodeExists)
	_, err = c.Create("/no/parent", nil, 0, openACL)
	wantZKErr(t, "create without parent", err, zk.ErrNoNode)
	_, err = c.Create("/bad", nil, 0, nil)
	wantZKErr(t, "create with an empty ACL", err, zk.ErrInvalidACL)
	_, err = c.Create("/bad", nil, 0, []zk.ACL{{Perms: zk.PermAll, Scheme: "digest", ID: "nocolon"}})
	wantZKErr(t, "create with a bad digest id", err, zk.ErrInvalidACL)
	_, err = c.Create("/bad", nil, 0, zk.AuthACL(zk.PermAll))
	wantZKErr(t, "create with the auth scheme unauthenticated", err, zk.ErrInvalidACL)

	// Children, in order, with the parent's stat.
	for _, name := range []string{"b", "a", "c"} {
		mustZK[string](t, "create child")(c.Create("/app/"+name, []byte(name), 0, openACL))
	}
	kids, st, err := c.Children("/app")
	if err != nil || !slices.Equal(kids, []string{"a", "b", "c"}) || st.NumChildren != 3 || st.Cversion != 3 {
		t.Fatalf("children = %q %+v %v", kids, st, err)
	}
	_, _, err = c.Children("/missing")
	wantZKErr(t, "children of missing", err, zk.ErrNoNode)
	err = c.Delete("/app", -1)
	wantZKErr(t, "delete with children", err, zk.ErrNotEmpty)
	err = c.Delete("/app/a", 5)
	wantZKErr(t, "delete with a wrong version", err, zk.ErrBadVersion)
	if err := c.Delete("/app/a", 0); err != nil {
		t.Fatal(err)
	}
	err = c.Delete("/app/a", -1)
	wantZKErr(t, "delete twice", err, zk.ErrNoNode)
	_, st, _ = c.Exists("/app")
	if st.Cversion != 4 || st.NumChildren != 2 {
		t.Fatalf("parent after a delete: %+v", st)
	}
	if ok, _, err := c.Exists("/app/a"); ok || err != nil {
		t.Fatalf("exists deleted = %v %v", ok, err)
	}

	// Sequential names come from the parent's cversion.
	p1 := mustZK[string](t, "sequential")(c.Create("/app/seq-", nil, zk.FlagSequence, openACL))
	// The suffix counts the children ever created (a, b, c), deletions
	// aside, as ZooKeeper's does.
	if p1 != "/app/seq-0000000003" {
		t.Fatalf("sequential name %q, want /app/seq-0000000003", p1)
	}
	p2 := mustZK[string](t, "sequential")(c.Create("/app/seq-", nil, zk.FlagSequence, openACL))
	if p2 != "/app/seq-0000000004" {
		t.Fatalf("second sequential name %q", p2)
	}

	// Ephemerals belong to the session and take no children.
	e := mustZK[string](t, "ephemeral")(c.Create("/app/eph", nil, zk.FlagEphemeral, openACL))
	_, st, _ = c.Exists(e)
	if st.EphemeralOwner != c.SessionID() {
		t.Fatalf("ephemeralOwner %#x, session %#x", st.EphemeralOwner, c.SessionID())
	}
	_, err = c.Create("/app/eph/child", nil, 0, openACL)
	wantZKErr(t, "child of an ephemeral", err, zk.ErrNoChildrenForEphemerals)

	// Sync, then another client sees everything.
	if _, err := c.Sync("/app"); err != nil {
		t.Fatal(err)
	}
	other := g.zkClient(t)
	kids, _, _ = other.Children("/app")
	if !slices.Equal(kids, []string{"b", "c", "eph", "seq-0000000003", "seq-0000000004"}) {
		t.Fatalf("other client sees %q", kids)
	}
	// Closing the session deletes its ephemerals.
	c.Close()
	waitFor(t, "ephemeral gone after close", 10*time.Second, func() bool {
		ok, _, err := other.Exists("/app/eph")
		return err == nil && !ok
	})
	if kids, _, _ := other.Children("/"); !slices.Equal(kids, []string{"app", "zookeeper"}) {
		t.Fatalf("root children %q", kids)
	}
}

// TestZKACL: digest identities, NoAuth, setACL versions, getACL hiding
// digests from clients without ADMIN, and the super user.
func TestZKACL(t *testing.T) {
	// super:secret
	g := startGateway(t, "--zk-super-digest", "super:lK75jTNcA+U9vtVEw5vB51mj/w4=")
	owner := g.zkClient(t)
	if err := owner.AddAuth("digest", []byte("alice:pw")); err != nil {
		t.Fatal(err)
	}
	acl := append(zk.DigestACL(zk.PermAll, "alice", "pw"), zk.ACL{Perms: zk.PermRead, Scheme: "world", ID: "anyone"})
	mustZK[string](t, "create")(owner.Create("/secret", []byte("s"), 0, acl))
	mustZK[string](t, "create auth")(owner.Create("/mine", nil, 0, zk.AuthACL(zk.PermAll)))

	stranger := g.zkClient(t)
	if d, _, err := stranger.Get("/secret"); err != nil || string(d) != "s" {
		t.Fatalf("world read: %q %v", d, err)
	}
	_, err := stranger.Set("/secret", []byte("x"), -1)
	wantZKErr(t, "set without WRITE", err, zk.ErrNoAuth)
	_, err = stranger.Create("/secret/child", nil, 0, openACL)
	wantZKErr(t, "create without CREATE", err, zk.ErrNoAuth)
	_, _, err = stranger.Get("/mine")
	wantZKErr(t, "read of an auth-ACL znode", err, zk.ErrNoAuth)

	// getACL: the owner sees the digest, the stranger only the user.
	got, st, err := owner.GetACL("/secret")
	if err != nil || len(got) != 2 || got[0].ID != acl[0].ID || st.Aversion != 0 {
		t.Fatalf("owner getACL = %+v %v", got, err)
	}
	got, _, err = stranger.GetACL("/secret")
	if err != nil || got[0].ID != "alice:x" || got[1].ID != "anyone" {
		t.Fatalf("stranger getACL = %+v %v", got, err)
	}
	// AuthACL expanded to the creator's identity.
	got, _, _ = owner.GetACL("/mine")
	if len(got) != 1 || got[0].Scheme != "digest" || !strings.HasPrefix(got[0].ID, "alice:") {
		t.Fatalf("auth ACL stored as %+v", got)
	}

	// setACL needs ADMIN and checks aversion.
	_, err = stranger.SetACL("/secret", openACL, -1)
	wantZKErr(t, "setACL without ADMIN", err, zk.ErrNoAuth)
	_, err = owner.SetACL("/secret", openACL, 3)
	wantZKErr(t, "setACL with a wrong aversion", err, zk.ErrBadVersion)
	st = mustZK[*zk.Stat](t, "setACL")(owner.SetACL("/secret", openACL, 0))
	if st.Aversion != 1 {
		t.Fatalf("aversion after setACL: %+v", st)
	}
	mustZK[*zk.Stat](t, "set now open")(stranger.Set("/secret", []byte("x"), -1))

	// The super user passes every ACL.
	super := g.zkClient(t)
	if err := super.AddAuth("digest", []byte("super:secret")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := super.Get("/mine"); err != nil {
		t.Fatalf("super read: %v", err)
	}
	if err := super.Delete("/mine", -1); err != nil {
		t.Fatalf("super delete: %v", err)
	}
}

// TestZKMulti: all or nothing, with per-operation results.
func TestZKMulti(t *testing.T) {
	g := startGateway(t)
	c := g.zkClient(t)
	mustZK[string](t, "create")(c.Create("/m", []byte("0"), 0, openACL))
	res, err := c.Multi(
		&zk.CreateRequest{Path: "/m/a", Data: []byte("a"), Acl: openACL},
		&zk.SetDataRequest{Path: "/m", Data: []byte("1"), Version: 0},
		&zk.CheckVersionRequest{Path: "/m", Version: 1},
		&zk.DeleteRequest{Path: "/m/a", Version: 0},
	)
	if err != nil || len(res) != 4 || res[0].String != "/m/a" || res[1].Stat == nil || res[1].Stat.Version != 1 {
		t.Fatalf("multi = %+v, %v", res, err)
	}
	res, err = c.Multi(
		&zk.CreateRequest{Path: "/m/b", Acl: openACL},
		&zk.CheckVersionRequest{Path: "/m", Version: 0},
		&zk.SetDataRequest{Path: "/m", Data: []byte("2"), Version: -1},
	)
	wantZKErr(t, "multi with a failing check", err, zk.ErrBadVersion)
	// After the failing operation: RuntimeInconsistency (-2), as ZooKeeper.
	if len(res) != 3 || res[0].Error != nil || !errors.Is(res[1].Error, zk.ErrBadVersion) || res[2].Error == nil || !strings.HasSuffix(res[2].Error.Error(), "-2") {
		t.Fatalf("failed multi results: %+v", res)
	}
	if ok, _, _ := c.Exists("/m/b"); ok {
		t.Fatal("a failed multi created /m/b")
	}
	if d, st, _ := c.Get("/m"); string(d) != "1" || st.Version != 1 {
		t.Fatalf("a failed multi changed /m: %q %+v", d, st)
	}
}

// TestZKWatches: one-shot data, exists and child watches; the event
// reaches the client before a read that shows the change.
func TestZKWatches(t *testing.T) {
	g := startGateway(t)
	c, other := g.zkClient(t), g.zkClient(t)
	mustZK[string](t, "create")(c.Create("/w", []byte("0"), 0, openACL))

	_, _, dataW, err := c.GetW("/w")
	if err != nil {
		t.Fatal(err)
	}
	_, _, existW, err := c.ExistsW("/w/new")
	if err != nil {
		t.Fatal(err)
	}
	_, _, childW, err := c.ChildrenW("/w")
	if err != nil {
		t.Fatal(err)
	}
	mustZK[*zk.Stat](t, "set")(other.Set("/w", []byte("1"), -1))
	// c reads the new value only after the event came in.
	waitFor(t, "the new value", 10*time.Second, func() bool {
		d, _, err := c.Get("/w")
		return err == nil && string(d) == "1"
	})
	select {
	case e := <-dataW:
		if e.Type != zk.EventNodeDataChanged || e.Path != "/w" {
			t.Fatalf("data watch event %+v", e)
		}
	default:
		t.Fatal("a read showed the change before the watch event")
	}
	mustZK[string](t, "create child")(other.Create("/w/new", nil, 0, openACL))
	for _, w := range []struct {
		ch   <-chan zk.Event
		typ  zk.EventType
		path string
	}{{existW, zk.EventNodeCreated, "/w/new"}, {childW, zk.EventNodeChildrenChanged, "/w"}} {
		select {
		case e := <-w.ch:
			if e.Type != w.typ || e.Path != w.path {
				t.Fatalf("event %+v, want %v on %s", e, w.typ, w.path)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no %v event on %s", w.typ, w.path)
		}
	}
	// Watches set while writes race them: whenever the read that set the
	// watch returned data older than the write, the event comes.
	for i := range 50 {
		v := fmt.Sprint("race", i)
		done := make(chan error, 1)
		go func() {
			_, err := other.Set("/w", []byte(v), -1)
			done <- err
		}()
		d, _, w, err := c.GetW("/w")
		if err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if string(d) != v {
			expectEvent(t, w, zk.EventNodeDataChanged, "/w")
		}
	}
	// One-shot: a second change does not fire the used watches; a new
	// watch fires on delete.
	_, _, dataW2, _ := c.GetW("/w/new")
	if err := other.Delete("/w/new", -1); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-dataW2:
		if e.Type != zk.EventNodeDeleted {
			t.Fatalf("event %+v, want NodeDeleted", e)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no NodeDeleted event")
	}
}

// TestZKLock runs go-zookeeper's Lock recipe with contending clients: the
// critical sections never overlap and every client gets the lock.
func TestZKLock(t *testing.T) {
	g := startGateway(t)
	const clients, rounds = 4, 5
	var holder, most, total int32
	mu := make(chan struct{}, 1)
	done := make(chan error, clients)
	for range clients {
		c := g.zkClient(t)
		go func() {
			l := zk.NewLock(c, "/lock", openACL)
			for range rounds {
				if err := l.Lock(); err != nil {
					done <- err
					return
				}
				mu <- struct{}{}
				holder++
				most = max(most, holder)
				total++
				<-mu
				time.Sleep(time.Millisecond)
				mu <- struct{}{}
				holder--
				<-mu
				if err := l.Unlock(); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range clients {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(60 * time.Second):
			t.Fatal("lock recipe did not finish")
		}
	}
	if most != 1 || total != clients*rounds {
		t.Fatalf("lock held by %d at once, %d acquisitions", most, total)
	}
}

// TestZKContainersAndTTL: an empty container that had children and a TTL
// znode past its time to live are reaped; others stay.
func TestZKContainersAndTTL(t *testing.T) {
	g := startGateway(t, "--zk-container-check-interval", "200ms")
	c := g.zkClient(t)
	mustZK[string](t, "container")(c.CreateContainer("/box", nil, zk.FlagContainer, openACL))
	// Containers and TTL znodes report no owner, as in ZooKeeper.
	_, st, _ := c.Exists("/box")
	if st.EphemeralOwner != 0 {
		t.Fatalf("container ephemeralOwner %#x", st.EphemeralOwner)
	}
	mustZK[string](t, "never-used container")(c.CreateContainer("/unused", nil, zk.FlagContainer, openACL))
	mustZK[string](t, "child")(c.Create("/box/item", nil, 0, openACL))
	mustZK[string](t, "ttl")(c.CreateTTL("/ttl", nil, zk.FlagTTL, openACL, 300*time.Millisecond))
	mustZK[string](t, "ttl with child")(c.CreateTTL("/ttlp", nil, zk.FlagTTL, openACL, 300*time.Millisecond))
	mustZK[string](t, "child of ttl")(c.Create("/ttlp/c", nil, 0, openACL))
	_, st, _ = c.Exists("/ttl")
	if st.EphemeralOwner != 0 {
		t.Fatalf("TTL ephemeralOwner %#x", st.EphemeralOwner)
	}
	if err := c.Delete("/box/item", -1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "container and TTL znode reaped", 20*time.Second, func() bool {
		box, _, _ := c.Exists("/box")
		ttl, _, _ := c.Exists("/ttl")
		return !box && !ttl
	})
	for _, p := range []string{"/unused", "/ttlp"} {
		if ok, _, _ := c.Exists(p); !ok {
			t.Fatalf("%s was reaped", p)
		}
	}
}

// TestZKSessionExpiry: a client that vanishes loses its ephemerals after
// its session timeout, and gets SessionExpired when it comes back.
func TestZKSessionExpiry(t *testing.T) {
	g := startGateway(t, "--zk-tick-time", "250ms")
	p := newProxy(t)
	p.setTarget(g.addr("zookeeper"))
	c, events := zkConnect(t, []string{p.addr()}, time.Second)
	mustZK[string](t, "ephemeral")(c.Create("/eph", nil, zk.FlagEphemeral, openACL))
	watcher := g.zkClient(t)
	_, _, w, err := watcher.ExistsW("/eph")
	if err != nil {
		t.Fatal(err)
	}
	p.set(linkBlackhole)
	select {
	case e := <-w:
		if e.Type != zk.EventNodeDeleted {
			t.Fatalf("event %+v", e)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the ephemeral outlived its session")
	}
	p.set(linkUp)
	deadline := time.After(15 * time.Second)
	for {
		select {
		case e := <-events:
			if e.State == zk.StateExpired {
				return
			}
		case <-deadline:
			t.Fatal("the returning client was not told its session expired")
		}
	}
}

// TestZKFourLetterWords asks every supported four-letter word.
func TestZKFourLetterWords(t *testing.T) {
	g := startGateway(t)
	c := g.zkClient(t)
	mustZK[string](t, "create")(c.Create("/x", nil, 0, openACL))
	addr := g.addr("zookeeper")
	if ok := zk.FLWRuok([]string{addr}, 5*time.Second); !ok[0] {
		t.Fatal("ruok")
	}
	stats, ok := zk.FLWSrvr([]string{addr}, 5*time.Second)
	if !ok || stats[0].Error != nil || stats[0].Mode != zk.ModeStandalone || stats[0].NodeCount != 5 {
		t.Fatalf("srvr = %+v", stats[0])
	}
	for word, want := range map[string]string{
		"stat": "Clients:", "mntr": "zk_znode_count\t5", "cons": "sid=", "conf": "tickTime=2000",
		"envi": "zookeeper.version=", "isro": "rw", "wchs": "Total watches:",
	} {
		out := string(mustZK[[]byte](t, word)(zkserver.FourLetter(addr, word)))
		if !strings.Contains(out, want) {
			t.Fatalf("%s = %q, want it to contain %q", word, out, want)
		}
	}
}

// TestZKRestart: znodes, sequence counters and sessions come back after
// kill -9; a session whose client is gone expires after the restart too.
func TestZKRestart(t *testing.T) {
	g := startGateway(t, "--zk-tick-time", "250ms")
	c, _ := zkConnect(t, []string{g.addr("zookeeper")}, 2*time.Second)
	mustZK[string](t, "create")(c.Create("/keep", []byte("v"), 0, openACL))
	mustZK[string](t, "sequential")(c.Create("/keep/s-", nil, zk.FlagSequence, openACL))
	mustZK[string](t, "ephemeral")(c.Create("/keep/eph", nil, zk.FlagEphemeral, openACL))
	_, before, _ := c.Exists("/keep")
	g.kill()
	g.restart()
	c2 := g.zkClient(t)
	d, st, err := c2.Get("/keep")
	if err != nil || string(d) != "v" || st.Cversion != before.Cversion || st.Pzxid != before.Pzxid {
		t.Fatalf("after restart: %q %+v %v (before %+v)", d, st, err, before)
	}
	if p := mustZK[string](t, "sequential after restart")(c2.Create("/keep/s-", nil, zk.FlagSequence, openACL)); p != "/keep/s-0000000002" {
		t.Fatalf("sequential after restart: %q", p)
	}
	// The first client's session is on its own: its ephemeral goes once it
	// times out (2s), by the log's clock.
	waitFor(t, "the dead session's ephemeral gone", 20*time.Second, func() bool {
		ok, _, err := c2.Exists("/keep/eph")
		return err == nil && !ok
	})
	if st2 := mustZK[*zk.Stat](t, "set")(c2.Set("/keep", []byte("w"), -1)); st2.Mzxid <= before.Mzxid {
		t.Fatalf("zxid went back after restart: %#x <= %#x", st2.Mzxid, before.Mzxid)
	}
}

// TestZKKazooRecipes runs kazoo's recipes (Lock, Election, Counter,
// Queue, LockingQueue, Party, Barrier, DoubleBarrier, Semaphore, watches,
// transactions) with two Debian python3-kazoo clients, on one node and on
// two nodes of a 3-node ensemble; kazoo must log no warning (a dropped
// connection, say).
func TestZKKazooRecipes(t *testing.T) {
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import kazoo").Run(); err != nil {
		t.Skip("python3-kazoo is not installed")
	}
	run := func(t *testing.T, a, b string) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, python, "testdata/drivers/kazoo_recipes.py", a, b).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "ALL OK") {
			t.Fatalf("kazoo recipes: %v\n%s", err, out)
		}
	}
	t.Run("one node", func(t *testing.T) {
		g := startGateway(t)
		run(t, g.addr("zookeeper"), g.addr("zookeeper"))
	})
	t.Run("ensemble", func(t *testing.T) {
		e := startEnsemble(t, 3)
		run(t, e.nodes[0].addr("zookeeper"), e.nodes[2].addr("zookeeper"))
	})
}
