// Package batching is the engine that puts many proposals in one log
// entry, applied in one LocalStore transaction. While a few batches are on
// their way through the log, new proposals queue; the next batch carries
// all of them. A lone proposal on an idle node goes at once, alone, so
// batching adds no latency when there is nothing to batch.
//
// At apply the engine unpacks a batch and applies its proposals in order
// inside the entry's transaction, passing each up as its own entry (all at
// the batch's log position), and routes each result back to its proposer.
// Entries without the batching header pass through untouched.
//
//	b := batching.New(base, batching.Config{})
//	time := timekeeper.New(b, nil)
package batching

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"hourglass/internal/uvarint"
	"hourglass/platform"
)

// Header marks an entry whose body is a batch; its value is the number of
// proposals in it (uvarint).
const Header = "batch"

// HeaderIndex is set at apply on each proposal of a batch: its index in
// the batch (uvarint), so that layers above can order proposals that share
// a log position.
const HeaderIndex = "batch.index"

// Index returns the index within its batch of an entry being applied (0
// for an entry applied alone).
func Index(e *platform.Entry) uint64 {
	v, _ := binary.Uvarint(e.Headers[HeaderIndex])
	return v
}

// Config configures the engine. Zero fields take the defaults.
type Config struct {
	// MaxProposals bounds the proposals in one batch; default 256.
	MaxProposals int
	// MaxBytes bounds a batch's encoded size; default 1 MiB. A single
	// larger proposal travels alone.
	MaxBytes int
	// MaxInFlight is how many batches may be on their way through the log
	// at once before proposals queue; default 2.
	MaxInFlight int
	// Timeout bounds how long a batch may take; default 30s. Proposers of
	// a batch that times out learn platform.ErrOutcomeUnknown.
	Timeout time.Duration
}

func (c *Config) ensureDefaults() {
	if c.MaxProposals <= 0 {
		c.MaxProposals = 256
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = 1 << 20
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = 2
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
}

// Engine is the batching layer.
type Engine struct {
	lower platform.Engine
	upper platform.Applicator
	cfg   Config

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
	_ platform.Engine     = (*Engine)(nil)
	_ platform.Applicator = (*Engine)(nil)
)

type proposal struct {
	raw    []byte // the marshaled entry
	done   chan struct{}
	result any
	err    error
}

// New returns a batching engine on top of lower and registers it there.
func New(lower platform.Engine, cfg Config) *Engine {
	cfg.ensureDefaults()
	e := &Engine{lower: lower, cfg: cfg}
	lower.RegisterUpcall(e)
	return e
}

// Propose implements platform.Engine.
func (b *Engine) Propose(ctx context.Context, e *platform.Entry) (any, error) {
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(e)
	if err != nil {
		return nil, err
	}
	p := &proposal{raw: raw, done: make(chan struct{})}
	b.mu.Lock()
	b.mu.queue = append(b.mu.queue, p)
	batch := b.takeLocked()
	b.mu.Unlock()
	if batch != nil {
		// There was room in flight: this proposer carries the batch
		// (its own proposal and whatever else queued) itself.
		b.send(batch)
	}
	select {
	case <-p.done:
		return p.result, p.err
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", platform.ErrOutcomeUnknown, ctx.Err())
	}
}

// launchLocked starts a batch on its own goroutine if there is room in
// flight and something queued. REQUIRES: b.mu held.
func (b *Engine) launchLocked() {
	if batch := b.takeLocked(); batch != nil {
		go b.send(batch)
	}
}

// takeLocked takes the next batch off the queue if there is room in flight
// and something queued, and counts it in flight. REQUIRES: b.mu held.
func (b *Engine) takeLocked() []*proposal {
	if b.mu.inFlight >= b.cfg.MaxInFlight || len(b.mu.queue) == 0 {
		return nil
	}
	n, size := 0, 0
	for n < len(b.mu.queue) && n < b.cfg.MaxProposals {
		sz := len(b.mu.queue[n].raw) + binary.MaxVarintLen64
		if n > 0 && size+sz > b.cfg.MaxBytes {
			break
		}
		size += sz
		n++
	}
	batch := append([]*proposal(nil), b.mu.queue[:n]...)
	clear(b.mu.queue[:n])
	b.mu.queue = b.mu.queue[n:]
	b.mu.inFlight++
	return batch
}

// send proposes one batch and hands each proposer its result.
func (b *Engine) send(batch []*proposal) {
	raws := make([][]byte, len(batch))
	for i, p := range batch {
		raws[i] = p.raw
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.Timeout)
	r, err := b.lower.Propose(ctx, &platform.Entry{
		Headers: map[string][]byte{Header: binary.AppendUvarint(nil, uint64(len(batch)))},
		Body:    Encode(raws),
	})
	cancel()
	results, ok := r.([]any)
	if err == nil && (!ok || len(results) != len(batch)) {
		err = fmt.Errorf("batching: batch of %d answered with %T", len(batch), r)
	}
	for i, p := range batch {
		if err != nil {
			p.err = err
		} else {
			p.result = results[i]
		}
		close(p.done)
	}
	b.mu.Lock()
	b.mu.inFlight--
	b.launchLocked()
	b.mu.Unlock()
}

// Sync implements platform.Engine.
func (b *Engine) Sync(ctx context.Context) (platform.View, error) { return b.lower.Sync(ctx) }

// SetTrimPrefix implements platform.Engine.
func (b *Engine) SetTrimPrefix(pos platform.Position) { b.lower.SetTrimPrefix(pos) }

// RegisterUpcall implements platform.Engine.
func (b *Engine) RegisterUpcall(a platform.Applicator) { b.upper = a }

// BatchError is the result of a batch entry whose body cannot be decoded;
// every replica reaches the same verdict, so the entry is applied as
// nothing.
type BatchError struct{ Err error }

func (e *BatchError) Error() string { return "batching: " + e.Err.Error() }

// Apply implements platform.Applicator: it applies the batch's proposals
// in order in txn and returns their results as a []any.
func (b *Engine) Apply(txn platform.Txn, e *platform.Entry, pos platform.Position) (any, error) {
	b.applied = b.applied[:0]
	if _, ok := e.Headers[Header]; !ok {
		b.applied = append(b.applied, e)
		return b.upper.Apply(txn, e, pos)
	}
	raws, err := Decode(e.Body)
	if err != nil {
		return &BatchError{Err: err}, nil
	}
	subs := make([]*platform.Entry, len(raws))
	for i, raw := range raws {
		subs[i] = &platform.Entry{}
		if err := proto.Unmarshal(raw, subs[i]); err != nil {
			return &BatchError{Err: fmt.Errorf("proposal %d: %w", i, err)}, nil
		}
	}
	results := make([]any, len(subs))
	for i, sub := range subs {
		if sub.Headers == nil {
			sub.Headers = map[string][]byte{}
		}
		sub.Headers[HeaderIndex] = binary.AppendUvarint(nil, uint64(i))
		r, err := b.upper.Apply(txn, sub, pos)
		if err != nil {
			return nil, err
		}
		results[i] = r
	}
	b.applied = subs
	return results, nil
}

// PostApply implements platform.Applicator.
func (b *Engine) PostApply(e *platform.Entry, pos platform.Position) {
	for _, sub := range b.applied {
		b.upper.PostApply(sub, pos)
	}
	clear(b.applied)
	b.applied = b.applied[:0]
}

// ErrMalformed: a batch body does not decode.
var ErrMalformed = errors.New("malformed batch body")

// Encode packs proposals into a batch body: for each, its length as a
// uvarint, then its bytes.
func Encode(raws [][]byte) []byte {
	n := 0
	for _, r := range raws {
		n += binary.MaxVarintLen64 + len(r)
	}
	out := make([]byte, 0, n)
	for _, r := range raws {
		out = binary.AppendUvarint(out, uint64(len(r)))
		out = append(out, r...)
	}
	return out
}

// Decode unpacks a batch body. The returned slices alias body.
func Decode(body []byte) ([][]byte, error) {
	var out [][]byte
	for len(body) > 0 {
		raw, rest, ok := uvarint.ReadBytes(body)
		if !ok {
			return nil, ErrMalformed
		}
		out = append(out, raw)
		body = rest
	}
	if len(out) == 0 {
		return nil, ErrMalformed
	}
	return out, nil
}
