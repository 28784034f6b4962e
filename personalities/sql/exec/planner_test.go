package exec_test

import (
	"strings"
	"testing"

	"hourglass/personalities/sql/exec"
	"hourglass/personalities/sql/store"
	"hourglass/personalities/sql/types"
)

const plannerSchema = `CREATE TABLE t (id int PRIMARY KEY, k int UNIQUE, v text);
	CREATE TABLE u (a int, b int, c text, PRIMARY KEY (a, b));
	CREATE TABLE h (x int, y text);
	INSERT INTO t VALUES (1, 10, 'a'), (2, 20, 'b'), (3, 30, 'c'), (4, NULL, 'd');
	INSERT INTO u VALUES (1, 1, 'x'), (1, 2, 'y'), (2, 1, 'z');
	INSERT INTO h VALUES (1, 'p'), (2, 'q'), (9, 'r')`

// explain returns EXPLAIN's lines for a query.
func explain(t *testing.T, s store.Store, query string) string {
	t.Helper()
	out := run(t, s, "EXPLAIN (COSTS OFF) "+query)
	return strings.TrimSuffix(out, "\nEXPLAIN")
}

func TestPlans(t *testing.T) {
	s := store.NewOverlay(store.Memory{}, false)
	run(t, s, plannerSchema)
	for _, c := range []struct{ query, plan string }{
		{"SELECT * FROM t WHERE id = 2", "Index Scan using t_pkey on t\n  Index Cond: (id = 2)"},
		{"SELECT * FROM t WHERE 2 = id AND v = 'b'", "Index Scan using t_pkey on t\n  Index Cond: (id = 2)\n  Filter: (v = 'b'::text)"},
		{"SELECT * FROM t WHERE id > 1 AND id <= 3", "Index Scan using t_pkey on t\n  Index Cond: ((id > 1) AND (id <= 3))"},
		{"SELECT * FROM t WHERE id BETWEEN 1 AND 3", "Index Scan using t_pkey on t\n  Index Cond: ((id >= 1) AND (id <= 3))"},
		{"SELECT * FROM t WHERE id IN (1, 3)", "Index Scan using t_pkey on t\n  Index Cond: ((id = 1) OR (id = 3))"},
		{"SELECT * FROM t WHERE k = 20", "Index Scan using t_k_key on t\n  Index Cond: (k = 20)"},
		{"SELECT * FROM t WHERE v = 'a'", "Seq Scan on t\n  Filter: (v = 'a'::text)"},
		{"SELECT * FROM u WHERE a = 1", "Index Scan using u_pkey on u\n  Index Cond: (a = 1)"},
		{"SELECT * FROM u WHERE b = 1", "Seq Scan on u\n  Filter: (b = 1)"},
		{"SELECT * FROM u WHERE a = 1 AND b > 1", "Index Scan using u_pkey on u\n  Index Cond: ((a = 1) AND (b > 1))"},
		{"SELECT * FROM h JOIN t ON t.id = h.x", "Nested Loop\n  ->  Seq Scan on h\n  ->  Index Scan using t_pkey on t\n        Index Cond: (t.id = h.x)"},
		{"SELECT * FROM t JOIN h ON t.v = h.y", "Hash Join\n  Hash Cond: (t.v = h.y)\n  ->  Seq Scan on t\n  ->  Hash\n        ->  Seq Scan on h"},
		{"SELECT * FROM t, h WHERE t.id < h.x", "Nested Loop\n  Join Filter: (t.id < h.x)\n  ->  Seq Scan on t\n  ->  Seq Scan on h"},
		{"SELECT * FROM t, h WHERE t.id = 1 AND h.x = t.k", "Hash Join\n  Hash Cond: (h.x = t.k)\n  ->  Index Scan using t_pkey on t\n        Index Cond: (t.id = 1)\n  ->  Hash\n        ->  Seq Scan on h"},
		{"SELECT * FROM h WHERE x = (SELECT id FROM t WHERE id = 1)", "Seq Scan on h\n  Filter: (x = (SubPlan))"},
		{"SELECT * FROM t ORDER BY v LIMIT 1", "Limit\n  ->  Sort\n        Sort Key: v\n        ->  Seq Scan on t"},
		{"SELECT * FROM t ORDER BY id", "Sort\n  Sort Key: id\n  ->  Seq Scan on t"},
		{"SELECT * FROM t ORDER BY id LIMIT 2", "Limit\n  ->  Index Scan using t_pkey on t"},
		{"SELECT * FROM t WHERE v <> 'a' ORDER BY k DESC LIMIT 2", "Limit\n  ->  Index Scan Backward using t_k_key on t\n        Filter: (v <> 'a'::text)"},
		{"SELECT * FROM t WHERE id > 1 ORDER BY id DESC", "Index Scan Backward using t_pkey on t\n  Index Cond: (id > 1)"},
		{"SELECT * FROM u WHERE a = 1 ORDER BY b", "Index Scan using u_pkey on u\n  Index Cond: (a = 1)"},
		{"SELECT * FROM u WHERE a IN (1, 2) ORDER BY b", "Sort\n  Sort Key: b\n  ->  Index Scan using u_pkey on u\n        Index Cond: ((a = 1) OR (a = 2))"},
		{"SELECT * FROM u ORDER BY a, b LIMIT 1", "Limit\n  ->  Index Scan using u_pkey on u"},
	} {
		if got := explain(t, s, c.query); got != c.plan {
			t.Errorf("%s:\ngot\n%s\nwant\n%s", c.query, got, c.plan)
		}
	}
}

// TestIndexScanParams checks that a parameter selects the index range.
func TestIndexScanParams(t *testing.T) {
	s := store.NewOverlay(store.Memory{}, false)
	run(t, s, plannerSchema)
	stmts, err := exec.Parse("SELECT v FROM t WHERE id = $1")
	if err != nil {
		t.Fatal(err)
	}
	env := &exec.Env{Store: s, Catalogs: &exec.Catalogs{}, Session: exec.NewSession("postgres", "postgres")}
	res, err := exec.Execute(env, stmts[0], []types.Type{types.Int4Type}, []any{int64(3)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 1 || res.Rows[0][0] != "c" {
		t.Fatalf("got %v", res.Rows)
	}
}

// TestIndexReadSet checks that an index scan records only the key range
// it reads, so a write elsewhere in the table does not conflict with it.
func TestIndexReadSet(t *testing.T) {
	base := store.NewOverlay(store.Memory{}, false)
	run(t, base, plannerSchema)
	for _, c := range []struct {
		query    string
		conflict bool
	}{
		{"SELECT * FROM t WHERE id = 2", false},
		{"SELECT * FROM t WHERE id < 3", false},
		{"SELECT * FROM t WHERE id IN (1, 3)", false},
		{"SELECT * FROM t WHERE k = 20", false},
		{"SELECT * FROM t WHERE id = 5", true},
		{"SELECT * FROM t WHERE id > 2", true},
		{"SELECT * FROM t WHERE k BETWEEN 40 AND 60", true},
		{"SELECT * FROM t WHERE v = 'zz'", true},
	} {
		tx := store.NewOverlay(base, true)
		run(t, tx, c.query)
		// Another transaction adds row 5.
		other := store.NewOverlay(base, false)
		if out := run(t, other, "INSERT INTO t VALUES (5, 50, 'e')"); out != "INSERT 0 1" {
			t.Fatal(out)
		}
		err := store.Validate(other, tx.Reads())
		if (err != nil) != c.conflict {
			t.Errorf("%s: validate after row 5 was added = %v, want conflict %v", c.query, err, c.conflict)
		}
	}
}

func TestJoinResultsMatchWithoutIndexes(t *testing.T) {
	s := store.NewOverlay(store.Memory{}, false)
	run(t, s, plannerSchema+`;
		CREATE TABLE t2 (id int, k int, v text);
		INSERT INTO t2 SELECT * FROM t`)
	for _, q := range []string{
		"SELECT h.x, TT.v FROM h JOIN TT ON TT.id = h.x ORDER BY 1",
		"SELECT h.x, TT.v FROM h LEFT JOIN TT ON TT.id = h.x ORDER BY 1",
		"SELECT TT.id FROM TT WHERE TT.id IN (2, 4, 4, 9) ORDER BY 1",
		"SELECT TT.id FROM TT WHERE TT.id > 1 AND TT.id < 4 ORDER BY 1 DESC",
		"SELECT TT.id FROM TT WHERE TT.k >= 20 ORDER BY 1",
	} {
		with := run(t, s, strings.ReplaceAll(q, "TT", "t"))
		without := run(t, s, strings.ReplaceAll(q, "TT", "t2"))
		if with != without || strings.Contains(with, "ERROR") {
			t.Errorf("%s: with indexes\n%s\nwithout\n%s", q, with, without)
		}
	}
}
