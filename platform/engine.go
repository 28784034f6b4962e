package platform

import (
	"context"
	"errors"

	"hourglass/platform/entrypb"
)

// Position is a global position in the shared log.
type Position = uint64

// Entry is one log entry, or one proposal inside a batched entry. Engines
// own the header named after them; the body belongs to the top-layer
// applicator; Batch holds the proposals of a batched entry (see
// engines/batching).
type Entry = entrypb.Entry

// Version names one transaction of the log: the position of its entry and
// its place within the entry. A batched entry's proposals apply at Sub 0,
// 1, ...; the per-entry hook (EntryApplicator) runs after them, at the
// Sub that follows the last.
type Version struct {
	Pos Position
	Sub uint32
}

// MaxSub bounds Version.Sub: an entry holds fewer transactions than this.
const MaxSub = 1 << 20

// Packed returns v as one number, (Pos+1)<<20 | Sub: never 0, and
// strictly increasing along the log (for record versions, zxids).
// REQUIRES: v.Sub < MaxSub.
func (v Version) Packed() uint64 { return (v.Pos+1)<<20 | uint64(v.Sub) }

// Result is what applying a proposal gives its proposer.
type Result struct {
	// Value is what the top-layer applicator returned: its reply, its
	// command's own failure included. Only that applicator reads it.
	Value any
	// Err is set when a layer refused the proposal at apply (a stale
	// session, an unknown route, an undecodable batch): nothing above that
	// layer ran. Every replica reaches the same verdict.
	Err error
}

// Sentinel errors of the engine stack. A Log reports its failures with
// these too, so that nothing above the waist looks below it.
var (
	// ErrStopped: the engine was closed, or its apply loop stopped on a
	// fatal error.
	ErrStopped = errors.New("platform: engine stopped")
	// ErrOutcomeUnknown: a proposal may or may not have been applied (the
	// log could not say, or the caller gave up waiting).
	ErrOutcomeUnknown = errors.New("platform: outcome unknown")
	// ErrUnavailable: the log cannot take appends now (no majority, no
	// sequencer); nothing was appended.
	ErrUnavailable = errors.New("platform: log unavailable")
	// ErrTrimmed: the log no longer holds the position asked for.
	ErrTrimmed = errors.New("platform: log trimmed")
	// ErrStorageFailed: the log's storage failed a write or an fsync
	// (too many of its servers' disks did) and takes no appends until
	// they restart. Nothing was acknowledged; a proposal whose error also
	// matches ErrOutcomeUnknown may still turn up in the log.
	ErrStorageFailed = errors.New("platform: log storage failed")
	// ErrDiskFull: ErrStorageFailed because a disk is full. An error that
	// matches it matches ErrStorageFailed too.
	ErrDiskFull = errors.New("platform: disk full")
	// ErrNoNamespace: a layer that keeps no state (it does not name
	// itself, see Named) read or wrote the store.
	ErrNoNamespace = errors.New("platform: layer has no namespace")
)

// Engine is the downward contract: what a layer offers the layer above it.
// All methods are safe for concurrent use.
type Engine interface {
	// Propose appends e to the log (after every engine below has added its
	// header) and returns what applying it gave on this node. The error
	// is non-nil only when the stack could not learn the outcome
	// (ErrOutcomeUnknown), refused e before the log (ErrUnavailable), or
	// stopped (ErrStopped); a refusal at apply is Result.Err. The engine
	// stack owns e once Propose is called.
	Propose(ctx context.Context, e *Entry) (Result, error)
	// Sync waits until this node has applied every entry committed before
	// the call, and returns a view of the applied state. The caller must
	// Close the view.
	Sync(ctx context.Context) (View, error)
	// SetTrimPrefix records voter's vote that, as far as it is concerned,
	// the log below pos may be trimmed. Every layer passes its uppers'
	// votes down and may vote itself; the log is trimmed below the lowest
	// vote of all voters, and never below the applied state made durable.
	// A voter that never voted does not hold trimming back: one that needs
	// the log kept from the start votes 0 before the stack starts.
	SetTrimPrefix(voter string, pos Position)
	// RegisterUpcall installs the layer above. It must be called before the
	// stack starts applying.
	RegisterUpcall(a Applicator)
}

// Applicator is the upward contract: what a layer receives at apply.
type Applicator interface {
	// Apply applies e, the transaction at, inside txn, and returns the
	// result for its proposer. txn holds the layer's own namespace only
	// (see Upcall). It runs on the apply goroutine, in log order, and must
	// be deterministic. A non-nil error is fatal: the entry's transaction
	// is discarded and the node stops applying (use Result.Value for a
	// command's own failures, Result.Err for a refusal).
	Apply(txn Txn, e *Entry, at Version) (Result, error)
	// PostApply runs, for each proposal applied, after the transaction
	// holding it committed and before the entry counts as applied (a
	// Sync cannot see it yet) and its proposer hears the result: what it
	// delivers comes before any read of the entry or its acknowledgment.
	// It may wake waiters or fire notifications but must not write, nor
	// wait for the entry to be applied.
	PostApply(e *Entry, at Version)
}

// EntryApplicator is an Applicator that also wants to act once per log
// entry, whatever the entry holds: expiry, reaping, session ticks, work
// tied to log time. ApplyEntry runs after the entry's proposals applied,
// in the same transaction, with at.Sub the first sub-position they left
// free; e is the entry itself (its headers, as the layers below annotate
// them: the timekeeper's time is the log time after the entry), never a
// proposal. The same rules as Apply hold. Middle layers forward it to an
// upper that implements it (Upcall does).
type EntryApplicator interface {
	ApplyEntry(txn Txn, e *Entry, at Version) error
	// PostApplyEntry runs after the entry's transaction committed, after
	// the PostApply of each of its proposals.
	PostApplyEntry(e *Entry, at Version)
}

// Named is an Applicator that keeps state: its Name ("time",
// "sessionorder", ...) gives it the namespace "e/<name>/" in the
// LocalStore. A layer that does not name itself gets no namespace.
type Named interface {
	Name() string
}

// Log is what the BaseEngine needs from the shared log; the node adapts
// the VirtualLog to it. Errors are this package's sentinels (ErrTrimmed,
// ErrUnavailable, ErrOutcomeUnknown), possibly wrapping the log's own.
type Log interface {
	// Append appends entries; id makes a retry idempotent.
	Append(ctx context.Context, id AppendID, entries [][]byte) (Position, error)
	CheckTail(ctx context.Context) (Position, error)
	ReadNext(ctx context.Context, from Position, max int) ([][]byte, error)
	PrefixTrim(ctx context.Context, pos Position) error
}

// AppendID names an append for idempotent retries: a proposer
// incarnation and a sequence number within it.
type AppendID struct {
	Client, Seq uint64
}

// Reader reads LocalStore state.
type Reader interface {
	// Get returns a copy of key's value, and false if key is absent.
	Get(key []byte) ([]byte, bool, error)
	// NewIter iterates over the keys in [lower, upper) in order; a nil
	// upper means no bound. The caller must Close it.
	NewIter(lower, upper []byte) (Iterator, error)
}

// Iterator walks keys in order. Key and Value are valid until the next
// move; copy them to keep them.
type Iterator interface {
	First() bool
	Last() bool
	SeekGE(key []byte) bool
	SeekLT(key []byte) bool
	Next() bool
	Prev() bool
	Valid() bool
	Key() []byte
	Value() []byte
	Error() error
	Close() error
}

// Writer changes LocalStore state.
type Writer interface {
	Set(key, value []byte) error
	Delete(key []byte) error
	// DeleteRange deletes the keys in [start, end); a nil end means the
	// end of the namespace.
	DeleteRange(start, end []byte) error
}

// Txn is the read-write transaction Apply runs in: reads see the
// transaction's own writes.
type Txn interface {
	Reader
	Writer
}

// View is a consistent read-only snapshot of applied state.
type View interface {
	Reader
	// Applied is the first position the view does not reflect.
	Applied() Position
	Close() error
}
