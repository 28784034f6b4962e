package platform

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"hourglass/platform/entrypb"
)

// Streamer is an Engine that can take ordered proposals: a connection's
// pipelined writes, a session's requests. The batching engine implements
// it; a layer above it that only annotates proposals implements it with
// AnnotatedStream.
type Streamer interface {
	// NewStream returns a new, empty stream.
	NewStream() Stream
}

// StreamEngine is an Engine that takes ordered proposals too: what a
// personality with pipelined clients stands on.
type StreamEngine interface {
	Engine
	Streamer
}

// Stream proposes entries that apply in the order they were proposed on
// it. Propose is for one goroutine at a time (a connection's); Flush, and
// waiting on a Pending, may come from any goroutine.
type Stream interface {
	// Propose queues e behind the stream's earlier proposals and returns
	// without waiting for it to apply. The stream owns e. The proposal
	// leaves for the log at the next Flush, or when its Pending (or a
	// later one of the stream's) is waited on with Wait; the Pending
	// completes as Engine.Propose would return. A caller that proposes
	// a run of entries (a pipeline) flushes once after the run, so they
	// travel together.
	Propose(e *Entry) *Pending
	// Flush hands every proposal queued on the stream to the stack.
	Flush()
}

// Pending is a proposal under way.
type Pending struct {
	mu       sync.Mutex
	finished bool
	// done is made by the first Done or Wait that finds the outcome
	// unknown, and closed by Finish; most proposals of a pipeline are
	// finished before anyone waits on them, and never need one.
	done chan struct{}
	res  Result
	err  error
	// flusher, if set, sends the proposal on its way (its stream).
	flusher Flusher
}

// Flusher sends queued proposals on their way: a Stream.
type Flusher interface{ Flush() }

// closed is the Done channel of a Pending already finished.
var closed = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// NewPending returns a Pending for the engine that will Finish it. f, if
// not nil, is what sends the proposal on its way when it is waited for
// (its stream).
func NewPending(f Flusher) *Pending { return &Pending{flusher: f} }

// Finish completes p. The engine that made p calls it exactly once.
func (p *Pending) Finish(r Result, err error) {
	p.mu.Lock()
	p.res, p.err, p.finished = r, err, true
	if p.done != nil {
		close(p.done)
	}
	p.mu.Unlock()
}

// Ready reports whether the proposal's outcome is known.
func (p *Pending) Ready() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.finished
}

// Done is closed once the proposal's outcome is known. A caller that
// selects on it must have flushed the proposal's stream.
func (p *Pending) Done() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return closed
	}
	if p.done == nil {
		p.done = make(chan struct{})
	}
	return p.done
}

// Result returns the outcome. REQUIRES: Ready, or Done closed.
func (p *Pending) Result() (Result, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.res, p.err
}

// Wait waits for the outcome, or for ctx: then the proposal's outcome is
// unknown to the caller (ErrOutcomeUnknown).
func (p *Pending) Wait(ctx context.Context) (Result, error) {
	if p.flusher != nil && !p.Ready() {
		p.flusher.Flush()
	}
	select {
	case <-p.Done():
		return p.Result()
	case <-ctx.Done():
		return Result{}, fmt.Errorf("%w: %w", ErrOutcomeUnknown, ctx.Err())
	}
}

// AnnotatedStream returns a stream on lower that passes each entry through
// annotate (which adds the caller's header; nil adds none) before lower's
// stream takes it. REQUIRES: lower implements Streamer.
func AnnotatedStream(lower Engine, annotate func(*Entry)) Stream {
	s, ok := lower.(Streamer)
	if !ok {
		panic(fmt.Sprintf("platform: %T takes no ordered proposals (no batching engine below?)", lower))
	}
	if annotate == nil {
		return s.NewStream()
	}
	return annotatedStream{s.NewStream(), annotate}
}

type annotatedStream struct {
	lower    Stream
	annotate func(*Entry)
}

func (s annotatedStream) Propose(e *Entry) *Pending {
	s.annotate(e)
	return s.lower.Propose(e)
}

func (s annotatedStream) Flush() { s.lower.Flush() }

// SetHeader sets e's header name to value, keeping the headers sorted by
// name.
func SetHeader(e *Entry, name string, value []byte) {
	i, found := slices.BinarySearchFunc(e.Headers, name, compareHeader)
	if found {
		e.Headers[i].Value = value
		return
	}
	e.Headers = slices.Insert(e.Headers, i, &entrypb.Header{Name: name, Value: value})
}

// HeaderValue returns e's header name, or nil if e has none.
func HeaderValue(e *Entry, name string) []byte {
	for _, h := range e.Headers {
		if h.Name == name {
			return h.Value
		}
	}
	return nil
}

// InheritHeaders gives a proposal of a batched entry every header of the
// entry (parent) that it has none of its own of, except the BaseEngine's,
// which belongs to the record. It allocates at most once.
func InheritHeaders(sub, parent *Entry) {
	n := 0
	for _, h := range parent.Headers {
		if inherits(sub, h) {
			n++
		}
	}
	if n == 0 {
		return
	}
	merged := make([]*entrypb.Header, 0, len(sub.Headers)+n)
	merged = append(merged, sub.Headers...)
	for _, h := range parent.Headers {
		if inherits(sub, h) {
			merged = append(merged, h)
		}
	}
	slices.SortFunc(merged, func(a, b *entrypb.Header) int { return strings.Compare(a.Name, b.Name) })
	sub.Headers = merged
}

func inherits(sub *Entry, h *entrypb.Header) bool {
	if h.Name == HeaderBase {
		return false
	}
	_, own := slices.BinarySearchFunc(sub.Headers, h.Name, compareHeader)
	return !own
}

func compareHeader(h *entrypb.Header, name string) int { return strings.Compare(h.Name, name) }

// Layer is what a middle engine embeds: it passes down to the engine below
// and up to the applicator above whatever the engine does not override.
// Lower is set at construction; Up by RegisterUpcall.
type Layer struct {
	Lower Engine
	Up    Upcall
}

// Sync implements Engine.
func (l *Layer) Sync(ctx context.Context) (View, error) { return l.Lower.Sync(ctx) }

// SetTrimPrefix implements Engine.
func (l *Layer) SetTrimPrefix(voter string, pos Position) { l.Lower.SetTrimPrefix(voter, pos) }

// RegisterUpcall implements Engine.
func (l *Layer) RegisterUpcall(a Applicator) { l.Up = NewUpcall(a) }

// PostApply implements Applicator.
func (l *Layer) PostApply(e *Entry, at Version) { l.Up.PostApply(e, at) }

// ApplyEntry implements EntryApplicator.
func (l *Layer) ApplyEntry(txn Txn, e *Entry, at Version) error { return l.Up.ApplyEntry(txn, e, at) }

// PostApplyEntry implements EntryApplicator.
func (l *Layer) PostApplyEntry(e *Entry, at Version) { l.Up.PostApplyEntry(e, at) }
