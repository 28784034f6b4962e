package exec_test

import (
	"strconv"
	"testing"

	"hourglass/personalities/sql/exec"
	"hourglass/personalities/sql/store"
)

const aggSchema = `CREATE TABLE e (id int PRIMARY KEY, dept text, pay int);
	INSERT INTO e VALUES (1, 'a', 10), (2, 'a', 30), (3, 'b', 20), (4, NULL, 5)`

func TestAggregatePlans(t *testing.T) {
	s := store.NewOverlay(store.Memory{}, false)
	run(t, s, aggSchema)
	for _, c := range []struct{ query, plan string }{
		{"SELECT count(*) FROM e", "Aggregate\n  ->  Seq Scan on e"},
		{"SELECT dept, sum(pay) FROM e GROUP BY dept", "HashAggregate\n  Group Key: dept\n  ->  Seq Scan on e"},
		{"SELECT dept FROM e GROUP BY dept ORDER BY dept", "Sort\n  Sort Key: dept\n  ->  HashAggregate\n        Group Key: dept\n        ->  Seq Scan on e"},
		{"SELECT row_number() OVER (ORDER BY id) FROM e", "WindowAgg\n  ->  Seq Scan on e"},
		{"SELECT DISTINCT ON (dept) dept, id FROM e", "Unique\n  ->  Sort\n        Sort Key: dept\n        ->  Seq Scan on e"},
	} {
		if got := explain(t, s, c.query); got != c.plan {
			t.Errorf("%s:\ngot\n%s\nwant\n%s", c.query, got, c.plan)
		}
	}
}

// TestAggregateResults checks grouping, windows and DISTINCT through the
// executor, and that running a statement twice gives the same rows (no map
// order or other nondeterminism reaches a result).
func TestAggregateResults(t *testing.T) {
	s := store.NewOverlay(store.Memory{}, false)
	run(t, s, aggSchema)
	for _, c := range []struct{ query, want string }{
		{"SELECT dept, count(*), sum(pay), avg(pay) FROM e GROUP BY dept ORDER BY dept NULLS FIRST",
			"NULL|1|5|5.0000000000000000\na|2|40|20.0000000000000000\nb|1|20|20.0000000000000000\nSELECT 3"},
		{"SELECT string_agg(dept, ',' ORDER BY id DESC), array_agg(pay ORDER BY pay) FROM e", "b,a,a|{5,10,20,30}\nSELECT 1"},
		{"SELECT id, rank() OVER (PARTITION BY dept ORDER BY pay DESC), sum(pay) OVER (ORDER BY id ROWS 1 PRECEDING) FROM e ORDER BY id",
			"1|2|10\n2|1|40\n3|1|50\n4|1|25\nSELECT 4"},
		{"SELECT DISTINCT dept FROM e ORDER BY 1", "a\nb\nNULL\nSELECT 3"},
		{"SELECT dept, sum(pay) FROM e GROUP BY ROLLUP (dept) ORDER BY 2", "NULL|5\nb|20\na|40\nNULL|65\nSELECT 4"},
		{"SELECT count(*) FROM e WHERE sum(pay) > 1", "ERROR: aggregate functions are not allowed in WHERE"},
		{"SELECT dept, pay FROM e GROUP BY dept", `ERROR: column "e.pay" must appear in the GROUP BY clause or be used in an aggregate function`},
	} {
		for i := 0; i < 2; i++ {
			if got := run(t, s, c.query); got != c.want {
				t.Errorf("%s (run %d):\ngot\n%s\nwant\n%s", c.query, i+1, got, c.want)
			}
		}
	}
}

// TestRandomIsSeeded checks that random() depends only on the statement's
// seed, so that every replica computes the same value.
func TestRandomIsSeeded(t *testing.T) {
	draw := func(seed uint64) string {
		s := store.NewOverlay(store.Memory{}, false)
		stmts, err := exec.Parse("SELECT random(), random()")
		if err != nil {
			t.Fatal(err)
		}
		env := &exec.Env{Store: s, Catalogs: &exec.Catalogs{}, Session: exec.NewSession("postgres", "postgres"), Seed: seed}
		res, err := exec.Execute(env, stmts[0], nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		r := res.Rows[0]
		if r[0] == r[1] {
			t.Fatalf("two draws in one statement are equal: %v", r)
		}
		return formatRow(r)
	}
	if a, b := draw(7), draw(7); a != b {
		t.Fatalf("same seed, different values: %s vs %s", a, b)
	}
	if a, b := draw(7), draw(8); a == b {
		t.Fatalf("different seeds, same values: %s", a)
	}
}

func formatRow(r exec.Row) string {
	out := ""
	for _, v := range r {
		out += "|" + fmtAny(v)
	}
	return out
}

func fmtAny(v any) string {
	if f, ok := v.(float64); ok {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return "?"
}
