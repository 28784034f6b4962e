// Package viewtracking is the ViewTracking engine: it carries every
// member's applied and durable positions through the log, so that the log
// is trimmed only below what every member that still needs it has made
// durable.
//
// Each node proposes a report entry every Config.Interval: its applied
// position and the position its applied state was just made durable up
// to (an fsync of the LocalStore), with its configured retention. At
// apply every replica records the report, with the entry's log time, in
// the engine's namespace e/views/. The node then votes (SetTrimPrefix
// with voter "views") the lowest durable position over the members it
// still waits for (see Compute): a member whose last report is older than
// the retention, in log time, is left behind; when it comes back it finds
// the log trimmed past it and restores from a peer's checkpoint. Members
// that left the ensemble are not waited for.
//
// The vote is one among others: the BaseEngine trims below the lowest
// vote of all voters (the node's log-retain vote, a backup's), and never
// below its own durable applied state.
//
// The engine reads the log time from the timekeeper, which must sit below
// it:
//
//	views := viewtracking.New(timekeeper.New(lease, nil), viewtracking.Config{Node: "n1", ...})
//	router := platform.NewRouter(batching.New(views, batching.Config{}))
//	views.Start() // once the stack is started
package viewtracking

import (
	"context"
	"log/slog"
	"maps"
	"sync"
	"time"

	"hourglass/engines/timekeeper"
	"hourglass/platform"
)

// Header is the entry header the engine owns: a report.
const Header = "views"

// Voter is the name the engine votes its trim point under.
const Voter = "views"

// Defaults, filled in by New.
const (
	// DefaultRetention is how long, in log time, a silent member is
	// waited for.
	DefaultRetention = time.Hour
	// DefaultInterval is how often a node reports (at most a quarter of
	// the retention).
	DefaultInterval = 2 * time.Second
)

// minInterval bounds the default interval below, whatever the retention.
const minInterval = 10 * time.Millisecond

// reportPrefix keys the reports in the engine's namespace, by node id.
var reportPrefix = []byte("r/")

// Config configures the engine.
type Config struct {
	// Node is this node's id, unique in the ensemble.
	Node string
	// Retention is how long, in log time, a member that stopped reporting
	// is still waited for; 0 means DefaultRetention.
	Retention time.Duration
	// Interval is how often the node reports; 0 means DefaultInterval or
	// a quarter of the retention, whichever is shorter (but not below
	// 10ms).
	Interval time.Duration
	// Durable makes the node's applied state durable and returns the
	// position it now covers (everything below it survives a crash of the
	// machine). Applied returns the node's applied position. Both are
	// required.
	Durable func() (platform.Position, error)
	Applied func() platform.Position
	// Backup, if set, returns where this node's log backup asks the log
	// to be kept from, and false while the node keeps no backup; every
	// node then keeps the log from there while this node is waited for.
	Backup func() (platform.Position, bool)
	// Members returns the ids of the ensemble's members; nil, or an empty
	// answer, means this node alone.
	Members func() []string
	// Logger receives the engine's log lines; nil discards them.
	Logger *slog.Logger
}

// Engine is the ViewTracking layer.
type Engine struct {
	platform.Layer
	cfg Config

	mu struct {
		sync.Mutex
		// reports mirrors the reports in the store, as of the last entry
		// applied; now is that entry's log time.
		reports map[string]Report
		now     time.Time
	}

	// Apply goroutine only: the report applied in the current entry, the
	// reports read back from the store when it was replaced (reloaded),
	// the current entry's log time, and the last position seen.
	pending  []Report
	reload   map[string]Report
	reloaded bool
	entryAt  time.Time
	last     platform.Position
	seen     bool

	// ctx ends at Close, and with it the report under way.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

var (
	_ platform.Engine          = (*Engine)(nil)
	_ platform.Applicator      = (*Engine)(nil)
	_ platform.EntryApplicator = (*Engine)(nil)
	_ platform.Named           = (*Engine)(nil)
)

// New returns the engine on top of lower (a stack with a timekeeper) and
// registers it there. It votes 0 until it has computed a trim point, so
// nothing is trimmed before it knows the members' positions. Call Start
// once the stack is started.
func New(lower platform.Engine, cfg Config) *Engine {
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.Interval <= 0 {
		cfg.Interval = max(min(DefaultInterval, cfg.Retention/4), minInterval)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	e := &Engine{Layer: platform.Layer{Lower: lower}, cfg: cfg}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	e.mu.reports = map[string]Report{}
	lower.RegisterUpcall(e)
	lower.SetTrimPrefix(Voter, 0)
	return e
}

// Name implements platform.Named.
func (e *Engine) Name() string { return "views" }

// Start begins reporting and voting.
func (e *Engine) Start() {
	e.wg.Add(1)
	go e.loop()
}

// Close stops reporting; the last vote stays.
func (e *Engine) Close() {
	e.cancel()
	e.wg.Wait()
}

// Propose implements platform.Engine.
func (e *Engine) Propose(ctx context.Context, entry *platform.Entry) (platform.Result, error) {
	return e.Lower.Propose(ctx, entry)
}

// Policy returns the trim policy as this node sees it now: the reports
// it applied, the members it knows, at the log time of its last applied
// entry.
func (e *Engine) Policy() Policy {
	e.mu.Lock()
	reports := maps.Clone(e.mu.reports)
	now := e.mu.now
	e.mu.Unlock()
	var members []string
	if e.cfg.Members != nil {
		members = e.cfg.Members()
	}
	if len(members) == 0 {
		members = []string{e.cfg.Node}
	}
	return Compute(reports, members, now, e.cfg.Retention)
}

// Apply implements platform.Applicator: a report is recorded with its
// entry's log time and position; every other entry goes up.
func (e *Engine) Apply(txn platform.Txn, entry *platform.Entry, at platform.Version) (platform.Result, error) {
	h := platform.HeaderValue(entry, Header)
	if h == nil {
		return e.Up.Apply(txn, entry, at)
	}
	r, ok := decodeReport(h)
	if !ok {
		return platform.Result{}, nil
	}
	r.At, r.Pos = timekeeper.Time(entry), at.Pos
	if err := txn.Set(append(append([]byte(nil), reportPrefix...), r.Node...), r.encode()); err != nil {
		return platform.Result{}, err
	}
	e.pending = append(e.pending, r)
	return platform.Result{}, nil
}

// PostApply implements platform.Applicator.
func (e *Engine) PostApply(entry *platform.Entry, at platform.Version) {
	if platform.HeaderValue(entry, Header) == nil {
		e.Up.PostApply(entry, at)
	}
}

// ApplyEntry implements platform.EntryApplicator. At the first entry, and
// at an entry that does not follow the last one seen (the store was
// replaced by a replica's checkpoint), the reports are read back from the
// store.
func (e *Engine) ApplyEntry(txn platform.Txn, entry *platform.Entry, at platform.Version) error {
	if !e.seen || at.Pos != e.last+1 {
		reports, err := readReports(txn)
		if err != nil {
			return err
		}
		e.reload, e.reloaded = reports, true
	}
	e.last, e.seen = at.Pos, true
	e.entryAt = timekeeper.Time(entry)
	return e.Up.ApplyEntry(txn, entry, at)
}

// PostApplyEntry implements platform.EntryApplicator: the entry's reports
// and log time become what the policy sees.
func (e *Engine) PostApplyEntry(entry *platform.Entry, at platform.Version) {
	e.mu.Lock()
	if e.reloaded {
		e.mu.reports = e.reload
	}
	for _, r := range e.pending {
		e.mu.reports[r.Node] = r
	}
	if e.entryAt.After(e.mu.now) {
		e.mu.now = e.entryAt
	}
	e.mu.Unlock()
	e.pending, e.reload, e.reloaded = e.pending[:0], nil, false
	e.Up.PostApplyEntry(entry, at)
}

// readReports reads the reports recorded in the engine's namespace.
func readReports(r platform.Reader) (map[string]Report, error) {
	it, err := r.NewIter(reportPrefix, platform.PrefixEnd(reportPrefix))
	if err != nil {
		return nil, err
	}
	defer it.Close()
	out := map[string]Report{}
	for ok := it.First(); ok; ok = it.Next() {
		if rep, ok := decodeReport(it.Value()); ok {
			out[rep.Node] = rep
		}
	}
	return out, it.Error()
}

// loop reports and votes every interval until Close.
func (e *Engine) loop() {
	defer e.wg.Done()
	tick := time.NewTicker(e.cfg.Interval)
	defer tick.Stop()
	for {
		e.report()
		e.vote()
		select {
		case <-tick.C:
		case <-e.ctx.Done():
			return
		}
	}
}

// vote votes the policy's trim point, if it has one.
func (e *Engine) vote() {
	if p := e.Policy(); p.Set {
		e.Lower.SetTrimPrefix(Voter, p.Point)
	}
}

// report makes the applied state durable and proposes a report of it,
// waiting at most an interval for it to apply.
func (e *Engine) report() {
	durable, err := e.cfg.Durable()
	if err != nil {
		e.cfg.Logger.Warn("making the applied state durable failed; not reporting", "err", err)
		return
	}
	r := Report{Node: e.cfg.Node, Applied: max(e.cfg.Applied(), durable), Durable: durable, Retention: e.cfg.Retention}
	if e.cfg.Backup != nil {
		r.Backup, r.HasBackup = e.cfg.Backup()
	}
	entry := &platform.Entry{}
	platform.SetHeader(entry, Header, r.encode())
	ctx, cancel := context.WithTimeout(e.ctx, e.cfg.Interval)
	defer cancel()
	if _, err := e.Lower.Propose(ctx, entry); err != nil {
		e.cfg.Logger.Debug("reporting the applied position failed", "err", err)
	}
}
