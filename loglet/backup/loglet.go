package backup

import (
	"context"
	"errors"
	"fmt"
	"os"

	"hourglass/loglet"
)

// Loglet is a sealed, read-only loglet over a backup directory's log: its
// local position i is the backup's global position Base+i, and its tail
// is where the backup's contiguous run from Base ends. A VirtualLog
// segment whose entries the LogServers no longer hold can name it (kind
// "backup") and still be read.
type Loglet struct {
	log  *Log
	base uint64
	tail uint64
}

var _ loglet.Loglet = (*Loglet)(nil)

// OpenLoglet opens the backup log in dir as a loglet whose position 0 is
// the global position base. A directory that is missing, or does not
// hold base, is loglet.ErrTrimmed: a reader then knows to get the state
// some other way (a replica's checkpoint).
func OpenLoglet(dir string, base uint64) (*Loglet, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("%w: backup log %s: %w", loglet.ErrTrimmed, dir, err)
	}
	l, err := Open(dir)
	if err != nil {
		return nil, err
	}
	for _, r := range l.Ranges() {
		if r.First <= base && base < r.End {
			return &Loglet{log: l, base: base, tail: r.End}, nil
		}
	}
	return nil, fmt.Errorf("%w: backup log %s does not hold position %d", loglet.ErrTrimmed, dir, base)
}

// Append implements loglet.Writer: a backup loglet is sealed.
func (b *Loglet) Append(context.Context, loglet.AppendID, [][]byte) (loglet.Position, error) {
	return 0, loglet.ErrSealed
}

// CheckTail implements loglet.Reader: the tail is fixed and sealed.
func (b *Loglet) CheckTail(context.Context) (loglet.Position, bool, error) {
	return b.tail - b.base, true, nil
}

// ReadNext implements loglet.Reader. It never blocks: a position at or
// past the tail is ErrSealed.
func (b *Loglet) ReadNext(ctx context.Context, from loglet.Position, max int) ([][]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	g := b.base + from
	if g >= b.tail {
		return nil, loglet.ErrSealed
	}
	if max <= 0 {
		max = 1
	}
	entries, err := b.log.Read(g, min(max, int(b.tail-g)))
	if errors.Is(err, ErrMissing) {
		return nil, fmt.Errorf("%w: %w", loglet.ErrTrimmed, err)
	}
	return entries, err
}

// Seal implements loglet.Loglet: it is sealed already.
func (b *Loglet) Seal(context.Context) (loglet.Position, error) { return b.tail - b.base, nil }

// PrefixTrim implements loglet.Loglet. The backup keeps its entries (it
// is the copy that outlives the log's trims), so this does nothing.
func (b *Loglet) PrefixTrim(context.Context, loglet.Position) error { return nil }

// Close implements loglet.Loglet.
func (b *Loglet) Close() error { return nil }
