package metastore_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/cockroachdb/pebble/v2/vfs"

	"hourglass/virtuallog"
	"hourglass/virtuallog/metastore"
	pb "hourglass/virtuallog/metastore/metastorepb"
)

// In these tests a value "payload|a,b,c" names the acceptor set {a, b, c}
// for the version after it; a value without "|" keeps the set.

// setOfValue is the tests' Config.AcceptorsOf.
func setOfValue(value []byte) ([]metastore.AcceptorRef, error) {
	_, ids, ok := strings.Cut(string(value), "|")
	if !ok {
		return nil, nil
	}
	var set []metastore.AcceptorRef
	for _, id := range strings.Split(ids, ",") {
		set = append(set, metastore.AcceptorRef{ID: id, Addr: "mem:" + id})
	}
	return set, nil
}

// payload is a value without its acceptor set.
func payload(v string) string {
	p, _, _ := strings.Cut(v, "|")
	return p
}

// pool is a set of named in-process acceptors, "0" to "n-1"; the first
// three found the register.
type pool struct {
	t    *testing.T
	fs   []*vfs.MemFS
	accs []*metastore.Acceptor
}

func newPool(t *testing.T, n int) *pool {
	p := &pool{t: t}
	for i := range n {
		fs := vfs.NewCrashableMem()
		a, _ := openNamedAcceptor(t, fs, strconv.Itoa(i))
		p.fs, p.accs = append(p.fs, fs), append(p.accs, a)
	}
	return p
}

// client returns a Replicated whose founders are acceptors 0, 1 and 2
// and which reaches every acceptor of the pool through wrap.
func (p *pool) client(id uint64, wrap func(i int, a metastore.AcceptorClient) metastore.AcceptorClient, seeds ...int) *metastore.Replicated {
	if wrap == nil {
		wrap = func(_ int, a metastore.AcceptorClient) metastore.AcceptorClient { return a }
	}
	cfg := metastore.Config{
		ProposerID: id,
		RPCTimeout: 200 * time.Millisecond,
		Dial: func(ref metastore.AcceptorRef) (metastore.AcceptorClient, error) {
			i, err := strconv.Atoi(ref.ID)
			if err != nil || i >= len(p.accs) || ref.Addr != "mem:"+ref.ID {
				return nil, fmt.Errorf("no acceptor %v", ref)
			}
			return wrap(i, p.accs[i]), nil
		},
		AcceptorsOf: setOfValue,
	}
	for _, s := range seeds {
		cfg.Seeds = append(cfg.Seeds, wrap(s, p.accs[s]))
	}
	return newReplicated(p.t, []metastore.AcceptorClient{wrap(0, p.accs[0]), wrap(1, p.accs[1]), wrap(2, p.accs[2])}, cfg)
}

// ids lists the ids of an acceptor set, sorted.
func ids(set []metastore.AcceptorRef) string {
	var out []string
	for _, a := range set {
		out = append(out, a.ID)
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

// TestReconfigureReplacesDeadFounders replaces two dead founders one at a
// time, then loses the third: the register stays writable on the new
// set, every chosen value stays readable, and clients that know only the
// founders find the current set (through a founder that learned it, or
// their own acceptor as a seed).
func TestReconfigureReplacesDeadFounders(t *testing.T) {
	p := newPool(t, 5)
	a := p.client(1, nil)
	mustWrite(t, a, "a", 0)
	p.accs[2].Close() // founder 2 is lost for good
	mustWrite(t, a, "b|0,1,3", 1)
	if set, ver := a.Acceptors(); ids(set) != "0,1,3" || ver != 2 {
		t.Fatalf("after replacing 2 by 3: acceptors %s at version %d", ids(set), ver)
	}
	// The new acceptor was brought up to the value that named it.
	a.Close() // lets the Learns under way land
	if st, err := p.accs[3].Status(t.Context(), &pb.StatusRequest{}); err != nil || st.Info.GetChosenSlot() != 2 || st.Chosen.GetValue() == nil {
		t.Fatalf("new acceptor's Status = %v, %v; want version 2 learned", st, err)
	}
	p.accs[1].Close()
	mustWrite(t, a, "c|0,3,4", 2) // decided by 0 and 3
	mustWrite(t, a, "d", 3)       // decided by the new set

	// A client that knows only the founders, two of them dead, follows
	// founder 0 to the current set, reads and writes there.
	b := p.client(2, nil)
	if v, ver := mustRead(t, b); v != "d" || ver != 4 {
		t.Fatalf("founders-only client reads %q at %d; want d at 4", v, ver)
	}
	mustWrite(t, b, "e", 4)

	// The last founder dies: the register goes on over 3 and 4.
	p.accs[0].Close()
	mustWrite(t, a, "f", 5)
	if v, ver := mustRead(t, b); v != "f" || ver != 6 {
		t.Fatalf("reads %q at %d; want f at 6", v, ver)
	}
	// A restarted node knows only the founders (all dead) and its own
	// acceptor, 4, as a seed: it finds the current set.
	a.Close()
	c := p.client(3, nil, 4)
	if v, ver := mustRead(t, c); v != "f" || ver != 6 {
		t.Fatalf("seeded client reads %q at %d; want f at 6", v, ver)
	}
	mustWrite(t, c, "g", 6)
	if v, ver := mustRead(t, a); v != "g" || ver != 7 {
		t.Fatalf("reads %q at %d; want g at 7", v, ver)
	}
	// Without a seed nothing answers: the client says so and never takes
	// the dead founders' silence for an empty register.
	d := p.client(4, nil)
	if v, ver, err := d.Read(ctxFor(t, 300*time.Millisecond)); !errors.Is(err, metastore.ErrNoQuorum) {
		t.Fatalf("Read with every founder dead = %q, %d, %v; want ErrNoQuorum", v, ver, err)
	}
}

// TestReconfigureRemovedAcceptorRefuses: once an acceptor learns that a
// chosen value removed it, it takes no part in any later version, also
// after a crash; a client that reaches only it and one acceptor of the
// new set cannot choose anything.
func TestReconfigureRemovedAcceptorRefuses(t *testing.T) {
	ctx := t.Context()
	p := newPool(t, 4)
	a := p.client(1, nil)
	mustWrite(t, a, "x|0,1,3", 0) // 2 is out, 3 is in
	a.Close()                     // lets the Learns of version 1 land
	check := func(acc *metastore.Acceptor) {
		t.Helper()
		pr, err := acc.Prepare(ctx, &pb.PrepareRequest{Slot: 2, Ballot: b(100, 9)})
		if err != nil || pr.Ok || !pr.Superseded {
			t.Fatalf("removed acceptor's Prepare(2) = %v, %v; want superseded", pr, err)
		}
		ar, err := acc.Accept(ctx, &pb.AcceptRequest{Slot: 2, Ballot: b(100, 9), Proposal: &pb.Proposal{Writer: 9, Seq: 1, Value: []byte("evil")}})
		if err != nil || ar.Ok || !ar.Superseded {
			t.Fatalf("removed acceptor's Accept(2) = %v, %v; want superseded", ar, err)
		}
		// Slots it helped decide are still answered.
		if pr, err := acc.Prepare(ctx, &pb.PrepareRequest{Slot: 1, Ballot: b(100, 9)}); err != nil || pr.Superseded || payload(string(pr.Accepted.GetValue())) != "x" {
			t.Fatalf("removed acceptor's Prepare(1) = %v, %v", pr, err)
		}
	}
	check(p.accs[2])
	// The retirement is durable.
	p.accs[2].Close()
	again, _ := openNamedAcceptor(t, p.fs[2].CrashClone(vfs.CrashCloneCfg{}), "2")
	check(again)

	// s reaches 1 and 2 only (and 2 is removed): no majority of {0, 1, 3}.
	s := p.client(2, func(i int, acc metastore.AcceptorClient) metastore.AcceptorClient {
		if i == 0 || i == 3 {
			return dead{}
		}
		return acc
	})
	if err := s.Write(ctxFor(t, 300*time.Millisecond), []byte("y"), 1); !errors.Is(err, metastore.ErrNoQuorum) {
		t.Fatalf("Write through a removed acceptor = %v, want ErrNoQuorum", err)
	}
	if v, ver := mustRead(t, p.client(3, nil)); v != "x|0,1,3" || ver != 1 {
		t.Fatalf("Read = %q, %d; want x at 1", v, ver)
	}
	mustWrite(t, p.client(4, nil), "z", 1)
}

// TestReconfigureUnderConcurrentWriters races read-modify-write writers
// with a client that moves the acceptor set along a pool, one acceptor
// at a time, and closes each acceptor it removed, through faults that
// lose requests and replies. The history must be linearizable and the
// final value must hold every acknowledged write's token.
func TestReconfigureUnderConcurrentWriters(t *testing.T) {
	const writers, iterations, moves = 4, 12, 5
	p := newPool(t, 3+moves)
	wrap := func(seed uint64) func(i int, a metastore.AcceptorClient) metastore.AcceptorClient {
		return func(i int, a metastore.AcceptorClient) metastore.AcceptorClient {
			return &faulty{next: a, drop: 0.1, dropLearn: 0.1, maxDelay: 2 * time.Millisecond, rng: rand.New(rand.NewPCG(seed, uint64(i)))}
		}
	}
	var clock atomic.Int64
	var mu sync.Mutex
	var history []porcupine.Operation
	var acked []string
	record := func(client int, in regInput, call int64, out regOutput) {
		ret := clock.Add(1)
		mu.Lock()
		defer mu.Unlock()
		if in.write && out.outcome == writeUnknown {
			ret = math.MaxInt64
		}
		history = append(history, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret})
	}
	// step reads and writes edit(read value); it reports whether the
	// write was acknowledged.
	step := func(c int, m *metastore.Replicated, edit func(string) string) bool {
		call := clock.Add(1)
		v, ver, err := m.Read(ctxFor(t, 10*time.Second))
		if err != nil {
			t.Logf("client %d: Read: %v", c, err)
			return false
		}
		record(c, regInput{}, call, regOutput{version: ver, value: string(v)})
		in := regInput{write: true, value: edit(string(v)), expected: ver}
		call = clock.Add(1)
		err = m.Write(ctxFor(t, 10*time.Second), []byte(in.value), ver)
		out := regOutput{outcome: outcomeOf(err)}
		if out.outcome == writeUnknown {
			t.Logf("client %d: Write: %v", c, err)
		}
		record(c, in, call, out)
		return err == nil
	}

	var wg sync.WaitGroup
	for w := range writers {
		m := p.client(uint64(w+1), wrap(uint64(w)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range iterations {
				token := fmt.Sprintf("w%d-%d", w, i)
				if step(w, m, func(v string) string { return payload(v) + " " + token }) {
					mu.Lock()
					acked = append(acked, token)
					mu.Unlock()
				}
			}
		}()
	}
	// The mover shifts the set {k, k+1, k+2} to {k+1, k+2, k+3}, then
	// closes k for good.
	mover := p.client(100, wrap(100))
	wg.Add(1)
	go func() {
		defer wg.Done()
		for k := 0; k < moves; {
			set := fmt.Sprintf("%d,%d,%d", k+1, k+2, k+3)
			step(writers, mover, func(v string) string { return payload(v) + "|" + set })
			if _, _, err := mover.Read(ctxFor(t, 10*time.Second)); err != nil {
				continue
			}
			if got, _ := mover.Acceptors(); ids(got) == set {
				p.accs[k].Close()
				k++
			}
		}
	}()
	wg.Wait()
	if t.Failed() {
		return
	}

	// Only the last three acceptors are alive; a client that has them as
	// seeds finds them (a majority of them learned the value that named
	// them).
	final := p.client(200, nil, moves, moves+1, moves+2)
	v, _ := mustRead(t, final)
	if set, _ := final.Acceptors(); ids(set) != fmt.Sprintf("%d,%d,%d", moves, moves+1, moves+2) {
		t.Fatalf("final acceptor set %s", ids(set))
	}
	have := strings.Fields(payload(v))
	for _, tok := range acked {
		if !slices.Contains(have, tok) {
			t.Fatalf("acknowledged write %s lost; final value %q", tok, v)
		}
	}
	t.Logf("%d operations, %d writes acknowledged, final %q", len(history), len(acked), v)
	res := porcupine.CheckOperationsTimeout(registerModel.ToModel(), history, 20*time.Second)
	if res != porcupine.Ok {
		t.Fatalf("history of %d operations is not linearizable (%v)", len(history), res)
	}
}

// TestReconfigureStaleClientFollows: a client whose known set was
// replaced twice and then lost entirely finds the current set through a
// seed, and its stale write is refused rather than lost or misplaced.
func TestReconfigureStaleClientFollows(t *testing.T) {
	p := newPool(t, 6)
	stale := p.client(1, nil, 5)
	mustWrite(t, stale, "a", 0)
	other := p.client(2, nil)
	mustWrite(t, other, "b|2,3,4", 1) // decided by the founders
	mustWrite(t, other, "c|3,4,5", 2) // decided by 2, 3, 4
	other.Close()                     // lets the Learns under way land
	for _, i := range []int{0, 1, 2} {
		p.accs[i].Close()
	}
	// stale knows version 1 and the founders, all dead now.
	if err := stale.Write(ctxFor(t, 10*time.Second), []byte("late"), 1); !errors.Is(err, virtuallog.ErrVersionMismatch) {
		t.Fatalf("stale Write(expected 1) = %v, want a mismatch", err)
	}
	if set, ver := stale.Acceptors(); ids(set) != "3,4,5" || ver != 3 {
		t.Fatalf("stale client follows to %s at %d", ids(set), ver)
	}
	mustWrite(t, stale, "d", 3)
	if v, ver := mustRead(t, other); v != "d" || ver != 4 {
		t.Fatalf("Read = %q, %d; want d at 4", v, ver)
	}
}

// TestReconfigureRejectsBadSets: founders and written sets must name
// distinct acceptors; a write whose value names a bad set fails before
// anything is proposed.
func TestReconfigureRejectsBadSets(t *testing.T) {
	p := newPool(t, 3)
	_, err := metastore.NewReplicated([]metastore.AcceptorClient{p.accs[0], p.accs[1]}, metastore.Config{
		ProposerID: 1,
		Founders:   []metastore.AcceptorRef{{ID: "0"}, {ID: "0"}},
	})
	if err == nil || !strings.Contains(err.Error(), "duplicate") {
		t.Fatalf("NewReplicated with duplicate founders = %v", err)
	}
	m := p.client(1, nil)
	mustWrite(t, m, "a", 0)
	for _, value := range []string{"b|0,0,1", "b|0,,1"} {
		if err := m.Write(ctxFor(t, 5*time.Second), []byte(value), 1); err == nil || errors.Is(err, virtuallog.ErrVersionMismatch) {
			t.Fatalf("Write(%q) = %v, want a refusal of the set", value, err)
		}
	}
	if v, ver := mustRead(t, m); v != "a" || ver != 1 {
		t.Fatalf("after refused sets Read = %q, %d", v, ver)
	}
}
