// Command zkload is a closed-loop load generator for the ZooKeeper wire
// protocol, written against github.com/go-zookeeper/zk, the Go client users
// use. It drives Apache ZooKeeper and the Hourglass gateway alike, so that
// scripts/bench-zk.sh can compare the two with the same load.
//
// Each session keeps one request outstanding at a time. Sessions are spread
// round-robin over -servers, and each session is pinned to its server: it is
// given a one-address list, so it never wanders to another one. Phases run in
// the order of -ops-list; each ends when -duration has passed or -ops
// requests were issued, whichever comes first, and prints one CSV line:
//
//	phase,ops,ops_per_sec,p50_ms,p99_ms,errors
//
// ops counts successful requests; latencies are of successful requests only;
// errors counts the failed ones. The phases are:
//
//	create   creates distinct persistent znodes under -root
//	setData  sets random znodes made by create, with version -1
//	getData  reads random znodes made by create
//	exists   checks random znodes made by create
//
// Usage:
//
//	go run ./conformance/zkload -servers 127.0.0.1:2181 -sessions 16 -duration 10s
//	go run ./conformance/zkload -servers a:2181,b:2181,c:2181 -ops 100000 -ops-list create,getData
package main

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"
)

const (
	// connectTimeout bounds how long a session may take to be established.
	connectTimeout = 10 * time.Second
	// sessionTimeout is the ZooKeeper session timeout asked of the server.
	sessionTimeout = 10 * time.Second
	// opsOnlyDuration is the time bound of a phase when only -ops is given:
	// the count is meant to end the phase, but something must still bound it.
	opsOnlyDuration = 5 * time.Minute
	// drainGrace is how long a phase waits, after its time bound, for the
	// outstanding requests before it gives up on the run.
	drainGrace = 30 * time.Second
)

// phases lists the known phases; the read and update phases need nodes that
// an earlier create phase made.
var phases = []string{"create", "setData", "getData", "exists"}

// config is the run's configuration, filled from the flags.
type config struct {
	Servers  []string      // host:port of each server; sessions round-robin over them
	Sessions int           // concurrent sessions, one outstanding request each
	Duration time.Duration // time bound of each phase (0: none)
	Ops      int64         // count bound of each phase, in requests issued (0: none)
	Phases   []string      // phases, run in this order
	Size     int           // value size in bytes for create and setData
	Root     string        // parent znode of the created znodes
	Cleanup  bool          // delete the created znodes at the end
}

// validate reports every problem with c at once.
func (c *config) validate() error {
	var errs []error
	if len(c.Servers) == 0 {
		errs = append(errs, errors.New("-servers: at least one host:port is needed"))
	}
	for _, s := range c.Servers {
		if s == "" {
			errs = append(errs, errors.New("-servers: empty address"))
		}
	}
	if c.Sessions < 1 {
		errs = append(errs, fmt.Errorf("-sessions %d: must be at least 1", c.Sessions))
	}
	if c.Duration < 0 || c.Ops < 0 {
		errs = append(errs, errors.New("-duration and -ops must not be negative"))
	}
	if c.Duration == 0 && c.Ops == 0 {
		errs = append(errs, errors.New("-duration and -ops are both 0: a phase would never end"))
	}
	if c.Size < 0 {
		errs = append(errs, fmt.Errorf("-size %d: must not be negative", c.Size))
	}
	if !strings.HasPrefix(c.Root, "/") || (len(c.Root) > 1 && strings.HasSuffix(c.Root, "/")) || c.Root == "/" {
		errs = append(errs, fmt.Errorf("-root %q: must be an absolute znode path other than /, without a trailing slash", c.Root))
	}
	created := false
	for _, p := range c.Phases {
		switch {
		case !slices.Contains(phases, p):
			errs = append(errs, fmt.Errorf("-ops-list: unknown phase %q (known: %s)", p, strings.Join(phases, ",")))
		case p == "create":
			created = true
		case !created:
			errs = append(errs, fmt.Errorf("-ops-list: phase %q needs an earlier create phase", p))
		}
	}
	if len(c.Phases) == 0 {
		errs = append(errs, errors.New("-ops-list: no phases"))
	}
	return errors.Join(errs...)
}

// result is what one phase measured.
type result struct {
	phase     string
	ops       int64           // successful requests
	errors    int64           // failed requests
	elapsed   time.Duration   // from the start of the phase to the last reply
	latencies []time.Duration // of the successful requests, sorted
}

// percentile returns the q-quantile (0 < q <= 1) of the sorted latencies, in
// milliseconds, or 0 when there are none.
func (r *result) percentile(q float64) float64 {
	if len(r.latencies) == 0 {
		return 0
	}
	i := int(q*float64(len(r.latencies))+0.5) - 1
	i = max(0, min(i, len(r.latencies)-1))
	return float64(r.latencies[i]) / float64(time.Millisecond)
}

// csv formats r as one line of the output.
func (r *result) csv() string {
	rate := 0.0
	if r.elapsed > 0 {
		rate = float64(r.ops) / r.elapsed.Seconds()
	}
	return fmt.Sprintf("%s,%d,%.0f,%.3f,%.3f,%d", r.phase, r.ops, rate, r.percentile(0.50), r.percentile(0.99), r.errors)
}

// nopLogger silences go-zookeeper, which otherwise logs every connection.
type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}

// connect opens one session to server and waits until the server has
// granted it, for at most connectTimeout.
func connect(server string) (*zk.Conn, error) {
	conn, events, err := zk.Connect([]string{server}, sessionTimeout, zk.WithLogger(nopLogger{}), zk.WithLogInfo(false))
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", server, err)
	}
	deadline := time.After(connectTimeout)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return nil, fmt.Errorf("connect %s: connection closed before a session was established", server)
			}
			if ev.State == zk.StateHasSession {
				// Later events are dropped by the client when nobody reads them.
				return conn, nil
			}
		case <-deadline:
			conn.Close()
			return nil, fmt.Errorf("connect %s: no session within %v", server, connectTimeout)
		}
	}
}

// loader runs the phases over a fixed set of sessions.
type loader struct {
	cfg   config
	conns []*zk.Conn
	value []byte   // the value written by create and setData; read only
	run   string   // distinguishes this run's znodes from earlier runs'
	nodes []string // znodes made by the create phases; written between phases only
}

// op is one request of a phase. session is the index of the session issuing
// it, seq counts that session's requests, rng is the session's own source.
type op func(conn *zk.Conn, session int, seq int64, rng *rand.Rand) (created string, err error)

// phaseOp returns the request that phase issues.
func (l *loader) phaseOp(phase string) op {
	acl := zk.WorldACL(zk.PermAll)
	pick := func(rng *rand.Rand) string { return l.nodes[rng.IntN(len(l.nodes))] }
	switch phase {
	case "create":
		return func(c *zk.Conn, s int, seq int64, _ *rand.Rand) (string, error) {
			return c.Create(fmt.Sprintf("%s/%s-%d-%d", l.cfg.Root, l.run, s, seq), l.value, 0, acl)
		}
	case "setData":
		return func(c *zk.Conn, _ int, _ int64, rng *rand.Rand) (string, error) {
			_, err := c.Set(pick(rng), l.value, -1)
			return "", err
		}
	case "getData":
		return func(c *zk.Conn, _ int, _ int64, rng *rand.Rand) (string, error) {
			_, _, err := c.Get(pick(rng))
			return "", err
		}
	case "exists":
		return func(c *zk.Conn, _ int, _ int64, rng *rand.Rand) (string, error) {
			ok, _, err := c.Exists(pick(rng))
			if err == nil && !ok {
				err = zk.ErrNoNode
			}
			return "", err
		}
	}
	panic("zkload: unknown phase " + phase) // validate rejected it
}

// runPhase runs phase on every session until its bounds are reached. The
// znodes it creates are added to l.nodes.
func (l *loader) runPhase(phase string) (*result, error) {
	if phase != "create" && len(l.nodes) == 0 {
		return nil, fmt.Errorf("%s: no znodes to work on (the create phase made none)", phase)
	}
	do := l.phaseOp(phase)
	type sessionResult struct {
		ops, errors int64
		latencies   []time.Duration
		created     []string
	}
	results := make([]sessionResult, len(l.conns))
	var issued atomic.Int64
	start := time.Now()
	var stop time.Time
	if l.cfg.Duration > 0 {
		stop = start.Add(l.cfg.Duration)
	}
	var wg sync.WaitGroup
	for i, conn := range l.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &results[i]
			rng := rand.New(rand.NewPCG(uint64(start.UnixNano()), uint64(i)))
			for seq := int64(0); ; seq++ {
				if l.cfg.Ops > 0 && issued.Add(1) > l.cfg.Ops {
					return
				}
				t0 := time.Now()
				if !stop.IsZero() && !t0.Before(stop) {
					return
				}
				created, err := do(conn, i, seq, rng)
				if err != nil {
					r.errors++
					continue
				}
				r.ops++
				r.latencies = append(r.latencies, time.Since(t0))
				if created != "" {
					r.created = append(r.created, created)
				}
			}
		}()
	}
	if err := waitFor(&wg, stop, l.cfg.Duration); err != nil {
		return nil, fmt.Errorf("%s: %w", phase, err)
	}
	res := &result{phase: phase, elapsed: time.Since(start)}
	for _, r := range results {
		res.ops += r.ops
		res.errors += r.errors
		res.latencies = append(res.latencies, r.latencies...)
		l.nodes = append(l.nodes, r.created...)
	}
	slices.Sort(res.latencies)
	return res, nil
}

// waitFor waits for wg. When the phase has a time bound (stop), it gives the
// outstanding requests drainGrace past it; with a count bound only, it
// allows opsOnlyDuration past the start. A phase that overruns is an error:
// some request never got a reply.
func waitFor(wg *sync.WaitGroup, stop time.Time, d time.Duration) error {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	limit := drainGrace + opsOnlyDuration
	if !stop.IsZero() {
		limit = time.Until(stop) + drainGrace
	}
	select {
	case <-done:
		return nil
	case <-time.After(limit):
		return fmt.Errorf("requests still outstanding %v after the phase's time bound (%v)", drainGrace, d)
	}
}

// cleanup deletes the znodes the run created, spread over the sessions, then
// the root if it is empty. Errors are counted, not fatal.
func (l *loader) cleanup() (deleted, failed int64) {
	var next, ok, bad atomic.Int64
	var wg sync.WaitGroup
	for _, conn := range l.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(len(l.nodes)) {
					return
				}
				if err := conn.Delete(l.nodes[i], -1); err != nil {
					bad.Add(1)
				} else {
					ok.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	_ = l.conns[0].Delete(l.cfg.Root, -1) // fails harmlessly when other runs' znodes remain
	return ok.Load(), bad.Load()
}

func main() {
	var cfg config
	var servers, opsList string
	flag.StringVar(&servers, "servers", "127.0.0.1:2181", "comma-separated host:port list; sessions are spread round-robin, each pinned to one server")
	flag.IntVar(&cfg.Sessions, "sessions", 16, "concurrent sessions, each with one outstanding request")
	flag.DurationVar(&cfg.Duration, "duration", 10*time.Second, "time bound of each phase (0: none; "+opsOnlyDuration.String()+" when only -ops is given)")
	flag.Int64Var(&cfg.Ops, "ops", 0, "count bound of each phase, in requests (0: none)")
	flag.StringVar(&opsList, "ops-list", "create,setData,getData,exists", "comma-separated phases, run in this order")
	flag.IntVar(&cfg.Size, "size", 100, "value size in bytes")
	flag.StringVar(&cfg.Root, "root", "/zkload", "parent znode of the created znodes")
	flag.BoolVar(&cfg.Cleanup, "cleanup", false, "delete the created znodes at the end")
	flag.Parse()

	durationSet := false
	flag.Visit(func(f *flag.Flag) { durationSet = durationSet || f.Name == "duration" })
	if cfg.Ops > 0 && !durationSet {
		cfg.Duration = opsOnlyDuration
	}
	for _, s := range strings.Split(servers, ",") {
		cfg.Servers = append(cfg.Servers, strings.TrimSpace(s))
	}
	for _, p := range strings.Split(opsList, ",") {
		if p = strings.TrimSpace(p); p != "" {
			cfg.Phases = append(cfg.Phases, p)
		}
	}
	if err := cfg.validate(); err != nil {
		fmt.Fprintln(os.Stderr, "zkload:", err)
		os.Exit(2)
	}
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "zkload:", err)
		os.Exit(1)
	}
}

// run connects the sessions, runs the phases and prints their results.
func run(cfg config) error {
	l := &loader{
		cfg:   cfg,
		value: make([]byte, cfg.Size),
		run:   fmt.Sprintf("%x", time.Now().UnixNano()),
	}
	for i := range l.value {
		l.value[i] = 'a' + byte(i%26)
	}
	defer func() {
		for _, c := range l.conns {
			c.Close()
		}
	}()
	// Sessions connect concurrently, so a failure is reported within
	// connectTimeout however many sessions there are.
	l.conns = make([]*zk.Conn, cfg.Sessions)
	errs := make([]error, cfg.Sessions)
	var wg sync.WaitGroup
	for i := range l.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.conns[i], errs[i] = connect(cfg.Servers[i%len(cfg.Servers)])
		}()
	}
	wg.Wait()
	l.conns = slices.DeleteFunc(l.conns, func(c *zk.Conn) bool { return c == nil })
	if failed := cfg.Sessions - len(l.conns); failed > 0 {
		first := errs[slices.IndexFunc(errs, func(err error) bool { return err != nil })]
		return fmt.Errorf("%d of %d sessions failed to connect; first: %w", failed, cfg.Sessions, first)
	}

	if slices.Contains(cfg.Phases, "create") {
		if _, err := l.conns[0].Create(cfg.Root, nil, 0, zk.WorldACL(zk.PermAll)); err != nil && !errors.Is(err, zk.ErrNodeExists) {
			return fmt.Errorf("create root %s: %w", cfg.Root, err)
		}
	}
	fmt.Println("phase,ops,ops_per_sec,p50_ms,p99_ms,errors")
	for _, phase := range cfg.Phases {
		res, err := l.runPhase(phase)
		if err != nil {
			return err
		}
		fmt.Println(res.csv())
	}
	if cfg.Cleanup {
		deleted, failed := l.cleanup()
		fmt.Fprintf(os.Stderr, "zkload: cleanup deleted %d znodes, %d failed\n", deleted, failed)
	}
	return nil
}
