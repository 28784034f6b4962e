package virtuallog_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"hourglass/internal/pebbledb"
	"hourglass/loglet"
	"hourglass/loglet/native"
	"hourglass/loglet/native/nativetest"
	"hourglass/virtuallog"
	"hourglass/virtuallog/metastore"
	"hourglass/virtuallog/vlogpb"
)

// process is one simulated node: its own provider (and so its own
// sequencers), sharing the LogServers and the MetaStore with the others.
type process struct {
	name     string
	provider *virtuallog.Kinds
	vl       *virtuallog.VirtualLog
	dead     atomic.Bool
}

// peers routes forwarded appends to the process that runs a loglet's
// sequencer, failing as an unreachable process would once it is dead.
type peers struct {
	mu    sync.Mutex
	procs map[string]*process
}

type forward struct {
	p    *peers
	name string
	cfg  *vlogpb.LogletConfig
}

func (f forward) Append(ctx context.Context, id native.LogletID, aid loglet.AppendID, entries [][]byte) (loglet.Position, error) {
	f.p.mu.Lock()
	target := f.p.procs[f.name]
	f.p.mu.Unlock()
	if target == nil || target.dead.Load() {
		return 0, fmt.Errorf("%w: process %s is down", loglet.ErrUnavailable, f.name)
	}
	l, err := target.provider.Open(ctx, f.cfg)
	if err != nil {
		return 0, err
	}
	return l.Append(ctx, aid, entries)
}

func (f forward) Committed(ctx context.Context, id native.LogletID) (loglet.Position, error) {
	f.p.mu.Lock()
	target := f.p.procs[f.name]
	f.p.mu.Unlock()
	if target == nil || target.dead.Load() {
		return 0, fmt.Errorf("%w: process %s is down", loglet.ErrUnavailable, f.name)
	}
	l, err := target.provider.Open(ctx, f.cfg)
	if err != nil {
		return 0, err
	}
	tail, _, err := l.CheckTail(ctx)
	return tail, err
}

func TestFailoverWhenSequencerDies(t *testing.T) {
	ctx := ctxFor(t)
	var servers []native.Server
	for range 3 {
		servers = append(servers, nativetest.Open(t, vfs.NewMem()).Server)
	}
	metaDB, err := pebbledb.Open("meta", pebbledb.Options{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { metaDB.Close() })
	meta := metastore.NewLocal(metaDB)
	ps := &peers{procs: map[string]*process{}}
	start := func(name string) *process {
		p := &process{name: name}
		var err error
		p.provider, err = virtuallog.NewKinds("native", map[string]virtuallog.Kind{
			"native": {
				Place: func(cfg *vlogpb.LogletConfig, chain *vlogpb.Chain) error {
					cfg.Servers = []string{"s0", "s1", "s2"}
					cfg.Sequencer = name
					return nil
				},
				Open: func(ctx context.Context, cfg *vlogpb.LogletConfig, fresh bool) (loglet.Loglet, error) {
					c := native.Config{ID: native.LogletID(cfg.Id), Servers: servers, Fresh: fresh, CallTimeout: 200 * time.Millisecond}
					if cfg.Sequencer != name {
						c.Sequencer = forward{p: ps, name: cfg.Sequencer, cfg: cfg}
					}
					return native.Open(ctx, c)
				},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.provider.Close() })
		ps.mu.Lock()
		ps.procs[name] = p
		ps.mu.Unlock()
		p.vl, err = virtuallog.Open(ctx, virtuallog.Config{Meta: meta, Provider: p.provider, SealWait: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := start("a") // creates the chain: a runs the first sequencer
	b := start("b")
	c := start("c")
	var want []string
	for i := range 20 {
		p := []*process{a, b, c}[i%3]
		s := fmt.Sprint(i)
		if _, err := p.vl.Append(ctx, loglet.AppendID{}, [][]byte{[]byte(s)}); err != nil {
			t.Fatalf("append %d via %s: %v", i, p.name, err)
		}
		want = append(want, s)
	}
	chain, _ := b.vl.Chain()
	if seq := chain.Segments[len(chain.Segments)-1].Loglet.Sequencer; seq != "a" {
		t.Fatalf("first sequencer %q, want a", seq)
	}

	// a dies. Appends through b and c fail over to a new loglet whose
	// sequencer is one of them, and carry on.
	a.dead.Store(true)
	a.provider.Close()
	var wg sync.WaitGroup
	for _, p := range []*process{b, c} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				if _, err := p.vl.Append(ctx, loglet.AppendID{}, [][]byte{fmt.Appendf(nil, "%s%d", p.name, i)}); err != nil {
					t.Errorf("append via %s after a died: %v", p.name, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	chain, _ = b.vl.Chain()
	seq := chain.Segments[len(chain.Segments)-1].Loglet.Sequencer
	if seq != "b" && seq != "c" {
		t.Fatalf("sequencer after failover %q", seq)
	}
	tail, err := c.vl.CheckTail(ctx)
	if err != nil || tail != 40 {
		t.Fatalf("tail after failover = %d, %v; want 40", tail, err)
	}
	got, err := readAll(ctx, c.vl, 0, tail)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("position %d = %q, want %q", i, got[i], want[i])
		}
	}
	t.Logf("%d segments after failover; sequencer %s", len(chain.Segments), seq)
}
