package metastore

import (
	"cmp"

	pb "hourglass/virtuallog/metastore/metastorepb"
)

// This file holds the Paxos steps as pure functions of state and input: the
// acceptor's transitions on one slot's record, and the proposer's tallies of
// the replies to one round. Acceptor and Replicated are the drivers that
// add disks, sockets and clocks.

// compareBallots orders ballots by (round, proposer, nonce); nil is the
// zero ballot, below every ballot a proposer uses.
func compareBallots(a, b *pb.Ballot) int {
	return cmp.Or(
		cmp.Compare(a.GetRound(), b.GetRound()),
		cmp.Compare(a.GetProposer(), b.GetProposer()),
		cmp.Compare(a.GetNonce(), b.GetNonce()),
	)
}

// sameProposal reports whether a and b are the same write (not merely equal
// values).
func sameProposal(a, b *pb.Proposal) bool {
	return a != nil && b != nil && a.GetWriter() == b.GetWriter() && a.GetSeq() == b.GetSeq()
}

// promise applies Prepare(b) to rec: the acceptor promises b unless it
// promised a higher ballot. changed reports that rec must be persisted
// before the reply.
func promise(rec *pb.SlotRecord, b *pb.Ballot) (ok, changed bool) {
	switch c := compareBallots(b, rec.GetPromised()); {
	case c > 0:
		rec.Promised = b
		return true, true
	case c == 0:
		return true, false
	default:
		return false, false
	}
}

// accept applies Accept(b, p) to rec: the acceptor accepts unless it
// promised a higher ballot. An acceptor that learned the slot's chosen
// proposal refuses any other one; a correct proposer never sends one.
// changed reports that rec must be persisted before the reply.
func accept(rec *pb.SlotRecord, b *pb.Ballot, p *pb.Proposal) (ok, changed bool) {
	if compareBallots(b, rec.GetPromised()) < 0 {
		return false, false
	}
	if rec.GetChosen() && !sameProposal(p, rec.GetAccepted()) {
		return false, false
	}
	rec.Promised, rec.AcceptedBallot, rec.Accepted = b, b, p
	return true, true
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

// quorum is the size of a majority of n acceptors.
func quorum(n int) int { return n/2 + 1 }

// phase1 tallies the replies to one Prepare round for one slot.
type phase1 struct {
	n int
	// promises, rejects and failures count the replies.
	promises, rejects, failures int
	// highest is the accepted proposal with the highest ballot among the
	// promises, and highestBallot its ballot.
	highest       *pb.Proposal
	highestBallot *pb.Ballot
	// chosen is the slot's chosen proposal, if an acceptor knew it.
	chosen *pb.Proposal
	// compacted: an acceptor dropped the slot because a later one was
	// chosen.
	compacted bool
	// maxSlot and chosenSlot are the highest over every reply (promise or
	// not): each is evidence of what was accepted or chosen.
	maxSlot, chosenSlot uint64
	// maxRound is the highest promised round among the rejections.
	maxRound uint64
}

// add counts one reply and reports whether the round is decided: a
// majority promised, the slot is known chosen or compacted, or a majority
// can no longer promise.
func (p *phase1) add(resp *pb.PrepareResponse, err error) (done bool) {
	switch {
	case err != nil:
		p.failures++
	case resp.GetChosen() && resp.GetAccepted() != nil:
		p.chosen = resp.GetAccepted()
	case resp.GetCompacted():
		p.compacted = true
	case resp.GetOk():
		p.promises++
		if a := resp.GetAccepted(); a != nil && (p.highest == nil || compareBallots(resp.GetAcceptedBallot(), p.highestBallot) > 0) {
			p.highest, p.highestBallot = a, resp.GetAcceptedBallot()
		}
	default:
		p.rejects++
		p.maxRound = max(p.maxRound, resp.GetPromised().GetRound())
	}
	if err == nil {
		p.maxSlot = max(p.maxSlot, resp.GetInfo().GetMaxSlot())
		p.chosenSlot = max(p.chosenSlot, resp.GetInfo().GetChosenSlot())
	}
	return p.chosen != nil || p.compacted || p.quorum() || p.rejects+p.failures > p.n-quorum(p.n)
}

// quorum reports whether a majority promised.
func (p *phase1) quorum() bool { return p.promises >= quorum(p.n) }

// phase2 tallies the replies to one Accept round for one slot.
type phase2 struct {
	n                          int
	accepts, rejects, failures int
	compacted                  bool
	maxRound                   uint64
}

// add counts one reply and reports whether the round is decided.
func (p *phase2) add(resp *pb.AcceptResponse, err error) (done bool) {
	switch {
	case err != nil:
		p.failures++
	case resp.GetOk():
		p.accepts++
	case resp.GetCompacted():
		p.compacted = true
	default:
		p.rejects++
		p.maxRound = max(p.maxRound, resp.GetPromised().GetRound())
	}
	return p.compacted || p.chosen() || p.rejects+p.failures > p.n-quorum(p.n)
}

// chosen reports whether a majority accepted: the proposal is chosen.
func (p *phase2) chosen() bool { return p.accepts >= quorum(p.n) }

// status tallies the replies to a Status round.
type status struct {
	n                 int
	replies, failures int
	// maxSlot is the highest slot with an accepted proposal among the
	// replies.
	maxSlot uint64
	// chosenSlot is the highest slot known chosen among the replies, and
	// chosen its proposal.
	chosenSlot uint64
	chosen     *pb.Proposal
}

// add counts one reply and reports whether a majority answered or can no
// longer answer.
func (s *status) add(resp *pb.StatusResponse, err error) (done bool) {
	if err != nil {
		s.failures++
	} else {
		s.replies++
		s.maxSlot = max(s.maxSlot, resp.GetInfo().GetMaxSlot())
		if c := resp.GetInfo().GetChosenSlot(); c > s.chosenSlot && resp.GetChosen() != nil {
			s.chosenSlot, s.chosen = c, resp.GetChosen()
		}
	}
	return s.quorum() || s.failures > s.n-quorum(s.n)
}

// quorum reports whether a majority answered.
func (s *status) quorum() bool { return s.replies >= quorum(s.n) }
