package exec

import (
	"testing"

	"hourglass/personalities/sql/store"
	"hourglass/personalities/sql/types"
)

func TestSimpleStatement(t *testing.T) {
	for sql, want := range map[string]bool{
		"UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2":                                  true,
		"SELECT abalance FROM pgbench_accounts WHERE aid = $1":                                                 true,
		"INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)": true,
		"DELETE FROM t WHERE id = $1":                                                                          true,
		"SELECT 1":                                                                                             true,
		"SELECT * FROM t WHERE id IN (SELECT id FROM u)":                                                       false,
		"WITH c AS (SELECT 1) SELECT * FROM c":                                                                 false,
		"SELECT * FROM t JOIN u USING (id)":                                                                    false,
		"SELECT * FROM t, u":                                                                                   false,
		"SELECT count(*) FROM t":                                                                               false,
		"SELECT id FROM t GROUP BY id":                                                                         false,
		"SELECT 1 UNION SELECT 2":                                                                              false,
		"INSERT INTO t SELECT * FROM u":                                                                        false,
		"INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING":                                                      false,
		"UPDATE t SET v = u.v FROM u WHERE t.id = u.id":                                                        false,
		"SELECT * FROM generate_series(1, 3)":                                                                  false,
		"CREATE TABLE x (a int)":                                                                               false,
		"UPDATE t SET v = (SELECT max(v) FROM u)":                                                              false,
		"SELECT * FROM (SELECT 1) s":                                                                           false,
	} {
		stmts, err := Parse(sql)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		if got := simpleStatement(stmts[0].Node); got != want {
			t.Errorf("%s: simple = %v, want %v", sql, got, want)
		}
	}
}

// TestPlanReuse runs one parsed statement in several Envs, as a prepared
// statement's Executes do: the kept plan reads each Env's own store and
// parameters, and a catalog change (ALTER TABLE) or a session setting
// (search_path) makes it plan again.
func TestPlanReuse(t *testing.T) {
	base := store.NewOverlay(store.Memory{}, false)
	cats := &Catalogs{}
	sess := NewSession("postgres", "postgres")
	exec := func(st *Statement, st0 store.Store, params []types.Type, values ...any) *Result {
		t.Helper()
		res, err := Execute(&Env{Store: st0, Catalogs: cats, Session: sess}, st, params, values)
		if err != nil {
			t.Fatalf("%s: %v", st.SQL, err)
		}
		return res
	}
	parse := func(sql string) *Statement {
		stmts, err := Parse(sql)
		if err != nil {
			t.Fatal(err)
		}
		return stmts[0]
	}
	exec(parse("CREATE TABLE t (id int PRIMARY KEY, v int)"), base, nil)
	exec(parse("INSERT INTO t VALUES (1, 10), (2, 20)"), base, nil)
	s := store.NewOverlay(base, false)
	sel := parse("SELECT * FROM t WHERE id = $1")
	int4 := []types.Type{types.T(types.OidInt4)}
	if r := exec(sel, s, int4, int64(1)); len(r.Rows) != 1 || r.Rows[0][1] != int64(10) {
		t.Fatalf("first run: %v", r.Rows)
	}
	kept := sel.plans.mu.p
	if kept == nil {
		t.Fatal("the plan was not kept")
	}
	// Another transaction's overlay, with its own write: the kept plan
	// reads it.
	o := store.NewOverlay(base, false)
	exec(parse("UPDATE t SET v = 21 WHERE id = 2"), o, nil)
	if r := exec(sel, o, int4, int64(2)); len(r.Rows) != 1 || r.Rows[0][1] != int64(21) {
		t.Fatalf("run in another overlay: %v", r.Rows)
	}
	if sel.plans.mu.p != kept {
		t.Fatal("the kept plan was not reused")
	}
	if r := exec(sel, s, int4, int64(2)); r.Rows[0][1] != int64(20) {
		t.Fatalf("run in the first overlay: %v", r.Rows)
	}
	sess.SearchPath = []string{"public"}
	exec(sel, s, int4, int64(1))
	if sel.plans.mu.p == kept {
		t.Fatal("a new search_path reused the plan")
	}
	exec(parse("ALTER TABLE t ADD COLUMN w int DEFAULT 7"), s, nil)
	if r := exec(sel, s, int4, int64(1)); len(r.Columns) != 3 || r.Rows[0][2] != int64(7) {
		t.Fatalf("after ALTER TABLE: %v %v", r.Columns, r.Rows)
	}
}
