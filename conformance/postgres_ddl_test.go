package conformance

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestPostgresDDLConflict checks that DDL takes part in optimistic
// transactions: a transaction that read the catalog fails with 40001 at
// COMMIT when DDL committed after it began, whether the DDL ran in a
// transaction block or by itself, and the loser leaves nothing.
func TestPostgresDDLConflict(t *testing.T) {
	g := startGateway(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	connect := func() *pgconn.PgConn {
		c, err := pgconn.Connect(ctx, "postgres://postgres@"+g.addr("postgres")+"/postgres?sslmode=disable")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(context.Background()) })
		return c
	}
	c1, c2 := connect(), connect()
	exec := func(c *pgconn.PgConn, sql string) error {
		_, err := c.Exec(ctx, sql).ReadAll()
		return err
	}
	must := func(c *pgconn.PgConn, sql string) {
		t.Helper()
		if err := exec(c, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	code := func(err error) string {
		if pe, ok := err.(*pgconn.PgError); ok {
			return pe.Code
		}
		return ""
	}
	must(c1, "CREATE TABLE t (id int PRIMARY KEY)")

	// Two transactions race to alter the same table.
	must(c1, "BEGIN")
	must(c1, "ALTER TABLE t ADD COLUMN a int")
	must(c2, "BEGIN")
	must(c2, "ALTER TABLE t ADD COLUMN b int")
	must(c2, "COMMIT")
	if err := exec(c1, "COMMIT"); code(err) != "40001" {
		t.Fatalf("racing ALTER TABLE: COMMIT gave %v, want 40001", err)
	}

	// DDL outside a transaction block against a transaction that wrote:
	// its reads (the catalog) changed, so it is run again at its
	// position, after the index, gives the same results, and commits.
	must(c1, "BEGIN")
	must(c1, "INSERT INTO t VALUES (1)")
	must(c2, "CREATE INDEX t_b ON t (b)")
	if err := exec(c1, "COMMIT"); err != nil {
		t.Fatalf("INSERT racing CREATE INDEX: COMMIT gave %v, want it replayed after the index", err)
	}

	// The winners' changes are there, the losers' are not.
	must(c1, "SELECT id, b FROM t")
	if err := exec(c1, "SELECT a FROM t"); code(err) != "42703" {
		t.Fatalf("the loser's column: %v, want 42703", err)
	}
	if err := exec(c1, "CREATE INDEX t_b ON t (b)"); code(err) != "42P07" {
		t.Fatalf("the winner's index: %v, want 42P07", err)
	}
	// The replayed INSERT's row is in the table and in the index made
	// before it.
	for _, q := range []string{"SELECT id FROM t", "SELECT id FROM t WHERE b IS NULL"} {
		res, err := c1.Exec(ctx, q).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(res[0].Rows) != 1 || string(res[0].Rows[0][0]) != "1" {
			t.Fatalf("%s: %q, want the replayed row 1", q, res[0].Rows)
		}
	}
}
