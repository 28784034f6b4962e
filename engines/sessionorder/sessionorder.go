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
// overtaken by a later one) and is dropped: the layers above never see it,
// and its proposer gets ErrStale.
//
//	e := &platform.Entry{Body: body}
//	sessionorder.Tag(e, session, sessionorder.Seq(epoch, n))
//	result, err := engine.Propose(ctx, e)
package sessionorder

import (
	"context"
	"encoding/binary"
	"errors"

	"hourglass/platform"
)

// Header is the entry header the engine owns: the session (8 bytes) and
// the sequence number (8 bytes), big-endian.
const Header = "session"

// ErrStale is the result of a proposal that was dropped at apply because
// its session had already applied a later one.
var ErrStale = errors.New("sessionorder: stale proposal")

const keyPrefix = "sys/sessionorder/"

func key(session int64) []byte {
	return binary.BigEndian.AppendUint64([]byte(keyPrefix), uint64(session))
}

// Seq composes a sequence number from an epoch (which a node taking over
// a session increments) and a counter within it.
func Seq(epoch uint32, n uint32) uint64 { return uint64(epoch)<<32 | uint64(n) }

// Tag marks e as the seq-th request of session.
func Tag(e *platform.Entry, session int64, seq uint64) {
	if e.Headers == nil {
		e.Headers = map[string][]byte{}
	}
	h := binary.BigEndian.AppendUint64(nil, uint64(session))
	e.Headers[Header] = binary.BigEndian.AppendUint64(h, seq)
}

// Last returns the sequence number of session's last applied proposal
// (0 if none) as r holds it.
func Last(r platform.Reader, session int64) (uint64, error) {
	b, ok, err := r.Get(key(session))
	if err != nil || !ok || len(b) != 8 {
		return 0, err
	}
	return binary.BigEndian.Uint64(b), nil
}

// Forget drops what the engine remembers of a session that ended.
func Forget(w platform.Writer, session int64) error { return w.Delete(key(session)) }

// Engine is the session-order layer.
type Engine struct {
	lower platform.Engine
	upper platform.Applicator
	// dropped are the entries Apply dropped (a batch's proposals are all
	// applied before any is post-applied), so that PostApply skips them
	// too. Only the apply goroutine touches it.
	dropped map[*platform.Entry]bool
}

var (
	_ platform.Engine     = (*Engine)(nil)
	_ platform.Applicator = (*Engine)(nil)
)

// New returns the engine on top of lower and registers it there.
func New(lower platform.Engine) *Engine {
	e := &Engine{lower: lower, dropped: map[*platform.Entry]bool{}}
	lower.RegisterUpcall(e)
	return e
}

// Propose implements platform.Engine. A proposal dropped as stale returns
// ErrStale.
func (s *Engine) Propose(ctx context.Context, e *platform.Entry) (any, error) {
	r, err := s.lower.Propose(ctx, e)
	if err != nil {
		return nil, err
	}
	if r == stale {
		return nil, ErrStale
	}
	return r, nil
}

// Sync implements platform.Engine.
func (s *Engine) Sync(ctx context.Context) (platform.View, error) { return s.lower.Sync(ctx) }

// SetTrimPrefix implements platform.Engine.
func (s *Engine) SetTrimPrefix(pos platform.Position) { s.lower.SetTrimPrefix(pos) }

// RegisterUpcall implements platform.Engine.
func (s *Engine) RegisterUpcall(a platform.Applicator) { s.upper = a }

type staleResult struct{}

var stale any = staleResult{}

// Apply implements platform.Applicator: an untagged entry passes; a tagged
// one passes only if its number is above its session's last.
func (s *Engine) Apply(txn platform.Txn, e *platform.Entry, pos platform.Position) (any, error) {
	h := e.Headers[Header]
	if len(h) != 16 {
		return s.upper.Apply(txn, e, pos)
	}
	session, seq := int64(binary.BigEndian.Uint64(h[:8])), binary.BigEndian.Uint64(h[8:])
	last, err := Last(txn, session)
	if err != nil {
		return nil, err
	}
	if seq <= last {
		s.dropped[e] = true
		return stale, nil
	}
	if err := txn.Set(key(session), h[8:]); err != nil {
		return nil, err
	}
	return s.upper.Apply(txn, e, pos)
}

// PostApply implements platform.Applicator.
func (s *Engine) PostApply(e *platform.Entry, pos platform.Position) {
	if s.dropped[e] {
		delete(s.dropped, e)
		return
	}
	s.upper.PostApply(e, pos)
}
