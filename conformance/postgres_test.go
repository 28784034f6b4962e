package conformance

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// pgBin is where Debian's PostgreSQL 15 server binaries live.
const pgBin = "/usr/lib/postgresql/15/bin"

// postgres is a real PostgreSQL 15 server, started by a test on a free
// loopback port in a temporary data directory.
type postgres struct {
	t    testing.TB
	dir  string
	port string
	cmd  *exec.Cmd
}

// asPostgres runs a server binary as the postgres user when the tests run
// as root (initdb and postgres refuse root).
func asPostgres(name string, args ...string) *exec.Cmd {
	bin := filepath.Join(pgBin, name)
	if u, err := user.Current(); err == nil && u.Uid == "0" {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", bin}, args...)...)
	}
	return exec.Command(bin, args...)
}

// freePort returns a free loopback port.
func freePort(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

var (
	sharedPG     *postgres
	sharedPGOnce sync.Once
	sharedPGErr  error
)

// startPostgres starts (once per test binary) a PostgreSQL 15 server with
// synchronous_commit on, UTC, and the settings a fresh cluster has.
func startPostgres(t testing.TB) *postgres {
	t.Helper()
	if _, err := os.Stat(filepath.Join(pgBin, "postgres")); err != nil {
		t.Fatalf("PostgreSQL 15 is not installed (%v): apt-get install postgresql-15", err)
	}
	sharedPGOnce.Do(func() { sharedPG, sharedPGErr = newPostgres() })
	if sharedPGErr != nil {
		t.Fatal(sharedPGErr)
	}
	sharedPG.t = t
	return sharedPG
}

func newPostgres() (*postgres, error) {
	dir, err := os.MkdirTemp("", "hourglass-pg")
	if err != nil {
		return nil, err
	}
	if u, err := user.Current(); err == nil && u.Uid == "0" {
		if out, err := exec.Command("chown", "postgres:postgres", dir).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("chown: %v: %s", err, out)
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := asPostgres("initdb", "-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	pg := &postgres{dir: dir, port: port}
	pg.cmd = asPostgres("postgres", "-D", data, "-p", port, "-h", "127.0.0.1", "-k", dir,
		"-c", "timezone=UTC", "-c", "log_timezone=UTC", "-c", "fsync=on", "-c", "synchronous_commit=on",
		"-c", "max_connections=200", "-c", "shared_buffers=128MB")
	var logBuf bytes.Buffer
	pg.cmd.Stdout, pg.cmd.Stderr = &logBuf, &logBuf
	if err := pg.cmd.Start(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if out, err := exec.Command(filepath.Join(pgBin, "pg_isready"), "-h", "127.0.0.1", "-p", port).CombinedOutput(); err == nil {
			break
		} else if time.Now().After(deadline) {
			pg.cmd.Process.Kill()
			return nil, fmt.Errorf("postgres did not start: %s\n%s", out, logBuf.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return pg, nil
}

// stopPostgres stops the shared server (from TestMain).
func stopPostgres() {
	if sharedPG != nil && sharedPG.cmd != nil {
		sharedPG.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { sharedPG.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			sharedPG.cmd.Process.Kill()
		}
		os.RemoveAll(sharedPG.dir)
	}
}

// newDatabase creates a fresh database on the server, runs setup in it,
// and returns its name.
func (p *postgres) newDatabase(t testing.TB, setup ...string) string {
	t.Helper()
	name := fmt.Sprintf("t%d", time.Now().UnixNano())
	if out, err := psql(p.port, "postgres", "-c", "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v\n%s", err, out)
	}
	for _, s := range setup {
		if out, err := psql(p.port, name, "-c", s); err != nil {
			t.Fatalf("%s: %v\n%s", s, err, out)
		}
	}
	return name
}

// systemSchemas gives a reference database the gateway's system schemas
// (empty), so that listings of schemas agree.
var systemSchemas = []string{
	"CREATE SCHEMA redis", "COMMENT ON SCHEMA redis IS 'read-only views of the redis API''s state'",
	"CREATE SCHEMA zookeeper", "COMMENT ON SCHEMA zookeeper IS 'read-only views of the zookeeper API''s state'",
}

// psql runs Debian's psql against a server on port, as user postgres.
func psql(port, db string, args ...string) ([]byte, error) {
	cmd := exec.Command("psql", append([]string{"-X", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-d", db}, args...)...)
	cmd.Env = append(os.Environ(), "PGTZ=UTC", "PAGER=", "PGCONNECT_TIMEOUT=10", "LC_ALL=C.UTF-8")
	return cmd.CombinedOutput()
}

// locationLine is the source location verbose errors carry (Postgres's C
// file and line), dropped from both outputs; the SQLSTATE they also carry
// is compared.
var locationLine = regexp.MustCompile(`(?m)^LOCATION:  .*\n`)

// maskDirective is a script line that masks what varies between servers:
// "-- mask: <regexp>" replaces every match with <masked> in both outputs.
var maskDirective = regexp.MustCompile(`(?m)^-- mask: (.*)$`)

// diffPsql runs script through psql against the gateway and against
// PostgreSQL (each on a fresh database) and fails if their outputs
// differ, after the script's masks.
func diffPsql(t *testing.T, g *gateway, pg *postgres, script string) {
	t.Helper()
	run := func(port, db string) string {
		out, _ := psql(port, db, "-a", "-v", "VERBOSITY=verbose", "-f", script)
		return locationLine.ReplaceAllString(string(out), "")
	}
	got := run(g.port("postgres"), "postgres")
	want := run(pg.port, pg.newDatabase(t, systemSchemas...))
	src, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range maskDirective.FindAllStringSubmatch(string(src), -1) {
		re, err := regexp.Compile(m[1])
		if err != nil {
			t.Fatalf("%s: mask %q: %v", script, m[1], err)
		}
		got, want = re.ReplaceAllString(got, "<masked>"), re.ReplaceAllString(want, "<masked>")
	}
	if dir := os.Getenv("PSQL_OUTPUT_DIR"); dir != "" {
		// Both outputs in full, for a diff tool.
		base := filepath.Join(dir, strings.TrimSuffix(filepath.Base(script), ".sql"))
		os.WriteFile(base+".pg.out", []byte(want), 0o644)
		os.WriteFile(base+".gw.out", []byte(got), 0o644)
	}
	if got != want {
		t.Errorf("%s: the gateway's psql output differs from PostgreSQL 15's:\n%s", filepath.Base(script), lineDiff(want, got))
	}
}

// lineDiff shows where two outputs differ: the first differing lines with
// some context.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	from := max(0, i-5)
	var b strings.Builder
	for k := from; k < i; k++ {
		fmt.Fprintf(&b, "    %s\n", w[k])
	}
	for k := i; k < min(len(w), i+15); k++ {
		fmt.Fprintf(&b, "-PG %s\n", w[k])
	}
	for k := i; k < min(len(g), i+15); k++ {
		fmt.Fprintf(&b, "+GW %s\n", g[k])
	}
	return b.String()
}

// TestPostgresScripts diffs every script in testdata/sql through psql
// against PostgreSQL 15. Each script runs on a fresh gateway.
func TestPostgresScripts(t *testing.T) {
	pg := startPostgres(t)
	scripts, err := filepath.Glob("testdata/sql/*.sql")
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no scripts in testdata/sql: %v", err)
	}
	for _, script := range scripts {
		t.Run(strings.TrimSuffix(filepath.Base(script), ".sql"), func(t *testing.T) {
			t.Parallel()
			g := startGateway(t)
			diffPsql(t, g, pg, script)
		})
	}
}
