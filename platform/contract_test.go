package platform_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"hourglass/platform"
	"hourglass/platform/platformtest"
)

// layer is a middle engine for tests: it passes everything through, and
// at apply runs probe against the transaction it was handed.
type layer struct {
	platform.Layer
	name  string // "" : no namespace
	probe func(platform.Txn) error
}

func newLayer(lower platform.Engine, name string, probe func(platform.Txn) error) *layer {
	l := &layer{Layer: platform.Layer{Lower: lower}, name: name, probe: probe}
	lower.RegisterUpcall(l)
	return l
}

func (l *layer) Propose(ctx context.Context, e *platform.Entry) (platform.Result, error) {
	return l.Lower.Propose(ctx, e)
}

func (l *layer) Apply(txn platform.Txn, e *platform.Entry, at platform.Version) (platform.Result, error) {
	if err := l.probe(txn); err != nil {
		return platform.Result{}, err
	}
	return l.Up.Apply(txn, e, at)
}

// named gives a layer a namespace.
type named struct{ *layer }

func (n named) Name() string { return n.name }

// TestNamespaces: each layer's transaction holds its own namespace only;
// a layer that does not name itself has none; the BaseEngine's digest
// covers what every layer wrote.
func TestNamespaces(t *testing.T) {
	ctx := ctxFor(t)
	db := openStore(t, vfs.NewMem())
	base, err := platform.NewBase(platform.BaseConfig{Log: platformtest.NewMemLog(), Store: db})
	if err != nil {
		t.Fatal(err)
	}
	var statelessErr error
	stateless := newLayer(base, "", func(txn platform.Txn) error {
		_, _, statelessErr = txn.Get([]byte("x"))
		return nil
	})
	probe := &layer{Layer: platform.Layer{Lower: stateless}, name: "probe"}
	probe.probe = func(txn platform.Txn) error {
		// The probe's own key, and an attempt at a personality's key.
		if _, err := incr(txn, "mine"); err != nil {
			return err
		}
		_, ok, err := txn.Get([]byte("p/kv/x"))
		if ok {
			t.Error("an engine read a personality's key")
		}
		return err
	}
	stateless.RegisterUpcall(named{probe})
	router := platform.NewRouter(probe)
	kv := router.Mount("kv")
	kv.RegisterUpcall(&counter{})
	if err := base.Start(); err != nil {
		t.Fatal(err)
	}
	defer base.Close()
	propose(t, ctx, kv, "incr x")
	if !errors.Is(statelessErr, platform.ErrNoNamespace) {
		t.Fatalf("a layer without a name read the store: %v", statelessErr)
	}
	v, err := kv.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if _, ok, _ := v.Get([]byte("mine")); ok {
		t.Fatal("the personality sees the engine's key")
	}
	for key, want := range map[string]uint64{"e/probe/mine": 1, "p/kv/x": 1} {
		b, closer, err := db.Get([]byte(key))
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if got := binary.BigEndian.Uint64(b); got != want {
			t.Fatalf("%s = %d, want %d", key, got, want)
		}
		closer.Close()
	}
}

// TestChecksumDigest: two replicas applying one log hold one digest at
// each position; a replica whose apply wrote something else differs.
func TestChecksumDigest(t *testing.T) {
	ctx := ctxFor(t)
	log := platformtest.NewMemLog()
	a := newStack(t, log, openStore(t, vfs.NewMem()), "kv")
	for range 5 {
		propose(t, ctx, a.mounts["kv"], "incr x")
	}
	b := newStack(t, log, openStore(t, vfs.NewMem()), "kv")
	posA, sumA, err := a.base.Checksum(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	posB, sumB, err := b.base.Checksum(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	if posA != 5 || posB != 5 || !bytes.Equal(sumA, sumB) {
		t.Fatalf("replicas at %d and %d: digests %x and %x", posA, posB, sumA, sumB)
	}
	// A replica that applied the same log with another applicator (a
	// bug, say) holds another digest.
	db := openStore(t, vfs.NewMem())
	base, err := platform.NewBase(platform.BaseConfig{Log: log, Store: db})
	if err != nil {
		t.Fatal(err)
	}
	router := platform.NewRouter(base)
	router.Mount("kv").RegisterUpcall(&counter{})
	router.Mount("extra").RegisterUpcall(&counter{}) // its hook writes too
	if err := base.Start(); err != nil {
		t.Fatal(err)
	}
	defer base.Close()
	pos, sum, err := base.Checksum(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	if pos != 5 || bytes.Equal(sum, sumA) {
		t.Fatalf("a replica that wrote more has the same digest at %d", pos)
	}
}

// TestTrimVotes: the log is trimmed below the lowest vote only.
func TestTrimVotes(t *testing.T) {
	ctx := ctxFor(t)
	log := platformtest.NewMemLog()
	s := newStack(t, log, openStore(t, vfs.NewMem()), "kv")
	for range 20 {
		propose(t, ctx, s.mounts["kv"], "incr a")
	}
	kv := s.mounts["kv"]
	kv.SetTrimPrefix("retain", 15)
	kv.SetTrimPrefix("backup", 8)
	waitTrimmed(t, log, 8)
	kv.SetTrimPrefix("backup", 18)
	waitTrimmed(t, log, 15)
	if _, err := log.ReadNext(ctx, 15, 1); err != nil {
		t.Fatalf("trimmed past the lowest vote: %v", err)
	}
}

// waitTrimmed waits until the log no longer holds position pos-1.
func waitTrimmed(t *testing.T, log *platformtest.MemLog, pos platform.Position) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := log.ReadNext(ctxFor(t), pos-1, 1)
		if errors.Is(err, platform.ErrTrimmed) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("log not trimmed below %d", pos)
		}
		time.Sleep(time.Millisecond)
	}
}
