package exec_test

import (
	"strings"
	"testing"

	"hourglass/personalities/sql/exec"
	"hourglass/personalities/sql/store"
	"hourglass/personalities/sql/types"
)

// run executes each statement of sql against s and returns the results'
// tags and rows as text.
func run(t *testing.T, s store.Store, sql string) string {
	t.Helper()
	stmts, err := exec.Parse(sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	env := &exec.Env{Store: s, Catalogs: &exec.Catalogs{}, Session: exec.NewSession("postgres", "postgres")}
	var out []string
	for _, st := range stmts {
		res, err := exec.Execute(env, st, nil, nil)
		if err != nil {
			out = append(out, "ERROR: "+err.Error())
			continue
		}
		for _, r := range res.Rows {
			var vals []string
			for i, v := range r {
				if v == nil {
					vals = append(vals, "NULL")
				} else {
					vals = append(vals, types.Format(res.Columns[i].Type, v, nil))
				}
			}
			out = append(out, strings.Join(vals, "|"))
		}
		out = append(out, res.Tag)
	}
	return strings.Join(out, "\n")
}

func TestCreateInsertSelect(t *testing.T) {
	s := store.NewOverlay(store.Memory{}, false)
	got := run(t, s, `CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL, n bigint);
		INSERT INTO t VALUES (2, 'b', NULL), (1, 'a', 10);
		INSERT INTO t (v, id) VALUES ('c', 3) RETURNING id, v;
		SELECT id, v, n FROM t WHERE id >= 2 ORDER BY id DESC;
		INSERT INTO t VALUES (1, 'dup', 0);
		INSERT INTO t VALUES (4, NULL, 0);
		SELECT count FROM t`)
	want := `CREATE TABLE
INSERT 0 2
3|c
INSERT 0 1
3|c|NULL
2|b|NULL
SELECT 2
ERROR: duplicate key value violates unique constraint "t_pkey"
ERROR: null value in column "v" of relation "t" violates not-null constraint
ERROR: column "count" does not exist`
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestSerial(t *testing.T) {
	s := store.NewOverlay(store.Memory{}, false)
	got := run(t, s, `CREATE TABLE s (id serial PRIMARY KEY, v text);
		INSERT INTO s (v) VALUES ('x'), ('y') RETURNING id;
		SELECT id, v FROM s ORDER BY 1`)
	want := "CREATE TABLE\n1\n2\nINSERT 0 2\n1|x\n2|y\nSELECT 2"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}
