package paxos

import (
	"math/rand/v2"
	"testing"
)

func bal(round, proposer uint64) Ballot { return Ballot{Round: round, Proposer: proposer} }

func TestBallotOrder(t *testing.T) {
	for _, tc := range []struct {
		a, b Ballot
		want int
	}{
		{Ballot{}, Ballot{}, 0},
		{Ballot{}, bal(1, 0), -1},
		{bal(2, 1), bal(1, 9), 1},
		{bal(1, 2), bal(1, 3), -1},
		{bal(1, 2), bal(1, 2), 0},
		{Ballot{Round: 1, Proposer: 2, Nonce: 1}, Ballot{Round: 1, Proposer: 2, Nonce: 2}, -1},
		{Ballot{Round: 1, Proposer: 3}, Ballot{Round: 1, Proposer: 2, Nonce: 9}, 1},
	} {
		if got := tc.a.Compare(tc.b); got != tc.want {
			t.Errorf("%v.Compare(%v) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := tc.a.Less(tc.b); got != (tc.want < 0) {
			t.Errorf("%v.Less(%v) = %v", tc.a, tc.b, got)
		}
	}
}

func TestBallotsGoAboveObserved(t *testing.T) {
	g := Ballots{Proposer: 4, Nonce: 9}
	if b := g.Next(); b != (Ballot{Round: 1, Proposer: 4, Nonce: 9}) {
		t.Fatalf("first ballot %v", b)
	}
	g.Observe(7)
	if b := g.Next(); b.Round != 8 {
		t.Fatalf("ballot after observing round 7: %v", b)
	}
	g.Observe(3) // lower rounds change nothing
	if b := g.Next(); b.Round != 9 {
		t.Fatalf("ballot after observing a lower round: %v", b)
	}
}

func TestQuorum(t *testing.T) {
	for n, want := range map[int]int{1: 1, 2: 2, 3: 2, 4: 3, 5: 3} {
		if got := Quorum(n); got != want {
			t.Errorf("Quorum(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestAcceptorSteps(t *testing.T) {
	var a Acceptor[string]
	type step struct {
		name        string
		do          func() (ok, changed bool)
		ok, changed bool
		want        Acceptor[string]
	}
	for _, s := range []step{
		{"prepare 2", func() (bool, bool) { return a.Prepare(bal(2, 1)) }, true, true,
			Acceptor[string]{Promised: bal(2, 1)}},
		{"prepare 2 again", func() (bool, bool) { return a.Prepare(bal(2, 1)) }, true, false,
			Acceptor[string]{Promised: bal(2, 1)}},
		{"prepare 1 refused", func() (bool, bool) { return a.Prepare(bal(1, 5)) }, false, false,
			Acceptor[string]{Promised: bal(2, 1)}},
		{"accept 1 refused", func() (bool, bool) { return a.Accept(bal(1, 5), "y") }, false, false,
			Acceptor[string]{Promised: bal(2, 1)}},
		{"accept 2", func() (bool, bool) { return a.Accept(bal(2, 1), "x") }, true, true,
			Acceptor[string]{Promised: bal(2, 1), Accepted: true, AcceptedBallot: bal(2, 1), Value: "x"}},
		{"accept 3 without its prepare", func() (bool, bool) { return a.Accept(bal(3, 2), "y") }, true, true,
			Acceptor[string]{Promised: bal(3, 2), Accepted: true, AcceptedBallot: bal(3, 2), Value: "y"}},
		{"prepare 4 keeps the accepted value", func() (bool, bool) { return a.Prepare(bal(4, 1)) }, true, true,
			Acceptor[string]{Promised: bal(4, 1), Accepted: true, AcceptedBallot: bal(3, 2), Value: "y"}},
		{"accept 3 after promising 4", func() (bool, bool) { return a.Accept(bal(3, 2), "z") }, false, false,
			Acceptor[string]{Promised: bal(4, 1), Accepted: true, AcceptedBallot: bal(3, 2), Value: "y"}},
	} {
		ok, changed := s.do()
		if ok != s.ok || changed != s.changed || a != s.want {
			t.Fatalf("%s: ok=%v changed=%v state %+v; want %v %v %+v", s.name, ok, changed, a, s.ok, s.changed, s.want)
		}
	}
}

func TestPhase1(t *testing.T) {
	promised := func(b Ballot) Acceptor[string] { return Acceptor[string]{Promised: b} }
	accepted := func(at Ballot, v string) Acceptor[string] {
		return Acceptor[string]{Promised: bal(9, 9), Accepted: true, AcceptedBallot: at, Value: v}
	}
	type reply struct {
		fail bool
		ok   bool
		st   Acceptor[string]
	}
	for _, tc := range []struct {
		name     string
		n        int
		replies  []reply
		done     []bool
		quorum   bool
		value    string
		adopted  bool
		maxRound uint64
	}{
		{"nothing accepted", 3, []reply{{ok: true}, {ok: true}},
			[]bool{false, true}, true, "", false, 0},
		{"highest ballot's value", 5, []reply{{ok: true, st: accepted(bal(1, 1), "x")}, {ok: true, st: accepted(bal(2, 1), "y")}, {ok: true}},
			[]bool{false, false, true}, true, "y", true, 0},
		{"highest ballot's value in any order", 3, []reply{{ok: true, st: accepted(bal(2, 1), "y")}, {ok: true, st: accepted(bal(1, 1), "x")}},
			[]bool{false, true}, true, "y", true, 0},
		{"proposer breaks round ties", 3, []reply{{ok: true, st: accepted(bal(2, 3), "z")}, {ok: true, st: accepted(bal(2, 1), "x")}},
			[]bool{false, true}, true, "z", true, 0},
		{"rejections end the round", 3, []reply{{ok: false, st: promised(bal(9, 3))}, {ok: true}, {fail: true}},
			[]bool{false, false, true}, false, "", false, 9},
		{"failures end the round", 5, []reply{{fail: true}, {fail: true}, {ok: true}, {fail: true}},
			[]bool{false, false, false, true}, false, "", false, 0},
		{"a rejection's value is not adopted", 3, []reply{{ok: false, st: accepted(bal(5, 1), "r")}, {ok: true}, {ok: true}},
			[]bool{false, false, true}, true, "", false, 9},
	} {
		p := Phase1[string]{N: tc.n}
		for i, r := range tc.replies {
			var done bool
			if r.fail {
				done = p.Fail()
			} else {
				done = p.Add(r.ok, r.st)
			}
			if done != tc.done[i] {
				t.Fatalf("%s: reply %d: done=%v", tc.name, i, done)
			}
		}
		v, adopted := p.Value()
		if p.Quorum() != tc.quorum || v != tc.value || adopted != tc.adopted || p.MaxRound != tc.maxRound {
			t.Errorf("%s: quorum=%v value=%q adopted=%v maxRound=%d", tc.name, p.Quorum(), v, adopted, p.MaxRound)
		}
	}
}

func TestPhase2(t *testing.T) {
	p := Phase2{N: 3}
	if p.Add(true, bal(1, 1)) || !p.Add(true, bal(1, 1)) || !p.Chosen() {
		t.Fatalf("two of three accepts do not choose: %+v", p)
	}
	p = Phase2{N: 3}
	if p.Add(false, bal(5, 1)) || !p.Fail() || p.Chosen() || p.MaxRound != 5 {
		t.Fatalf("a rejection and a failure of three: %+v", p)
	}
	p = Phase2{N: 5}
	if p.Add(true, Ballot{}) || p.Fail() || p.Add(true, Ballot{}) || !p.Add(true, Ballot{}) || !p.Chosen() {
		t.Fatalf("three of five accepts do not choose: %+v", p)
	}
}

// TestSafetyUnderInterleaving drives competing proposers through the steps,
// one message at a time in a random order with random losses, and checks
// the Paxos invariant: no two ballots get different values accepted by a
// majority.
func TestSafetyUnderInterleaving(t *testing.T) {
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 1))
		const nAcceptors, nProposers = 5, 3
		acceptors := make([]Acceptor[int], nAcceptors)
		type proposer struct {
			ballots Ballots
			b       Ballot
			phase   int // 1 or 2
			next    int // next acceptor to send to
			p1      Phase1[int]
			p2      Phase2
			value   int
		}
		ps := make([]*proposer, nProposers)
		start := func(p *proposer) {
			p.b, p.phase, p.next = p.ballots.Next(), 1, 0
			p.p1, p.p2 = Phase1[int]{N: nAcceptors}, Phase2{N: nAcceptors}
		}
		for i := range ps {
			ps[i] = &proposer{ballots: Ballots{Proposer: uint64(i + 1)}}
			start(ps[i])
		}
		// votes[b] is the set of acceptors that accepted under b, and
		// valueOf[b] the value; a ballot with a majority chose its value.
		votes := map[Ballot]map[int]bool{}
		valueOf := map[Ballot]int{}
		chosen, anyChosen := 0, false
		for range 2000 {
			p := ps[rng.IntN(nProposers)]
			a := p.next
			p.next++
			lost := rng.IntN(4) == 0
			var done bool
			switch {
			case p.phase == 1 && lost:
				done = p.p1.Fail()
			case p.phase == 1:
				ok, _ := acceptors[a].Prepare(p.b)
				done = p.p1.Add(ok, acceptors[a])
			case lost:
				done = p.p2.Fail()
			default:
				ok, _ := acceptors[a].Accept(p.b, p.value)
				if ok {
					if votes[p.b] == nil {
						votes[p.b] = map[int]bool{}
					}
					votes[p.b][a] = true
					if prev, seen := valueOf[p.b]; seen && prev != p.value {
						t.Fatalf("seed %d: ballot %v carried two values", seed, p.b)
					}
					valueOf[p.b] = p.value
					if len(votes[p.b]) >= Quorum(nAcceptors) {
						if anyChosen && chosen != p.value {
							t.Fatalf("seed %d: %d chosen, then %d under %v", seed, chosen, p.value, p.b)
						}
						chosen, anyChosen = p.value, true
					}
				}
				done = p.p2.Add(ok, acceptors[a].Promised)
			}
			if !done && p.next < nAcceptors {
				continue
			}
			switch {
			case p.phase == 1 && p.p1.Quorum():
				v, adopted := p.p1.Value()
				if !adopted {
					v = int(p.b.Proposer)*1000 + int(p.b.Round)
				}
				p.value, p.phase, p.next = v, 2, 0
			case p.phase == 1:
				p.ballots.Observe(p.p1.MaxRound)
				start(p)
			default:
				if p.p2.Chosen() && (!anyChosen || chosen != p.value) {
					t.Fatalf("seed %d: proposer %d saw %d chosen, tally says %d", seed, p.b.Proposer, p.value, chosen)
				}
				p.ballots.Observe(p.p2.MaxRound)
				start(p)
			}
		}
		if !anyChosen {
			t.Fatalf("seed %d: nothing chosen in 2000 steps", seed)
		}
	}
}
