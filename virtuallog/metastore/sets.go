package metastore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"hourglass/internal/paxos"
	pb "hourglass/virtuallog/metastore/metastorepb"
)

// This file follows the acceptor set from version to version: the value
// chosen in slot v names the set that decides slot v+1 (the founders
// decide slot 1). A client keeps the highest version it knows chosen and
// that version's set; a new set is installed (a majority of it learns the
// value that named it) before the client runs a round on it.

// member is one acceptor of a set and the client that reaches it.
type member struct {
	ref AcceptorRef
	c   AcceptorClient
}

// view is what a client knows of the register: version is chosen, with
// the proposal chosen (nil at version 0), and set decides version+1.
type view struct {
	version uint64
	chosen  *pb.Proposal
	set     []member
	// installed: a majority of set learned chosen (or set is the one
	// that decided it, or the founders).
	installed bool
}

// refs returns the names of v's set.
func (v view) refs() []AcceptorRef {
	out := make([]AcceptorRef, len(v.set))
	for i, m := range v.set {
		out[i] = m.ref
	}
	return out
}

// validSet reports what is wrong with an acceptor set: it must be
// non-empty, and its ids non-empty and distinct.
func validSet(set []AcceptorRef) error {
	if len(set) == 0 {
		return errors.New("empty acceptor set")
	}
	seen := map[string]bool{}
	for _, a := range set {
		if a.ID == "" || seen[a.ID] {
			return fmt.Errorf("missing or duplicate acceptor id %q", a.ID)
		}
		seen[a.ID] = true
	}
	return nil
}

// refsPB converts an acceptor set to its wire form.
func refsPB(set []AcceptorRef) []*pb.AcceptorRef {
	out := make([]*pb.AcceptorRef, len(set))
	for i, a := range set {
		out[i] = &pb.AcceptorRef{Id: a.ID, Addr: a.Addr}
	}
	return out
}

// sameIDs reports whether two sets hold the same acceptors.
func sameIDs(a, b []member) bool {
	if len(a) != len(b) {
		return false
	}
	ids := func(s []member) []string {
		out := make([]string, len(s))
		for i, m := range s {
			out[i] = m.ref.ID
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(ids(a), ids(b))
}

// unreachable is the client of an acceptor that could not be dialed:
// every call fails, as a dead acceptor's would.
type unreachable struct{ err error }

func (u unreachable) Prepare(context.Context, *pb.PrepareRequest) (*pb.PrepareResponse, error) {
	return nil, u.err
}
func (u unreachable) Accept(context.Context, *pb.AcceptRequest) (*pb.AcceptResponse, error) {
	return nil, u.err
}
func (u unreachable) Learn(context.Context, *pb.LearnRequest) (*pb.LearnResponse, error) {
	return nil, u.err
}
func (u unreachable) Status(context.Context, *pb.StatusRequest) (*pb.StatusResponse, error) {
	return nil, u.err
}

// setOf returns the set that p, once chosen, names to decide the next
// slot: the founders if it names none. REQUIRES: r.mu held.
func (r *Replicated) setOf(p *pb.Proposal) []member {
	if len(p.GetNext()) == 0 {
		return r.founders
	}
	set := make([]member, 0, len(p.GetNext()))
	for _, x := range p.GetNext() {
		ref := AcceptorRef{ID: x.GetId(), Addr: x.GetAddr()}
		set = append(set, member{ref: ref, c: r.client(ref)})
	}
	return set
}

// client returns the client of the acceptor ref names: the founder of
// that id, else one dialed (and kept) by Config.Dial. REQUIRES: r.mu held.
func (r *Replicated) client(ref AcceptorRef) AcceptorClient {
	for _, f := range r.founders {
		if f.ref.ID == ref.ID {
			return f.c
		}
	}
	if c := r.mu.clients[ref]; c != nil {
		return c
	}
	if r.cfg.Dial == nil {
		return unreachable{fmt.Errorf("metastore: no way to dial acceptor %s at %s", ref.ID, ref.Addr)}
	}
	c, err := r.cfg.Dial(ref)
	if err != nil {
		// Not kept: the next use dials again.
		return unreachable{fmt.Errorf("metastore: dial acceptor %s: %w", ref.ID, err)}
	}
	r.mu.clients[ref] = c
	return c
}

// adopt records that p was chosen in slot, if slot is above every version
// the client knew. The set p names is installed before its first use.
func (r *Replicated) adopt(slot uint64, p *pb.Proposal) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.mu.known
	if slot <= old.version {
		return
	}
	set := r.setOf(p)
	// An unchanged set needs nothing new: a majority of it already knows
	// a version that names it (or it is the founders), from which a
	// reader reaches p one slot at a time.
	installed := old.installed && sameIDs(set, old.set)
	r.mu.known = view{version: slot, chosen: p, set: set, installed: installed}
}

// current returns what the client knows, after installing its set if
// that is not done: a majority of the set learns the value that named
// it, so that a reader that reaches only the new set still finds it, and
// every acceptor the set drops learns from its Learn that it is out. It
// fails, with ErrNoQuorum, only when ctx ends.
func (r *Replicated) current(ctx context.Context) (view, error) {
	for attempt := 0; ; attempt++ {
		r.mu.Lock()
		v := r.mu.known
		r.mu.Unlock()
		if v.installed {
			return v, nil
		}
		if attempt > 0 {
			if err := r.pause(ctx, attempt, v.version, "install"); err != nil {
				return view{}, err
			}
		}
		if !r.install(ctx, v) {
			continue
		}
		r.mu.Lock()
		if r.mu.known.version == v.version {
			r.mu.known.installed = true
		}
		r.mu.Unlock()
		r.cfg.Logger.Info("metastore: acceptor set installed", "version", v.version, "acceptors", v.refs())
	}
}

// install sends Learn(v) to every acceptor of v's set and reports whether
// a majority acknowledged it before the round's timeout or ctx ended.
// The Learns still under way then go on in the background (see Close),
// so that every live acceptor of the set learns v.
func (r *Replicated) install(ctx context.Context, v view) bool {
	req := &pb.LearnRequest{Slot: v.version, Proposal: v.chosen}
	acks := make(chan bool, len(v.set))
	for _, m := range v.set {
		r.learns.Add(1)
		go func() {
			defer r.learns.Done()
			lctx, cancel := context.WithTimeout(context.Background(), r.cfg.RPCTimeout)
			defer cancel()
			_, err := m.c.Learn(lctx, req)
			acks <- err == nil
		}()
	}
	q := paxos.Quorum(len(v.set))
	timeout := time.NewTimer(r.cfg.RPCTimeout)
	defer timeout.Stop()
	ok, failed := 0, 0
	for ok < q && failed <= len(v.set)-q {
		select {
		case a := <-acks:
			if a {
				ok++
			} else {
				failed++
			}
		case <-timeout.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
	return ok >= q
}
