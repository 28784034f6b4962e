// Package paxos holds the steps of single-decree Paxos as pure functions of
// state and input: ballots and their order, the acceptor's promise and
// accept rules, and the proposer's tallies of one round's replies,
// including the choice of the value to propose from the promises. It does
// no IO and keeps no clocks; the drivers add their own transport and
// storage around it:
//
//   - virtuallog/metastore runs one instance per version of the replicated
//     register; its acceptors persist a record per slot in Pebble and
//     answer over the Acceptor gRPC service;
//   - loglet/native runs one instance per sealed loglet to decide its final
//     tail; the LogServers are the acceptors and keep the instance's state
//     in the loglet's meta record.
//
// A proposer round, in the order a driver runs it:
//
//	var ballots paxos.Ballots // one per proposer, under the driver's lock
//	ballots.Proposer = myID
//	b := ballots.Next()
//	p1 := paxos.Phase1[V]{N: len(acceptors)}
//	// send Prepare(b) to every acceptor; for each reply:
//	//   acceptor side:  ok, changed := state.Prepare(b) (persist if changed)
//	//   proposer side:  p1.Add(ok, state) or p1.Fail(), until p1.Done()
//	ballots.Observe(p1.MaxRound)
//	if !p1.Quorum() { retry later }
//	v, adopted := p1.Value() // if !adopted the proposer picks its own
//	p2 := paxos.Phase2{N: len(acceptors)}
//	// send Accept(b, v); acceptor side: state.Accept(b, v);
//	// proposer side: p2.Add(ok, promised) or p2.Fail(), until p2.Done()
//	if p2.Chosen() { v is chosen: tell the learners }
//
// Nothing in the package is safe for concurrent use; each value belongs to
// one goroutine or is guarded by the driver's lock.
package paxos

import "cmp"

// Ballot orders the proposals of one instance: by Round, then Proposer,
// then Nonce. The zero Ballot is below every ballot a proposer uses (their
// rounds start at 1).
type Ballot struct {
	// Round grows with every attempt of a proposer.
	Round uint64
	// Proposer tells proposers apart; Nonce tells apart two proposers that
	// share a Proposer (a driver that has unique proposer ids leaves it 0).
	Proposer uint64
	Nonce    uint64
}

// Compare returns -1, 0 or +1 as b orders before, with, or after c.
func (b Ballot) Compare(c Ballot) int {
	return cmp.Or(
		cmp.Compare(b.Round, c.Round),
		cmp.Compare(b.Proposer, c.Proposer),
		cmp.Compare(b.Nonce, c.Nonce),
	)
}

// Less reports whether b orders before c.
func (b Ballot) Less(c Ballot) bool { return b.Compare(c) < 0 }

// Ballots issues one proposer's ballots: each above every ballot it issued
// and every round it observed. The zero value issues ballots for Proposer
// 0, Nonce 0; set them before the first Next.
type Ballots struct {
	Proposer, Nonce uint64
	round           uint64
}

// Next returns a ballot above every ballot g issued and above every round
// passed to Observe.
func (g *Ballots) Next() Ballot {
	g.round++
	return Ballot{Round: g.round, Proposer: g.Proposer, Nonce: g.Nonce}
}

// Observe records that some proposer used round, so that the next ballot
// goes above it.
func (g *Ballots) Observe(round uint64) { g.round = max(g.round, round) }

// Quorum is the size of a majority of n acceptors.
func Quorum(n int) int { return n/2 + 1 }

// Acceptor is one acceptor's state of one instance: the highest ballot it
// promised, and the value it accepted last (with the ballot it accepted it
// under) if Accepted. The zero value is a fresh instance. A driver that
// keeps the state in its own record converts to and from this form around
// each step, and persists the record before replying whenever the step
// reports it changed.
type Acceptor[V any] struct {
	Promised       Ballot
	Accepted       bool
	AcceptedBallot Ballot
	Value          V
}

// Prepare is the acceptor's phase 1: it promises b unless it promised a
// higher ballot. A repeated Prepare of the promised ballot is promised
// again without a change.
func (a *Acceptor[V]) Prepare(b Ballot) (ok, changed bool) {
	switch c := b.Compare(a.Promised); {
	case c > 0:
		a.Promised = b
		return true, true
	case c == 0:
		return true, false
	default:
		return false, false
	}
}

// CanAccept reports whether Accept(b, v) would accept: b is not below the
// promise. A driver with preconditions of its own on v checks them between
// CanAccept and Accept.
func (a *Acceptor[V]) CanAccept(b Ballot) bool { return !b.Less(a.Promised) }

// Accept is the acceptor's phase 2: it accepts v under b, which also
// promises b, unless it promised a higher ballot. An accept always changes
// the state.
func (a *Acceptor[V]) Accept(b Ballot, v V) (ok, changed bool) {
	if !a.CanAccept(b) {
		return false, false
	}
	a.Promised, a.Accepted, a.AcceptedBallot, a.Value = b, true, b, v
	return true, true
}

// Phase1 tallies the replies to one Prepare round sent to N acceptors.
type Phase1[V any] struct {
	N int
	// Promises, Rejects and Failures count the replies (a failure is a
	// call that got no answer).
	Promises, Rejects, Failures int
	// MaxRound is the highest round promised among the rejections: the
	// proposer's next ballot must go above it.
	MaxRound uint64

	// highest is the highest ballot among the promisers' acceptances, and
	// highestValue the value accepted under it (if adopted).
	highest      Ballot
	highestValue V
	adopted      bool
}

// Add counts one acceptor's reply: ok says whether it promised the
// round's ballot, and st is its state after the Prepare. It reports
// whether the round is decided (see Done).
func (p *Phase1[V]) Add(ok bool, st Acceptor[V]) (done bool) {
	switch {
	case !ok:
		p.Rejects++
		p.MaxRound = max(p.MaxRound, st.Promised.Round)
	default:
		p.Promises++
		if st.Accepted && (!p.adopted || p.highest.Less(st.AcceptedBallot)) {
			p.highest, p.highestValue, p.adopted = st.AcceptedBallot, st.Value, true
		}
	}
	return p.Done()
}

// Fail counts an acceptor that did not answer. It reports whether the
// round is decided (see Done).
func (p *Phase1[V]) Fail() (done bool) {
	p.Failures++
	return p.Done()
}

// Quorum reports whether a majority promised.
func (p *Phase1[V]) Quorum() bool { return p.Promises >= Quorum(p.N) }

// Done reports whether the round is decided: a majority promised, or so
// many refused or failed that a majority no longer can.
func (p *Phase1[V]) Done() bool {
	return p.Quorum() || p.Rejects+p.Failures > p.N-Quorum(p.N)
}

// Value returns the value the proposer must propose in phase 2: the one
// accepted under the highest ballot among the promises (adopted=true).
// With adopted=false no promiser accepted anything and the proposer is
// free to propose its own value. REQUIRES: Quorum().
func (p *Phase1[V]) Value() (v V, adopted bool) { return p.highestValue, p.adopted }

// Phase2 tallies the replies to one Accept round sent to N acceptors.
type Phase2 struct {
	N                          int
	Accepts, Rejects, Failures int
	// MaxRound is the highest round promised among the rejections.
	MaxRound uint64
}

// Add counts one acceptor's reply: ok says whether it accepted, and
// promised is its promise after the Accept. It reports whether the round
// is decided (see Done).
func (p *Phase2) Add(ok bool, promised Ballot) (done bool) {
	if ok {
		p.Accepts++
	} else {
		p.Rejects++
		p.MaxRound = max(p.MaxRound, promised.Round)
	}
	return p.Done()
}

// Fail counts an acceptor that did not answer. It reports whether the
// round is decided.
func (p *Phase2) Fail() (done bool) {
	p.Failures++
	return p.Done()
}

// Chosen reports whether a majority accepted: the value is chosen.
func (p *Phase2) Chosen() bool { return p.Accepts >= Quorum(p.N) }

// Done reports whether the round is decided: the value is chosen, or so
// many refused or failed that a majority can no longer accept.
func (p *Phase2) Done() bool {
	return p.Chosen() || p.Rejects+p.Failures > p.N-Quorum(p.N)
}
