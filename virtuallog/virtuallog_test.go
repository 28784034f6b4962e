package virtuallog_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"hourglass/internal/pebbledb"
	"hourglass/loglet"
	"hourglass/loglet/mem"
	"hourglass/loglet/native"
	"hourglass/virtuallog"
	"hourglass/virtuallog/metastore"
	"hourglass/virtuallog/vlogpb"
)

// env is one node's worth of log: a LogServer, a MetaStore and a provider
// offering "native" (the default) and "mem" loglets.
type env struct {
	server   *native.LogServer
	meta     virtuallog.MetaStore
	provider *virtuallog.Kinds
	// copies are the entries "copy" loglets hold, by their base: the
	// stand-in for a backup's copy of a segment.
	copies sync.Map
}

func newEnv(t *testing.T) *env {
	t.Helper()
	fs := vfs.NewMem()
	logDB, err := pebbledb.Open("log", pebbledb.Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	server, err := native.OpenLogServer(logDB, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	metaDB, err := pebbledb.Open("meta", pebbledb.Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	var memMu sync.Mutex
	mems := map[uint64]*mem.Loglet{}
	e := &env{server: server, meta: metastore.NewLocal(metaDB)}
	provider, err := virtuallog.NewKinds("native", map[string]virtuallog.Kind{
		"copy": {
			Open: func(ctx context.Context, cfg *vlogpb.LogletConfig, fresh bool) (loglet.Loglet, error) {
				entries, ok := e.copies.Load(cfg.Base)
				if !ok {
					return nil, loglet.ErrTrimmed
				}
				m := mem.New()
				if _, err := m.Append(ctx, loglet.AppendID{}, entries.([][]byte)); err != nil {
					return nil, err
				}
				_, err := m.Seal(ctx)
				return m, err
			},
		},
		"native": {
			Open: func(ctx context.Context, cfg *vlogpb.LogletConfig, fresh bool) (loglet.Loglet, error) {
				return native.Open(ctx, native.Config{ID: native.LogletID(cfg.Id), Servers: []native.Server{server}, Fresh: fresh})
			},
		},
		"mem": {
			Open: func(ctx context.Context, cfg *vlogpb.LogletConfig, fresh bool) (loglet.Loglet, error) {
				memMu.Lock()
				defer memMu.Unlock()
				if mems[cfg.Id] == nil {
					mems[cfg.Id] = mem.New()
				}
				return mems[cfg.Id], nil
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		provider.Close()
		server.Close()
		metaDB.Close()
	})
	e.provider = provider
	return e
}

func (e *env) open(t *testing.T) *virtuallog.VirtualLog {
	t.Helper()
	vl, err := virtuallog.Open(context.Background(), virtuallog.Config{Meta: e.meta, Provider: e.provider, SealWait: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return vl
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func appendOne(t *testing.T, ctx context.Context, vl *virtuallog.VirtualLog, s string) uint64 {
	t.Helper()
	p, err := vl.Append(ctx, loglet.AppendID{}, [][]byte{[]byte(s)})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// readAll reads [from, to) and returns the entries.
func readAll(ctx context.Context, vl *virtuallog.VirtualLog, from, to uint64) ([]string, error) {
	var out []string
	for p := from; p < to; {
		es, err := vl.ReadNext(ctx, p, int(to-p))
		if err != nil {
			return nil, fmt.Errorf("ReadNext(%d): %w", p, err)
		}
		for _, e := range es {
			out = append(out, string(e))
		}
		p += uint64(len(es))
	}
	return out, nil
}

func TestAppendReadAcrossSegments(t *testing.T) {
	ctx := ctxFor(t)
	e := newEnv(t)
	vl := e.open(t)
	var want []string
	for seg := range 4 {
		for i := range 5 {
			s := fmt.Sprintf("s%d-%d", seg, i)
			if p := appendOne(t, ctx, vl, s); p != uint64(len(want)) {
				t.Fatalf("append %q at %d, want %d", s, p, len(want))
			}
			want = append(want, s)
		}
		kind := "native"
		if seg%2 == 0 {
			kind = "mem" // alternate loglet kinds: reconfiguration changes the type
		}
		start, err := vl.Reconfigure(ctx, kind)
		if err != nil {
			t.Fatal(err)
		}
		if start != uint64(len(want)) {
			t.Fatalf("new segment starts at %d, want %d", start, len(want))
		}
	}
	chain, _ := vl.Chain()
	if len(chain.Segments) != 5 {
		t.Fatalf("chain has %d segments, want 5", len(chain.Segments))
	}
	got, err := readAll(ctx, vl, 0, uint64(len(want)))
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("position %d = %q, want %q", i, got[i], want[i])
		}
	}
	// A reader that reaches the tail waits for the next append, even in
	// a segment that does not exist yet.
	done := make(chan error, 1)
	go func() {
		es, err := vl.ReadNext(ctx, uint64(len(want)), 1)
		if err == nil && string(es[0]) != "late" {
			err = fmt.Errorf("read %q, want late", es[0])
		}
		done <- err
	}()
	if _, err := vl.Reconfigure(ctx, ""); err != nil {
		t.Fatal(err)
	}
	appendOne(t, ctx, vl, "late")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestReconfigureUnderLoad: 8 clients append concurrently while the log is
// reconfigured at least 20 times in a row; no acknowledged position is lost
// or duplicated and every acknowledged entry is readable across the
// segment boundaries.
func TestReconfigureUnderLoad(t *testing.T) {
	ctx := ctxFor(t)
	e := newEnv(t)
	vl := e.open(t)
	const appenders, reconfigs = 8, 25
	var (
		mu    sync.Mutex
		acked = map[uint64]string{}
		stop  atomic.Bool
		wg    sync.WaitGroup
		count atomic.Int64
	)
	for w := range appenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				s := fmt.Sprintf("w%d-%d", w, i)
				p, err := vl.Append(ctx, loglet.AppendID{Client: uint64(w + 1), Seq: uint64(i + 1)}, [][]byte{[]byte(s)})
				if err != nil {
					t.Errorf("append %s: %v", s, err)
					return
				}
				mu.Lock()
				if prev, dup := acked[p]; dup {
					t.Errorf("position %d acknowledged for %s and %s", p, prev, s)
				}
				acked[p] = s
				mu.Unlock()
				count.Add(1)
			}
		}()
	}
	var starts []uint64
	for range reconfigs {
		before := count.Load()
		for count.Load() < before+20 && !t.Failed() {
			time.Sleep(100 * time.Microsecond)
		}
		start, err := vl.Reconfigure(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		starts = append(starts, start)
	}
	stop.Store(true)
	wg.Wait()
	if t.Failed() {
		return
	}
	tail, err := vl.CheckTail(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tail != uint64(len(acked)) {
		t.Fatalf("tail %d, %d entries acknowledged: positions lost or duplicated", tail, len(acked))
	}
	got, err := readAll(ctx, vl, 0, tail)
	if err != nil {
		t.Fatal(err)
	}
	for p, s := range got {
		if acked[uint64(p)] != s {
			t.Fatalf("position %d holds %q, acknowledged %q", p, s, acked[uint64(p)])
		}
	}
	chain, _ := vl.Chain()
	if len(chain.Segments) != reconfigs+1 {
		t.Fatalf("chain has %d segments, want %d", len(chain.Segments), reconfigs+1)
	}
	crossed := 0
	for _, s := range starts {
		if s > 0 && s < tail {
			crossed++
		}
	}
	t.Logf("%d entries over %d segments (%d boundaries inside the data)", tail, len(chain.Segments), crossed)
}

// TestRacingReconfigurations: two clients reconfigure the same log at
// once; exactly one new segment per round wins and both agree on it.
func TestRacingReconfigurations(t *testing.T) {
	ctx := ctxFor(t)
	e := newEnv(t)
	a, b := e.open(t), e.open(t)
	for round := range 10 {
		appendOne(t, ctx, a, fmt.Sprint("a", round))
		appendOne(t, ctx, b, fmt.Sprint("b", round))
		var wg sync.WaitGroup
		starts := make([]uint64, 2)
		for i, vl := range []*virtuallog.VirtualLog{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := vl.Reconfigure(ctx, "")
				if err != nil {
					t.Error(err)
				}
				starts[i] = s
			}()
		}
		wg.Wait()
		if starts[0] != starts[1] {
			t.Fatalf("round %d: clients disagree on the new segment: %v", round, starts)
		}
	}
	ca, _ := a.Chain()
	if n := len(ca.Segments); n < 11 || n > 21 {
		t.Fatalf("chain has %d segments after 10 racing rounds", n)
	}
	got, err := readAll(ctx, b, 0, 20)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 20 {
		t.Fatalf("read %d entries, want 20", len(got))
	}
}

// TestFinishesAbandonedReconfiguration: a sealer seals the active loglet
// and dies before writing the chain; an appender finishes the
// reconfiguration and its append succeeds.
func TestFinishesAbandonedReconfiguration(t *testing.T) {
	ctx := ctxFor(t)
	e := newEnv(t)
	vl := e.open(t)
	appendOne(t, ctx, vl, "before")
	chain, _ := vl.Chain()
	l, err := e.provider.Open(ctx, chain.Segments[0].Loglet)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	if p := appendOne(t, ctx, vl, "after"); p != 1 {
		t.Fatalf("append after abandoned seal at %d, want 1", p)
	}
	chain, _ = vl.Chain()
	if len(chain.Segments) != 2 || chain.Segments[1].Start != 1 {
		t.Fatalf("chain after takeover: %v", chain)
	}
	// A reader blocked at the sealed tail moves on to the new segment.
	got, err := readAll(ctx, vl, 0, 2)
	if err != nil || got[0] != "before" || got[1] != "after" {
		t.Fatalf("read %q, %v", got, err)
	}
}

// fillSegments appends three segments of four entries ("00" to "23"),
// reconfiguring after each, then "last" in a fourth.
func fillSegments(t *testing.T, ctx context.Context, vl *virtuallog.VirtualLog) {
	t.Helper()
	for seg := range 3 {
		for i := range 4 {
			appendOne(t, ctx, vl, fmt.Sprintf("%d%d", seg, i))
		}
		if _, err := vl.Reconfigure(ctx, ""); err != nil {
			t.Fatal(err)
		}
	}
	appendOne(t, ctx, vl, "last")
}

func TestPrefixTrim(t *testing.T) {
	ctx := ctxFor(t)
	e := newEnv(t)
	vl := e.open(t)
	fillSegments(t, ctx, vl)
	// Trim into the middle of the second segment: the first segment
	// leaves the chain.
	if err := vl.PrefixTrim(ctx, 6); err != nil {
		t.Fatal(err)
	}
	chain, _ := vl.Chain()
	if chain.Segments[0].Start != 4 || len(chain.Segments) != 3 {
		t.Fatalf("chain after trim: %v", chain)
	}
	for _, p := range []uint64{0, 3, 5} {
		if _, err := vl.ReadNext(ctx, p, 1); !errors.Is(err, loglet.ErrTrimmed) {
			t.Fatalf("ReadNext(%d) after trim: %v, want ErrTrimmed", p, err)
		}
	}
	got, err := readAll(ctx, vl, 6, 13)
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != "12" || got[6] != "last" {
		t.Fatalf("after trim read %q", got)
	}
	// Trimming everything keeps the active segment and its tail.
	if err := vl.PrefixTrim(ctx, 13); err != nil {
		t.Fatal(err)
	}
	if p := appendOne(t, ctx, vl, "on"); p != 13 {
		t.Fatalf("append after full trim at %d, want 13", p)
	}
	// A new client reading the trimmed chain agrees.
	if _, err := e.open(t).ReadNext(ctx, 2, 1); !errors.Is(err, loglet.ErrTrimmed) {
		t.Fatalf("new client ReadNext(2): %v, want ErrTrimmed", err)
	}
}

// TestPrefixTrimArchive: a trim keeps the sealed segments that Archive
// finds held elsewhere, on new loglets, readable, as long as they reach
// the kept segments without a hole; the others leave the chain.
func TestPrefixTrimArchive(t *testing.T) {
	ctx := ctxFor(t)
	e := newEnv(t)
	var held atomic.Uint64 // segments starting at or above this are held
	held.Store(4)
	vl, err := virtuallog.Open(ctx, virtuallog.Config{
		Meta: e.meta, Provider: e.provider, SealWait: 20 * time.Millisecond,
		Archive: func(seg *vlogpb.Segment, end uint64) *vlogpb.LogletConfig {
			if seg.Loglet.Kind == "copy" {
				return seg.Loglet
			}
			if seg.Start < held.Load() {
				return nil
			}
			var entries [][]byte
			for p := seg.Start; p < end; p++ {
				if p == 12 {
					entries = append(entries, []byte("last"))
				} else {
					entries = append(entries, fmt.Appendf(nil, "%d%d", p/4, p%4))
				}
			}
			e.copies.Store(seg.Start, entries)
			return &vlogpb.LogletConfig{Kind: "copy", Base: seg.Start}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	fillSegments(t, ctx, vl)
	// [0,4) is not held, [4,8) is: the first leaves, the second stays on
	// a copy, and [8,12) holds the trim point.
	if err := vl.PrefixTrim(ctx, 10); err != nil {
		t.Fatal(err)
	}
	chain, version := vl.Chain()
	if len(chain.Segments) != 3 || chain.Segments[0].Start != 4 || chain.Segments[0].Loglet.Kind != "copy" {
		t.Fatalf("chain after trim: %v", chain)
	}
	if id := chain.Segments[0].Loglet.Id; id < 4 {
		t.Fatalf("the copy reuses loglet id %d", id)
	}
	if _, err := vl.ReadNext(ctx, 3, 1); !errors.Is(err, loglet.ErrTrimmed) {
		t.Fatalf("ReadNext(3): %v, want ErrTrimmed", err)
	}
	got, err := readAll(ctx, e.open(t), 4, 8)
	if err != nil || fmt.Sprint(got) != "[10 11 12 13]" {
		t.Fatalf("the copied segment reads %q, %v", got, err)
	}
	// Trimming again changes nothing below the trim point.
	if err := vl.PrefixTrim(ctx, 10); err != nil {
		t.Fatal(err)
	}
	if _, v := vl.Chain(); v != version {
		t.Fatalf("a second trim rewrote the chain (version %d, was %d)", v, version)
	}
	// An empty segment (two reconfigurations in a row) leaves without
	// breaking the run.
	for range 2 {
		if _, err := vl.Reconfigure(ctx, ""); err != nil {
			t.Fatal(err)
		}
	}
	held.Store(0)
	if err := vl.PrefixTrim(ctx, 13); err != nil {
		t.Fatal(err)
	}
	chain, _ = vl.Chain()
	if len(chain.Segments) != 4 || chain.Segments[0].Start != 4 || chain.Segments[1].Start != 8 || chain.Segments[2].Loglet.Kind != "copy" || chain.Segments[3].Start != 13 {
		t.Fatalf("chain after trimming past an empty segment: %v", chain)
	}
	if got, err := readAll(ctx, e.open(t), 4, 13); err != nil || len(got) != 9 || got[8] != "last" {
		t.Fatalf("read across the copies: %q, %v", got, err)
	}
	// A segment that is not held breaks the run: the copy below it goes.
	held.Store(100)
	appendOne(t, ctx, vl, "more")
	if _, err := vl.Reconfigure(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if err := vl.PrefixTrim(ctx, 14); err != nil {
		t.Fatal(err)
	}
	if chain, _ := vl.Chain(); chain.Segments[0].Start != 14 || len(chain.Segments) != 1 {
		t.Fatalf("chain after the second trim: %v", chain)
	}
}

// TestReopenKeepsChain: a second client over the same MetaStore sees the
// same chain and reads what the first wrote.
func TestReopenKeepsChain(t *testing.T) {
	ctx := ctxFor(t)
	e := newEnv(t)
	vl := e.open(t)
	appendOne(t, ctx, vl, "x")
	if _, err := vl.Reconfigure(ctx, ""); err != nil {
		t.Fatal(err)
	}
	appendOne(t, ctx, vl, "y")
	other := e.open(t)
	tail, err := other.CheckTail(ctx)
	if err != nil || tail != 2 {
		t.Fatalf("CheckTail from second client = %d, %v; want 2", tail, err)
	}
	got, err := readAll(ctx, other, 0, 2)
	if err != nil || got[0] != "x" || got[1] != "y" {
		t.Fatalf("second client read %q, %v", got, err)
	}
}
