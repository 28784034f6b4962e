package zk_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"hourglass/internal/zkserver"
	"hourglass/loglet"
	"hourglass/loglet/loglettest"
	"hourglass/loglet/zk"
)

// server is the Apache ZooKeeper every test of the package shares.
var server *zkserver.Server

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "zkloglet")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	server, err = zkserver.Start(dir, time.Minute)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	server.Stop()
	os.RemoveAll(dir)
	os.Exit(code)
}

var roots atomic.Int64

// open opens a loglet at root on the shared server.
func open(t testing.TB, root string) *zk.Loglet {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := zk.Open(ctx, zk.Config{Servers: []string{server.Addr}, Root: root})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// rooted is a loglet with the root it lives at, for Reopen.
type rooted struct {
	*zk.Loglet
	root string
}

func newRoot() string { return fmt.Sprintf("/hourglass/test/%d", roots.Add(1)) }

func TestConformance(t *testing.T) {
	loglettest.Run(t, loglettest.Harness{
		New: func(t *testing.T) loglet.Loglet {
			root := newRoot()
			return rooted{open(t, root), root}
		},
		Reopen: func(t *testing.T, l loglet.Loglet) loglet.Loglet {
			l.Close()
			root := l.(rooted).root
			return rooted{open(t, root), root}
		},
	})
}

// TestTwoWriters: handles in two "processes" (two sessions) append to one
// loglet at once; every acknowledged append has its own positions and a
// seal through either stops both.
func TestTwoWriters(t *testing.T) {
	root := newRoot()
	a, b := open(t, root), open(t, root)
	defer a.Close()
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got := map[loglet.Position]string{}
	results := make(chan error, 2)
	var positions [2][]loglet.Position
	for w, l := range []*zk.Loglet{a, b} {
		go func() {
			for i := range 100 {
				p, err := l.Append(ctx, loglet.AppendID{}, [][]byte{fmt.Appendf(nil, "%d-%d", w, i)})
				if err != nil {
					results <- err
					return
				}
				positions[w] = append(positions[w], p)
			}
			results <- nil
		}()
	}
	for range 2 {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
	for w := range 2 {
		for i, p := range positions[w] {
			if prev, dup := got[p]; dup {
				t.Fatalf("position %d acknowledged to %s and %d-%d", p, prev, w, i)
			}
			got[p] = fmt.Sprintf("%d-%d", w, i)
		}
	}
	for p, want := range got {
		es, err := b.ReadNext(ctx, p, 1)
		if err != nil || string(es[0]) != want {
			t.Fatalf("ReadNext(%d) = %q, %v; want %s", p, es, err, want)
		}
	}
	tail, err := a.Seal(ctx)
	if err != nil || tail != 200 {
		t.Fatalf("Seal = %d, %v; want 200", tail, err)
	}
	if _, err := b.Append(ctx, loglet.AppendID{}, [][]byte{[]byte("late")}); !errors.Is(err, loglet.ErrSealed) {
		t.Fatalf("Append through the other handle after Seal = %v; want ErrSealed", err)
	}
	if t2, sealed, err := b.CheckTail(ctx); err != nil || !sealed || t2 != 200 {
		t.Fatalf("CheckTail on the other handle = %d, %v, %v", t2, sealed, err)
	}
}

// TestLargeAppends: an append near the batch limit is stored; one beyond
// it is refused as unavailable, without writing.
func TestLargeAppends(t *testing.T) {
	l := open(t, newRoot())
	defer l.Close()
	ctx := context.Background()
	big := make([]byte, 800<<10)
	if p, err := l.Append(ctx, loglet.AppendID{}, [][]byte{big}); err != nil || p != 0 {
		t.Fatalf("800 KB append = %d, %v", p, err)
	}
	if _, err := l.Append(ctx, loglet.AppendID{}, [][]byte{big, big}); !errors.Is(err, loglet.ErrUnavailable) {
		t.Fatalf("1.6 MB append = %v; want ErrUnavailable", err)
	}
	es, err := l.ReadNext(ctx, 0, 1)
	if err != nil || len(es[0]) != len(big) {
		t.Fatalf("ReadNext(0) = %d entries, %v", len(es), err)
	}
	if tail, _, err := l.CheckTail(ctx); err != nil || tail != 1 {
		t.Fatalf("tail = %d, %v; want 1", tail, err)
	}
}

// TestUnreachable: with ZooKeeper gone, calls fail within their bounds
// with the contract's errors instead of hanging.
func TestUnreachable(t *testing.T) {
	dir := t.TempDir()
	s, err := zkserver.Start(dir, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := zk.Open(ctx, zk.Config{Servers: []string{s.Addr}, Root: "/x", CallTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.Append(ctx, loglet.AppendID{}, [][]byte{[]byte("a")}); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	began := time.Now()
	if _, err := l.Append(ctx, loglet.AppendID{Client: 1, Seq: 1}, [][]byte{[]byte("b")}); !errors.Is(err, loglet.ErrUnavailable) && !errors.Is(err, loglet.ErrOutcomeUnknown) {
		t.Fatalf("Append with ZooKeeper down = %v", err)
	}
	if _, _, err := l.CheckTail(ctx); !errors.Is(err, loglet.ErrUnavailable) {
		t.Fatalf("CheckTail with ZooKeeper down = %v", err)
	}
	if _, err := l.Seal(ctx); !errors.Is(err, loglet.ErrUnavailable) {
		t.Fatalf("Seal with ZooKeeper down = %v", err)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Fatalf("failing calls took %v", took)
	}
}
