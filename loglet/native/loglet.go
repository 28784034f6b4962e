package native

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"hourglass/loglet"
	"hourglass/loglet/dedup"
)

// Config describes one native loglet as seen from one process.
type Config struct {
	// ID names the loglet on its LogServers.
	ID LogletID
	// Servers are the loglet's LogServers. Servers[0] is the co-located
	// one, which readers try first. This version replicates to exactly one
	// LogServer; quorum replication over several arrives with the network
	// transport.
	Servers []Server
	// Logger receives the loglet's log lines; nil discards them.
	Logger *slog.Logger
	// MaxBatchBytes bounds the entry bytes the sequencer sends in one
	// Store; 0 means 4 MiB.
	MaxBatchBytes int
}

func (c *Config) validate() error {
	var errs []error
	switch len(c.Servers) {
	case 0:
		errs = append(errs, errors.New("native: no LogServers"))
	case 1:
	default:
		errs = append(errs, fmt.Errorf("native: %d LogServers; this version replicates to exactly one", len(c.Servers)))
	}
	if c.MaxBatchBytes < 0 {
		errs = append(errs, errors.New("native: MaxBatchBytes < 0"))
	}
	return errors.Join(errs...)
}

// Loglet is a native loglet handle: the sequencer that assigns positions
// and forwards batches to the LogServers, plus the reader and sealer. At
// most one Loglet per LogletID may exist in a deployment at a time (it owns
// the sequencer); the VirtualLog guarantees this by never reopening a
// loglet for appends once it has been replaced.
type Loglet struct {
	id       LogletID
	server   Server
	log      *slog.Logger
	maxBatch int

	kick chan struct{}
	stop chan struct{}
	done chan struct{}

	mu struct {
		sync.Mutex
		next      loglet.Position // next position the sequencer assigns
		sent      loglet.Position // first position not yet sent
		committed loglet.Position
		queue     []*appendReq // assigned and not yet completed, by position
		ids       *dedup.Window
		inflight  map[loglet.AppendID]*appendReq
		sealed    bool
		broken    error // set when the server failed in a way that leaves writes unknown
		closed    bool
	}
}

var _ loglet.Loglet = (*Loglet)(nil)

type appendReq struct {
	id      loglet.AppendID
	pos     loglet.Position
	entries [][]byte
	bytes   int
	done    chan struct{}
	err     error
}

func (r *appendReq) end() loglet.Position { return r.pos + loglet.Position(len(r.entries)) }

// Open opens the loglet described by cfg, recovering the sequencer's state
// from the LogServer: every entry the server holds is committed (it is the
// only replica), and a sealed loglet stays sealed.
func Open(ctx context.Context, cfg Config) (*Loglet, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBatchBytes == 0 {
		cfg.MaxBatchBytes = 4 << 20
	}
	l := &Loglet{
		id:       cfg.ID,
		server:   cfg.Servers[0],
		log:      cfg.Logger.With("loglet", uint64(cfg.ID)),
		maxBatch: cfg.MaxBatchBytes,
		kick:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	st, err := l.server.GetStatus(ctx, l.id)
	if err != nil {
		return nil, err
	}
	if st.Sealed && !st.Final {
		if st, err = l.server.SetFinal(ctx, l.id, st.LocalTail); err != nil {
			return nil, err
		}
	}
	tail := st.LocalTail
	if st.Final {
		tail = st.FinalTail
	} else if err := l.server.Commit(ctx, l.id, tail); err != nil {
		return nil, err
	}
	l.mu.next, l.mu.sent, l.mu.committed = tail, tail, tail
	l.mu.sealed = st.Sealed
	l.mu.ids = dedup.New(0)
	l.mu.inflight = make(map[loglet.AppendID]*appendReq)
	go l.sendLoop()
	return l, nil
}

// Append implements loglet.Writer. A context that ends while the append is
// under way yields loglet.ErrOutcomeUnknown: the entries may still land.
func (l *Loglet) Append(ctx context.Context, id loglet.AppendID, entries [][]byte) (loglet.Position, error) {
	if len(entries) == 0 {
		return 0, errors.New("native: append of no entries")
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	l.mu.Lock()
	if l.mu.closed {
		l.mu.Unlock()
		return 0, loglet.ErrClosed
	}
	if p, ok := l.mu.ids.Lookup(id); ok {
		l.mu.Unlock()
		return p, nil
	}
	r := l.mu.inflight[id]
	if r == nil {
		switch {
		case l.mu.sealed:
			l.mu.Unlock()
			return 0, loglet.ErrSealed
		case l.mu.broken != nil:
			l.mu.Unlock()
			return 0, fmt.Errorf("%w: %v", loglet.ErrUnavailable, l.mu.broken)
		}
		r = &appendReq{id: id, pos: l.mu.next, done: make(chan struct{})}
		r.entries = make([][]byte, len(entries))
		for i, e := range entries {
			r.entries[i] = append([]byte(nil), e...)
			r.bytes += len(e)
		}
		l.mu.next += loglet.Position(len(entries))
		l.mu.queue = append(l.mu.queue, r)
		if !id.IsZero() {
			l.mu.inflight[id] = r
		}
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
	l.mu.Unlock()
	select {
	case <-r.done:
		return r.pos, r.err
	case <-ctx.Done():
		return 0, fmt.Errorf("%w: %w", loglet.ErrOutcomeUnknown, ctx.Err())
	}
}

// sendLoop forwards queued entries to the LogServer, one batch per round
// trip: whatever queued while the previous batch was being made durable
// goes in the next one.
func (l *Loglet) sendLoop() {
	defer close(l.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-l.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		select {
		case <-l.kick:
		case <-l.stop:
			return
		}
		for l.sendOne(ctx) {
		}
	}
}

// sendOne sends one batch and processes the reply. It reports whether
// anything was sent.
func (l *Loglet) sendOne(ctx context.Context) bool {
	l.mu.Lock()
	first := l.mu.sent
	var entries [][]byte
	size := 0
	for _, r := range l.mu.queue {
		if r.end() <= first {
			continue
		}
		if len(entries) > 0 && size+r.bytes > l.maxBatch {
			break
		}
		entries = append(entries, r.entries[first+loglet.Position(len(entries))-r.pos:]...)
		size += r.bytes
	}
	l.mu.Unlock()
	if len(entries) == 0 {
		return false
	}

	st, err := l.server.Store(ctx, l.id, first, entries)

	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case err == nil:
		l.mu.sent = st.LocalTail
		// The only replica holds it durably: it is committed.
		l.mu.committed = max(l.mu.committed, min(st.LocalTail, l.mu.next))
		l.completeLocked()
		committed := l.mu.committed
		l.mu.Unlock()
		if err := l.server.Commit(ctx, l.id, committed); err != nil && !errors.Is(err, context.Canceled) {
			l.log.Warn("commit notice failed", "err", err)
		}
		l.mu.Lock()
	case errors.Is(err, loglet.ErrSealed):
		// The server stored nothing of this batch, and being sealed it
		// will store nothing later: every queued append failed.
		l.mu.sealed = true
		l.failLocked(loglet.ErrSealed)
	case errors.Is(err, ErrGap):
		l.mu.sent = st.LocalTail
	default:
		l.log.Error("store failed", "err", err)
		l.mu.broken = err
		l.failLocked(fmt.Errorf("%w: %v", loglet.ErrOutcomeUnknown, err))
	}
	return true
}

// completeLocked acknowledges every queued append below the committed tail.
// REQUIRES: l.mu held.
func (l *Loglet) completeLocked() {
	n := 0
	for _, r := range l.mu.queue {
		if r.end() > l.mu.committed {
			break
		}
		l.mu.ids.Remember(r.id, r.pos)
		if !r.id.IsZero() {
			delete(l.mu.inflight, r.id)
		}
		close(r.done)
		n++
	}
	clear(l.mu.queue[:n])
	l.mu.queue = l.mu.queue[n:]
}

// failLocked fails every queued append with err and rewinds the sequencer
// to the committed tail. REQUIRES: l.mu held.
func (l *Loglet) failLocked(err error) {
	for _, r := range l.mu.queue {
		r.err = err
		if !r.id.IsZero() {
			delete(l.mu.inflight, r.id)
		}
		close(r.done)
	}
	l.mu.queue = nil
	l.mu.next = l.mu.committed
	l.mu.sent = l.mu.committed
}

// CheckTail implements loglet.Reader. If the server is sealed but its tail
// is not yet final (a sealer stopped half-way), CheckTail finishes the seal.
func (l *Loglet) CheckTail(ctx context.Context) (loglet.Position, bool, error) {
	st, err := l.server.GetStatus(ctx, l.id)
	if err != nil {
		return 0, false, err
	}
	if !st.Sealed {
		return st.LocalTail, false, nil
	}
	tail, err := l.Seal(ctx)
	return tail, true, err
}

// ReadNext implements loglet.Reader.
func (l *Loglet) ReadNext(ctx context.Context, from loglet.Position, max int) ([][]byte, error) {
	entries, _, err := l.server.Read(ctx, l.id, from, max)
	return entries, err
}

// Seal implements loglet.Loglet: seal the server, then fix the final tail
// at what it holds.
func (l *Loglet) Seal(ctx context.Context) (loglet.Position, error) {
	st, err := l.server.Seal(ctx, l.id)
	if err != nil {
		return 0, err
	}
	if !st.Final {
		if st, err = l.server.SetFinal(ctx, l.id, st.LocalTail); err != nil {
			return 0, err
		}
	}
	l.mu.Lock()
	l.mu.sealed = true
	l.mu.Unlock()
	return st.FinalTail, nil
}

// PrefixTrim implements loglet.Loglet.
func (l *Loglet) PrefixTrim(ctx context.Context, pos loglet.Position) error {
	return l.server.Trim(ctx, l.id, pos)
}

// Close implements loglet.Loglet. Appends still queued fail with
// loglet.ErrOutcomeUnknown. Close does not close the LogServer.
func (l *Loglet) Close() error {
	l.mu.Lock()
	if l.mu.closed {
		l.mu.Unlock()
		return nil
	}
	l.mu.closed = true
	l.mu.Unlock()
	close(l.stop)
	<-l.done
	l.mu.Lock()
	l.failLocked(fmt.Errorf("%w: %w", loglet.ErrOutcomeUnknown, loglet.ErrClosed))
	l.mu.Unlock()
	return nil
}
