package zk

import (
	"cmp"
	"maps"
	"slices"
	"sync"
)

// Watch kinds a client sets. Data watches (getData, exists) and child
// watches (getChildren) are one-shot; persistent ones stay until removed.
const (
	watchData = iota
	watchChild
	watchPersistent
	watchRecursive
	numWatchKinds
)

// watchReg is one connection's watch on one path.
type watchReg struct {
	c *conn
	// armedAfter is the zxid of the read that set the watch: only events
	// after it trigger it. -1 while the read is in flight; events that
	// arrive meanwhile wait in pending.
	armedAfter int64
	pending    []event
}

// watchManager is a node's watches, by kind and path. Watches are node
// state: every node applies every write, and each delivers the events to
// its own clients.
type watchManager struct {
	mu    sync.Mutex
	table [numWatchKinds]map[string]map[*conn]*watchReg
	count int // registrations, for wchs
	// fired, if set, observes how many connections each event with
	// watchers notified, by event: created, deleted, data changed,
	// children changed (ZooKeeper's node_*_watch_count summaries).
	fired *[4]summary
}

func newWatchManager() *watchManager {
	w := &watchManager{}
	for i := range w.table {
		w.table[i] = map[string]map[*conn]*watchReg{}
	}
	return w
}

// add registers c's watch of kind on path, unarmed; arm it once the read
// that set it has its view (or remove it if the read failed).
func (w *watchManager) add(kind int, path string, c *conn) *watchReg {
	w.mu.Lock()
	defer w.mu.Unlock()
	regs := w.table[kind][path]
	if regs == nil {
		regs = map[*conn]*watchReg{}
		w.table[kind][path] = regs
	}
	if r, ok := regs[c]; ok {
		return r
	}
	r := &watchReg{c: c, armedAfter: -1}
	regs[c] = r
	w.count++
	return r
}

// arm makes r live as of zxid: of the events that arrived while it was
// unarmed, the first after zxid triggers it now.
func (w *watchManager) arm(kind int, path string, r *watchReg, zxid int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if r.armedAfter >= 0 {
		return
	}
	r.armedAfter = zxid
	pending := r.pending
	r.pending = nil
	for _, e := range pending {
		if e.zxid > zxid {
			w.fire(kind, path, r, e)
			if kind == watchData || kind == watchChild {
				return
			}
		}
	}
}

// drop removes an unarmed registration whose read failed.
func (w *watchManager) drop(kind int, path string, r *watchReg) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.table[kind][path][r.c] == r && r.armedAfter < 0 {
		w.unregister(kind, path, r.c)
	}
}

func (w *watchManager) unregister(kind int, path string, c *conn) bool {
	regs := w.table[kind][path]
	if _, ok := regs[c]; !ok {
		return false
	}
	delete(regs, c)
	w.count--
	if len(regs) == 0 {
		delete(w.table[kind], path)
	}
	return true
}

// fire sends e to r's connection; a one-shot watch is removed.
func (w *watchManager) fire(kind int, path string, r *watchReg, e event) {
	r.c.sendEvent(e.typ, e.path)
	if kind == watchData || kind == watchChild {
		w.unregister(kind, path, r.c)
	}
}

// trigger hands e to the registrations of kind on path.
func (w *watchManager) trigger(kind int, path string, e event, sent map[*conn]bool) {
	for _, r := range w.table[kind][path] {
		if sent[r.c] {
			// One notification per connection and event, as ZooKeeper
			// sends; a one-shot watch it covers is consumed all the same.
			if kind == watchData || kind == watchChild {
				if r.armedAfter >= 0 && e.zxid > r.armedAfter {
					w.unregister(kind, path, r.c)
				}
			}
			continue
		}
		switch {
		case r.armedAfter < 0:
			r.pending = append(r.pending, e)
		case e.zxid > r.armedAfter:
			sent[r.c] = true
			w.fire(kind, path, r, e)
		}
	}
}

// deliver triggers the watches that events, in order, concern.
func (w *watchManager) deliver(events []event) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range events {
		sent := map[*conn]bool{}
		switch e.typ {
		case eventNodeCreated, eventNodeDataChanged:
			w.trigger(watchData, e.path, e, sent)
		case eventNodeDeleted:
			w.trigger(watchData, e.path, e, sent)
			w.trigger(watchChild, e.path, e, sent)
		case eventNodeChildrenChanged:
			w.trigger(watchChild, e.path, e, sent)
		}
		w.trigger(watchPersistent, e.path, e, sent)
		if e.typ != eventNodeChildrenChanged {
			for p := e.path; ; p = parentOf(p) {
				w.trigger(watchRecursive, p, e, sent)
				if p == "/" {
					break
				}
			}
		}
		if w.fired != nil && len(sent) > 0 && e.typ >= eventNodeCreated && e.typ <= eventNodeChildrenChanged {
			w.fired[e.typ-eventNodeCreated].add(int64(len(sent)))
		}
	}
}

// remove deletes c's watches on path of the given ZooKeeper watcher type
// (1 children, 2 data, 3 any, 4 persistent, 5 persistent recursive), or
// only checks for them; false if there were none.
func (w *watchManager) remove(c *conn, path string, typ int32, checkOnly bool) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	var kinds []int
	switch typ {
	case 1:
		kinds = []int{watchChild}
	case 2:
		kinds = []int{watchData}
	case 3:
		kinds = []int{watchChild, watchData, watchPersistent, watchRecursive}
	case 4:
		kinds = []int{watchPersistent}
	case 5:
		kinds = []int{watchRecursive}
	}
	found := false
	for _, k := range kinds {
		if _, ok := w.table[k][path][c]; ok {
			found = true
			if !checkOnly {
				w.unregister(k, path, c)
			}
		}
	}
	return found
}

// forget removes every watch of a closed connection.
func (w *watchManager) forget(c *conn) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for k := range w.table {
		for path, regs := range w.table[k] {
			if _, ok := regs[c]; ok {
				w.unregister(k, path, c)
			}
		}
	}
}

// summary is wchs's report: connections with watches, watched paths and
// watches.
func (w *watchManager) summary() (conns, paths, total int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	cs := map[*conn]bool{}
	ps := map[string]bool{}
	for k := range w.table {
		for p, regs := range w.table[k] {
			ps[p] = true
			for c := range regs {
				cs[c] = true
			}
		}
	}
	return len(cs), len(ps), w.count
}

// watchedPaths is one key of wchc or wchp and what it lists.
type watchedPaths struct {
	session int64
	path    string
	list    []string // wchc: paths
	ids     []int64  // wchp: sessions
}

// sessionPaths is the watched paths of each session; connections
// without a session are left out.
func (w *watchManager) sessionPaths() map[int64]map[string]bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	set := map[int64]map[string]bool{}
	for k := range w.table {
		for p, regs := range w.table[k] {
			for c := range regs {
				if id := c.sessionID(); id != 0 {
					if set[id] == nil {
						set[id] = map[string]bool{}
					}
					set[id][p] = true
				}
			}
		}
	}
	return set
}

// bySession lists each session's watched paths (wchc), sorted.
func (w *watchManager) bySession() []watchedPaths {
	set := w.sessionPaths()
	out := make([]watchedPaths, 0, len(set))
	for id, paths := range set {
		out = append(out, watchedPaths{session: id, list: slices.Sorted(maps.Keys(paths))})
	}
	slices.SortFunc(out, func(a, b watchedPaths) int { return cmp.Compare(a.session, b.session) })
	return out[:min(len(out), maxListed)]
}

// byPath lists each watched path's sessions (wchp), sorted.
func (w *watchManager) byPath() []watchedPaths {
	inv := map[string][]int64{}
	for id, paths := range w.sessionPaths() {
		for p := range paths {
			inv[p] = append(inv[p], id)
		}
	}
	out := make([]watchedPaths, 0, len(inv))
	for p, ids := range inv {
		slices.Sort(ids)
		out = append(out, watchedPaths{path: p, ids: ids})
	}
	slices.SortFunc(out, func(a, b watchedPaths) int { return cmp.Compare(a.path, b.path) })
	return out[:min(len(out), maxListed)]
}
