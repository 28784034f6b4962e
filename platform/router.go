package platform

import (
	"context"
	"fmt"
	"sync"
)

// HeaderRoute names the top-layer applicator an entry belongs to.
const HeaderRoute = "route"

// Router lets several top-layer applicators (the personalities) sit side by
// side on one stack. Each is mounted under a name; its entries carry the
// name in the route header, and its LocalStore keys live in the namespace
// "p/<name>/" (engines stacked on the mount, in "m/<name>/<engine>/"), so
// no personality can see or change another's state. The per-entry hook
// (EntryApplicator) reaches every mount that has one, in name order, for
// every entry.
type Router struct {
	lower Engine
	mu    sync.RWMutex // guards routes; written only while mounting
	// routes by name.
	routes map[string]*Mount
}

var (
	_ Applicator      = (*Router)(nil)
	_ EntryApplicator = (*Router)(nil)
)

// NewRouter returns a router on top of lower and registers it there.
func NewRouter(lower Engine) *Router {
	r := &Router{lower: lower, routes: map[string]*Mount{}}
	lower.RegisterUpcall(r)
	return r
}

// Mount returns the Engine a personality proposes through. REQUIRES: name is
// not mounted yet; mounting happens before the stack starts.
func (r *Router) Mount(name string) *Mount {
	checkName(name)
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.routes[name]; dup {
		panic(fmt.Sprintf("platform: %q mounted twice", name))
	}
	m := &Mount{router: r, name: name, route: []byte(name), prefix: mountPrefix(name)}
	r.routes[name] = m
	return m
}

func (r *Router) route(e *Entry) *Mount {
	r.mu.RLock()
	defer r.mu.RUnlock()
	m := r.routes[string(HeaderValue(e, HeaderRoute))]
	if m == nil || !m.up.Valid() {
		return nil
	}
	return m
}

// mounts returns the mounted personalities in name order.
func (r *Router) mounts() []*Mount {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []*Mount
	for _, name := range sortedNames(r.routes) {
		if m := r.routes[name]; m.up.Valid() {
			out = append(out, m)
		}
	}
	return out
}

// UnroutableError is the refusal of an entry whose route names no mounted
// applicator. Every replica refuses it the same way.
type UnroutableError struct{ Route string }

func (e *UnroutableError) Error() string {
	return fmt.Sprintf("platform: no applicator mounted for route %q", e.Route)
}

// Apply implements Applicator.
func (r *Router) Apply(txn Txn, e *Entry, at Version) (Result, error) {
	m := r.route(e)
	if m == nil {
		return Result{Err: &UnroutableError{Route: string(HeaderValue(e, HeaderRoute))}}, nil
	}
	return m.up.Apply(m.txn(txn), e, at)
}

// PostApply implements Applicator.
func (r *Router) PostApply(e *Entry, at Version) {
	if m := r.route(e); m != nil {
		m.up.PostApply(e, at)
	}
}

// ApplyEntry implements EntryApplicator: every mounted personality's
// hook, each in its namespace.
func (r *Router) ApplyEntry(txn Txn, e *Entry, at Version) error {
	for _, m := range r.mounts() {
		if err := m.up.ApplyEntry(m.txn(txn), e, at); err != nil {
			return err
		}
	}
	return nil
}

// PostApplyEntry implements EntryApplicator.
func (r *Router) PostApplyEntry(e *Entry, at Version) {
	for _, m := range r.mounts() {
		m.up.PostApplyEntry(e, at)
	}
}

// Mount is one personality's view of the stack: an Engine whose proposals
// are routed back to it and whose views hold only its own keys.
type Mount struct {
	router *Router
	name   string
	route  []byte // name, as the route header holds it
	prefix []byte
	up     Upcall
	// scoped is the apply loop's transaction as the mount's stack sees
	// it, made once (the loop reuses its transaction). Only the apply
	// goroutine touches it.
	scoped *scopedTxn
}

// txn returns txn as the layers on the mount see it before they scope it.
func (m *Mount) txn(txn Txn) Txn {
	root := rootOf(txn)
	if _, reusable := root.(*applyTxn); !reusable {
		return onMount(txn, m.name)
	}
	if m.scoped == nil || m.scoped.root != root {
		m.scoped = onMount(root, m.name)
	}
	return m.scoped
}

var (
	_ Engine   = (*Mount)(nil)
	_ Streamer = (*Mount)(nil)
)

func (m *Mount) annotate(e *Entry) { SetHeader(e, HeaderRoute, m.route) }

// Propose implements Engine.
func (m *Mount) Propose(ctx context.Context, e *Entry) (Result, error) {
	m.annotate(e)
	return m.router.lower.Propose(ctx, e)
}

// NewStream implements Streamer. REQUIRES: the engine below the router
// is a Streamer.
func (m *Mount) NewStream() Stream { return AnnotatedStream(m.router.lower, m.annotate) }

// Sync implements Engine.
func (m *Mount) Sync(ctx context.Context) (View, error) {
	v, err := m.router.lower.Sync(ctx)
	if err != nil {
		return nil, err
	}
	return prefixView{prefixReader{m.prefix, v}, v}, nil
}

// SetTrimPrefix implements Engine.
func (m *Mount) SetTrimPrefix(voter string, pos Position) {
	m.router.lower.SetTrimPrefix(voter, pos)
}

// RegisterUpcall implements Engine.
func (m *Mount) RegisterUpcall(a Applicator) {
	m.router.mu.Lock()
	defer m.router.mu.Unlock()
	m.up = NewUpcall(a)
}
