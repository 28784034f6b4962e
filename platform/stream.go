package platform

import (
	"context"
	"fmt"
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
	done chan struct{}
	res  Result
	err  error
	// flush, if set, sends the proposal on its way (its stream's Flush).
	flush func()
}

// NewPending returns a Pending for the engine that will Finish it. flush,
// if not nil, is what sends the proposal on its way when it is waited for
// (its stream's Flush).
func NewPending(flush func()) *Pending { return &Pending{done: make(chan struct{}), flush: flush} }

// Finish completes p. The engine that made p calls it exactly once.
func (p *Pending) Finish(r Result, err error) {
	p.res, p.err = r, err
	close(p.done)
}

// Done is closed once the proposal's outcome is known. A caller that
// selects on it must have flushed the proposal's stream.
func (p *Pending) Done() <-chan struct{} { return p.done }

// Result returns the outcome. REQUIRES: Done is closed.
func (p *Pending) Result() (Result, error) { return p.res, p.err }

// Wait waits for the outcome, or for ctx: then the proposal's outcome is
// unknown to the caller (ErrOutcomeUnknown).
func (p *Pending) Wait(ctx context.Context) (Result, error) {
	if p.flush != nil {
		select {
		case <-p.done:
		default:
			p.flush()
		}
	}
	select {
	case <-p.done:
		return p.res, p.err
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

// SetHeader sets e's header name to value, making the map if need be.
func SetHeader(e *Entry, name string, value []byte) {
	if e.Headers == nil {
		e.Headers = map[string][]byte{}
	}
	e.Headers[name] = value
}

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
