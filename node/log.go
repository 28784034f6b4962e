package node

import (
	"context"
	"errors"
	"fmt"

	"hourglass/loglet"
	"hourglass/platform"
	"hourglass/virtuallog"
)

// sharedLog adapts the VirtualLog to the engine stack's platform.Log,
// translating the log's errors to the platform's sentinels so that
// nothing above the waist looks below it.
type sharedLog struct{ v *virtuallog.VirtualLog }

var _ platform.Log = sharedLog{}

// logError wraps err in the platform sentinel that means the same.
func logError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, loglet.ErrOutcomeUnknown):
		return fmt.Errorf("%w: %w", platform.ErrOutcomeUnknown, err)
	case errors.Is(err, loglet.ErrTrimmed):
		return fmt.Errorf("%w: %w", platform.ErrTrimmed, err)
	case errors.Is(err, loglet.ErrUnavailable):
		return fmt.Errorf("%w: %w", platform.ErrUnavailable, err)
	}
	return err
}

func (l sharedLog) Append(ctx context.Context, id platform.AppendID, entries [][]byte) (platform.Position, error) {
	pos, err := l.v.Append(ctx, loglet.AppendID{Client: id.Client, Seq: id.Seq}, entries)
	return pos, logError(err)
}

func (l sharedLog) CheckTail(ctx context.Context) (platform.Position, error) {
	tail, err := l.v.CheckTail(ctx)
	return tail, logError(err)
}

func (l sharedLog) ReadNext(ctx context.Context, from platform.Position, max int) ([][]byte, error) {
	entries, err := l.v.ReadNext(ctx, from, max)
	return entries, logError(err)
}

func (l sharedLog) PrefixTrim(ctx context.Context, pos platform.Position) error {
	return logError(l.v.PrefixTrim(ctx, pos))
}
