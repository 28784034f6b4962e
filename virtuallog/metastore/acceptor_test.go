package metastore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"hourglass/internal/pebbledb"
	"hourglass/virtuallog/metastore"
	pb "hourglass/virtuallog/metastore/metastorepb"
)

// openAcceptor opens an Acceptor on the database in fs, closing both at the
// end of the test.
func openAcceptor(t *testing.T, fs vfs.FS) (*metastore.Acceptor, *pebble.DB) {
	t.Helper()
	return openNamedAcceptor(t, fs, "")
}

// openNamedAcceptor opens the acceptor called id on fs, closed with the
// test.
func openNamedAcceptor(t *testing.T, fs vfs.FS, id string) (*metastore.Acceptor, *pebble.DB) {
	t.Helper()
	db, err := pebbledb.Open("meta", pebbledb.Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	a, err := metastore.NewAcceptor(db, id)
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a.Close()
		db.Close()
	})
	return a, db
}

func b(round, proposer uint64) *pb.Ballot { return &pb.Ballot{Round: round, Proposer: proposer} }

func TestAcceptorPromisesSurviveCrash(t *testing.T) {
	ctx := context.Background()
	fs := vfs.NewCrashableMem()
	a, _ := openAcceptor(t, fs)
	x := &pb.Proposal{Writer: 1, Seq: 1, Value: []byte("x")}
	y := &pb.Proposal{Writer: 2, Seq: 1, Value: []byte("y")}

	if r, err := a.Prepare(ctx, &pb.PrepareRequest{Slot: 1, Ballot: b(5, 1)}); err != nil || !r.Ok {
		t.Fatalf("Prepare(1, 5) = %v, %v", r, err)
	}
	if r, err := a.Accept(ctx, &pb.AcceptRequest{Slot: 2, Ballot: b(3, 1), Proposal: x}); err != nil || !r.Ok {
		t.Fatalf("Accept(2, 3) = %v, %v", r, err)
	}

	// Only what was fsynced survives; the acceptor must still honour both.
	fs2 := fs.CrashClone(vfs.CrashCloneCfg{})
	a2, _ := openAcceptor(t, fs2)
	r, err := a2.Prepare(ctx, &pb.PrepareRequest{Slot: 1, Ballot: b(4, 2)})
	if err != nil || r.Ok || r.Promised.GetRound() != 5 {
		t.Fatalf("after crash Prepare(1, 4) = %v, %v; want a refusal citing round 5", r, err)
	}
	if r, err := a2.Accept(ctx, &pb.AcceptRequest{Slot: 1, Ballot: b(4, 2), Proposal: y}); err != nil || r.Ok {
		t.Fatalf("after crash Accept(1, 4) = %v, %v; want a refusal", r, err)
	}
	if r, err := a2.Prepare(ctx, &pb.PrepareRequest{Slot: 2, Ballot: b(2, 2)}); err != nil || r.Ok {
		t.Fatalf("after crash Prepare(2, 2) = %v, %v; want a refusal", r, err)
	}
	r, err = a2.Prepare(ctx, &pb.PrepareRequest{Slot: 2, Ballot: b(6, 2)})
	if err != nil || !r.Ok || string(r.Accepted.GetValue()) != "x" || r.AcceptedBallot.GetRound() != 3 {
		t.Fatalf("after crash Prepare(2, 6) = %v, %v; want a promise reporting x at round 3", r, err)
	}
	st, err := a2.Status(ctx, &pb.StatusRequest{})
	if err != nil || st.Info.GetMaxSlot() != 2 || st.Info.GetChosenSlot() != 0 {
		t.Fatalf("after crash Status = %v, %v", st, err)
	}
	// And the promise at 6 is itself durable.
	a3, _ := openAcceptor(t, fs2.CrashClone(vfs.CrashCloneCfg{}))
	if r, err := a2.Accept(ctx, &pb.AcceptRequest{Slot: 2, Ballot: b(5, 3), Proposal: y}); err != nil || r.Ok {
		t.Fatalf("Accept(2, 5) = %v, %v; want a refusal", r, err)
	}
	if r, err := a3.Accept(ctx, &pb.AcceptRequest{Slot: 2, Ballot: b(5, 3), Proposal: y}); err != nil || r.Ok {
		t.Fatalf("after second crash Accept(2, 5) = %v, %v; want a refusal", r, err)
	}
}

func TestAcceptorCompaction(t *testing.T) {
	ctx := context.Background()
	fs := vfs.NewCrashableMem()
	a, _ := openAcceptor(t, fs)
	const last = 40
	for slot := uint64(1); slot <= last; slot++ {
		p := &pb.Proposal{Writer: 1, Seq: slot, Value: []byte{byte(slot)}}
		if r, err := a.Accept(ctx, &pb.AcceptRequest{Slot: slot, Ballot: b(1, 1), Proposal: p}); err != nil || !r.Ok {
			t.Fatalf("Accept(%d) = %v, %v", slot, r, err)
		}
		if _, err := a.Learn(ctx, &pb.LearnRequest{Slot: slot, Proposal: p}); err != nil {
			t.Fatal(err)
		}
	}
	// A promise far ahead, not yet accepted, is kept.
	if r, err := a.Prepare(ctx, &pb.PrepareRequest{Slot: last + 5, Ballot: b(1, 1)}); err != nil || !r.Ok {
		t.Fatalf("Prepare(%d) = %v, %v", last+5, r, err)
	}
	floor := uint64(last - metastore.RetainedSlots + 1)
	check := func(a *metastore.Acceptor) {
		t.Helper()
		st, err := a.Status(ctx, &pb.StatusRequest{})
		if err != nil || st.Info.GetFloor() != floor || st.Info.GetChosenSlot() != last || st.Info.GetMaxSlot() != last ||
			st.Chosen.GetSeq() != last {
			t.Fatalf("Status = %v, %v; want floor %d, chosen and max %d", st, err, floor, last)
		}
		for _, slot := range []uint64{1, floor - 1} {
			if r, err := a.Prepare(ctx, &pb.PrepareRequest{Slot: slot, Ballot: b(9, 1)}); err != nil || r.Ok || !r.Compacted {
				t.Fatalf("Prepare(%d) = %v, %v; want compacted", slot, r, err)
			}
			if r, err := a.Accept(ctx, &pb.AcceptRequest{Slot: slot, Ballot: b(9, 1), Proposal: &pb.Proposal{}}); err != nil || r.Ok || !r.Compacted {
				t.Fatalf("Accept(%d) = %v, %v; want compacted", slot, r, err)
			}
		}
		for _, slot := range []uint64{floor, last} {
			r, err := a.Prepare(ctx, &pb.PrepareRequest{Slot: slot, Ballot: b(9, 1)})
			if err != nil || !r.Chosen || r.Accepted.GetSeq() != slot {
				t.Fatalf("Prepare(%d) = %v, %v; want the chosen proposal", slot, r, err)
			}
		}
		if r, err := a.Prepare(ctx, &pb.PrepareRequest{Slot: last + 5, Ballot: b(1, 1)}); err != nil || !r.Ok {
			t.Fatalf("Prepare(%d) = %v, %v", last+5, r, err)
		}
	}
	check(a)
	a2, _ := openAcceptor(t, fs.CrashClone(vfs.CrashCloneCfg{}))
	check(a2)
}

func TestAcceptorClosedAndInvalid(t *testing.T) {
	ctx := context.Background()
	a, _ := openAcceptor(t, vfs.NewMem())
	for name, call := range map[string]func() error{
		"slot 0": func() error {
			_, err := a.Prepare(ctx, &pb.PrepareRequest{Slot: 0, Ballot: b(1, 1)})
			return err
		},
		"round 0": func() error {
			_, err := a.Prepare(ctx, &pb.PrepareRequest{Slot: 1, Ballot: b(0, 1)})
			return err
		},
		"no proposal": func() error {
			_, err := a.Accept(ctx, &pb.AcceptRequest{Slot: 1, Ballot: b(1, 1)})
			return err
		},
	} {
		if call() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	a.Close()
	if _, err := a.Status(ctx, &pb.StatusRequest{}); !errors.Is(err, metastore.ErrAcceptorClosed) {
		t.Fatalf("Status after Close = %v", err)
	}
}
