package virtuallog

import (
	"context"
	"errors"
)

// ErrVersionMismatch: a conditional MetaStore write found a version other
// than the expected one. The caller re-reads and decides again.
var ErrVersionMismatch = errors.New("virtuallog: metastore version mismatch")

// MetaStore is a single versioned register with a conditional write. It
// holds the VirtualLog's chain. Implementations are safe for concurrent use
// and durable: a Write that returned nil survives crashes.
type MetaStore interface {
	// Read returns the current value and its version. A register never
	// written has version 0 and a nil value. The caller owns the slice.
	Read(ctx context.Context) (value []byte, version uint64, err error)
	// Write stores value as version expected+1 if the current version is
	// expected, and fails with ErrVersionMismatch otherwise. Of several
	// writers racing from one version, exactly one succeeds.
	Write(ctx context.Context, value []byte, expected uint64) error
}
