package conformance

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// pgbenchCmd runs Debian's pgbench, unmodified, against a server on
// port (user postgres, database postgres) and returns its output.
func pgbenchCmd(port string, args ...string) (string, error) {
	argv := append([]string{"-h", "127.0.0.1", "-p", port, "-U", "postgres"}, args...)
	cmd := exec.Command("pgbench", append(argv, "postgres")...)
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=10", "LC_ALL=C.UTF-8")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("pgbench %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// runPgbench is pgbenchCmd failing the test if pgbench fails.
func runPgbench(t *testing.T, port string, args ...string) string {
	t.Helper()
	out, err := pgbenchCmd(port, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
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
// VACUUM, primary keys). Server-side generation (-I dtGvp: one INSERT
// ... SELECT FROM generate_series per table) is runPgbenchMatrix's.
func TestPgbenchInit(t *testing.T) {
	g := startGateway(t)
	port := g.port("postgres")
	out := runPgbench(t, port, "-i", "-s", "1")
	if !pgbenchDone.MatchString(out) || !strings.Contains(out, "client-side generate") {
		t.Fatalf("pgbench -i:\n%s", out)
	}
	checkPgbenchTables(t, port, "1|10|100000|0")
}

// pgbenchRun is one pgbench run of a test: a built-in script (TPC-B,
// -S select only, -N simple update), a query mode and a client count.
type pgbenchRun struct {
	script, mode string
	clients      int
}

// pgbenchRuns covers every script in every query mode, with 1, 8 and
// 32 clients. The TPC-B runs come first: the balance check after them
// holds across all four tables.
var pgbenchRuns = []pgbenchRun{
	{"", "simple", 1}, {"", "extended", 8}, {"", "prepared", 32},
	{"-S", "simple", 32}, {"-S", "extended", 1}, {"-S", "prepared", 8},
	{"-N", "simple", 8}, {"-N", "extended", 32}, {"-N", "prepared", 1},
}

var (
	pgbenchProcessed = regexp.MustCompile(`(?m)^number of transactions actually processed: (\d+)/(\d+)$`)
	pgbenchFailed    = regexp.MustCompile(`(?m)^number of failed transactions: (\d+) `)
)

// checkPgbenchRun fails the test unless a run processed every
// transaction and none failed.
func checkPgbenchRun(t *testing.T, what, out string) {
	t.Helper()
	p, f := pgbenchProcessed.FindStringSubmatch(out), pgbenchFailed.FindStringSubmatch(out)
	if p == nil || p[1] != p[2] || (f != nil && f[1] != "0") {
		t.Errorf("%s: not every transaction completed:\n%s", what, out)
	}
}

// checkBalances checks that pgbench's transactions moved money
// consistently: the accounts hold what the history records, and (with
// every TPC-B transaction counted) so do the tellers and the branches.
func checkBalances(t *testing.T, port string, all bool) {
	t.Helper()
	got := psqlValue(t, port, `SELECT coalesce(sum(abalance), 0) FROM pgbench_accounts UNION ALL
		SELECT coalesce(sum(delta), 0) FROM pgbench_history UNION ALL
		SELECT coalesce(sum(tbalance), 0) FROM pgbench_tellers UNION ALL
		SELECT coalesce(sum(bbalance), 0) FROM pgbench_branches UNION ALL
		SELECT count(*) FROM pgbench_history`)
	v := strings.Split(got, "\n")
	if len(v) != 5 || v[0] != v[1] || v[2] != v[3] || (all && v[0] != v[2]) {
		t.Fatalf("balances (accounts, history, tellers, branches, history rows): %q", v)
	}
	if n, _ := strconv.Atoi(v[4]); n == 0 {
		t.Fatalf("no history rows: %q", v)
	}
}

// runPgbenchMatrix initializes pgbench's tables (server-side, scale 1)
// through the first port, then runs pgbenchRuns with one pgbench per
// port in parallel (-t transactions per client, up to 10 tries each),
// requiring every transaction to complete and the balances to agree.
func runPgbenchMatrix(t *testing.T, ports []string, tx int) {
	out := runPgbench(t, ports[0], "-i", "-I", "dtGvp", "-s", "1")
	if !pgbenchDone.MatchString(out) || !strings.Contains(out, "server-side generate") {
		t.Fatalf("pgbench -i -I dtGvp:\n%s", out)
	}
	checkPgbenchTables(t, ports[0], "1|10|100000|0")
	for i, r := range pgbenchRuns {
		if i > 0 && pgbenchRuns[i-1].script == "" && r.script != "" {
			checkBalances(t, ports[0], true)
		}
		args := []string{"-n", "-M", r.mode, "-c", strconv.Itoa(r.clients), "-j", "2", "-t", strconv.Itoa(tx), "--max-tries=10"}
		if r.script != "" {
			args = append(args, r.script)
		}
		what := fmt.Sprintf("pgbench %s", strings.Join(args, " "))
		outs := make([]string, len(ports))
		errs := make([]error, len(ports))
		var wg sync.WaitGroup
		for k, port := range ports {
			wg.Add(1)
			go func() {
				defer wg.Done()
				outs[k], errs[k] = pgbenchCmd(port, args...)
			}()
		}
		wg.Wait()
		for k := range ports {
			if errs[k] != nil {
				t.Fatal(errs[k])
			}
			checkPgbenchRun(t, fmt.Sprintf("%s (node %d)", what, k+1), outs[k])
		}
	}
	checkBalances(t, ports[0], false)
}

// TestPgbench runs pgbench's TPC-B-like, select-only and simple-update
// scripts in the simple, extended and prepared query modes with 1, 8
// and 32 clients against one node: no transaction may fail (40001 is
// retried by pgbench, and transactions that collide only on values they
// never showed replay at apply), and the balances must agree after.
func TestPgbench(t *testing.T) {
	g := startGateway(t)
	runPgbenchMatrix(t, []string{g.port("postgres")}, 10)
}

// TestPgbenchEnsemble is TestPgbench on a three-node ensemble, with one
// pgbench per node running at once.
func TestPgbenchEnsemble(t *testing.T) {
	e := startEnsemble(t, 3)
	var ports []string
	for _, g := range e.nodes {
		ports = append(ports, g.port("postgres"))
	}
	runPgbenchMatrix(t, ports, 4)
}
