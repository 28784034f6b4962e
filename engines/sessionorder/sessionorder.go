// Package sessionorder is the engine that applies each client session's
// proposals in the order the session issued them, each at most once, even
// when the session moves between nodes or the log is reconfigured under
// it (Zelos's session ordering).
//
// A proposer tags each proposal with its session and a sequence number
// that grows with every request the session issues; a node that takes
// over a session starts a new epoch, so its numbers are above any the
// previous node used. At apply, a proposal whose number is not above the
// last one applied for its session is stale (a retry, or a request
// overtaken by a later one) and is refused: the layers above never see
// it, and its Result.Err is ErrStale. When a session ends, the layer
// above calls End during its apply, and the engine forgets the session in
// the same transaction, in its own namespace.
//
//	e := &platform.Entry{Body: body}
//	sessionorder.Tag(e, session, sessionorder.Seq(epoch, n))
//	result, err := engine.Propose(ctx, e)
package sessionorder

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"hourglass/platform"
)

// Header is the entry header the engine owns: the session (8 bytes) and
// the sequence number (8 bytes), big-endian.
const Header = "session"

// ErrStale refuses a proposal whose session had already applied a later
// one.
var ErrStale = errors.New("sessionorder: stale proposal")

// key is a session's row in the engine's namespace: its last sequence
// number (8 bytes).
func key(session int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(session)) }

// Seq composes a sequence number from an epoch (which a node taking over
// a session increments) and a counter within it.
func Seq(epoch uint32, n uint32) uint64 { return uint64(epoch)<<32 | uint64(n) }

// Tag marks e as the seq-th request of session.
func Tag(e *platform.Entry, session int64, seq uint64) {
	h := binary.BigEndian.AppendUint64(nil, uint64(session))
	platform.SetHeader(e, Header, binary.BigEndian.AppendUint64(h, seq))
}

// last returns the sequence number of session's last applied proposal (0
// if none).
func last(r platform.Reader, session int64) (uint64, error) {
	b, ok, err := r.Get(key(session))
	if err != nil || !ok {
		return 0, err
	}
	if len(b) != 8 {
		return 0, fmt.Errorf("sessionorder: session %#x holds %d bytes", session, len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}

// Engine is the session-order layer.
type Engine struct {
	platform.Layer
	// Apply goroutine only: whether the proposal being applied was
	// refused (its PostApply is skipped too), by sub-position, and the
	// sessions the layer above ended during the current apply.
	dropped map[platform.Version]bool
	ended   []int64
}

var (
	_ platform.Engine          = (*Engine)(nil)
	_ platform.Streamer        = (*Engine)(nil)
	_ platform.Applicator      = (*Engine)(nil)
	_ platform.EntryApplicator = (*Engine)(nil)
	_ platform.Named           = (*Engine)(nil)
)

// New returns the engine on top of lower and registers it there.
func New(lower platform.Engine) *Engine {
	e := &Engine{Layer: platform.Layer{Lower: lower}, dropped: map[platform.Version]bool{}}
	lower.RegisterUpcall(e)
	return e
}

// Name implements platform.Named.
func (s *Engine) Name() string { return "sessionorder" }

// Propose implements platform.Engine.
func (s *Engine) Propose(ctx context.Context, e *platform.Entry) (platform.Result, error) {
	return s.Lower.Propose(ctx, e)
}

// NewStream implements platform.Streamer. REQUIRES: lower is a Streamer.
func (s *Engine) NewStream() platform.Stream {
	return platform.AnnotatedStream(s.Lower, nil)
}

// End forgets session: its next proposal counts as its first. The layer
// above calls it while it applies (from Apply or ApplyEntry, on the apply
// goroutine) the entry that ends the session; the engine writes it in
// the same transaction.
func (s *Engine) End(session int64) { s.ended = append(s.ended, session) }

// forget drops the sessions ended during the apply just done.
func (s *Engine) forget(txn platform.Txn) error {
	for _, id := range s.ended {
		if err := txn.Delete(key(id)); err != nil {
			return err
		}
	}
	s.ended = s.ended[:0]
	return nil
}

// Apply implements platform.Applicator: an untagged entry passes; a tagged
// one passes only if its number is above its session's last.
func (s *Engine) Apply(txn platform.Txn, e *platform.Entry, at platform.Version) (platform.Result, error) {
	h := platform.HeaderValue(e, Header)
	if len(h) == 16 {
		session, seq := int64(binary.BigEndian.Uint64(h[:8])), binary.BigEndian.Uint64(h[8:])
		prev, err := last(txn, session)
		if err != nil {
			return platform.Result{}, err
		}
		if seq <= prev {
			s.dropped[at] = true
			return platform.Result{Err: ErrStale}, nil
		}
		if err := txn.Set(key(session), h[8:]); err != nil {
			return platform.Result{}, err
		}
	}
	r, err := s.Up.Apply(txn, e, at)
	if err != nil {
		return r, err
	}
	return r, s.forget(txn)
}

// PostApply implements platform.Applicator.
func (s *Engine) PostApply(e *platform.Entry, at platform.Version) {
	if s.dropped[at] {
		delete(s.dropped, at)
		return
	}
	s.Up.PostApply(e, at)
}

// ApplyEntry implements platform.EntryApplicator.
func (s *Engine) ApplyEntry(txn platform.Txn, e *platform.Entry, at platform.Version) error {
	if err := s.Up.ApplyEntry(txn, e, at); err != nil {
		return err
	}
	return s.forget(txn)
}
