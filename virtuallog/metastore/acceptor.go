package metastore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"hourglass/internal/pebbledb"
	pb "hourglass/virtuallog/metastore/metastorepb"
)

// ErrAcceptorClosed: the Acceptor was closed and answers no more requests.
var ErrAcceptorClosed = errors.New("metastore: acceptor closed")

// ErrAcceptorFailed: a write or fsync of the Acceptor's database failed;
// it answers no more requests until its process restarts.
var ErrAcceptorFailed = errors.New("metastore: acceptor's disk failed")

// RetainedSlots is how many of the latest chosen slots an Acceptor keeps
// once it learns a chosen slot: slots below chosen-RetainedSlots+1 are
// dropped. Keeping a few lets a slow writer still find out whether its
// value was chosen for a slot that others have since moved past.
const RetainedSlots = 16

// Keys of the acceptor's state, all under "paxos/".
var (
	// slotPrefix + slot (8 bytes, big endian) holds a pb.SlotRecord.
	slotPrefix = []byte("paxos/slot/")
	// slotEnd bounds the slot keys from above.
	slotEnd = []byte("paxos/slot0")
	// floorKey holds the lowest kept slot (8 bytes, big endian).
	floorKey = []byte("paxos/floor")
)

func slotKey(slot uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(nil), slotPrefix...), slot)
}

// Acceptor is one replica of the Replicated register: the acceptor role of
// single-decree Paxos, one instance per register version ("slot"). Its
// state lives in a Pebble database under the "paxos/" prefix, and every
// promise, acceptance and learned value is fsynced before the reply.
//
// Acceptor implements the generated metastorepb.AcceptorServer (serve it
// with RegisterAcceptor) and AcceptorClient, so that a Replicated in the
// same process can call it directly. It is safe for concurrent use; requests
// are applied one at a time. It does not retain requests after a call
// returns; a response may alias the request's messages.
type Acceptor struct {
	// UnimplementedAcceptorServer answers RPCs this version lacks.
	pb.UnimplementedAcceptorServer

	db *pebble.DB
	// id is the acceptor's name in the sets that chosen proposals name;
	// "" means unnamed, and then the acceptor never considers itself
	// removed.
	id string

	mu struct {
		sync.Mutex
		// closed is set by Close.
		closed bool
		// failed is the write or fsync error after which the acceptor
		// answers nothing: its database may show a promise or an
		// acceptance that is not durable, which a restart could take
		// back (see pebbledb.ErrFailed).
		failed error
		// info is the summary reported in every response; it mirrors
		// what is durable in db.
		info slotInfo
		// retired: the set named by the proposal chosen at
		// info.chosenSlot does not hold this acceptor, which then takes
		// no part in any later slot.
		retired bool
	}
}

// slotInfo is the in-memory form of pb.SlotInfo.
type slotInfo struct {
	maxSlot, chosenSlot, floor uint64
}

func (s slotInfo) proto() *pb.SlotInfo {
	return &pb.SlotInfo{MaxSlot: s.maxSlot, ChosenSlot: s.chosenSlot, Floor: s.floor}
}

var (
	_ AcceptorClient    = (*Acceptor)(nil)
	_ pb.AcceptorServer = (*Acceptor)(nil)
)

// NewAcceptor returns the Acceptor called id over db, recovering the state
// a previous Acceptor left there. id is its name in the acceptor sets the
// register's values name (a node id); "" leaves it unnamed. The caller
// keeps ownership of db and closes it after Close.
func NewAcceptor(db *pebble.DB, id string) (*Acceptor, error) {
	a := &Acceptor{db: db, id: id}
	v, closer, err := db.Get(floorKey)
	switch {
	case err == nil:
		if len(v) != 8 {
			closer.Close()
			return nil, fmt.Errorf("metastore: corrupt acceptor floor of %d bytes", len(v))
		}
		a.mu.info.floor = binary.BigEndian.Uint64(v)
		closer.Close()
	case !errors.Is(err, pebble.ErrNotFound):
		return nil, err
	}
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: slotKey(a.mu.info.floor), UpperBound: slotEnd})
	if err != nil {
		return nil, err
	}
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != len(slotPrefix)+8 {
			it.Close()
			return nil, fmt.Errorf("metastore: corrupt acceptor key %q", k)
		}
		slot := binary.BigEndian.Uint64(k[len(slotPrefix):])
		var rec pb.SlotRecord
		if err := proto.Unmarshal(it.Value(), &rec); err != nil {
			it.Close()
			return nil, fmt.Errorf("metastore: corrupt record of slot %d: %w", slot, err)
		}
		if rec.Accepted != nil {
			a.mu.info.maxSlot = slot
		}
		if rec.Chosen {
			a.mu.info.chosenSlot = slot
			a.mu.retired = a.removedBy(rec.Accepted)
		}
	}
	if err := it.Close(); err != nil {
		return nil, err
	}
	return a, nil
}

// removedBy reports whether p, once chosen, removes this acceptor: it
// names a set without it. An empty set (the founders) removes nobody.
func (a *Acceptor) removedBy(p *pb.Proposal) bool {
	if a.id == "" || len(p.GetNext()) == 0 {
		return false
	}
	for _, r := range p.GetNext() {
		if r.GetId() == a.id {
			return false
		}
	}
	return true
}

// superseded reports whether this acceptor must stay out of slot: it
// learned that a set without it decides the slots after its highest
// chosen one. REQUIRES: a.mu held.
func (a *Acceptor) superseded(slot uint64) bool {
	return a.mu.retired && slot > a.mu.info.chosenSlot
}

// RegisterAcceptor registers a as the Acceptor service of s.
func RegisterAcceptor(s *grpc.Server, a *Acceptor) { pb.RegisterAcceptorServer(s, a) }

// Close makes every later call fail with ErrAcceptorClosed; it waits for
// the call in progress, if any. It does not close the database. Close is
// idempotent.
func (a *Acceptor) Close() {
	a.mu.Lock()
	a.mu.closed = true
	a.mu.Unlock()
}

// Failed returns the disk failure that stopped the acceptor (it wraps
// ErrAcceptorFailed), nil while its disk works.
func (a *Acceptor) Failed() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.mu.failed
}

// Prepare promises req.Ballot for req.Slot unless a higher ballot was
// promised there, and reports the slot's accepted proposal. A new promise
// is fsynced before Prepare returns. An acceptor removed from the set
// that decides req.Slot answers superseded and promises nothing.
func (a *Acceptor) Prepare(ctx context.Context, req *pb.PrepareRequest) (*pb.PrepareResponse, error) {
	if err := checkRequest(req.GetSlot(), req.GetBallot(), nil, false); err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.ready(ctx); err != nil {
		return nil, err
	}
	if req.Slot < a.mu.info.floor {
		return &pb.PrepareResponse{Compacted: true, Info: a.mu.info.proto()}, nil
	}
	if a.superseded(req.Slot) {
		return &pb.PrepareResponse{Superseded: true, Info: a.mu.info.proto()}, nil
	}
	rec, err := a.load(req.Slot)
	if err != nil {
		return nil, err
	}
	ok, changed := promise(rec, req.Ballot)
	if changed {
		if err := a.store(req.Slot, rec); err != nil {
			return nil, err
		}
	}
	return &pb.PrepareResponse{
		Ok:             ok,
		Promised:       rec.Promised,
		AcceptedBallot: rec.AcceptedBallot,
		Accepted:       rec.Accepted,
		Chosen:         rec.Chosen,
		Info:           a.mu.info.proto(),
	}, nil
}

// Accept accepts req.Proposal at req.Ballot for req.Slot unless a higher
// ballot was promised there. The acceptance is fsynced before Accept
// returns. A removed acceptor answers superseded, as Prepare does.
func (a *Acceptor) Accept(ctx context.Context, req *pb.AcceptRequest) (*pb.AcceptResponse, error) {
	if err := checkRequest(req.GetSlot(), req.GetBallot(), req.GetProposal(), true); err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.ready(ctx); err != nil {
		return nil, err
	}
	if req.Slot < a.mu.info.floor {
		return &pb.AcceptResponse{Compacted: true, Info: a.mu.info.proto()}, nil
	}
	if a.superseded(req.Slot) {
		return &pb.AcceptResponse{Superseded: true, Info: a.mu.info.proto()}, nil
	}
	rec, err := a.load(req.Slot)
	if err != nil {
		return nil, err
	}
	ok, changed := accept(rec, req.Ballot, req.Proposal)
	if changed {
		if err := a.store(req.Slot, rec); err != nil {
			return nil, err
		}
		a.mu.info.maxSlot = max(a.mu.info.maxSlot, req.Slot)
	}
	return &pb.AcceptResponse{Ok: ok, Promised: rec.Promised, Info: a.mu.info.proto()}, nil
}

// Learn records that req.Proposal was chosen for req.Slot. If that is the
// highest slot known chosen, the slots more than RetainedSlots below it are
// dropped in the same fsynced write. The caller must only pass a proposal
// a majority accepted at one ballot.
func (a *Acceptor) Learn(ctx context.Context, req *pb.LearnRequest) (*pb.LearnResponse, error) {
	if err := checkRequest(req.GetSlot(), nil, req.GetProposal(), true); err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.ready(ctx); err != nil {
		return nil, err
	}
	if req.Slot < a.mu.info.floor {
		return &pb.LearnResponse{}, nil
	}
	rec, err := a.load(req.Slot)
	if err != nil {
		return nil, err
	}
	if !learn(rec, req.Proposal) {
		return &pb.LearnResponse{}, nil
	}
	info := a.mu.info
	info.maxSlot = max(info.maxSlot, req.Slot)
	info.chosenSlot = max(info.chosenSlot, req.Slot)
	b := a.db.NewBatch()
	defer b.Close()
	v, err := proto.MarshalOptions{Deterministic: true}.Marshal(rec)
	if err != nil {
		return nil, err
	}
	if err := b.Set(slotKey(req.Slot), v, nil); err != nil {
		return nil, err
	}
	if info.chosenSlot >= RetainedSlots && info.chosenSlot-RetainedSlots+1 > info.floor {
		newFloor := info.chosenSlot - RetainedSlots + 1
		if err := b.DeleteRange(slotKey(info.floor), slotKey(newFloor), nil); err != nil {
			return nil, err
		}
		if err := b.Set(floorKey, binary.BigEndian.AppendUint64(nil, newFloor), nil); err != nil {
			return nil, err
		}
		info.floor = newFloor
	}
	if err := a.commit(func() error { return b.Commit(pebble.Sync) }); err != nil {
		return nil, err
	}
	if info.chosenSlot == req.Slot {
		a.mu.retired = a.removedBy(rec.Accepted)
	}
	a.mu.info = info
	return &pb.LearnResponse{}, nil
}

// Status reports the acceptor's highest slots and the proposal chosen at
// the highest slot it knows chosen.
func (a *Acceptor) Status(ctx context.Context, req *pb.StatusRequest) (*pb.StatusResponse, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.ready(ctx); err != nil {
		return nil, err
	}
	resp := &pb.StatusResponse{Info: a.mu.info.proto()}
	if a.mu.info.chosenSlot > 0 {
		rec, err := a.load(a.mu.info.chosenSlot)
		if err != nil {
			return nil, err
		}
		resp.Chosen = rec.Accepted
	}
	return resp, nil
}

// checkRequest validates the fields a request must carry.
func checkRequest(slot uint64, b *pb.Ballot, p *pb.Proposal, needProposal bool) error {
	switch {
	case slot == 0:
		return errors.New("metastore: slot 0 is not a version")
	case b != nil && b.Round == 0:
		return errors.New("metastore: ballot round 0")
	case needProposal && p == nil:
		return errors.New("metastore: missing proposal")
	}
	return nil
}

// ready reports whether a request may proceed. REQUIRES: a.mu held.
func (a *Acceptor) ready(ctx context.Context) error {
	if a.mu.closed {
		return ErrAcceptorClosed
	}
	if a.mu.failed != nil {
		return a.mu.failed
	}
	return ctx.Err()
}

// load reads a slot's record; an absent one is empty. REQUIRES: a.mu held.
func (a *Acceptor) load(slot uint64) (*pb.SlotRecord, error) {
	rec := &pb.SlotRecord{}
	v, closer, err := a.db.Get(slotKey(slot))
	if errors.Is(err, pebble.ErrNotFound) {
		return rec, nil
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	if err := proto.Unmarshal(v, rec); err != nil {
		return nil, fmt.Errorf("metastore: corrupt record of slot %d: %w", slot, err)
	}
	return rec, nil
}

// store writes a slot's record with fsync. REQUIRES: a.mu held.
func (a *Acceptor) store(slot uint64, rec *pb.SlotRecord) error {
	v, err := proto.MarshalOptions{Deterministic: true}.Marshal(rec)
	if err != nil {
		return err
	}
	return a.commit(func() error { return a.db.Set(slotKey(slot), v, pebble.Sync) })
}

// commit runs f, a synced write; a disk failure stops the acceptor for
// good (until its process restarts). REQUIRES: a.mu held.
func (a *Acceptor) commit(f func() error) error {
	err := pebbledb.Write(f)
	if errors.Is(err, pebbledb.ErrFailed) {
		a.mu.failed = fmt.Errorf("%w: %w", ErrAcceptorFailed, err)
		return a.mu.failed
	}
	return err
}
