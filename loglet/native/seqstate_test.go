package native

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"hourglass/loglet"
)

// These tests drive the sequencer's state machine one event at a time and
// compare the actions it asks for with a script: no goroutines, no
// servers, no clocks.

var errNet = errors.New("injected: connection refused")

// render spells an action the way the scripts below expect it.
func render(a seqAction) string {
	switch a := a.(type) {
	case actStore:
		return fmt.Sprintf("store s%d [%d,%d) %q c=%d", a.server, a.first, a.first+loglet.Position(len(a.entries)), a.entries, a.committed)
	case actCatchUp:
		return fmt.Sprintf("catchup s%d [%d,%d)", a.server, a.from, a.to)
	case actNotify:
		return fmt.Sprintf("notify s%d c=%d", a.server, a.committed)
	case actBackoff:
		return fmt.Sprintf("backoff s%d #%d", a.server, a.attempt)
	case actDown:
		return fmt.Sprintf("down s%d", a.server)
	case actUp:
		return fmt.Sprintf("up s%d", a.server)
	case actReply:
		s := fmt.Sprintf("reply t%d ", a.t)
		var ue *loglet.OutcomeUnknownError
		switch {
		case a.err == nil:
			s += fmt.Sprintf("pos=%d", a.pos)
		case errors.As(a.err, &ue):
			s += fmt.Sprintf("unknown@[%d,%d)", ue.First, ue.First+loglet.Position(ue.N))
		case errors.Is(a.err, loglet.ErrOutcomeUnknown) && errors.Is(a.err, loglet.ErrStorageFailed):
			s += "unknown(storage)"
		case errors.Is(a.err, loglet.ErrStorageFailed):
			s += "storage-failed"
		case errors.Is(a.err, loglet.ErrOutcomeUnknown) && errors.Is(a.err, loglet.ErrClosed):
			s += "unknown(closed)"
		case errors.Is(a.err, loglet.ErrOutcomeUnknown):
			s += "unknown"
		case errors.Is(a.err, ErrAppendExpired):
			s += "expired"
		case errors.Is(a.err, ErrQueueFull):
			s += "queue-full"
		case errors.Is(a.err, loglet.ErrSealed):
			s += "sealed"
		case errors.Is(a.err, loglet.ErrClosed):
			s += "closed"
		default:
			s += "err=" + a.err.Error()
		}
		if a.expired {
			s += " (on expiry)"
		}
		return s
	}
	return fmt.Sprintf("%T", a)
}

// script steps a state machine and checks each step's actions.
type script struct {
	t *testing.T
	s *seqState
}

func newScript(t *testing.T, servers int, limits seqLimits) *script {
	if limits == (seqLimits{}) {
		limits = seqLimits{batchBytes: 1 << 20, queueEntries: 1 << 10, queueBytes: 1 << 20}
	}
	return &script{t: t, s: newSeqState(servers, 0, false, limits)}
}

func (sc *script) step(ev seqEvent, want ...string) {
	sc.t.Helper()
	var got []string
	for _, a := range sc.s.step(ev) {
		got = append(got, render(a))
	}
	if !slices.Equal(got, want) {
		sc.t.Fatalf("after %#v:\n got  %s\n want %s", ev, strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
}

// queued checks the queue's size.
func (sc *script) queued(appends, entries, bytes int) {
	sc.t.Helper()
	if len(sc.s.queue) != appends || sc.s.entries != entries || sc.s.bytes != bytes {
		sc.t.Fatalf("queue holds %d appends, %d entries, %d bytes; want %d, %d, %d", len(sc.s.queue), sc.s.entries, sc.s.bytes, appends, entries, bytes)
	}
}

// storesOfA are the stores of a first append "a" to three idle servers.
var storesOfA = []string{
	`store s0 [0,1) ["a"] c=0`,
	`store s1 [0,1) ["a"] c=0`,
	`store s2 [0,1) ["a"] c=0`,
}

// sendA appends "a" (ticket 1) to a fresh sequencer over three servers.
func (sc *script) sendA() {
	sc.t.Helper()
	sc.step(app(1, "a"), storesOfA...)
}

// threeServersSendingA is a sequencer over three servers that just sent
// its first append, "a" (ticket 1), to each.
func threeServersSendingA(t *testing.T) *script {
	t.Helper()
	sc := newScript(t, 3, seqLimits{})
	sc.sendA()
	return sc
}

func app(t ticket, entries ...string) evAppend { return appID(t, loglet.AppendID{}, entries...) }

func appID(t ticket, id loglet.AppendID, entries ...string) evAppend {
	e := evAppend{t: t, id: id}
	for _, x := range entries {
		e.entries = append(e.entries, []byte(x))
	}
	return e
}

func ok(server int, tail loglet.Position) evStored {
	return evStored{server: server, st: Status{LocalTail: tail}}
}

func failed(server int, err error) evStored { return evStored{server: server, err: err} }

func TestSeqMajorityCommits(t *testing.T) {
	sc := threeServersSendingA(t)
	// While every server is busy, appends queue up (group commit).
	sc.step(app(2, "b"))
	sc.step(app(3, "c", "d"))
	sc.queued(3, 4, 4)
	// One server is not a majority; the next batch goes out at once.
	sc.step(ok(0, 1), `store s0 [1,4) ["b" "c" "d"] c=0`)
	// Two are: the append commits, and s1 takes the next batch.
	sc.step(ok(1, 1),
		"reply t1 pos=0",
		`store s1 [1,4) ["b" "c" "d"] c=1`)
	// Idle servers hear of the committed tail.
	sc.step(ok(0, 4), "notify s0 c=1")
	sc.step(ok(1, 4),
		"reply t2 pos=1",
		"reply t3 pos=2",
		"notify s1 c=4")
	sc.queued(0, 0, 0)
	// What the slow server lacks is committed and gone from the queue:
	// it is copied from the others, with the committed tail.
	sc.step(ok(2, 1), "catchup s2 [1,4)")
	sc.step(ok(2, 4))
	sc.step(evNoticed{server: 0}, "notify s0 c=4")
	sc.step(evNoticed{server: 0})
	if sc.s.committed != 4 || sc.s.next != 4 {
		t.Fatalf("committed %d, next %d; want 4, 4", sc.s.committed, sc.s.next)
	}
}

func TestSeqSingleServer(t *testing.T) {
	sc := newScript(t, 1, seqLimits{})
	sc.step(app(1, "a"), `store s0 [0,1) ["a"] c=0`)
	sc.step(ok(0, 1), "reply t1 pos=0", "notify s0 c=1")
}

func TestSeqBatchLimit(t *testing.T) {
	sc := newScript(t, 1, seqLimits{batchBytes: 4, queueEntries: 100, queueBytes: 100})
	sc.step(app(1, "aaaa"), `store s0 [0,1) ["aaaa"] c=0`)
	sc.step(app(2, "bb"))
	sc.step(app(3, "cc"))
	sc.step(app(4, "dddddd"))
	// A batch holds what fits, and always at least one append.
	sc.step(ok(0, 1), "reply t1 pos=0", `store s0 [1,3) ["bb" "cc"] c=1`)
	sc.step(ok(0, 3), "reply t2 pos=1", "reply t3 pos=2", `store s0 [3,4) ["dddddd"] c=3`)
}

// TestSeqLaggingServer: a server that fails is retried after a backoff
// while the majority commits without it; when it answers again it is
// caught up with what left the queue, then fed from the queue.
func TestSeqLaggingServer(t *testing.T) {
	sc := threeServersSendingA(t)
	sc.step(failed(2, errNet), "down s2", "backoff s2 #0")
	sc.step(ok(0, 1))
	sc.step(ok(1, 1), "reply t1 pos=0", "notify s0 c=1", "notify s1 c=1")
	sc.step(evRetry{server: 2}, "catchup s2 [0,1)")
	sc.step(failed(2, errNet), "backoff s2 #1") // reported once per outage
	sc.step(evNoticed{server: 0})
	sc.step(evNoticed{server: 1})
	sc.step(app(2, "b"), `store s0 [1,2) ["b"] c=1`, `store s1 [1,2) ["b"] c=1`)
	sc.step(ok(0, 2))
	sc.step(ok(1, 2), "reply t2 pos=1", "notify s0 c=2", "notify s1 c=2")
	sc.step(app(3, "c"))
	sc.step(evRetry{server: 2}, "catchup s2 [0,2)")
	sc.step(ok(2, 2), "up s2", `store s2 [2,3) ["c"] c=2`)
	sc.step(evNoticed{server: 0}, `store s0 [2,3) ["c"] c=2`)
	sc.step(ok(2, 3))
	// The caught-up server and one other make a majority.
	sc.step(ok(0, 3), "reply t3 pos=2", "notify s0 c=3", "notify s2 c=3")
}

// TestSeqGap: a server that reports a gap is sent again from its tail.
func TestSeqGap(t *testing.T) {
	sc := newScript(t, 1, seqLimits{})
	sc.step(app(1, "a"), `store s0 [0,1) ["a"] c=0`)
	sc.step(ok(0, 1), "reply t1 pos=0", "notify s0 c=1")
	sc.step(evNoticed{server: 0})
	sc.step(app(2, "b"), `store s0 [1,2) ["b"] c=1`)
	// The server lost its tail (it cannot, with fsync; the rule still
	// holds): it is caught up from position 0.
	sc.step(evStored{server: 0, st: Status{LocalTail: 0}, err: ErrGap}, "catchup s0 [0,1)")
	sc.step(ok(0, 1), `store s0 [1,2) ["b"] c=1`)
	sc.step(ok(0, 2), "reply t2 pos=1", "notify s0 c=2")
}

// TestSeqSealObserved: once a server reports the loglet sealed, appends
// that never left the queue fail as sealed, those a server may hold fail
// with their position (a sealer may have kept them), and those with a
// store under way wait for it.
func TestSeqSealObserved(t *testing.T) {
	sc := threeServersSendingA(t)
	sc.step(app(2, "b"))
	sc.step(failed(0, loglet.ErrSealed), "reply t2 sealed")
	sc.step(failed(1, errNet), "down s1", "backoff s1 #0")
	sc.step(failed(2, loglet.ErrSealed), "reply t1 unknown@[0,1)")
	sc.queued(0, 0, 0)
	sc.step(app(3, "c"), "reply t3 sealed")
	// Nothing more is sent, but the server is still retried.
	sc.step(evRetry{server: 1})
}

// TestSeqSealedByHandle: a sealer in this process stops the sequencer;
// an append a majority stored meanwhile still commits.
func TestSeqSealedByHandle(t *testing.T) {
	sc := threeServersSendingA(t)
	sc.step(evSeal{})
	sc.step(ok(0, 1))
	sc.step(ok(1, 1), "reply t1 pos=0", "notify s0 c=1", "notify s1 c=1")
	sc.step(app(2, "b"), "reply t2 sealed")
}

// TestSeqExpire: an append whose caller gives up leaves the queue if no
// server was sent it; otherwise the caller learns the outcome is unknown,
// the append goes on, and a retry with its id learns its position.
func TestSeqExpire(t *testing.T) {
	sc := newScript(t, 3, seqLimits{})
	id := loglet.AppendID{Client: 1, Seq: 1}
	sc.step(appID(1, id, "a"), storesOfA...)
	sc.step(app(2, "bb"))
	sc.step(app(3, "c"))
	sc.queued(3, 3, 4)
	sc.step(evExpire{t: 2}, "reply t2 expired (on expiry)")
	sc.queued(2, 2, 2)
	sc.step(evExpire{t: 1}, "reply t1 unknown (on expiry)")
	sc.step(evExpire{t: 1}) // answered already
	// The dropped append leaves no gap: the next goes at position 1.
	sc.step(ok(0, 1), `store s0 [1,2) ["c"] c=0`)
	sc.step(ok(1, 1), `store s1 [1,2) ["c"] c=1`)
	sc.step(appID(4, id, "a"), "reply t4 pos=0")
	sc.step(ok(0, 2), "notify s0 c=1")
	sc.step(ok(1, 2), "reply t3 pos=1", "notify s1 c=2")
}

// TestSeqRetryJoins: a retry with the id of a queued append waits for the
// original; the original's caller giving up does not drop it.
func TestSeqRetryJoins(t *testing.T) {
	sc := newScript(t, 1, seqLimits{})
	sc.step(app(1, "x"), `store s0 [0,1) ["x"] c=0`)
	id := loglet.AppendID{Client: 7, Seq: 3}
	sc.step(appID(2, id, "a"))
	sc.step(appID(3, id, "a"))
	sc.queued(2, 2, 2)
	sc.step(evExpire{t: 2}, "reply t2 unknown (on expiry)")
	sc.step(ok(0, 1), "reply t1 pos=0", `store s0 [1,2) ["a"] c=1`)
	sc.step(ok(0, 2), "reply t3 pos=1", "notify s0 c=2")
	// Once committed, the id is remembered.
	sc.step(appID(4, id, "a"), "reply t4 pos=1")
	sc.queued(0, 0, 0)
}

// TestSeqQueueBound: appends beyond the queue's bounds fail at once, and
// room comes back as appends leave it.
func TestSeqQueueBound(t *testing.T) {
	sc := newScript(t, 1, seqLimits{batchBytes: 1 << 10, queueEntries: 4, queueBytes: 8})
	sc.step(app(1, "a", "b"), `store s0 [0,2) ["a" "b"] c=0`)
	sc.step(app(2, "c"))
	sc.step(app(3, "d", "e"), "reply t3 queue-full") // a 5th entry
	sc.queued(2, 3, 3)
	sc.step(evExpire{t: 2}, "reply t2 expired (on expiry)")
	sc.step(app(4, "12345"))
	sc.step(app(5, "12"), "reply t5 queue-full") // a 9th byte
	sc.step(ok(0, 2), "reply t1 pos=0", `store s0 [2,3) ["12345"] c=2`)
	sc.step(app(6, "1"))
	sc.queued(2, 2, 6)
	// An append alone in the queue is taken whatever its size.
	sc2 := newScript(t, 1, seqLimits{batchBytes: 4, queueEntries: 1, queueBytes: 4})
	sc2.step(app(1, "123456789", "x"), `store s0 [0,2) ["123456789" "x"] c=0`)
	sc2.step(app(2, "y"), "reply t2 queue-full")
	var full error = ErrQueueFull
	if !errors.Is(full, loglet.ErrUnavailable) {
		t.Fatal("ErrQueueFull does not match loglet.ErrUnavailable")
	}
}

// TestSeqServerNeverAnswers: with no server answering, what is queued
// stays within the bounds while callers give up: the appends never sent
// leave the queue, and only the first batch (sent, unknown) stays.
func TestSeqServerNeverAnswers(t *testing.T) {
	sc := newScript(t, 3, seqLimits{batchBytes: 2, queueEntries: 4, queueBytes: 100})
	sc.sendA()
	for round := range 3 {
		for i := range 3 {
			want := []string{fmt.Sprintf("backoff s%d #%d", i, round)}
			if round == 0 {
				want = append([]string{fmt.Sprintf("down s%d", i)}, want...)
			}
			sc.step(failed(i, errNet), want...)
		}
		next := ticket(2 + 4*round)
		sc.step(app(next, "b"))
		sc.step(app(next+1, "c"))
		sc.step(app(next+2, "d"))
		sc.step(app(next+3, "e"), fmt.Sprintf("reply t%d queue-full", next+3))
		sc.step(evExpire{t: next}, fmt.Sprintf("reply t%d expired (on expiry)", next))
		sc.step(evExpire{t: next + 1}, fmt.Sprintf("reply t%d expired (on expiry)", next+1))
		sc.step(evExpire{t: next + 2}, fmt.Sprintf("reply t%d expired (on expiry)", next+2))
		sc.queued(1, 1, 1)
		for i := range 3 {
			sc.step(evRetry{server: i}, fmt.Sprintf(`store s%d [0,1) ["a"] c=0`, i))
		}
	}
	sc.step(evExpire{t: 1}, "reply t1 unknown (on expiry)")
	sc.queued(1, 1, 1)
	sc.step(evClose{}) // nobody waits for it any more
	sc.queued(0, 0, 0)
}

func TestSeqClose(t *testing.T) {
	sc := threeServersSendingA(t)
	sc.step(app(2, "b"))
	sc.step(evClose{}, "reply t1 unknown(closed)", "reply t2 unknown(closed)")
	sc.step(app(3, "c"), "reply t3 closed")
	sc.step(ok(0, 1))
	sc.queued(0, 0, 0)
}

// TestSeqNoticeSeesSeal: a commit notice that finds the server sealed
// stops the sequencer too.
func TestSeqNoticeSeesSeal(t *testing.T) {
	sc := newScript(t, 1, seqLimits{})
	sc.step(app(1, "a"), `store s0 [0,1) ["a"] c=0`)
	sc.step(ok(0, 1), "reply t1 pos=0", "notify s0 c=1")
	sc.step(app(2, "b"))
	sc.step(evNoticed{server: 0, st: Status{LocalTail: 1, Sealed: true}}, "reply t2 sealed")
}

// TestSeqDiskFailures: a server whose disk failed is one server down while
// a quorum can still write; once fewer can, the append a server may hold
// fails as an unknown outcome as soon as its stores answer, and later
// appends are refused at once with the storage error (never queued until
// their callers give up).
func TestSeqDiskFailures(t *testing.T) {
	disk := fmt.Errorf("%w: injected: no space left on device", loglet.ErrStorageFailed)
	sc := threeServersSendingA(t)
	sc.step(failed(2, disk), "down s2", "backoff s2 #0")
	sc.step(ok(0, 1))
	sc.step(ok(1, 1), "reply t1 pos=0", "notify s0 c=1", "notify s1 c=1")
	sc.step(evNoticed{server: 0, st: Status{LocalTail: 1}})
	sc.step(evNoticed{server: 1, st: Status{LocalTail: 1}})
	sc.step(app(2, "b"), `store s0 [1,2) ["b"] c=1`, `store s1 [1,2) ["b"] c=1`)
	sc.step(evRetry{server: 2}, `catchup s2 [0,1)`)
	sc.step(failed(0, disk), "down s0", "backoff s0 #0")
	sc.step(app(3, "c"), "reply t3 storage-failed")
	sc.step(ok(1, 2), "reply t2 unknown(storage)")
	sc.queued(0, 0, 0)
	sc.step(app(4, "d"), "reply t4 storage-failed")
}
