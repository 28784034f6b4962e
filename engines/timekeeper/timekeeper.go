// Package timekeeper is the engine that gives the log a deterministic
// clock. Each entry it proposes carries its proposer's wall-clock time;
// at apply the log time becomes the maximum of the previous log time and
// the entry's time, so it never goes backwards and every replica computes
// the same value at the same position. Upper layers read it with
// Time(entry) and use it for TTLs and expiry instead of their own clocks.
// Below the batching engine, it stamps a batch once, and every proposal
// of the batch sees its time (batching passes an entry's headers down to
// its proposals).
//
// The stored log time has two formats. Version 1 keeps the time alone;
// version 2 keeps, after it, the position of the entry that last
// advanced it. Which one an apply writes is the version the upgrade
// engine has enabled at that position (SetVersion), so every replica
// switches at the same entry. Version 2 is under test: a build supports
// it only when made with
// -ldflags "-X hourglass/engines/timekeeper.maxVersion=2".
//
//	tk := timekeeper.New(base, nil)
//	router := platform.NewRouter(batching.New(tk, batching.Config{}))
package timekeeper

import (
	"context"
	"encoding/binary"
	"strconv"
	"time"

	"hourglass/platform"
)

// Header is the entry header the timekeeper owns: the time in
// milliseconds since the Unix epoch, as a big-endian int64. At apply it is
// rewritten to the log time.
const Header = "time"

// keyNow holds the log time, in the engine's namespace: its first 8
// bytes are the time (in milliseconds, big-endian); version 2 appends
// the position of the entry that set it.
var keyNow = []byte("now")

// maxVersion is the newest version of the stored format this build can
// apply; text, so that a build can raise it with -ldflags -X.
var maxVersion = "1"

// Versions returns the versions of the engine this build can apply.
func Versions() (lo, hi uint32) {
	v, err := strconv.ParseUint(maxVersion, 10, 32)
	if err != nil || v < 1 {
		v = 1
	}
	return 1, uint32(v)
}

// Engine is the timekeeper layer.
type Engine struct {
	platform.Layer
	clock func() time.Time
	// version returns the version enabled at the entry being applied.
	version func() uint32
	// The log time as of the proposals already applied in the entry at
	// pos (apply goroutine only), so an entry's proposals read it once.
	pos   platform.Position
	known bool
	cur   int64
}

var (
	_ platform.Engine          = (*Engine)(nil)
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
	e := &Engine{Layer: platform.Layer{Lower: lower}, clock: clock, version: func() uint32 { return 1 }}
	lower.RegisterUpcall(e)
	return e
}

// SetVersion makes the engine ask version, at each apply, which version
// of its stored format to write (the upgrade engine's Enabled("time"));
// without it, version 1. REQUIRES: the stack has not started applying.
func (t *Engine) SetVersion(version func() uint32) { t.version = version }

// Name implements platform.Named.
func (t *Engine) Name() string { return "time" }

// Time returns the log time of an entry being applied (set by the
// timekeeper below the caller). It is zero for entries from before the
// timekeeper ran.
func Time(e *platform.Entry) time.Time {
	h := platform.HeaderValue(e, Header)
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

// now returns the log time before the proposal at at: carried along
// from the entry before, and read from the store only when at does not
// follow the last entry this engine saw (the first entry, one a layer
// below kept to itself, or the first after a restore replaced the store,
// which always skips ahead).
func (t *Engine) now(txn platform.Txn, at platform.Version) (int64, error) {
	if t.known && (t.pos == at.Pos || t.pos+1 == at.Pos) {
		t.pos = at.Pos
		return t.cur, nil
	}
	b, _, err := txn.Get(keyNow)
	if err != nil {
		return 0, err
	}
	t.cur = 0
	if len(b) >= 8 {
		t.cur = int64(binary.BigEndian.Uint64(b))
	}
	t.pos, t.known = at.Pos, true
	return t.cur, nil
}

// Apply implements platform.Applicator: it advances the log time and
// passes the entry up with its time header set to the log time.
func (t *Engine) Apply(txn platform.Txn, e *platform.Entry, at platform.Version) (platform.Result, error) {
	cur, err := t.now(txn, at)
	if err != nil {
		return platform.Result{}, err
	}
	if h := platform.HeaderValue(e, Header); len(h) == 8 {
		if proposed := int64(binary.BigEndian.Uint64(h)); proposed > cur {
			cur = proposed
			rec := h
			if t.version() >= 2 {
				rec = binary.BigEndian.AppendUint64(append([]byte(nil), h...), at.Pos)
			}
			if err := txn.Set(keyNow, rec); err != nil {
				t.known = false
				return platform.Result{}, err
			}
			t.cur = cur
		}
	}
	platform.SetHeader(e, Header, binary.BigEndian.AppendUint64(nil, uint64(cur)))
	return t.Up.Apply(txn, e, at)
}

// ApplyEntry implements platform.EntryApplicator: the hook above sees the
// log time after the entry in the entry's time header.
func (t *Engine) ApplyEntry(txn platform.Txn, e *platform.Entry, at platform.Version) error {
	cur, err := t.now(txn, at)
	if err != nil {
		return err
	}
	platform.SetHeader(e, Header, binary.BigEndian.AppendUint64(nil, uint64(cur)))
	return t.Up.ApplyEntry(txn, e, at)
}
