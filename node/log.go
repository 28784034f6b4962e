package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"hourglass/internal/metrics"
	"hourglass/loglet"
	"hourglass/platform"
	"hourglass/virtuallog"
)

// sharedLog adapts the VirtualLog to the engine stack's platform.Log,
// translating the log's errors to the platform's sentinels so that
// nothing above the waist looks below it. It times the calls for the
// node's metrics and remembers the highest tail and trim point it saw.
type sharedLog struct {
	v *virtuallog.VirtualLog
	m *metrics.Set
	// tail is the highest tail this node learned (from a check or its
	// own append); trimmed the highest position it trimmed below.
	tail, trimmed atomic.Uint64
	// segmentTrims: trims stop at the start of the segment that holds
	// the trim point (a node with a backup directory), so that a sealed
	// segment leaves the LogServers whole, for the backup loglet.
	segmentTrims bool

	// closing is cancelled by close, which then waits for calls: no call
	// is under way once the node closes the databases below the log (a
	// node restarts in place in the same process).
	closing context.Context
	cancel  context.CancelFunc
	mu      sync.Mutex
	closed  bool
	calls   sync.WaitGroup
}

func newSharedLog(v *virtuallog.VirtualLog, m *metrics.Set) *sharedLog {
	l := &sharedLog{v: v, m: m}
	l.closing, l.cancel = context.WithCancel(context.Background())
	return l
}

// enter begins a call: it returns ctx, also cancelled when the log
// closes, and the function that ends the call; or platform.ErrStopped
// once the log is closed.
func (l *sharedLog) enter(ctx context.Context) (context.Context, func(), error) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil, nil, platform.ErrStopped
	}
	l.calls.Add(1)
	l.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(l.closing, cancel)
	return ctx, func() {
		stop()
		cancel()
		l.calls.Done()
	}, nil
}

// close cancels the calls under way, waits for them (logging if that
// takes longer than closeWait, and then going on without them), and
// fails later ones with platform.ErrStopped.
func (l *sharedLog) close(log *slog.Logger) {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.cancel()
	done := make(chan struct{})
	go func() {
		l.calls.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(closeWait):
		log.Error("log calls still under way after the node closed its log; closing its databases anyway", "waited", closeWait)
	}
}

// closeWait bounds how long closing the node waits for log calls.
const closeWait = 10 * time.Second

var _ platform.Log = (*sharedLog)(nil)

// raise sets a to v if v is higher.
func raise(a *atomic.Uint64, v uint64) {
	for {
		old := a.Load()
		if v <= old || a.CompareAndSwap(old, v) {
			return
		}
	}
}

// logError wraps err in the platform sentinel that means the same.
// A storage failure keeps its own sentinels (ErrDiskFull for a full
// disk) beside ErrOutcomeUnknown, which an append it cut short also has.
func logError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, loglet.ErrStorageFailed) {
		if errors.Is(err, syscall.ENOSPC) {
			err = fmt.Errorf("%w: %w", platform.ErrDiskFull, err)
		}
		err = fmt.Errorf("%w: %w", platform.ErrStorageFailed, err)
	}
	switch {
	case errors.Is(err, loglet.ErrOutcomeUnknown):
		return fmt.Errorf("%w: %w", platform.ErrOutcomeUnknown, err)
	case errors.Is(err, loglet.ErrTrimmed):
		return fmt.Errorf("%w: %w", platform.ErrTrimmed, err)
	case errors.Is(err, loglet.ErrUnavailable):
		return fmt.Errorf("%w: %w", platform.ErrUnavailable, err)
	}
	return err
}

func (l *sharedLog) Append(ctx context.Context, id platform.AppendID, entries [][]byte) (platform.Position, error) {
	ctx, done, err := l.enter(ctx)
	if err != nil {
		return 0, err
	}
	defer done()
	start := time.Now()
	pos, err := l.v.Append(ctx, loglet.AppendID{Client: id.Client, Seq: id.Seq}, entries)
	if err != nil {
		l.m.AppendErrors.Inc()
		return pos, logError(err)
	}
	metrics.Since(l.m.LogAppend, start)
	raise(&l.tail, pos+uint64(len(entries)))
	return pos, nil
}

func (l *sharedLog) CheckTail(ctx context.Context) (platform.Position, error) {
	ctx, done, err := l.enter(ctx)
	if err != nil {
		return 0, err
	}
	defer done()
	start := time.Now()
	tail, err := l.v.CheckTail(ctx)
	if err != nil {
		return tail, logError(err)
	}
	metrics.Since(l.m.LogCheckTail, start)
	raise(&l.tail, tail)
	return tail, nil
}

func (l *sharedLog) ReadNext(ctx context.Context, from platform.Position, max int) ([][]byte, error) {
	ctx, done, err := l.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	entries, err := l.v.ReadNext(ctx, from, max)
	if err != nil {
		return entries, logError(err)
	}
	raise(&l.tail, from+uint64(len(entries)))
	return entries, nil
}

func (l *sharedLog) PrefixTrim(ctx context.Context, pos platform.Position) error {
	ctx, done, err := l.enter(ctx)
	if err != nil {
		return err
	}
	defer done()
	if l.segmentTrims {
		pos = segmentStart(l.v, pos)
	}
	if err := l.v.PrefixTrim(ctx, pos); err != nil {
		return logError(err)
	}
	raise(&l.trimmed, pos)
	return nil
}

// segmentStart is the start of the segment of v's chain that holds pos
// (pos itself if a segment starts there, or if no segment does below it).
func segmentStart(v *virtuallog.VirtualLog, pos platform.Position) platform.Position {
	chain, _ := v.Chain()
	start := pos
	for _, seg := range chain.GetSegments() {
		if seg.GetStart() <= pos {
			start = seg.GetStart()
		}
	}
	return start
}
