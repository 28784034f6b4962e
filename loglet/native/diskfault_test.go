package native_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"hourglass/internal/faultfs"
	"hourglass/internal/pebbledb"
	"hourglass/loglet"
	"hourglass/loglet/native"
)

// openServerOn opens a LogServer whose database lives on fs; it is
// closed when the test ends (a failed one's close error is ignored).
func openServerOn(t *testing.T, fs vfs.FS) *native.LogServer {
	t.Helper()
	db, err := pebbledb.Open("log", pebbledb.Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	s, err := native.OpenLogServer(db, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// readAll reads [0, tail) through l and checks that position p holds
// want(p).
func readAll(t *testing.T, ctx context.Context, l loglet.Loglet, tail loglet.Position, want func(loglet.Position) string) {
	t.Helper()
	for p := loglet.Position(0); p < tail; {
		es, err := l.ReadNext(ctx, p, 64)
		if err != nil {
			t.Fatalf("read at %d: %v", p, err)
		}
		for _, e := range es {
			if string(e) != want(p) {
				t.Fatalf("position %d = %q, want %q", p, e, want(p))
			}
			p++
		}
	}
}

// TestDiskFaultStopsSingleServer: when the only LogServer's disk fails
// (an fsync error, a full disk), the append in flight is not
// acknowledged, later appends fail at once with the storage error, and
// the server keeps refusing writes after the fault is gone (it never
// retries the failed fsync and pretends). Restarted over what it had
// synced, it holds every acknowledged entry and takes appends again.
func TestDiskFaultStopsSingleServer(t *testing.T) {
	for _, tc := range []struct {
		name  string
		wrap  func(vfs.FS, func() bool) vfs.FS
		errno syscall.Errno
	}{
		{"fsync error", faultfs.FailSync, syscall.EIO},
		{"full disk", faultfs.DiskFull, syscall.ENOSPC},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxFor(t)
			mem := vfs.NewCrashableMem()
			var fault atomic.Bool
			s := openServerOn(t, tc.wrap(mem, fault.Load))
			l := openLoglet(t, s, 1)
			defer l.Close()
			appendN(t, ctx, l, 0, 20)

			fault.Store(true)
			_, err := l.Append(ctx, loglet.AppendID{Client: 1, Seq: 1}, [][]byte{[]byte("lost")})
			if !errors.Is(err, loglet.ErrStorageFailed) || !errors.Is(err, tc.errno) {
				t.Fatalf("append on a failing disk: %v, want ErrStorageFailed with %v", err, tc.errno)
			}
			if !errors.Is(err, loglet.ErrOutcomeUnknown) {
				t.Fatalf("append the failed write held: %v, want an unknown outcome (the server may have it after a restart)", err)
			}
			if f := s.Failed(); !errors.Is(f, loglet.ErrStorageFailed) || !errors.Is(f, tc.errno) {
				t.Fatalf("server's failure = %v", f)
			}
			// The fault goes away; the server still takes no writes.
			fault.Store(false)
			if _, err := l.Append(ctx, loglet.AppendID{}, [][]byte{[]byte("after")}); !errors.Is(err, loglet.ErrStorageFailed) || errors.Is(err, loglet.ErrOutcomeUnknown) {
				t.Fatalf("append after the failure: %v, want a definite ErrStorageFailed", err)
			}
			if err := s.Trim(ctx, 1, 1); !errors.Is(err, loglet.ErrStorageFailed) {
				t.Fatalf("trim after the failure: %v, want ErrStorageFailed", err)
			}
			if _, err := s.Seal(ctx, 1, native.Ballot{Round: 1, Node: 1}); !errors.Is(err, loglet.ErrStorageFailed) {
				t.Fatalf("seal after the failure: %v, want ErrStorageFailed", err)
			}
			// Reads of what was durable go on.
			readAll(t, ctx, l, 20, func(p loglet.Position) string { return fmt.Sprint(p) })

			// Restart over what was synced.
			clone := mem.CrashClone(vfs.CrashCloneCfg{})
			l.Close()
			s.Close()
			s2 := openServerOn(t, clone)
			l2 := openLoglet(t, s2, 1)
			defer l2.Close()
			tail, _, err := l2.CheckTail(ctx)
			if err != nil || tail < 20 || tail > 21 {
				t.Fatalf("tail after restart = %d, %v; want 20 (or 21 with the unacknowledged entry)", tail, err)
			}
			readAll(t, ctx, l2, 20, func(p loglet.Position) string { return fmt.Sprint(p) })
			p, err := l2.Append(ctx, loglet.AppendID{}, [][]byte{[]byte("again")})
			if err != nil || p != tail {
				t.Fatalf("append after restart = %d, %v; want %d", p, err, tail)
			}
		})
	}
}

// TestDiskFullOnOneOfThree: a full disk on one LogServer of three stops
// that server only; appends go on on the majority. Once space returns and
// the server restarts over what it had synced, it is caught up.
func TestDiskFullOnOneOfThree(t *testing.T) {
	ctx := ctxFor(t)
	var servers []native.Server
	var full atomic.Bool
	mem := vfs.NewCrashableMem()
	failing := openServerOn(t, faultfs.DiskFull(mem, full.Load))
	third := &swappable{s: failing}
	for range 2 {
		servers = append(servers, openServerOn(t, vfs.NewCrashableMem()))
	}
	servers = append(servers, third)
	l, err := native.Open(ctx, native.Config{ID: 1, Servers: servers, Fresh: true, CallTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	appendN(t, ctx, l, 0, 10)
	full.Store(true)
	appendN(t, ctx, l, 10, 100)
	if f := failing.Failed(); !errors.Is(f, loglet.ErrStorageFailed) || !errors.Is(f, syscall.ENOSPC) {
		t.Fatalf("full server's failure = %v, want ErrStorageFailed with ENOSPC", f)
	}
	full.Store(false)
	if err := failing.Trim(ctx, 1, 1); !errors.Is(err, loglet.ErrStorageFailed) {
		t.Fatalf("write to the failed server once space returned: %v, want ErrStorageFailed until it restarts", err)
	}
	// Restart the server over what it synced.
	clone := mem.CrashClone(vfs.CrashCloneCfg{})
	failing.Close()
	restarted := openServerOn(t, clone)
	third.set(restarted)
	appendN(t, ctx, l, 100, 110)
	waitTail(t, ctx, restarted, 110)
	es, _, err := restarted.Read(ctx, 1, 50, 1, native.ReadOptions{Committed: 110})
	if err != nil || len(es) != 1 || string(es[0]) != "50" {
		t.Fatalf("restarted server read 50 = %q, %v", es, err)
	}
}

// TestCrashKeepsAcknowledgedAppends: concurrent appenders, and crashes
// taken at random moments while appends are in flight (dropping whatever
// was not fsynced): every append acknowledged before a crash is in the
// log the restarted server recovers, at its position.
func TestCrashKeepsAcknowledgedAppends(t *testing.T) {
	ctx := ctxFor(t)
	rng := rand.New(rand.NewPCG(1, 2))
	mem := vfs.NewCrashableMem()
	s := openServerOn(t, mem)
	l := openLoglet(t, s, 1)
	defer l.Close()
	var mu sync.Mutex
	acked := map[loglet.Position]string{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				v := fmt.Sprintf("%d/%d", w, i)
				p, err := l.Append(ctx, loglet.AppendID{}, [][]byte{[]byte(v)})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked[p] = v
				mu.Unlock()
			}
		}()
	}
	var crashes []*vfs.MemFS
	var seen []map[loglet.Position]string
	for range 5 {
		// Let some appends land, then crash: what was acknowledged
		// before the crash must survive it.
		for {
			mu.Lock()
			n := len(acked)
			mu.Unlock()
			if n >= (len(crashes)+1)*50+rng.IntN(50) {
				break
			}
			time.Sleep(time.Millisecond)
		}
		mu.Lock()
		before := make(map[loglet.Position]string, len(acked))
		for p, v := range acked {
			before[p] = v
		}
		mu.Unlock()
		crashes = append(crashes, mem.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: rng.IntN(100), RNG: rng}))
		seen = append(seen, before)
	}
	close(stop)
	wg.Wait()
	for i, fs := range crashes {
		s := openServerOn(t, fs)
		l := openLoglet(t, s, 1)
		tail, _, err := l.CheckTail(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for p, v := range seen[i] {
			if p >= tail {
				t.Fatalf("crash %d: acknowledged position %d beyond the recovered tail %d", i, p, tail)
			}
			es, err := l.ReadNext(ctx, p, 1)
			if err != nil || string(es[0]) != v {
				t.Fatalf("crash %d: position %d = %q, %v; acknowledged %q", i, p, es, err, v)
			}
		}
		l.Close()
		s.Close()
	}
}

// swappable is a Server that a test can replace, as a restarted server
// takes over its predecessor's address.
type swappable struct {
	mu sync.Mutex
	s  native.Server
}

func (w *swappable) set(s native.Server) {
	w.mu.Lock()
	w.s = s
	w.mu.Unlock()
}

func (w *swappable) get() native.Server {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.s
}

func (w *swappable) Store(ctx context.Context, id native.LogletID, first loglet.Position, entries [][]byte, o native.StoreOptions) (native.Status, error) {
	return w.get().Store(ctx, id, first, entries, o)
}

func (w *swappable) Commit(ctx context.Context, id native.LogletID, c loglet.Position) (native.Status, error) {
	return w.get().Commit(ctx, id, c)
}

func (w *swappable) Seal(ctx context.Context, id native.LogletID, b native.Ballot) (native.Status, error) {
	return w.get().Seal(ctx, id, b)
}

func (w *swappable) Accept(ctx context.Context, id native.LogletID, b native.Ballot, tail loglet.Position) (native.Status, error) {
	return w.get().Accept(ctx, id, b, tail)
}

func (w *swappable) SetFinal(ctx context.Context, id native.LogletID, tail loglet.Position) (native.Status, error) {
	return w.get().SetFinal(ctx, id, tail)
}

func (w *swappable) GetStatus(ctx context.Context, id native.LogletID) (native.Status, error) {
	return w.get().GetStatus(ctx, id)
}

func (w *swappable) Read(ctx context.Context, id native.LogletID, from loglet.Position, max int, o native.ReadOptions) ([][]byte, native.Status, error) {
	return w.get().Read(ctx, id, from, max, o)
}

func (w *swappable) Trim(ctx context.Context, id native.LogletID, pos loglet.Position) error {
	return w.get().Trim(ctx, id, pos)
}
