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

// AcceptorRef names one acceptor of a set: its stable id (a node id)
// and the address it was reachable at when the set was written.
type AcceptorRef struct {
	ID, Addr string
}

// Config configures a Replicated. The zero value of every field but
// ProposerID means its default.
type Config struct {
	// ProposerID tags this client's ballots. It must not be 0 and should
	// differ between the clients of one register (a node id will do).
	// Ballots stay unique even if two clients share an id, since each
	// client also adds a random nonce.
	ProposerID uint64
	// Founders names the acceptors passed to NewReplicated, in the same
	// order: the founding set, which decides version 1. Every client of
	// one register must be given the same founders. Empty names them
	// "0", "1", ... in order.
	Founders []AcceptorRef
	// Dial returns a client for an acceptor that is not a founder, when
	// a chosen value names one. The Replicated caches the clients and
	// does not close them. Nil means only founders can be reached.
	Dial func(AcceptorRef) (AcceptorClient, error)
	// AcceptorsOf returns the acceptor set that value, once written,
	// names to decide the version after it: this is how the set changes.
	// It must be a deterministic function of value. Nil, or a nil result,
	// keeps the set that decided value.
	AcceptorsOf func(value []byte) ([]AcceptorRef, error)
	// Seeds are acceptors asked, besides the known set, for the highest
	// version they know chosen: on the first Read or Write, and when the
	// known set does not answer. A node's own acceptor, say, which may
	// know a set that replaced the founders. They never count towards a
	// majority.
	Seeds []AcceptorClient
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
func (c *Config) ensureDefaults(founders int) {
	if len(c.Founders) == 0 {
		for i := range founders {
			c.Founders = append(c.Founders, AcceptorRef{ID: fmt.Sprint(i)})
		}
	}
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
	if err := validSet(c.Founders); len(c.Founders) > 0 && err != nil {
		errs = append(errs, fmt.Errorf("metastore: Founders: %w", err))
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
// and learner; it keeps no register state of its own beyond the highest
// version it learned, so any number of Replicated clients (on any nodes)
// may share the acceptors.
//
// The acceptor set is part of the register: the proposal chosen in slot
// v names the set that decides slot v+1 (see Config.AcceptorsOf), and
// slot 1 is decided by the founders. A client follows the chain of sets
// from the founders, or from the latest set it knows, to the current one;
// before it uses a new set it brings a majority of it up to the value
// that named it (see docs/ARCHITECTURE.md for the safety argument).
//
// Every round goes to all acceptors of one set in parallel and proceeds
// once a majority has answered. Operations retry conflicts and unanswered
// rounds with randomized backoff until their context ends.
//
// Replicated is safe for concurrent use. It does not own its
// AcceptorClients.
type Replicated struct {
	founders []member
	cfg      Config
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
		// known is the highest version this client knows chosen.
		known view
		// clients are the dialed acceptors that are not founders.
		clients map[AcceptorRef]AcceptorClient
		// seeded is set once the seeds were asked.
		seeded bool
	}
}

var _ virtuallog.MetaStore = (*Replicated)(nil)

// NewReplicated returns a MetaStore whose founding acceptor set is
// founders (3 or 5, typically), named by cfg.Founders. The caller keeps
// ownership of the clients and may close them after Close.
func NewReplicated(founders []AcceptorClient, cfg Config) (*Replicated, error) {
	var errs []error
	if len(founders) == 0 {
		errs = append(errs, errors.New("metastore: no acceptors"))
	}
	for i, a := range founders {
		if a == nil {
			errs = append(errs, fmt.Errorf("metastore: acceptor %d is nil", i))
		}
	}
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if n := len(cfg.Founders); n > 0 && n != len(founders) {
		errs = append(errs, fmt.Errorf("metastore: %d founders named for %d acceptors", n, len(founders)))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	cfg.ensureDefaults(len(founders))
	r := &Replicated{cfg: cfg}
	for i, a := range founders {
		r.founders = append(r.founders, member{ref: cfg.Founders[i], c: a})
	}
	var b [8]byte
	for r.nonce == 0 {
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		r.nonce = binary.LittleEndian.Uint64(b[:])
	}
	r.mu.ballots = paxos.Ballots{Proposer: cfg.ProposerID, Nonce: r.nonce}
	r.mu.known = view{set: r.founders, installed: true}
	r.mu.clients = map[AcceptorRef]AcceptorClient{}
	return r, nil
}

// Close waits for the background Learn messages of completed operations
// (each bounded by Config.RPCTimeout). Call it after the last operation
// returned; it closes nothing the caller owns.
func (r *Replicated) Close() error {
	r.learns.Wait()
	return nil
}

// Acceptors returns the acceptor set that decides the next version, as of
// the highest version this client knows chosen (the last Read or Write),
// and that version.
func (r *Replicated) Acceptors() ([]AcceptorRef, uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mu.known.refs(), r.mu.known.version
}

// Read implements virtuallog.MetaStore. It is linearizable: it returns a
// version at least as high as that of any Write that returned nil before
// Read began. From the highest version v it knows chosen, it asks the set
// that decides v+1 for what they know: a later chosen version moves it on
// (to that version's set); a majority that accepted nothing above v means
// v is current; otherwise it runs a Paxos round in slot v+1 that adopts
// and completes the accepted value. It never proposes a value of its own.
func (r *Replicated) Read(ctx context.Context) ([]byte, uint64, error) {
	v, err := r.discover(ctx)
	if err != nil {
		return nil, 0, err
	}
	return bytes.Clone(v.chosen.GetValue()), v.version, nil
}

// Write implements virtuallog.MetaStore: it finds the current version as
// Read does and, if that is expected, runs Paxos for slot expected+1 with
// value over the set that the value chosen in slot expected names. It
// returns nil if value was chosen, an error matching
// virtuallog.ErrVersionMismatch if another value was or the register is
// not at version expected, and otherwise an error matching ErrNoQuorum or
// ErrOutcomeUnknown (see there). Write copies value; the caller may reuse
// it once Write returns.
func (r *Replicated) Write(ctx context.Context, value []byte, expected uint64) error {
	if expected == math.MaxUint64 {
		return fmt.Errorf("%w: version %d is the last", virtuallog.ErrVersionMismatch, expected)
	}
	var next []AcceptorRef
	if r.cfg.AcceptorsOf != nil {
		var err error
		if next, err = r.cfg.AcceptorsOf(value); err != nil {
			return fmt.Errorf("metastore: acceptor set of the value: %w", err)
		}
		if next != nil {
			if err := validSet(next); err != nil {
				return fmt.Errorf("metastore: acceptor set of the value: %w", err)
			}
		}
	}
	// Find the current version first: MetaStore writes are rare, and a
	// client whose known set has since been replaced and lost is led to
	// the current one instead of waiting on the dead.
	v, err := r.discover(ctx)
	if err != nil {
		return err
	}
	switch {
	case v.version < expected:
		return fmt.Errorf("%w: version %d does not exist", virtuallog.ErrVersionMismatch, expected)
	case v.version > expected:
		return fmt.Errorf("%w: version %d is taken", virtuallog.ErrVersionMismatch, expected+1)
	}
	if next == nil {
		next = v.refs()
	}
	slot := expected + 1
	own := &pb.Proposal{Writer: r.nonce, Seq: r.seq.Add(1), Value: bytes.Clone(value), Next: refsPB(next)}
	in := &instance{slot: slot, own: own}
	in.beforeOwn = func(_ context.Context, p1 *phase1) error {
		if p1.maxSlot > slot || p1.chosenSlot >= slot {
			// A value was accepted above slot (so slot is chosen) or
			// slot is known chosen.
			return fmt.Errorf("%w: version %d is taken", virtuallog.ErrVersionMismatch, slot)
		}
		return nil
	}
	chosen, err := r.run(ctx, v.set, in)
	if err == nil {
		r.adopt(slot, chosen)
	}
	switch {
	case err == nil && sameProposal(chosen, own):
		// Bring the set it names up to it now, while the caller waits;
		// a failure is repaired by whoever uses the set first.
		_, _ = r.current(ctx)
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

// discover finds the register's current version, as Read describes, and
// returns it with the set that decides the next one.
func (r *Replicated) discover(ctx context.Context) (view, error) {
	r.askSeeds(ctx, false)
	asked := false
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if err := r.pause(ctx, attempt, 0, "read"); err != nil {
				return view{}, err
			}
		}
		v, err := r.current(ctx)
		if err != nil {
			return view{}, err
		}
		st := &status{n: len(v.set), base: v.version}
		if err := broadcast(ctx, r, v.set, func(ctx context.Context, a AcceptorClient) (*pb.StatusResponse, error) {
			return a.Status(ctx, &pb.StatusRequest{})
		}, st.add); err != nil {
			return view{}, err
		}
		switch {
		case st.chosen != nil:
			// A later version is chosen: go on from there at once.
			r.adopt(st.chosenSlot, st.chosen)
			attempt = -1
			continue
		case !st.quorum():
			if !asked {
				// The known set may have been replaced and lost.
				asked = true
				r.askSeeds(ctx, true)
			}
			continue
		case st.maxSlot <= v.version:
			// A majority of the set that decides v+1 accepted nothing
			// there, so v+1 was not chosen when they answered.
			return v, nil
		}
		p, err := r.run(ctx, v.set, &instance{slot: v.version + 1})
		switch {
		case err == nil:
			r.adopt(v.version+1, p)
			attempt = -1
		case errors.Is(err, errEmpty):
			// v+1 holds a value nowhere in a majority: not chosen.
			return v, nil
		case errors.Is(err, errCompacted):
			// The register moved on under us; ask again.
		default:
			return view{}, err
		}
	}
}

// askSeeds asks the seeds for the highest version they know chosen, and
// adopts it: the first time it is called, or again if again is set.
func (r *Replicated) askSeeds(ctx context.Context, again bool) {
	r.mu.Lock()
	seeded := r.mu.seeded
	r.mu.seeded = true
	base := r.mu.known.version
	r.mu.Unlock()
	if (seeded && !again) || len(r.cfg.Seeds) == 0 {
		return
	}
	var set []member
	for _, s := range r.cfg.Seeds {
		set = append(set, member{c: s})
	}
	// Every seed is heard (within the round's timeout), not a majority:
	// any one may know the latest set.
	st := &status{n: len(set), base: base}
	_ = broadcast(ctx, r, set, func(ctx context.Context, a AcceptorClient) (*pb.StatusResponse, error) {
		return a.Status(ctx, &pb.StatusRequest{})
	}, func(resp *pb.StatusResponse, err error) bool {
		st.add(resp, err)
		return false
	})
	if st.chosen != nil {
		r.adopt(st.chosenSlot, st.chosen)
	}
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

// run drives in, over the acceptor set that decides its slot, until a
// proposal is chosen there, and returns it.
// Errors are errEmpty, errCompacted, one from beforeOwn, or one matching
// ErrNoQuorum once ctx ends.
func (r *Replicated) run(ctx context.Context, set []member, in *instance) (*pb.Proposal, error) {
	n := len(set)
	var seen uint64
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if err := r.pause(ctx, attempt, in.slot, "retry"); err != nil {
				return nil, err
			}
		}
		b := r.nextBallot(seen)
		p1 := newPhase1(n)
		if err := broadcast(ctx, r, set, func(ctx context.Context, a AcceptorClient) (*pb.PrepareResponse, error) {
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
		if err := broadcast(ctx, r, set, func(ctx context.Context, a AcceptorClient) (*pb.AcceptResponse, error) {
			return a.Accept(ctx, &pb.AcceptRequest{Slot: in.slot, Ballot: b, Proposal: v})
		}, p2.add); err != nil {
			return nil, err
		}
		seen = p2.MaxRound
		switch {
		case p2.Chosen():
			r.learn(set, in.slot, v)
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

// learn tells every acceptor of set, in the background, that p was chosen
// in slot. Sent to the set that decided slot, it also tells the acceptors
// that p removes that they are out.
func (r *Replicated) learn(set []member, slot uint64, p *pb.Proposal) {
	r.learns.Add(1)
	go func() {
		defer r.learns.Done()
		ctx, cancel := context.WithTimeout(context.Background(), r.cfg.RPCTimeout)
		defer cancel()
		req := &pb.LearnRequest{Slot: slot, Proposal: p}
		_ = broadcast(ctx, r, set, func(ctx context.Context, a AcceptorClient) (*pb.LearnResponse, error) {
			return a.Learn(ctx, req)
		}, func(*pb.LearnResponse, error) bool { return false })
	}()
}

// broadcast calls every acceptor of set in parallel, each call bounded by
// Config.RPCTimeout, and passes each reply to add until add reports the
// round decided, every acceptor answered, or the timeout passed. Calls
// still in flight then are cancelled. It fails, with ErrNoQuorum, only
// when ctx ends.
func broadcast[T any](ctx context.Context, r *Replicated, set []member, call func(context.Context, AcceptorClient) (T, error), add func(T, error) bool) error {
	rctx, cancel := context.WithTimeout(ctx, r.cfg.RPCTimeout)
	defer cancel()
	type reply struct {
		resp T
		err  error
	}
	replies := make(chan reply, len(set))
	for _, m := range set {
		go func() {
			resp, err := call(rctx, m.c)
			replies <- reply{resp, err}
		}()
	}
	for range set {
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
