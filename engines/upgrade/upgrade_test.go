package upgrade_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"hourglass/engines/timekeeper"
	"hourglass/engines/upgrade"
	"hourglass/platform"
	"hourglass/platform/platformtest"
)

// topApp is the applicator above the stack: it keeps nothing.
type topApp struct{}

func (topApp) Apply(platform.Txn, *platform.Entry, platform.Version) (platform.Result, error) {
	return platform.Result{}, nil
}

func (topApp) PostApply(*platform.Entry, platform.Version) {}

// replica is one node's stack: base, upgrade, timekeeper.
type replica struct {
	base *platform.BaseEngine
	up   *upgrade.Engine
	tk   *timekeeper.Engine
}

// newReplica starts a node's stack on log that supports time in the
// range given. versioned false leaves the timekeeper at version 1
// whatever is enabled (a build that would diverge).
func newReplica(t *testing.T, log platform.Log, node string, time upgrade.Range, members []string, clock func() time.Time, versioned bool) *replica {
	t.Helper()
	base := platformtest.NewBaseOn(t, log)
	up, err := upgrade.New(base, upgrade.Config{
		Node:      node,
		Supported: upgrade.Supported{"time": time, "kv": {Min: 1, Max: 1}},
		Members:   func() []string { return members },
		View:      base.LocalView,
		Every:     -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	tk := timekeeper.New(up, clock)
	if versioned {
		tk.SetVersion(func() uint32 { return up.Enabled("time") })
	}
	tk.RegisterUpcall(topApp{})
	if err := base.Start(); err != nil {
		t.Fatal(err)
	}
	return &replica{base: base, up: up, tk: tk}
}

// TestEnableTwoPhases: an enable is refused until every member named
// announced the version; once enabled, every replica that can apply it
// switches at the same position and their states stay equal; one that
// cannot stops with ErrUnsupported; one that applied with the old format
// would diverge; and a build without the version refuses to start on the
// state.
func TestEnableTwoPhases(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var mu sync.Mutex
	now := time.UnixMilli(1_000_000)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); now = now.Add(time.Second); return now }
	log := platformtest.NewMemLog()
	members := []string{"a", "b"}
	v12, v1 := upgrade.Range{Min: 1, Max: 2}, upgrade.Range{Min: 1, Max: 1}
	a := newReplica(t, log, "a", v12, members, clock, true)
	bOld := newReplica(t, log, "b", v1, members, clock, true)
	// b restarted as the new build: another replica announcing as b.
	bNew := newReplica(t, log, "b", v12, members, clock, true)
	// A replica that ignores the enabled version, as a wrong build would.
	wrong := newReplica(t, log, "c", v12, members, clock, false)

	for _, r := range []*replica{a, bOld} {
		if err := r.up.Announce(); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.up.Enable("time", 2, members); !errors.Is(err, upgrade.ErrRefused) {
		t.Fatalf("enable while b runs v1 only: %v, want ErrRefused", err)
	}
	sync := func(r *replica) {
		v, err := r.base.Sync(ctx)
		if err != nil {
			t.Fatal(err)
		}
		v.Close()
	}
	sync(a)
	st, err := a.up.Status()
	if err != nil {
		t.Fatal(err)
	}
	if st.Enabled["time"].Version != 1 || len(st.Pending) != 1 || !slices.Equal(st.Pending[0].Missing, []string{"b"}) {
		t.Fatalf("status before b supports v2: enabled %v, pending %+v", st.Enabled, st.Pending)
	}
	if _, err := a.tk.Propose(ctx, &platform.Entry{}); err != nil {
		t.Fatal(err)
	}

	if err := bNew.up.Announce(); err != nil {
		t.Fatal(err)
	}
	sync(a)
	if st, err = a.up.Status(); err != nil || len(st.Pending) != 1 || st.Pending[0].Missing != nil {
		t.Fatalf("status once every member supports v2: %+v, %v", st.Pending, err)
	}
	if err := a.up.Enable("time", 2, members); err != nil {
		t.Fatal(err)
	}
	// A second node's enable of the same version is a no-op.
	if err := bNew.up.Enable("time", 2, members); err != nil {
		t.Fatal(err)
	}
	if _, err := a.tk.Propose(ctx, &platform.Entry{}); err != nil {
		t.Fatal(err)
	}
	tail, _ := log.CheckTail(ctx)

	select {
	case <-bOld.base.Done():
		if err := bOld.base.Err(); !errors.Is(err, upgrade.ErrUnsupported) {
			t.Fatalf("the v1-only replica stopped with %v, want ErrUnsupported", err)
		}
	case <-ctx.Done():
		t.Fatal("the v1-only replica did not stop at the enable")
	}
	sums := map[string][]byte{}
	for name, r := range map[string]*replica{"a": a, "bNew": bNew, "wrong": wrong} {
		applied, sum, err := r.base.Checksum(ctx, tail)
		if err != nil || applied != tail {
			t.Fatalf("checksum of %s: applied %d of %d, %v", name, applied, tail, err)
		}
		sums[name] = sum
	}
	if !bytes.Equal(sums["a"], sums["bNew"]) {
		t.Fatalf("replicas with v2 enabled differ: %x", sums)
	}
	if bytes.Equal(sums["a"], sums["wrong"]) {
		t.Fatal("a replica writing the v1 format after v2 was enabled has the same state: v2 changes nothing")
	}
	sa, _ := a.up.Status()
	sb, _ := bNew.up.Status()
	if sa.Enabled["time"].Version != 2 || sa.Enabled["time"] != sb.Enabled["time"] || len(sa.Pending) != 0 {
		t.Fatalf("enabled: a %+v, b %+v; pending %+v", sa.Enabled["time"], sb.Enabled["time"], sa.Pending)
	}

	// A build without v2 does not start on this state.
	_, err = upgrade.New(a.base, upgrade.Config{
		Node:      "a",
		Supported: upgrade.Supported{"time": v1},
		Members:   func() []string { return members },
		View:      a.base.LocalView,
	})
	if !errors.Is(err, upgrade.ErrUnsupported) {
		t.Fatalf("a v1-only build on a v2 state: %v, want ErrUnsupported", err)
	}
}

// TestMalformedHeader: bytes that are no announcement or enable are
// refused at apply, and the replica goes on.
func TestMalformedHeader(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	log := platformtest.NewMemLog()
	r := newReplica(t, log, "a", upgrade.Range{Min: 1, Max: 1}, []string{"a"}, nil, true)
	for _, h := range [][]byte{{9}, {1}, {1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, {2, 1, 'x', 2, 0xff, 0xff, 0xff, 0x7f}, {1, 1, 'a', 0, 7}} {
		e := &platform.Entry{}
		platform.SetHeader(e, upgrade.Header, h)
		res, err := r.tk.Propose(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		if !errors.Is(res.Err, upgrade.ErrMalformed) {
			t.Fatalf("header %x: %v, want ErrMalformed", h, res.Err)
		}
	}
	if err := r.up.Announce(); err != nil {
		t.Fatal(err)
	}
}
