package conformance

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// runPgbench runs Debian's pgbench, unmodified, against a server on port
// (user postgres, database postgres) and returns its output; it fails the
// test if pgbench fails.
func runPgbench(t *testing.T, port string, args ...string) string {
	t.Helper()
	cmd := exec.Command("pgbench", append([]string{"-h", "127.0.0.1", "-p", port, "-U", "postgres"}, append(args, "postgres")...)...)
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=10", "LC_ALL=C.UTF-8")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("pgbench %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// psqlValue runs one query through psql (unaligned, tuples only) and
// returns its output, trimmed.
func psqlValue(t *testing.T, port, query string) string {
	t.Helper()
	out, err := psql(port, "postgres", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", query)
	if err != nil {
		t.Fatalf("%s: %v\n%s", query, err, out)
	}
	return strings.TrimSpace(string(out))
}

// pgbenchDone is the last line of a successful pgbench -i.
var pgbenchDone = regexp.MustCompile(`(?m)^done in [0-9.]+ s \(`)

// checkPgbenchTables checks the tables pgbench -i made at the scale:
// their row counts, zero balances, and the primary keys it added.
func checkPgbenchTables(t *testing.T, port, counts string) {
	t.Helper()
	if got := psqlValue(t, port, `SELECT (SELECT count(*) FROM pgbench_branches), (SELECT count(*) FROM pgbench_tellers),
		(SELECT count(*) FROM pgbench_accounts), (SELECT count(*) FROM pgbench_history),
		(SELECT sum(abalance) FROM pgbench_accounts)`); got != counts+"|0" {
		t.Errorf("counts and balance: got %s, want %s|0", got, counts)
	}
	if got := psqlValue(t, port, `SELECT string_agg(indexrelid::regclass::text, ',' ORDER BY indexrelid::regclass::text)
		FROM pg_index WHERE indisprimary`); got != "pgbench_accounts_pkey,pgbench_branches_pkey,pgbench_tellers_pkey" {
		t.Errorf("primary keys: got %s", got)
	}
}

// TestPgbenchInit initializes pgbench's tables through the gateway with
// every default step (drop, create with fillfactor, client-side COPY,
// VACUUM, primary keys), then with server-side generation (-I dtGvp:
// one INSERT ... SELECT FROM generate_series per table).
func TestPgbenchInit(t *testing.T) {
	g := startGateway(t)
	port := g.port("postgres")
	out := runPgbench(t, port, "-i", "-s", "1")
	if !pgbenchDone.MatchString(out) || !strings.Contains(out, "client-side generate") {
		t.Fatalf("pgbench -i:\n%s", out)
	}
	checkPgbenchTables(t, port, "1|10|100000|0")
	out = runPgbench(t, port, "-i", "-I", "dtGvp", "-s", "1")
	if !pgbenchDone.MatchString(out) || !strings.Contains(out, "server-side generate") {
		t.Fatalf("pgbench -i -I dtGvp:\n%s", out)
	}
	checkPgbenchTables(t, port, "1|10|100000|0")
}
