package upgrade

import (
	"fmt"
	"maps"

	"hourglass/platform"
)

// announceKey is where node's announcement is kept.
func announceKey(node string) []byte {
	return append(append([]byte(nil), announcePrefix...), node...)
}

// load reads the enabled versions when the entry at pos does not follow
// the last one this engine saw (the first entry, or the first after a
// restore replaced the store with a replica's checkpoint, which always
// skips ahead), and fails (fatally) if this build cannot apply one of
// them; otherwise the versions carry over from the entry before.
func (u *Engine) load(txn platform.Txn, pos platform.Position) error {
	if u.known && (u.pos == pos || u.pos+1 == pos) {
		u.pos = pos
		return nil
	}
	b, found, err := txn.Get(keyEnabled)
	if err != nil {
		return err
	}
	t := table{}
	if found {
		var ok bool
		if t, ok = decodeTable(b); !ok {
			return fmt.Errorf("upgrade: the stored enabled versions do not decode")
		}
	}
	if err := u.cfg.Supported.check(t); err != nil {
		return err
	}
	u.enabled, u.pos, u.known = t, pos, true
	return nil
}

// Apply implements platform.Applicator: an announcement is recorded, an
// enable takes effect if every member it names announced the version;
// every other entry goes up, applied with the versions enabled before
// it.
func (u *Engine) Apply(txn platform.Txn, e *platform.Entry, at platform.Version) (platform.Result, error) {
	if err := u.load(txn, at.Pos); err != nil {
		return platform.Result{}, err
	}
	h := platform.HeaderValue(e, Header)
	if h == nil {
		return u.Up.Apply(txn, e, at)
	}
	a, en, ok := decodeEntry(h)
	switch {
	case !ok:
		return platform.Result{Err: ErrMalformed}, nil
	case a != nil:
		return platform.Result{}, txn.Set(announceKey(a.node), appendRanges(nil, a.supported))
	}
	return u.enable(txn, en, at.Pos)
}

// enable applies an enable entry at pos.
func (u *Engine) enable(txn platform.Txn, en *enablement, pos platform.Position) (platform.Result, error) {
	if en.version <= u.enabled.version(en.name) {
		return platform.Result{}, nil // enabled already (by another node's proposal)
	}
	if len(en.members) == 0 {
		return platform.Result{Err: fmt.Errorf("%w: no members named", ErrRefused)}, nil
	}
	for _, m := range en.members {
		b, found, err := txn.Get(announceKey(m))
		if err != nil {
			return platform.Result{}, err
		}
		rd := &reader{b: b}
		s := rd.ranges()
		if r, ok := s[en.name]; !found || !rd.done() || !ok || !r.Has(en.version) {
			return platform.Result{Err: fmt.Errorf("%w: %s has not announced support for %s v%d", ErrRefused, m, en.name, en.version)}, nil
		}
	}
	next := maps.Clone(u.enabled)
	next[en.name] = Enabled{Version: en.version, At: pos}
	// Every replica got this far; one whose build cannot go on stops
	// here, before it applies anything with the wrong version.
	if err := u.cfg.Supported.check(next); err != nil {
		return platform.Result{}, err
	}
	if err := txn.Set(keyEnabled, next.encode()); err != nil {
		return platform.Result{}, err
	}
	u.enabled = next
	return platform.Result{}, nil
}

// PostApply implements platform.Applicator.
func (u *Engine) PostApply(e *platform.Entry, at platform.Version) {
	if platform.HeaderValue(e, Header) == nil {
		u.Up.PostApply(e, at)
	}
}

// ApplyEntry implements platform.EntryApplicator: the hook above runs
// with the versions enabled after the entry.
func (u *Engine) ApplyEntry(txn platform.Txn, e *platform.Entry, at platform.Version) error {
	if err := u.load(txn, at.Pos); err != nil {
		return err
	}
	return u.Up.ApplyEntry(txn, e, at)
}
