package sessionorder_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"hourglass/engines/sessionorder"
	"hourglass/platform"
	"hourglass/platform/platformtest"
)

// recorder applies every entry by recording its body, and counts
// PostApply calls.
type recorder struct {
	mu      sync.Mutex
	applied []string
	post    int
}

func (r *recorder) Apply(txn platform.Txn, e *platform.Entry, pos platform.Position) (any, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.applied = append(r.applied, string(e.Body))
	return string(e.Body), nil
}

func (r *recorder) PostApply(e *platform.Entry, pos platform.Position) {
	r.mu.Lock()
	r.post++
	r.mu.Unlock()
}

func TestStaleProposalsAreDropped(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	base, _ := platformtest.NewBase(t)
	s := sessionorder.New(base)
	rec := &recorder{}
	s.RegisterUpcall(rec)
	if err := base.Start(); err != nil {
		t.Fatal(err)
	}

	propose := func(body string, session int64, seq uint64) error {
		e := &platform.Entry{Body: []byte(body)}
		if seq != 0 {
			sessionorder.Tag(e, session, seq)
		}
		r, err := s.Propose(ctx, e)
		if err == nil && r != body {
			t.Fatalf("%s: result %v", body, r)
		}
		return err
	}
	steps := []struct {
		body    string
		session int64
		seq     uint64
		stale   bool
	}{
		{"a1", 1, sessionorder.Seq(1, 1), false},
		{"a2", 1, sessionorder.Seq(1, 2), false},
		{"a2-again", 1, sessionorder.Seq(1, 2), true}, // a retry
		{"b1", 2, sessionorder.Seq(1, 1), false},      // another session
		{"a-epoch2", 1, sessionorder.Seq(2, 1), false},
		{"a-late", 1, sessionorder.Seq(1, 3), true}, // overtaken by the new epoch
		{"untagged", 0, 0, false},
	}
	for _, st := range steps {
		err := propose(st.body, st.session, st.seq)
		if st.stale != errors.Is(err, sessionorder.ErrStale) || (!st.stale && err != nil) {
			t.Fatalf("%s: %v (stale %v)", st.body, err, st.stale)
		}
	}
	v, err := s.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	last, err := sessionorder.Last(v, 1)
	v.Close()
	if err != nil || last != sessionorder.Seq(2, 1) {
		t.Fatalf("Last(1) = %#x, %v", last, err)
	}
	// PostApply follows the commit: once the loop stops it has run for
	// every entry.
	base.Close()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	want := []string{"a1", "a2", "b1", "a-epoch2", "untagged"}
	if len(rec.applied) != len(want) || rec.post != len(want) {
		t.Fatalf("applied %q with %d PostApply, want %q", rec.applied, rec.post, want)
	}
	for i := range want {
		if rec.applied[i] != want[i] {
			t.Fatalf("applied %q, want %q", rec.applied, want)
		}
	}
}
