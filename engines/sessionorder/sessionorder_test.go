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
// PostApply calls. A body "end" ends session 1.
type recorder struct {
	so      *sessionorder.Engine
	mu      sync.Mutex
	applied []string
	post    int
}

func (r *recorder) Apply(txn platform.Txn, e *platform.Entry, at platform.Version) (platform.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.applied = append(r.applied, string(e.Body))
	if string(e.Body) == "end" {
		r.so.End(1)
	}
	return platform.Result{Value: string(e.Body)}, nil
}

func (r *recorder) PostApply(e *platform.Entry, at platform.Version) {
	r.mu.Lock()
	r.post++
	r.mu.Unlock()
}

func TestStaleProposalsAreDropped(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	base, _ := platformtest.NewBase(t)
	s := sessionorder.New(base)
	rec := &recorder{so: s}
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
		if err != nil {
			t.Fatal(err)
		}
		if r.Err == nil && r.Value != body {
			t.Fatalf("%s: result %v", body, r.Value)
		}
		return r.Err
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
		{"end", 0, 0, false},                          // session 1 ends
		{"a-again", 1, sessionorder.Seq(1, 1), false}, // a first proposal again
		{"b-stale", 2, sessionorder.Seq(1, 1), true},  // session 2 still counts
	}
	for _, st := range steps {
		err := propose(st.body, st.session, st.seq)
		if st.stale != errors.Is(err, sessionorder.ErrStale) || (!st.stale && err != nil) {
			t.Fatalf("%s: %v (stale %v)", st.body, err, st.stale)
		}
	}
	// PostApply follows the commit: once the loop stops it has run for
	// every entry.
	base.Close()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	want := []string{"a1", "a2", "b1", "a-epoch2", "untagged", "end", "a-again"}
	if len(rec.applied) != len(want) || rec.post != len(want) {
		t.Fatalf("applied %q with %d PostApply, want %q", rec.applied, rec.post, want)
	}
	for i := range want {
		if rec.applied[i] != want[i] {
			t.Fatalf("applied %q, want %q", rec.applied, want)
		}
	}
}
