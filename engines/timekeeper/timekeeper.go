// Package timekeeper is the engine that gives the log a deterministic
// clock. Each proposal carries its proposer's wall-clock time; at apply the
// log time becomes the maximum of the previous log time and the
// proposal's time, so it never goes backwards and every replica computes
// the same value at the same position. Upper layers read it with
// Time(entry) and use it for TTLs and expiry instead of their own clocks;
// the per-entry hook sees the log time after the whole entry.
//
//	tk := timekeeper.New(batching.New(base, batching.Config{}), nil)
//	router := platform.NewRouter(tk)
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

// keyNow holds the log time, in the engine's namespace.
var keyNow = []byte("now")

// Engine is the timekeeper layer.
type Engine struct {
	platform.Layer
	clock func() time.Time
}

var (
	_ platform.Engine          = (*Engine)(nil)
	_ platform.Streamer        = (*Engine)(nil)
	_ platform.Applicator      = (*Engine)(nil)
	_ platform.EntryApplicator = (*Engine)(nil)
	_ platform.Named           = (*Engine)(nil)
)

// New returns a timekeeper on top of lower and registers it there. clock is
// the proposer-side wall clock; nil means time.Now.
func New(lower platform.Engine, clock func() time.Time) *Engine {
	if clock == nil {
		clock = time.Now
	}
	e := &Engine{Layer: platform.Layer{Lower: lower}, clock: clock}
	lower.RegisterUpcall(e)
	return e
}

// Name implements platform.Named.
func (t *Engine) Name() string { return "time" }

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

// stamp sets e's time header to the proposer's clock.
func (t *Engine) stamp(e *platform.Entry) {
	platform.SetHeader(e, Header, binary.BigEndian.AppendUint64(nil, uint64(t.clock().UnixMilli())))
}

// Propose implements platform.Engine: it stamps the entry with the
// proposer's clock.
func (t *Engine) Propose(ctx context.Context, e *platform.Entry) (platform.Result, error) {
	t.stamp(e)
	return t.Lower.Propose(ctx, e)
}

// NewStream implements platform.Streamer.
func (t *Engine) NewStream() platform.Stream { return platform.AnnotatedStream(t.Lower, t.stamp) }

// now reads the log time.
func now(txn platform.Txn) (int64, error) {
	b, _, err := txn.Get(keyNow)
	if err != nil || len(b) != 8 {
		return 0, err
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

// Apply implements platform.Applicator: it advances the log time and
// passes the entry up with its time header set to the log time.
func (t *Engine) Apply(txn platform.Txn, e *platform.Entry, at platform.Version) (platform.Result, error) {
	cur, err := now(txn)
	if err != nil {
		return platform.Result{}, err
	}
	if h := e.Headers[Header]; len(h) == 8 {
		if proposed := int64(binary.BigEndian.Uint64(h)); proposed > cur {
			cur = proposed
			if err := txn.Set(keyNow, h); err != nil {
				return platform.Result{}, err
			}
		}
	}
	platform.SetHeader(e, Header, binary.BigEndian.AppendUint64(nil, uint64(cur)))
	return t.Up.Apply(txn, e, at)
}

// ApplyEntry implements platform.EntryApplicator: the hook above sees the
// log time after the entry in the entry's time header.
func (t *Engine) ApplyEntry(txn platform.Txn, e *platform.Entry, at platform.Version) error {
	cur, err := now(txn)
	if err != nil {
		return err
	}
	platform.SetHeader(e, Header, binary.BigEndian.AppendUint64(nil, uint64(cur)))
	return t.Up.ApplyEntry(txn, e, at)
}
