package native

import (
	"context"
	"errors"
	"fmt"

	"hourglass/internal/paxos"
	"hourglass/loglet"
)

// LogletID names one loglet instance. A LogServer holds the entries of many
// loglets, keyed by id; the VirtualLog allocates a fresh id at every
// reconfiguration.
type LogletID uint64

// Sentinel errors of the native loglet, beside the loglet package's.
var (
	// ErrQueueFull: the sequencer holds as many uncommitted appends as
	// Config.MaxQueueEntries or MaxQueueBytes allow (typically because
	// no majority of servers answers). The append was not taken; it
	// matches loglet.ErrUnavailable.
	ErrQueueFull = fmt.Errorf("native: sequencer queue full: %w", loglet.ErrUnavailable)
	// ErrAppendExpired: the append's context ended before the sequencer
	// sent it to any server. It left the queue and will never be
	// written: the append failed.
	ErrAppendExpired = errors.New("native: append expired before it was sent")
	// ErrGap: a LogServer was asked to store entries beyond its local
	// tail. The sender resends from the server's local tail (reported in
	// the returned Status).
	ErrGap = errors.New("native: gap")
	// ErrNotHeld: the position is known committed but this server does not
	// hold it (it lags); read it from another server.
	ErrNotHeld = errors.New("native: not held here")
)

// errSealedMidway is the cause of an unknown outcome: the loglet was sealed
// while the append was being replicated.
var errSealedMidway = errors.New("native: sealed while the append was replicated")

// Ballot orders the sealers of one loglet. The final tail of a sealed
// loglet is decided by single-decree Paxos among its LogServers (the
// servers are the acceptors), so that every sealer, and so every reader,
// agrees on it. The zero Ballot is below every sealer's. It is the wire and
// disk form of an internal/paxos ballot whose Proposer is Node (the
// sealer's random id) and whose Nonce is 0.
type Ballot struct {
	Round uint64
	Node  uint64
}

// Less reports whether b orders before c: by Round, then Node.
func (b Ballot) Less(c Ballot) bool { return b.paxos().Less(c.paxos()) }

func (b Ballot) paxos() paxos.Ballot { return paxos.Ballot{Round: b.Round, Proposer: b.Node} }

// ballotFrom is the Ballot of b. REQUIRES: b.Nonce == 0 (a sealer's
// ballots have none).
func ballotFrom(b paxos.Ballot) Ballot { return Ballot{Round: b.Round, Node: b.Proposer} }

// Status is a LogServer's view of one loglet.
type Status struct {
	// LocalTail is the first position this server does not hold.
	LocalTail loglet.Position
	// Committed is the highest tail the server knows to be committed (held
	// by a majority). Readers of this server see only entries below it. It
	// may exceed LocalTail on a server that lags.
	Committed loglet.Position
	// Sealed is the sticky seal bit: the server refuses all stores but
	// repairs.
	Sealed bool
	// Final reports that the sealed loglet's tail was decided (chosen by
	// a majority) at FinalTail: reads below it are served, reads at or
	// beyond it return loglet.ErrSealed.
	Final     bool
	FinalTail loglet.Position
	// Trim is the server's trim point.
	Trim loglet.Position
	// Paxos state for the final tail: the highest ballot promised, and
	// the tail accepted under AcceptedBallot (if Accepted).
	Promised       Ballot
	Accepted       bool
	AcceptedBallot Ballot
	AcceptedTail   loglet.Position
}

// acceptor is the server's state of the Paxos instance that decides the
// final tail.
func (st *Status) acceptor() paxos.Acceptor[loglet.Position] {
	return paxos.Acceptor[loglet.Position]{
		Promised:       st.Promised.paxos(),
		Accepted:       st.Accepted,
		AcceptedBallot: st.AcceptedBallot.paxos(),
		Value:          st.AcceptedTail,
	}
}

// setAcceptor records the server's state of the final tail's instance.
func (st *Status) setAcceptor(a paxos.Acceptor[loglet.Position]) {
	st.Promised = ballotFrom(a.Promised)
	st.Accepted = a.Accepted
	st.AcceptedBallot = ballotFrom(a.AcceptedBallot)
	st.AcceptedTail = a.Value
}

// StoreOptions qualify a Store.
type StoreOptions struct {
	// Committed is the sender's known committed tail.
	Committed loglet.Position
	// Repair lets a sealer store on a sealed server: it copies entries
	// below the tail it is fixing so that a majority holds them.
	Repair bool
}

// ReadOptions qualify a Read.
type ReadOptions struct {
	// Committed is what the reader knows to be committed (from another
	// server, or the chain's boundary of a sealed segment).
	Committed loglet.Position
	// Wait blocks until from is committed, the loglet's final tail makes
	// it unreachable, or ctx ends. Without Wait a read of an uncommitted
	// position returns no entries and no error.
	Wait bool
	// Raw serves what the server holds below Committed without taking
	// Committed as knowledge: a sealer copying entries below a tail that
	// is not decided yet must not teach servers that it is committed.
	Raw bool
}

// Server is what a loglet client needs from one LogServer: the transport
// seam between the sequencer (and readers, sealers) and the servers. The
// in-process *LogServer implements it directly; *Client implements it over
// gRPC. All methods are safe for concurrent use. Every call carries or
// returns committed-tail knowledge, so it spreads with ordinary traffic.
type Server interface {
	// Store durably writes entries at first, first+1, ... . Entries below
	// the server's local tail are skipped (resends are harmless); a first
	// beyond the local tail fails with ErrGap. A sealed server fails with
	// loglet.ErrSealed and stores nothing, unless o.Repair.
	Store(ctx context.Context, id LogletID, first loglet.Position, entries [][]byte, o StoreOptions) (Status, error)
	// Commit tells the server that every position below committed is
	// committed. It is a hint that lets the server serve reads; it needs
	// no fsync.
	Commit(ctx context.Context, id LogletID, committed loglet.Position) (Status, error)
	// Seal durably sets the sticky seal bit and, if b is above the
	// server's promise, promises b (Paxos phase 1). The returned status's
	// LocalTail no later (non-repair) store can change; its Promised tells
	// whether b was promised, and its Accepted* what was accepted before.
	Seal(ctx context.Context, id LogletID, b Ballot) (Status, error)
	// Accept durably accepts tail as the final tail under b (Paxos phase
	// 2) unless a higher ballot was promised (the returned Promised says).
	// It fails with ErrGap if the server does not hold everything below
	// tail: repair it first.
	Accept(ctx context.Context, id LogletID, b Ballot, tail loglet.Position) (Status, error)
	// SetFinal durably records tail as the sealed loglet's decided final
	// tail. Only a sealer whose value a majority accepted may call it.
	SetFinal(ctx context.Context, id LogletID, tail loglet.Position) (Status, error)
	// GetStatus returns the server's current view of the loglet.
	GetStatus(ctx context.Context, id LogletID) (Status, error)
	// Read returns up to max committed entries from from. It fails with
	// loglet.ErrTrimmed below the trim point, ErrNotHeld for a committed
	// position the server lacks, and loglet.ErrSealed at or beyond a final
	// tail. The caller owns the returned slices.
	Read(ctx context.Context, id LogletID, from loglet.Position, max int, o ReadOptions) ([][]byte, Status, error)
	// Trim discards entries below pos.
	Trim(ctx context.Context, id LogletID, pos loglet.Position) error
}

// Appender is a sequencer in another process: appends to a loglet whose
// sequencer runs elsewhere are forwarded to it.
type Appender interface {
	Append(ctx context.Context, id LogletID, aid loglet.AppendID, entries [][]byte) (loglet.Position, error)
	// Committed returns the committed tail the sequencer knows. It fails
	// with loglet.ErrUnavailable if the sequencer cannot be reached.
	Committed(ctx context.Context, id LogletID) (loglet.Position, error)
}
