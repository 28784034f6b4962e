// Package upgrade is the engine that switches the engines and
// personalities of a running ensemble to new versions, in two phases, as
// the log-structured protocols paper upgrades Delos:
//
//  1. Every node announces through the log, at start and whenever its
//     build changes, the versions of each engine it can apply (its
//     Supported registry). Replicas record each member's announcement in
//     the engine's namespace.
//  2. An enable entry ("enable time at v2, members n1 n2 n3") takes effect
//     at apply only if every member it names announced support for that
//     version; otherwise every replica refuses it alike. From the
//     position after it on, every replica applies with the new version:
//     an engine asks Enabled(name) at apply.
//
// Nodes propose the enable themselves: each node checks, every
// Config.Every, whether every member of the chain announced a version
// above the enabled one, and if so proposes it (a duplicate is a no-op at
// apply). A node whose build cannot apply a version already enabled
// stops rather than diverge: New refuses to start on such a state, and
// an apply that meets one returns a fatal error.
//
//	up, err := upgrade.New(lease, upgrade.Config{Node: "n1", Supported: reg,
//		Members: members, View: base.LocalView})
//	tk := timekeeper.New(up, nil)
//	tk.SetVersion(func() uint32 { return up.Enabled("time") })
package upgrade

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"hourglass/platform"
)

// Header is the entry header the engine owns: an announcement or an
// enable.
const Header = "upgrade"

// BaseVersion is every engine's version until an enable entry raises it.
const BaseVersion = 1

// DefaultEvery is how often a node checks for an upgrade to announce or
// enable when Config.Every is zero.
const DefaultEvery = 250 * time.Millisecond

// Sentinel errors of the engine.
var (
	// ErrRefused: an enable entry named a member that has not announced
	// support for the version (Result.Err, the same on every replica).
	ErrRefused = errors.New("upgrade: enable refused")
	// ErrMalformed: the engine's header could not be decoded
	// (Result.Err).
	ErrMalformed = errors.New("upgrade: malformed entry")
	// ErrUnsupported: a version enabled in the applied state is one this
	// build cannot apply. It is fatal: the node stops.
	ErrUnsupported = errors.New("upgrade: enabled version not supported by this build")
)

// Config configures the engine.
type Config struct {
	// Node is this node's id, under which it announces.
	Node string
	// Supported is what this build can apply.
	Supported Supported
	// Members returns the ensemble's member ids (the chain's): an enable
	// needs every one of them to have announced support.
	Members func() []string
	// View returns a view of the node's applied state without a trip to
	// the log (the BaseEngine's LocalView).
	View func() (platform.View, error)
	// Every is how often the node checks for an upgrade to announce or
	// enable; 0 means DefaultEvery, negative never (announce and enable
	// with Announce and Enable).
	Every time.Duration
	// Logger receives the engine's log lines; nil discards them.
	Logger *slog.Logger
}

// Engine is the upgrade layer.
type Engine struct {
	platform.Layer
	cfg Config

	// The enabled versions as of the entry at pos (apply goroutine
	// only), read from the store at an entry's first call.
	pos     platform.Position
	known   bool
	enabled table

	stop    chan struct{}
	stopped sync.Once
	wg      sync.WaitGroup
}

var (
	_ platform.Engine          = (*Engine)(nil)
	_ platform.Applicator      = (*Engine)(nil)
	_ platform.EntryApplicator = (*Engine)(nil)
	_ platform.Named           = (*Engine)(nil)
)

// New returns the upgrade layer on top of lower and registers it there.
// It fails with ErrUnsupported if the applied state enables a version
// this build cannot apply. Call Start once the stack is started.
func New(lower platform.Engine, cfg Config) (*Engine, error) {
	if cfg.Node == "" || cfg.Members == nil || cfg.View == nil {
		return nil, errors.New("upgrade: Node, Members and View are required")
	}
	if cfg.Every == 0 {
		cfg.Every = DefaultEvery
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	u := &Engine{Layer: platform.Layer{Lower: lower}, cfg: cfg, stop: make(chan struct{})}
	st, err := u.read()
	if err != nil {
		return nil, err
	}
	if err := cfg.Supported.check(st.enabled); err != nil {
		return nil, err
	}
	lower.RegisterUpcall(u)
	return u, nil
}

// Name implements platform.Named.
func (u *Engine) Name() string { return "upgrade" }

// Enabled returns name's version enabled at the entry being applied.
// Only an applicator above this layer calls it, from its Apply or
// ApplyEntry (the apply goroutine).
func (u *Engine) Enabled(name string) uint32 { return u.enabled.version(name) }

// Propose implements platform.Engine.
func (u *Engine) Propose(ctx context.Context, e *platform.Entry) (platform.Result, error) {
	return u.Lower.Propose(ctx, e)
}

// Start begins checking for upgrades to announce and enable.
func (u *Engine) Start() {
	if u.cfg.Every < 0 {
		return
	}
	u.wg.Add(1)
	go u.loop()
}

// Close stops the checks.
func (u *Engine) Close() {
	u.stopped.Do(func() { close(u.stop) })
	u.wg.Wait()
}

// unsupported is ErrUnsupported for name enabled as e, which this build
// supports as r (if ok).
func unsupported(name string, e Enabled, r Range, ok bool) error {
	has := "no version of it"
	if ok {
		has = fmt.Sprintf("%s v%d to v%d", name, r.Min, r.Max)
	}
	return fmt.Errorf("%w: %s v%d is enabled (at position %d) and this build supports %s; run a build that supports it",
		ErrUnsupported, name, e.Version, e.At, has)
}

// state is the engine's replicated state as read from a view.
type state struct {
	applied   platform.Position
	enabled   table
	announced map[string]Supported
}

// read reads the engine's state from a local view.
func (u *Engine) read() (state, error) {
	v, err := u.cfg.View()
	if err != nil {
		return state{}, err
	}
	defer v.Close()
	st, err := readState(platform.EngineReader(v, u.Name()))
	st.applied = v.Applied()
	return st, err
}

// readState reads the enabled versions and the announcements.
func readState(r platform.Reader) (state, error) {
	st := state{enabled: table{}, announced: map[string]Supported{}}
	b, found, err := r.Get(keyEnabled)
	if err != nil {
		return st, err
	}
	if found {
		t, ok := decodeTable(b)
		if !ok {
			return st, fmt.Errorf("upgrade: the stored enabled versions do not decode")
		}
		st.enabled = t
	}
	it, err := r.NewIter(announcePrefix, platform.PrefixEnd(announcePrefix))
	if err != nil {
		return st, err
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		rd := &reader{b: it.Value()}
		s := rd.ranges()
		if rd.done() {
			st.announced[string(it.Key()[len(announcePrefix):])] = s
		}
	}
	return st, it.Error()
}

// Status is the upgrade state as one node's applied state holds it.
type Status struct {
	// Applied is the first position the state does not reflect.
	Applied platform.Position
	// Enabled is each engine's enabled version, for every engine this
	// build knows or the state enabled.
	Enabled map[string]Enabled
	// Supported is this node's build.
	Supported Supported
	// Announced is what each node announced, by node id.
	Announced map[string]Supported
	// Members are the ensemble's members, as Config.Members gave them.
	Members []string
	// Pending are the upgrades some member supports (see Pending).
	Pending []Pending
}

// Status reads the upgrade state from the node's applied state.
func (u *Engine) Status() (Status, error) {
	st, err := u.read()
	if err != nil {
		return Status{}, err
	}
	members := u.cfg.Members()
	out := Status{
		Applied:   st.applied,
		Enabled:   map[string]Enabled{},
		Supported: u.cfg.Supported,
		Announced: st.announced,
		Members:   members,
		Pending:   plan(st.enabled, st.announced, members),
	}
	for name := range u.cfg.Supported {
		out.Enabled[name] = Enabled{Version: BaseVersion}
	}
	for name, e := range st.enabled {
		out.Enabled[name] = e
	}
	return out, nil
}

// loop announces this node's versions while the applied state does not
// hold them, and proposes every upgrade all members support.
func (u *Engine) loop() {
	defer u.wg.Done()
	tick := time.NewTicker(u.cfg.Every)
	defer tick.Stop()
	for {
		if err := u.step(); err != nil {
			u.cfg.Logger.Debug("upgrade check failed", "err", err)
		}
		select {
		case <-tick.C:
		case <-u.stop:
			return
		}
	}
}

// step is one check of the loop.
func (u *Engine) step() error {
	st, err := u.read()
	if err != nil {
		return err
	}
	if !u.cfg.Supported.equal(st.announced[u.cfg.Node]) {
		if err := u.Announce(); err != nil {
			return err
		}
		u.cfg.Logger.Info("announced the versions this build supports", "node", u.cfg.Node)
	}
	members := u.cfg.Members()
	for _, p := range plan(st.enabled, st.announced, members) {
		if len(p.Missing) > 0 {
			continue
		}
		if err := u.Enable(p.Name, p.Version, members); err != nil {
			return err
		}
		u.cfg.Logger.Info("enabled a new version", "engine", p.Name, "version", p.Version)
	}
	return nil
}

// Announce proposes this node's Supported registry and waits for it to
// apply.
func (u *Engine) Announce() error {
	return u.propose(announcement{node: u.cfg.Node, supported: u.cfg.Supported}.encode())
}

// Enable proposes that name be enabled at version, provided every one of
// members announced support for it, and waits for it to apply. It returns
// an error wrapping ErrRefused if it was refused.
func (u *Engine) Enable(name string, version uint32, members []string) error {
	return u.propose(enablement{name: name, version: version, members: members}.encode())
}

// propose proposes one of the engine's entries, bounded in time and by
// Close.
func (u *Engine) propose(h []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() {
		select {
		case <-u.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	e := &platform.Entry{}
	platform.SetHeader(e, Header, h)
	r, err := u.Lower.Propose(ctx, e)
	if err != nil {
		return err
	}
	return r.Err
}
