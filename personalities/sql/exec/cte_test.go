package exec_test

import (
	"context"
	"strings"
	"testing"

	"hourglass/personalities/sql/exec"
	"hourglass/personalities/sql/store"
)

// TestRecursiveCanceled checks that an endless recursive query stops when
// its statement's context is canceled.
func TestRecursiveCanceled(t *testing.T) {
	stmts, err := exec.Parse("WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n > 0) SELECT count(*) FROM t")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	env := &exec.Env{Store: store.NewOverlay(store.Memory{}, false), Catalogs: &exec.Catalogs{}, Session: exec.NewSession("postgres", "postgres"), Context: ctx}
	_, err = exec.Execute(env, stmts[0], nil, nil)
	if err == nil || !strings.Contains(err.Error(), "canceling statement") {
		t.Fatalf("got %v, want a canceled statement", err)
	}
}

// TestRecursiveLimit checks that an endless recursive query under a LIMIT
// produces only what the LIMIT reads.
func TestRecursiveLimit(t *testing.T) {
	s := store.NewOverlay(store.Memory{}, false)
	got := run(t, s, "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) SELECT n FROM t LIMIT 3")
	if got != "1\n2\n3\nSELECT 3" {
		t.Fatalf("got %q", got)
	}
}
