package pebbledb

import (
	"errors"
	"fmt"
)

// ErrFailed means a write or an fsync of a Pebble database failed. Pebble
// keeps its write-ahead log's first error and never retries it, so the
// database takes no more writes: it must be closed and opened again (which
// recovers only what was synced), as Postgres restarts after an fsync
// error rather than retry the fsync and believe it.
var ErrFailed = errors.New("pebbledb: write failed")

// fatalError is the panic value of Pebble's fatal log lines (see
// slogAdapter.Fatalf): the message, and the first error among its
// arguments.
type fatalError struct {
	msg string
	err error
}

func (e *fatalError) Error() string { return e.msg }
func (e *fatalError) Unwrap() error { return e.err }

// Write runs f, which writes to a database opened by Open, and returns
// what Pebble reports as fatal while f runs (a commit whose write or
// fsync failed) as an error matching ErrFailed and the cause (for example
// syscall.ENOSPC), instead of letting it panic. Any other panic goes on.
// After such an error the caller must not write to the database again.
func Write(f func() error) (err error) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		fe, ok := r.(*fatalError)
		if !ok {
			panic(r)
		}
		err = fmt.Errorf("%w: %w", ErrFailed, fe)
	}()
	return f()
}
