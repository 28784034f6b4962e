package conformance

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/go-zookeeper/zk"
)

// A history of ZooKeeper reads and writes on a few znodes, each a
// register with a data version, checked for linearizability with
// porcupine. A write that failed with a ZooKeeper error (no node, node
// exists, bad version) certainly did not happen, and the model checks the
// error was due. A write lost with its connection may take effect at any
// point after its call, or never; but ZooKeeper applies a session's
// requests in the order it issued them, so if it takes effect at all, it
// does before the session's next answered request returns: that is the
// return time the history gives it (infinity if none came).

type znodeInput struct {
	op      string // get, set, cas, create, delete, mcas (multi check+set), mreplace (multi delete+create)
	path    string
	val     string
	version int32 // cas, mcas: the expected version
}

type znodeOutput struct {
	code    string // ok, nonode, exists, badversion
	val     string // get
	version int32  // get, set, cas, mcas: the data version read or written
	unknown bool
}

type znodeState struct {
	exists  bool
	val     string
	version int32
}

// znodeStep returns the code op must get in state s, and the state after
// it if it succeeds.
func znodeStep(s znodeState, in znodeInput) (string, znodeState) {
	missing := func() (string, znodeState) { return "nonode", s }
	switch in.op {
	case "get":
		if !s.exists {
			return missing()
		}
		return "ok", s
	case "set":
		if !s.exists {
			return missing()
		}
		return "ok", znodeState{true, in.val, s.version + 1}
	case "cas", "mcas":
		if !s.exists {
			return missing()
		}
		if s.version != in.version {
			return "badversion", s
		}
		return "ok", znodeState{true, in.val, s.version + 1}
	case "create":
		if s.exists {
			return "exists", s
		}
		return "ok", znodeState{true, in.val, 0}
	case "delete":
		if !s.exists {
			return missing()
		}
		return "ok", znodeState{}
	case "mreplace":
		if !s.exists {
			return missing()
		}
		return "ok", znodeState{true, in.val, 0}
	}
	panic("unknown op " + in.op)
}

var znodeModel = porcupine.NondeterministicModel{
	Partition: partitionBy(func(in interface{}) string { return in.(znodeInput).path }),
	// Every znode starts as created by the test: "init", version 0.
	Init: func() []interface{} { return []interface{}{znodeState{true, "init", 0}} },
	Step: func(state, input, output interface{}) []interface{} {
		s, in, out := state.(znodeState), input.(znodeInput), output.(znodeOutput)
		code, next := znodeStep(s, in)
		if out.unknown {
			if code == "ok" {
				return []interface{}{s, next}
			}
			return []interface{}{s}
		}
		if out.code != code {
			return nil
		}
		if code != "ok" {
			return []interface{}{s}
		}
		switch in.op {
		case "get":
			if out.val != s.val || out.version != s.version {
				return nil
			}
		case "set", "cas", "mcas":
			if out.version != next.version {
				return nil
			}
		}
		return []interface{}{next}
	},
	Equal: func(a, b interface{}) bool { return a.(znodeState) == b.(znodeState) },
	DescribeOperation: func(input, output interface{}) string {
		in, out := input.(znodeInput), output.(znodeOutput)
		args := in.path
		switch in.op {
		case "set", "create", "mreplace":
			args += " " + in.val
		case "cas", "mcas":
			args += fmt.Sprintf(" %s @%d", in.val, in.version)
		}
		switch {
		case out.unknown:
			return fmt.Sprintf("%s(%s) -> ?", in.op, args)
		case out.code != "ok":
			return fmt.Sprintf("%s(%s) -> %s", in.op, args, out.code)
		case in.op == "get":
			return fmt.Sprintf("get(%s) -> %s @%d", args, out.val, out.version)
		case in.op == "set" || in.op == "cas" || in.op == "mcas":
			return fmt.Sprintf("%s(%s) -> @%d", in.op, args, out.version)
		}
		return fmt.Sprintf("%s(%s) -> ok", in.op, args)
	},
}

// zkCode names a ZooKeeper error the model knows as certain, or "" for
// one that leaves the outcome unknown.
func zkCode(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, zk.ErrNoNode):
		return "nonode"
	case errors.Is(err, zk.ErrNodeExists):
		return "exists"
	case errors.Is(err, zk.ErrBadVersion):
		return "badversion"
	}
	return ""
}

// zkWorkload drives random reads and writes from go-zookeeper sessions,
// each given every node's address (through a proxy that follows the node
// across restarts) in its own order, until stop is closed.
type zkWorkload struct {
	h     *opHistory
	wg    sync.WaitGroup
	stop  chan struct{}
	paths rotatingKeys
	// setup creates the znodes a rotation moves to, through the
	// workload's proxies (so through whichever node is up).
	setup *zk.Conn
}

// rotate moves the workload to fresh znodes (created first, holding
// "init" at version 0, as the model starts them) and checks the history
// of the old ones, which it then drops.
func (w *zkWorkload) rotate(t testing.TB) {
	t.Helper()
	old := w.paths.rotate(t, zkLinPaths, func(paths []string) {
		for _, p := range paths {
			waitFor(t, "create "+p, time.Minute, func() bool {
				_, err := w.setup.Create(p, []byte("init"), 0, openACL)
				return err == nil || errors.Is(err, zk.ErrNodeExists)
			})
		}
	})
	ops := w.h.cut(func(op porcupine.Operation) bool { return slices.Contains(old, op.Input.(znodeInput).path) })
	checkOps(t, ops, znodeModel.ToModel())
}

var zkLinPaths = []string{"/lin/a", "/lin/b", "/lin/c"}

func startZKWorkload(t testing.TB, e *ensemble, sessions int, timeout time.Duration) *zkWorkload {
	t.Helper()
	// Client proxies: a node's ZooKeeper port changes when it restarts.
	var addrs []string
	for _, g := range e.nodes {
		p := newProxy(t)
		p.setTarget(g.addr("zookeeper"))
		prev := g.onListen
		g.onListen = func(api, addr string) {
			if prev != nil {
				prev(api, addr)
			}
			if api == "zookeeper" {
				p.setTarget(addr)
			}
		}
		addrs = append(addrs, p.addr())
	}
	setup := e.nodes[0].zkClient(t)
	mustZK[string](t, "create /lin")(setup.Create("/lin", nil, 0, openACL))
	for _, p := range zkLinPaths {
		mustZK[string](t, "create "+p)(setup.Create(p, []byte("init"), 0, openACL))
	}
	w := &zkWorkload{h: newOpHistory(), stop: make(chan struct{})}
	w.paths.init(zkLinPaths, sessions)
	w.setup, _ = zkConnect(t, addrs, timeout)
	for c := range sessions {
		order := append(append([]string(nil), addrs[c%len(addrs):]...), addrs[:c%len(addrs)]...)
		if len(order) == 3 && c/3%2 == 1 {
			order[1], order[2] = order[2], order[1]
		}
		// go-zookeeper pings every third of the session timeout, and
		// pings between reads are part of what is tested: the shorter
		// the timeout, the more of them.
		cl, _ := zkConnect(t, order, timeout)
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 7))
			s := &zkSession{cl: cl, client: c, rng: rng, versions: map[string]int32{}}
			for seq := 0; ; seq++ {
				select {
				case <-w.stop:
					return
				default:
				}
				w.step(s, fmt.Sprintf("%d.%d", c, seq))
				w.paths.steps[c].Add(1)
			}
		}()
	}
	return w
}

// zkOpMix is the workload's mix of operations, in percent.
var zkOpMix = []struct {
	op      string
	percent int
}{{"get", 45}, {"set", 20}, {"cas", 10}, {"mcas", 5}, {"create", 7}, {"delete", 7}, {"mreplace", 6}}

// pickOp returns the operation of the mix that r, in [0, 100), falls on.
func pickOp(r int) string {
	for _, m := range zkOpMix {
		if r < m.percent {
			return m.op
		}
		r -= m.percent
	}
	return zkOpMix[len(zkOpMix)-1].op
}

// zkSession is one worker's client and what it remembers.
type zkSession struct {
	cl     *zk.Conn
	client int
	rng    *rand.Rand
	// versions holds the data version the session last saw of each
	// znode, for its conditional writes.
	versions map[string]int32
	// unsettled are the history indexes of its writes whose outcome is
	// unknown, until its next answered request bounds them.
	unsettled []int
}

// step runs one random operation and records it.
func (w *zkWorkload) step(s *zkSession, val string) {
	cl, rng, versions := s.cl, s.rng, s.versions
	paths := w.paths.load()
	in := znodeInput{path: paths[rng.IntN(len(paths))], val: val}
	in.op = pickOp(rng.IntN(100))
	in.version = versions[in.path]
	h := w.h
	call := h.now()
	var out znodeOutput
	var err error
	var st *zk.Stat
	switch in.op {
	case "get":
		var data []byte
		data, st, err = cl.Get(in.path)
		out.val = string(data)
	case "set":
		st, err = cl.Set(in.path, []byte(in.val), -1)
	case "cas":
		st, err = cl.Set(in.path, []byte(in.val), in.version)
	case "create":
		_, err = cl.Create(in.path, []byte(in.val), 0, openACL)
	case "delete":
		err = cl.Delete(in.path, -1)
	case "mcas":
		var res []zk.MultiResponse
		res, err = cl.Multi(&zk.CheckVersionRequest{Path: in.path, Version: in.version},
			&zk.SetDataRequest{Path: in.path, Data: []byte(in.val), Version: -1})
		if err == nil && len(res) == 2 {
			st = res[1].Stat
		}
	case "mreplace":
		_, err = cl.Multi(&zk.DeleteRequest{Path: in.path, Version: -1},
			&zk.CreateRequest{Path: in.path, Data: []byte(in.val), Acl: openACL})
	}
	ret := h.now()
	out.code = zkCode(err)
	if st != nil {
		out.version = st.Version
		versions[in.path] = st.Version
	}
	if out.code == "" {
		if in.op == "get" {
			// A failed read has no effect to record.
			time.Sleep(10 * time.Millisecond)
			return
		}
		out = znodeOutput{unknown: true}
		h.unknown.Add(1)
		i := h.add(porcupine.Operation{ClientId: s.client, Input: in, Call: call, Output: out, Return: math.MaxInt64 / 2})
		s.unsettled = append(s.unsettled, i)
		return
	}
	h.ok.Add(1)
	h.lastOK.Store(ret)
	h.add(porcupine.Operation{ClientId: s.client, Input: in, Call: call, Output: out, Return: ret})
	if len(s.unsettled) > 0 {
		h.bound(s.unsettled, ret)
		s.unsettled = s.unsettled[:0]
	}
}

func (w *zkWorkload) waitOps(t testing.TB, n int64, limit time.Duration) {
	t.Helper()
	target := w.h.ok.Load() + n
	waitFor(t, fmt.Sprintf("%d more completed ZooKeeper operations", n), limit, func() bool { return w.h.ok.Load() >= target })
}

func (w *zkWorkload) finish(t testing.TB) {
	t.Helper()
	close(w.stop)
	w.wg.Wait()
	w.setup.Close()
	check(t, w.h, znodeModel.ToModel())
}

// TestFaultZKLinearizable runs go-zookeeper sessions on all three nodes
// through the fault schedule (kill -9 of the sequencer's node, of another
// node, a partition) and checks the history is linearizable and the
// replicas converge.
func TestFaultZKLinearizable(t *testing.T) {
	e := startEnsemble(t, 3, "--zk-tick-time", "100ms")
	w := startZKWorkload(t, e, 12, 400*time.Millisecond)
	runFaultSchedule(t, e, w.waitOps)
	w.finish(t)
	e.converge(0, 1, 2)
}

// TestZKLinearizable is the same workload without faults, on one node
// and on three, with sessions that ping ten times a second.
func TestZKLinearizable(t *testing.T) {
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprint(n, "nodes"), func(t *testing.T) {
			var e *ensemble
			if n == 1 {
				e = &ensemble{t: t, nodes: []*gateway{startGateway(t, "--zk-tick-time", "100ms")}}
			} else {
				e = startEnsemble(t, n, "--zk-tick-time", "100ms")
			}
			w := startZKWorkload(t, e, 12, 300*time.Millisecond)
			w.waitOps(t, 10000, time.Minute)
			w.finish(t)
		})
	}
}
