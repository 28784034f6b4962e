// Package dedup remembers the positions of recent appends by AppendID, so
// that a retried append returns the original position instead of writing
// twice. Loglet implementations share it.
package dedup

import "hourglass/loglet"

// DefaultWindow is the number of appends a Window remembers by default.
const DefaultWindow = 1 << 16

// Window maps the most recent appends' ids to their first position. It is
// not safe for concurrent use; callers hold their own lock.
type Window struct {
	limit int
	pos   map[loglet.AppendID]loglet.Position
	order []loglet.AppendID // ring of insertion order, for eviction
	next  int
}

// New returns a window that remembers the last limit ids (DefaultWindow if
// limit <= 0).
func New(limit int) *Window {
	if limit <= 0 {
		limit = DefaultWindow
	}
	return &Window{limit: limit, pos: make(map[loglet.AppendID]loglet.Position)}
}

// Lookup returns the remembered position of id.
func (w *Window) Lookup(id loglet.AppendID) (loglet.Position, bool) {
	if id.IsZero() {
		return 0, false
	}
	p, ok := w.pos[id]
	return p, ok
}

// Remember records that id was written at pos, evicting the oldest id once
// the window is full. Zero ids are ignored.
func (w *Window) Remember(id loglet.AppendID, pos loglet.Position) {
	if id.IsZero() {
		return
	}
	if _, ok := w.pos[id]; ok {
		w.pos[id] = pos
		return
	}
	if len(w.order) < w.limit {
		w.order = append(w.order, id)
	} else {
		delete(w.pos, w.order[w.next])
		w.order[w.next] = id
		w.next = (w.next + 1) % w.limit
	}
	w.pos[id] = pos
}

// Forget drops id, so that a retry writes anew (used when an append failed
// definitely).
func (w *Window) Forget(id loglet.AppendID) {
	delete(w.pos, id)
}

// Appends remembers appends by id: the finished ones' positions (in a
// Window) and the ones under way, so that a retry racing its original
// waits for it instead of writing again. Op is the caller's handle on an
// append under way. Not safe for concurrent use; callers hold their lock.
type Appends[Op comparable] struct {
	done    *Window
	running map[loglet.AppendID]Op
}

// NewAppends returns an Appends whose Window remembers limit ids.
func NewAppends[Op comparable](limit int) *Appends[Op] {
	return &Appends[Op]{done: New(limit), running: make(map[loglet.AppendID]Op)}
}

// Lookup reports the position of the finished append id (done), or the op
// of the one under way (running). Zero ids are never found.
func (a *Appends[Op]) Lookup(id loglet.AppendID) (pos loglet.Position, done bool, op Op, running bool) {
	if pos, done = a.done.Lookup(id); done {
		return pos, true, op, false
	}
	if id.IsZero() {
		return 0, false, op, false
	}
	op, running = a.running[id]
	return 0, false, op, running
}

// Start records op as the append id under way.
func (a *Appends[Op]) Start(id loglet.AppendID, op Op) {
	if !id.IsZero() {
		a.running[id] = op
	}
}

// Finish ends op, the append id; if written, its position is remembered.
func (a *Appends[Op]) Finish(id loglet.AppendID, op Op, pos loglet.Position, written bool) {
	if id.IsZero() {
		return
	}
	if a.running[id] == op {
		delete(a.running, id)
	}
	if written {
		a.done.Remember(id, pos)
	}
}
