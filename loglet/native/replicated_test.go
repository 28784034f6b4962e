package native_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"hourglass/loglet"
	"hourglass/loglet/loglettest"
	"hourglass/loglet/native"
	"hourglass/loglet/native/nativetest"
)

// grpcNode is one LogServer on a crashable in-memory filesystem, served
// over real gRPC on a loopback port.
type grpcNode struct {
	*node
	srv    *grpc.Server
	conn   *grpc.ClientConn
	client *native.Client
}

func startGRPCNode(t testing.TB, fs *vfs.MemFS) *grpcNode {
	t.Helper()
	n := &grpcNode{node: nativetest.Open(t, fs)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n.srv = grpc.NewServer()
	native.RegisterLogServer(n.srv, n.Server)
	go n.srv.Serve(ln)
	n.conn, err = grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	n.client = native.NewClient(n.conn)
	return n
}

func (n *grpcNode) stop() {
	n.conn.Close()
	n.srv.Stop()
	n.Server.Close()
}

// crashGRPC keeps only what n fsynced and serves it anew.
func (n *grpcNode) crashGRPC(t testing.TB) *grpcNode {
	clone := n.FS.CrashClone(vfs.CrashCloneCfg{})
	n.stop()
	return startGRPCNode(t, clone)
}

type cluster struct {
	nodes []*grpcNode
}

func startCluster(t testing.TB, size int) *cluster {
	c := &cluster{}
	for range size {
		c.nodes = append(c.nodes, startGRPCNode(t, vfs.NewCrashableMem()))
	}
	return c
}

func (c *cluster) servers() []native.Server {
	var out []native.Server
	for _, n := range c.nodes {
		out = append(out, n.client)
	}
	return out
}

func (c *cluster) stop() {
	for _, n := range c.nodes {
		n.stop()
	}
}

// TestConformanceReplicated runs the loglet conformance suite against a
// native loglet replicated on three LogServers over real gRPC.
func TestConformanceReplicated(t *testing.T) {
	var mu sync.Mutex
	clusters := map[loglet.Loglet]*cluster{}
	loglettest.Run(t, loglettest.Harness{
		New: func(t *testing.T) loglet.Loglet {
			c := startCluster(t, 3)
			t.Cleanup(c.stop)
			l, err := native.Open(context.Background(), native.Config{ID: 1, Servers: c.servers(), Fresh: true})
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			clusters[l] = c
			mu.Unlock()
			return l
		},
		Reopen: func(t *testing.T, l loglet.Loglet) loglet.Loglet {
			mu.Lock()
			c := clusters[l]
			mu.Unlock()
			l.Close()
			c2 := &cluster{}
			for _, n := range c.nodes {
				c2.nodes = append(c2.nodes, n.crashGRPC(t))
			}
			t.Cleanup(c2.stop)
			l2, err := native.Open(context.Background(), native.Config{ID: 1, Servers: c2.servers()})
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			clusters[l2] = c2
			mu.Unlock()
			return l2
		},
	})
}

// faulty wraps a Server; while down, every call fails as an unreachable
// server's would.
type faulty struct {
	native.Server
	down atomic.Bool
}

var errDown = fmt.Errorf("%w: injected: server down", loglet.ErrUnavailable)

func (f *faulty) Store(ctx context.Context, id native.LogletID, first loglet.Position, entries [][]byte, o native.StoreOptions) (native.Status, error) {
	if f.down.Load() {
		return native.Status{}, errDown
	}
	return f.Server.Store(ctx, id, first, entries, o)
}

func (f *faulty) Commit(ctx context.Context, id native.LogletID, c loglet.Position) (native.Status, error) {
	if f.down.Load() {
		return native.Status{}, errDown
	}
	return f.Server.Commit(ctx, id, c)
}

func (f *faulty) Seal(ctx context.Context, id native.LogletID, b native.Ballot) (native.Status, error) {
	if f.down.Load() {
		return native.Status{}, errDown
	}
	return f.Server.Seal(ctx, id, b)
}

func (f *faulty) Accept(ctx context.Context, id native.LogletID, b native.Ballot, tail loglet.Position) (native.Status, error) {
	if f.down.Load() {
		return native.Status{}, errDown
	}
	return f.Server.Accept(ctx, id, b, tail)
}

func (f *faulty) SetFinal(ctx context.Context, id native.LogletID, tail loglet.Position) (native.Status, error) {
	if f.down.Load() {
		return native.Status{}, errDown
	}
	return f.Server.SetFinal(ctx, id, tail)
}

func (f *faulty) GetStatus(ctx context.Context, id native.LogletID) (native.Status, error) {
	if f.down.Load() {
		return native.Status{}, errDown
	}
	return f.Server.GetStatus(ctx, id)
}

func (f *faulty) Read(ctx context.Context, id native.LogletID, from loglet.Position, max int, o native.ReadOptions) ([][]byte, native.Status, error) {
	if f.down.Load() {
		return nil, native.Status{}, errDown
	}
	return f.Server.Read(ctx, id, from, max, o)
}

func (f *faulty) Trim(ctx context.Context, id native.LogletID, pos loglet.Position) error {
	if f.down.Load() {
		return errDown
	}
	return f.Server.Trim(ctx, id, pos)
}

// faultyCluster is three in-process LogServers behind fault injectors.
func faultyCluster(t *testing.T) ([]*faulty, []native.Server) {
	var fs []*faulty
	var servers []native.Server
	for range 3 {
		n := nativetest.Open(t, vfs.NewCrashableMem())
		t.Cleanup(func() { n.Server.Close() })
		f := &faulty{Server: n.Server}
		fs = append(fs, f)
		servers = append(servers, f)
	}
	return fs, servers
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func appendN(t *testing.T, ctx context.Context, l loglet.Writer, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if _, err := l.Append(ctx, loglet.AppendID{}, [][]byte{[]byte(fmt.Sprint(i))}); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
}

// TestMinorityDownAndCatchUp: with one of three servers down, appends,
// reads and seals go on; the server that comes back is caught up with the
// committed entries it missed.
func TestMinorityDownAndCatchUp(t *testing.T) {
	ctx := ctxFor(t)
	fs, servers := faultyCluster(t)
	l, err := native.Open(ctx, native.Config{ID: 1, Servers: servers, Fresh: true, CallTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	appendN(t, ctx, l, 0, 10)
	fs[2].down.Store(true)
	appendN(t, ctx, l, 10, 200)
	fs[2].down.Store(false)
	appendN(t, ctx, l, 200, 210)
	waitTail(t, ctx, fs[2], 210)
	// The caught-up server serves the entries it missed.
	es, _, err := fs[2].Read(ctx, 1, 50, 1, native.ReadOptions{Committed: 210})
	if err != nil || string(es[0]) != "50" {
		t.Fatalf("caught-up server read 50 = %q, %v", es, err)
	}
	// A different minority down: sealing still works and keeps everything.
	fs[0].down.Store(true)
	tail, err := l.Seal(ctx)
	if err != nil || tail != 210 {
		t.Fatalf("Seal with one server down = %d, %v; want 210", tail, err)
	}
	fs[0].down.Store(false)
	reader, err := native.Open(ctx, native.Config{ID: 1, Servers: servers})
	if err != nil {
		t.Fatal(err)
	}
	for p := loglet.Position(0); p < 210; {
		es, err := reader.ReadNext(ctx, p, 64)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if string(e) != fmt.Sprint(p) {
				t.Fatalf("position %d = %q", p, e)
			}
			p++
		}
	}
	if _, err := reader.ReadNext(ctx, 210, 1); !errors.Is(err, loglet.ErrSealed) {
		t.Fatalf("read at the sealed tail: %v, want ErrSealed", err)
	}
}

// waitTail polls s until its local tail of loglet 1 reaches tail.
func waitTail(t *testing.T, ctx context.Context, s native.Server, tail loglet.Position) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := s.GetStatus(ctx, 1)
		if err == nil && st.LocalTail >= tail {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server never reached tail %d: %+v, %v", tail, st, err)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestMajorityDownBlocksAppends: with two of three servers down an append
// cannot commit; it ends with the caller's context as an unknown outcome,
// and completes normally once a majority is back.
func TestMajorityDownBlocksAppends(t *testing.T) {
	ctx := ctxFor(t)
	fs, servers := faultyCluster(t)
	l, err := native.Open(ctx, native.Config{ID: 1, Servers: servers, Fresh: true, CallTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	appendN(t, ctx, l, 0, 5)
	fs[1].down.Store(true)
	fs[2].down.Store(true)
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, err = l.Append(short, loglet.AppendID{Client: 1, Seq: 1}, [][]byte{[]byte("5")})
	cancel()
	if !errors.Is(err, loglet.ErrOutcomeUnknown) {
		t.Fatalf("append without a majority: %v, want ErrOutcomeUnknown", err)
	}
	fs[1].down.Store(false)
	// The retry with the same id learns the original's position.
	p, err := l.Append(ctx, loglet.AppendID{Client: 1, Seq: 1}, [][]byte{[]byte("5")})
	if err != nil || p != 5 {
		t.Fatalf("retry once a majority is back = %d, %v; want 5", p, err)
	}
	tail, _, err := l.CheckTail(ctx)
	if err != nil || tail != 6 {
		t.Fatalf("tail = %d, %v; want 6 (the retry must not append twice)", tail, err)
	}
}

// TestExpiredAppendIsNeverWritten: with every server down, an append that
// gives up while it waits behind another (never sent) fails for good; the
// one that was sent has an unknown outcome and lands once servers are
// back; the dropped one leaves no gap and never appears in the log.
func TestExpiredAppendIsNeverWritten(t *testing.T) {
	ctx := ctxFor(t)
	fs, servers := faultyCluster(t)
	// One entry per store, so the second append waits unsent behind the
	// first.
	l, err := native.Open(ctx, native.Config{ID: 1, Servers: servers, Fresh: true, CallTimeout: 100 * time.Millisecond, MaxBatchBytes: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, f := range fs {
		f.down.Store(true)
	}
	short := func() context.Context {
		c, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		t.Cleanup(cancel)
		return c
	}
	if _, err := l.Append(short(), loglet.AppendID{Client: 1, Seq: 1}, [][]byte{[]byte("A")}); !errors.Is(err, loglet.ErrOutcomeUnknown) {
		t.Fatalf("sent append with every server down: %v, want ErrOutcomeUnknown", err)
	}
	if _, err := l.Append(short(), loglet.AppendID{Client: 1, Seq: 2}, [][]byte{[]byte("B")}); !errors.Is(err, native.ErrAppendExpired) || errors.Is(err, loglet.ErrOutcomeUnknown) {
		t.Fatalf("unsent append with every server down: %v, want ErrAppendExpired", err)
	}
	for _, f := range fs {
		f.down.Store(false)
	}
	p, err := l.Append(ctx, loglet.AppendID{Client: 1, Seq: 3}, [][]byte{[]byte("C")})
	if err != nil || p != 1 {
		t.Fatalf("append once servers are back = %d, %v; want 1 (after A)", p, err)
	}
	es, err := l.ReadNext(ctx, 0, 10)
	for len(es) < 2 && err == nil {
		var more [][]byte
		more, err = l.ReadNext(ctx, loglet.Position(len(es)), 10)
		es = append(es, more...)
	}
	if err != nil || len(es) != 2 || string(es[0]) != "A" || string(es[1]) != "C" {
		t.Fatalf("log = %q, %v; want [A C]", es, err)
	}
	if tail, _, err := l.CheckTail(ctx); err != nil || tail != 2 {
		t.Fatalf("tail = %d, %v; want 2", tail, err)
	}
}

// TestUncommittedEntryAfterSequencerCrash: the sequencer crashes after
// storing an entry on one server only. A reader waiting at that position
// does not wait forever: a sealer either includes the entry (repairing it
// to a majority) or excludes it, and then every server agrees.
func TestUncommittedEntryAfterSequencerCrash(t *testing.T) {
	for _, sealerSeesIt := range []bool{true, false} {
		t.Run(fmt.Sprintf("sealer_sees_entry=%v", sealerSeesIt), func(t *testing.T) {
			ctx := ctxFor(t)
			fs, servers := faultyCluster(t)
			seqr, err := native.Open(ctx, native.Config{ID: 1, Servers: servers, Fresh: true, CallTimeout: 100 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			appendN(t, ctx, seqr, 0, 3)
			waitTail(t, ctx, fs[0], 3) // a majority acknowledged; let server 0 catch up too
			// Only server 0 takes the next entry.
			fs[1].down.Store(true)
			fs[2].down.Store(true)
			short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
			_, err = seqr.Append(short, loglet.AppendID{}, [][]byte{[]byte("orphan")})
			cancel()
			if !errors.Is(err, loglet.ErrOutcomeUnknown) {
				t.Fatalf("append stored on a minority: %v", err)
			}
			seqr.Close() // the sequencer crashes
			fs[1].down.Store(false)
			fs[2].down.Store(false)

			// A reader on another process waits at position 3.
			reader, err := native.Open(ctx, native.Config{ID: 1, Servers: []native.Server{servers[1], servers[2], servers[0]}, Sequencer: nopAppender{}, CallTimeout: 100 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			type result struct {
				es  [][]byte
				err error
			}
			got := make(chan result, 1)
			go func() {
				es, err := reader.ReadNext(ctx, 3, 1)
				got <- result{es, err}
			}()

			// Take one server out of the seal round, so the majority
			// that answers is known: with server 0 (which holds the
			// entry) or without it.
			out := fs[2]
			if !sealerSeesIt {
				out = fs[0]
			}
			out.down.Store(true)
			sealer, err := native.Open(ctx, native.Config{ID: 1, Servers: servers, Sequencer: nopAppender{}, CallTimeout: 100 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			tail, err := sealer.Seal(ctx)
			if err != nil {
				t.Fatal(err)
			}
			out.down.Store(false)
			r := <-got
			switch {
			case sealerSeesIt:
				if tail != 4 || r.err != nil || string(r.es[0]) != "orphan" {
					t.Fatalf("sealer saw the entry: tail %d, read %q, %v", tail, r.es, r.err)
				}
			default:
				if tail != 3 || !errors.Is(r.err, loglet.ErrSealed) {
					t.Fatalf("sealer missed the entry: tail %d, read %q, %v", tail, r.es, r.err)
				}
			}
			// Sealing again (with every server up) keeps the tail and
			// brings the straggler in line: every server agrees.
			again, err := sealer.Seal(ctx)
			if err != nil || again != tail {
				t.Fatalf("second seal = %d, %v; want %d", again, err, tail)
			}
			for i, s := range servers {
				// The seal returns once a majority has it; the rest
				// get it in the background.
				deadline := time.Now().Add(10 * time.Second)
				for {
					st, err := s.GetStatus(ctx, 1)
					if err == nil && st.Sealed && st.Final && st.FinalTail == tail {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("server %d after the second seal: %+v, %v", i, st, err)
					}
					time.Sleep(time.Millisecond)
				}
				if _, _, err := s.Read(ctx, 1, tail, 1, native.ReadOptions{}); !errors.Is(err, loglet.ErrSealed) {
					t.Fatalf("server %d read at the sealed tail: %v", i, err)
				}
			}
		})
	}
}

// nopAppender stands for a sequencer in another process that this test
// never uses.
type nopAppender struct{}

func (nopAppender) Append(context.Context, native.LogletID, loglet.AppendID, [][]byte) (loglet.Position, error) {
	return 0, loglet.ErrUnavailable
}

func (nopAppender) Committed(context.Context, native.LogletID) (loglet.Position, error) {
	return 0, loglet.ErrUnavailable
}

// TestRemoteSequencer: appends from another process travel to the
// sequencer over gRPC; a duplicate retry returns the first position.
func TestRemoteSequencer(t *testing.T) {
	ctx := ctxFor(t)
	c := startCluster(t, 3)
	defer c.stop()
	seqr, err := native.Open(ctx, native.Config{ID: 9, Servers: c.servers(), Fresh: true})
	if err != nil {
		t.Fatal(err)
	}
	defer seqr.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer()
	native.RegisterSequencer(g, func(id native.LogletID) loglet.Writer {
		if id == 9 {
			return seqr
		}
		return nil
	})
	go g.Serve(ln)
	defer g.Stop()
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	remote, err := native.Open(ctx, native.Config{ID: 9, Servers: c.servers(), Sequencer: native.NewSequencerClient(conn)})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, ctx, remote, 0, 20)
	id := loglet.AppendID{Client: 5, Seq: 5}
	p1, err1 := remote.Append(ctx, id, [][]byte{[]byte("x")})
	p2, err2 := remote.Append(ctx, id, [][]byte{[]byte("x")})
	if err1 != nil || err2 != nil || p1 != p2 {
		t.Fatalf("retried remote append: %d/%v then %d/%v", p1, err1, p2, err2)
	}
	es, err := remote.ReadNext(ctx, 19, 2)
	if err != nil || string(es[0]) != "19" {
		t.Fatalf("read through the remote handle = %q, %v", es, err)
	}
	// Once the sequencer's process is gone, appends fail fast: a call
	// caught on the dying connection has an unknown outcome, and once the
	// client knows the connection is gone they are plainly unavailable.
	g.Stop()
	for i := 0; ; i++ {
		_, err = remote.Append(ctx, loglet.AppendID{}, [][]byte{[]byte("late")})
		if errors.Is(err, loglet.ErrUnavailable) {
			break
		}
		if !errors.Is(err, loglet.ErrOutcomeUnknown) || i == 10 {
			t.Fatalf("append %d with the sequencer gone: %v, want ErrUnavailable", i, err)
		}
	}
}

// TestConcurrentSealersAgree: sealers that see different majorities (each
// misses a different server) and race each other still decide one final
// tail, and every server ends up with it.
func TestConcurrentSealersAgree(t *testing.T) {
	for round := range 20 {
		ctx := ctxFor(t)
		fs, servers := faultyCluster(t)
		seqr, err := native.Open(ctx, native.Config{ID: 1, Servers: servers, Fresh: true, CallTimeout: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		appendN(t, ctx, seqr, 0, 3)
		waitTail(t, ctx, fs[0], 3)
		// Leave an entry on server 0 only, so sealers that do and do not
		// see server 0 start from different tails.
		fs[1].down.Store(true)
		fs[2].down.Store(true)
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		seqr.Append(short, loglet.AppendID{}, [][]byte{[]byte("orphan")})
		cancel()
		seqr.Close()
		fs[1].down.Store(false)
		fs[2].down.Store(false)

		const sealers = 5
		tails := make([]loglet.Position, sealers)
		errs := make([]error, sealers)
		var wg sync.WaitGroup
		for k := range sealers {
			// Sealer k misses server k%3.
			var view []native.Server
			for j, s := range servers {
				f := &faulty{Server: s.(*faulty).Server}
				f.down.Store(j == k%3)
				view = append(view, f)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				l, err := native.Open(ctx, native.Config{ID: 1, Servers: view, Sequencer: nopAppender{}, CallTimeout: 100 * time.Millisecond})
				if err != nil {
					errs[k] = err
					return
				}
				tails[k], errs[k] = l.Seal(ctx)
			}()
		}
		wg.Wait()
		for k := range sealers {
			if errs[k] != nil {
				t.Fatalf("round %d: sealer %d: %v", round, k, errs[k])
			}
			if tails[k] != tails[0] {
				t.Fatalf("round %d: sealers decided different tails: %v", round, tails)
			}
		}
		if tails[0] != 3 && tails[0] != 4 {
			t.Fatalf("round %d: decided tail %d, want 3 or 4", round, tails[0])
		}
		for i, s := range servers {
			waitFinal(t, ctx, s, tails[0], i)
		}
	}
}

func waitFinal(t *testing.T, ctx context.Context, s native.Server, tail loglet.Position, i int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := s.GetStatus(ctx, 1)
		if err == nil && st.Final {
			if st.FinalTail != tail {
				t.Fatalf("server %d learned final tail %d, sealers decided %d", i, st.FinalTail, tail)
			}
			// A sealer that lost must not have taught a server that its
			// own (undecided) tail was committed: readers would trust it.
			if st.Committed > tail {
				t.Fatalf("server %d believes %d committed beyond the final tail %d", i, st.Committed, tail)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server %d never learned the final tail: %+v, %v", i, st, err)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestLaggingServerSkipsTrimmed: a server that was down while the others
// took entries and then trimmed them can never fetch what it lacks; it
// skips to the others' trim point instead, both when the sequencer
// catches it up and when a sealer repairs it (with another server down,
// the seal needs it). A trim never moves a server past what it knows is
// committed.
func TestLaggingServerSkipsTrimmed(t *testing.T) {
	ctx := ctxFor(t)
	fs, servers := faultyCluster(t)
	for _, id := range []native.LogletID{1, 2} {
		l, err := native.Open(ctx, native.Config{ID: id, Servers: servers, Fresh: true, CallTimeout: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		appendN(t, ctx, l, 0, 10)
		fs[2].down.Store(true)
		appendN(t, ctx, l, 10, 200)
		if err := l.PrefixTrim(ctx, 150); err != nil {
			t.Fatal(err)
		}
		fs[2].down.Store(false)
		if id == 1 {
			// The sequencer catches the server up past the trim.
			appendN(t, ctx, l, 200, 210)
			waitTail(t, ctx, fs[2], 210)
			l.Close()
			continue
		}
		// No sequencer: a sealer with server 0 down must repair server 2.
		l.Close()
		fs[0].down.Store(true)
		sealer, err := native.Open(ctx, native.Config{ID: id, Servers: servers, CallTimeout: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if tail, err := sealer.Seal(ctx); err != nil || tail != 200 {
			t.Fatalf("Seal with the lagging server needed = %d, %v; want 200", tail, err)
		}
		fs[0].down.Store(false)
	}
	for _, id := range []native.LogletID{1, 2} {
		st, err := fs[2].GetStatus(ctx, id)
		if err != nil || st.Trim != 150 {
			t.Fatalf("loglet %d: lagging server's status %+v, %v; want trimmed at 150", id, st, err)
		}
		es, _, err := fs[2].Read(ctx, id, 160, 1, native.ReadOptions{Committed: 200})
		if err != nil || len(es) != 1 || string(es[0]) != "160" {
			t.Fatalf("loglet %d: lagging server read 160 = %q, %v", id, es, err)
		}
		if _, _, err := fs[2].Read(ctx, id, 100, 1, native.ReadOptions{Committed: 200}); !errors.Is(err, loglet.ErrTrimmed) {
			t.Fatalf("loglet %d: lagging server read 100: %v, want ErrTrimmed", id, err)
		}
	}
	// A trim beyond what a server holds and knows committed stops there.
	if err := fs[1].Trim(ctx, 3, 50); err != nil {
		t.Fatal(err)
	}
	if st, err := fs[1].GetStatus(ctx, 3); err != nil || st.LocalTail != 0 || st.Trim != 0 {
		t.Fatalf("a trim of an empty loglet moved it: %+v, %v", st, err)
	}
}
