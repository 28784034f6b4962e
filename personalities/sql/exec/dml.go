package exec

import (
	"fmt"

	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// UPDATE and DELETE. Both read the rows they change through a plan (the
// target table joined with the FROM / USING items, filtered by WHERE,
// planned as SELECT's FROM and WHERE are: index scans and joins
// included), materialize them, then write through a tableWriter, so a
// statement never sees its own writes (no Halloween problem) and every
// constraint is enforced. A target row that joins several FROM rows is changed once,
// with the first match (Postgres leaves the choice unspecified).

// dmlSource plans the rows an UPDATE or DELETE acts on: the target table
// (rows as Table reads them, first in each joined row), the extra FROM
// items, and WHERE.
func (a *analyzer) dmlSource(verb string, rv *pg.RangeVar, from []*pg.Node, where *pg.Node) (*Table, *Scope, Plan, error) {
	obj, err := a.targetTable(verb, rv)
	if err != nil {
		return nil, nil, nil, err
	}
	t := OpenTable(a.cat, obj)
	scope := &Scope{}
	items := append([]*pg.Node{{Node: &pg.Node_RangeVar{RangeVar: rv}}}, from...)
	input, err := a.fromWhere(items, where, scope)
	if err != nil {
		return nil, nil, nil, err
	}
	return t, scope, input, nil
}

// dmlRows runs a DML source and returns its rows, each target row once.
func dmlRows(ctx *EvalCtx, t *Table, p Plan) ([]Row, error) {
	it, err := p.Open(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []Row
	err = eachRow(it, func(r Row) error {
		k := string(r[len(t.Obj.Columns)].([]byte))
		if !seen[k] {
			seen[k] = true
			out = append(out, append(Row(nil), r...))
		}
		return nil
	})
	return out, err
}

// eachRow calls f on every row of it, then closes it.
func eachRow(it Iter, f func(Row) error) error {
	for {
		r, err := it.Next()
		if err == nil && r != nil {
			err = f(r)
		}
		if err != nil || r == nil {
			if cerr := it.Close(); err == nil {
				err = cerr
			}
			return err
		}
	}
}

// setClause is one assignment of UPDATE's SET: a column and its new
// value's expression (nil: DEFAULT).
type setClause struct {
	pos  int
	expr Expr
}

// setList analyzes UPDATE's SET list (col = expr, (a, b) = (x, y),
// col = DEFAULT) in scope.
func (a *analyzer) setList(t *Table, list []*pg.Node, scope *Scope) ([]setClause, error) {
	var out []setClause
	for _, n := range list {
		rt := n.GetResTarget()
		c := t.Obj.ColumnByName(rt.Name)
		if c == nil {
			return nil, pgerror.New(pgerror.UndefinedColumn, "column \"%s\" of relation \"%s\" does not exist", rt.Name, t.Obj.Name).WithPosition(rt.Location + 1)
		}
		if len(rt.Indirection) > 0 {
			return nil, pgerror.New(pgerror.FeatureNotSupported, "assignment to a subscript or field is not supported").WithPosition(rt.Location + 1)
		}
		pos := t.columnIndex(c.Num)
		for _, prev := range out {
			if prev.pos == pos {
				return nil, pgerror.New(pgerror.SyntaxError, "multiple assignments to same column \"%s\"", c.Name)
			}
		}
		val := rt.Val
		if m := val.GetMultiAssignRef(); m != nil {
			row := m.Source.GetRowExpr()
			if row == nil {
				e := pgerror.New(pgerror.FeatureNotSupported, "source for a multiple-column UPDATE item must be a sub-SELECT or ROW() expression")
				if loc := nodeLocation(m.Source); loc > 0 {
					e = e.WithPosition(loc)
				}
				return nil, e
			}
			if len(row.Args) != int(m.Ncolumns) {
				return nil, pgerror.New(pgerror.SyntaxError, "number of columns does not match number of values").WithPosition(row.Location + 1)
			}
			val = row.Args[m.Colno-1]
		}
		sc := setClause{pos: pos}
		if val.GetSetToDefault() == nil {
			e, err := a.expr(val, scope)
			if err != nil {
				return nil, err
			}
			if sc.expr, err = a.assignAt(e, c, val); err != nil {
				return nil, err
			}
			if c.Identity == 'a' {
				return nil, pgerror.New(pgerror.GeneratedAlways, "column \"%s\" can only be updated to DEFAULT", c.Name).
					WithDetail("Column \"%s\" is an identity column defined as GENERATED ALWAYS.", c.Name)
			}
		}
		out = append(out, sc)
	}
	return out, nil
}

// assignAt is assign with the error placed at the expression n, where
// Postgres places it: a type mismatch, or a literal's input error (not
// its length or precision check).
func (a *analyzer) assignAt(e Expr, c *catalog.Column, n *pg.Node) (Expr, error) {
	out, err := a.assign(e, c)
	literal := false
	if k, ok := e.(*Const); ok && k.T.Oid == types.OidUnknown {
		literal = true
	}
	if pe, ok := err.(*pgerror.Error); ok && pe.Position == 0 && (pe.Code == pgerror.DatatypeMismatch || literal && pe.Code != "22001") {
		if loc := nodeLocation(n); loc > 0 {
			pe.Position = loc
		}
	}
	return out, err
}

// updateStmt plans UPDATE ... SET ... [FROM] [WHERE] [RETURNING].
func (a *analyzer) updateStmt(u *pg.UpdateStmt) (*planned, error) {
	if u.WithClause != nil {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "WITH is not supported")
	}
	t, scope, source, err := a.dmlSource("update", u.Relation, u.FromClause, u.WhereClause)
	if err != nil {
		return nil, err
	}
	sets, err := a.setList(t, u.TargetList, scope)
	if err != nil {
		return nil, err
	}
	defaults, err := a.defaults(t.Obj)
	if err != nil {
		return nil, err
	}
	return a.dmlPlan("UPDATE", t, source, u.ReturningList, scope, func(ctx *EvalCtx, w *tableWriter, old, joined Row) (Row, error) {
		row := append(Row(nil), old...)
		if err := applySets(ctx, sets, defaults, joined, row); err != nil {
			return nil, err
		}
		return row, w.update(ctx, old, row)
	})
}

// applySets evaluates SET assignments over joined into row (defaults
// serve DEFAULT).
func applySets(ctx *EvalCtx, sets []setClause, defaults []Expr, joined, row Row) error {
	for _, s := range sets {
		e := s.expr
		if e == nil {
			e = defaults[s.pos]
		}
		var v any
		if e != nil {
			var err error
			if v, err = e.Eval(ctx, joined); err != nil {
				return err
			}
		}
		row[s.pos] = v
	}
	return nil
}

// deleteStmt plans DELETE FROM ... [USING] [WHERE] [RETURNING].
func (a *analyzer) deleteStmt(d *pg.DeleteStmt) (*planned, error) {
	if d.WithClause != nil {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "WITH is not supported")
	}
	t, scope, source, err := a.dmlSource("delete from", d.Relation, d.UsingClause, d.WhereClause)
	if err != nil {
		return nil, err
	}
	return a.dmlPlan("DELETE", t, source, d.ReturningList, scope, func(ctx *EvalCtx, w *tableWriter, old, _ Row) (Row, error) {
		return old, w.delete(ctx, old)
	})
}

// dmlPlan plans an UPDATE or DELETE: write is called on each target row
// (old, as read; joined, with the FROM items' columns after it) and
// returns the row RETURNING sees for the target.
func (a *analyzer) dmlPlan(verb string, t *Table, source Plan, returning []*pg.Node, scope *Scope, write func(ctx *EvalCtx, w *tableWriter, old, joined Row) (Row, error)) (*planned, error) {
	ret, err := a.returningIn(returning, scope)
	if err != nil {
		return nil, err
	}
	run := func(ctx *EvalCtx) (*Result, error) {
		rows, err := dmlRows(ctx, t, source)
		if err != nil {
			return nil, err
		}
		st := newDMLState(a)
		w, err := st.writer(t.Obj)
		if err != nil {
			return nil, err
		}
		res := &Result{Columns: ret.columns()}
		width := t.Width()
		for _, joined := range rows {
			row, err := write(ctx, w, joined[:width], joined)
			if err != nil {
				return nil, err
			}
			out := append(append(Row(nil), row...), joined[width:]...)
			if err := ret.add(ctx, res, out); err != nil {
				return nil, err
			}
		}
		if err := st.finish(ctx); err != nil {
			return nil, err
		}
		res.Tag = fmt.Sprintf("%s %d", verb, len(rows))
		return res, nil
	}
	return &planned{rows: ret.plan(), run: run}, nil
}
