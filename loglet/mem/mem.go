// Package mem is an in-process Loglet for tests: entries live in memory,
// nothing survives the process. It implements the full contract, including
// sealing, trimming and idempotent retries.
package mem

import (
	"context"
	"sync"

	"hourglass/loglet"
	"hourglass/loglet/dedup"
)

// Loglet is an in-memory loglet. The zero value is not usable; call New.
type Loglet struct {
	mu struct {
		sync.Mutex
		entries [][]byte // entries[i] is at position trim+i
		trim    loglet.Position
		sealed  bool
		closed  bool
		ids     *dedup.Window
		// changed is closed and replaced whenever the tail, the seal bit
		// or the closed bit changes, to wake blocked readers.
		changed chan struct{}
	}
}

var _ loglet.Loglet = (*Loglet)(nil)

// New returns an empty, unsealed loglet.
func New() *Loglet {
	l := &Loglet{}
	l.mu.ids = dedup.New(0)
	l.mu.changed = make(chan struct{})
	return l
}

func (l *Loglet) tailLocked() loglet.Position {
	return l.mu.trim + loglet.Position(len(l.mu.entries))
}

func (l *Loglet) notifyLocked() {
	close(l.mu.changed)
	l.mu.changed = make(chan struct{})
}

// Append implements loglet.Writer.
func (l *Loglet) Append(ctx context.Context, id loglet.AppendID, entries [][]byte) (loglet.Position, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mu.closed {
		return 0, loglet.ErrClosed
	}
	if p, ok := l.mu.ids.Lookup(id); ok {
		return p, nil
	}
	if l.mu.sealed {
		return 0, loglet.ErrSealed
	}
	first := l.tailLocked()
	for _, e := range entries {
		l.mu.entries = append(l.mu.entries, append([]byte(nil), e...))
	}
	l.mu.ids.Remember(id, first)
	l.notifyLocked()
	return first, nil
}

// CheckTail implements loglet.Reader.
func (l *Loglet) CheckTail(ctx context.Context) (loglet.Position, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mu.closed {
		return 0, false, loglet.ErrClosed
	}
	return l.tailLocked(), l.mu.sealed, nil
}

// ReadNext implements loglet.Reader.
func (l *Loglet) ReadNext(ctx context.Context, from loglet.Position, max int) ([][]byte, error) {
	if max <= 0 {
		max = 1
	}
	for {
		l.mu.Lock()
		switch {
		case l.mu.closed:
			l.mu.Unlock()
			return nil, loglet.ErrClosed
		case from < l.mu.trim:
			l.mu.Unlock()
			return nil, loglet.ErrTrimmed
		case from < l.tailLocked():
			i := int(from - l.mu.trim)
			n := min(max, len(l.mu.entries)-i)
			out := make([][]byte, n)
			for j := range out {
				out[j] = append([]byte(nil), l.mu.entries[i+j]...)
			}
			l.mu.Unlock()
			return out, nil
		case l.mu.sealed:
			l.mu.Unlock()
			return nil, loglet.ErrSealed
		}
		changed := l.mu.changed
		l.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-changed:
		}
	}
}

// Seal implements loglet.Loglet.
func (l *Loglet) Seal(ctx context.Context) (loglet.Position, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mu.closed {
		return 0, loglet.ErrClosed
	}
	if !l.mu.sealed {
		l.mu.sealed = true
		l.notifyLocked()
	}
	return l.tailLocked(), nil
}

// PrefixTrim implements loglet.Loglet.
func (l *Loglet) PrefixTrim(ctx context.Context, pos loglet.Position) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mu.closed {
		return loglet.ErrClosed
	}
	pos = min(pos, l.tailLocked())
	if pos <= l.mu.trim {
		return nil
	}
	drop := int(pos - l.mu.trim)
	l.mu.entries = append([][]byte(nil), l.mu.entries[drop:]...)
	l.mu.trim = pos
	return nil
}

// Close implements loglet.Loglet. Blocked readers return ErrClosed.
func (l *Loglet) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.mu.closed {
		l.mu.closed = true
		l.notifyLocked()
	}
	return nil
}
