// Package lease is the LeaseEngine: it lets a node serve linearizable
// reads from its own applied state without asking the log for its tail.
//
// Every node that serves reads holds a read lease, granted through the
// log: the node proposes a grant entry (its id, incarnation, a sequence
// number and the lease's term D) and the lease is its own from the moment
// it applied that entry until D after it proposed it, by its own
// monotonic clock. It renews the lease every D/4 while the nodes that
// hold leases hear it.
//
// The other side of the bargain: a node hears every other node's applied
// position (the node pushes it to its peers; see ObservePeer), and
// before it acknowledges a write at position p, or answers a read of
// state up to position s, it waits until every other node whose lease is
// still live has applied that far, or until that lease has expired by
// this node's clock. A lease is live, for the nodes that applied its
// grant, until D plus a margin after they applied it: they applied it
// after it was proposed, so (with clock rates within the margin of real
// time) the holder stopped using it before they consider it gone. Hence
//
//   - a write acknowledged anywhere is applied on every node that may
//     answer a read from a lease: a read under a lease whose grant the
//     read's snapshot includes sees it (a node that applied the grant
//     before the write waited for the holder; a grant after the write is
//     in the holder's state only after the write);
//   - no read returns state that some lease holder has not applied, so a
//     later read on another node never goes back in time.
//
// A node without a live lease (just started, cut off) syncs with the
// log's tail as before; its reads are gated the same way.
//
// Assumptions (see docs/ARCHITECTURE.md): clocks that run within 3% of
// real time (never synchronized clocks), and a monotonic clock that keeps
// counting while the process is paused (a suspended machine is outside
// this: Linux's CLOCK_MONOTONIC stops during system suspend).
package lease

import (
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"hourglass/platform"
)

// Header is the entry header the lease engine owns: a grant.
const Header = "lease"

// DefaultTerm is a lease's term when Config.Term is zero.
const DefaultTerm = time.Second

// grantPrefix keys the grants in the engine's namespace, by node id.
var grantPrefix = []byte("g/")

// Config configures the engine.
type Config struct {
	// Node is this node's id, unique in the ensemble.
	Node string
	// Term is how long a lease lasts after its grant was proposed; 0
	// means DefaultTerm, negative disables leases (every read syncs with
	// the log's tail, and nothing waits for other nodes).
	Term time.Duration
	// Logger receives the engine's log lines; nil discards them.
	Logger *slog.Logger
	// Clock is the monotonic clock; nil means time.Now.
	Clock func() time.Time
}

// localViewer is what the engine needs from the layer below: a view of
// the applied state without a trip to the log.
type localViewer interface {
	LocalView() (platform.View, error)
}

// Engine is the lease layer. It sits on the BaseEngine.
type Engine struct {
	platform.Layer
	local  localViewer
	node   string
	term   time.Duration
	logger *slog.Logger
	clock  func() time.Time
	inc    uint64

	// applied is the first position this node has not applied, as of the
	// entries that went through this layer (pushed to the peers).
	applied atomic.Uint64
	// leased and synced count the reads answered under the lease and
	// those that synced with the log's tail.
	leased, synced atomic.Uint64

	mu struct {
		sync.Mutex
		// holders are the other nodes' leases, by node id, with when
		// this node considers each gone.
		holders map[string]holder
		// peers are the other nodes' applied positions as they told them.
		peers map[string]platform.Position
		// acked is when each peer last acknowledged a push of ours.
		acked map[string]time.Time
		// changed is closed and replaced when holders, peers or applied
		// change, if anyone took it (watched) since it was made: most
		// applies happen with no one waiting, and cost no channel.
		changed chan struct{}
		watched bool
		// own is this node's lease; pending the grants it proposed and
		// has not applied, by sequence number, with when it proposed them.
		own     ownLease
		pending map[uint64]time.Time
		// base is the sequence number of the last own grant applied.
		base uint64
	}
	seq atomic.Uint64

	// Apply goroutine only: the last position seen, to notice a jump (a
	// restore from a replica's checkpoint).
	last    platform.Position
	seen    bool
	honored bool // the grant just applied was honoured
	stop    chan struct{}
	stopped sync.Once
	wg      sync.WaitGroup
}

// holder is another node's lease as this node honours it: until gone,
// by this node's clock (the lease's term and a margin after this node
// applied its grant: enough for clock rates within 3% of real time on
// both sides, as (1+ε)/(1-ε)² ≤ 1.125 for ε ≤ 0.039).
type holder struct {
	inc  uint64
	gone time.Time
}

type ownLease struct {
	pos    platform.Position // the grant's position
	expiry time.Time         // by this node's clock
	valid  bool
}

var (
	_ platform.Engine          = (*Engine)(nil)
	_ platform.Applicator      = (*Engine)(nil)
	_ platform.EntryApplicator = (*Engine)(nil)
	_ platform.Named           = (*Engine)(nil)
)

// New returns the lease layer on top of lower (a BaseEngine, or anything
// offering LocalView) and registers it there. It reads the grants the
// applied state holds, so a node that restarts honours the leases it
// knew of. Call Start once the stack is started.
func New(lower platform.Engine, cfg Config) (*Engine, error) {
	local, ok := lower.(localViewer)
	if !ok {
		return nil, errors.New("lease: the layer below offers no local view")
	}
	if cfg.Term == 0 {
		cfg.Term = DefaultTerm
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	e := &Engine{
		Layer:  platform.Layer{Lower: lower},
		local:  local,
		node:   cfg.Node,
		term:   cfg.Term,
		logger: cfg.Logger,
		clock:  cfg.Clock,
		inc:    uint64(cfg.Clock().UnixNano()),
		stop:   make(chan struct{}),
	}
	e.mu.holders = map[string]holder{}
	e.mu.peers = map[string]platform.Position{}
	e.mu.acked = map[string]time.Time{}
	e.mu.pending = map[uint64]time.Time{}
	e.mu.changed = make(chan struct{})
	v, err := local.LocalView()
	if err != nil {
		return nil, err
	}
	defer v.Close()
	e.applied.Store(v.Applied())
	grants, err := readGrants(platform.EngineReader(v, e.Name()))
	if err != nil {
		return nil, err
	}
	e.adopt(grants)
	lower.RegisterUpcall(e)
	return e, nil
}

// Name implements platform.Named.
func (e *Engine) Name() string { return "lease" }

// Enabled reports whether the engine grants leases.
func (e *Engine) Enabled() bool { return e.term > 0 }

// Term is a lease's term.
func (e *Engine) Term() time.Duration { return e.term }

// Start begins renewing this node's lease.
func (e *Engine) Start() {
	if !e.Enabled() {
		return
	}
	e.wg.Add(1)
	go e.renewLoop()
}

// Close stops renewing; the lease lapses by itself.
func (e *Engine) Close() {
	e.stopped.Do(func() { close(e.stop) })
	e.wg.Wait()
}

// Applied returns the first position this node has not applied, and a
// channel closed when that (or anything the gate depends on) changes.
func (e *Engine) Applied() (platform.Position, <-chan struct{}) {
	e.mu.Lock()
	ch := e.watchLocked()
	e.mu.Unlock()
	return e.applied.Load(), ch
}

// ObservePeer records that node has applied every position below
// applied (the node hears it from the peer).
func (e *Engine) ObservePeer(node string, applied platform.Position) {
	if node == e.node {
		return
	}
	e.mu.Lock()
	if applied > e.mu.peers[node] {
		e.mu.peers[node] = applied
		e.changedLocked()
	}
	e.mu.Unlock()
}

// Acked records that node acknowledged a push of this node's applied
// position: it hears this node.
func (e *Engine) Acked(node string) {
	e.mu.Lock()
	e.mu.acked[node] = e.clock()
	e.mu.Unlock()
}

// changedLocked wakes everything waiting on the gate. REQUIRES: e.mu.
func (e *Engine) changedLocked() {
	if !e.mu.watched {
		return
	}
	close(e.mu.changed)
	e.mu.changed = make(chan struct{})
	e.mu.watched = false
}

// watchLocked returns the channel closed at the next change. REQUIRES:
// e.mu.
func (e *Engine) watchLocked() <-chan struct{} {
	e.mu.watched = true
	return e.mu.changed
}

// Propose implements platform.Engine: the result is returned once every
// live lease holder has applied the entry (or its lease expired).
func (e *Engine) Propose(ctx context.Context, entry *platform.Entry) (platform.Result, error) {
	r, err := e.Lower.Propose(ctx, entry)
	if err != nil || !e.Enabled() {
		return r, err
	}
	// The entry has applied here, so applied is past it.
	if err := e.gate(ctx, e.applied.Load()); err != nil {
		return platform.Result{}, errors.Join(platform.ErrOutcomeUnknown, err)
	}
	return r, nil
}

// Sync implements platform.Engine: under a live lease it returns the
// applied state at once; without one it syncs with the log's tail. Either
// way the view's state is applied on every live lease holder first.
func (e *Engine) Sync(ctx context.Context) (platform.View, error) {
	if !e.Enabled() {
		return e.Lower.Sync(ctx)
	}
	v, err := e.leasedView()
	if err != nil {
		return nil, err
	}
	if v == nil {
		e.synced.Add(1)
		if v, err = e.Lower.Sync(ctx); err != nil {
			return nil, err
		}
	} else {
		e.leased.Add(1)
	}
	if v.Applied() > e.applied.Load()+1 {
		// The store holds entries this layer never saw applied (the
		// node restored a replica's checkpoint): honour the grants in
		// it before answering from it. (One entry ahead is the entry
		// committed but not yet through PostApplyEntry.)
		grants, err := readGrants(platform.EngineReader(v, e.Name()))
		if err != nil {
			v.Close()
			return nil, err
		}
		e.adopt(grants)
	}
	if err := e.gate(ctx, v.Applied()); err != nil {
		v.Close()
		return nil, err
	}
	return v, nil
}

// leasedView returns a view of the applied state if this node's lease
// covers it: the view includes the lease's grant, and the lease had not
// expired once the view was taken. It returns nil without a lease.
func (e *Engine) leasedView() (platform.View, error) {
	e.mu.Lock()
	own := e.mu.own
	e.mu.Unlock()
	if !own.valid || !e.clock().Before(own.expiry) {
		return nil, nil
	}
	v, err := e.local.LocalView()
	if err != nil {
		return nil, err
	}
	// Checked after the snapshot: the lease held when it was taken.
	if v.Applied() <= own.pos || !e.clock().Before(own.expiry) {
		v.Close()
		return nil, nil
	}
	return v, nil
}

// Leased reports whether this node holds a live lease now.
func (e *Engine) Leased() bool {
	e.mu.Lock()
	own := e.mu.own
	e.mu.Unlock()
	return own.valid && e.clock().Before(own.expiry)
}

// gate waits until every other node with a live lease has applied every
// position below pos, or its lease is gone.
func (e *Engine) gate(ctx context.Context, pos platform.Position) error {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		e.mu.Lock()
		now := e.clock()
		var wait time.Duration
		for node, h := range e.mu.holders {
			if !now.Before(h.gone) || e.mu.peers[node] >= pos {
				continue
			}
			if d := h.gone.Sub(now); wait == 0 || d < wait {
				wait = d
			}
		}
		ch := e.watchLocked()
		e.mu.Unlock()
		if wait == 0 {
			return nil
		}
		if timer == nil {
			timer = time.NewTimer(wait)
		} else {
			timer.Reset(wait)
		}
		select {
		case <-ch:
		case <-timer.C:
		case <-ctx.Done():
			return ctx.Err()
		case <-e.stop:
			return platform.ErrStopped
		}
	}
}

// Reads returns how many reads were answered under the lease and how
// many synced with the log's tail.
func (e *Engine) Reads() (leased, synced uint64) { return e.leased.Load(), e.synced.Load() }

// Holders returns the other nodes holding live leases, as this node
// knows them, and whether this node holds one.
func (e *Engine) Holders() (others []string, self bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.clock()
	for node, h := range e.mu.holders {
		if now.Before(h.gone) {
			others = append(others, node)
		}
	}
	return others, e.mu.own.valid && now.Before(e.mu.own.expiry)
}

// grant is a grant entry's header. base is the sequence number of the
// last of its own grants the node had applied when it proposed this one:
// a grant is honoured only if its node applied the one honoured before
// it (of the same run), so a node that stopped applying, yet can still
// append, cannot keep extending a lease it cannot serve.
type grant struct {
	node     string
	inc, seq uint64
	base     uint64
	term     time.Duration
}

func (g grant) encode() []byte {
	b := make([]byte, 0, 28+len(g.node))
	b = binary.BigEndian.AppendUint64(b, g.inc)
	b = binary.BigEndian.AppendUint64(b, g.seq)
	b = binary.BigEndian.AppendUint64(b, g.base)
	b = binary.BigEndian.AppendUint32(b, uint32(g.term/time.Millisecond))
	return append(b, g.node...)
}

func decodeGrant(b []byte) (grant, bool) {
	if len(b) < 28 {
		return grant{}, false
	}
	return grant{
		inc:  binary.BigEndian.Uint64(b),
		seq:  binary.BigEndian.Uint64(b[8:]),
		base: binary.BigEndian.Uint64(b[16:]),
		term: time.Duration(binary.BigEndian.Uint32(b[24:])) * time.Millisecond,
		node: string(b[28:]),
	}, true
}

// follows reports whether g may be honoured after prev, the node's grant
// honoured last.
func (g grant) follows(prev grant) bool {
	return prev.inc != g.inc || g.base >= prev.seq
}
