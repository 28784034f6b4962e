package lease

import (
	"context"
	"time"

	"hourglass/platform"
)

// Apply implements platform.Applicator: a grant is recorded in the
// engine's namespace (so a node that restarts, or is restored from a
// replica's checkpoint, knows it); every other entry goes up.
func (e *Engine) Apply(txn platform.Txn, entry *platform.Entry, at platform.Version) (platform.Result, error) {
	h := platform.HeaderValue(entry, Header)
	if h == nil {
		return e.Up.Apply(txn, entry, at)
	}
	e.honored = false
	g, ok := decodeGrant(h)
	if !ok {
		return platform.Result{}, nil
	}
	key := append(append([]byte(nil), grantPrefix...), g.node...)
	prev, found, err := txn.Get(key)
	if err != nil {
		return platform.Result{}, err
	}
	if p, ok := decodeGrant(prev); found && ok && !g.follows(p) {
		return platform.Result{}, nil
	}
	e.honored = true
	return platform.Result{}, txn.Set(key, h)
}

// PostApply implements platform.Applicator.
func (e *Engine) PostApply(entry *platform.Entry, at platform.Version) {
	h := platform.HeaderValue(entry, Header)
	if h == nil {
		e.Up.PostApply(entry, at)
		return
	}
	if g, ok := decodeGrant(h); ok {
		e.granted(g, at.Pos, e.honored)
	}
}

// ApplyEntry implements platform.EntryApplicator. An entry that does not
// follow the last one this layer saw means the store was replaced by a
// replica's checkpoint: the grants it holds are adopted before anything
// is acknowledged from it.
func (e *Engine) ApplyEntry(txn platform.Txn, entry *platform.Entry, at platform.Version) error {
	if e.seen && at.Pos != e.last+1 {
		grants, err := readGrants(txn)
		if err != nil {
			return err
		}
		e.adopt(grants)
	}
	e.last, e.seen = at.Pos, true
	return e.Up.ApplyEntry(txn, entry, at)
}

// PostApplyEntry implements platform.EntryApplicator: the entry is in the
// store, so this node's reads will see it; its peers hear so.
func (e *Engine) PostApplyEntry(entry *platform.Entry, at platform.Version) {
	e.Up.PostApplyEntry(entry, at)
	e.applied.Store(at.Pos + 1)
	e.mu.Lock()
	e.changedLocked()
	e.mu.Unlock()
}

// granted records a grant applied at pos, honoured or not.
func (e *Engine) granted(g grant, pos platform.Position, honored bool) {
	now := e.clock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if g.node == e.node {
		if g.inc != e.inc {
			return // a grant of this node's earlier run, which ended
		}
		e.mu.base = max(e.mu.base, g.seq)
		proposed, ok := e.mu.pending[g.seq]
		delete(e.mu.pending, g.seq)
		if !ok || !honored {
			return
		}
		if exp := proposed.Add(g.term); !e.mu.own.valid || exp.After(e.mu.own.expiry) {
			e.mu.own = ownLease{pos: pos, expiry: exp, valid: true}
		}
		return
	}
	if honored {
		e.holdLocked(g, now)
		e.changedLocked()
	}
}

// holdLocked records that g's node holds a lease until its term and the
// margin from now. REQUIRES: e.mu.
func (e *Engine) holdLocked(g grant, now time.Time) {
	gone := now.Add(g.term + g.term/8 + 2*time.Millisecond)
	if h, ok := e.mu.holders[g.node]; ok && h.gone.After(gone) {
		gone = h.gone
	}
	e.mu.holders[g.node] = holder{inc: g.inc, gone: gone}
}

// adopt honours grants read from the store as if applied now: this node
// cannot know when their holders proposed them, and now is after that.
func (e *Engine) adopt(grants []grant) {
	now := e.clock()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, g := range grants {
		if g.node != e.node {
			e.holdLocked(g, now)
		}
	}
	e.changedLocked()
}

// readGrants reads the grants recorded in the engine's namespace.
func readGrants(r platform.Reader) ([]grant, error) {
	it, err := r.NewIter(grantPrefix, platform.PrefixEnd(grantPrefix))
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []grant
	for ok := it.First(); ok; ok = it.Next() {
		if g, ok := decodeGrant(it.Value()); ok {
			out = append(out, g)
		}
	}
	return out, it.Error()
}

// renewLoop proposes a grant every quarter term while the nodes holding
// leases hear this node (a node they could not hear would hold up their
// writes until its lease lapsed).
func (e *Engine) renewLoop() {
	defer e.wg.Done()
	tick := time.NewTicker(e.term / 4)
	defer tick.Stop()
	for {
		if e.heard() {
			e.renew()
		}
		select {
		case <-tick.C:
		case <-e.stop:
			return
		}
	}
}

// heard reports whether every other live lease holder acknowledged this
// node's applied position within half a term.
func (e *Engine) heard() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.clock()
	for node, h := range e.mu.holders {
		if now.Before(h.gone) && now.Sub(e.mu.acked[node]) > e.term/2 {
			return false
		}
	}
	return true
}

// renew proposes one grant and waits for it to apply (bounded by the
// term: a grant applied later would be worth little).
func (e *Engine) renew() {
	seq := e.seq.Add(1)
	now := e.clock()
	e.mu.Lock()
	g := grant{node: e.node, inc: e.inc, seq: seq, base: e.mu.base, term: e.term}
	for s, t := range e.mu.pending {
		if now.Sub(t) > e.term {
			delete(e.mu.pending, s)
		}
	}
	// The lease runs from before the proposal leaves.
	e.mu.pending[seq] = now
	e.mu.Unlock()
	entry := &platform.Entry{}
	platform.SetHeader(entry, Header, g.encode())
	ctx, cancel := context.WithTimeout(context.Background(), e.term)
	defer cancel()
	go func() {
		select {
		case <-e.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	if _, err := e.Lower.Propose(ctx, entry); err != nil {
		e.logger.Debug("renewing the read lease failed", "err", err)
	}
}
