package native

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"hourglass/internal/pebbledb"
	"hourglass/loglet"
)

// LogServer stores the entries of many loglets durably in one Pebble
// database. All writes (stores, seals, final tails, trims) go through one
// writer goroutine that commits whatever has queued up in one synced Pebble
// batch: concurrent appends share an fsync (group commit). Reads are served
// from Pebble and block until the requested position is known committed.
//
// A LogServer implements Server directly, which is the in-process transport.
type LogServer struct {
	db     *pebble.DB
	ownsDB bool
	log    *slog.Logger

	ops  chan *serverOp
	stop chan struct{}
	done chan struct{}

	fsyncs atomic.Uint64
	// onFsync, if set, is told how long each durable commit took.
	onFsync atomic.Pointer[func(time.Duration)]

	mu struct {
		sync.Mutex
		loglets map[LogletID]*serverLoglet
		closed  bool
		// failed is the disk failure that stopped the server's writes
		// (it wraps loglet.ErrStorageFailed), nil while it writes.
		failed error
	}
}

var _ Server = (*LogServer)(nil)

// serverLoglet is the LogServer's in-memory state of one loglet; status
// mirrors the loglet's durable meta record, plus the committed hint.
type serverLoglet struct {
	status Status
	// changed is closed and replaced when status changes, to wake readers.
	changed chan struct{}
	// recent caches the latest stored entries for readers at the tail.
	recent recentEntries
}

type opKind int

const (
	opStore opKind = iota
	opSeal
	opAccept
	opFinal
	opTrim
)

type serverOp struct {
	kind    opKind
	id      LogletID
	first   loglet.Position // opStore
	entries [][]byte        // opStore
	store   StoreOptions    // opStore
	pos     loglet.Position // opAccept, opFinal (tail), opTrim (trim point)
	ballot  Ballot          // opSeal, opAccept

	status Status // reply
	err    error  // reply
	done   chan struct{}
}

// maxOpsPerBatch bounds how many queued operations share one commit.
const maxOpsPerBatch = 1024

// OpenLogServer opens (creating if needed) a LogServer over db. If ownsDB
// is true, Close closes db too. The server's state is recovered from db.
func OpenLogServer(db *pebble.DB, ownsDB bool, log *slog.Logger) (*LogServer, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &LogServer{
		db:     db,
		ownsDB: ownsDB,
		log:    log,
		ops:    make(chan *serverOp, maxOpsPerBatch),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	s.mu.loglets = make(map[LogletID]*serverLoglet)
	if err := s.recover(); err != nil {
		return nil, err
	}
	go s.writeLoop()
	return s, nil
}

// OnFsync makes f hear how long each durable commit takes (for metrics).
func (s *LogServer) OnFsync(f func(time.Duration)) { s.onFsync.Store(&f) }

// recover loads every loglet's meta record.
func (s *LogServer) recover() error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixMeta}, UpperBound: []byte{prefixMeta + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		id, ok := parseMetaKey(it.Key())
		if !ok {
			return fmt.Errorf("native: bad meta key %x", it.Key())
		}
		st, err := decodeStatus(it.Value())
		if err != nil {
			return fmt.Errorf("native: loglet %d: %w", id, err)
		}
		s.mu.loglets[id] = &serverLoglet{status: st, changed: make(chan struct{})}
		s.log.Debug("recovered loglet", "loglet", id, "tail", st.LocalTail, "sealed", st.Sealed, "committed", st.Committed)
	}
	return it.Error()
}

// Failed returns the disk failure that stopped the server's writes: a
// commit whose write or fsync failed. It wraps loglet.ErrStorageFailed
// and the cause (syscall.ENOSPC for a full disk). The server then refuses
// every write (stores, seals, trims) with it and serves reads of what it
// had made durable; only reopening its database (a restart, which
// recovers what was synced) brings it back. nil while the server writes.
func (s *LogServer) Failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.failed
}

// Fsyncs returns how many synced commits the server has made, for
// benchmarks (fsyncs per append).
func (s *LogServer) Fsyncs() uint64 { return s.fsyncs.Load() }

// Close stops the writer goroutine; queued operations fail with
// loglet.ErrClosed and blocked readers return it.
func (s *LogServer) Close() error {
	s.mu.Lock()
	if s.mu.closed {
		s.mu.Unlock()
		return nil
	}
	s.mu.closed = true
	for _, l := range s.mu.loglets {
		l.notify()
	}
	s.mu.Unlock()
	close(s.stop)
	<-s.done
	if s.ownsDB {
		return s.db.Close()
	}
	return nil
}

// loglet returns the state of id, creating it empty. REQUIRES: s.mu held.
func (s *LogServer) logletLocked(id LogletID) *serverLoglet {
	l := s.mu.loglets[id]
	if l == nil {
		l = &serverLoglet{changed: make(chan struct{})}
		s.mu.loglets[id] = l
	}
	return l
}

func (l *serverLoglet) notify() {
	close(l.changed)
	l.changed = make(chan struct{})
}

func (s *LogServer) submit(ctx context.Context, op *serverOp) (Status, error) {
	op.done = make(chan struct{})
	select {
	case s.ops <- op:
	case <-s.stop:
		return Status{}, loglet.ErrClosed
	case <-ctx.Done():
		return Status{}, ctx.Err()
	}
	// Once queued, the op is carried out whatever ctx says; waiting for it
	// keeps the caller's view of the outcome exact.
	select {
	case <-op.done:
		return op.status, op.err
	case <-s.stop:
		<-s.done
		select {
		case <-op.done:
			return op.status, op.err
		default:
			return Status{}, loglet.ErrClosed
		}
	}
}

// Store implements Server.
func (s *LogServer) Store(ctx context.Context, id LogletID, first loglet.Position, entries [][]byte, o StoreOptions) (Status, error) {
	s.learn(id, o.Committed)
	return s.submit(ctx, &serverOp{kind: opStore, id: id, first: first, entries: entries, store: o})
}

// Seal implements Server.
func (s *LogServer) Seal(ctx context.Context, id LogletID, b Ballot) (Status, error) {
	return s.submit(ctx, &serverOp{kind: opSeal, id: id, ballot: b})
}

// Accept implements Server.
func (s *LogServer) Accept(ctx context.Context, id LogletID, b Ballot, tail loglet.Position) (Status, error) {
	return s.submit(ctx, &serverOp{kind: opAccept, id: id, ballot: b, pos: tail})
}

// SetFinal implements Server.
func (s *LogServer) SetFinal(ctx context.Context, id LogletID, tail loglet.Position) (Status, error) {
	return s.submit(ctx, &serverOp{kind: opFinal, id: id, pos: tail})
}

// Trim implements Server.
func (s *LogServer) Trim(ctx context.Context, id LogletID, pos loglet.Position) error {
	_, err := s.submit(ctx, &serverOp{kind: opTrim, id: id, pos: pos})
	return err
}

// Commit implements Server. The committed tail is a hint kept in memory and
// persisted with the next batch; it only ever moves forward.
func (s *LogServer) Commit(ctx context.Context, id LogletID, committed loglet.Position) (Status, error) {
	if err := s.learn(id, committed); err != nil {
		return Status{}, err
	}
	return s.GetStatus(ctx, id)
}

// learn raises the server's known committed tail of id to committed.
func (s *LogServer) learn(id LogletID, committed loglet.Position) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.closed {
		return loglet.ErrClosed
	}
	l := s.logletLocked(id)
	if committed > l.status.Committed && !l.status.Final {
		l.status.Committed = committed
		l.notify()
	}
	return nil
}

// GetStatus implements Server.
func (s *LogServer) GetStatus(ctx context.Context, id LogletID) (Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.closed {
		return Status{}, loglet.ErrClosed
	}
	return s.logletLocked(id).status, nil
}

// Read implements Server.
func (s *LogServer) Read(ctx context.Context, id LogletID, from loglet.Position, max int, o ReadOptions) ([][]byte, Status, error) {
	if max <= 0 {
		max = 1
	}
	if !o.Raw {
		if err := s.learn(id, o.Committed); err != nil {
			return nil, Status{}, err
		}
	}
	for {
		s.mu.Lock()
		if s.mu.closed {
			s.mu.Unlock()
			return nil, Status{}, loglet.ErrClosed
		}
		l := s.logletLocked(id)
		st := l.status
		changed := l.changed
		known := st.Committed
		if st.Final && st.FinalTail > known {
			known = st.FinalTail
		}
		if o.Raw && o.Committed > known {
			known = o.Committed
		}
		to := min(known, st.LocalTail, from+loglet.Position(max))
		var cached [][]byte
		if from >= st.Trim && from < to {
			cached = l.recent.read(from, to)
		}
		s.mu.Unlock()
		switch {
		case cached != nil:
			return cached, st, nil
		case from < st.Trim:
			return nil, st, loglet.ErrTrimmed
		case from < to:
			entries, err := s.readRange(id, from, to)
			if err != nil {
				return nil, st, err
			}
			if len(entries) == 0 {
				// Trimmed between the status check and the read.
				return nil, st, loglet.ErrTrimmed
			}
			return entries, st, nil
		case from < known:
			return nil, st, ErrNotHeld
		case st.Final && from >= st.FinalTail:
			return nil, st, loglet.ErrSealed
		case !o.Wait:
			return nil, st, nil
		}
		select {
		case <-ctx.Done():
			return nil, st, ctx.Err()
		case <-changed:
		}
	}
}

// readRange reads the stored entries [from, to), stopping early at a gap
// (which only a concurrent trim can cause).
func (s *LogServer) readRange(id LogletID, from, to loglet.Position) ([][]byte, error) {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: entryKey(id, from), UpperBound: entryKey(id, to)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out [][]byte
	want := from
	for it.First(); it.Valid(); it.Next() {
		if _, p, _ := parseEntryKey(it.Key()); p != want {
			break
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, err
		}
		out = append(out, append([]byte(nil), v...))
		want++
	}
	return out, it.Error()
}

// writeLoop is the only writer of the database. It drains queued
// operations into one batch, commits it with one fsync, then publishes the
// new state and replies.
func (s *LogServer) writeLoop() {
	defer close(s.done)
	var ops []*serverOp
	for {
		ops = ops[:0]
		select {
		case op := <-s.ops:
			ops = append(ops, op)
		case <-s.stop:
			s.failQueued()
			return
		}
	drain:
		for len(ops) < maxOpsPerBatch {
			select {
			case op := <-s.ops:
				ops = append(ops, op)
			default:
				break drain
			}
		}
		s.commit(ops)
	}
}

func (s *LogServer) failQueued() {
	for {
		select {
		case op := <-s.ops:
			op.err = loglet.ErrClosed
			close(op.done)
		default:
			return
		}
	}
}

// staging is what one batch does to one loglet: its status after the
// batch, and the entries the batch adds at firstAdded, firstAdded+1, ...
type staging struct {
	l          *serverLoglet
	status     Status
	firstAdded loglet.Position
	added      [][]byte
}

// commit stages ops in one batch, commits it durably and replies.
func (s *LogServer) commit(ops []*serverOp) {
	b := s.db.NewBatch()
	defer b.Close()
	staged := map[LogletID]*staging{}

	s.mu.Lock()
	if err := s.mu.failed; err != nil {
		s.mu.Unlock()
		s.failAll(ops, err)
		return
	}
	for _, op := range ops {
		st := staged[op.id]
		if st == nil {
			l := s.logletLocked(op.id)
			st = &staging{l: l, status: l.status}
			staged[op.id] = st
		}
		op.err = s.stage(b, st, op)
	}
	s.mu.Unlock()

	for id, st := range staged {
		if err := b.Set(metaKey(id), encodeStatus(st.status), nil); err != nil {
			s.failAll(ops, err)
			return
		}
	}
	start := time.Now()
	if err := pebbledb.Write(func() error { return b.Commit(pebble.Sync) }); err != nil {
		s.failDisk(ops, err)
		return
	}
	s.fsyncs.Add(1)
	if f := s.onFsync.Load(); f != nil {
		(*f)(time.Since(start))
	}

	s.mu.Lock()
	for _, st := range staged {
		l := st.l
		// Commit hints may have advanced while we wrote; keep the larger.
		st.status.Committed = max(st.status.Committed, l.status.Committed)
		l.status = st.status
		l.recent.add(st.firstAdded, st.added)
		l.recent.clip(l.status.Trim, l.status.LocalTail)
		l.notify()
	}
	for _, op := range ops {
		op.status = staged[op.id].l.status
	}
	s.mu.Unlock()
	for _, op := range ops {
		close(op.done)
	}
}

// failDisk stops the server's writes after the commit of ops failed with
// err. The batch is not retried: a failed fsync may have dropped the
// written pages while the kernel reports the next fsync clean, so nothing
// of it is acknowledged, now or later (Postgres learned this as
// "fsyncgate"). Readers keep the state published before it.
func (s *LogServer) failDisk(ops []*serverOp, err error) {
	if !errors.Is(err, pebbledb.ErrFailed) {
		// Pebble refused the batch before writing it (never a disk
		// error): only these operations fail.
		s.log.Error("log server commit refused", "err", err)
		s.failAll(ops, fmt.Errorf("%w: %v", loglet.ErrUnavailable, err))
		return
	}
	err = fmt.Errorf("%w: the log server's disk failed, and it takes no more writes until it restarts: %w", loglet.ErrStorageFailed, err)
	s.mu.Lock()
	s.mu.failed = err
	s.mu.Unlock()
	s.log.Error("log server stopped writing: a write or fsync of its database failed; nothing in the failed batch was acknowledged; reopening it (a restart) recovers what was synced", "err", err)
	s.failAll(ops, err)
}

func (s *LogServer) failAll(ops []*serverOp, err error) {
	for _, op := range ops {
		op.err = err
		close(op.done)
	}
}

// stage applies op to the staged state of its loglet and adds its writes
// to b. REQUIRES: s.mu held.
func (s *LogServer) stage(b *pebble.Batch, sg *staging, op *serverOp) error {
	st := &sg.status
	switch op.kind {
	case opStore:
		if st.Sealed && !op.store.Repair {
			return loglet.ErrSealed
		}
		if op.first > st.LocalTail {
			return fmt.Errorf("%w: store at %d, local tail %d", ErrGap, op.first, st.LocalTail)
		}
		// Entries below the local tail are a resend of what is already
		// held; skip them.
		for i, e := range op.entries {
			p := op.first + loglet.Position(i)
			if p < st.LocalTail {
				continue
			}
			if err := b.Set(entryKey(op.id, p), e, nil); err != nil {
				return err
			}
			if len(sg.added) == 0 {
				sg.firstAdded = p
			}
			sg.added = append(sg.added, e)
			st.LocalTail = p + 1
		}
	case opSeal:
		// Paxos phase 1 for the final tail; the seal bit is set whatever
		// the ballot. A refusal shows in the reply's Promised.
		st.Sealed = true
		acc := st.acceptor()
		acc.Prepare(op.ballot.paxos())
		st.setAcceptor(acc)
	case opAccept:
		acc := st.acceptor()
		if !acc.CanAccept(op.ballot.paxos()) {
			return nil // refused: the reply's Promised says why
		}
		if op.pos > st.LocalTail {
			return fmt.Errorf("%w: accept of tail %d beyond local tail %d", ErrGap, op.pos, st.LocalTail)
		}
		st.Sealed = true
		acc.Accept(op.ballot.paxos(), op.pos)
		st.setAcceptor(acc)
	case opFinal:
		if st.Final {
			if st.FinalTail != op.pos {
				s.log.Error("two final tails decided for one loglet", "loglet", op.id, "had", st.FinalTail, "new", op.pos)
				return fmt.Errorf("native: final tail already %d, not %d", st.FinalTail, op.pos)
			}
			return nil
		}
		if op.pos > st.LocalTail {
			return fmt.Errorf("%w: final tail %d beyond local tail %d", ErrGap, op.pos, st.LocalTail)
		}
		st.Sealed = true
		st.Final = true
		st.FinalTail = op.pos
	case opTrim:
		// A trim reaches at most what the server holds or, on a server
		// that lags, what it knows is committed: those positions are
		// trimmed on every replica (or will be) and nobody reads them
		// again, so the lagging server skips them. That is how it
		// catches up once the others trimmed what it lacks (see
		// Loglet.skipTrimmed); trimming never creates a position that
		// was not committed.
		pos := min(op.pos, max(st.LocalTail, st.Committed))
		if pos > st.Trim {
			if err := b.DeleteRange(entryKey(op.id, st.Trim), entryKey(op.id, pos), nil); err != nil {
				return err
			}
			st.Trim = pos
		}
		st.LocalTail = max(st.LocalTail, pos)
	}
	return nil
}

// recentEntries keeps the most recently stored entries of a loglet in
// memory, so that readers following the tail (the apply loop) are served
// without a trip through Pebble. It holds a contiguous window
// [first, first+len(entries)) ending at the local tail.
type recentEntries struct {
	first   loglet.Position
	entries [][]byte
	bytes   int
}

// Bounds of the recent-entries window per loglet.
const (
	recentMaxEntries = 4096
	recentMaxBytes   = 8 << 20
)

// add appends entries stored at first, first+1, ...; a window that does
// not continue at first starts over.
func (r *recentEntries) add(first loglet.Position, entries [][]byte) {
	if len(entries) == 0 {
		return
	}
	if first != r.first+loglet.Position(len(r.entries)) {
		r.reset(first)
	}
	for _, e := range entries {
		r.entries = append(r.entries, e)
		r.bytes += len(e)
	}
	drop := 0
	for len(r.entries)-drop > recentMaxEntries || (r.bytes > recentMaxBytes && len(r.entries)-drop > 1) {
		r.bytes -= len(r.entries[drop])
		drop++
	}
	if drop > 0 {
		// Reslicing from the front is amortized O(1): append copies only
		// the live part when it next grows the array.
		clear(r.entries[:drop])
		r.entries = r.entries[drop:]
		r.first += loglet.Position(drop)
	}
}

// clip keeps only the window's part within [lo, hi).
func (r *recentEntries) clip(lo, hi loglet.Position) {
	end := r.first + loglet.Position(len(r.entries))
	if hi < end {
		for _, e := range r.entries[max(hi, r.first)-r.first:] {
			r.bytes -= len(e)
		}
		r.entries = r.entries[:max(hi, r.first)-r.first]
	}
	if lo > r.first {
		n := min(lo-r.first, loglet.Position(len(r.entries)))
		for _, e := range r.entries[:n] {
			r.bytes -= len(e)
		}
		r.entries = r.entries[n:]
		r.first += n
	}
	if len(r.entries) == 0 {
		r.reset(hi)
	}
}

func (r *recentEntries) reset(first loglet.Position) {
	r.first, r.entries, r.bytes = first, nil, 0
}

// read returns copies of the window's entries in [from, to), or nil if the
// window does not start at or before from.
func (r *recentEntries) read(from, to loglet.Position) [][]byte {
	end := r.first + loglet.Position(len(r.entries))
	if from < r.first || from >= end {
		return nil
	}
	to = min(to, end)
	out := make([][]byte, 0, to-from)
	for _, e := range r.entries[from-r.first : to-r.first] {
		out = append(out, append([]byte(nil), e...))
	}
	return out
}

// Key layout: 'e' id(8) pos(8) -> entry; 'm' id(8) -> encoded Status.
const (
	prefixEntry = 'e'
	prefixMeta  = 'm'
)

func entryKey(id LogletID, p loglet.Position) []byte {
	k := make([]byte, 17)
	k[0] = prefixEntry
	binary.BigEndian.PutUint64(k[1:], uint64(id))
	binary.BigEndian.PutUint64(k[9:], p)
	return k
}

func parseEntryKey(k []byte) (LogletID, loglet.Position, bool) {
	if len(k) != 17 || k[0] != prefixEntry {
		return 0, 0, false
	}
	return LogletID(binary.BigEndian.Uint64(k[1:])), binary.BigEndian.Uint64(k[9:]), true
}

func metaKey(id LogletID) []byte {
	k := make([]byte, 9)
	k[0] = prefixMeta
	binary.BigEndian.PutUint64(k[1:], uint64(id))
	return k
}

func parseMetaKey(k []byte) (LogletID, bool) {
	if len(k) != 9 || k[0] != prefixMeta {
		return 0, false
	}
	return LogletID(binary.BigEndian.Uint64(k[1:])), true
}

const statusLen = 1 + 9*8

func encodeStatus(st Status) []byte {
	b := make([]byte, statusLen)
	if st.Sealed {
		b[0] |= 1
	}
	if st.Final {
		b[0] |= 2
	}
	if st.Accepted {
		b[0] |= 4
	}
	for i, v := range []uint64{
		st.LocalTail, st.Committed, st.FinalTail, st.Trim,
		st.Promised.Round, st.Promised.Node, st.AcceptedBallot.Round, st.AcceptedBallot.Node, st.AcceptedTail,
	} {
		binary.BigEndian.PutUint64(b[1+8*i:], v)
	}
	return b
}

func decodeStatus(b []byte) (Status, error) {
	if len(b) != statusLen {
		return Status{}, fmt.Errorf("meta record of %d bytes, want %d", len(b), statusLen)
	}
	u := func(i int) uint64 { return binary.BigEndian.Uint64(b[1+8*i:]) }
	return Status{
		Sealed:         b[0]&1 != 0,
		Final:          b[0]&2 != 0,
		Accepted:       b[0]&4 != 0,
		LocalTail:      u(0),
		Committed:      u(1),
		FinalTail:      u(2),
		Trim:           u(3),
		Promised:       Ballot{Round: u(4), Node: u(5)},
		AcceptedBallot: Ballot{Round: u(6), Node: u(7)},
		AcceptedTail:   u(8),
	}, nil
}
