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
// name in the route header, and its LocalStore keys live under the prefix
// "p/<name>/", so no personality can see or change another's state.
type Router struct {
	lower Engine
	mu    sync.RWMutex // guards routes; written only while mounting
	// routes by name.
	routes map[string]*Mount
}

var _ Applicator = (*Router)(nil)

// NewRouter returns a router on top of lower and registers it there.
func NewRouter(lower Engine) *Router {
	r := &Router{lower: lower, routes: map[string]*Mount{}}
	lower.RegisterUpcall(r)
	return r
}

// Mount returns the Engine a personality proposes through. REQUIRES: name is
// not mounted yet; mounting happens before the stack starts.
func (r *Router) Mount(name string) *Mount {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.routes[name]; dup {
		panic(fmt.Sprintf("platform: %q mounted twice", name))
	}
	m := &Mount{router: r, name: name, prefix: []byte("p/" + name + "/")}
	r.routes[name] = m
	return m
}

func (r *Router) route(e *Entry) *Mount {
	r.mu.RLock()
	defer r.mu.RUnlock()
	m := r.routes[string(e.Headers[HeaderRoute])]
	if m == nil || m.upper == nil {
		return nil
	}
	return m
}

// UnroutableError is the result of an entry whose route names no mounted
// applicator. Every replica returns it the same way.
type UnroutableError struct{ Route string }

func (e *UnroutableError) Error() string {
	return fmt.Sprintf("platform: no applicator mounted for route %q", e.Route)
}

// Apply implements Applicator.
func (r *Router) Apply(txn Txn, e *Entry, pos Position) (any, error) {
	m := r.route(e)
	if m == nil {
		return &UnroutableError{Route: string(e.Headers[HeaderRoute])}, nil
	}
	return m.upper.Apply(prefixTxn{prefixReader{m.prefix, txn}, txn}, e, pos)
}

// PostApply implements Applicator.
func (r *Router) PostApply(e *Entry, pos Position) {
	if m := r.route(e); m != nil {
		m.upper.PostApply(e, pos)
	}
}

// Mount is one personality's view of the stack: an Engine whose proposals
// are routed back to it and whose views hold only its own keys.
type Mount struct {
	router *Router
	name   string
	prefix []byte
	upper  Applicator
}

var _ Engine = (*Mount)(nil)

// Propose implements Engine.
func (m *Mount) Propose(ctx context.Context, e *Entry) (any, error) {
	if e.Headers == nil {
		e.Headers = map[string][]byte{}
	}
	e.Headers[HeaderRoute] = []byte(m.name)
	return m.router.lower.Propose(ctx, e)
}

// Sync implements Engine.
func (m *Mount) Sync(ctx context.Context) (View, error) {
	v, err := m.router.lower.Sync(ctx)
	if err != nil {
		return nil, err
	}
	return prefixView{prefixReader{m.prefix, v}, v}, nil
}

// SetTrimPrefix implements Engine.
func (m *Mount) SetTrimPrefix(pos Position) { m.router.lower.SetTrimPrefix(pos) }

// RegisterUpcall implements Engine.
func (m *Mount) RegisterUpcall(a Applicator) {
	m.router.mu.Lock()
	defer m.router.mu.Unlock()
	m.upper = a
}
