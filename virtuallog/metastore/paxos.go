package metastore

import (
	"hourglass/internal/paxos"
	pb "hourglass/virtuallog/metastore/metastorepb"
)

// This file adapts the Paxos steps of internal/paxos (pure functions of
// state and input, shared with the native loglet's seal) to the register's
// messages: the acceptor's transitions on one slot's record, and the
// proposer's tallies of the replies to one round, with what the register
// adds (chosen and compacted slots, slot summaries). Acceptor and
// Replicated are the drivers that add disks, sockets and clocks.

// ballotOf converts a wire ballot; nil is the zero ballot, below every
// ballot a proposer uses.
func ballotOf(b *pb.Ballot) paxos.Ballot {
	return paxos.Ballot{Round: b.GetRound(), Proposer: b.GetProposer(), Nonce: b.GetNonce()}
}

// ballotPB converts a ballot to its wire form.
func ballotPB(b paxos.Ballot) *pb.Ballot {
	return &pb.Ballot{Round: b.Round, Proposer: b.Proposer, Nonce: b.Nonce}
}

// compareBallots orders wire ballots as paxos.Ballot.Compare does.
func compareBallots(a, b *pb.Ballot) int { return ballotOf(a).Compare(ballotOf(b)) }

// acceptorState is the Paxos state of one slot as the shared steps see it:
// what was promised, and the accepted proposal if there is one.
func acceptorState(promised, acceptedBallot *pb.Ballot, accepted *pb.Proposal) paxos.Acceptor[*pb.Proposal] {
	return paxos.Acceptor[*pb.Proposal]{
		Promised:       ballotOf(promised),
		Accepted:       accepted != nil,
		AcceptedBallot: ballotOf(acceptedBallot),
		Value:          accepted,
	}
}

// sameProposal reports whether a and b are the same write (not merely equal
// values).
func sameProposal(a, b *pb.Proposal) bool {
	return a != nil && b != nil && a.GetWriter() == b.GetWriter() && a.GetSeq() == b.GetSeq()
}

// promise applies Prepare(b) to rec: the acceptor promises b unless it
// promised a higher ballot. changed reports that rec must be persisted
// before the reply. rec keeps b itself, not a copy.
func promise(rec *pb.SlotRecord, b *pb.Ballot) (ok, changed bool) {
	st := acceptorState(rec.GetPromised(), rec.GetAcceptedBallot(), rec.GetAccepted())
	ok, changed = st.Prepare(ballotOf(b))
	if changed {
		rec.Promised = b
	}
	return ok, changed
}

// accept applies Accept(b, p) to rec: the acceptor accepts unless it
// promised a higher ballot. An acceptor that learned the slot's chosen
// proposal refuses any other one; a correct proposer never sends one.
// changed reports that rec must be persisted before the reply. rec keeps b
// and p themselves, not copies.
func accept(rec *pb.SlotRecord, b *pb.Ballot, p *pb.Proposal) (ok, changed bool) {
	if rec.GetChosen() && !sameProposal(p, rec.GetAccepted()) {
		return false, false
	}
	st := acceptorState(rec.GetPromised(), rec.GetAcceptedBallot(), rec.GetAccepted())
	ok, changed = st.Accept(ballotOf(b), p)
	if changed {
		rec.Promised, rec.AcceptedBallot, rec.Accepted = b, b, p
	}
	return ok, changed
}

// learn records in rec that p was chosen. It reports whether rec changed.
func learn(rec *pb.SlotRecord, p *pb.Proposal) (changed bool) {
	if rec.GetChosen() {
		return false
	}
	rec.Chosen = true
	if !sameProposal(rec.GetAccepted(), p) {
		// Whatever this acceptor accepted was not chosen; the chosen
		// proposal is the only one any proposer may still propose.
		rec.Accepted = p
	}
	return true
}

// phase1 tallies the replies to one Prepare round for one slot: the shared
// tally of promises, plus what the register's replies add.
type phase1 struct {
	paxos.Phase1[*pb.Proposal]
	// chosen is the slot's chosen proposal, if an acceptor knew it.
	chosen *pb.Proposal
	// compacted: an acceptor dropped the slot because a later one was
	// chosen.
	compacted bool
	// maxSlot and chosenSlot are the highest over every reply (promise or
	// not): each is evidence of what was accepted or chosen.
	maxSlot, chosenSlot uint64
}

func newPhase1(n int) *phase1 { return &phase1{Phase1: paxos.Phase1[*pb.Proposal]{N: n}} }

// add counts one reply and reports whether the round is decided: a
// majority promised, the slot is known chosen or compacted, or a majority
// can no longer promise.
func (p *phase1) add(resp *pb.PrepareResponse, err error) (done bool) {
	switch {
	case err != nil, resp.GetSuperseded():
		p.Fail()
	case resp.GetChosen() && resp.GetAccepted() != nil:
		p.chosen = resp.GetAccepted()
	case resp.GetCompacted():
		p.compacted = true
	default:
		p.Add(resp.GetOk(), acceptorState(resp.GetPromised(), resp.GetAcceptedBallot(), resp.GetAccepted()))
	}
	if err == nil {
		p.maxSlot = max(p.maxSlot, resp.GetInfo().GetMaxSlot())
		p.chosenSlot = max(p.chosenSlot, resp.GetInfo().GetChosenSlot())
	}
	return p.chosen != nil || p.compacted || p.Done()
}

// phase2 tallies the replies to one Accept round for one slot.
type phase2 struct {
	paxos.Phase2
	compacted bool
}

func newPhase2(n int) *phase2 { return &phase2{Phase2: paxos.Phase2{N: n}} }

// add counts one reply and reports whether the round is decided.
func (p *phase2) add(resp *pb.AcceptResponse, err error) (done bool) {
	switch {
	case err != nil, resp.GetSuperseded():
		p.Fail()
	case resp.GetCompacted():
		p.compacted = true
	default:
		p.Add(resp.GetOk(), ballotOf(resp.GetPromised()))
	}
	return p.compacted || p.Done()
}

// status tallies the replies to a Status round over the acceptor set
// that decides slot base+1, where base is the highest slot the reader
// knows chosen.
type status struct {
	n                 int
	base              uint64
	replies, failures int
	// maxSlot is the highest slot with an accepted proposal among the
	// replies.
	maxSlot uint64
	// chosenSlot is the highest slot above base known chosen among the
	// replies, and chosen its proposal; one reply is enough to know it.
	chosenSlot uint64
	chosen     *pb.Proposal
}

// add counts one reply and reports whether the round is decided: a
// majority answered or can no longer answer, or a reply showed a slot
// above base chosen.
func (s *status) add(resp *pb.StatusResponse, err error) (done bool) {
	if err != nil {
		s.failures++
	} else {
		s.replies++
		s.maxSlot = max(s.maxSlot, resp.GetInfo().GetMaxSlot())
		if c := resp.GetInfo().GetChosenSlot(); c > max(s.base, s.chosenSlot) && resp.GetChosen() != nil {
			s.chosenSlot, s.chosen = c, resp.GetChosen()
		}
	}
	return s.chosen != nil || s.quorum() || s.failures > s.n-paxos.Quorum(s.n)
}

// quorum reports whether a majority answered.
func (s *status) quorum() bool { return s.replies >= paxos.Quorum(s.n) }
