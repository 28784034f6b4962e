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

func TestPhase1Tally(t *testing.T) {
	x := &pb.Proposal{Writer: 1, Seq: 1}
	y := &pb.Proposal{Writer: 2, Seq: 1}
	promise := func(b *pb.Ballot, p *pb.Proposal, maxSlot uint64) *pb.PrepareResponse {
		return &pb.PrepareResponse{Ok: true, AcceptedBallot: b, Accepted: p, Info: &pb.SlotInfo{MaxSlot: maxSlot}}
	}
	reject := &pb.PrepareResponse{Promised: ballot(9, 3), Info: &pb.SlotInfo{MaxSlot: 4}}
	failed := errors.New("down")
	type reply struct {
		resp *pb.PrepareResponse
		err  error
	}
	for _, tc := range []struct {
		name     string
		n        int
		replies  []reply
		done     []bool
		quorum   bool
		highest  *pb.Proposal
		maxRound uint64
		maxSlot  uint64
	}{
		{"empty majority", 3, []reply{{promise(nil, nil, 1), nil}, {promise(nil, nil, 2), nil}},
			[]bool{false, true}, true, nil, 0, 2},
		{"highest ballot wins", 5, []reply{{promise(ballot(1, 1), x, 1), nil}, {promise(ballot(2, 1), y, 1), nil}, {promise(nil, nil, 0), nil}},
			[]bool{false, false, true}, true, y, 0, 1},
		{"highest ballot wins in any order", 3, []reply{{promise(ballot(2, 1), y, 1), nil}, {promise(ballot(1, 1), x, 1), nil}},
			[]bool{false, true}, true, y, 0, 1},
		{"rejections end the round", 3, []reply{{reject, nil}, {promise(nil, nil, 0), nil}, {nil, failed}},
			[]bool{false, false, true}, false, nil, 9, 4},
		{"failures end the round", 5, []reply{{nil, failed}, {nil, failed}, {promise(nil, nil, 0), nil}, {nil, failed}},
			[]bool{false, false, false, true}, false, nil, 0, 0},
		{"chosen decides at once", 5, []reply{{&pb.PrepareResponse{Chosen: true, Accepted: x}, nil}},
			[]bool{true}, false, nil, 0, 0},
		{"compacted decides at once", 5, []reply{{&pb.PrepareResponse{Compacted: true}, nil}},
			[]bool{true}, false, nil, 0, 0},
	} {
		p := newPhase1(tc.n)
		for i, r := range tc.replies {
			if done := p.add(r.resp, r.err); done != tc.done[i] {
				t.Fatalf("%s: reply %d: done=%v", tc.name, i, done)
			}
		}
		highest, _ := p.Value()
		if p.Quorum() != tc.quorum || highest != tc.highest || p.MaxRound != tc.maxRound || p.maxSlot != tc.maxSlot {
			t.Errorf("%s: quorum=%v highest=%v maxRound=%d maxSlot=%d", tc.name, p.Quorum(), highest, p.MaxRound, p.maxSlot)
		}
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
	s := &status{n: 3}
	x := &pb.Proposal{Writer: 1, Seq: 3}
	if s.add(&pb.StatusResponse{Info: &pb.SlotInfo{MaxSlot: 4, ChosenSlot: 3}, Chosen: x}, nil) ||
		!s.add(&pb.StatusResponse{Info: &pb.SlotInfo{MaxSlot: 2, ChosenSlot: 2}, Chosen: &pb.Proposal{}}, nil) {
		t.Fatal("status not done after a majority")
	}
	if !s.quorum() || s.maxSlot != 4 || s.chosenSlot != 3 || s.chosen != x {
		t.Fatalf("status %+v", s)
	}
}
