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
		`CREATE TEMP TABLE tmp (a int)`,
		`CREATE TEMP TABLE tmp AS SELECT 1`,
		`CREATE TEMP VIEW tmp AS SELECT 1`,
		`CREATE MATERIALIZED VIEW tmp AS SELECT 1`,
	} {
		if got := run(t, s, sql); !strings.HasPrefix(got, "ERROR: ") {
			t.Errorf("%s: got %q, want an error", sql, got)
		}
	}
	if got := run(t, s, `SELECT * FROM t`); got != "SELECT 0" {
		t.Errorf("after refusals: %q", got)
	}
}

// TestAlterTableOverBase alters a table whose rows live below the
// statement's overlay, as at apply: the rewrite must read each row whole.
func TestAlterTableOverBase(t *testing.T) {
	base := store.NewOverlay(store.Memory{}, false)
	run(t, base, `CREATE TABLE t (id int PRIMARY KEY, a int, b text);
INSERT INTO t VALUES (1, 10, 'x'), (2, NULL, 'y'), (3, 30, 'z');`)
	s := store.NewOverlay(base, false)
	got := run(t, s, `ALTER TABLE t ADD COLUMN c int DEFAULT 7, ALTER COLUMN a TYPE bigint;
SELECT * FROM t ORDER BY id;
ALTER TABLE t DROP CONSTRAINT t_pkey, ADD PRIMARY KEY (b);
SELECT id, b FROM t WHERE b = 'y';`)
	want := `ALTER TABLE
1|10|x|7
2|NULL|y|7
3|30|z|7
SELECT 3
ALTER TABLE
2|y
SELECT 1`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
