package striped

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"hourglass/loglet"
	"hourglass/loglet/dedup"
)

// Defaults of the Config fields.
const (
	// DefaultRetryFor bounds how long a stripe write that fails as
	// unavailable or with an unknown outcome is retried.
	DefaultRetryFor = 5 * time.Second
	// DefaultMaxQueue bounds the entries waiting to be written; an append
	// beyond it fails at once with loglet.ErrUnavailable.
	DefaultMaxQueue = 1 << 16
	// maxWriteEntries and maxWriteBytes bound one inner Append.
	maxWriteEntries = 1024
	maxWriteBytes   = 4 << 20
)

// Config describes one striped loglet as seen from one process.
type Config struct {
	// Stripes are the inner loglets, in stripe order; the striped loglet
	// owns them and closes them with itself. At least one.
	Stripes []loglet.Loglet
	// Fresh says this handle is the loglet's writer: this process created
	// it and nothing was appended to it yet.
	Fresh bool
	// Forward, when the handle is not the writer, takes its appends (the
	// writer's process, over the network). Nil: such appends fail with
	// loglet.ErrUnavailable.
	Forward loglet.Writer
	// RetryFor bounds the retries of one stripe write; 0 means
	// DefaultRetryFor.
	RetryFor time.Duration
	// MaxQueue bounds the entries queued and not yet written; 0 means
	// DefaultMaxQueue.
	MaxQueue int
	// Logger receives the loglet's log lines; nil discards them.
	Logger *slog.Logger
}

// Loglet is a striped loglet. The zero value is not usable; call Open.
type Loglet struct {
	cfg     Config
	n       uint64
	stripes []loglet.Loglet
	log     *slog.Logger
	client  uint64        // AppendID.Client of the inner appends
	seq     atomic.Uint64 // AppendID.Seq of the inner appends
	wake    []chan struct{}
	stop    chan struct{}
	writers sync.WaitGroup

	mu struct {
		sync.Mutex
		next    loglet.Position   // next global position to hand out
		written []loglet.Position // per stripe: inner positions written
		queues  [][]item          // per stripe: entries to write, in order
		queued  int               // entries in queues
		ops     []*op             // appends not finished, by position
		ids     *dedup.Appends[*op]
		broken  error // why the writer stopped taking appends
		sealed  bool
		tail    loglet.Position // the final tail, once sealed
		closed  bool
	}
}

var (
	_ loglet.Loglet       = (*Loglet)(nil)
	_ loglet.HintedReader = (*Loglet)(nil)
)

// item is one entry on a stripe's queue.
type item struct {
	inner loglet.Position // where it must land in the stripe
	data  []byte          // its inner encoding
}

// op is one Append being written.
type op struct {
	id    loglet.AppendID
	first loglet.Position
	n     int
	done  chan struct{} // closed when err is set
	err   error
}

// Open returns a handle on the striped loglet over cfg.Stripes. It does not
// block. If it fails, the stripes are left open.
func Open(cfg Config) (*Loglet, error) {
	if len(cfg.Stripes) == 0 {
		return nil, errors.New("striped: no stripes")
	}
	if cfg.RetryFor <= 0 {
		cfg.RetryFor = DefaultRetryFor
	}
	if cfg.MaxQueue <= 0 {
		cfg.MaxQueue = DefaultMaxQueue
	}
	lg := cfg.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	l := &Loglet{
		cfg:     cfg,
		n:       uint64(len(cfg.Stripes)),
		stripes: cfg.Stripes,
		log:     lg,
		client:  rand.Uint64() | 1,
		stop:    make(chan struct{}),
	}
	l.mu.written = make([]loglet.Position, l.n)
	l.mu.queues = make([][]item, l.n)
	l.mu.ids = dedup.NewAppends[*op](0)
	if cfg.Fresh {
		l.wake = make([]chan struct{}, l.n)
		for k := range l.wake {
			l.wake[k] = make(chan struct{}, 1)
			l.writers.Add(1)
			go l.writer(k)
		}
	}
	return l, nil
}

// Stripes returns the number of stripes.
func (l *Loglet) Stripes() int { return int(l.n) }

// Stripe returns stripe k's handle, which the striped loglet owns: the
// caller must not close it, nor append to it.
func (l *Loglet) Stripe(k int) loglet.Loglet { return l.stripes[k] }

// place returns the stripe and the stripe position of global position p.
func (l *Loglet) place(p loglet.Position) (int, loglet.Position) { return int(p % l.n), p / l.n }

// below returns how many of the global positions under p stripe k holds.
func (l *Loglet) below(p loglet.Position, k int) loglet.Position {
	if p <= loglet.Position(k) {
		return 0
	}
	return (p - loglet.Position(k) + l.n - 1) / l.n
}

// rawTail is the lowest global position missing from its stripe, given
// each stripe's tail.
func (l *Loglet) rawTail(tails []loglet.Position) loglet.Position {
	t := tails[0] * l.n
	for k, tk := range tails[1:] {
		t = min(t, tk*l.n+loglet.Position(k+1))
	}
	return t
}

// Append implements loglet.Writer. The writer handle reserves the
// positions, queues each entry on its stripe and returns once the entries
// and everything below them are written. A handle that is not the writer
// forwards the append (Config.Forward) or fails with ErrUnavailable.
func (l *Loglet) Append(ctx context.Context, id loglet.AppendID, entries [][]byte) (loglet.Position, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	l.mu.Lock()
	if l.mu.closed {
		l.mu.Unlock()
		return 0, loglet.ErrClosed
	}
	switch p, done, o, running := l.mu.ids.Lookup(id); {
	case done:
		l.mu.Unlock()
		return p, nil
	case running:
		l.mu.Unlock()
		return l.wait(ctx, o)
	case l.mu.sealed:
		l.mu.Unlock()
		return 0, loglet.ErrSealed
	case !l.cfg.Fresh:
		l.mu.Unlock()
		if l.cfg.Forward != nil {
			return l.cfg.Forward.Append(ctx, id, entries)
		}
		return 0, fmt.Errorf("%w: striped: this handle is not the loglet's writer", loglet.ErrUnavailable)
	case l.mu.broken != nil:
		err := l.mu.broken
		l.mu.Unlock()
		return 0, fmt.Errorf("%w: striped: writer stopped: %w", loglet.ErrUnavailable, err)
	case len(entries) == 0:
		defer l.mu.Unlock()
		return l.mu.next, nil
	case l.mu.queued+len(entries) > l.cfg.MaxQueue && l.mu.queued > 0:
		l.mu.Unlock()
		return 0, fmt.Errorf("%w: striped: %d entries queued", loglet.ErrUnavailable, l.cfg.MaxQueue)
	}
	o := &op{id: id, first: l.mu.next, n: len(entries), done: make(chan struct{})}
	l.mu.next += loglet.Position(len(entries))
	for j, e := range entries {
		k, inner := l.place(o.first + loglet.Position(j))
		l.mu.queues[k] = append(l.mu.queues[k], item{inner: inner, data: appendRecord(nil, j, len(entries), e)})
		select {
		case l.wake[k] <- struct{}{}:
		default:
		}
	}
	l.mu.queued += len(entries)
	l.mu.ops = append(l.mu.ops, o)
	l.mu.ids.Start(id, o)
	l.mu.Unlock()
	return l.wait(ctx, o)
}

// wait waits for o's outcome. A caller that stops waiting learns that the
// outcome is unknown: the entries stay queued and may be written.
func (l *Loglet) wait(ctx context.Context, o *op) (loglet.Position, error) {
	select {
	case <-o.done:
		if o.err != nil {
			return 0, o.err
		}
		return o.first, nil
	case <-ctx.Done():
		return 0, &loglet.OutcomeUnknownError{First: o.first, N: o.n, Cause: ctx.Err()}
	}
}

// finishLocked settles o with err (nil: written) and forgets it.
func (l *Loglet) finishLocked(o *op, err error) {
	o.err = err
	close(o.done)
	l.mu.ids.Finish(o.id, o, o.first, err == nil)
}

// writer writes stripe k's queue in order, everything queued in one inner
// Append, until the handle closes or the writer breaks.
func (l *Loglet) writer(k int) {
	defer l.writers.Done()
	for {
		l.mu.Lock()
		if l.mu.closed || l.mu.broken != nil {
			l.mu.Unlock()
			return
		}
		q := l.mu.queues[k]
		if len(q) == 0 {
			l.mu.Unlock()
			select {
			case <-l.wake[k]:
			case <-l.stop:
			}
			continue
		}
		n, size := 0, 0
		for n < len(q) && n < maxWriteEntries && (n == 0 || size+len(q[n].data) <= maxWriteBytes) {
			size += len(q[n].data)
			n++
		}
		batch := q[:n:n]
		l.mu.queues[k] = q[n:]
		l.mu.queued -= n
		l.mu.Unlock()

		data := make([][]byte, n)
		for i, it := range batch {
			data[i] = it.data
		}
		err := l.writeStripe(k, data, batch[0].inner)

		l.mu.Lock()
		if err == nil {
			l.mu.written[k] = batch[n-1].inner + 1
			l.completeLocked()
			l.mu.Unlock()
			continue
		}
		first := l.mu.broken == nil
		if first {
			l.mu.broken = fmt.Errorf("stripe %d: %w", k, err)
		}
		l.mu.Unlock()
		if first {
			level := slog.LevelWarn
			if errors.Is(err, loglet.ErrSealed) {
				level = slog.LevelInfo // the loglet is being replaced
			}
			l.log.Log(context.Background(), level, "striped loglet writer stopped", "stripe", k, "err", err)
			l.settle()
		}
		return
	}
}

// completeLocked acknowledges the appends that lie wholly below the lowest
// position not yet written.
func (l *Loglet) completeLocked() {
	w := l.rawTail(l.mu.written)
	i := 0
	for ; i < len(l.mu.ops) && l.mu.ops[i].first+loglet.Position(l.mu.ops[i].n) <= w; i++ {
		l.finishLocked(l.mu.ops[i], nil)
	}
	l.mu.ops = l.mu.ops[i:]
}

// writeStripe appends data to stripe k, where it must land at inner. It
// retries an unavailable or unknown outcome with the same AppendID for
// RetryFor; a sealed or closed stripe ends it at once.
func (l *Loglet) writeStripe(k int, data [][]byte, inner loglet.Position) error {
	id := loglet.AppendID{Client: l.client, Seq: l.seq.Add(1)}
	deadline := time.Now().Add(l.cfg.RetryFor)
	backoff := 5 * time.Millisecond
	for {
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		go func() {
			select {
			case <-l.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		p, err := l.stripes[k].Append(ctx, id, data)
		cancel()
		switch {
		case err == nil && p == inner:
			return nil
		case err == nil:
			return fmt.Errorf("%w: striped: stripe %d wrote at %d, expected %d (another writer?)", loglet.ErrUnavailable, k, p, inner)
		case errors.Is(err, loglet.ErrSealed), errors.Is(err, loglet.ErrClosed):
			return err
		}
		select {
		case <-l.stop:
			return loglet.ErrClosed
		default:
		}
		if time.Now().Add(backoff).After(deadline) {
			return err
		}
		time.Sleep(backoff)
		backoff = min(2*backoff, 200*time.Millisecond)
	}
}

// settle ends every unfinished append once the writer broke. If a stripe
// is sealed, the seal is finished and decides: an append below the final
// tail is written, one beyond it is not (a batch is never split). Else
// their outcome is unknown.
func (l *Loglet) settle() {
	l.mu.Lock()
	ops := l.mu.ops
	l.mu.ops = nil
	for k := range l.mu.queues {
		l.mu.queues[k] = nil
	}
	l.mu.queued = 0
	broken := l.mu.broken
	l.mu.Unlock()
	if len(ops) == 0 {
		return
	}
	var tail loglet.Position
	var sealErr error = broken
	if errors.Is(broken, loglet.ErrSealed) || errors.Is(broken, loglet.ErrOutcomeUnknown) {
		ctx, cancel := context.WithTimeout(context.Background(), l.cfg.RetryFor)
		go func() {
			select {
			case <-l.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		// CheckTail finishes the seal if any stripe is sealed.
		var sealed bool
		tail, sealed, sealErr = l.CheckTail(ctx)
		cancel()
		if sealErr == nil && !sealed {
			sealErr = broken
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, o := range ops {
		switch {
		case sealErr != nil:
			l.finishLocked(o, &loglet.OutcomeUnknownError{First: o.first, N: o.n, Cause: sealErr})
		case o.first+loglet.Position(o.n) <= tail:
			l.finishLocked(o, nil)
		default:
			l.finishLocked(o, loglet.ErrSealed)
		}
	}
}

// Close implements loglet.Loglet: it stops the writers, ends the appends
// still waiting (their outcome is unknown) and closes the stripes.
func (l *Loglet) Close() error {
	l.mu.Lock()
	if l.mu.closed {
		l.mu.Unlock()
		return nil
	}
	l.mu.closed = true
	close(l.stop)
	l.mu.Unlock()
	l.writers.Wait()
	l.mu.Lock()
	for _, o := range l.mu.ops {
		l.finishLocked(o, &loglet.OutcomeUnknownError{First: o.first, N: o.n, Cause: loglet.ErrClosed})
	}
	l.mu.ops = nil
	l.mu.Unlock()
	var errs []error
	for _, s := range l.stripes {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}
