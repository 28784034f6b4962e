// Package loglet defines the Loglet contract: one totally ordered, durable,
// sealable log over a contiguous range of positions. The VirtualLog
// (package virtuallog) chains loglets into one shared log; implementations
// live in sub-packages (mem, native, striped over other loglets, zk in
// Apache ZooKeeper). Package loglettest holds the conformance suite every
// implementation runs.
//
// Positions are local to a loglet and start at 0. The tail is the first
// position that is not yet committed; every position below the tail holds
// exactly one committed entry, and nothing at or above it is ever visible to
// a reader.
package loglet

import (
	"context"
	"errors"
	"fmt"
)

// Position is an index into a log. Positions are dense: the entries of a log
// occupy 0, 1, 2, ... with no gaps below the tail.
type Position = uint64

// Sentinel errors. Implementations return these (possibly wrapped); callers
// match them with errors.Is.
var (
	// ErrSealed: the loglet is sealed. An Append that returns ErrSealed did
	// not write its entries. A ReadNext at or beyond the sealed tail returns
	// ErrSealed because no entry will ever be written there.
	ErrSealed = errors.New("loglet: sealed")
	// ErrTrimmed: the requested position lies below the trim point.
	ErrTrimmed = errors.New("loglet: trimmed")
	// ErrUnavailable: the loglet cannot serve the call right now (a
	// sequencer or a quorum of servers is unreachable). The call had no
	// effect; the caller may retry or reconfigure.
	ErrUnavailable = errors.New("loglet: unavailable")
	// ErrOutcomeUnknown: an Append may or may not have been written. A
	// caller that retries with the same AppendID either learns the
	// original position or appends exactly once.
	ErrOutcomeUnknown = errors.New("loglet: outcome unknown")
	// ErrClosed: the loglet handle was closed.
	ErrClosed = errors.New("loglet: closed")
	// ErrStorageFailed: a server's disk failed a write or an fsync (full
	// disk, I/O error). Nothing that write held was acknowledged, and the
	// server takes no more writes until it restarts; it is not retried
	// as if it were a passing unavailability.
	ErrStorageFailed = errors.New("loglet: storage failed")
)

// AppendID identifies one logical append across retries. The zero value
// means "no identity": such appends are never deduplicated. Client should be
// unique per appender process (for example random at start-up) and Seq
// unique per append of that client.
type AppendID struct {
	Client uint64
	Seq    uint64
}

// IsZero reports whether id carries no identity.
func (id AppendID) IsZero() bool { return id == AppendID{} }

// Loglet is the contract every log implementation meets. All methods are
// safe for concurrent use.
type Loglet interface {
	Writer
	Reader
	// Seal makes the loglet refuse every later append, on every replica,
	// and returns the tail at which it froze. Seal is idempotent and
	// sticky: once Seal has returned, no append is ever acknowledged again
	// and CheckTail reports sealed with the same tail.
	Seal(ctx context.Context) (Position, error)
	// PrefixTrim allows the loglet to discard every entry below pos. It is
	// a hint: entries may stay readable for a while. Trimming never moves
	// the tail; trimming beyond the tail trims up to the tail.
	PrefixTrim(ctx context.Context, pos Position) error
	// Close releases the handle. Entries already acknowledged stay durable.
	Close() error
}

// Writer appends to a loglet.
type Writer interface {
	// Append writes entries at consecutive positions and returns the first.
	// When Append returns nil the entries are durable and readable. The
	// loglet keeps its own copy: the caller may reuse the slices afterwards.
	// An Append with a non-zero id that is retried (after
	// ErrOutcomeUnknown, say) with the same id and entries returns the
	// position of the original write rather than writing again, as long as
	// the original is still within the loglet's deduplication window.
	Append(ctx context.Context, id AppendID, entries [][]byte) (Position, error)
}

// Reader reads committed entries.
type Reader interface {
	// CheckTail returns the current tail (the first uncommitted position)
	// and whether the loglet is sealed. Every append acknowledged before
	// CheckTail was called lies below the returned tail.
	CheckTail(ctx context.Context) (tail Position, sealed bool, err error)
	// ReadNext returns up to max committed entries starting at from. It
	// blocks until from is committed, the loglet is sealed with its tail at
	// or below from (ErrSealed), or ctx is done. It returns ErrTrimmed if
	// from lies below the trim point. The returned slices are owned by the
	// caller.
	ReadNext(ctx context.Context, from Position, max int) ([][]byte, error)
}

// HintedReader is an optional ability of a loglet: reading with the
// caller's knowledge of what is committed. The VirtualLog uses it for a
// sealed segment, whose end the chain fixed: every position below it is
// committed, whatever the loglet's servers know.
type HintedReader interface {
	// ReadNextCommitted is ReadNext for a caller that knows every position
	// below committed is committed.
	ReadNextCommitted(ctx context.Context, from Position, max int, committed Position) ([][]byte, error)
}

// OutcomeUnknownError is an ErrOutcomeUnknown that knows where the entries
// would be: the loglet was sealed while they were being replicated, and
// they are in the log exactly if the loglet's final tail (or the segment
// boundary a VirtualLog fixed) lies beyond them. It matches
// ErrOutcomeUnknown with errors.Is.
type OutcomeUnknownError struct {
	// First is the position the append was given; N its number of entries.
	First Position
	N     int
	Cause error
}

func (e *OutcomeUnknownError) Error() string {
	return fmt.Sprintf("loglet: outcome unknown for positions [%d, %d): %v", e.First, e.First+Position(e.N), e.Cause)
}

// Unwrap reports ErrOutcomeUnknown and the cause.
func (e *OutcomeUnknownError) Unwrap() []error { return []error{ErrOutcomeUnknown, e.Cause} }
