package metastore

import (
	"errors"
	"testing"

	pb "hourglass/virtuallog/metastore/metastorepb"
)

func ballot(round, proposer uint64) *pb.Ballot {
	return &pb.Ballot{Round: round, Proposer: proposer, Nonce: 7}
}

func TestCompareBallots(t *testing.T) {
	for _, tc := range []struct {
		a, b *pb.Ballot
		want int
	}{
		{nil, nil, 0},
		{nil, ballot(1, 1), -1},
		{ballot(1, 1), nil, 1},
		{ballot(2, 1), ballot(1, 9), 1},
		{ballot(1, 2), ballot(1, 3), -1},
		{ballot(1, 2), ballot(1, 2), 0},
		{&pb.Ballot{Round: 1, Proposer: 2, Nonce: 1}, &pb.Ballot{Round: 1, Proposer: 2, Nonce: 2}, -1},
	} {
		if got := compareBallots(tc.a, tc.b); got != tc.want {
			t.Errorf("compareBallots(%v, %v) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestAcceptorSteps(t *testing.T) {
	x := &pb.Proposal{Writer: 1, Seq: 1, Value: []byte("x")}
	y := &pb.Proposal{Writer: 2, Seq: 1, Value: []byte("x")} // equal value, other write
	rec := &pb.SlotRecord{}

	type step struct {
		name           string
		do             func() (ok, changed bool)
		ok, changed    bool
		promised       *pb.Ballot
		accepted       *pb.Proposal
		acceptedBallot *pb.Ballot
	}
	for _, s := range []step{
		{"prepare 2", func() (bool, bool) { return promise(rec, ballot(2, 1)) }, true, true, ballot(2, 1), nil, nil},
		{"prepare 2 again", func() (bool, bool) { return promise(rec, ballot(2, 1)) }, true, false, ballot(2, 1), nil, nil},
		{"prepare 1", func() (bool, bool) { return promise(rec, ballot(1, 5)) }, false, false, ballot(2, 1), nil, nil},
		{"accept 1", func() (bool, bool) { return accept(rec, ballot(1, 5), y) }, false, false, ballot(2, 1), nil, nil},
		{"accept 2", func() (bool, bool) { return accept(rec, ballot(2, 1), x) }, true, true, ballot(2, 1), x, ballot(2, 1)},
		{"accept 3 skipping prepare", func() (bool, bool) { return accept(rec, ballot(3, 2), y) }, true, true, ballot(3, 2), y, ballot(3, 2)},
		{"learn x", func() (bool, bool) { return true, learn(rec, x) }, true, true, ballot(3, 2), x, ballot(3, 2)},
		{"learn again", func() (bool, bool) { return true, learn(rec, x) }, true, false, ballot(3, 2), x, ballot(3, 2)},
		{"accept other after chosen", func() (bool, bool) { return accept(rec, ballot(4, 1), y) }, false, false, ballot(3, 2), x, ballot(3, 2)},
		{"accept chosen after chosen", func() (bool, bool) { return accept(rec, ballot(4, 1), x) }, true, true, ballot(4, 1), x, ballot(4, 1)},
	} {
		ok, changed := s.do()
		if ok != s.ok || changed != s.changed {
			t.Fatalf("%s: ok=%v changed=%v, want %v %v", s.name, ok, changed, s.ok, s.changed)
		}
		sameAccepted := rec.Accepted == nil && s.accepted == nil || sameProposal(rec.Accepted, s.accepted)
		if compareBallots(rec.Promised, s.promised) != 0 || !sameAccepted || compareBallots(rec.AcceptedBallot, s.acceptedBallot) != 0 {
			t.Fatalf("%s: record %v", s.name, rec)
		}
	}
}

// TestPhase1Tally checks what the register's replies add to the shared
// tally (internal/paxos tests the rules themselves): wire promises feed it,
// every reply's slot summary counts, and a chosen or compacted slot ends
// the round at once.
func TestPhase1Tally(t *testing.T) {
	x := &pb.Proposal{Writer: 1, Seq: 1}
	y := &pb.Proposal{Writer: 2, Seq: 1}
	promise := func(b *pb.Ballot, p *pb.Proposal, maxSlot, chosenSlot uint64) *pb.PrepareResponse {
		return &pb.PrepareResponse{Ok: true, AcceptedBallot: b, Accepted: p, Info: &pb.SlotInfo{MaxSlot: maxSlot, ChosenSlot: chosenSlot}}
	}

	p := newPhase1(3)
	if p.add(&pb.PrepareResponse{Promised: ballot(9, 3), Info: &pb.SlotInfo{MaxSlot: 6, ChosenSlot: 5}}, nil) ||
		p.add(promise(ballot(1, 1), x, 4, 3), nil) ||
		!p.add(promise(ballot(2, 1), y, 2, 1), nil) {
		t.Fatal("a rejection and two promises of three do not decide the round")
	}
	if v, adopted := p.Value(); !p.Quorum() || !adopted || v != y || p.MaxRound != 9 {
		t.Fatalf("quorum=%v value=%v adopted=%v maxRound=%d; want the higher ballot's y and round 9", p.Quorum(), v, adopted, p.MaxRound)
	}
	if p.maxSlot != 6 || p.chosenSlot != 5 {
		t.Fatalf("maxSlot=%d chosenSlot=%d; want the rejection's 6 and 5", p.maxSlot, p.chosenSlot)
	}

	p = newPhase1(5)
	if !p.add(&pb.PrepareResponse{Chosen: true, Accepted: x}, nil) || p.chosen != x || p.Quorum() {
		t.Fatalf("a chosen slot does not end the round: %+v", p)
	}
	p = newPhase1(5)
	if !p.add(&pb.PrepareResponse{Compacted: true}, nil) || !p.compacted || p.Quorum() {
		t.Fatalf("a compacted slot does not end the round: %+v", p)
	}
	p = newPhase1(3)
	if p.add(nil, errors.New("down")) || !p.add(nil, errors.New("down")) || p.Quorum() {
		t.Fatalf("two failures of three do not end the round: %+v", p)
	}
}

func TestPhase2AndStatusTally(t *testing.T) {
	p := newPhase2(3)
	if p.add(&pb.AcceptResponse{Ok: true}, nil) || !p.add(&pb.AcceptResponse{Ok: true}, nil) || !p.Chosen() {
		t.Fatal("two of three accepts do not choose")
	}
	p = newPhase2(3)
	if p.add(&pb.AcceptResponse{Promised: ballot(5, 1)}, nil) || !p.add(nil, errors.New("down")) || p.Chosen() || p.MaxRound != 5 {
		t.Fatalf("reject+failure: %+v", p)
	}
	p = newPhase2(5)
	if !p.add(&pb.AcceptResponse{Compacted: true}, nil) || p.Chosen() || !p.compacted {
		t.Fatalf("a compacted slot does not end the round: %+v", p)
	}
	// At base 3, replies that know nothing chosen above it need a
	// majority; a higher chosen slot decides at once.
	s := &status{n: 3, base: 3}
	x := &pb.Proposal{Writer: 1, Seq: 3}
	if s.add(&pb.StatusResponse{Info: &pb.SlotInfo{MaxSlot: 4, ChosenSlot: 3}, Chosen: x}, nil) ||
		!s.add(&pb.StatusResponse{Info: &pb.SlotInfo{MaxSlot: 2, ChosenSlot: 2}, Chosen: &pb.Proposal{}}, nil) {
		t.Fatal("status not done after a majority")
	}
	if !s.quorum() || s.maxSlot != 4 || s.chosen != nil {
		t.Fatalf("status %+v", s)
	}
	s = &status{n: 3, base: 3}
	if !s.add(&pb.StatusResponse{Info: &pb.SlotInfo{MaxSlot: 5, ChosenSlot: 5}, Chosen: x}, nil) || s.quorum() || s.chosenSlot != 5 || s.chosen != x {
		t.Fatalf("a later chosen slot does not end the round: %+v", s)
	}
	s = &status{n: 3}
	if s.add(nil, errors.New("down")) || !s.add(nil, errors.New("down")) || s.quorum() {
		t.Fatalf("two of three down: %+v", s)
	}
}
