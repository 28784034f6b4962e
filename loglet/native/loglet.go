package native

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"hourglass/internal/paxos"
	"hourglass/loglet"
)

// Defaults of the Config fields that bound the sequencer's work.
const (
	// DefaultMaxBatchBytes bounds the entry bytes of one Store.
	DefaultMaxBatchBytes = 4 << 20
	// DefaultMaxQueueEntries and DefaultMaxQueueBytes bound the appends
	// a sequencer holds that have not committed: queued, being sent, or
	// waiting for a majority. An append that would go beyond either
	// bound fails at once with ErrQueueFull. The bounds are far above
	// what a loglet with a live majority holds (the engines above keep
	// few appends in flight); they are reached when no majority answers.
	DefaultMaxQueueEntries = 1 << 16
	DefaultMaxQueueBytes   = 64 << 20
)

// Config describes one native loglet as seen from one process.
type Config struct {
	// ID names the loglet on its LogServers.
	ID LogletID
	// Servers are the loglet's LogServers; an entry is committed once a
	// majority holds it durably. Servers[0] is the one readers try first
	// (the co-located one, where there is one).
	Servers []Server
	// Sequencer is the loglet's sequencer in another process. Nil means
	// the sequencer runs in this handle.
	Sequencer Appender
	// Fresh says this process created the loglet (by reconfiguration)
	// and nothing was appended to it yet, so a local sequencer starts at
	// position 0 without asking the servers.
	Fresh bool
	// Logger receives the loglet's log lines; nil discards them.
	Logger *slog.Logger
	// MaxBatchBytes bounds the entry bytes the sequencer sends in one
	// Store; 0 means DefaultMaxBatchBytes.
	MaxBatchBytes int
	// MaxQueueEntries and MaxQueueBytes bound the entries (and their
	// bytes) of the appends the sequencer holds uncommitted; 0 means
	// DefaultMaxQueueEntries and DefaultMaxQueueBytes. An append alone in
	// the queue is taken whatever its size.
	MaxQueueEntries, MaxQueueBytes int
	// CallTimeout bounds one call to one server; 0 means 5s.
	CallTimeout time.Duration
}

func (c *Config) validate() error {
	var errs []error
	if len(c.Servers) == 0 {
		errs = append(errs, errors.New("native: no LogServers"))
	}
	if c.MaxBatchBytes < 0 {
		errs = append(errs, errors.New("native: MaxBatchBytes < 0"))
	}
	if c.MaxQueueEntries < 0 || c.MaxQueueBytes < 0 {
		errs = append(errs, errors.New("native: MaxQueueEntries or MaxQueueBytes < 0"))
	}
	if c.CallTimeout < 0 {
		errs = append(errs, errors.New("native: CallTimeout < 0"))
	}
	return errors.Join(errs...)
}

// Loglet is a native loglet handle: the reader and sealer, plus the
// sequencer when the loglet's sequencer runs in this process. At most one
// handle with a sequencer may exist per LogletID in a deployment: the chain
// names the process that runs it, and every other process forwards its
// appends there.
type Loglet struct {
	id          LogletID
	servers     []Server
	quorum      int
	log         *slog.Logger
	callTimeout time.Duration

	// Exactly one of seq and remote is set, unless the sequencer could not
	// be recovered (seqErr).
	seq    *sequencer
	remote Appender
	seqErr error

	// known is the highest committed tail this handle has learnt.
	known atomic.Uint64
	// ballotMu guards the sealer's ballots, whose random Proposer tells
	// this handle's apart from other sealers'.
	ballotMu sync.Mutex
	ballots  paxos.Ballots
	// preferred is the index of the server readers try first.
	preferred atomic.Int32
}

var (
	_ loglet.Loglet = (*Loglet)(nil)
)

// Open opens the loglet described by cfg. With a local sequencer, a fresh
// loglet starts empty; a loglet that already holds entries can resume its
// sequencer only when it has a single LogServer (everything that server
// holds is committed). A replicated loglet whose sequencer restarted stays
// readable and sealable but refuses appends with loglet.ErrUnavailable: it
// must be replaced by reconfiguration.
func Open(ctx context.Context, cfg Config) (*Loglet, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	limits := seqLimits{
		batchBytes:   cmp.Or(cfg.MaxBatchBytes, DefaultMaxBatchBytes),
		queueEntries: cmp.Or(cfg.MaxQueueEntries, DefaultMaxQueueEntries),
		queueBytes:   cmp.Or(cfg.MaxQueueBytes, DefaultMaxQueueBytes),
	}
	if cfg.CallTimeout == 0 {
		cfg.CallTimeout = 5 * time.Second
	}
	l := &Loglet{
		id:          cfg.ID,
		servers:     cfg.Servers,
		quorum:      paxos.Quorum(len(cfg.Servers)),
		log:         cfg.Logger.With("loglet", uint64(cfg.ID)),
		callTimeout: cfg.CallTimeout,
		remote:      cfg.Sequencer,
		ballots:     paxos.Ballots{Proposer: rand.Uint64()},
	}
	switch {
	case l.remote != nil:
	case cfg.Fresh:
		l.seq = newSequencer(l, 0, false, limits)
	case len(l.servers) == 1:
		// The only server holds everything ever committed, and nothing
		// else: the sequencer resumes at its tail.
		st, err := l.call(ctx, l.servers[0], func(ctx context.Context, s Server) (Status, error) { return s.GetStatus(ctx, l.id) })
		if err != nil {
			return nil, err
		}
		start := st.LocalTail
		if st.Final {
			start = st.FinalTail
		}
		if _, err := l.servers[0].Commit(ctx, l.id, start); err != nil {
			return nil, err
		}
		l.known.Store(start)
		l.seq = newSequencer(l, start, st.Sealed, limits)
	default:
		// A replicated loglet's sequencer state cannot be rebuilt safely
		// (a minority may hold entries nobody else knows of): the loglet
		// takes no more appends and must be replaced.
		l.seqErr = fmt.Errorf("%w: loglet %d's sequencer restarted; it must be replaced", loglet.ErrUnavailable, l.id)
		sts, err := l.quorumCall(ctx, func(ctx context.Context, s Server) (Status, error) { return s.GetStatus(ctx, l.id) })
		if err != nil {
			return nil, err
		}
		for _, st := range sts {
			if st.Sealed {
				l.seqErr = loglet.ErrSealed
			}
		}
	}
	return l, nil
}

// call runs f against one server under the per-call timeout.
func (l *Loglet) call(ctx context.Context, s Server, f func(context.Context, Server) (Status, error)) (Status, error) {
	ctx, cancel := context.WithTimeout(ctx, l.callTimeout)
	defer cancel()
	return f(ctx, s)
}

// quorumCall runs f against every server in parallel and returns as soon
// as a majority succeeded (the statuses of those that did, in no
// particular order). Calls to the others go on in the background, each
// bounded by the call timeout, so that stragglers still get the word.
func (l *Loglet) quorumCall(ctx context.Context, f func(context.Context, Server) (Status, error)) ([]Status, error) {
	type reply struct {
		st  Status
		err error
	}
	replies := make(chan reply, len(l.servers))
	callCtx := context.WithoutCancel(ctx)
	for _, s := range l.servers {
		go func() {
			st, err := l.call(callCtx, s, f)
			replies <- reply{st, err}
		}()
	}
	var ok []Status
	var errs []error
	for range l.servers {
		var r reply
		select {
		case r = <-replies:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if r.err == nil {
			ok = append(ok, r.st)
			l.learn(r.st.Committed)
			if len(ok) >= l.quorum {
				return ok, nil
			}
			continue
		}
		errs = append(errs, r.err)
		if len(errs) > len(l.servers)-l.quorum {
			break
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The servers' own errors are told, not wrapped: one server's
	// "trimmed" or "sealed" is not the loglet's. A disk failure is the
	// exception, which callers act on (it is not retried as if passing).
	for _, err := range errs {
		if errors.Is(err, loglet.ErrStorageFailed) && !errors.Is(err, loglet.ErrOutcomeUnknown) {
			return nil, fmt.Errorf("%w: no majority of LogServers answered: %w (all: %v)", loglet.ErrUnavailable, err, errors.Join(errs...))
		}
	}
	return nil, fmt.Errorf("%w: no majority of LogServers answered: %v", loglet.ErrUnavailable, errors.Join(errs...))
}

// learn raises the handle's known committed tail.
func (l *Loglet) learn(committed loglet.Position) {
	for {
		cur := l.known.Load()
		if committed <= cur || l.known.CompareAndSwap(cur, committed) {
			return
		}
	}
}

// Append implements loglet.Writer; it is safe for concurrent use, and the
// caller may reuse entries once it returns. With the sequencer in this
// handle, an append the sequencer's queue has no room for fails at once
// with ErrQueueFull (which matches loglet.ErrUnavailable). A context that
// ends while the append waits yields an error matching ErrAppendExpired if
// no server was sent the entries (they never will be), and one matching
// loglet.ErrOutcomeUnknown otherwise (they may still land); either also
// matches the context's error. A retry with the same id after an unknown
// outcome joins the original or learns its position.
func (l *Loglet) Append(ctx context.Context, id loglet.AppendID, entries [][]byte) (loglet.Position, error) {
	if len(entries) == 0 {
		return 0, errors.New("native: append of no entries")
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	switch {
	case l.seq != nil:
		return l.seq.append(ctx, id, entries)
	case l.remote != nil:
		return l.remote.Append(ctx, l.id, id, entries)
	}
	return 0, l.seqErr
}

// CheckTail implements loglet.Reader. It asks a majority of servers; if any
// is sealed it finishes the seal (so a sealer that stopped half-way is
// completed) and returns the sealed tail.
func (l *Loglet) CheckTail(ctx context.Context) (loglet.Position, bool, error) {
	sts, err := l.quorumCall(ctx, func(ctx context.Context, s Server) (Status, error) { return s.GetStatus(ctx, l.id) })
	if err != nil {
		return 0, false, err
	}
	var tail loglet.Position
	for _, st := range sts {
		if st.Sealed {
			t, err := l.Seal(ctx)
			return t, true, err
		}
		tail = max(tail, st.LocalTail)
	}
	if l.seq != nil {
		// The sequencer knows exactly what it acknowledged.
		return l.seq.committedTail(), false, nil
	}
	// Every acknowledged entry is on a majority, so on at least one of
	// these servers.
	return tail, false, nil
}

// PrefixTrim implements loglet.Loglet.
func (l *Loglet) PrefixTrim(ctx context.Context, pos loglet.Position) error {
	// Clamp a trim beyond the tail here, once: a server that gets the
	// call late (after a majority answered) must not clamp it to a tail
	// that has grown meanwhile and trim entries appended since.
	tail, _, err := l.CheckTail(ctx)
	if err != nil {
		return err
	}
	pos = min(pos, tail)
	_, err = l.quorumCall(ctx, func(ctx context.Context, s Server) (Status, error) {
		return Status{}, s.Trim(ctx, l.id, pos)
	})
	return err
}

// Close implements loglet.Loglet. Appends still queued fail with an error
// matching loglet.ErrOutcomeUnknown (and loglet.ErrClosed); later appends
// fail with loglet.ErrClosed. Close waits for the sequencer's goroutines;
// it does not close the LogServers. Idempotent.
func (l *Loglet) Close() error {
	if l.seq != nil {
		l.seq.close()
	}
	return nil
}
