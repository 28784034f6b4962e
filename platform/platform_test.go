package platform_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"hourglass/internal/pebbledb"
	"hourglass/platform"
	"hourglass/platform/platformtest"
)

// counter is a tiny personality: "incr <key>" adds one and returns the new
// value. Values are 8-byte big-endian. It counts its per-entry hook calls
// in the key "entries".
type counter struct {
	mu      sync.Mutex
	applied []platform.Position // PostApply calls, in order
	entries int                 // PostApplyEntry calls
}

func (c *counter) Apply(txn platform.Txn, e *platform.Entry, at platform.Version) (platform.Result, error) {
	f := strings.Fields(string(e.Body))
	if len(f) != 2 || f[0] != "incr" {
		return platform.Result{Value: fmt.Errorf("bad command %q", e.Body)}, nil
	}
	n, err := incr(txn, f[1])
	return platform.Result{Value: n}, err
}

// incr adds one to the counter at key and returns the new value.
func incr(txn platform.Txn, key string) (uint64, error) {
	v, _, err := txn.Get([]byte(key))
	if err != nil {
		return 0, err
	}
	var n uint64
	if len(v) == 8 {
		n = binary.BigEndian.Uint64(v)
	}
	n++
	return n, txn.Set([]byte(key), binary.BigEndian.AppendUint64(nil, n))
}

func (c *counter) PostApply(e *platform.Entry, at platform.Version) {
	c.mu.Lock()
	c.applied = append(c.applied, at.Pos)
	c.mu.Unlock()
}

func (c *counter) ApplyEntry(txn platform.Txn, e *platform.Entry, at platform.Version) error {
	_, err := incr(txn, "entries")
	return err
}

func (c *counter) PostApplyEntry(e *platform.Entry, at platform.Version) {
	c.mu.Lock()
	c.entries++
	c.mu.Unlock()
}

func get(t *testing.T, v platform.View, key string) uint64 {
	t.Helper()
	b, ok, err := v.Get([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

type stack struct {
	base   *platform.BaseEngine
	router *platform.Router
	mounts map[string]*platform.Mount
	apps   map[string]*counter
}

func newStack(t *testing.T, log platform.Log, db *pebble.DB, names ...string) *stack {
	t.Helper()
	base, err := platform.NewBase(platform.BaseConfig{Log: log, Store: db, TrimInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{base: base, mounts: map[string]*platform.Mount{}, apps: map[string]*counter{}}
	s.router = platform.NewRouter(base)
	for _, n := range names {
		s.mounts[n] = s.router.Mount(n)
		s.apps[n] = &counter{}
		s.mounts[n].RegisterUpcall(s.apps[n])
	}
	if err := base.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { base.Close() })
	return s
}

func openStore(t *testing.T, fs vfs.FS) *pebble.DB {
	t.Helper()
	db, err := pebbledb.Open("store", pebbledb.Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func propose(t *testing.T, ctx context.Context, e platform.Engine, body string) any {
	t.Helper()
	r, err := e.Propose(ctx, &platform.Entry{Body: []byte(body)})
	if err != nil || r.Err != nil {
		t.Fatal(err, r.Err)
	}
	return r.Value
}

func TestProposeApplySync(t *testing.T) {
	ctx := ctxFor(t)
	s := newStack(t, platformtest.NewMemLog(), openStore(t, vfs.NewMem()), "kv")
	kv := s.mounts["kv"]
	const workers, each = 8, 100
	var mu sync.Mutex
	seen := map[string]map[uint64]bool{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				key := fmt.Sprint("k", (w+i)%3)
				r, err := kv.Propose(ctx, &platform.Entry{Body: []byte("incr " + key)})
				if err != nil {
					t.Error(err)
					return
				}
				n := r.Value.(uint64)
				mu.Lock()
				if seen[key] == nil {
					seen[key] = map[uint64]bool{}
				}
				if seen[key][n] {
					t.Errorf("%s: result %d returned twice", key, n)
				}
				seen[key][n] = true
				mu.Unlock()
				// Read-your-writes: a Sync after the acknowledgement
				// sees at least this value.
				v, err := kv.Sync(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				if got := get(t, v, key); got < n {
					t.Errorf("Sync after incr to %d read %d", n, got)
				}
				v.Close()
			}
		}()
	}
	wg.Wait()
	v, err := kv.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	total := uint64(0)
	for k := range 3 {
		total += get(t, v, fmt.Sprint("k", k))
	}
	if total != workers*each {
		t.Fatalf("total %d, want %d", total, workers*each)
	}
	if v.Applied() != workers*each {
		t.Fatalf("view applied %d, want %d", v.Applied(), workers*each)
	}
	if got := get(t, v, "entries"); got != workers*each {
		t.Fatalf("the per-entry hook ran %d times for %d entries", got, workers*each)
	}
	app := s.apps["kv"]
	app.mu.Lock()
	defer app.mu.Unlock()
	for i, p := range app.applied {
		if p != platform.Position(i) {
			t.Fatalf("PostApply #%d at position %d: out of order", i, p)
		}
	}
	if app.entries != len(app.applied) {
		t.Fatalf("PostApplyEntry ran %d times for %d entries", app.entries, len(app.applied))
	}
}

// TestReplayAfterCrash: the LocalStore loses everything not fsynced; the
// engine replays the log from its cursor and ends with exactly the same
// state (no entry applied twice, none skipped).
func TestReplayAfterCrash(t *testing.T) {
	ctx := ctxFor(t)
	log := platformtest.NewMemLog()
	fs := vfs.NewCrashableMem()
	s := newStack(t, log, openStore(t, fs), "kv")
	for range 50 {
		propose(t, ctx, s.mounts["kv"], "incr a")
	}
	crashed := fs.CrashClone(vfs.CrashCloneCfg{})
	s.base.Close()
	s2 := newStack(t, log, openStore(t, crashed), "kv")
	for range 10 {
		propose(t, ctx, s2.mounts["kv"], "incr a")
	}
	v, err := s2.mounts["kv"].Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if got := get(t, v, "a"); got != 60 {
		t.Fatalf("after crash and replay a = %d, want 60", got)
	}
}

// TestTrimKeepsDurablePrefix: the engine trims the log only below applied
// state it has made durable, so a crash after trimming still recovers.
func TestTrimKeepsDurablePrefix(t *testing.T) {
	ctx := ctxFor(t)
	log := platformtest.NewMemLog()
	l := log
	fs := vfs.NewCrashableMem()
	s := newStack(t, log, openStore(t, fs), "kv")
	for range 40 {
		propose(t, ctx, s.mounts["kv"], "incr a")
	}
	s.mounts["kv"].SetTrimPrefix("test", 30)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := l.ReadNext(ctx, 0, 1); err != nil {
			break // trimmed
		}
		if time.Now().After(deadline) {
			t.Fatal("log never trimmed")
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := l.ReadNext(ctx, 30, 1); err != nil {
		t.Fatalf("trimmed beyond what was asked: %v", err)
	}
	crashed := fs.CrashClone(vfs.CrashCloneCfg{})
	s.base.Close()
	s2 := newStack(t, log, openStore(t, crashed), "kv")
	propose(t, ctx, s2.mounts["kv"], "incr a")
	v, err := s2.mounts["kv"].Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if got := get(t, v, "a"); got != 41 {
		t.Fatalf("after trim, crash and replay a = %d, want 41", got)
	}
	if s2.base.Err() != nil {
		t.Fatal(s2.base.Err())
	}
}

// TestRouterIsolation: personalities side by side never see each other's
// keys, and an entry for an unmounted route is answered deterministically.
func TestRouterIsolation(t *testing.T) {
	ctx := ctxFor(t)
	s := newStack(t, platformtest.NewMemLog(), openStore(t, vfs.NewMem()), "a", "b")
	for range 3 {
		propose(t, ctx, s.mounts["a"], "incr x")
	}
	propose(t, ctx, s.mounts["b"], "incr x")
	va, _ := s.mounts["a"].Sync(ctx)
	vb, _ := s.mounts["b"].Sync(ctx)
	defer va.Close()
	defer vb.Close()
	if get(t, va, "x") != 3 || get(t, vb, "x") != 1 {
		t.Fatalf("a.x=%d b.x=%d, want 3 and 1", get(t, va, "x"), get(t, vb, "x"))
	}
	it, err := va.NewIter(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var keys []string
	for it.First(); it.Valid(); it.Next() {
		keys = append(keys, string(it.Key()))
	}
	if len(keys) != 2 || keys[0] != "entries" || keys[1] != "x" {
		t.Fatalf("a's view lists keys %q, want [entries x]", keys)
	}
	// Every mounted personality's hook runs for every entry.
	if get(t, va, "entries") != 4 || get(t, vb, "entries") != 4 {
		t.Fatalf("hooks ran %d and %d times for 4 entries", get(t, va, "entries"), get(t, vb, "entries"))
	}
	r, err := s.router.Mount("c").Propose(ctx, &platform.Entry{Body: []byte("incr x")})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Err.(*platform.UnroutableError); !ok {
		t.Fatalf("entry for a mount without applicator returned %+v", r)
	}
}

// countingLog counts CheckTail calls.
type countingLog struct {
	*platformtest.MemLog
	mu     sync.Mutex
	checks int
}

func (c *countingLog) CheckTail(ctx context.Context) (platform.Position, error) {
	c.mu.Lock()
	c.checks++
	c.mu.Unlock()
	time.Sleep(time.Millisecond) // a slow CheckTail, so that callers pile up
	return c.MemLog.CheckTail(ctx)
}

// TestSyncSharesCheckTail: many concurrent Syncs share CheckTail rounds,
// and each still sees every write acknowledged before it began.
func TestSyncSharesCheckTail(t *testing.T) {
	ctx := ctxFor(t)
	log := &countingLog{MemLog: platformtest.NewMemLog()}
	s := newStack(t, log, openStore(t, vfs.NewMem()), "kv")
	kv := s.mounts["kv"]
	propose(t, ctx, kv, "incr a")
	log.mu.Lock()
	log.checks = 0
	log.mu.Unlock()
	const readers = 200
	var wg sync.WaitGroup
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := kv.Sync(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			defer v.Close()
			if got := get(t, v, "a"); got != 1 {
				t.Errorf("Sync read a = %d, want 1", got)
			}
		}()
	}
	wg.Wait()
	log.mu.Lock()
	defer log.mu.Unlock()
	if log.checks >= readers/2 {
		t.Fatalf("%d concurrent Syncs made %d CheckTail calls", readers, log.checks)
	}
	t.Logf("%d Syncs, %d CheckTail calls", readers, log.checks)
}
