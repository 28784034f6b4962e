package native

import (
	"context"
	"errors"

	"hourglass/loglet"
)

// LogletID names one loglet instance. A LogServer holds the entries of many
// loglets, keyed by id; the VirtualLog allocates a fresh id at every
// reconfiguration.
type LogletID uint64

// ErrGap: a LogServer was asked to store entries beyond its local tail, or
// to finalize a tail it does not hold. The sender resends from the server's
// local tail (reported in the returned Status).
var ErrGap = errors.New("native: gap")

// Status is a LogServer's view of one loglet.
type Status struct {
	// LocalTail is the first position this server does not hold.
	LocalTail loglet.Position
	// Committed is the highest tail the server knows to be committed (held
	// by a majority). Readers of this server see only entries below it.
	Committed loglet.Position
	// Sealed is the sticky seal bit: the server refuses all stores.
	Sealed bool
	// Final reports that the sealed loglet's tail has been fixed at
	// FinalTail; reads at or beyond it return loglet.ErrSealed.
	Final     bool
	FinalTail loglet.Position
	// Trim is the server's trim point.
	Trim loglet.Position
}

// Server is what a loglet client needs from one LogServer: the transport
// seam between the sequencer (and readers, sealers) and the servers. The
// in-process *LogServer implements it directly; a network client
// implements the same interface. All methods are safe for concurrent use.
type Server interface {
	// Store durably writes entries at first, first+1, ... . Entries below
	// the server's local tail are skipped (resends are harmless); a first
	// beyond the local tail fails with ErrGap. A sealed server fails with
	// loglet.ErrSealed and stores nothing.
	Store(ctx context.Context, id LogletID, first loglet.Position, entries [][]byte) (Status, error)
	// Commit tells the server that every position below committed is
	// committed. It is a hint that lets the server serve reads; it needs
	// no fsync.
	Commit(ctx context.Context, id LogletID, committed loglet.Position) error
	// Seal durably sets the sticky seal bit and returns the status after
	// it, whose LocalTail no later store can change.
	Seal(ctx context.Context, id LogletID) (Status, error)
	// SetFinal durably fixes the tail of a sealed loglet; entries the
	// server holds beyond it are discarded. Idempotent for the same tail.
	SetFinal(ctx context.Context, id LogletID, tail loglet.Position) (Status, error)
	// GetStatus returns the server's current view of the loglet.
	GetStatus(ctx context.Context, id LogletID) (Status, error)
	// Read returns up to max committed entries from from, blocking until
	// from is committed, or fails with loglet.ErrSealed (from at or past
	// the final tail) or loglet.ErrTrimmed.
	Read(ctx context.Context, id LogletID, from loglet.Position, max int) ([][]byte, Status, error)
	// Trim discards entries below pos.
	Trim(ctx context.Context, id LogletID, pos loglet.Position) error
}
