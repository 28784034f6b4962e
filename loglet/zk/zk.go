package zk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	gozk "github.com/go-zookeeper/zk"

	"hourglass/loglet"
	"hourglass/loglet/dedup"
)

// Defaults of the Config fields.
const (
	DefaultSessionTimeout = 10 * time.Second
	DefaultCallTimeout    = 5 * time.Second
	// DefaultMaxBatchBytes keeps a batch znode and its multi under
	// ZooKeeper's default jute.maxbuffer of 1 MiB.
	DefaultMaxBatchBytes = 900 << 10
)

// Config describes one ZooKeeper loglet as seen from one process.
type Config struct {
	// Servers is the ZooKeeper ensemble, host:port each.
	Servers []string
	// Root is the loglet's znode, an absolute path; its parents are
	// created as needed.
	Root string
	// SessionTimeout of the ZooKeeper session; 0 means 10s.
	SessionTimeout time.Duration
	// CallTimeout bounds one ZooKeeper call; 0 means 5s.
	CallTimeout time.Duration
	// MaxBatchBytes bounds one batch znode; 0 means DefaultMaxBatchBytes.
	MaxBatchBytes int
	// Logger receives the loglet's log lines; nil discards them.
	Logger *slog.Logger
}

// Loglet is a loglet in ZooKeeper. The zero value is not usable; call
// Open.
type Loglet struct {
	cfg  Config
	conn *gozk.Conn
	log  *slog.Logger
	wake chan struct{} // the committer has work
	stop chan struct{}
	done chan struct{} // the committer ended

	mu struct {
		sync.Mutex
		queue []*op
		ids   *dedup.Appends[*op]
		// unknown holds the appends whose outcome is unknown: where they
		// were sent, to settle a retry.
		unknown map[loglet.AppendID]loglet.Position
		tail    loglet.Position // last known tail and its znode version
		tailVer int32
		tailOK  bool // tail and tailVer are current as far as we know
		sealed  bool // known sealed: appends fail
		final   bool // tail was read after the seal: it never moves again
		closed  bool
		batch   cachedBatch
		trimmed loglet.Position // reads below it report ErrTrimmed
		// tailWatch and metaWatch are the readers' shared watches.
		tailWatch, metaWatch <-chan gozk.Event
	}
}

var _ loglet.Loglet = (*Loglet)(nil)

// op is one queued Append.
type op struct {
	a     batchAppend
	first loglet.Position
	done  chan struct{}
	err   error
}

// cachedBatch is the batch a reader decoded last.
type cachedBatch struct {
	start   loglet.Position
	entries [][]byte
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}

// Open connects to ZooKeeper and returns a handle on the loglet at
// cfg.Root, creating its znodes if they are missing. It waits for a
// session until ctx ends.
func Open(ctx context.Context, cfg Config) (*Loglet, error) {
	if len(cfg.Servers) == 0 || !strings.HasPrefix(cfg.Root, "/") || cfg.Root == "/" {
		return nil, fmt.Errorf("zk: need servers and an absolute root below /, have %v and %q", cfg.Servers, cfg.Root)
	}
	if cfg.SessionTimeout <= 0 {
		cfg.SessionTimeout = DefaultSessionTimeout
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = DefaultCallTimeout
	}
	if cfg.MaxBatchBytes <= 0 {
		cfg.MaxBatchBytes = DefaultMaxBatchBytes
	}
	lg := cfg.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	conn, events, err := gozk.Connect(cfg.Servers, cfg.SessionTimeout, gozk.WithLogger(nopLogger{}))
	if err != nil {
		return nil, fmt.Errorf("%w: zk: connect: %w", loglet.ErrUnavailable, err)
	}
	if err := waitSession(ctx, events); err != nil {
		conn.Close()
		return nil, err
	}
	l := &Loglet{cfg: cfg, conn: conn, log: lg, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	l.mu.unknown = make(map[loglet.AppendID]loglet.Position)
	l.mu.ids = dedup.NewAppends[*op](0)
	if err := l.create(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	go l.committer()
	return l, nil
}

// waitSession waits until the connection has a session.
func waitSession(ctx context.Context, events <-chan gozk.Event) error {
	for {
		select {
		case ev := <-events:
			if ev.State == gozk.StateHasSession {
				return nil
			}
		case <-ctx.Done():
			return fmt.Errorf("%w: zk: no session: %w", loglet.ErrUnavailable, ctx.Err())
		}
	}
}

func (l *Loglet) p(name string) string { return path.Join(l.cfg.Root, name) }

func batchName(first loglet.Position) string { return fmt.Sprintf("%020d", first) }

// create makes the loglet's znodes where they are missing: any process
// may open a loglet first (the one that placed it, or another that read
// the chain sooner), and a missing znode can only be one of a loglet
// nothing was written to yet.
func (l *Loglet) create(ctx context.Context) error {
	parts := strings.Split(strings.TrimPrefix(l.cfg.Root, "/"), "/")
	var nodes []string
	for i := range parts {
		nodes = append(nodes, "/"+strings.Join(parts[:i+1], "/"))
	}
	nodes = append(nodes, l.p("meta"), l.p("tail"), l.p("trim"), l.p("b"))
	for _, n := range nodes {
		data := []byte(nil)
		if strings.HasSuffix(n, "/tail") || strings.HasSuffix(n, "/trim") {
			data = []byte("0")
		}
		err := l.call(ctx, func() error {
			_, err := l.conn.Create(n, data, 0, gozk.WorldACL(gozk.PermAll))
			if errors.Is(err, gozk.ErrNodeExists) {
				return nil
			}
			return err
		})
		if err != nil {
			return unavailable(err)
		}
	}
	return nil
}

// call runs f, one ZooKeeper request, bounded by ctx and CallTimeout, and
// returns f's result if f finished in time. f runs on its own goroutine,
// which outlives a timeout: it must not write anything the caller reads
// (its result comes back only through the return). A request that timed
// out may still take effect: callers that write treat that as an unknown
// outcome. ZooKeeper's own errors are returned as they are; a lost
// connection or timeout is wrapped in loglet.ErrUnavailable.
func call[T any](l *Loglet, ctx context.Context, f func() (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, l.cfg.CallTimeout)
	defer cancel()
	type result struct {
		v   T
		err error
	}
	res := make(chan result, 1)
	go func() {
		v, err := f()
		res <- result{v, err}
	}()
	var zero T
	select {
	case r := <-res:
		if errors.Is(r.err, gozk.ErrConnectionClosed) || errors.Is(r.err, gozk.ErrNoServer) || errors.Is(r.err, gozk.ErrSessionExpired) || errors.Is(r.err, gozk.ErrClosing) {
			return zero, fmt.Errorf("%w: zk: %w", loglet.ErrUnavailable, r.err)
		}
		return r.v, r.err
	case <-ctx.Done():
		return zero, fmt.Errorf("%w: zk: %w", loglet.ErrUnavailable, ctx.Err())
	case <-l.stop:
		return zero, loglet.ErrClosed
	}
}

// call is call for a request with no result.
func (l *Loglet) call(ctx context.Context, f func() error) error {
	_, err := call(l, ctx, func() (struct{}, error) { return struct{}{}, f() })
	return err
}

// getData reads a znode.
func (l *Loglet) getData(ctx context.Context, name string) ([]byte, *gozk.Stat, error) {
	type got struct {
		data []byte
		st   *gozk.Stat
	}
	g, err := call(l, ctx, func() (got, error) {
		data, st, err := l.conn.Get(l.p(name))
		return got{data, st}, err
	})
	return g.data, g.st, err
}

// getPosition reads a decimal position znode.
func (l *Loglet) getPosition(ctx context.Context, name string) (loglet.Position, int32, error) {
	data, st, err := l.getData(ctx, name)
	if err != nil {
		return 0, 0, err
	}
	v, err := strconv.ParseUint(string(data), 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %w: %s holds %q", loglet.ErrUnavailable, ErrCorrupt, name, data)
	}
	return v, st.Version, nil
}

// Append implements loglet.Writer: the append is queued for the
// committer, which writes whatever is queued in one multi.
func (l *Loglet) Append(ctx context.Context, id loglet.AppendID, entries [][]byte) (loglet.Position, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	a := batchAppend{id: id}
	for _, e := range entries {
		a.entries = append(a.entries, append([]byte(nil), e...))
	}
	if size := encodedSize(a); size > l.cfg.MaxBatchBytes {
		return 0, fmt.Errorf("%w: zk: an append of %d bytes exceeds the %d-byte batch limit", loglet.ErrUnavailable, size, l.cfg.MaxBatchBytes)
	}
	l.mu.Lock()
	if l.mu.closed {
		l.mu.Unlock()
		return 0, loglet.ErrClosed
	}
	if p, done, o, running := l.mu.ids.Lookup(id); done {
		l.mu.Unlock()
		return p, nil
	} else if running {
		l.mu.Unlock()
		return wait(ctx, o)
	}
	if p, ok := l.mu.unknown[id]; ok && !id.IsZero() {
		l.mu.Unlock()
		if pos, found, err := l.settle(ctx, id, p); err != nil || found {
			return pos, err
		}
		l.mu.Lock()
		delete(l.mu.unknown, id)
	}
	if l.mu.sealed {
		l.mu.Unlock()
		return 0, loglet.ErrSealed
	}
	if len(entries) == 0 {
		l.mu.Unlock()
		tail, _, err := l.CheckTail(ctx)
		return tail, err
	}
	o := &op{a: a, done: make(chan struct{})}
	l.mu.queue = append(l.mu.queue, o)
	l.mu.ids.Start(id, o)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
	return wait(ctx, o)
}

func wait(ctx context.Context, o *op) (loglet.Position, error) {
	select {
	case <-o.done:
		return o.first, o.err
	case <-ctx.Done():
		return 0, fmt.Errorf("%w: %w", loglet.ErrOutcomeUnknown, ctx.Err())
	}
}

// settle looks for a retried append in the batch it was sent as, at p.
func (l *Loglet) settle(ctx context.Context, id loglet.AppendID, p loglet.Position) (loglet.Position, bool, error) {
	if err := l.call(ctx, func() error {
		_, err := l.conn.Sync(l.cfg.Root)
		return err
	}); err != nil {
		return 0, false, err
	}
	data, _, err := l.getData(ctx, "b/"+batchName(p))
	if errors.Is(err, gozk.ErrNoNode) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	appends, err := parseBatch(data)
	if err != nil {
		return 0, false, err
	}
	pos := p
	for _, a := range appends {
		if a.id == id {
			return pos, true, nil
		}
		pos += loglet.Position(len(a.entries))
	}
	return 0, false, nil
}
