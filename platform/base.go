package platform

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"google.golang.org/protobuf/proto"

	"hourglass/loglet"
)

// HeaderBase is the header the BaseEngine adds to every proposal: the
// proposer's incarnation and the proposal's sequence number, so that the
// result of applying it can be routed back.
const HeaderBase = "base"

// System keys the BaseEngine keeps in the LocalStore. Personalities live
// under their own prefixes (see Router); nothing else starts with "sys/".
var (
	keyApplied = []byte("sys/base/applied")
	keyDurable = []byte("sys/base/durable")
)

// BaseConfig configures a BaseEngine.
type BaseConfig struct {
	// Log is the shared log (a VirtualLog).
	Log Log
	// Store is the LocalStore. Writes to it are not fsynced: after a crash
	// the engine replays the log from its applied cursor.
	Store *pebble.DB
	// Logger receives the engine's log lines; nil discards them.
	Logger *slog.Logger
	// ReadBatch bounds the entries read from the log per call; 0 means 256.
	ReadBatch int
	// TrimInterval is how often the engine makes its applied state durable
	// and trims the log below what it may discard; 0 means 1s.
	TrimInterval time.Duration
	// Restore, if set, is called on the apply goroutine when the log no
	// longer holds the next position to apply (it was trimmed while this
	// node lagged). It gets the current LocalStore, which nothing else
	// uses meanwhile, and returns the one to use from then on: a copy of
	// a replica's applied state further ahead (its cursor inside it), or,
	// on error, the old one (reopened if need be). Without Restore the
	// engine stops with a fatal error.
	Restore func(ctx context.Context, old *pebble.DB) (*pebble.DB, error)
}

// BaseEngine is the bottom of the engine stack. It appends proposals to the
// log, applies the log in order on one goroutine, routes results back to
// local proposers, and serves Sync.
type BaseEngine struct {
	log         Log
	restore     func(context.Context, *pebble.DB) (*pebble.DB, error)
	logger      *slog.Logger
	readBatch   int
	trimEvery   time.Duration
	upper       Applicator
	incarnation uint64
	nextSeq     atomic.Uint64

	applied   atomic.Uint64 // first position not applied
	trimAsked atomic.Uint64 // highest position the layers above allow trimming below

	stop    chan struct{}
	done    chan struct{}
	started atomic.Bool

	mu struct {
		sync.Mutex
		// waiters routes results to local proposals, by sequence number.
		waiters map[uint64]chan proposalResult
		// appliedCh is closed and replaced when applied advances.
		appliedCh chan struct{}
		// fatal is the error that stopped the apply loop, if any.
		fatal error
	}

	tails tailRounds

	// storeMu guards db: readers (views, checksums, trims) hold it shared
	// while they use the store; a restore replaces the store under it
	// exclusively. The apply goroutine reads db without it (only it
	// replaces db).
	storeMu sync.RWMutex
	db      *pebble.DB

	// batch is the apply loop's transaction, reset and reused per entry.
	// Only the apply goroutine touches it.
	batch *pebble.Batch
	// recentIDs remembers recently applied proposals' ids (apply
	// goroutine only), to detect one applied twice.
	recentIDs map[string]Position
}

type proposalResult struct {
	value any
	pos   Position
}

// NewBase returns a BaseEngine positioned at the LocalStore's applied
// cursor. Register the layer above, then call Start.
func NewBase(cfg BaseConfig) (*BaseEngine, error) {
	if cfg.Log == nil || cfg.Store == nil {
		return nil, errors.New("platform: BaseConfig needs Log and Store")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ReadBatch <= 0 {
		cfg.ReadBatch = 256
	}
	if cfg.TrimInterval <= 0 {
		cfg.TrimInterval = time.Second
	}
	var inc [8]byte
	if _, err := rand.Read(inc[:]); err != nil {
		return nil, err
	}
	b := &BaseEngine{
		log:         cfg.Log,
		db:          cfg.Store,
		restore:     cfg.Restore,
		logger:      cfg.Logger,
		readBatch:   cfg.ReadBatch,
		trimEvery:   cfg.TrimInterval,
		incarnation: binary.BigEndian.Uint64(inc[:]) | 1, // never zero
		stop:        make(chan struct{}),
		done:        make(chan struct{}),
	}
	b.mu.waiters = make(map[uint64]chan proposalResult)
	b.mu.appliedCh = make(chan struct{})
	applied, err := readUint(b.db, keyApplied)
	if err != nil {
		return nil, err
	}
	b.applied.Store(applied)
	b.tails.check = b.log.CheckTail
	return b, nil
}

func readUint(r pebble.Reader, key []byte) (uint64, error) {
	v, closer, err := r.Get(key)
	if err == pebble.ErrNotFound {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer closer.Close()
	if len(v) != 8 {
		return 0, fmt.Errorf("platform: %s holds %d bytes", key, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// RegisterUpcall implements Engine.
func (b *BaseEngine) RegisterUpcall(a Applicator) { b.upper = a }

// Start starts the apply loop. REQUIRES: RegisterUpcall was called.
func (b *BaseEngine) Start() error {
	if b.upper == nil {
		return errors.New("platform: Start before RegisterUpcall")
	}
	if !b.started.CompareAndSwap(false, true) {
		return errors.New("platform: started twice")
	}
	b.logger.Info("apply loop starting", "applied", b.applied.Load())
	go b.run()
	return nil
}

// Applied returns the first position this node has not applied.
func (b *BaseEngine) Applied() Position { return b.applied.Load() }

// Close stops the apply loop. Proposals waiting for a result fail with
// ErrOutcomeUnknown.
func (b *BaseEngine) Close() error {
	select {
	case <-b.stop:
	default:
		close(b.stop)
	}
	if b.started.Load() {
		<-b.done
	}
	return nil
}

// Err returns the error that stopped the apply loop, or nil.
func (b *BaseEngine) Err() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.mu.fatal
}

// Propose implements Engine.
func (b *BaseEngine) Propose(ctx context.Context, e *Entry) (any, error) {
	seq := b.nextSeq.Add(1)
	if e.Headers == nil {
		e.Headers = map[string][]byte{}
	}
	var h [16]byte
	binary.BigEndian.PutUint64(h[:8], b.incarnation)
	binary.BigEndian.PutUint64(h[8:], seq)
	e.Headers[HeaderBase] = h[:]
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(e)
	if err != nil {
		return nil, err
	}
	ch := make(chan proposalResult, 1)
	b.mu.Lock()
	if b.mu.fatal != nil {
		b.mu.Unlock()
		return nil, fmt.Errorf("%w: %v", ErrStopped, b.mu.fatal)
	}
	b.mu.waiters[seq] = ch
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.mu.waiters, seq)
		b.mu.Unlock()
	}()
	if _, err := b.log.Append(ctx, loglet.AppendID{Client: b.incarnation, Seq: seq}, [][]byte{raw}); err != nil {
		if errors.Is(err, loglet.ErrOutcomeUnknown) || ctx.Err() != nil {
			return nil, fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
		}
		return nil, err
	}
	select {
	case r := <-ch:
		return r.value, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrOutcomeUnknown, ctx.Err())
	case <-b.stop:
		return nil, fmt.Errorf("%w: %w", ErrOutcomeUnknown, ErrStopped)
	case <-b.done:
		return nil, fmt.Errorf("%w: %w", ErrOutcomeUnknown, ErrStopped)
	}
}

// Sync implements Engine.
func (b *BaseEngine) Sync(ctx context.Context) (View, error) {
	tail, err := b.tails.get(ctx)
	if err != nil {
		return nil, err
	}
	if err := b.waitApplied(ctx, tail); err != nil {
		return nil, err
	}
	return b.view(), nil
}

// view returns a snapshot of the applied state. The view holds the store
// (shared) until it is closed.
func (b *BaseEngine) view() View {
	b.storeMu.RLock()
	// The applied position read before the snapshot is a lower bound of
	// what the snapshot reflects, which is what callers rely on.
	applied := b.applied.Load()
	s := b.db.NewSnapshot()
	return &snapshotView{pebbleReader: pebbleReader{s}, snap: s, applied: applied, release: b.storeMu.RUnlock}
}

// Store returns the LocalStore in use. REQUIRES: the engine is closed (it
// may replace the store while it runs).
func (b *BaseEngine) Store() *pebble.DB { return b.db }

// WithStore runs f with the LocalStore in use, which stays in place until
// f returns.
func (b *BaseEngine) WithStore(f func(*pebble.DB) error) error {
	b.storeMu.RLock()
	defer b.storeMu.RUnlock()
	return f(b.db)
}

// waitApplied blocks until applied >= pos.
func (b *BaseEngine) waitApplied(ctx context.Context, pos Position) error {
	for {
		b.mu.Lock()
		ch, fatal := b.mu.appliedCh, b.mu.fatal
		b.mu.Unlock()
		if b.applied.Load() >= pos {
			return nil
		}
		if fatal != nil {
			return fmt.Errorf("%w: %v", ErrStopped, fatal)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-b.stop:
			return ErrStopped
		}
	}
}

// SetTrimPrefix implements Engine. The engine trims the log below
// min(pos, what its durable applied state covers) at its next trim tick.
func (b *BaseEngine) SetTrimPrefix(pos Position) {
	for {
		cur := b.trimAsked.Load()
		if pos <= cur || b.trimAsked.CompareAndSwap(cur, pos) {
			return
		}
	}
}

// run is the apply loop.
func (b *BaseEngine) run() {
	defer close(b.done)
	defer func() {
		if b.batch != nil {
			b.batch.Close()
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-b.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	var trimmed Position
	go b.trimLoop(ctx, &trimmed)
	for {
		next := b.applied.Load()
		raws, err := b.log.ReadNext(ctx, next, b.readBatch)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if errors.Is(err, loglet.ErrTrimmed) {
				if b.restore == nil {
					b.fail(fmt.Errorf("log trimmed below this node's applied position %d; the node must be restored from a checkpoint", next))
					return
				}
				b.restoreStore(ctx, next)
				continue
			}
			b.logger.Warn("reading the log failed; retrying", "pos", next, "err", err)
			select {
			case <-time.After(10 * time.Millisecond):
			case <-ctx.Done():
				return
			}
			continue
		}
		for i, raw := range raws {
			if err := b.applyOne(raw, next+Position(i)); err != nil {
				b.fail(err)
				return
			}
		}
		b.mu.Lock()
		close(b.mu.appliedCh)
		b.mu.appliedCh = make(chan struct{})
		b.mu.Unlock()
	}
}

// restoreStore replaces the LocalStore with a replica's checkpoint, the
// log having been trimmed past this node's position next. It retries until
// it works or the engine stops.
func (b *BaseEngine) restoreStore(ctx context.Context, next Position) {
	b.logger.Warn("the log was trimmed past this node's applied state; restoring from a replica", "applied", next)
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		b.storeMu.Lock()
		if b.batch != nil {
			b.batch.Close()
			b.batch = nil
		}
		db, err := b.restore(ctx, b.db)
		if db != nil {
			b.db = db
		}
		var applied Position
		if err == nil {
			applied, err = readUint(b.db, keyApplied)
		}
		b.storeMu.Unlock()
		if err == nil && applied > next {
			b.applied.Store(applied)
			b.mu.Lock()
			close(b.mu.appliedCh) // wake Syncs waiting for what the checkpoint holds
			b.mu.appliedCh = make(chan struct{})
			b.mu.Unlock()
			b.logger.Info("restored the applied state from a replica", "applied", applied)
			return
		}
		if err == nil {
			err = fmt.Errorf("the checkpoint is at %d, not past %d", applied, next)
		}
		b.logger.Warn("restoring from a replica failed; retrying", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// applyOne applies the entry at pos in its own LocalStore transaction.
func (b *BaseEngine) applyOne(raw []byte, pos Position) error {
	e := &Entry{}
	decodeErr := proto.Unmarshal(raw, e)
	if b.batch == nil {
		b.batch = b.db.NewIndexedBatch()
	}
	batch := b.batch
	batch.Reset()
	var cursor [8]byte
	binary.BigEndian.PutUint64(cursor[:], pos+1)
	if err := batch.Set(keyApplied, cursor[:], nil); err != nil {
		return err
	}
	var result any
	if decodeErr != nil {
		// Every replica sees the same bytes and skips them the same way.
		b.logger.Error("skipping undecodable log entry", "pos", pos, "err", decodeErr)
	} else {
		var err error
		result, err = b.upper.Apply(batchTxn{pebbleReader{batch}, batch}, e, pos)
		if err != nil {
			return fmt.Errorf("apply at %d: %w", pos, err)
		}
	}
	if err := batch.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("commit apply at %d: %w", pos, err)
	}
	b.applied.Store(pos + 1)
	if decodeErr != nil {
		return nil
	}
	if h := e.Headers[HeaderBase]; len(h) == 16 {
		b.checkOnce(h, pos)
	}
	if h := e.Headers[HeaderBase]; len(h) == 16 && binary.BigEndian.Uint64(h[:8]) == b.incarnation {
		seq := binary.BigEndian.Uint64(h[8:])
		b.mu.Lock()
		ch := b.mu.waiters[seq]
		b.mu.Unlock()
		if ch != nil {
			select {
			case ch <- proposalResult{value: result, pos: pos}:
			default: // a duplicate of an entry already answered
			}
		}
	}
	b.upper.PostApply(e, pos)
	return nil
}

// checkOnce logs an entry proposed once but applied twice (the log holds
// it at two positions), which must never happen.
func (b *BaseEngine) checkOnce(h []byte, pos Position) {
	id := string(h)
	if prev, ok := b.recentIDs[id]; ok {
		b.logger.Error("proposal applied twice", "first", prev, "again", pos, "inc", binary.BigEndian.Uint64(h[:8]), "seq", binary.BigEndian.Uint64(h[8:]))
	}
	if b.recentIDs == nil {
		b.recentIDs = map[string]Position{}
	}
	b.recentIDs[id] = pos
	if len(b.recentIDs) > 100000 {
		clear(b.recentIDs)
	}
}

func (b *BaseEngine) fail(err error) {
	b.logger.Error("apply loop stopped", "err", err)
	b.mu.Lock()
	b.mu.fatal = err
	close(b.mu.appliedCh)
	b.mu.appliedCh = make(chan struct{})
	b.mu.Unlock()
}

// trimLoop periodically makes the applied state durable and trims the log
// below both the durable applied position and what the layers above allow.
func (b *BaseEngine) trimLoop(ctx context.Context, trimmed *Position) {
	t := time.NewTicker(b.trimEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		target := min(b.trimAsked.Load(), b.applied.Load())
		if target <= *trimmed {
			continue
		}
		// A synced write flushes the store's WAL, making every apply
		// before it durable.
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], target)
		if err := b.WithStore(func(db *pebble.DB) error { return db.Set(keyDurable, v[:], pebble.Sync) }); err != nil {
			b.logger.Warn("making applied state durable failed", "err", err)
			continue
		}
		if err := b.log.PrefixTrim(ctx, target); err != nil {
			if ctx.Err() == nil {
				b.logger.Warn("trimming the log failed", "pos", target, "err", err)
			}
			continue
		}
		*trimmed = target
		b.logger.Debug("log trimmed", "below", target)
	}
}

// tailRounds shares CheckTail calls among concurrent Syncs. A Sync may only
// use a CheckTail that began after the Sync did, so callers join the next
// round to start, never one already under way.
type tailRounds struct {
	check func(context.Context) (Position, error)
	mu    sync.Mutex
	// running is the round under way; waiting is the one that starts when
	// it finishes.
	running, waiting *tailRound
}

type tailRound struct {
	done chan struct{}
	tail Position
	err  error
}

func (t *tailRounds) get(ctx context.Context) (Position, error) {
	t.mu.Lock()
	if t.running == nil {
		// No round under way: run one here, in the caller's goroutine.
		r := &tailRound{done: make(chan struct{})}
		t.running = r
		t.mu.Unlock()
		t.finish(r)
		return r.tail, r.err
	}
	r := t.waiting
	if r == nil {
		r = &tailRound{done: make(chan struct{})}
		t.waiting = r
	}
	t.mu.Unlock()
	select {
	case <-r.done:
		return r.tail, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// finish runs round r, publishes its result, and starts the waiting round
// (on its own goroutine: its callers are blocked, not running).
func (t *tailRounds) finish(r *tailRound) {
	// Rounds serve many callers; bound them instead of using one
	// caller's context.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	r.tail, r.err = t.check(ctx)
	cancel()
	close(r.done)
	t.mu.Lock()
	next := t.waiting
	t.running, t.waiting = next, nil
	t.mu.Unlock()
	if next != nil {
		go t.finish(next)
	}
}

// Checksum waits until the node has applied at least up to atLeast, then
// hashes (SHA-256) every personality key and value of a snapshot, in key
// order. Two replicas that applied the same prefix of the log return the
// same sum at the same applied position.
func (b *BaseEngine) Checksum(ctx context.Context, atLeast Position) (Position, []byte, error) {
	if err := b.waitApplied(ctx, atLeast); err != nil {
		return 0, nil, err
	}
	b.storeMu.RLock()
	defer b.storeMu.RUnlock()
	snap := b.db.NewSnapshot()
	defer snap.Close()
	// The cursor is written in the same transaction as the state, so the
	// snapshot's own cursor tells which position it reflects.
	applied, err := readUint(snap, keyApplied)
	if err != nil {
		return 0, nil, err
	}
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: []byte("p/"), UpperBound: []byte("p0")})
	if err != nil {
		return 0, nil, err
	}
	defer it.Close()
	h := sha256.New()
	var n [8]byte
	for it.First(); it.Valid(); it.Next() {
		binary.BigEndian.PutUint64(n[:], uint64(len(it.Key())))
		h.Write(n[:])
		h.Write(it.Key())
		v, err := it.ValueAndErr()
		if err != nil {
			return 0, nil, err
		}
		binary.BigEndian.PutUint64(n[:], uint64(len(v)))
		h.Write(n[:])
		h.Write(v)
	}
	return applied, h.Sum(nil), it.Error()
}

// AppliedPosition reads the applied cursor a BaseEngine left in db: the
// first position its state does not reflect.
func AppliedPosition(db pebble.Reader) (Position, error) { return readUint(db, keyApplied) }

// Done is closed when the apply loop has stopped, after Close or on a fatal
// error (then Err reports it).
func (b *BaseEngine) Done() <-chan struct{} { return b.done }

// MakeDurable fsyncs the applied state (SAVE): after it returns, a crash
// of the machine loses no applied entry, and the log below it may be
// trimmed.
func (b *BaseEngine) MakeDurable() error {
	applied := b.applied.Load()
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], applied)
	return b.WithStore(func(db *pebble.DB) error { return db.Set(keyDurable, v[:], pebble.Sync) })
}
