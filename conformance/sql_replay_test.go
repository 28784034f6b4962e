package conformance

import (
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestSQLReplayOnConflict: two transactions that increment the same row
// both commit (the later one's read set no longer holds, but replayed at
// its log position it shows the client the same results), while a
// transaction that showed the client the value another one changed is
// refused with 40001.
func TestSQLReplayOnConflict(t *testing.T) {
	g := startGateway(t)
	ctx := testCtx(t)
	connect := func() *pgx.Conn {
		c, err := pgx.Connect(ctx, pgURL(g.addr("postgres")))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(ctx) })
		return c
	}
	a, b := connect(), connect()
	exec := func(tx pgx.Tx, sql string) {
		t.Helper()
		if _, err := tx.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	if _, err := a.Exec(ctx, "CREATE TABLE counter (id int PRIMARY KEY, n int); INSERT INTO counter VALUES (1, 0); CREATE TABLE log (note text)"); err != nil {
		t.Fatal(err)
	}
	value := func() int {
		var n int
		if err := a.QueryRow(ctx, "SELECT n FROM counter WHERE id = 1").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// Blind increments: both commit.
	ta, err := a.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	exec(ta, "UPDATE counter SET n = n + 1 WHERE id = 1")
	exec(ta, "INSERT INTO log VALUES ('a')")
	tb, err := b.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	exec(tb, "UPDATE counter SET n = n + 10 WHERE id = 1")
	if err := tb.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ta.Commit(ctx); err != nil {
		t.Fatalf("the blind increment after a concurrent one: %v", err)
	}
	if n := value(); n != 11 {
		t.Fatalf("counter = %d after +1 and +10", n)
	}

	// The client saw the value before the increment: refused.
	ta, err = a.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var seen int
	if err := ta.QueryRow(ctx, "UPDATE counter SET n = n + 1 WHERE id = 1 RETURNING n").Scan(&seen); err != nil || seen != 12 {
		t.Fatalf("RETURNING n: %d, %v", seen, err)
	}
	tb, err = b.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	exec(tb, "UPDATE counter SET n = n + 10 WHERE id = 1")
	if err := tb.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	var pe *pgconn.PgError
	if err := ta.Commit(ctx); !errors.As(err, &pe) || pe.Code != "40001" {
		t.Fatalf("a transaction whose result changed committed: %v", err)
	}
	if n := value(); n != 21 {
		t.Fatalf("counter = %d, want 21", n)
	}
	var notes int
	if err := a.QueryRow(ctx, "SELECT count(*) FROM log").Scan(&notes); err != nil || notes != 1 {
		t.Fatalf("log rows: %d, %v", notes, err)
	}
}
