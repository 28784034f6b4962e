package native

import (
	"testing"

	"hourglass/internal/paxos"
	"hourglass/loglet"
)

func TestBallotOrder(t *testing.T) {
	for _, tc := range []struct {
		a, b Ballot
		less bool
	}{
		{Ballot{}, Ballot{Round: 1}, true},
		{Ballot{Round: 1, Node: 9}, Ballot{Round: 2, Node: 1}, true},
		{Ballot{Round: 2, Node: 1}, Ballot{Round: 2, Node: 3}, true},
		{Ballot{Round: 2, Node: 3}, Ballot{Round: 2, Node: 3}, false},
		{Ballot{Round: 3}, Ballot{Round: 2, Node: 9}, false},
	} {
		if got := tc.a.Less(tc.b); got != tc.less {
			t.Errorf("%v.Less(%v) = %v", tc.a, tc.b, got)
		}
	}
}

// TestStatusAcceptor: a LogServer's Status carries the final tail's Paxos
// state, and the shared steps change only that part of it.
func TestStatusAcceptor(t *testing.T) {
	st := Status{LocalTail: 7, Committed: 5, Sealed: true, Trim: 2, Promised: Ballot{Round: 3, Node: 4}}
	acc := st.acceptor()
	if ok, _ := acc.Prepare(paxos.Ballot{Round: 2, Proposer: 9}); ok {
		t.Fatal("a lower ballot was promised")
	}
	if ok, changed := acc.Accept(paxos.Ballot{Round: 3, Proposer: 4}, loglet.Position(6)); !ok || !changed {
		t.Fatal("the promised ballot's accept was refused")
	}
	st.setAcceptor(acc)
	want := Status{LocalTail: 7, Committed: 5, Sealed: true, Trim: 2,
		Promised: Ballot{Round: 3, Node: 4}, Accepted: true, AcceptedBallot: Ballot{Round: 3, Node: 4}, AcceptedTail: 6}
	if st != want {
		t.Fatalf("status %+v, want %+v", st, want)
	}
	if st.acceptor() != acc {
		t.Fatalf("round trip %+v, want %+v", st.acceptor(), acc)
	}
}
