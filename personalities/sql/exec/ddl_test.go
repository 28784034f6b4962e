package exec_test

import (
	"strings"
	"testing"

	"hourglass/personalities/sql/store"
)

// TestDDLRefusals checks the DDL this server refuses on purpose fails
// with 0A000 and leaves nothing behind.
func TestDDLRefusals(t *testing.T) {
	s := store.NewOverlay(store.Memory{}, false)
	run(t, s, `CREATE TABLE t (id int PRIMARY KEY, a int, b text)`)
	for _, sql := range []string{
		`CREATE INDEX ON t USING hash (a)`,
		`CREATE INDEX ON t ((a + 1))`,
		`CREATE INDEX ON t (a) WHERE a > 1`,
		`CREATE INDEX ON t (a) INCLUDE (b)`,
		`CREATE INDEX ON t (a NULLS FIRST)`,
		`CREATE DATABASE other`,
		`ALTER TABLE t ADD CHECK (a > 0)`,
	} {
		if got := run(t, s, sql); !strings.HasPrefix(got, "ERROR: ") {
			t.Errorf("%s: got %q, want an error", sql, got)
		}
	}
	if got := run(t, s, `SELECT * FROM t`); got != "SELECT 0" {
		t.Errorf("after refusals: %q", got)
	}
}

func TestAlterTableScratch(t *testing.T) {
	base := store.NewOverlay(store.Memory{}, false)
	run(t, base, `CREATE TABLE t (id int PRIMARY KEY, a int, b text);
INSERT INTO t VALUES (1, 10, 'x'), (2, NULL, 'y');`)
	s := store.NewOverlay(base, false)
	t.Log(run(t, s, `ALTER TABLE t ADD COLUMN c int DEFAULT 7;
SELECT * FROM t ORDER BY id;`))
}
