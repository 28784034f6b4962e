package native

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"hourglass/internal/paxos"
	"hourglass/loglet"
	"hourglass/loglet/dedup"
)

// errSealedMidway is the cause of an unknown outcome: the loglet was sealed
// while the append was being replicated.
var errSealedMidway = errors.New("native: sealed while the append was replicated")

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
	// Store; 0 means 4 MiB.
	MaxBatchBytes int
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
	if cfg.MaxBatchBytes == 0 {
		cfg.MaxBatchBytes = 4 << 20
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
		l.seq = newSequencer(l, 0, false, cfg.MaxBatchBytes)
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
		l.seq = newSequencer(l, start, st.Sealed, cfg.MaxBatchBytes)
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
	return nil, fmt.Errorf("%w: no majority of LogServers answered: %w", loglet.ErrUnavailable, errors.Join(errs...))
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

// Append implements loglet.Writer. A context that ends while the append is
// under way yields loglet.ErrOutcomeUnknown: the entries may still land.
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
	_, err := l.quorumCall(ctx, func(ctx context.Context, s Server) (Status, error) {
		return Status{}, s.Trim(ctx, l.id, pos)
	})
	return err
}

// Close implements loglet.Loglet. Appends still queued fail with
// loglet.ErrOutcomeUnknown. Close does not close the LogServers.
func (l *Loglet) Close() error {
	if l.seq != nil {
		l.seq.close()
	}
	return nil
}

// sequencer assigns positions and replicates batches to every server, one
// sender goroutine per server.
type sequencer struct {
	l        *Loglet
	maxBatch int
	kicks    []chan struct{}
	stop     chan struct{}
	wg       sync.WaitGroup

	mu struct {
		sync.Mutex
		next      loglet.Position // next position to assign
		committed loglet.Position
		// queue holds the assigned, not yet committed appends, by position.
		queue []*appendReq
		// sent[i] is the first position not yet sent to server i;
		// acked[i] the server's local tail as last reported.
		sent, acked []loglet.Position
		// notified[i] is the committed tail server i was last told.
		notified []loglet.Position
		ids      *dedup.Window
		inflight map[loglet.AppendID]*appendReq
		sealed   bool
		closed   bool
	}
}

type appendReq struct {
	id      loglet.AppendID
	pos     loglet.Position
	entries [][]byte
	bytes   int
	done    chan struct{}
	err     error
	// pending counts the stores including it that have not answered.
	pending int
	// maybeStored: a server may hold it (a store including it succeeded or
	// its outcome is unknown); failing it then is an unknown outcome.
	maybeStored bool
}

func (r *appendReq) end() loglet.Position { return r.pos + loglet.Position(len(r.entries)) }

func newSequencer(l *Loglet, start loglet.Position, sealed bool, maxBatch int) *sequencer {
	n := len(l.servers)
	q := &sequencer{l: l, maxBatch: maxBatch, stop: make(chan struct{})}
	q.mu.next, q.mu.committed = start, start
	q.mu.sent = make([]loglet.Position, n)
	q.mu.acked = make([]loglet.Position, n)
	q.mu.notified = make([]loglet.Position, n)
	for i := range n {
		q.mu.sent[i], q.mu.acked[i], q.mu.notified[i] = start, start, start
	}
	q.mu.sealed = sealed
	q.mu.ids = dedup.New(0)
	q.mu.inflight = make(map[loglet.AppendID]*appendReq)
	for range n {
		q.kicks = append(q.kicks, make(chan struct{}, 1))
	}
	for i := range n {
		q.wg.Add(1)
		go q.sendLoop(i)
	}
	return q
}

func (q *sequencer) committedTail() loglet.Position {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.mu.committed
}

func (q *sequencer) markSealed() {
	q.mu.Lock()
	q.mu.sealed = true
	q.failLocked()
	q.mu.Unlock()
}

func (q *sequencer) kickAll() {
	for _, k := range q.kicks {
		select {
		case k <- struct{}{}:
		default:
		}
	}
}

func (q *sequencer) append(ctx context.Context, id loglet.AppendID, entries [][]byte) (loglet.Position, error) {
	q.mu.Lock()
	if q.mu.closed {
		q.mu.Unlock()
		return 0, loglet.ErrClosed
	}
	if p, ok := q.mu.ids.Lookup(id); ok {
		q.mu.Unlock()
		return p, nil
	}
	r := q.mu.inflight[id]
	if r == nil {
		if q.mu.sealed {
			q.mu.Unlock()
			return 0, loglet.ErrSealed
		}
		r = &appendReq{id: id, pos: q.mu.next, done: make(chan struct{})}
		r.entries = make([][]byte, len(entries))
		for i, e := range entries {
			r.entries[i] = append([]byte(nil), e...)
			r.bytes += len(e)
		}
		q.mu.next += loglet.Position(len(entries))
		q.mu.queue = append(q.mu.queue, r)
		if !id.IsZero() {
			q.mu.inflight[id] = r
		}
		q.kickAll()
	}
	q.mu.Unlock()
	select {
	case <-r.done:
		return r.pos, r.err
	case <-ctx.Done():
		return 0, fmt.Errorf("%w: %w", loglet.ErrOutcomeUnknown, ctx.Err())
	}
}

// sendLoop replicates to server i: whatever queued while the previous
// batch was being made durable goes in the next Store; when there is
// nothing to send it tells the server the latest committed tail.
func (q *sequencer) sendLoop(i int) {
	defer q.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-q.stop
		cancel()
	}()
	backoff := time.Millisecond
	failing := false
	for {
		progressed, err := q.sendOne(ctx, i)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			// The server is unreachable or failing: retry after a
			// backoff; the majority carries on without it. Say so once
			// per outage, not once per retry.
			if !failing {
				q.l.log.Warn("LogServer unreachable; retrying in the background", "server", i, "err", err)
				failing = true
			}
			select {
			case <-time.After(backoff + time.Duration(rand.Int64N(int64(backoff)))):
			case <-q.stop:
				return
			}
			backoff = min(2*backoff, time.Second)
			continue
		}
		if failing {
			q.l.log.Info("LogServer reachable again", "server", i)
			failing = false
		}
		backoff = time.Millisecond
		if progressed {
			continue
		}
		select {
		case <-q.kicks[i]:
		case <-q.stop:
			return
		}
	}
}

// sendOne sends server i one batch, or a commit notice if there is nothing
// to send. It reports whether it did anything.
func (q *sequencer) sendOne(ctx context.Context, i int) (bool, error) {
	l := q.l
	s := l.servers[i]
	q.mu.Lock()
	if q.mu.closed {
		q.mu.Unlock()
		return false, nil
	}
	from := q.mu.sent[i]
	committed := q.mu.committed
	var batch []*appendReq
	var entries [][]byte
	// A server lags when it misses committed entries that already left
	// the queue.
	lagging := from < committed && (len(q.mu.queue) == 0 || from < q.mu.queue[0].pos)
	if !lagging && !q.mu.sealed {
		size := 0
		for _, r := range q.mu.queue {
			if r.end() <= from {
				continue
			}
			if len(entries) > 0 && size+r.bytes > q.maxBatch {
				break
			}
			entries = append(entries, r.entries[from+loglet.Position(len(entries))-r.pos:]...)
			size += r.bytes
			batch = append(batch, r)
			r.pending++
		}
	}
	notify := len(entries) == 0 && !lagging && q.mu.notified[i] < committed
	q.mu.Unlock()

	if lagging {
		// The server missed entries that are committed and gone from the
		// queue: copy them from the others.
		var err error
		if entries, err = l.fetch(ctx, s, from, committed); err != nil {
			return false, err
		}
	}
	if len(entries) == 0 {
		if !notify {
			return false, nil
		}
		st, err := l.call(ctx, s, func(ctx context.Context, s Server) (Status, error) { return s.Commit(ctx, l.id, committed) })
		if err != nil {
			return false, err
		}
		q.mu.Lock()
		q.mu.notified[i] = max(q.mu.notified[i], committed)
		q.noteSealedLocked(st)
		q.mu.Unlock()
		return true, nil
	}

	st, err := l.call(ctx, s, func(ctx context.Context, s Server) (Status, error) {
		return s.Store(ctx, l.id, from, entries, StoreOptions{Committed: committed})
	})

	q.mu.Lock()
	defer q.mu.Unlock()
	definite := errors.Is(err, loglet.ErrSealed) || errors.Is(err, ErrGap)
	for _, r := range batch {
		r.pending--
		// Stored, or perhaps stored: only a definite refusal says no.
		r.maybeStored = r.maybeStored || !definite
	}
	defer func() {
		if q.mu.sealed {
			q.failLocked()
		}
	}()
	switch {
	case err == nil:
		q.mu.sent[i] = max(q.mu.sent[i], st.LocalTail)
		q.mu.acked[i] = max(q.mu.acked[i], st.LocalTail)
		q.mu.notified[i] = max(q.mu.notified[i], committed)
		q.advanceLocked()
		return true, nil
	case errors.Is(err, loglet.ErrSealed):
		q.mu.sealed = true
		return true, nil
	case errors.Is(err, ErrGap):
		q.mu.sent[i] = st.LocalTail
		return true, nil
	default:
		return false, err
	}
}

func (q *sequencer) noteSealedLocked(st Status) {
	if st.Sealed && !q.mu.sealed {
		q.mu.sealed = true
		q.failLocked()
	}
}

// advanceLocked recomputes the committed tail (the highest position a
// majority holds) and acknowledges the appends below it.
// REQUIRES: q.mu held.
func (q *sequencer) advanceLocked() {
	acked := slices.Clone(q.mu.acked)
	slices.Sort(acked)
	c := min(acked[len(acked)-q.l.quorum], q.mu.next)
	if c <= q.mu.committed {
		return
	}
	q.mu.committed = c
	q.l.learn(c)
	n := 0
	for _, r := range q.mu.queue {
		if r.end() > c {
			break
		}
		q.mu.ids.Remember(r.id, r.pos)
		if !r.id.IsZero() {
			delete(q.mu.inflight, r.id)
		}
		close(r.done)
		n++
	}
	clear(q.mu.queue[:n])
	q.mu.queue = q.mu.queue[n:]
	if n > 0 {
		// The new committed tail is news for every server.
		q.kickAll()
	}
}

// failLocked fails, once the loglet is sealed, every queued append with no
// store under way: with loglet.ErrSealed if no server can hold it, with
// loglet.ErrOutcomeUnknown otherwise (a sealer's repair may still make it
// part of the log). Appends with stores under way are decided when those
// answer. REQUIRES: q.mu held.
func (q *sequencer) failLocked() {
	keep := q.mu.queue[:0]
	for _, r := range q.mu.queue {
		if r.pending > 0 {
			keep = append(keep, r)
			continue
		}
		r.err = loglet.ErrSealed
		if r.maybeStored {
			r.err = &loglet.OutcomeUnknownError{First: r.pos, N: len(r.entries), Cause: errSealedMidway}
		}
		if !r.id.IsZero() {
			delete(q.mu.inflight, r.id)
		}
		close(r.done)
	}
	clear(q.mu.queue[len(keep):])
	q.mu.queue = keep
}

func (q *sequencer) close() {
	q.mu.Lock()
	if q.mu.closed {
		q.mu.Unlock()
		return
	}
	q.mu.closed = true
	q.mu.Unlock()
	close(q.stop)
	q.wg.Wait()
	q.mu.Lock()
	for _, r := range q.mu.queue {
		r.err = fmt.Errorf("%w: %w", loglet.ErrOutcomeUnknown, loglet.ErrClosed)
		close(r.done)
	}
	q.mu.queue = nil
	q.mu.Unlock()
}
