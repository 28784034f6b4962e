package viewtracking

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"hourglass/engines/timekeeper"
	"hourglass/platform"
	"hourglass/platform/platformtest"
)

var t0 = time.UnixMilli(1_700_000_000_000)

// TestCompute: who is waited for and the trim point, from reports,
// members and the log time.
func TestCompute(t *testing.T) {
	rep := func(node string, durable platform.Position, at time.Duration) Report {
		return Report{Node: node, Applied: durable + 5, Durable: durable, Retention: time.Minute, At: t0.Add(at)}
	}
	withBackup := func(r Report, backup platform.Position) Report {
		r.Backup, r.HasBackup = backup, true
		return r
	}
	for _, tc := range []struct {
		name      string
		reports   []Report
		members   []string
		now       time.Duration
		retention time.Duration
		point     platform.Position
		set       bool
		left      []string
	}{
		{name: "the lowest durable position", reports: []Report{rep("a", 100, 0), rep("b", 40, 0), rep("c", 70, 0)},
			members: []string{"a", "b", "c"}, now: 30 * time.Second, point: 40, set: true},
		{name: "a member silent past the retention is left behind", reports: []Report{rep("a", 100, 2*time.Minute), rep("b", 40, 0), rep("c", 70, 2*time.Minute)},
			members: []string{"a", "b", "c"}, now: 2 * time.Minute, point: 70, set: true, left: []string{"b"}},
		{name: "exactly the retention is still waited for", reports: []Report{rep("a", 100, time.Minute), rep("b", 40, 0)},
			members: []string{"a", "b"}, now: time.Minute, point: 40, set: true},
		{name: "a removed member is not waited for", reports: []Report{rep("a", 100, 0), rep("b", 40, 0)},
			members: []string{"a"}, now: 0, point: 100, set: true},
		{name: "a member that never reported holds the log from 0", reports: []Report{rep("a", 100, 0)},
			members: []string{"a", "n"}, now: 30 * time.Second, point: 0, set: true},
		{name: "until the retention passes after the first report", reports: []Report{rep("a", 100, 0), rep("b", 90, 2*time.Minute)},
			members: []string{"a", "b", "n"}, now: 2 * time.Minute, point: 90, set: true, left: []string{"a", "n"}},
		{name: "no reports at all: held at 0", members: []string{"a"}, point: 0, set: true},
		{name: "a longer announced retention is in force", reports: []Report{rep("a", 100, 2*time.Minute), rep("b", 40, 0)},
			members: []string{"a", "b"}, now: 2 * time.Minute, retention: 3 * time.Minute, point: 40, set: true},
		{name: "a member's backup keeps the log below its durable position", reports: []Report{rep("a", 100, 0), withBackup(rep("b", 90, 0), 30)},
			members: []string{"a", "b"}, now: 0, point: 30, set: true},
		{name: "a backup at position 0 keeps the whole log", reports: []Report{withBackup(rep("a", 100, 0), 0)},
			members: []string{"a"}, now: 0, point: 0, set: true},
		{name: "a backup above every durable position changes nothing", reports: []Report{rep("a", 100, 0), withBackup(rep("b", 90, 0), 95)},
			members: []string{"a", "b"}, now: 0, point: 90, set: true},
		{name: "the backup of a member left behind no longer holds the log", reports: []Report{rep("a", 100, 2*time.Minute), withBackup(rep("b", 90, 0), 10)},
			members: []string{"a", "b"}, now: 2 * time.Minute, point: 100, set: true, left: []string{"b"}},
		{name: "everyone left behind: no point", reports: []Report{rep("a", 100, 0)},
			members: []string{"a"}, now: time.Hour, left: []string{"a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reports := map[string]Report{}
			for _, r := range tc.reports {
				reports[r.Node] = r
			}
			p := Compute(reports, tc.members, t0.Add(tc.now), max(tc.retention, time.Second))
			if p.Point != tc.point || p.Set != tc.set {
				t.Fatalf("point %d (set %v), want %d (set %v)", p.Point, p.Set, tc.point, tc.set)
			}
			var left []string
			for _, m := range p.Members {
				if m.LeftBehind == m.Waited {
					t.Fatalf("%s: waited %v, left behind %v", m.Node, m.Waited, m.LeftBehind)
				}
				if m.LeftBehind {
					left = append(left, m.Node)
				}
			}
			if len(p.Members) != len(tc.members) || len(left) != len(tc.left) {
				t.Fatalf("left behind %v, want %v (members %+v)", left, tc.left, p.Members)
			}
			for i := range left {
				if left[i] != tc.left[i] {
					t.Fatalf("left behind %v, want %v", left, tc.left)
				}
			}
		})
	}
}

// TestReportCodec: a report survives encoding; short input is refused.
func TestReportCodec(t *testing.T) {
	for _, r := range []Report{
		{Node: "n2", Applied: 12, Durable: 10, Retention: 90 * time.Second, At: t0, Pos: 7},
		{Node: "n3", Applied: 12, Durable: 10, Retention: time.Second, At: t0, Pos: 8, Backup: 0, HasBackup: true},
		{Node: "n4", Applied: 12, Durable: 10, Retention: time.Second, At: t0, Pos: 9, Backup: 6, HasBackup: true},
	} {
		got, ok := decodeReport(r.encode())
		if !ok || got != r {
			t.Fatalf("decoded %+v (%v), want %+v", got, ok, r)
		}
	}
	for _, b := range [][]byte{nil, make([]byte, reportSize)} {
		if _, ok := decodeReport(b); ok {
			t.Fatalf("decoded %d bytes", len(b))
		}
	}
}

// node is one replica: a BaseEngine, a timekeeper on a clock the test
// moves, and the engine.
type node struct {
	base  *platform.BaseEngine
	views *Engine
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) get() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type noApp struct{}

func (noApp) Apply(platform.Txn, *platform.Entry, platform.Version) (platform.Result, error) {
	return platform.Result{}, nil
}
func (noApp) PostApply(*platform.Entry, platform.Version) {}

func newNode(t *testing.T, log platform.Log, id string, c *clock, members func() []string) *node {
	t.Helper()
	base := platformtest.NewBaseOn(t, log)
	v := New(timekeeper.New(base, c.get), Config{
		Node:      id,
		Retention: time.Minute,
		Interval:  time.Hour, // the test reports by hand
		Durable:   func() (platform.Position, error) { p := base.Applied(); return p, base.MakeDurable() },
		Applied:   base.Applied,
		Members:   members,
	})
	v.RegisterUpcall(noApp{})
	if err := base.Start(); err != nil {
		t.Fatal(err)
	}
	return &node{base: base, views: v}
}

// sync waits until n applied every entry appended so far.
func (n *node) sync(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := n.views.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
}

func (n *node) member(t *testing.T, id string) MemberView {
	t.Helper()
	for _, m := range n.views.Policy().Members {
		if m.Node == id {
			return m
		}
	}
	t.Fatalf("no member %s in the policy", id)
	return MemberView{}
}

// TestReportsThroughTheLog: reports go through the log and every replica
// records the same ones with the same log time; the vote is the lowest
// durable position; a member silent for longer than the retention, in
// log time, is left behind on every replica; the state is identical.
func TestReportsThroughTheLog(t *testing.T) {
	log := platformtest.NewMemLog()
	c := &clock{now: t0}
	var mu sync.Mutex
	members := []string{"a", "b"}
	list := func() []string { mu.Lock(); defer mu.Unlock(); return members }
	a, b := newNode(t, log, "a", c, list), newNode(t, log, "b", c, list)
	if v := a.base.TrimVotes()[Voter]; v != 0 {
		t.Fatalf("vote before any report: %d", v)
	}
	for range 3 {
		a.views.report()
	}
	b.sync(t)
	b.views.report()
	for range 2 {
		a.views.report()
	}
	a.sync(t)
	b.sync(t)
	ra, rb := a.member(t, "b"), b.member(t, "b")
	if !ra.Reported || ra.Report != rb.Report || ra.At != t0 || rb.Durable != 3 || rb.Pos != 3 {
		t.Fatalf("b's report as a sees it %+v, as b does %+v", ra, rb)
	}
	if pa := a.member(t, "a"); pa.Durable <= rb.Durable || !pa.Waited || !ra.Waited {
		t.Fatalf("a's report %+v, b's %+v", pa, rb)
	}
	a.views.vote()
	if got := a.base.TrimVotes()[Voter]; got != rb.Durable {
		t.Fatalf("a votes %d, want b's durable position %d", got, rb.Durable)
	}

	// b falls silent; a reports on while the log time passes the
	// retention.
	c.add(50 * time.Second)
	a.views.report()
	a.sync(t)
	if m := a.member(t, "b"); !m.Waited {
		t.Fatalf("b left behind within the retention: %+v", m)
	}
	c.add(11 * time.Second)
	a.views.report()
	a.sync(t)
	b.sync(t)
	for _, n := range []*node{a, b} {
		if m := n.member(t, "b"); !m.LeftBehind {
			t.Fatalf("b still waited for after the retention: %+v", m)
		}
	}
	a.views.vote()
	own := a.member(t, "a")
	if got := a.base.TrimVotes()[Voter]; got != own.Durable || got <= rb.Durable {
		t.Fatalf("a votes %d, want its own durable position %d", got, own.Durable)
	}

	// b reports again: waited for again; then it leaves the ensemble.
	b.views.report()
	a.sync(t)
	if m := a.member(t, "b"); !m.Waited {
		t.Fatalf("b reported and is not waited for: %+v", m)
	}
	mu.Lock()
	members = []string{"a"}
	mu.Unlock()
	if p := a.views.Policy(); len(p.Members) != 1 || p.Point != own.Durable {
		t.Fatalf("after b left: %+v", p)
	}

	// Both replicas recorded the same reports at the same positions.
	ctx := context.Background()
	tail, _ := log.CheckTail(ctx)
	pa, sa, err := a.base.Checksum(ctx, tail)
	if err != nil {
		t.Fatal(err)
	}
	pb, sb, err := b.base.Checksum(ctx, tail)
	if err != nil {
		t.Fatal(err)
	}
	if pa != pb || !bytes.Equal(sa, sb) {
		t.Fatalf("replicas differ: %d %x, %d %x", pa, sa, pb, sb)
	}
}

// TestRestartReadsReports: a replica that starts over a store holding
// reports (a restart) sees them once it applies an entry.
func TestRestartReadsReports(t *testing.T) {
	log := platformtest.NewMemLog()
	c := &clock{now: t0}
	a := newNode(t, log, "a", c, nil)
	a.views.report()
	a.sync(t)
	want := a.member(t, "a")
	a.base.Close()
	db := a.base.Store()
	base, err := platform.NewBase(platform.BaseConfig{Log: log, Store: db})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { base.Close() })
	v := New(timekeeper.New(base, c.get), Config{Node: "a", Durable: func() (platform.Position, error) { return 0, nil }, Applied: base.Applied})
	v.RegisterUpcall(noApp{})
	if err := base.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Propose(context.Background(), &platform.Entry{}); err != nil {
		t.Fatal(err)
	}
	if got := (&node{base: base, views: v}).member(t, "a"); got.Report != want.Report {
		t.Fatalf("after restart: %+v, want %+v", got.Report, want.Report)
	}
}
