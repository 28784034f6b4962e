package metastore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	randv2 "math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"hourglass/internal/paxos"
	"hourglass/virtuallog"
	pb "hourglass/virtuallog/metastore/metastorepb"
)

// ErrNoQuorum: a majority of the acceptors did not answer (or kept
// preempting each other) before the context ended. A Write that fails with
// it took no effect, unless the error also matches ErrOutcomeUnknown.
var ErrNoQuorum = errors.New("metastore: no quorum")

// ErrOutcomeUnknown: a Write sent its value to acceptors but could not find
// out whether it was chosen. It may have taken effect, or may still take
// effect when another client completes it; the caller re-reads.
var ErrOutcomeUnknown = errors.New("metastore: write outcome unknown")

// Config configures a Replicated. The zero value of every field but
// ProposerID means its default.
type Config struct {
	// ProposerID tags this client's ballots. It must not be 0 and should
	// differ between the clients of one register (a node id will do).
	// Ballots stay unique even if two clients share an id, since each
	// client also adds a random nonce.
	ProposerID uint64
	// RPCTimeout bounds one round of RPCs to the acceptors; a minority of
	// dead or slow acceptors costs nothing, a majority costs one timeout
	// per retry. 0 means one second.
	RPCTimeout time.Duration
	// BackoffBase and BackoffMax bound the randomized pause before a retry
	// after a ballot conflict or a round without a majority: the n-th
	// retry waits a random time below min(BackoffBase<<n, BackoffMax).
	// 0 means 2ms and 100ms.
	BackoffBase, BackoffMax time.Duration
	// Logger receives debug records of retries; nil discards them.
	Logger *slog.Logger
}

// ensureDefaults fills in the zero fields.
func (c *Config) ensureDefaults() {
	if c.RPCTimeout == 0 {
		c.RPCTimeout = time.Second
	}
	if c.BackoffBase == 0 {
		c.BackoffBase = 2 * time.Millisecond
	}
	if c.BackoffMax == 0 {
		c.BackoffMax = 100 * time.Millisecond
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports every problem of c at once.
func (c *Config) Validate() error {
	var errs []error
	if c.ProposerID == 0 {
		errs = append(errs, errors.New("metastore: ProposerID must not be 0"))
	}
	if c.RPCTimeout < 0 {
		errs = append(errs, fmt.Errorf("metastore: negative RPCTimeout %v", c.RPCTimeout))
	}
	if c.BackoffBase < 0 || c.BackoffMax < 0 {
		errs = append(errs, fmt.Errorf("metastore: negative backoff %v/%v", c.BackoffBase, c.BackoffMax))
	}
	return errors.Join(errs...)
}

// Replicated is a virtuallog.MetaStore replicated on a majority of
// acceptors with single-decree Paxos per version: version v of the
// register is the value chosen in Paxos slot v. A slot is only proposed
// into once the slot before it is chosen, so the chosen slots have no gaps
// and the version is the highest chosen slot. Replicated is the proposer
// and learner; it keeps no register state of its own, so any number of
// Replicated clients (on any nodes) may share the acceptors.
//
// Every round goes to all acceptors in parallel and proceeds once a
// majority has answered. Operations retry conflicts and unanswered rounds
// with randomized backoff until their context ends.
//
// Replicated is safe for concurrent use. It does not own its
// AcceptorClients.
type Replicated struct {
	acceptors []AcceptorClient
	cfg       Config
	// nonce is random per instance; it makes ballots and proposals unique
	// even across clients that share a ProposerID.
	nonce uint64
	// seq numbers this instance's proposals.
	seq atomic.Uint64
	// learns tracks the background Learn rounds.
	learns sync.WaitGroup

	mu struct {
		sync.Mutex
		// ballots issues this client's ballots, above every round it
		// used or saw.
		ballots paxos.Ballots
	}
}

var _ virtuallog.MetaStore = (*Replicated)(nil)

// NewReplicated returns a MetaStore over the given acceptors, all the
// acceptors of one register (3 or 5, typically). The caller keeps ownership
// of the clients and may close them after Close.
func NewReplicated(acceptors []AcceptorClient, cfg Config) (*Replicated, error) {
	var errs []error
	if len(acceptors) == 0 {
		errs = append(errs, errors.New("metastore: no acceptors"))
	}
	for i, a := range acceptors {
		if a == nil {
			errs = append(errs, fmt.Errorf("metastore: acceptor %d is nil", i))
		}
	}
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	cfg.ensureDefaults()
	r := &Replicated{acceptors: append([]AcceptorClient(nil), acceptors...), cfg: cfg}
	var b [8]byte
	for r.nonce == 0 {
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		r.nonce = binary.LittleEndian.Uint64(b[:])
	}
	r.mu.ballots = paxos.Ballots{Proposer: cfg.ProposerID, Nonce: r.nonce}
	return r, nil
}

// Close waits for the background Learn messages of completed operations
// (each bounded by Config.RPCTimeout). Call it after the last operation
// returned; it closes nothing the caller owns.
func (r *Replicated) Close() error {
	r.learns.Wait()
	return nil
}

// Read implements virtuallog.MetaStore. It is linearizable: it returns a
// version at least as high as that of any Write that returned nil before
// Read began. It asks a majority for the highest slot holding an accepted
// value and, unless an acceptor already knows that slot chosen, runs a
// Paxos round there that adopts and completes the accepted value. It never
// proposes a value of its own.
func (r *Replicated) Read(ctx context.Context) ([]byte, uint64, error) {
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if err := r.pause(ctx, attempt, 0, "read"); err != nil {
				return nil, 0, err
			}
		}
		st := &status{n: len(r.acceptors)}
		if err := broadcast(ctx, r, func(ctx context.Context, a AcceptorClient) (*pb.StatusResponse, error) {
			return a.Status(ctx, &pb.StatusRequest{})
		}, st.add); err != nil {
			return nil, 0, err
		}
		if !st.quorum() {
			continue
		}
		// No slot above m was chosen before the first reply: a majority
		// accepted it, and one of them would have answered.
		m := st.maxSlot
		if m == 0 {
			return nil, 0, nil
		}
		if st.chosenSlot == m {
			return bytes.Clone(st.chosen.GetValue()), m, nil
		}
		p, err := r.run(ctx, &instance{slot: m})
		if errors.Is(err, errEmpty) {
			// m holds a value nowhere in a majority, so it is not chosen;
			// someone proposed into m, so m-1 is chosen.
			if m == 1 {
				return nil, 0, nil
			}
			m--
			p, err = r.run(ctx, &instance{slot: m})
		}
		switch {
		case err == nil:
			return bytes.Clone(p.GetValue()), m, nil
		case errors.Is(err, errEmpty), errors.Is(err, errCompacted):
			// The register moved on under us; start over.
			continue
		default:
			return nil, 0, err
		}
	}
}

// Write implements virtuallog.MetaStore: it runs Paxos for slot expected+1
// with value, after making sure slot expected is chosen. It returns nil if
// value was chosen, an error matching virtuallog.ErrVersionMismatch if
// another value was or the register is not at version expected, and
// otherwise an error matching ErrNoQuorum or ErrOutcomeUnknown (see
// there). Write copies value; the caller may reuse it once Write returns.
func (r *Replicated) Write(ctx context.Context, value []byte, expected uint64) error {
	if expected == math.MaxUint64 {
		return fmt.Errorf("%w: version %d is the last", virtuallog.ErrVersionMismatch, expected)
	}
	slot := expected + 1
	own := &pb.Proposal{Writer: r.nonce, Seq: r.seq.Add(1), Value: bytes.Clone(value)}
	prevChosen := expected == 0
	in := &instance{slot: slot, own: own}
	in.beforeOwn = func(ctx context.Context, p1 *phase1) error {
		if prevChosen {
			return nil
		}
		if err := r.checkPrevious(ctx, expected, p1); err != nil {
			return err
		}
		prevChosen = true
		return nil
	}
	chosen, err := r.run(ctx, in)
	switch {
	case err == nil && sameProposal(chosen, own):
		return nil
	case err == nil:
		return fmt.Errorf("%w: version %d was written by another writer", virtuallog.ErrVersionMismatch, slot)
	case !in.sentOwn && errors.Is(err, errCompacted):
		return fmt.Errorf("%w: version %d is long past", virtuallog.ErrVersionMismatch, slot)
	case in.sentOwn && errors.Is(err, errCompacted):
		return fmt.Errorf("%w: version %d was compacted away", ErrOutcomeUnknown, slot)
	case in.sentOwn:
		return fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
	default:
		return err
	}
}

// checkPrevious makes sure that slot expected is chosen before a Write
// proposes its own value for expected+1, given the replies p1 to its
// Prepare there: a Write must neither skip a version nor overwrite one.
// It returns an error matching virtuallog.ErrVersionMismatch if the
// register is not at version expected. REQUIRES: expected > 0.
func (r *Replicated) checkPrevious(ctx context.Context, expected uint64, p1 *phase1) error {
	slot := expected + 1
	switch {
	case p1.maxSlot > slot || p1.chosenSlot >= slot:
		// A value was accepted above slot (so slot is chosen) or slot is
		// known chosen.
		return fmt.Errorf("%w: version %d is taken", virtuallog.ErrVersionMismatch, slot)
	case p1.chosenSlot >= expected || p1.maxSlot == slot:
		// Known chosen, or a value was accepted at slot, which happens
		// only once expected is chosen.
		return nil
	case p1.maxSlot < expected:
		// A majority never accepted anything at expected, so it was not
		// chosen when they answered.
		return fmt.Errorf("%w: version %d does not exist", virtuallog.ErrVersionMismatch, expected)
	}
	// A value was accepted at expected, but maybe not by a majority yet:
	// complete that round.
	_, err := r.run(ctx, &instance{slot: expected})
	switch {
	case errors.Is(err, errEmpty):
		return fmt.Errorf("%w: version %d does not exist", virtuallog.ErrVersionMismatch, expected)
	case errors.Is(err, errCompacted):
		return fmt.Errorf("%w: version %d is long past", virtuallog.ErrVersionMismatch, expected)
	}
	return err
}

// errEmpty: a Paxos round without a value of its own found no accepted
// value in a majority, so nothing was chosen in the slot when they
// answered.
var errEmpty = errors.New("metastore: slot empty")

// errCompacted: an acceptor dropped the slot because a later slot was
// chosen.
var errCompacted = errors.New("metastore: slot compacted")

// instance is one proposer's run of Paxos for one slot.
type instance struct {
	slot uint64
	// own is the proposal to make if the slot is free; nil means adopt
	// an accepted proposal or fail with errEmpty.
	own *pb.Proposal
	// beforeOwn, if set, runs before own is first proposed; an error
	// ends the run.
	beforeOwn func(ctx context.Context, p1 *phase1) error
	// sentOwn is set once own was sent to acceptors.
	sentOwn bool
}

// run drives in until a proposal is chosen in its slot, and returns it.
// Errors are errEmpty, errCompacted, one from beforeOwn, or one matching
// ErrNoQuorum once ctx ends.
func (r *Replicated) run(ctx context.Context, in *instance) (*pb.Proposal, error) {
	n := len(r.acceptors)
	var seen uint64
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if err := r.pause(ctx, attempt, in.slot, "retry"); err != nil {
				return nil, err
			}
		}
		b := r.nextBallot(seen)
		p1 := newPhase1(n)
		if err := broadcast(ctx, r, func(ctx context.Context, a AcceptorClient) (*pb.PrepareResponse, error) {
			return a.Prepare(ctx, &pb.PrepareRequest{Slot: in.slot, Ballot: b})
		}, p1.add); err != nil {
			return nil, err
		}
		seen = p1.MaxRound
		switch {
		case p1.chosen != nil:
			return p1.chosen, nil
		case p1.compacted:
			return nil, errCompacted
		case !p1.Quorum():
			continue
		}
		v, adopted := p1.Value()
		if !adopted {
			if in.own == nil {
				return nil, errEmpty
			}
			if in.beforeOwn != nil {
				if err := in.beforeOwn(ctx, p1); err != nil {
					return nil, err
				}
			}
			v = in.own
		}
		if v == in.own {
			in.sentOwn = true
		}
		p2 := newPhase2(n)
		if err := broadcast(ctx, r, func(ctx context.Context, a AcceptorClient) (*pb.AcceptResponse, error) {
			return a.Accept(ctx, &pb.AcceptRequest{Slot: in.slot, Ballot: b, Proposal: v})
		}, p2.add); err != nil {
			return nil, err
		}
		seen = p2.MaxRound
		switch {
		case p2.Chosen():
			r.learn(in.slot, v)
			return v, nil
		case p2.compacted:
			return nil, errCompacted
		}
	}
}

// nextBallot returns a ballot above every one this client used and above
// round seen.
func (r *Replicated) nextBallot(seen uint64) *pb.Ballot {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mu.ballots.Observe(seen)
	return ballotPB(r.mu.ballots.Next())
}

// pause waits a random backoff before retry attempt, or fails with
// ErrNoQuorum when ctx ends first.
func (r *Replicated) pause(ctx context.Context, attempt int, slot uint64, what string) error {
	limit := min(r.cfg.BackoffBase<<min(attempt, 16), r.cfg.BackoffMax)
	d := time.Duration(randv2.Int64N(int64(limit) + 1))
	r.cfg.Logger.Debug("metastore: "+what, "slot", slot, "attempt", attempt, "backoff", d)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrNoQuorum, ctx.Err())
	}
}

// learn tells every acceptor, in the background, that p was chosen in
// slot.
func (r *Replicated) learn(slot uint64, p *pb.Proposal) {
	r.learns.Add(1)
	go func() {
		defer r.learns.Done()
		ctx, cancel := context.WithTimeout(context.Background(), r.cfg.RPCTimeout)
		defer cancel()
		req := &pb.LearnRequest{Slot: slot, Proposal: p}
		_ = broadcast(ctx, r, func(ctx context.Context, a AcceptorClient) (*pb.LearnResponse, error) {
			return a.Learn(ctx, req)
		}, func(*pb.LearnResponse, error) bool { return false })
	}()
}

// broadcast calls every acceptor in parallel, each call bounded by
// Config.RPCTimeout, and passes each reply to add until add reports the
// round decided, every acceptor answered, or the timeout passed. Calls
// still in flight then are cancelled. It fails, with ErrNoQuorum, only
// when ctx ends.
func broadcast[T any](ctx context.Context, r *Replicated, call func(context.Context, AcceptorClient) (T, error), add func(T, error) bool) error {
	rctx, cancel := context.WithTimeout(ctx, r.cfg.RPCTimeout)
	defer cancel()
	type reply struct {
		resp T
		err  error
	}
	replies := make(chan reply, len(r.acceptors))
	for _, a := range r.acceptors {
		go func() {
			resp, err := call(rctx, a)
			replies <- reply{resp, err}
		}()
	}
	for range r.acceptors {
		select {
		case rep := <-replies:
			if add(rep.resp, rep.err) {
				return nil
			}
		case <-rctx.Done():
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("%w: %w", ErrNoQuorum, err)
			}
			return nil
		}
	}
	return nil
}
