package virtuallog_test

import (
	"slices"
	"testing"

	"hourglass/virtuallog"
	"hourglass/virtuallog/vlogpb"
)

// TestRehome moves every sealed segment onto loglets of another kind, one
// per call: the chain keeps its segments' bounds, reserves fresh ids
// (a later reconfiguration takes none of them), and readers, a client
// that still holds the old chain among them, read the same entries.
func TestRehome(t *testing.T) {
	ctx := ctxFor(t)
	e := newEnv(t)
	vl := e.open(t)
	fillSegments(t, ctx, vl)
	stale := e.open(t) // reads the chain before the moves
	if got, err := readAll(ctx, stale, 0, 1); err != nil || got[0] != "00" {
		t.Fatalf("before: %q, %v", got, err)
	}
	before, _ := vl.Chain()
	onNative := func(cfg *vlogpb.LogletConfig, _ *vlogpb.Chain) bool { return cfg.Kind == "native" }
	moves := 0
	for {
		moved, err := vl.Rehome(ctx, "mem", onNative)
		if err != nil {
			t.Fatal(err)
		}
		if !moved {
			break
		}
		moves++
	}
	after, _ := vl.Chain()
	if moves != 3 || len(after.Segments) != len(before.Segments) {
		t.Fatalf("%d moves; chain before %v, after %v", moves, before, after)
	}
	var ids []uint64
	for i, s := range after.Segments {
		ids = append(ids, s.Loglet.Id)
		last := i == len(after.Segments)-1
		if s.Start != before.Segments[i].Start || (s.Loglet.Kind == "mem") == last {
			t.Fatalf("segment %d after the moves: %v (before %v)", i, s, before.Segments[i])
		}
	}
	if _, err := vl.Reconfigure(ctx, ""); err != nil {
		t.Fatal(err)
	}
	final, _ := vl.Chain()
	if id := final.Segments[len(final.Segments)-1].Loglet.Id; slices.Contains(ids, id) {
		t.Fatalf("a reconfiguration reused loglet id %d of %v", id, ids)
	}
	want := []string{"00", "01", "02", "03", "10", "11", "12", "13", "20", "21", "22", "23", "last"}
	for name, r := range map[string]*virtuallog.VirtualLog{"the mover": vl, "a client with the old chain": stale, "a new client": e.open(t)} {
		got, err := readAll(ctx, r, 0, 13)
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("%s read %q, %v; want %q", name, got, err, want)
		}
	}
}
