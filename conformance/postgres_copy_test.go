package conformance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// copyRows is COPY text data of ids [from, to): id, id mod 97, a pad.
func copyRows(from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "%d\t%d\tpad-%08d-abcdefghijklmnopqrstuvwxyz\n", i, i%97, i)
	}
	return b.String()
}

// TestPostgresLargeCopy streams COPYs much larger than a transaction's
// buffer (64 KiB here) through a 3-node ensemble: they spill to staging
// areas through the log in many entries, yet each commits atomically
// (a reader on another node sees none of a COPY's rows or all of them),
// rolls back whole on a bad row, rolls back to a savepoint across
// spills, is refused with 40001 when a concurrent insert takes one of
// its keys, and shows its progress in pg_stat_progress_copy.
func TestPostgresLargeCopy(t *testing.T) {
	e := startEnsemble(t, 3, "--pg-stage-bytes", "65536")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	connect := func(i int) *pgx.Conn {
		c, err := pgx.Connect(ctx, fmt.Sprintf("postgres://postgres@%s/postgres?sslmode=disable", e.nodes[i].addr("postgres")))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(context.Background()) })
		return c
	}
	e.waitStaging()
	c1, c2, c3 := connect(0), connect(1), connect(2)
	count := func(c *pgx.Conn, where string) int {
		t.Helper()
		var n int
		if err := c.QueryRow(ctx, "SELECT count(*) FROM big "+where).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if _, err := c1.Exec(ctx, "CREATE TABLE big (id int PRIMARY KEY, k int, pad text); CREATE INDEX big_k ON big (k)"); err != nil {
		t.Fatal(err)
	}

	// One COPY of 30,000 rows (about 2 MiB, some 30 spills) from psql,
	// while node 2 counts the table without pause.
	const n = 30000
	file := filepath.Join(t.TempDir(), "rows.tsv")
	if err := os.WriteFile(file, []byte(copyRows(0, n)), 0o644); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var reads atomic.Int64
	var torn sync.Map
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for !stop.Load() {
			var got int
			if err := c2.QueryRow(ctx, "SELECT count(*) FROM big").Scan(&got); err != nil {
				torn.Store(-1, err.Error())
				return
			}
			reads.Add(1)
			if got != 0 && got != n {
				torn.Store(got, "")
			}
		}
	}()
	out, err := psql(e.nodes[0].port("postgres"), "postgres", "-c", `\copy big from '`+file+`'`)
	stop.Store(true)
	<-readerDone
	if err != nil || !strings.Contains(string(out), fmt.Sprintf("COPY %d", n)) {
		t.Fatalf("psql \\copy: %v\n%s", err, out)
	}
	torn.Range(func(k, v any) bool {
		t.Errorf("a reader on another node saw %v rows of the COPY (%v)", k, v)
		return true
	})
	t.Logf("%d counts on node 2 while the COPY ran", reads.Load())
	if got := count(c3, ""); got != n {
		t.Fatalf("node 3 counts %d rows, want %d", got, n)
	}
	if got := count(c3, "WHERE k = 7"); got != (n+96-7)/97 {
		t.Fatalf("the secondary index finds %d rows with k = 7, want %d", got, (n+96-7)/97)
	}

	// A duplicate key in the last row fails the whole COPY.
	dup := copyRows(n, 2*n) + "5\t5\tdup\n"
	_, err = c2.PgConn().CopyFrom(ctx, strings.NewReader(dup), "COPY big FROM STDIN")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "23505" {
		t.Fatalf("COPY with a duplicate key: %v, want 23505", err)
	}
	if got := count(c1, ""); got != n {
		t.Fatalf("after the failed COPY the table has %d rows, want %d", got, n)
	}

	// Savepoints across spills.
	tx, err := c2.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	copyIn := func(c *pgconn.PgConn, data string) error {
		_, err := c.CopyFrom(ctx, strings.NewReader(data), "COPY big FROM STDIN")
		return err
	}
	if err := copyIn(c2.PgConn(), copyRows(100000, 110000)); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SAVEPOINT s"); err != nil {
		t.Fatal(err)
	}
	if err := copyIn(c2.PgConn(), copyRows(110000, 120000)); err != nil {
		t.Fatal(err)
	}
	var inTx int
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM big WHERE id >= 100000").Scan(&inTx); err != nil || inTx != 20000 {
		t.Fatalf("the transaction reads %d of its staged rows (%v), want 20000", inTx, err)
	}
	if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT s"); err != nil {
		t.Fatal(err)
	}
	if err := copyIn(c2.PgConn(), copyRows(115000, 116000)); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "UPDATE big SET pad = 'updated' WHERE id = 100001"); err != nil {
		t.Fatal(err)
	}
	if got := count(c1, ""); got != n {
		t.Fatalf("another node sees %d rows before the commit, want %d", got, n)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := count(c3, "WHERE id >= 100000"); got != 11000 {
		t.Fatalf("after the commit node 3 counts %d rows of the transaction, want 11000", got)
	}
	var pad string
	if err := c3.QueryRow(ctx, "SELECT pad FROM big WHERE id = 100001").Scan(&pad); err != nil || pad != "updated" {
		t.Fatalf("the transaction's update of a staged row: %q, %v", pad, err)
	}

	// A concurrent insert of one of a staged COPY's keys: the COPY's
	// commit is refused, and none of its rows is written.
	tx, err = c1.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := copyIn(c1.PgConn(), copyRows(200000, 210000)); err != nil {
		t.Fatal(err)
	}
	if _, err := c3.Exec(ctx, "INSERT INTO big VALUES (205000, 0, 'first')"); err != nil {
		t.Fatal(err)
	}
	err = tx.Commit(ctx)
	if !errors.As(err, &pe) || pe.Code != "40001" {
		t.Fatalf("commit of a COPY whose key was taken meanwhile: %v, want 40001", err)
	}
	if got := count(c2, "WHERE id >= 200000"); got != 1 {
		t.Fatalf("after the refused COPY %d rows at or above 200000, want 1", got)
	}

	// Progress: a COPY fed slowly shows in pg_stat_progress_copy.
	pr, pw := io.Pipe()
	copied := make(chan error, 1)
	go func() {
		_, err := c1.PgConn().CopyFrom(ctx, pr, "COPY big FROM STDIN")
		copied <- err
	}()
	if _, err := io.WriteString(pw, copyRows(300000, 305000)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	var tuples, bytes int64
	var relname string
	c4 := connect(0) // the COPY runs on node 1: the view is per node
	for {
		err := c4.QueryRow(ctx, "SELECT p.tuples_processed, p.bytes_processed, c.relname FROM pg_stat_progress_copy p JOIN pg_class c ON c.oid = p.relid").Scan(&tuples, &bytes, &relname)
		if err == nil && tuples > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pg_stat_progress_copy never showed the COPY: %d tuples (%v)", tuples, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if relname != "big" || bytes <= 0 {
		t.Fatalf("pg_stat_progress_copy: relid %q, %d bytes", relname, bytes)
	}
	pw.Close()
	if err := <-copied; err != nil {
		t.Fatal(err)
	}
	if got := count(c3, "WHERE id >= 300000"); got != 5000 {
		t.Fatalf("node 3 counts %d rows of the slow COPY, want 5000", got)
	}
	e.converge(0, 1, 2)
}

// TestPostgresLargeCopyKill kills nodes around staged transactions: the
// node running a staged COPY dies mid-way (nothing of it is ever
// visible, and the ensemble goes on), and a node killed right after a
// staged COPY committed applies it again from the log when it restarts;
// every node ends with the same rows and the same state.
func TestPostgresLargeCopyKill(t *testing.T) {
	e := startEnsemble(t, 3, "--pg-stage-bytes", "65536")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	connect := func(i int) *pgx.Conn {
		t.Helper()
		c, err := pgx.Connect(ctx, fmt.Sprintf("postgres://postgres@%s/postgres?sslmode=disable", e.nodes[i].liveAddr("postgres")))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(context.Background()) })
		return c
	}
	e.waitStaging()
	c2 := connect(1)
	if _, err := c2.Exec(ctx, "CREATE TABLE big (id int PRIMARY KEY, k int, pad text); CREATE INDEX big_k ON big (k)"); err != nil {
		t.Fatal(err)
	}

	// Node 1 stages 20,000 rows of an open transaction, then dies.
	c1 := connect(0)
	tx, err := c1.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c1.PgConn().CopyFrom(ctx, strings.NewReader(copyRows(0, 20000)), "COPY big FROM STDIN"); err != nil {
		t.Fatal(err)
	}
	e.nodes[0].kill()
	tx.Rollback(context.Background()) // the connection is gone
	var n int
	if err := c2.QueryRow(ctx, "SELECT count(*) FROM big").Scan(&n); err != nil || n != 0 {
		t.Fatalf("after the staging node died: %d rows (%v), want 0", n, err)
	}

	// A staged COPY commits through node 2; node 3 is killed as soon as
	// it is acknowledged, and node 1 comes back.
	if _, err := c2.PgConn().CopyFrom(ctx, strings.NewReader(copyRows(100000, 130000)), "COPY big FROM STDIN"); err != nil {
		t.Fatal(err)
	}
	e.nodes[2].kill()
	e.nodes[0].restart()
	e.nodes[2].restart()
	for i := range 3 {
		c := connect(i)
		if err := c.QueryRow(ctx, "SELECT count(*) FROM big").Scan(&n); err != nil || n != 30000 {
			t.Fatalf("node %d counts %d rows (%v), want 30000", i+1, n, err)
		}
		if err := c.QueryRow(ctx, "SELECT count(*) FROM big WHERE k = 3").Scan(&n); err != nil || n != 310 {
			t.Fatalf("node %d finds %d rows with k = 3 by the index (%v), want 310", i+1, n, err)
		}
	}
	e.converge(0, 1, 2)
}

// waitStaging waits until every node applied the enable of the Postgres
// personality's version 2 (staging), which an ensemble of one build
// enables by itself within moments of starting.
func (e *ensemble) waitStaging() {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for i := range e.nodes {
		for engineVersion(e.upgradeStatus(i), "sql").Enabled < 2 {
			if time.Now().After(deadline) {
				e.t.Fatalf("%s never enabled the Postgres personality's version 2", e.id(i))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}
