// Package timekeeper is the engine that gives the log a deterministic
// clock. Each proposal carries its proposer's wall-clock time; at apply the
// log time becomes the maximum of the previous log time and the entry's
// time, so it never goes backwards and every replica computes the same
// value at the same position. Upper layers read it with Time(entry) and use
// it for TTLs and expiry instead of their own clocks.
package timekeeper

import (
	"context"
	"encoding/binary"
	"time"

	"hourglass/platform"
)

// Header is the entry header the timekeeper owns: the time in
// milliseconds since the Unix epoch, as a big-endian int64. At apply it is
// rewritten to the log time.
const Header = "time"

var keyNow = []byte("sys/time/now")

// Engine is the timekeeper layer.
type Engine struct {
	lower platform.Engine
	upper platform.Applicator
	clock func() time.Time
}

var (
	_ platform.Engine     = (*Engine)(nil)
	_ platform.Applicator = (*Engine)(nil)
)

// New returns a timekeeper on top of lower and registers it there. clock is
// the proposer-side wall clock; nil means time.Now.
func New(lower platform.Engine, clock func() time.Time) *Engine {
	if clock == nil {
		clock = time.Now
	}
	e := &Engine{lower: lower, clock: clock}
	lower.RegisterUpcall(e)
	return e
}

// Time returns the log time of an entry being applied (set by the
// timekeeper below the caller). It is zero for entries from before the
// timekeeper ran.
func Time(e *platform.Entry) time.Time {
	h := e.Headers[Header]
	if len(h) != 8 {
		return time.Time{}
	}
	return time.UnixMilli(int64(binary.BigEndian.Uint64(h)))
}

// Propose implements platform.Engine: it stamps the entry with the
// proposer's clock.
func (t *Engine) Propose(ctx context.Context, e *platform.Entry) (any, error) {
	if e.Headers == nil {
		e.Headers = map[string][]byte{}
	}
	e.Headers[Header] = binary.BigEndian.AppendUint64(nil, uint64(t.clock().UnixMilli()))
	return t.lower.Propose(ctx, e)
}

// Sync implements platform.Engine.
func (t *Engine) Sync(ctx context.Context) (platform.View, error) { return t.lower.Sync(ctx) }

// SetTrimPrefix implements platform.Engine.
func (t *Engine) SetTrimPrefix(pos platform.Position) { t.lower.SetTrimPrefix(pos) }

// RegisterUpcall implements platform.Engine.
func (t *Engine) RegisterUpcall(a platform.Applicator) { t.upper = a }

// Apply implements platform.Applicator: it advances the log time and
// passes the entry up with its time header set to the log time.
func (t *Engine) Apply(txn platform.Txn, e *platform.Entry, pos platform.Position) (any, error) {
	prev, _, err := txn.Get(keyNow)
	if err != nil {
		return nil, err
	}
	now := int64(0)
	if len(prev) == 8 {
		now = int64(binary.BigEndian.Uint64(prev))
	}
	if h := e.Headers[Header]; len(h) == 8 {
		if proposed := int64(binary.BigEndian.Uint64(h)); proposed > now {
			now = proposed
			if err := txn.Set(keyNow, h); err != nil {
				return nil, err
			}
		}
	}
	if e.Headers == nil {
		e.Headers = map[string][]byte{}
	}
	e.Headers[Header] = binary.BigEndian.AppendUint64(nil, uint64(now))
	return t.upper.Apply(txn, e, pos)
}

// PostApply implements platform.Applicator.
func (t *Engine) PostApply(e *platform.Entry, pos platform.Position) { t.upper.PostApply(e, pos) }
