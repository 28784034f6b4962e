package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPostgresDMLConflicts checks that a transaction block whose reads a
// concurrent statement changed fails at COMMIT with 40001 when running
// it again at its position would answer its client differently, for the
// reads constraint checks make too (a unique key taken, a referenced row
// deleted), and that a blind increment whose row changed is run again
// there and commits. The concurrent statement runs from inside the
// block through psql's \!, so the interleaving is fixed. (PostgreSQL
// would block the second writer on a row lock instead, so this is not a
// differential script.)
func TestPostgresDMLConflicts(t *testing.T) {
	g := startGateway(t)
	port := g.port("postgres")
	other := func(sql string) string {
		return fmt.Sprintf(`\! psql -X -h 127.0.0.1 -p %s -U postgres -d postgres -c '%s'`, port, sql)
	}
	script := strings.Join([]string{
		"CREATE TABLE t (id int PRIMARY KEY, n int);",
		"CREATE TABLE c (id int PRIMARY KEY, tid int REFERENCES t);",
		"INSERT INTO t VALUES (1, 0), (2, 0);",
		"BEGIN;",
		"UPDATE t SET n = n + 1 WHERE id = 1;",
		other("UPDATE t SET n = 10 WHERE id = 1"),
		"COMMIT;",
		"BEGIN;",
		"INSERT INTO t VALUES (5, 5);",
		other("INSERT INTO t VALUES (5, 50)"),
		"COMMIT;",
		"BEGIN;",
		"INSERT INTO c VALUES (1, 2);",
		other("DELETE FROM t WHERE id = 2"),
		"COMMIT;",
		"BEGIN;",
		"UPDATE t SET n = n + 1 WHERE id = 1;",
		"COMMIT;",
		"SELECT id, n FROM t ORDER BY id;",
		"SELECT id FROM c;",
		"",
	}, "\n")
	path := filepath.Join(t.TempDir(), "conflicts.sql")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ := psql(port, "postgres", "-v", "VERBOSITY=verbose", "-f", path)
	got := string(out)
	if n := strings.Count(got, "ERROR:  40001"); n != 2 {
		t.Errorf("want 2 serialization failures at COMMIT, got %d:\n%s", n, got)
	}
	// 10, then the replayed increment, then the last block's: 12.
	for _, want := range []string{"  1 | 12\n", "  5 | 50\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if !strings.HasSuffix(strings.TrimSpace(got), "(0 rows)") {
		t.Errorf("the referencing row should not be committed:\n%s", got)
	}
	if strings.Contains(got, "  2 | ") {
		t.Errorf("row 2 should be deleted:\n%s", got)
	}
}
