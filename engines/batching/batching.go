// Package batching is the engine that puts many proposals in one log
// entry, applied in one LocalStore transaction, and the stack's one place
// where writes are bundled. While a batch is on its way through the log,
// new proposals queue; the next batch carries all of them. A lone
// proposal on an idle node goes at once, alone, so batching adds no
// latency when there is nothing to batch.
//
// Streams are ordered proposers: the proposals made on one stream apply
// in the order made (a connection's pipelined writes, a session's
// requests). A batch holds a stream's proposals in order, and a stream
// never has two batches under way at once (two appends in flight may land
// in either order), so its later proposals wait in the queue, and join the
// next batch together, while one of its batches is in flight.
//
// A batch is one entry whose Batch field holds the proposals, so the
// entry is marshalled once, at the bottom of the stack. At apply the
// engine applies each proposal in order inside the entry's transaction,
// at sub-positions 0, 1, ...; each proposal inherits the headers the
// layers below set on the entry (the timekeeper's time) where it has none
// of its own. The per-entry hook then runs at the next sub-position. Each
// proposer gets its own proposal's Result. An entry holding a single
// proposal is sent as that proposal itself.
//
//	b := batching.New(timekeeper.New(base, nil), batching.Config{})
//	router := platform.NewRouter(b)
//	s := b.NewStream()
//	p1, p2 := s.Propose(e1), s.Propose(e2) // e1 applies before e2
package batching

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"hourglass/platform"
)

// Config configures the engine. Zero fields take the defaults.
type Config struct {
	// MaxProposals bounds the proposals in one batch; default 4096.
	MaxProposals int
	// MaxBytes bounds a batch's encoded size; default 4 MiB. A single
	// larger proposal travels alone.
	MaxBytes int
	// MaxInFlight is how many batches may be on their way through the log
	// at once before proposals queue; default 1. The native loglet below
	// already overlaps a batch's replication with the next one's (its
	// sequencer keeps a store in flight per LogServer and bundles what
	// queues meanwhile), so a second batch in flight here overlaps
	// nothing more: it only splits one entry's proposals over two, and
	// pays each entry's costs (sequencing, the apply transaction, the
	// digest) twice. One in flight measured faster on one node and on
	// three, pipelined or not (docs/BENCHMARKS.md).
	MaxInFlight int
	// Timeout bounds how long a batch may take; default 30s. Proposers of
	// a batch that times out learn platform.ErrOutcomeUnknown.
	Timeout time.Duration
}

func (c *Config) ensureDefaults() {
	if c.MaxProposals <= 0 {
		c.MaxProposals = 4096
	}
	c.MaxProposals = min(c.MaxProposals, platform.MaxSub/2)
	if c.MaxBytes <= 0 {
		c.MaxBytes = 4 << 20
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = 1
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
}

// ErrTooLarge refuses, at apply, a batch with more proposals than an
// entry's sub-positions can number.
var ErrTooLarge = errors.New("batching: batch too large")

// Engine is the batching layer.
type Engine struct {
	platform.Layer
	cfg Config

	mu struct {
		sync.Mutex
		queue    []*proposal
		inFlight int
	}

	// applied holds the proposals of the entry being applied, between
	// Apply and PostApply. Only the apply goroutine touches it.
	applied []*platform.Entry
}

var (
	_ platform.Engine          = (*Engine)(nil)
	_ platform.Streamer        = (*Engine)(nil)
	_ platform.Applicator      = (*Engine)(nil)
	_ platform.EntryApplicator = (*Engine)(nil)
)

type proposal struct {
	e      *platform.Entry
	size   int
	stream *stream // nil: unordered
	p      *platform.Pending
	// wait is how long the proposer is willing to wait (0: no more than
	// Config.Timeout): a batch may take as long as its most patient
	// proposer allows, so a long apply (a large transaction's commit)
	// is not cut short by the default.
	wait time.Duration
}

// stream is one ordered proposer.
type stream struct {
	b *Engine
	// inFlight: a batch holding its proposals is under way; taking: the
	// batch being formed holds its proposals. Guarded by the engine's mu.
	inFlight bool
	taking   bool
	// held are the proposals not flushed yet, in order.
	mu   sync.Mutex
	held []*proposal
}

// New returns a batching engine on top of lower and registers it there.
func New(lower platform.Engine, cfg Config) *Engine {
	cfg.ensureDefaults()
	e := &Engine{Layer: platform.Layer{Lower: lower}, cfg: cfg}
	lower.RegisterUpcall(e)
	return e
}

// Propose implements platform.Engine.
func (b *Engine) Propose(ctx context.Context, e *platform.Entry) (platform.Result, error) {
	p := &proposal{e: e, size: proto.Size(e), p: platform.NewPending(nil)}
	if d, ok := ctx.Deadline(); ok {
		p.wait = time.Until(d)
	}
	b.enqueue([]*proposal{p}, true)
	return p.p.Wait(ctx)
}

// NewStream implements platform.Streamer.
func (b *Engine) NewStream() platform.Stream { return &stream{b: b} }

// Propose implements platform.Stream: the proposal is held until the
// stream is flushed.
func (s *stream) Propose(e *platform.Entry) *platform.Pending {
	p := &proposal{e: e, size: proto.Size(e), stream: s, p: platform.NewPending(s)}
	s.mu.Lock()
	s.held = append(s.held, p)
	s.mu.Unlock()
	return p.p
}

// Flush implements platform.Stream.
func (s *stream) Flush() {
	s.mu.Lock()
	held := s.held
	s.held = nil
	if len(held) > 0 {
		// Queued under the stream's lock, so that two flushes cannot
		// queue its proposals out of order.
		s.b.enqueue(held, false)
	}
	s.mu.Unlock()
}

// enqueue queues proposals, and sends a batch if there is room in
// flight: from this goroutine if wait (its caller waits anyway), else on
// its own.
func (b *Engine) enqueue(ps []*proposal, wait bool) {
	b.mu.Lock()
	b.mu.queue = append(b.mu.queue, ps...)
	batch := b.takeLocked()
	b.mu.Unlock()
	if batch == nil {
		return
	}
	if wait {
		b.send(batch)
	} else {
		go b.send(batch)
	}
}

// launchLocked starts a batch on its own goroutine if there is room in
// flight and something that may go. REQUIRES: b.mu held.
func (b *Engine) launchLocked() {
	if batch := b.takeLocked(); batch != nil {
		go b.send(batch)
	}
}

// takeLocked takes the next batch off the queue, if there is room in
// flight: the queued proposals in order, skipping those of streams with a
// batch under way (they stay queued, in order), up to the bounds. The
// streams it takes from are in flight until the batch is done. REQUIRES:
// b.mu held.
func (b *Engine) takeLocked() []*proposal {
	if b.mu.inFlight >= b.cfg.MaxInFlight || len(b.mu.queue) == 0 {
		return nil
	}
	var batch []*proposal
	kept := b.mu.queue[:0]
	size, full := 0, false
	for _, p := range b.mu.queue {
		s := p.stream
		busy := s != nil && s.inFlight && !s.taking
		if !full && !busy && len(batch) > 0 && (len(batch) >= b.cfg.MaxProposals || size+p.size > b.cfg.MaxBytes) {
			full = true
		}
		if full || busy {
			kept = append(kept, p)
			continue
		}
		if s != nil {
			s.taking = true
		}
		batch = append(batch, p)
		size += p.size
	}
	clear(b.mu.queue[len(kept):])
	b.mu.queue = kept
	if len(batch) == 0 {
		return nil
	}
	for _, p := range batch {
		if s := p.stream; s != nil {
			s.taking, s.inFlight = false, true
		}
	}
	b.mu.inFlight++
	return batch
}

// send proposes one batch and hands each proposer its result.
func (b *Engine) send(batch []*proposal) {
	timeout := b.cfg.Timeout
	for _, p := range batch {
		timeout = max(timeout, p.wait)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	var results []platform.Result
	var err error
	if len(batch) == 1 {
		var r platform.Result
		r, err = b.Lower.Propose(ctx, batch[0].e)
		results = []platform.Result{r}
	} else {
		e := &platform.Entry{Batch: make([]*platform.Entry, len(batch))}
		for i, p := range batch {
			e.Batch[i] = p.e
		}
		var r platform.Result
		r, err = b.Lower.Propose(ctx, e)
		if err == nil && r.Err != nil {
			err = r.Err
		}
		if err == nil {
			var ok bool
			if results, ok = r.Value.([]platform.Result); !ok || len(results) != len(batch) {
				err = fmt.Errorf("batching: a batch of %d was answered with %T", len(batch), r.Value)
			}
		}
	}
	cancel()
	for i, p := range batch {
		if err != nil {
			p.p.Finish(platform.Result{}, err)
		} else {
			p.p.Finish(results[i], nil)
		}
	}
	b.mu.Lock()
	for _, p := range batch {
		if p.stream != nil {
			p.stream.inFlight = false
		}
	}
	b.mu.inFlight--
	b.launchLocked()
	b.mu.Unlock()
}

// Apply implements platform.Applicator: it applies the batch's proposals
// in order in txn, at sub-positions at.Sub, at.Sub+1, ..., and returns
// their results as a []platform.Result. An entry that is not a batch is
// one proposal.
func (b *Engine) Apply(txn platform.Txn, e *platform.Entry, at platform.Version) (platform.Result, error) {
	clear(b.applied)
	b.applied = b.applied[:0]
	if len(e.Batch) == 0 {
		b.applied = append(b.applied, e)
		return b.Up.Apply(txn, e, at)
	}
	if len(e.Batch) > platform.MaxSub/2 {
		return platform.Result{Err: ErrTooLarge}, nil
	}
	results := make([]platform.Result, len(e.Batch))
	for i, sub := range e.Batch {
		platform.InheritHeaders(sub, e)
		r, err := b.Up.Apply(txn, sub, platform.Version{Pos: at.Pos, Sub: at.Sub + uint32(i)})
		if err != nil {
			return platform.Result{}, err
		}
		results[i] = r
	}
	b.applied = append(b.applied, e.Batch...)
	return platform.Result{Value: results}, nil
}

// next is the sub-position after the entry's proposals.
func (b *Engine) next(at platform.Version) platform.Version {
	return platform.Version{Pos: at.Pos, Sub: uint32(len(b.applied))}
}

// PostApply implements platform.Applicator.
func (b *Engine) PostApply(e *platform.Entry, at platform.Version) {
	for i, sub := range b.applied {
		b.Up.PostApply(sub, platform.Version{Pos: at.Pos, Sub: at.Sub + uint32(i)})
	}
}

// ApplyEntry implements platform.EntryApplicator: the hook above runs
// after the entry's proposals, at the sub-position they left free.
func (b *Engine) ApplyEntry(txn platform.Txn, e *platform.Entry, at platform.Version) error {
	return b.Up.ApplyEntry(txn, e, b.next(at))
}

// PostApplyEntry implements platform.EntryApplicator.
func (b *Engine) PostApplyEntry(e *platform.Entry, at platform.Version) {
	b.Up.PostApplyEntry(e, b.next(at))
}
