package platform

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"google.golang.org/protobuf/proto"
)

// HeaderBase is the header the BaseEngine adds to every proposal: the
// proposer's incarnation and the proposal's sequence number, so that the
// result of applying it can be routed back.
const HeaderBase = "base"

// System keys the BaseEngine keeps in the LocalStore, in its own
// namespace "sys/" (see namespace.go).
var (
	keyApplied = []byte("sys/base/applied")
	keyDigest  = []byte("sys/base/digest")
	keyDurable = []byte("sys/base/durable")
)

// BaseConfig configures a BaseEngine.
type BaseConfig struct {
	// Log is the shared log (the node adapts a VirtualLog to it).
	Log Log
	// Store is the LocalStore. Writes to it are not fsynced: after a crash
	// the engine replays the log from its applied cursor.
	Store *pebble.DB
	// Logger receives the engine's log lines; nil discards them.
	Logger *slog.Logger
	// ReadBatch bounds the entries read from the log per call; 0 means 256.
	ReadBatch int
	// TrimInterval is how often the engine makes its applied state durable
	// and trims the log below what its voters allow; 0 means 1s.
	TrimInterval time.Duration
	// Restore, if set, is called on the apply goroutine when the log no
	// longer holds the next position to apply (it was trimmed while this
	// node lagged). It gets the current LocalStore, which nothing else
	// uses meanwhile, and returns the one to use from then on: a copy of
	// a replica's applied state further ahead (its cursor inside it), or,
	// on error, the old one (reopened if need be). Without Restore the
	// engine stops with a fatal error.
	Restore func(ctx context.Context, old *pebble.DB) (*pebble.DB, error)
	// ScratchFS and ScratchDir are where an entry's bulk writes are built
	// into a table before the store ingests it: a directory on the
	// store's filesystem (nil FS: the real one). Without ScratchDir an
	// entry's bulk writes fail.
	ScratchFS  vfs.FS
	ScratchDir string
}

// BaseEngine is the bottom of the engine stack. It appends proposals to the
// log, applies the log in order on one goroutine, routes results back to
// local proposers, serves Sync, and trims the log below its voters' lowest
// vote.
type BaseEngine struct {
	log         Log
	restore     func(context.Context, *pebble.DB) (*pebble.DB, error)
	logger      *slog.Logger
	readBatch   int
	trimEvery   time.Duration
	up          Upcall
	incarnation uint64
	nextSeq     atomic.Uint64

	applied atomic.Uint64 // first position not applied

	stop    chan struct{}
	done    chan struct{}
	started atomic.Bool

	mu struct {
		sync.Mutex
		// waiters routes results to local proposals, by sequence number.
		waiters map[uint64]chan Result
		// appliedCh is closed and replaced when applied advances.
		appliedCh chan struct{}
		// fatal is the error that stopped the apply loop, if any.
		fatal error
		// votes are the trim votes, by voter.
		votes map[string]Position
	}

	tails tailRounds

	// storeMu guards db: readers (views, checksums, trims) hold it shared
	// while they use the store; a restore replaces the store under it
	// exclusively. The apply goroutine reads db without it (only it
	// replaces db).
	storeMu sync.RWMutex
	db      *pebble.DB

	// Apply goroutine only: the entry transaction, reset and reused per
	// entry, and the proposals recently applied, to detect one applied
	// twice.
	txn       applyTxn
	recentIDs map[string]Position

	// pins is the snapshot views share while a bulk ingest is in flight.
	pins pins
	// bulkChecked: the store was checked for an entry's bulk writes
	// ingested but not committed (apply goroutine only).
	bulkChecked bool
}

var _ Engine = (*BaseEngine)(nil)

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
	b.txn.scratch = &bulkScratch{fs: cfg.ScratchFS, dir: cfg.ScratchDir}
	if b.txn.scratch.fs == nil {
		b.txn.scratch.fs = vfs.Default
	}
	if cfg.ScratchDir != "" {
		// Tables of bulk writes a stopped node was building.
		if err := b.txn.scratch.fs.RemoveAll(cfg.ScratchDir); err != nil {
			return nil, fmt.Errorf("clear the scratch directory: %w", err)
		}
	}
	b.mu.waiters = make(map[uint64]chan Result)
	b.mu.appliedCh = make(chan struct{})
	b.mu.votes = make(map[string]Position)
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
func (b *BaseEngine) RegisterUpcall(a Applicator) { b.up = NewUpcall(a) }

// Start starts the apply loop. REQUIRES: RegisterUpcall was called.
func (b *BaseEngine) Start() error {
	if !b.up.Valid() {
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
// ErrOutcomeUnknown. It returns the error that had stopped the apply loop
// before, if one did.
func (b *BaseEngine) Close() error {
	select {
	case <-b.stop:
	default:
		close(b.stop)
	}
	if b.started.Load() {
		<-b.done
	}
	return b.Err()
}

// Err returns the error that stopped the apply loop, or nil.
func (b *BaseEngine) Err() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.mu.fatal
}

// Propose implements Engine.
func (b *BaseEngine) Propose(ctx context.Context, e *Entry) (Result, error) {
	seq := b.nextSeq.Add(1)
	var h [16]byte
	binary.BigEndian.PutUint64(h[:8], b.incarnation)
	binary.BigEndian.PutUint64(h[8:], seq)
	SetHeader(e, HeaderBase, h[:])
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(e)
	if err != nil {
		return Result{}, err
	}
	ch := make(chan Result, 1)
	b.mu.Lock()
	if b.mu.fatal != nil {
		b.mu.Unlock()
		return Result{}, fmt.Errorf("%w: %v", ErrStopped, b.mu.fatal)
	}
	b.mu.waiters[seq] = ch
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.mu.waiters, seq)
		b.mu.Unlock()
	}()
	if _, err := b.log.Append(ctx, AppendID{Client: b.incarnation, Seq: seq}, [][]byte{raw}); err != nil {
		if errors.Is(err, ErrOutcomeUnknown) || ctx.Err() != nil {
			return Result{}, fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
		}
		return Result{}, err
	}
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		return Result{}, fmt.Errorf("%w: %w", ErrOutcomeUnknown, ctx.Err())
	case <-b.stop:
		return Result{}, fmt.Errorf("%w: %w", ErrOutcomeUnknown, ErrStopped)
	case <-b.done:
		return Result{}, fmt.Errorf("%w: %w", ErrOutcomeUnknown, ErrStopped)
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
	return b.LocalView()
}

// LocalView returns a snapshot of the applied state without syncing with
// the log: what a lease lets a node read. Its Applied is exactly the
// first position the snapshot does not reflect (the cursor is written in
// each entry's transaction). The view holds the store (shared) until it
// is closed.
func (b *BaseEngine) LocalView() (View, error) {
	b.storeMu.RLock()
	s, closeSnap := b.pins.snapshot(b.db)
	applied, err := readUint(s, keyApplied)
	if err != nil {
		closeSnap()
		b.storeMu.RUnlock()
		return nil, err
	}
	return &snapshotView{pebbleReader: pebbleReader{s}, closeSnap: closeSnap, applied: applied, release: b.storeMu.RUnlock}, nil
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

// advanced wakes the waiters for the applied position.
func (b *BaseEngine) advanced() {
	b.mu.Lock()
	close(b.mu.appliedCh)
	b.mu.appliedCh = make(chan struct{})
	b.mu.Unlock()
}

// Checksum waits until the node has applied at least up to atLeast, then
// returns its applied position and the digest of the state there: a hash
// chained over every write each entry's apply made, in order, kept up to
// date at apply in the same transaction. Two replicas that applied the
// same prefix of the log return the same digest at the same position;
// any difference in what one wrote (in any namespace) shows.
func (b *BaseEngine) Checksum(ctx context.Context, atLeast Position) (Position, []byte, error) {
	if err := b.waitApplied(ctx, atLeast); err != nil {
		return 0, nil, err
	}
	b.storeMu.RLock()
	defer b.storeMu.RUnlock()
	snap := b.db.NewSnapshot()
	defer snap.Close()
	return StateDigest(snap)
}

// StateDigest reads the applied cursor and the state digest a BaseEngine
// left in r (a snapshot, or a closed store such as a checkpoint): the
// first position the state does not reflect and the digest of the state
// there, as Checksum returns them. The cursor and the digest are written
// in the same transaction, so they always agree.
func StateDigest(r pebble.Reader) (Position, []byte, error) {
	applied, err := readUint(r, keyApplied)
	if err != nil {
		return 0, nil, err
	}
	v, closer, err := r.Get(keyDigest)
	if err == pebble.ErrNotFound {
		return applied, make([]byte, digestSize), nil
	}
	if err != nil {
		return 0, nil, err
	}
	defer closer.Close()
	return applied, append([]byte(nil), v...), nil
}

// AppliedPosition reads the applied cursor a BaseEngine left in db: the
// first position its state does not reflect.
func AppliedPosition(db pebble.Reader) (Position, error) { return readUint(db, keyApplied) }

// Done is closed when the apply loop has stopped, after Close or on a fatal
// error (then Err reports it).
func (b *BaseEngine) Done() <-chan struct{} { return b.done }
