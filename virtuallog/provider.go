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
	// most once per loglet id while the handle is cached, never twice at
	// once for one id, and concurrently for different ids; it may block
	// on the network (until ctx ends) without holding up other loglets.
	Open func(ctx context.Context, cfg *vlogpb.LogletConfig, fresh bool) (loglet.Loglet, error)
	// Place fills in where a new loglet goes (servers, sequencer), given
	// the chain it joins. Nil places it on "local".
	Place func(cfg *vlogpb.LogletConfig, chain *vlogpb.Chain) error
}

// Kinds is a Provider over a set of loglet kinds. It caches one handle per
// loglet id, so every VirtualLog in the process shares it. Opening a
// loglet (which may call its servers for seconds) holds up only the
// callers that want that loglet: each id has at most one opener at a
// time, and others wait for it.
type Kinds struct {
	defaultKind string
	kinds       map[string]Kind

	mu struct {
		sync.Mutex
		open map[uint64]loglet.Loglet
		// opening holds the ids being opened; done is closed when the
		// open ends, after the handle (if any) went into open.
		opening map[uint64]*opening
		// fresh holds the ids this process placed and has not opened yet.
		fresh  map[uint64]bool
		closed bool
	}
}

// opening is one loglet's open in progress.
type opening struct{ done chan struct{} }

var _ Provider = (*Kinds)(nil)

// NewKinds returns a provider for kinds; defaultKind names the kind used
// when a caller asks for "".
func NewKinds(defaultKind string, kinds map[string]Kind) (*Kinds, error) {
	if _, ok := kinds[defaultKind]; !ok {
		return nil, fmt.Errorf("virtuallog: default loglet kind %q is not provided", defaultKind)
	}
	k := &Kinds{defaultKind: defaultKind, kinds: kinds}
	k.mu.open = make(map[uint64]loglet.Loglet)
	k.mu.opening = make(map[uint64]*opening)
	k.mu.fresh = make(map[uint64]bool)
	return k, nil
}

// Open implements Provider. It returns the cached handle of cfg.Id, or
// opens it without holding up callers that want other loglets. A caller
// that finds the loglet being opened waits for that open (or for ctx); if
// the open failed, it tries itself. Safe for concurrent use.
func (k *Kinds) Open(ctx context.Context, cfg *vlogpb.LogletConfig) (loglet.Loglet, error) {
	for {
		k.mu.Lock()
		if k.mu.closed {
			k.mu.Unlock()
			return nil, loglet.ErrClosed
		}
		if l := k.mu.open[cfg.Id]; l != nil {
			k.mu.Unlock()
			return l, nil
		}
		op := k.mu.opening[cfg.Id]
		if op == nil {
			break // this caller opens it, with k.mu held
		}
		k.mu.Unlock()
		select {
		case <-op.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	kind, ok := k.kinds[cfg.Kind]
	if !ok {
		k.mu.Unlock()
		return nil, fmt.Errorf("virtuallog: unknown loglet kind %q", cfg.Kind)
	}
	op := &opening{done: make(chan struct{})}
	k.mu.opening[cfg.Id] = op
	fresh := k.mu.fresh[cfg.Id]
	delete(k.mu.fresh, cfg.Id)
	k.mu.Unlock()

	l, err := kind.Open(ctx, cfg, fresh)

	k.mu.Lock()
	delete(k.mu.opening, cfg.Id)
	closed := k.mu.closed
	switch {
	case err != nil && fresh:
		// Nothing was appended through a handle that never opened.
		k.mu.fresh[cfg.Id] = true
	case err == nil && !closed:
		k.mu.open[cfg.Id] = l
	}
	k.mu.Unlock()
	if err == nil && closed {
		l.Close()
		err = loglet.ErrClosed
	}
	close(op.done)
	if err != nil {
		if errors.Is(err, loglet.ErrClosed) {
			return nil, err
		}
		return nil, fmt.Errorf("virtuallog: open %s loglet %d: %w", cfg.Kind, cfg.Id, err)
	}
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

// Drop implements Provider. An open of the same loglet in progress is
// waited for, so that its handle is dropped too.
func (k *Kinds) Drop(cfg *vlogpb.LogletConfig) {
	k.mu.Lock()
	for k.mu.opening[cfg.Id] != nil {
		op := k.mu.opening[cfg.Id]
		k.mu.Unlock()
		<-op.done
		k.mu.Lock()
	}
	l := k.mu.open[cfg.Id]
	delete(k.mu.open, cfg.Id)
	k.mu.Unlock()
	if l != nil {
		l.Close()
	}
}

// Close closes every cached handle, and makes later Opens fail with
// loglet.ErrClosed. It waits for the opens in progress, whose handles are
// closed as they arrive.
func (k *Kinds) Close() error {
	k.mu.Lock()
	open := k.mu.open
	k.mu.open = nil
	k.mu.closed = true
	var inProgress []*opening
	for _, op := range k.mu.opening {
		inProgress = append(inProgress, op)
	}
	k.mu.Unlock()
	var errs []error
	for _, l := range open {
		errs = append(errs, l.Close())
	}
	for _, op := range inProgress {
		<-op.done
	}
	return errors.Join(errs...)
}
