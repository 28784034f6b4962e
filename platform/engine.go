package platform

import (
	"context"
	"errors"

	"hourglass/loglet"
	"hourglass/platform/entrypb"
)

// Position is a global position in the shared log.
type Position = uint64

// Entry is one log entry. Engines own the header named after them; the
// body belongs to the top-layer applicator.
type Entry = entrypb.Entry

// Sentinel errors of the engine stack.
var (
	// ErrStopped: the engine was closed, or its apply loop stopped on a
	// fatal error.
	ErrStopped = errors.New("platform: engine stopped")
	// ErrOutcomeUnknown: a proposal may or may not have been applied (the
	// log could not say, or the caller gave up waiting).
	ErrOutcomeUnknown = errors.New("platform: outcome unknown")
)

// Engine is the downward contract: what a layer offers the layer above it.
// All methods are safe for concurrent use.
type Engine interface {
	// Propose appends e to the log (after every engine below has added its
	// header) and returns what the top layer's Apply returned for it on
	// this node. The engine stack owns e once Propose is called.
	Propose(ctx context.Context, e *Entry) (any, error)
	// Sync waits until this node has applied every entry committed before
	// the call, and returns a view of the applied state. The caller must
	// Close the view.
	Sync(ctx context.Context) (View, error)
	// SetTrimPrefix says that the layer above no longer needs log entries
	// below pos. The log is trimmed once every layer agrees and the applied
	// state covering them is durable.
	SetTrimPrefix(pos Position)
	// RegisterUpcall installs the layer above. It must be called before the
	// stack starts applying.
	RegisterUpcall(a Applicator)
}

// Applicator is the upward contract: what a layer receives at apply.
type Applicator interface {
	// Apply applies e, at log position pos, inside txn, and returns the
	// result for the proposer. It runs on the apply goroutine, once per
	// entry, in log order, and must be deterministic. A non-nil error is
	// fatal: the transaction is discarded and the node stops applying
	// (use results, not errors, for a command's own failures).
	Apply(txn Txn, e *Entry, pos Position) (any, error)
	// PostApply runs after the transaction holding e committed; it may
	// wake waiters or fire notifications but must not write.
	PostApply(e *Entry, pos Position)
}

// Log is what the BaseEngine needs from the shared log; the VirtualLog
// implements it.
type Log interface {
	Append(ctx context.Context, id loglet.AppendID, entries [][]byte) (Position, error)
	CheckTail(ctx context.Context) (Position, error)
	ReadNext(ctx context.Context, from Position, max int) ([][]byte, error)
	PrefixTrim(ctx context.Context, pos Position) error
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
	// DeleteRange deletes the keys in [start, end).
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
