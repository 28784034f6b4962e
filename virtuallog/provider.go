package virtuallog

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"hourglass/loglet"
	"hourglass/virtuallog/vlogpb"
)

// Kind tells a Kinds provider how to make loglets of one kind.
type Kind struct {
	// Open opens the loglet cfg names. fresh says this process created it
	// (with Place) and nothing was appended to it yet. It is called at
	// most once per loglet id while the handle is cached.
	Open func(ctx context.Context, cfg *vlogpb.LogletConfig, fresh bool) (loglet.Loglet, error)
	// Place fills in where a new loglet goes (servers, sequencer), given
	// the chain it joins. Nil places it on "local".
	Place func(cfg *vlogpb.LogletConfig, chain *vlogpb.Chain) error
}

// Kinds is a Provider over a set of loglet kinds. It caches one handle per
// loglet id, so every VirtualLog in the process shares it.
type Kinds struct {
	defaultKind string
	kinds       map[string]Kind

	mu struct {
		sync.Mutex
		open map[uint64]loglet.Loglet
		// fresh holds the ids this process placed and has not opened yet.
		fresh  map[uint64]bool
		closed bool
	}
}

var _ Provider = (*Kinds)(nil)

// NewKinds returns a provider for kinds; defaultKind names the kind used
// when a caller asks for "".
func NewKinds(defaultKind string, kinds map[string]Kind) (*Kinds, error) {
	if _, ok := kinds[defaultKind]; !ok {
		return nil, fmt.Errorf("virtuallog: default loglet kind %q is not provided", defaultKind)
	}
	k := &Kinds{defaultKind: defaultKind, kinds: kinds}
	k.mu.open = make(map[uint64]loglet.Loglet)
	k.mu.fresh = make(map[uint64]bool)
	return k, nil
}

// Open implements Provider.
func (k *Kinds) Open(ctx context.Context, cfg *vlogpb.LogletConfig) (loglet.Loglet, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.mu.closed {
		return nil, loglet.ErrClosed
	}
	if l := k.mu.open[cfg.Id]; l != nil {
		return l, nil
	}
	kind, ok := k.kinds[cfg.Kind]
	if !ok {
		return nil, fmt.Errorf("virtuallog: unknown loglet kind %q", cfg.Kind)
	}
	// Opening under the lock keeps one handle per id; opens are rare
	// (once per segment) and fast.
	fresh := k.mu.fresh[cfg.Id]
	delete(k.mu.fresh, cfg.Id)
	l, err := kind.Open(ctx, cfg, fresh)
	if err != nil {
		return nil, fmt.Errorf("virtuallog: open %s loglet %d: %w", cfg.Kind, cfg.Id, err)
	}
	k.mu.open[cfg.Id] = l
	return l, nil
}

// Fresh implements Provider.
func (k *Kinds) Fresh(kind string, id uint64, chain *vlogpb.Chain) (*vlogpb.LogletConfig, error) {
	if kind == "" {
		kind = k.defaultKind
	}
	kd, ok := k.kinds[kind]
	if !ok {
		return nil, fmt.Errorf("virtuallog: unknown loglet kind %q", kind)
	}
	cfg := &vlogpb.LogletConfig{Kind: kind, Id: id, Servers: []string{"local"}}
	if kd.Place != nil {
		if err := kd.Place(cfg, chain); err != nil {
			return nil, err
		}
	}
	k.mu.Lock()
	k.mu.fresh[id] = true
	k.mu.Unlock()
	return cfg, nil
}

// Drop implements Provider.
func (k *Kinds) Drop(cfg *vlogpb.LogletConfig) {
	k.mu.Lock()
	l := k.mu.open[cfg.Id]
	delete(k.mu.open, cfg.Id)
	k.mu.Unlock()
	if l != nil {
		l.Close()
	}
}

// Close closes every cached handle.
func (k *Kinds) Close() error {
	k.mu.Lock()
	open := k.mu.open
	k.mu.open = nil
	k.mu.closed = true
	k.mu.Unlock()
	var errs []error
	for _, l := range open {
		errs = append(errs, l.Close())
	}
	return errors.Join(errs...)
}
