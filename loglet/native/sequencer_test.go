package native

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hourglass/loglet"
)

// silent is a LogServer that never answers: every call blocks until its
// context ends.
type silent struct{ calls atomic.Int64 }

func (s *silent) wait(ctx context.Context) error {
	s.calls.Add(1)
	<-ctx.Done()
	return ctx.Err()
}

func (s *silent) Store(ctx context.Context, _ LogletID, _ loglet.Position, _ [][]byte, _ StoreOptions) (Status, error) {
	return Status{}, s.wait(ctx)
}

func (s *silent) Commit(ctx context.Context, _ LogletID, _ loglet.Position) (Status, error) {
	return Status{}, s.wait(ctx)
}

func (s *silent) Seal(ctx context.Context, _ LogletID, _ Ballot) (Status, error) {
	return Status{}, s.wait(ctx)
}

func (s *silent) Accept(ctx context.Context, _ LogletID, _ Ballot, _ loglet.Position) (Status, error) {
	return Status{}, s.wait(ctx)
}

func (s *silent) SetFinal(ctx context.Context, _ LogletID, _ loglet.Position) (Status, error) {
	return Status{}, s.wait(ctx)
}

func (s *silent) GetStatus(ctx context.Context, _ LogletID) (Status, error) {
	return Status{}, s.wait(ctx)
}

func (s *silent) Read(ctx context.Context, _ LogletID, _ loglet.Position, _ int, _ ReadOptions) ([][]byte, Status, error) {
	return nil, Status{}, s.wait(ctx)
}

func (s *silent) Trim(ctx context.Context, _ LogletID, _ loglet.Position) error {
	return s.wait(ctx)
}

// TestQueueBoundedWhenServersNeverAnswer floods a loglet whose servers
// never answer with appends that give up after a few milliseconds: every
// caller gets an error at once (expired, unknown, or queue full), the
// queue never exceeds its bounds and ends holding only what was sent, and
// closing the loglet leaves no goroutine behind.
func TestQueueBoundedWhenServersNeverAnswer(t *testing.T) {
	before := runtime.NumGoroutine()
	servers := []Server{&silent{}, &silent{}, &silent{}}
	const maxEntries = 8
	l, err := Open(context.Background(), Config{
		ID: 1, Servers: servers, Fresh: true,
		CallTimeout: 20 * time.Millisecond,
		// One 10-byte entry per store, so only the first append is ever
		// sent.
		MaxBatchBytes:   8,
		MaxQueueEntries: maxEntries,
		MaxQueueBytes:   1 << 20,
	})
	if err != nil {
		t.Fatal(err)
	}
	var expired, unknown, full atomic.Int64
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
				_, err := l.Append(ctx, loglet.AppendID{}, [][]byte{[]byte("0123456789")})
				cancel()
				switch {
				case errors.Is(err, ErrAppendExpired) && errors.Is(err, context.DeadlineExceeded):
					expired.Add(1)
				case errors.Is(err, loglet.ErrOutcomeUnknown) && errors.Is(err, context.DeadlineExceeded):
					unknown.Add(1)
				case errors.Is(err, ErrQueueFull) && errors.Is(err, loglet.ErrUnavailable):
					full.Add(1)
				case errors.Is(err, context.DeadlineExceeded):
					// Gave up before the sequencer took it.
				default:
					t.Errorf("append to silent servers: %v", err)
					return
				}
				if n := l.seq.queuedEntries.Load(); n > maxEntries {
					t.Errorf("queue holds %d entries, bound %d", n, maxEntries)
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("expired %d, unknown %d, queue full %d", expired.Load(), unknown.Load(), full.Load())
	if expired.Load() == 0 || full.Load() == 0 || unknown.Load() != 1 {
		t.Fatalf("expired %d, unknown %d, queue full %d: want some expired and some refused, and one unknown (the append that was sent)",
			expired.Load(), unknown.Load(), full.Load())
	}
	if a, e := l.seq.queuedAppends.Load(), l.seq.queuedEntries.Load(); a != 1 || e != 1 {
		t.Fatalf("with every caller gone the queue holds %d appends (%d entries); want only the one sent", a, e)
	}
	if servers[0].(*silent).calls.Load() == 0 {
		t.Fatal("the sequencer never called the servers")
	}
	l.Close()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines after Close, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(time.Millisecond)
	}
}

// TestAppendAfterClose: a closed handle refuses appends plainly.
func TestAppendAfterClose(t *testing.T) {
	l, err := Open(context.Background(), Config{ID: 1, Servers: []Server{&silent{}}, Fresh: true})
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if _, err := l.Append(context.Background(), loglet.AppendID{}, [][]byte{[]byte("x")}); !errors.Is(err, loglet.ErrClosed) || errors.Is(err, loglet.ErrOutcomeUnknown) {
		t.Fatalf("append after Close: %v, want loglet.ErrClosed", err)
	}
	l.Close() // idempotent
}

// instant is a LogServer that holds whatever it is sent and answers at
// once; the calls a sequencer does not make block like silent's.
type instant struct {
	silent
	mu   sync.Mutex
	tail loglet.Position
}

func (s *instant) Store(_ context.Context, _ LogletID, first loglet.Position, entries [][]byte, _ StoreOptions) (Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if first > s.tail {
		return Status{LocalTail: s.tail}, ErrGap
	}
	s.tail = max(s.tail, first+loglet.Position(len(entries)))
	return Status{LocalTail: s.tail}, nil
}

func (s *instant) Commit(_ context.Context, _ LogletID, _ loglet.Position) (Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Status{LocalTail: s.tail}, nil
}

// TestAcknowledgedBelowCommittedTail: by the time an append returns, the
// committed tail the handle reports (CheckTail's answer) lies above it.
func TestAcknowledgedBelowCommittedTail(t *testing.T) {
	servers := []Server{&instant{}, &instant{}, &instant{}}
	l, err := Open(context.Background(), Config{ID: 1, Servers: servers, Fresh: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 500 {
				p, err := l.Append(context.Background(), loglet.AppendID{}, [][]byte{[]byte("x")})
				if err != nil {
					t.Error(err)
					return
				}
				if c := l.seq.committedTail(); c <= p {
					t.Errorf("append at %d acknowledged with the committed tail at %d", p, c)
					return
				}
				if k := l.known.Load(); k <= p {
					t.Errorf("append at %d acknowledged with the handle knowing %d committed", p, k)
					return
				}
			}
		}()
	}
	wg.Wait()
}
