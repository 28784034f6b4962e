package native

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"

	"hourglass/loglet"
	"hourglass/loglet/native/nativepb"
)

// TestErrorsOnTheWire: the sequencer's own errors travel as the loglet
// outcome a remote appender must act on.
func TestErrorsOnTheWire(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want nativepb.Error
		is   error
	}{
		{fmt.Errorf("%w: %w", ErrAppendExpired, context.DeadlineExceeded), nativepb.Error_OUTCOME_UNKNOWN, loglet.ErrOutcomeUnknown},
		{ErrQueueFull, nativepb.Error_UNAVAILABLE, loglet.ErrUnavailable},
		{&loglet.OutcomeUnknownError{First: 3, N: 1, Cause: errSealedMidway}, nativepb.Error_OUTCOME_UNKNOWN, loglet.ErrOutcomeUnknown},
		{loglet.ErrSealed, nativepb.Error_SEALED, loglet.ErrSealed},
		{fmt.Errorf("%w: %w", loglet.ErrStorageFailed, syscall.EIO), nativepb.Error_STORAGE_FAILED, loglet.ErrStorageFailed},
		{fmt.Errorf("%w: %w", loglet.ErrStorageFailed, syscall.ENOSPC), nativepb.Error_DISK_FULL, loglet.ErrStorageFailed},
		{fmt.Errorf("%w: %w", loglet.ErrStorageFailed, syscall.ENOSPC), nativepb.Error_DISK_FULL, syscall.ENOSPC},
		{fmt.Errorf("%w: %w", loglet.ErrOutcomeUnknown, loglet.ErrStorageFailed), nativepb.Error_OUTCOME_UNKNOWN, loglet.ErrOutcomeUnknown},
	} {
		e, detail := errorToPB(tc.err)
		if e != tc.want {
			t.Errorf("%v travels as %v, want %v", tc.err, e, tc.want)
		}
		if back := errorFromPB(e, detail); !errors.Is(back, tc.is) {
			t.Errorf("%v arrives as %v, want it to match %v", tc.err, back, tc.is)
		}
	}
}
