package metastore_test

import (
	"context"
	"errors"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"hourglass/internal/faultfs"
	"hourglass/internal/pebbledb"
	"hourglass/virtuallog/metastore"
	pb "hourglass/virtuallog/metastore/metastorepb"
)

// TestAcceptorFsyncErrorAnswersNothing: an acceptor whose fsync failed
// does not answer the request whose promise it could not make durable,
// nor any later one, even once the disk works again: its database shows
// the promise, but a restart could take it back. Restarted over what it
// had synced, it answers from its durable state.
func TestAcceptorFsyncErrorAnswersNothing(t *testing.T) {
	ctx := context.Background()
	mem := vfs.NewCrashableMem()
	var fail atomic.Bool
	a, _ := openAcceptor(t, faultfs.FailSync(mem, fail.Load))
	if r, err := a.Prepare(ctx, &pb.PrepareRequest{Slot: 1, Ballot: b(5, 1)}); err != nil || !r.Ok {
		t.Fatalf("Prepare(1, 5) = %v, %v", r, err)
	}
	fail.Store(true)
	if r, err := a.Prepare(ctx, &pb.PrepareRequest{Slot: 1, Ballot: b(7, 1)}); !errors.Is(err, metastore.ErrAcceptorFailed) || !errors.Is(err, syscall.EIO) {
		t.Fatalf("Prepare(1, 7) on a failing disk = %v, %v; want ErrAcceptorFailed with EIO", r, err)
	}
	fail.Store(false)
	if r, err := a.Prepare(ctx, &pb.PrepareRequest{Slot: 1, Ballot: b(6, 2)}); !errors.Is(err, metastore.ErrAcceptorFailed) {
		t.Fatalf("Prepare(1, 6) after the failure = %v, %v; want ErrAcceptorFailed", r, err)
	}
	if r, err := a.Accept(ctx, &pb.AcceptRequest{Slot: 1, Ballot: b(5, 1), Proposal: &pb.Proposal{Writer: 1, Seq: 1, Value: []byte("x")}}); !errors.Is(err, metastore.ErrAcceptorFailed) {
		t.Fatalf("Accept after the failure = %v, %v; want ErrAcceptorFailed", r, err)
	}
	if r, err := a.Status(ctx, &pb.StatusRequest{}); !errors.Is(err, metastore.ErrAcceptorFailed) {
		t.Fatalf("Status after the failure = %v, %v; want ErrAcceptorFailed", r, err)
	}
	// The promise of round 7 was never durable: the restarted acceptor
	// holds round 5 and promises 6.
	a2, _ := openAcceptor(t, mem.CrashClone(vfs.CrashCloneCfg{}))
	r, err := a2.Prepare(ctx, &pb.PrepareRequest{Slot: 1, Ballot: b(6, 2)})
	if err != nil || !r.Ok {
		t.Fatalf("after restart Prepare(1, 6) = %v, %v; want a promise", r, err)
	}
	if r, err := a2.Prepare(ctx, &pb.PrepareRequest{Slot: 1, Ballot: b(4, 2)}); err != nil || r.Ok {
		t.Fatalf("after restart Prepare(1, 4) = %v, %v; want a refusal", r, err)
	}
}

// TestLocalFsyncErrorAnswersNothing: the single-node register whose write
// failed to fsync neither reports the write nor takes another; restarted,
// it holds the last durable chain.
func TestLocalFsyncErrorAnswersNothing(t *testing.T) {
	ctx := context.Background()
	mem := vfs.NewCrashableMem()
	var fail atomic.Bool
	db, err := pebbledb.Open("meta", pebbledb.Options{FS: faultfs.FailSync(mem, fail.Load)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m := metastore.NewLocal(db)
	if err := m.Write(ctx, []byte("v1"), 0); err != nil {
		t.Fatal(err)
	}
	fail.Store(true)
	if err := m.Write(ctx, []byte("v2"), 1); !errors.Is(err, metastore.ErrLocalFailed) || !errors.Is(err, syscall.EIO) {
		t.Fatalf("write on a failing disk: %v, want ErrLocalFailed with EIO", err)
	}
	fail.Store(false)
	if v, ver, err := m.Read(ctx); !errors.Is(err, metastore.ErrLocalFailed) {
		t.Fatalf("read after the failure = %q, %d, %v; want ErrLocalFailed", v, ver, err)
	}
	if err := m.Write(ctx, []byte("v3"), 1); !errors.Is(err, metastore.ErrLocalFailed) {
		t.Fatalf("write after the failure: %v, want ErrLocalFailed", err)
	}
	db2, err := pebbledb.Open("meta", pebbledb.Options{FS: mem.CrashClone(vfs.CrashCloneCfg{})})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if v, ver, err := metastore.NewLocal(db2).Read(ctx); err != nil || string(v) != "v1" || ver != 1 {
		t.Fatalf("after restart Read = %q, %d, %v; want v1 at version 1", v, ver, err)
	}
}
