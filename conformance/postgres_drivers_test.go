package conformance

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Drivers against a gateway and against PostgreSQL 15: each test runs the
// same steps on both and compares what the driver returned.

// pgTargets returns connection strings for a fresh gateway and a fresh
// database on the shared PostgreSQL 15, by name.
func pgTargets(t *testing.T, extra ...string) map[string]string {
	pg := startPostgres(t)
	g := startGateway(t, extra...)
	return map[string]string{
		"gateway":    fmt.Sprintf("postgres://postgres@127.0.0.1:%s/postgres?sslmode=disable", g.port("postgres")),
		"postgres15": fmt.Sprintf("postgres://postgres@127.0.0.1:%s/%s?sslmode=disable", pg.port, pg.newDatabase(t)),
	}
}

// pgxSteps runs a sequence of steps through pgx and returns what each
// gave, for comparison between servers.
func pgxSteps(t *testing.T, ctx context.Context, dsn string) []string {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var out []string
	note := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	exec := func(sql string, args ...any) {
		tag, err := conn.Exec(ctx, sql, args...)
		note("exec %q: %v %s", sql, tag, errText(err))
	}
	exec("CREATE TABLE k (id int PRIMARY KEY, i2 smallint, i8 bigint, f4 real, f8 float8, b bool, t text, v varchar(4), by bytea)")
	// Extended protocol with binary parameters and results.
	exec("INSERT INTO k VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
		int32(1), int16(-2), int64(1)<<40, float32(1.5), 2.25, true, "héllo", "abc", []byte{0, 1, 255})
	exec("INSERT INTO k VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)", int32(2), nil, nil, nil, nil, nil, nil, nil, nil)
	exec("INSERT INTO k VALUES ($1)", int32(1))
	exec("INSERT INTO k (id, v) VALUES ($1, $2)", int32(3), "toolong")
	scan := func(mode pgx.QueryExecMode) {
		rows, err := conn.Query(ctx, "SELECT id, i2, i8, f4, f8, b, t, v, by FROM k ORDER BY id", mode)
		if err != nil {
			note("query: %s", errText(err))
			return
		}
		for rows.Next() {
			var (
				id       int32
				i2       *int16
				i8       *int64
				f4       *float32
				f8       *float64
				b        *bool
				s, v     *string
				by       []byte
				typeOIDs []uint32
			)
			if err := rows.Scan(&id, &i2, &i8, &f4, &f8, &b, &s, &v, &by); err != nil {
				note("scan: %v", err)
				continue
			}
			for _, fd := range rows.FieldDescriptions() {
				typeOIDs = append(typeOIDs, fd.DataTypeOID)
			}
			note("row %d %v %v %v %v %v %v %v %v types %v", id, deref(i2), deref(i8), deref(f4), deref(f8), deref(b), deref(s), deref(v), by, typeOIDs)
		}
		note("rows done: %s tag %s", errText(rows.Err()), rows.CommandTag())
	}
	scan(pgx.QueryExecModeCacheStatement)
	scan(pgx.QueryExecModeSimpleProtocol)
	scan(pgx.QueryExecModeDescribeExec)
	// A parameter whose type the statement decides.
	var n int64
	err = conn.QueryRow(ctx, "SELECT i8 + $1 FROM k WHERE id = $2", 5, 1).Scan(&n)
	note("inferred: %d %s", n, errText(err))
	// Prepared statements by name.
	_, err = conn.Prepare(ctx, "byid", "SELECT t FROM k WHERE id = $1")
	note("prepare: %s", errText(err))
	var s string
	err = conn.QueryRow(ctx, "byid", 1).Scan(&s)
	note("prepared: %q %s", s, errText(err))
	_, err = conn.Prepare(ctx, "bad", "SELECT nosuch FROM k")
	note("prepare bad: %s", errText(err))
	// An error inside a transaction block, then 25P02 until rollback.
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tx.Exec(ctx, "SELECT 1/0")
	note("in tx: %s", errText(err))
	_, err = tx.Exec(ctx, "SELECT 1")
	note("after error: %s", errText(err))
	note("rollback: %s", errText(tx.Rollback(ctx)))
	// CopyFrom (binary COPY).
	nrows, err := conn.CopyFrom(ctx, pgx.Identifier{"k"}, []string{"id", "t", "f8"},
		pgx.CopyFromRows([][]any{{int32(10), "ten", 10.5}, {int32(11), nil, nil}, {int32(12), "tw\telve\n", -1.0}}))
	note("copyfrom: %d %s", nrows, errText(err))
	nrows, err = conn.CopyFrom(ctx, pgx.Identifier{"k"}, []string{"id"}, pgx.CopyFromRows([][]any{{int32(20)}, {int32(10)}}))
	note("copyfrom dup: %d %s", nrows, errText(err))
	// Batches.
	batch := &pgx.Batch{}
	batch.Queue("INSERT INTO k (id, t) VALUES ($1, $2)", int32(30), "thirty")
	batch.Queue("SELECT t FROM k WHERE id = $1", int32(30))
	batch.Queue("SELECT 1 / (id - id) FROM k WHERE id = 1")
	batch.Queue("SELECT 1")
	br := conn.SendBatch(ctx, batch)
	tag, err := br.Exec()
	note("batch 1: %s %s", tag, errText(err))
	err = br.QueryRow().Scan(&s)
	note("batch 2: %q %s", s, errText(err))
	_, err = br.Exec()
	note("batch 3: %s", errText(err))
	_, err = br.Exec()
	note("batch 4: %s", errText(err))
	note("batch close: %s", errText(br.Close()))
	rows, err := conn.Query(ctx, "SELECT id, t FROM k ORDER BY id", pgx.QueryExecModeSimpleProtocol)
	if err == nil {
		for rows.Next() {
			var id int32
			var t *string
			err := rows.Scan(&id, &t)
			note("final %d %v %s", id, deref(t), errText(err))
		}
		rows.Close()
	}
	// Parameters a session reports.
	pc := conn.PgConn()
	for _, p := range []string{"server_encoding", "client_encoding", "DateStyle", "integer_datetimes", "standard_conforming_strings", "IntervalStyle", "is_superuser", "TimeZone"} {
		note("param %s=%s", p, pc.ParameterStatus(p))
	}
	exec("SET DateStyle = 'German'")
	exec("SET application_name = 'drivers'")
	note("param DateStyle after SET=%s application_name=%s", pc.ParameterStatus("DateStyle"), pc.ParameterStatus("application_name"))
	return out
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// errText is an error as a comparison sees it: SQLSTATE and message.
func errText(err error) string {
	if err == nil {
		return "ok"
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return fmt.Sprintf("%s %s: %s (%s)", pe.Severity, pe.Code, pe.Message, pe.Detail)
	}
	return "error: " + err.Error()
}

// TestPostgresPgx runs pgx (extended and simple protocols, binary
// formats, prepared statements, CopyFrom, batches, ParameterStatus)
// against a gateway and PostgreSQL 15 and compares the results.
func TestPostgresPgx(t *testing.T) {
	targets := pgTargets(t)
	ctx := testCtx(t)
	want := pgxSteps(t, ctx, targets["postgres15"])
	got := pgxSteps(t, ctx, targets["gateway"])
	if !reflect.DeepEqual(got, want) {
		t.Errorf("pgx results differ:\n%s", lineDiff(strings.Join(want, "\n"), strings.Join(got, "\n")))
	}
}

// TestPostgresCancel cancels a long statement with CancelRequests (pgx's
// PgConn.CancelRequest, on a new connection, with the key the server
// handed out) and checks that it ends with 57014 and the connection stays
// usable. Cancels repeat until the statement ends, since one that
// arrives before the statement starts cancels nothing.
func TestPostgresCancel(t *testing.T) {
	for name, dsn := range pgTargets(t) {
		t.Run(name, func(t *testing.T) {
			ctx := testCtx(t)
			conn, err := pgx.Connect(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(context.Background())
			done := make(chan error, 1)
			go func() {
				_, err := conn.Exec(ctx, "SELECT pg_sleep(60)")
				done <- err
			}()
			awaitCanceled(t, done, 50*time.Millisecond, 30*time.Second, func() {
				if err := conn.PgConn().CancelRequest(ctx); err != nil {
					t.Fatalf("cancel request: %v", err)
				}
			})
			var two int
			if err := conn.QueryRow(ctx, "SELECT 2").Scan(&two); err != nil || two != 2 {
				t.Errorf("after cancel: %v %d", err, two)
			}
		})
	}
}

// awaitCanceled calls cancel every period until the statement reporting
// to done ends, and checks that it ended with 57014; it fails t if that
// takes longer than within.
func awaitCanceled(t *testing.T, done <-chan error, period, within time.Duration, cancel func()) {
	t.Helper()
	tick := time.NewTicker(period)
	defer tick.Stop()
	deadline := time.After(within)
	var err error
wait:
	for {
		select {
		case err = <-done:
			break wait
		case <-tick.C:
			cancel()
		case <-deadline:
			t.Fatal("the canceled statement did not end")
		}
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "57014" || pe.Message != "canceling statement due to user request" {
		t.Fatalf("canceled statement: %v, want 57014", err)
	}
}

// TestPostgresCancelEnsemble sends a CancelRequest for a statement
// running on node 1 of a three-node ensemble to node 3, which forwards it
// to node 1: a wrong secret key cancels nothing, the right one ends the
// statement with 57014.
func TestPostgresCancelEnsemble(t *testing.T) {
	e := startEnsemble(t, 3)
	ctx := testCtx(t)
	conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://postgres@%s/postgres?sslmode=disable", e.nodes[0].addr("postgres")))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	pid, key := conn.PgConn().PID(), conn.PgConn().SecretKey()
	if int32(pid) <= 0 || len(key) != 4 {
		t.Fatalf("BackendKeyData: pid %d, key %x", pid, key)
	}
	var backend int32
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&backend); err != nil || backend != int32(pid) {
		t.Fatalf("pg_backend_pid() = %d, %v; BackendKeyData says %d", backend, err, pid)
	}
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := conn.Exec(ctx, "SELECT pg_sleep(30)")
		done <- err
	}()
	cancelAt := func(addr string, key []byte) {
		t.Helper()
		nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		pkt := binary.BigEndian.AppendUint32(nil, 16)
		pkt = binary.BigEndian.AppendUint32(pkt, 80877102)
		pkt = binary.BigEndian.AppendUint32(pkt, pid)
		pkt = append(pkt, key...)
		if _, err := nc.Write(pkt); err != nil {
			t.Fatal(err)
		}
		// The server answers nothing and closes the connection.
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		io.Copy(io.Discard, nc)
	}
	node3 := e.nodes[2].addr("postgres")
	wrong := binary.BigEndian.AppendUint32(nil, binary.BigEndian.Uint32(key)+1)
	for range 10 {
		cancelAt(node3, wrong)
		time.Sleep(100 * time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("a cancel request with a wrong key ended the statement: %v", err)
	case <-time.After(500 * time.Millisecond):
	}
	sent := time.Now()
	cancelAt(node3, key)
	// Again every second, in case the statement had not begun.
	awaitCanceled(t, done, time.Second, 5*time.Second, func() { cancelAt(node3, key) })
	t.Logf("canceled %v after the request, %v after the statement began", time.Since(sent), time.Since(start))
	var two int
	if err := conn.QueryRow(ctx, "SELECT 2").Scan(&two); err != nil || two != 2 {
		t.Errorf("after cancel: %v %d", err, two)
	}
}

// TestPostgresPython runs testdata/drivers/python_psycopg.py (psycopg2 and
// psycopg 3: parameters, executemany, COPY, transactions with a 40001
// retry loop over two connections) against both servers and compares
// its output.
func TestPostgresPython(t *testing.T) {
	const python = "/usr/bin/python3"
	if out, err := exec.Command(python, "-c", "import psycopg2, psycopg").CombinedOutput(); err != nil {
		t.Skipf("Debian's python3-psycopg2 and python3-psycopg are not installed: %v %s", err, out)
	}
	runBoth(t, python, "testdata/drivers/python_psycopg.py")
}

// TestPostgresNode runs testdata/drivers/pg.js (node-postgres) against
// both servers and compares its output.
func TestPostgresNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed (apt-get install nodejs npm)")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("npm is not installed (apt-get install npm)")
	}
	dir := filepath.Join(os.TempDir(), "hourglass-node-pg")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "pg")); err != nil {
		os.MkdirAll(dir, 0o755)
		cmd := exec.Command(npm, "install", "--no-audit", "--no-fund", "--prefix", dir, "pg@8")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Skipf("npm install pg failed (no registry?): %v\n%s", err, out)
		}
	}
	t.Setenv("NODE_PATH", filepath.Join(dir, "node_modules"))
	runBoth(t, node, "testdata/drivers/pg.js")
}

// runBoth runs a driver script with the DSN as its argument against a
// gateway and PostgreSQL 15 and fails if their outputs differ.
func runBoth(t *testing.T, interp, script string) {
	targets := pgTargets(t)
	out := map[string]string{}
	for name, dsn := range targets {
		cmd := exec.CommandContext(testCtx(t), interp, script, dsn)
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("%s on %s: %v\n%s", script, name, err, b)
		}
		out[name] = string(b)
	}
	if out["gateway"] != out["postgres15"] {
		t.Errorf("%s output differs:\n%s", script, lineDiff(out["postgres15"], out["gateway"]))
	}
}
