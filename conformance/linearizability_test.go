package conformance

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/redis/go-redis/v9"
)

// A history of SET, GET and INCR on a few keys, checked for
// linearizability with porcupine. A write whose outcome the client could
// not learn is recorded as such: it may take effect at any point after its
// call, or never.

type kvInput struct {
	op  string // "get", "set", "incr"
	key string
	val string // set
}

type kvOutput struct {
	val     string // get: the value read
	exists  bool   // get: whether the key existed
	n       int64  // incr: the new value
	unknown bool   // a write whose outcome is unknown
}

type kvState struct {
	val    string
	exists bool
}

var kvModel = porcupine.NondeterministicModel{
	Partition: partitionBy(func(in interface{}) string { return in.(kvInput).key }),
	Init:      func() []interface{} { return []interface{}{kvState{}} },
	Step: func(state, input, output interface{}) []interface{} {
		s, in, out := state.(kvState), input.(kvInput), output.(kvOutput)
		switch in.op {
		case "get":
			if out.exists == s.exists && out.val == s.val {
				return []interface{}{s}
			}
			return nil
		case "set":
			next := kvState{val: in.val, exists: true}
			if out.unknown {
				return []interface{}{s, next}
			}
			return []interface{}{next}
		case "incr":
			cur := int64(0)
			if s.exists {
				v, err := strconv.ParseInt(s.val, 10, 64)
				if err != nil {
					return nil
				}
				cur = v
			}
			next := kvState{val: strconv.FormatInt(cur+1, 10), exists: true}
			if out.unknown {
				return []interface{}{s, next}
			}
			if out.n == cur+1 {
				return []interface{}{next}
			}
			return nil
		}
		return nil
	},
	Equal: func(a, b interface{}) bool { return a.(kvState) == b.(kvState) },
	DescribeOperation: func(input, output interface{}) string {
		in, out := input.(kvInput), output.(kvOutput)
		switch {
		case out.unknown:
			return fmt.Sprintf("%s(%s %s) -> ?", in.op, in.key, in.val)
		case in.op == "get" && !out.exists:
			return fmt.Sprintf("get(%s) -> nil", in.key)
		case in.op == "get":
			return fmt.Sprintf("get(%s) -> %s", in.key, out.val)
		case in.op == "incr":
			return fmt.Sprintf("incr(%s) -> %d", in.key, out.n)
		}
		return fmt.Sprintf("set(%s, %s) -> OK", in.key, in.val)
	},
}

// partitionBy splits a history into independent parts, one per key, in
// key order.
func partitionBy(key func(input interface{}) string) func([]porcupine.Operation) [][]porcupine.Operation {
	return func(ops []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		for _, op := range ops {
			k := key(op.Input)
			byKey[k] = append(byKey[k], op)
		}
		keys := make([]string, 0, len(byKey))
		for k := range byKey {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	}
}

// opHistory records operations from many clients.
type opHistory struct {
	mu    sync.Mutex
	start time.Time
	ops   []porcupine.Operation
	// ok, unknown count completed and uncertain operations; lastOK is the
	// time of the latest success.
	ok, unknown atomic.Int64
	lastOK      atomic.Int64
}

func newOpHistory() *opHistory { return &opHistory{start: time.Now()} }

func (h *opHistory) now() int64 { return int64(time.Since(h.start)) }

// add records op and returns its index in the history.
func (h *opHistory) add(op porcupine.Operation) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ops = append(h.ops, op)
	return len(h.ops) - 1
}

// cut takes the operations old reports out of the history and returns
// them. Their slots stay (as placeholders check skips), so the indexes
// bound is given stay valid.
func (h *opHistory) cut(old func(porcupine.Operation) bool) []porcupine.Operation {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []porcupine.Operation
	for i, op := range h.ops {
		if op.Input != nil && old(op) {
			out = append(out, op)
			h.ops[i] = porcupine.Operation{}
		}
	}
	return out
}

// bound sets the return time of the operations at idx, whose outcome was
// unknown, to ret: they took effect before then, if at all.
func (h *opHistory) bound(idx []int, ret int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, i := range idx {
		h.ops[i].Return = ret
	}
}

// neverSent reports whether a client error means the request never
// reached a server (so the operation certainly did not happen).
func neverSent(err error) bool {
	s := err.Error()
	return strings.Contains(s, "connection refused") || strings.Contains(s, "connect: ") && strings.Contains(s, "dial")
}

// workload drives random SET/GET/INCR, alone and in pipelines, from
// several clients spread over the nodes, until stop is closed.
type workload struct {
	h    *opHistory
	wg   sync.WaitGroup
	stop chan struct{}
	keys rotatingKeys
}

// rotatingKeys are the keys (or znodes) a workload's operations use,
// which a long test moves on to fresh ones now and then (see rotate), so
// that the history of the old ones can be checked and dropped: one
// history of a whole soak is more than porcupine can search.
type rotatingKeys struct {
	cur atomic.Pointer[[]string]
	gen int
	// steps counts each worker's finished steps.
	steps []atomic.Int64
}

func (k *rotatingKeys) init(keys []string, workers int) {
	k.cur.Store(&keys)
	k.steps = make([]atomic.Int64, workers)
}

func (k *rotatingKeys) load() []string { return *k.cur.Load() }

// rotate switches to keys named after base with a new generation suffix
// (made ready first by prepare), waits until every worker has finished a
// whole step since (so no operation on the old keys is under way), and
// returns the old keys.
func (k *rotatingKeys) rotate(t testing.TB, base []string, prepare func(keys []string)) []string {
	t.Helper()
	k.gen++
	next := make([]string, len(base))
	for i, b := range base {
		next[i] = fmt.Sprintf("%s.%d", b, k.gen)
	}
	if prepare != nil {
		prepare(next)
	}
	old := k.load()
	k.cur.Store(&next)
	marks := make([]int64, len(k.steps))
	for i := range k.steps {
		marks[i] = k.steps[i].Load()
	}
	waitFor(t, "every worker to move to the new keys", time.Minute, func() bool {
		for i := range k.steps {
			if k.steps[i].Load() < marks[i]+2 {
				return false
			}
		}
		return true
	})
	return old
}

// rotate moves the workload to fresh keys and checks the history of the
// old ones, which it then drops.
func (w *workload) rotate(t testing.TB) {
	t.Helper()
	old := w.keys.rotate(t, []string{"a", "b", "c"}, nil)
	ops := w.h.cut(func(op porcupine.Operation) bool {
		key := strings.TrimPrefix(op.Input.(kvInput).key, "n")
		return slices.Contains(old, key)
	})
	checkOps(t, ops, kvModel.ToModel())
}

func startWorkload(t testing.TB, e *ensemble, workers int) *workload {
	w := &workload{h: newOpHistory(), stop: make(chan struct{})}
	w.keys.init([]string{"a", "b", "c"}, workers)
	for c := range workers {
		g := e.nodes[c%len(e.nodes)]
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 42))
			var cl *redis.Client
			defer func() {
				if cl != nil {
					cl.Close()
				}
			}()
			for seq := 0; ; seq++ {
				select {
				case <-w.stop:
					return
				default:
				}
				if cl == nil {
					addr := g.liveAddr("redis")
					if addr == "" {
						time.Sleep(20 * time.Millisecond)
						continue
					}
					cl = redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, MaxRetries: -1,
						DialTimeout: time.Second, ReadTimeout: 3 * time.Second, WriteTimeout: 3 * time.Second, PoolSize: 1})
				}
				w.step(cl, c, seq, rng, w.keys.load())
				w.keys.steps[c].Add(1)
				if g.liveAddr("redis") != cl.Options().Addr {
					// The node went away or came back on a new port.
					cl.Close()
					cl = nil
				}
			}
		}()
	}
	return w
}

// step runs one operation, or (three times in ten) a pipeline of two to
// six, and records them. The operations of a pipeline share its call and
// return times: the history lets them take effect in any order between.
func (w *workload) step(cl *redis.Client, client, seq int, rng *rand.Rand, keys []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n := 1
	if rng.IntN(10) < 3 {
		n = 2 + rng.IntN(5)
	}
	ins := make([]kvInput, n)
	for i := range ins {
		ins[i] = randomKVInput(rng, keys, fmt.Sprintf("%d.%d.%d", client, seq, i))
	}
	h := w.h
	call := h.now()
	cmds, _ := cl.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, in := range ins {
			switch in.op {
			case "get":
				p.Get(ctx, in.key)
			case "set":
				p.Set(ctx, in.key, in.val, 0)
			case "incr":
				p.Incr(ctx, in.key)
			}
		}
		return nil
	})
	ret := h.now()
	failed := false
	for i, in := range ins {
		var out kvOutput
		var err error
		switch c := cmds[i].(type) {
		case *redis.StringCmd:
			out.val, err = c.Result()
			out.exists = err == nil
			if errors.Is(err, redis.Nil) {
				err = nil
			}
		case *redis.StatusCmd:
			err = c.Err()
		case *redis.IntCmd:
			out.n, err = c.Result()
		}
		opRet := ret
		if err != nil {
			failed = true
			if in.op == "get" || neverSent(err) {
				// Nothing happened; reads have no effect to record.
				continue
			}
			out = kvOutput{unknown: true}
			opRet = math.MaxInt64 / 2 // it may take effect at any later time
			h.unknown.Add(1)
		} else {
			h.ok.Add(1)
			h.lastOK.Store(ret)
		}
		h.add(porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: opRet})
	}
	if failed {
		time.Sleep(10 * time.Millisecond)
	}
}

// randomKVInput draws a GET (4 in 10), SET of val (3 in 10) or INCR.
// Counters live on their own keys ("n" + key): INCR of a SET value would
// fail; GETs read both kinds.
func randomKVInput(rng *rand.Rand, keys []string, val string) kvInput {
	key := keys[rng.IntN(len(keys))]
	switch r := rng.IntN(10); {
	case r < 4:
		if rng.IntN(2) == 0 {
			key = "n" + key
		}
		return kvInput{op: "get", key: key}
	case r < 7:
		return kvInput{op: "set", key: key, val: val}
	}
	return kvInput{op: "incr", key: "n" + key}
}

// waitOps waits until n more operations have succeeded.
func (w *workload) waitOps(t testing.TB, n int64, limit time.Duration) {
	t.Helper()
	target := w.h.ok.Load() + n
	waitFor(t, fmt.Sprintf("%d more successful operations", n), limit, func() bool { return w.h.ok.Load() >= target })
}

// finish stops the workload and checks its history.
func (w *workload) finish(t testing.TB) {
	t.Helper()
	close(w.stop)
	w.wg.Wait()
	check(t, w.h, kvModel.ToModel())
}

// check fails the test if the history h is not linearizable under model.
func check(t testing.TB, h *opHistory, model porcupine.Model) {
	t.Helper()
	h.mu.Lock()
	var ops []porcupine.Operation
	for _, op := range h.ops {
		if op.Input != nil { // not cut (see opHistory.cut)
			ops = append(ops, op)
		}
	}
	h.mu.Unlock()
	checkOps(t, ops, model)
}

// checkOps fails the test if the operations ops are not linearizable
// under model.
func checkOps(t testing.TB, ops []porcupine.Operation, model porcupine.Model) {
	t.Helper()
	uncertain := 0
	for _, op := range ops {
		if op.Return >= math.MaxInt64/4 {
			uncertain++
		}
	}
	res, info := porcupine.CheckOperationsVerbose(model, ops, 2*time.Minute)
	t.Logf("history: %d operations (%d uncertain, unbounded): %s", len(ops), uncertain, res)
	switch res {
	case porcupine.Illegal:
		base := filepath.Join(os.TempDir(), "hourglass-"+strings.ReplaceAll(t.Name(), "/", "_"))
		porcupine.VisualizePath(model, info, base+".html")
		dumpIllegal(t, model, ops, base+".txt")
		t.Fatalf("history is not linearizable; visualization in %s.html, the offending key's operations in %s.txt", base, base)
	case porcupine.Unknown:
		t.Log("linearizability check timed out without finding a violation")
	}
}

// dumpIllegal writes, for each partition (key) whose history is not
// linearizable, its operations in call order, to help find out why.
func dumpIllegal(t testing.TB, model porcupine.Model, ops []porcupine.Operation, path string) {
	var b strings.Builder
	for _, part := range model.Partition(ops) {
		if porcupine.CheckOperations(model, part) {
			continue
		}
		sort.Slice(part, func(i, j int) bool { return part[i].Call < part[j].Call })
		fmt.Fprintf(&b, "partition of %s: %d operations\n", model.DescribeOperation(part[0].Input, part[0].Output), len(part))
		for _, op := range part {
			ret := "inf"
			if op.Return < math.MaxInt64/4 {
				ret = fmt.Sprint(time.Duration(op.Return))
			}
			fmt.Fprintf(&b, "  client %2d  [%v, %s]  %s\n", op.ClientId, time.Duration(op.Call), ret, model.DescribeOperation(op.Input, op.Output))
		}
	}
	os.WriteFile(path, []byte(b.String()), 0o644)
}
