package kv

import (
	"context"
	"time"

	"hourglass/engines/timekeeper"
	"hourglass/personalities/kv/acl"
	"hourglass/personalities/kv/keyspace"
	"hourglass/platform"
)

// applicator is the kv top-layer applicator: package keyspace runs each
// command against the apply transaction at the entry's log time; what
// the commands publish and the keys they make ready are delivered to
// this node's subscribers and blocked clients once the entry commits.
// Only the apply goroutine uses it.
type applicator struct {
	s  *Server
	fx keyspace.Effects
	// acl: an ACL entry was applied; aclClose are the users whose
	// connections close after it.
	acl      bool
	aclClose []string
	// users caches the users scripts run by at apply, by name and
	// stored text (see ScriptPermission).
	users map[string]*acl.User
}

var (
	_ platform.EntryApplicator  = (*applicator)(nil)
	_ keyspace.Observers        = (*applicator)(nil)
	_ keyspace.ScriptObserver   = (*applicator)(nil)
	_ keyspace.TrackingObserver = (*applicator)(nil)
	_ keyspace.ScriptMonitor    = (*applicator)(nil)
	_ keyspace.ACLChecker       = (*applicator)(nil)
)

func newApplicator(s *Server) *applicator {
	a := &applicator{s: s}
	a.fx.Observers = a
	return a
}

func (a *applicator) Apply(txn platform.Txn, e *platform.Entry, at platform.Version) (platform.Result, error) {
	if args, ok := keyspace.DecodeInternal(e.Body, cmdACL); ok {
		r, closeUsers, err := applyACL(txn, args)
		if err != nil {
			return platform.Result{}, err
		}
		a.acl = true
		a.aclClose = append(a.aclClose, closeUsers...)
		return platform.Result{Value: r}, nil
	}
	a.fx.Origin = a.s.tracker.origin(e)
	if a.fx.Origin == 0 && a.s.monitors.count.Load() > 0 {
		a.s.feedApplied(e.Body)
	}
	r, err := keyspace.Apply(txn, at, timekeeper.Time(e), e.Body, &a.fx)
	if err != nil {
		return platform.Result{}, err
	}
	return platform.Result{Value: r}, nil
}

// ApplyEntry runs active expiry, once per log entry: every replica
// expires the same keys at the same position because the time is the
// log's.
func (a *applicator) ApplyEntry(txn platform.Txn, e *platform.Entry, at platform.Version) error {
	a.fx.Origin = 0
	return keyspace.ExpireCycle(txn, at, timekeeper.Time(e), &a.fx)
}

// PostApply delivers what the command published to this node's
// subscribers, and wakes the clients blocked on keys it wrote.
func (a *applicator) PostApply(e *platform.Entry, at platform.Version) {
	if a.acl {
		a.s.acl.gen.Add(1)
		a.s.closeUsers(a.aclClose)
		a.acl, a.aclClose = false, nil
	}
	a.s.afterApply(&a.fx, at.Pos)
	if a.fx.Evicted > 0 {
		a.s.stats.evicted.Add(a.fx.Evicted)
		a.fx.Evicted = 0
	}
	if cur := a.s.eviction.Load(); *cur != a.fx.Eviction && a.fx.Eviction.Policy != "" {
		cfg := a.fx.Eviction
		a.s.eviction.Store(&cfg)
	}
	a.s.publishAll(&a.fx)
	if len(a.fx.Ready) > 0 || len(a.fx.ReadyDBs) > 0 {
		a.s.blocker.wake(a.fx.Ready, a.fx.ReadyDBs)
	}
	a.fx.Reset()
}

// PostApplyEntry implements platform.EntryApplicator.
func (a *applicator) PostApplyEntry(e *platform.Entry, at platform.Version) {
	a.PostApply(e, at)
}

// Subscribers implements keyspace.Observers: PUBLISH's count.
func (a *applicator) Subscribers(channel []byte) int64 { return a.s.hub.receivers(channel) }

// ScriptLog implements keyspace.ScriptObserver: redis.log at apply.
func (a *applicator) ScriptLog(level int, msg string) { a.s.scriptLog(level, msg) }

// ScriptRunning implements keyspace.ScriptObserver, for SCRIPT KILL.
func (a *applicator) ScriptRunning(running bool) { a.s.scripts.applying.Store(running) }

// Notifications implements keyspace.Observers: the node's
// notify-keyspace-events, while anybody here subscribes.
func (a *applicator) Notifications() keyspace.EventClass {
	if a.s.hub.count.Load() == 0 {
		return 0
	}
	return keyspace.EventClass(a.s.notify.Load())
}

// Tracking implements keyspace.TrackingObserver.
func (a *applicator) Tracking() bool { return a.s.tracker.tracking() }

// ScriptCalled implements keyspace.ScriptMonitor: the commands of a
// script this node's client sent go to this node's monitors.
func (a *applicator) ScriptCalled(db int, args [][]byte) {
	if a.fx.Origin != 0 {
		a.s.feedLua(db, args)
	}
}

// Blocked implements keyspace.Observers.
func (a *applicator) Blocked() bool { return a.s.blocker.n.Load() > 0 }

// tickLoop proposes a tick whenever keys are due to expire, so that active
// expiry runs even when nothing else is written. Every node may propose;
// a tick costs one small log entry.
func (s *Server) tickLoop(every time.Duration) {
	s.every(every, func() {
		if !s.activeExpire.Load() {
			return
		}
		if due, err := s.expiryDue(); err == nil && due {
			s.proposeBackground(keyspace.TickBody(), "proposing an expiry tick failed; retrying at the next")
		}
	})
}

// every calls f every d until the server closes.
func (s *Server) every(d time.Duration, f func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		f()
	}
}

// proposeBackground proposes an entry of the node's own (not a
// client's), and logs failure as warning unless the server is closing.
func (s *Server) proposeBackground(body []byte, warning string) {
	if err := s.proposeWait(s.ctx, body); err != nil && s.ctx.Err() == nil {
		s.log.Warn(warning, "err", err)
	}
}

// expiryDue reports whether the applied state holds a key whose expiry
// has passed by this node's clock.
func (s *Server) expiryDue() (due bool, err error) {
	err = s.withSyncedView(func(v platform.View) (err error) {
		due, err = keyspace.ExpiryDue(v, s.cfg.Clock())
		return err
	})
	return due, err
}

// withSyncedView runs f on a view of everything applied when it was
// called (a Sync within ProposeTimeout), and closes the view.
func (s *Server) withSyncedView(f func(platform.View) error) error {
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.ProposeTimeout)
	defer cancel()
	v, err := s.engine.Sync(ctx)
	if err != nil {
		return err
	}
	defer v.Close()
	return f(v)
}
