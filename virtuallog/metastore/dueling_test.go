package metastore_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"hourglass/virtuallog"
	"hourglass/virtuallog/metastore"
	pb "hourglass/virtuallog/metastore/metastorepb"
)

// faulty wraps an AcceptorClient with seeded faults: every call is delayed
// a little, and may lose its request (the acceptor never sees it) or its
// reply (the acceptor acted, the caller does not know).
type faulty struct {
	next     metastore.AcceptorClient
	drop     float64 // probability of each loss
	maxDelay time.Duration
	// dropLearn is the probability of losing a Learn request, so that
	// proposers must find chosen values through Paxos rounds.
	dropLearn float64

	mu  sync.Mutex
	rng *rand.Rand
}

var errDropped = errors.New("dropped by fault injector")

func (f *faulty) roll() (loseRequest, loseReply bool, delay time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rng.Float64() < f.drop, f.rng.Float64() < f.drop, time.Duration(f.rng.Int64N(int64(f.maxDelay) + 1))
}

func through[Req, Resp any](ctx context.Context, f *faulty, req Req, call func(context.Context, Req) (Resp, error)) (Resp, error) {
	var zero Resp
	loseRequest, loseReply, delay := f.roll()
	if _, ok := any(req).(*pb.LearnRequest); ok {
		f.mu.Lock()
		loseRequest = f.rng.Float64() < f.dropLearn
		f.mu.Unlock()
	}
	t := time.NewTimer(delay) // injected latency, not a wait for a condition
	defer t.Stop()
	select {
	case <-ctx.Done():
		return zero, ctx.Err()
	case <-t.C:
	}
	if loseRequest {
		return zero, errDropped
	}
	resp, err := call(ctx, req)
	if loseReply {
		return zero, errDropped
	}
	return resp, err
}

func (f *faulty) Prepare(ctx context.Context, req *pb.PrepareRequest) (*pb.PrepareResponse, error) {
	return through(ctx, f, req, f.next.Prepare)
}
func (f *faulty) Accept(ctx context.Context, req *pb.AcceptRequest) (*pb.AcceptResponse, error) {
	return through(ctx, f, req, f.next.Accept)
}
func (f *faulty) Learn(ctx context.Context, req *pb.LearnRequest) (*pb.LearnResponse, error) {
	return through(ctx, f, req, f.next.Learn)
}
func (f *faulty) Status(ctx context.Context, req *pb.StatusRequest) (*pb.StatusResponse, error) {
	return through(ctx, f, req, f.next.Status)
}

// A history of register operations, checked with porcupine.
type (
	regState struct {
		version uint64
		value   string
	}
	regInput struct {
		write    bool
		value    string
		expected uint64
	}
	regOutput struct {
		version uint64 // read
		value   string // read
		outcome writeOutcome
	}
	writeOutcome int
)

const (
	writeOK writeOutcome = iota
	writeMismatch
	writeUnknown // the write may or may not have taken effect, at any time after its call
)

// outcomeOf is what a conditional write's error says of it.
func outcomeOf(err error) writeOutcome {
	switch {
	case err == nil:
		return writeOK
	case errors.Is(err, virtuallog.ErrVersionMismatch):
		return writeMismatch
	}
	return writeUnknown
}

var registerModel = porcupine.NondeterministicModel{
	Init: func() []any { return []any{regState{}} },
	Step: func(state, input, output any) []any {
		st, in, out := state.(regState), input.(regInput), output.(regOutput)
		next := regState{version: in.expected + 1, value: in.value}
		switch {
		case !in.write:
			if out.version == st.version && out.value == st.value {
				return []any{st}
			}
		case out.outcome == writeOK:
			if st.version == in.expected {
				return []any{next}
			}
		case out.outcome == writeMismatch:
			if st.version != in.expected {
				return []any{st}
			}
		default:
			if st.version == in.expected {
				return []any{st, next}
			}
			return []any{st}
		}
		return nil
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(regInput), output.(regOutput)
		if !in.write {
			return fmt.Sprintf("read() -> %q@%d", out.value, out.version)
		}
		return fmt.Sprintf("write(%q, %d) -> %d", in.value, in.expected, out.outcome)
	},
}

// TestReplicatedDuelingProposers races many writers through acceptors that
// lose requests and replies, and checks the clients' history: it must be
// linearizable, no two clients may see different values at one version,
// and at most one write may succeed per version.
func TestReplicatedDuelingProposers(t *testing.T) {
	for _, tc := range []struct {
		size      int
		dropLearn float64
	}{{3, 0.15}, {5, 0.15}, {3, 1}, {5, 1}} {
		t.Run(fmt.Sprintf("%d acceptors, %.0f%% learns lost", tc.size, 100*tc.dropLearn), func(t *testing.T) {
			dueling(t, tc.size, tc.dropLearn, uint64(tc.size))
		})
	}
}

func dueling(t *testing.T, size int, dropLearn float64, seed uint64) {
	const writers, iterations = 6, 20
	accs := memAcceptors(t, size)

	var clock atomic.Int64
	var mu sync.Mutex
	var history []porcupine.Operation
	seen := map[uint64]string{} // version -> value, from successful writes and reads
	winners := map[uint64]int{}
	record := func(client int, in regInput, call int64, out regOutput) {
		ret := clock.Add(1)
		mu.Lock()
		defer mu.Unlock()
		if in.write && out.outcome == writeUnknown {
			ret = math.MaxInt64
		}
		history = append(history, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret})
		version, value := out.version, out.value
		switch {
		case in.write && out.outcome == writeOK:
			version, value = in.expected+1, in.value
			winners[version]++
			if winners[version] > 1 {
				t.Errorf("two successful writes at version %d", version)
			}
		case in.write:
			return
		}
		if version == 0 {
			return
		}
		if prev, ok := seen[version]; ok && prev != value {
			t.Errorf("version %d seen as %q and as %q", version, prev, value)
		}
		seen[version] = value
	}

	var wg sync.WaitGroup
	for w := range writers {
		var clients []metastore.AcceptorClient
		for i, a := range accs {
			clients = append(clients, &faulty{
				next:      a,
				drop:      0.15,
				dropLearn: dropLearn,
				maxDelay:  2 * time.Millisecond,
				rng:       rand.New(rand.NewPCG(seed, uint64(w*100+i))),
			})
		}
		m := newReplicated(t, clients, metastore.Config{ProposerID: uint64(w + 1), RPCTimeout: 200 * time.Millisecond})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range iterations {
				call := clock.Add(1)
				v, ver, err := m.Read(ctxFor(t, 10*time.Second))
				if err != nil {
					// A failed read tells nothing; it is left out.
					t.Logf("writer %d: Read: %v", w, err)
					continue
				}
				record(w, regInput{}, call, regOutput{version: ver, value: string(v)})

				in := regInput{write: true, value: fmt.Sprintf("w%d-%d", w, i), expected: ver}
				call = clock.Add(1)
				err = m.Write(ctxFor(t, 10*time.Second), []byte(in.value), ver)
				out := regOutput{outcome: outcomeOf(err)}
				if out.outcome == writeUnknown {
					t.Logf("writer %d: Write: %v", w, err)
				}
				record(w, in, call, out)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	// Everyone ends on the same register.
	var final []string
	for range 3 {
		var direct []metastore.AcceptorClient
		for _, a := range accs {
			direct = append(direct, a)
		}
		m := newReplicated(t, direct, metastore.Config{ProposerID: 100})
		v, ver := mustRead(t, m)
		final = append(final, fmt.Sprintf("%q@%d", v, ver))
		if want, ok := seen[ver]; ok && want != v {
			t.Fatalf("final Read %q at %d; the history saw %q", v, ver, want)
		}
	}
	if final[0] != final[1] || final[1] != final[2] {
		t.Fatalf("final reads differ: %v", final)
	}
	if len(winners) == 0 {
		t.Fatal("no write succeeded")
	}
	t.Logf("%d operations, %d versions written, final %s", len(history), len(winners), final[0])

	res := porcupine.CheckOperationsTimeout(registerModel.ToModel(), history, 20*time.Second)
	if res != porcupine.Ok {
		t.Fatalf("history of %d operations is not linearizable (%v)", len(history), res)
	}
}
