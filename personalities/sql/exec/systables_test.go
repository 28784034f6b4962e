package exec_test

import (
	"bytes"
	"testing"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/store"
)

// TestSystemTablesFollowTheCatalog checks that pg_catalog rows come from
// the catalog the statement sees, the same on every run, and that reading
// them records the catalog version in the read set (so a transaction that
// read them conflicts with later DDL).
func TestSystemTablesFollowTheCatalog(t *testing.T) {
	base := store.NewOverlay(store.Memory{}, false)
	run(t, base, `CREATE TABLE b (id int PRIMARY KEY, v text); CREATE TABLE a (x int)`)
	query := `SELECT relname, relkind, relnatts FROM pg_class WHERE relnamespace = 2200 ORDER BY relname;
		SELECT attname, atttypid::regtype::text FROM pg_attribute WHERE attrelid = 'b'::regclass AND attnum > 0 ORDER BY attnum`
	want := "a|r|1\nb|r|2\nb_pkey|i|1\nSELECT 3\nid|integer\nv|text\nSELECT 2"
	for i := 0; i < 3; i++ {
		tx := store.NewOverlay(base, true)
		if got := run(t, tx, query); got != want {
			t.Fatalf("run %d:\n%s\nwant:\n%s", i, got, want)
		}
		found := false
		for _, p := range tx.Reads().Points {
			found = found || bytes.Equal(p.Key, catalog.VersionKey())
		}
		if !found {
			t.Fatalf("run %d: the read set lacks the catalog version key", i)
		}
	}
	run(t, base, `DROP TABLE a`)
	if got := run(t, base, `SELECT relname FROM pg_class WHERE relnamespace = 2200 ORDER BY relname`); got != "b\nb_pkey\nSELECT 2" {
		t.Fatalf("after DROP: %s", got)
	}
}
