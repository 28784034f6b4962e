package native_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"hourglass/loglet"
	"hourglass/loglet/loglettest"
	"hourglass/loglet/native"
	"hourglass/loglet/native/nativetest"
)

type node = nativetest.Server

func openLoglet(t testing.TB, s native.Server, id native.LogletID) *native.Loglet {
	t.Helper()
	l, err := native.Open(context.Background(), native.Config{ID: id, Servers: []native.Server{s}})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestConformance(t *testing.T) {
	nodes := map[loglet.Loglet]*node{}
	var mu sync.Mutex
	loglettest.Run(t, loglettest.Harness{
		New: func(t *testing.T) loglet.Loglet {
			n := nativetest.Open(t, vfs.NewCrashableMem())
			t.Cleanup(func() { n.Server.Close() })
			l := openLoglet(t, n.Server, 1)
			mu.Lock()
			nodes[l] = n
			mu.Unlock()
			return l
		},
		Reopen: func(t *testing.T, l loglet.Loglet) loglet.Loglet {
			mu.Lock()
			n := nodes[l]
			mu.Unlock()
			l.Close()
			n2 := n.Crash(t)
			t.Cleanup(func() { n2.Server.Close() })
			l2 := openLoglet(t, n2.Server, 1)
			mu.Lock()
			nodes[l2] = n2
			mu.Unlock()
			return l2
		},
	})
}

// TestGroupCommit checks that concurrent appends share fsyncs.
func TestGroupCommit(t *testing.T) {
	n := nativetest.Open(t, vfs.NewCrashableMem())
	defer n.Server.Close()
	l := openLoglet(t, n.Server, 1)
	defer l.Close()
	ctx := context.Background()
	const writers, each = 64, 20
	before := n.Server.Fsyncs()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, err := l.Append(ctx, loglet.AppendID{}, [][]byte{fmt.Appendf(nil, "%d/%d", w, i)}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	fsyncs := n.Server.Fsyncs() - before
	if fsyncs >= writers*each {
		t.Fatalf("%d appends took %d fsyncs: no group commit", writers*each, fsyncs)
	}
	t.Logf("%d appends, %d fsyncs", writers*each, fsyncs)
}

// TestLoglestShareServer checks that loglets on one LogServer are separate
// and that sealing one leaves the others writable.
func TestLogletsShareServer(t *testing.T) {
	n := nativetest.Open(t, vfs.NewCrashableMem())
	defer n.Server.Close()
	ctx := context.Background()
	a, b := openLoglet(t, n.Server, 1), openLoglet(t, n.Server, 2)
	defer a.Close()
	defer b.Close()
	for i := range 3 {
		if _, err := a.Append(ctx, loglet.AppendID{}, [][]byte{fmt.Appendf(nil, "a%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if p, err := b.Append(ctx, loglet.AppendID{}, [][]byte{[]byte("b0")}); err != nil || p != 0 {
		t.Fatalf("append to second loglet = %d, %v", p, err)
	}
	if tail, err := a.Seal(ctx); err != nil || tail != 3 {
		t.Fatalf("seal = %d, %v", tail, err)
	}
	if p, err := b.Append(ctx, loglet.AppendID{}, [][]byte{[]byte("b1")}); err != nil || p != 1 {
		t.Fatalf("append after sealing the other loglet = %d, %v", p, err)
	}
}

// TestCrashKeepsAcknowledged appends concurrently, crashes the server
// (dropping everything not fsynced), and checks every acknowledged entry.
func TestCrashKeepsAcknowledged(t *testing.T) {
	n := nativetest.Open(t, vfs.NewCrashableMem())
	l := openLoglet(t, n.Server, 7)
	ctx := context.Background()
	var mu sync.Mutex
	acked := map[loglet.Position]string{}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				e := fmt.Sprintf("%d-%d", w, i)
				p, err := l.Append(ctx, loglet.AppendID{}, [][]byte{[]byte(e)})
				if err != nil {
					return
				}
				mu.Lock()
				acked[p] = e
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	l.Close()
	n2 := n.Crash(t)
	defer n2.Server.Close()
	l2 := openLoglet(t, n2.Server, 7)
	defer l2.Close()
	tail, _, err := l2.CheckTail(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range acked {
		if p >= tail {
			t.Fatalf("acknowledged position %d lost: tail %d after crash", p, tail)
		}
		es, err := l2.ReadNext(ctx, p, 1)
		if err != nil || string(es[0]) != want {
			t.Fatalf("position %d = %q, %v; want %q", p, es, err, want)
		}
	}
	// The recovered sequencer continues at the tail.
	p, err := l2.Append(ctx, loglet.AppendID{}, [][]byte{[]byte("after")})
	if err != nil || p != tail {
		t.Fatalf("append after recovery = %d, %v; want %d", p, err, tail)
	}
}

// TestReadsBeyondMemoryWindow reads a log longer than the LogServer's
// in-memory window of recent entries, before and after a crash (which
// empties the window).
func TestReadsBeyondMemoryWindow(t *testing.T) {
	n := nativetest.Open(t, vfs.NewCrashableMem())
	l := openLoglet(t, n.Server, 3)
	ctx := context.Background()
	const total = 10000
	for i := 0; i < total; i += 100 {
		var batch [][]byte
		for j := range 100 {
			batch = append(batch, fmt.Appendf(nil, "%d", i+j))
		}
		if _, err := l.Append(ctx, loglet.AppendID{}, batch); err != nil {
			t.Fatal(err)
		}
	}
	check := func(l *native.Loglet) {
		t.Helper()
		for p := loglet.Position(0); p < total; {
			es, err := l.ReadNext(ctx, p, 777)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range es {
				if string(e) != fmt.Sprint(p) {
					t.Fatalf("position %d holds %q", p, e)
				}
				p++
			}
		}
	}
	check(l)
	l.Close()
	n2 := n.Crash(t)
	defer n2.Server.Close()
	l2 := openLoglet(t, n2.Server, 3)
	defer l2.Close()
	check(l2)
	if _, err := l2.Append(ctx, loglet.AppendID{}, [][]byte{[]byte(fmt.Sprint(total))}); err != nil {
		t.Fatal(err)
	}
	es, err := l2.ReadNext(ctx, total, 1)
	if err != nil || string(es[0]) != fmt.Sprint(total) {
		t.Fatalf("read after recovery = %q, %v", es, err)
	}
}
