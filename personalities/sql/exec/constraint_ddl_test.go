package exec

import (
	"strings"
	"testing"

	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/store"
	"hourglass/personalities/sql/types"
)

// tableConstraint parses the first table constraint of a CREATE TABLE.
func tableConstraint(t *testing.T, sql string) *pg.Constraint {
	t.Helper()
	tree, err := pg.Parse(sql)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range tree.Stmts[0].Stmt.GetCreateStmt().TableElts {
		if c := e.GetConstraint(); c != nil {
			return c
		}
	}
	t.Fatalf("no table constraint in %s", sql)
	return nil
}

// TestAddConstraintValidates checks addCheck and addForeignKey as ALTER
// TABLE ADD CONSTRAINT uses them: existing rows are validated, and a
// constraint that holds is added under Postgres's generated name.
func TestAddConstraintValidates(t *testing.T) {
	s := store.NewOverlay(store.Memory{}, false)
	env := &Env{Store: s, Catalogs: &Catalogs{}, Session: NewSession("postgres", "postgres")}
	for _, sql := range []string{
		"CREATE TABLE p (id int PRIMARY KEY)",
		"CREATE TABLE c (id int PRIMARY KEY, pid int, n int)",
		"INSERT INTO p VALUES (1)",
		"INSERT INTO c VALUES (1, 1, 5), (2, 2, -1)",
	} {
		stmts, err := Parse(sql)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Execute(env, stmts[0], nil, nil); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		env.CatalogChanged()
	}
	a, err := newAnalyzer(env, &[]types.Type{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := &EvalCtx{Env: env}
	orig := a.cat.Relation(2200, "c")
	c := *orig
	c.Constraints = append(c.Constraints[:0:0], orig.Constraints...)

	err = a.addCheck(ctx, &c, tableConstraint(t, "CREATE TABLE x (CHECK (n > 0))"), true)
	if err == nil || !strings.Contains(err.Error(), `check constraint "c_n_check" of relation "c" is violated by some row`) {
		t.Fatalf("addCheck over a violating row: %v", err)
	}
	if err := a.addCheck(ctx, &c, tableConstraint(t, "CREATE TABLE x (CHECK (n > -10))"), true); err != nil {
		t.Fatalf("addCheck: %v", err)
	}
	err = a.addForeignKey(ctx, &c, tableConstraint(t, "CREATE TABLE x (FOREIGN KEY (pid) REFERENCES p)"), "", true)
	if err == nil || !strings.Contains(err.Error(), `violates foreign key constraint "c_pid_fkey"`) {
		t.Fatalf("addForeignKey over a violating row: %v", err)
	}
	if _, err := Execute(env, mustParse(t, "DELETE FROM c WHERE id = 2"), nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := a.addForeignKey(ctx, &c, tableConstraint(t, "CREATE TABLE x (FOREIGN KEY (pid) REFERENCES p ON DELETE CASCADE)"), "", true); err != nil {
		t.Fatalf("addForeignKey: %v", err)
	}
	var names []string
	for _, k := range c.Constraints {
		names = append(names, k.Name)
	}
	if got := strings.Join(names, ","); got != "c_pkey,c_n_check,c_pid_fkey" {
		t.Fatalf("constraints %s", got)
	}
	if len(orig.Constraints) != 1 {
		t.Fatalf("the catalog's object changed")
	}
}

func mustParse(t *testing.T, sql string) *Statement {
	t.Helper()
	stmts, err := Parse(sql)
	if err != nil {
		t.Fatal(err)
	}
	return stmts[0]
}
