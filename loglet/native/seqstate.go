package native

import (
	"errors"
	"fmt"
	"slices"

	"hourglass/internal/paxos"
	"hourglass/loglet"
	"hourglass/loglet/dedup"
)

// This file is the sequencer's state machine: a deterministic function of
// its state and one input event that returns the actions to carry out. It
// starts no goroutine, reads no clock and sends nothing; the driver in
// sequencer.go feeds it events (appends, replies from servers, timers) and
// does the IO its actions ask for, as etcd-io/raft's node drives its
// RawNode.

// ticket names one Append call waiting for the sequencer's answer. The
// driver picks them, unique per sequencer.
type ticket uint64

// seqEvent is an input of the state machine.
type seqEvent interface{ isSeqEvent() }

// Events.
type (
	// evAppend is an Append call; entries are the sequencer's own copy.
	evAppend struct {
		t       ticket
		id      loglet.AppendID
		entries [][]byte
	}
	// evExpire: the Append call t stopped waiting (its context ended).
	evExpire struct{ t ticket }
	// evStored is a server's answer to the actStore or actCatchUp it was
	// given.
	evStored struct {
		server int
		st     Status
		err    error
	}
	// evNoticed is a server's answer to the actNotify it was given.
	evNoticed struct {
		server int
		st     Status
		err    error
	}
	// evRetry: the actBackoff of a server ended.
	evRetry struct{ server int }
	// evSeal: a sealer of the loglet began in this process.
	evSeal struct{}
	// evClose: the handle is closing; the state machine takes no more
	// events.
	evClose struct{}
)

func (evAppend) isSeqEvent()  {}
func (evExpire) isSeqEvent()  {}
func (evStored) isSeqEvent()  {}
func (evNoticed) isSeqEvent() {}
func (evRetry) isSeqEvent()   {}
func (evSeal) isSeqEvent()    {}
func (evClose) isSeqEvent()   {}

// seqAction is an output of the state machine. Each action addressed to a
// server is answered by exactly one event for that server; a server is
// given one action at a time.
type seqAction interface{ isSeqAction() }

// Actions.
type (
	// actStore: Store entries at first on the server, telling it that
	// committed is committed; answer with evStored.
	actStore struct {
		server    int
		first     loglet.Position
		entries   [][]byte
		committed loglet.Position
	}
	// actCatchUp: the server lacks committed entries that already left
	// the queue: copy [from, to) from the other servers onto it (all of
	// it is committed) and answer with evStored.
	actCatchUp struct {
		server   int
		from, to loglet.Position
	}
	// actNotify: tell the server that committed is committed (Commit);
	// answer with evNoticed.
	actNotify struct {
		server    int
		committed loglet.Position
	}
	// actBackoff: wait before retrying the server after its attempt-th
	// consecutive failure (0 for the first); answer with evRetry.
	actBackoff struct {
		server  int
		attempt int
	}
	// actReply answers the Append call t. expired says it answers the
	// call's evExpire.
	actReply struct {
		t       ticket
		pos     loglet.Position
		err     error
		expired bool
	}
	// actDown: the server failed after answering before (for the log).
	actDown struct {
		server int
		err    error
	}
	// actUp: the server answered after failing.
	actUp struct{ server int }
)

func (actStore) isSeqAction()   {}
func (actCatchUp) isSeqAction() {}
func (actNotify) isSeqAction()  {}
func (actBackoff) isSeqAction() {}
func (actReply) isSeqAction()   {}
func (actDown) isSeqAction()    {}
func (actUp) isSeqAction()      {}

// seqLimits bound the sequencer's work.
type seqLimits struct {
	// batchBytes bounds the entry bytes of one Store.
	batchBytes int
	// queueEntries and queueBytes bound the appends waiting to commit.
	queueEntries, queueBytes int
}

// seqAppend is one append in the queue: waiting for a position, or
// positioned and sent to at least one server, not yet committed.
type seqAppend struct {
	id      loglet.AppendID
	entries [][]byte
	bytes   int
	// pos is the first position, once positioned. An append is given its
	// position when it first goes into a store, so appends that never
	// left the queue can be dropped without leaving a gap.
	pos        loglet.Position
	positioned bool
	// tickets are the Append calls waiting for it (a retry with the same
	// id joins the original).
	tickets []ticket
	// pending counts the stores including it that have not answered.
	pending int
	// maybeStored: a server may hold it (a store including it succeeded
	// or its outcome is unknown).
	maybeStored bool
}

func (a *seqAppend) end() loglet.Position { return a.pos + loglet.Position(len(a.entries)) }

// callKind is what a server was given and has not answered.
type callKind int

const (
	callNone callKind = iota
	callStore
	callNotify
	callBackoff
)

// seqServer is the sequencer's view of one server.
type seqServer struct {
	// sent is where the next store to the server starts: its local tail
	// as last reported.
	sent loglet.Position
	// acked is the highest local tail the server reported.
	acked loglet.Position
	// notified is the highest committed tail the server was told.
	notified loglet.Position
	call     callKind
	// batch holds the appends in the store under way, and committed the
	// committed tail that store or notice carries.
	batch     []*seqAppend
	committed loglet.Position
	// failures counts the server's consecutive failed calls.
	failures int
	// diskFailed: the server reported loglet.ErrStorageFailed, which
	// lasts until it restarts (and the sequencer with it, in process).
	diskFailed bool
}

// seqState is the sequencer's state. It assigns positions, batches the
// queue into stores to every server (one call at a time per server), and
// commits what a majority holds. It is not safe for concurrent use: the
// driver's goroutine owns it.
type seqState struct {
	quorum  int
	limits  seqLimits
	servers []seqServer
	// next is the first position not given to an append.
	next      loglet.Position
	committed loglet.Position
	// queue holds the appends not committed yet in order: the positioned
	// ones, then those waiting for a position. entries and bytes are its
	// totals.
	queue          []*seqAppend
	entries, bytes int
	byID           map[loglet.AppendID]*seqAppend
	byTicket       map[ticket]*seqAppend
	ids            *dedup.Window
	sealed, closed bool
	// stuck is the storage failure that leaves fewer than a quorum of
	// servers able to write: no append can commit any more, so appends
	// fail at once with it instead of waiting for their callers to give
	// up.
	stuck error

	out     []seqAction
	scratch []loglet.Position
}

// newSeqState returns the state of a sequencer over n servers whose
// positions start at start (every server holds everything below start).
func newSeqState(n int, start loglet.Position, sealed bool, limits seqLimits) *seqState {
	s := &seqState{
		quorum:    paxos.Quorum(n),
		limits:    limits,
		servers:   make([]seqServer, n),
		next:      start,
		committed: start,
		byID:      make(map[loglet.AppendID]*seqAppend),
		byTicket:  make(map[ticket]*seqAppend),
		ids:       dedup.New(0),
		sealed:    sealed,
	}
	for i := range s.servers {
		s.servers[i] = seqServer{sent: start, acked: start, notified: start}
	}
	return s
}

// step applies one event and returns the actions it calls for, in order.
// The returned slice is valid until the next step.
func (s *seqState) step(ev seqEvent) []seqAction {
	s.out = s.out[:0]
	if s.closed {
		if e, ok := ev.(evAppend); ok {
			s.reply(e.t, 0, loglet.ErrClosed)
		}
		return s.out
	}
	switch e := ev.(type) {
	case evAppend:
		s.append(e)
	case evExpire:
		s.expire(e.t)
	case evStored:
		s.stored(e)
	case evNoticed:
		s.noticed(e)
	case evRetry:
		if sv := &s.servers[e.server]; sv.call == callBackoff {
			sv.call = callNone
		}
	case evSeal:
		s.sealed = true
	case evClose:
		s.close()
		return s.out
	}
	if s.sealed {
		s.failUnsent()
	} else if s.stuck != nil {
		s.failStuck()
	}
	for i := range s.servers {
		s.pump(i)
	}
	return s.out
}

func (s *seqState) reply(t ticket, pos loglet.Position, err error) {
	s.out = append(s.out, actReply{t: t, pos: pos, err: err})
}

// answer replies to every call waiting for a and forgets them.
func (s *seqState) answer(a *seqAppend, pos loglet.Position, err error) {
	for _, t := range a.tickets {
		delete(s.byTicket, t)
		s.reply(t, pos, err)
	}
	a.tickets = nil
}

func (s *seqState) append(e evAppend) {
	if p, ok := s.ids.Lookup(e.id); ok {
		s.reply(e.t, p, nil)
		return
	}
	if a := s.byID[e.id]; a != nil {
		a.tickets = append(a.tickets, e.t)
		s.byTicket[e.t] = a
		return
	}
	if s.sealed {
		s.reply(e.t, 0, loglet.ErrSealed)
		return
	}
	if s.stuck != nil {
		s.reply(e.t, 0, s.stuck)
		return
	}
	a := &seqAppend{id: e.id, entries: e.entries, tickets: []ticket{e.t}}
	for _, x := range e.entries {
		a.bytes += len(x)
	}
	// An append alone in the queue is taken whatever its size, so that
	// every append can be made eventually.
	if len(s.queue) > 0 && (s.entries+len(a.entries) > s.limits.queueEntries || s.bytes+a.bytes > s.limits.queueBytes) {
		s.reply(e.t, 0, ErrQueueFull)
		return
	}
	s.queue = append(s.queue, a)
	s.entries += len(a.entries)
	s.bytes += a.bytes
	if !e.id.IsZero() {
		s.byID[e.id] = a
	}
	s.byTicket[e.t] = a
}

// expire answers a call that stopped waiting. An append no server was
// ever sent, with nobody else waiting for it, leaves the queue for good:
// the call learns it failed. Otherwise the call learns that the outcome is
// unknown, and the append goes on for the others (or for a retry).
func (s *seqState) expire(t ticket) {
	a := s.byTicket[t]
	if a == nil {
		return // answered already
	}
	delete(s.byTicket, t)
	a.tickets = slices.DeleteFunc(a.tickets, func(x ticket) bool { return x == t })
	err := loglet.ErrOutcomeUnknown
	if !a.positioned && len(a.tickets) == 0 {
		s.remove(a)
		err = ErrAppendExpired
	}
	s.out = append(s.out, actReply{t: t, err: err, expired: true})
}

// remove takes a out of the queue.
func (s *seqState) remove(a *seqAppend) {
	if i := slices.Index(s.queue, a); i >= 0 {
		s.queue = slices.Delete(s.queue, i, i+1)
	}
	s.forget(a)
}

// forget drops a's bookkeeping once it left the queue.
func (s *seqState) forget(a *seqAppend) {
	s.entries -= len(a.entries)
	s.bytes -= a.bytes
	if !a.id.IsZero() && s.byID[a.id] == a {
		delete(s.byID, a.id)
	}
}

func (s *seqState) stored(e evStored) {
	sv := &s.servers[e.server]
	if sv.call != callStore {
		return
	}
	sv.call = callNone
	// Stored, or perhaps stored: only a definite refusal says no.
	definite := errors.Is(e.err, loglet.ErrSealed) || errors.Is(e.err, ErrGap)
	for _, a := range sv.batch {
		a.pending--
		a.maybeStored = a.maybeStored || !definite
	}
	clear(sv.batch)
	sv.batch = sv.batch[:0]
	switch {
	case e.err == nil:
		s.up(e.server)
		sv.sent = max(sv.sent, e.st.LocalTail)
		sv.acked = max(sv.acked, e.st.LocalTail)
		sv.notified = max(sv.notified, sv.committed)
		s.advance()
	case errors.Is(e.err, loglet.ErrSealed):
		s.up(e.server)
		s.sealed = true
	case errors.Is(e.err, ErrGap):
		s.up(e.server)
		sv.sent = e.st.LocalTail
	default:
		if errors.Is(e.err, loglet.ErrStorageFailed) {
			s.diskFailed(e.server, e.err)
		}
		s.down(e.server, e.err)
	}
}

// diskFailed notes that server i's disk failed; once fewer than a quorum
// of servers can write, the sequencer is stuck with err.
func (s *seqState) diskFailed(i int, err error) {
	s.servers[i].diskFailed = true
	writable := 0
	for _, sv := range s.servers {
		if !sv.diskFailed {
			writable++
		}
	}
	if writable < s.quorum && s.stuck == nil {
		s.stuck = err
	}
}

func (s *seqState) noticed(e evNoticed) {
	sv := &s.servers[e.server]
	if sv.call != callNotify {
		return
	}
	sv.call = callNone
	if e.err != nil {
		s.down(e.server, e.err)
		return
	}
	s.up(e.server)
	sv.notified = max(sv.notified, sv.committed)
	if e.st.Sealed {
		s.sealed = true
	}
}

// down notes a failed call: the server is retried after a backoff, while
// the majority carries on without it. The first failure of an outage is
// reported, not every retry.
func (s *seqState) down(i int, err error) {
	sv := &s.servers[i]
	if sv.failures == 0 {
		s.out = append(s.out, actDown{server: i, err: err})
	}
	sv.call = callBackoff
	s.out = append(s.out, actBackoff{server: i, attempt: sv.failures})
	sv.failures++
}

// up notes an answer from server i.
func (s *seqState) up(i int) {
	if s.servers[i].failures > 0 {
		s.out = append(s.out, actUp{server: i})
	}
	s.servers[i].failures = 0
}

// advance recomputes the committed tail (the highest position a majority
// holds) and acknowledges the appends below it.
func (s *seqState) advance() {
	acked := s.scratch[:0]
	for _, sv := range s.servers {
		acked = append(acked, sv.acked)
	}
	slices.Sort(acked)
	s.scratch = acked
	c := min(acked[len(acked)-s.quorum], s.next)
	if c <= s.committed {
		return
	}
	s.committed = c
	n := 0
	for _, a := range s.queue {
		if !a.positioned || a.end() > c {
			break
		}
		s.ids.Remember(a.id, a.pos)
		s.answer(a, a.pos, nil)
		s.forget(a)
		n++
	}
	clear(s.queue[:n])
	s.queue = s.queue[n:]
}

// failUnsent fails, once the loglet is sealed, every queued append with no
// store under way: with loglet.ErrSealed if no server can hold it, with an
// OutcomeUnknownError otherwise (a sealer's repair may still make it part
// of the log). Appends with stores under way are decided when those
// answer.
func (s *seqState) failUnsent() {
	keep := s.queue[:0]
	for _, a := range s.queue {
		if a.pending > 0 {
			keep = append(keep, a)
			continue
		}
		var err error = loglet.ErrSealed
		if a.maybeStored {
			err = &loglet.OutcomeUnknownError{First: a.pos, N: len(a.entries), Cause: errSealedMidway}
		}
		s.answer(a, 0, err)
		s.forget(a)
	}
	clear(s.queue[len(keep):])
	s.queue = keep
}

// failStuck fails, once too many servers' disks failed, every queued
// append with no store under way: with the storage error if no server
// was sent it, else as an unknown outcome (a server may hold it, and a
// restarted server recovers what it had synced). Appends with stores
// under way are decided when those answer.
func (s *seqState) failStuck() {
	keep := s.queue[:0]
	for _, a := range s.queue {
		if a.pending > 0 {
			keep = append(keep, a)
			continue
		}
		err := s.stuck
		if a.maybeStored {
			err = fmt.Errorf("%w: %w", loglet.ErrOutcomeUnknown, s.stuck)
		}
		s.answer(a, 0, err)
		s.forget(a)
	}
	clear(s.queue[len(keep):])
	s.queue = keep
}

// close fails every queued append as an unknown outcome (matching
// loglet.ErrClosed too): what a closing handle leaves is reported
// conservatively, whether or not a server was sent it.
func (s *seqState) close() {
	s.closed = true
	err := fmt.Errorf("%w: %w", loglet.ErrOutcomeUnknown, loglet.ErrClosed)
	for _, a := range s.queue {
		s.answer(a, 0, err)
		s.forget(a)
	}
	s.queue = nil
}

// pump gives server i its next call if it has none: the committed entries
// it lacks, or a batch of the queue, or else news of the committed tail.
func (s *seqState) pump(i int) {
	sv := &s.servers[i]
	if sv.call != callNone {
		return
	}
	start := s.next
	if len(s.queue) > 0 && s.queue[0].positioned {
		start = s.queue[0].pos
	}
	// A server lags when it misses committed entries that already left
	// the queue.
	lagging := sv.sent < s.committed && sv.sent < start
	switch {
	case lagging && s.sealed:
		// Its stores would be refused; the sealer repairs it.
	case lagging:
		sv.call, sv.committed = callStore, s.committed
		s.out = append(s.out, actCatchUp{server: i, from: sv.sent, to: s.committed})
	case !s.sealed && s.stuck == nil && s.batch(i):
	case sv.notified < s.committed:
		sv.call, sv.committed = callNotify, s.committed
		s.out = append(s.out, actNotify{server: i, committed: s.committed})
	}
}

// batch gives server i a store of what the queue holds from its sent
// position on, up to the batch limit, positioning the appends that had no
// position yet. It reports whether there was anything to send.
func (s *seqState) batch(i int) bool {
	sv := &s.servers[i]
	from := sv.sent
	var entries [][]byte
	size := 0
	for _, a := range s.queue {
		if a.positioned && a.end() <= from {
			continue
		}
		if len(entries) > 0 && size+a.bytes > s.limits.batchBytes {
			break
		}
		at := from + loglet.Position(len(entries))
		if !a.positioned && at == s.next {
			a.pos, a.positioned = s.next, true
			s.next += loglet.Position(len(a.entries))
		}
		if !a.positioned || a.pos > at {
			break // a hole: cannot be, what the server lacks is contiguous
		}
		entries = append(entries, a.entries[at-a.pos:]...)
		size += a.bytes
		a.pending++
		sv.batch = append(sv.batch, a)
	}
	if len(entries) == 0 {
		return false
	}
	sv.call, sv.committed = callStore, s.committed
	s.out = append(s.out, actStore{server: i, first: from, entries: entries, committed: s.committed})
	return true
}
