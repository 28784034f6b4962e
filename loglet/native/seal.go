package native

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"hourglass/internal/paxos"
	"hourglass/loglet"
)

// The seal decides a sealed loglet's final tail by single-decree Paxos,
// with the loglet's servers as acceptors (their state of the instance is
// in Status) and this handle as one proposer among any number. The steps
// are internal/paxos's, the same the MetaStore runs; this file is their
// driver over the Server calls: Seal is phase 1 (and sets the sticky seal
// bit), Accept phase 2, SetFinal teaches the decision.

// Seal implements loglet.Loglet. The final tail is decided by
// single-decree Paxos with the servers as acceptors, so every sealer gets
// the same one: phase 1 seals a majority and promises a fresh ballot; the
// value proposed is the tail accepted under the highest ballot, if any, or
// else the highest local tail among the promisers (every acknowledged
// entry lies below it); the entries below the value are repaired onto the
// promisers so a majority holds them; phase 2 has a majority accept it;
// and every server learns it. A decided tail found on the way is adopted.
// A preempted round is retried after a randomized backoff until ctx ends.
func (l *Loglet) Seal(ctx context.Context) (loglet.Position, error) {
	if l.seq != nil {
		l.seq.seal()
	}
	backoff := time.Millisecond
	for {
		tail, decided, err := l.sealRound(ctx)
		if err != nil || decided {
			return tail, err
		}
		// Another sealer holds a higher ballot: let it finish, then
		// try again (adopting what it decided).
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(backoff + time.Duration(rand.Int64N(int64(backoff)))):
		}
		backoff = min(2*backoff, 100*time.Millisecond)
	}
}

// sealRound runs one Paxos round for the final tail. decided=false means
// the round was preempted by a higher ballot.
func (l *Loglet) sealRound(ctx context.Context) (loglet.Position, bool, error) {
	b := l.nextBallot()
	sts, err := l.quorumCall(ctx, func(ctx context.Context, s Server) (Status, error) { return s.Seal(ctx, l.id, b) })
	if err != nil {
		return 0, false, err
	}
	p1 := paxos.Phase1[loglet.Position]{N: len(l.servers)}
	// held is the highest local tail among the promisers: every
	// acknowledged entry is on a majority, so below it.
	var held loglet.Position
	for _, st := range sts {
		if st.Final {
			return l.learnFinal(ctx, st.FinalTail)
		}
		promised := !b.Less(st.Promised)
		p1.Add(promised, st.acceptor())
		if promised {
			held = max(held, st.LocalTail)
		}
	}
	l.observe(p1.MaxRound)
	if !p1.Quorum() {
		return 0, false, nil
	}
	tail, adopted := p1.Value()
	if !adopted {
		tail = held
	}
	if err := l.repair(ctx, tail); err != nil {
		return 0, false, err
	}
	sts, err = l.quorumCall(ctx, func(ctx context.Context, s Server) (Status, error) {
		st, err := s.Accept(ctx, l.id, b, tail)
		if errors.Is(err, ErrGap) {
			// A server outside the repaired majority: catch it up.
			if err = l.repairServer(ctx, s, tail); err == nil {
				st, err = s.Accept(ctx, l.id, b, tail)
			}
		}
		return st, err
	})
	if err != nil {
		return 0, false, err
	}
	p2 := paxos.Phase2{N: len(l.servers)}
	for _, st := range sts {
		p2.Add(!b.Less(st.Promised), st.Promised.paxos())
	}
	l.observe(p2.MaxRound)
	if !p2.Chosen() {
		return 0, false, nil
	}
	return l.learnFinal(ctx, tail)
}

// learnFinal tells the servers the decided final tail (a majority before
// returning, the rest in the background).
func (l *Loglet) learnFinal(ctx context.Context, tail loglet.Position) (loglet.Position, bool, error) {
	_, err := l.quorumCall(ctx, func(ctx context.Context, s Server) (Status, error) {
		st, err := s.SetFinal(ctx, l.id, tail)
		if errors.Is(err, ErrGap) {
			if err = l.repairServer(ctx, s, tail); err == nil {
				st, err = s.SetFinal(ctx, l.id, tail)
			}
		}
		return st, err
	})
	if err != nil {
		return 0, false, err
	}
	l.learn(tail)
	return tail, true, nil
}

// nextBallot returns a ballot above every ballot this handle has seen.
func (l *Loglet) nextBallot() Ballot {
	l.ballotMu.Lock()
	defer l.ballotMu.Unlock()
	return ballotFrom(l.ballots.Next())
}

// observe raises the next ballot's round above round.
func (l *Loglet) observe(round uint64) {
	l.ballotMu.Lock()
	defer l.ballotMu.Unlock()
	l.ballots.Observe(round)
}

// repair makes sure a majority of servers hold every position below tail.
func (l *Loglet) repair(ctx context.Context, tail loglet.Position) error {
	_, err := l.quorumCall(ctx, func(ctx context.Context, s Server) (Status, error) {
		if err := l.repairServer(ctx, s, tail); err != nil {
			return Status{}, err
		}
		return s.GetStatus(ctx, l.id)
	})
	return err
}

// repairServer copies to s what it lacks below tail, from the other
// servers.
func (l *Loglet) repairServer(ctx context.Context, s Server, tail loglet.Position) error {
	for {
		st, err := s.GetStatus(ctx, l.id)
		if err != nil {
			return err
		}
		from := max(st.LocalTail, st.Trim)
		if from >= tail {
			return nil
		}
		if _, err := l.copyTo(ctx, s, from, tail, StoreOptions{Committed: l.known.Load(), Repair: true}); err != nil {
			return err
		}
	}
}

// copyTo stores on s what the other servers hold from from (below to),
// with o, and returns s's status. If they trimmed from, s skips to their
// trim point instead (see skipTrimmed).
func (l *Loglet) copyTo(ctx context.Context, s Server, from, to loglet.Position, o StoreOptions) (Status, error) {
	entries, err := l.fetch(ctx, s, from, to)
	if errors.Is(err, loglet.ErrTrimmed) {
		var skipped bool
		if skipped, err = l.skipTrimmed(ctx, s, from); skipped {
			return s.GetStatus(ctx, l.id)
		}
	}
	if err != nil {
		return Status{}, err
	}
	return s.Store(ctx, l.id, from, entries, o)
}

// skipTrimmed moves server s, which lacks position from, past what the
// other servers trimmed (it could never fetch it): it tells s that their
// trim point is committed and trims s there, which skips its local tail
// to it. It reports whether s moved past from.
func (l *Loglet) skipTrimmed(ctx context.Context, s Server, from loglet.Position) (bool, error) {
	var trim loglet.Position
	for _, o := range l.servers {
		if o == s {
			continue
		}
		if st, err := o.GetStatus(ctx, l.id); err == nil {
			trim = max(trim, st.Trim)
		}
	}
	if trim <= from {
		return false, nil
	}
	if _, err := s.Commit(ctx, l.id, trim); err != nil {
		return false, err
	}
	if err := s.Trim(ctx, l.id, trim); err != nil {
		return false, err
	}
	l.log.Info("a LogServer that lagged behind the others' trim point skipped to it", "loglet", l.id, "from", from, "to", trim)
	return true, nil
}
