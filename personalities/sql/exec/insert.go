package exec

import (
	"fmt"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// targetTable resolves the table a DML statement writes; verb names the
// statement's action ("insert into", "update", "delete from").
func (a *analyzer) targetTable(verb string, rv *pg.RangeVar) (*catalog.Object, error) {
	if t := a.systemRelation(rv); t != nil && t.Foreign != nil {
		return nil, readOnlyView(t, verb)
	}
	obj, err := a.relation(rv)
	if err != nil {
		return nil, err
	}
	if obj.RelKind != catalog.RelTable {
		return nil, pgerror.New(pgerror.WrongObjectType, "cannot change relation \"%s\"", obj.Name)
	}
	return obj, nil
}

// insertStmt plans INSERT ... VALUES / SELECT [RETURNING].
func (a *analyzer) insertStmt(ins *pg.InsertStmt) (*planned, error) {
	obj, err := a.targetTable("insert into", ins.Relation)
	if err != nil {
		return nil, err
	}
	t := OpenTable(a.cat, obj)
	// The target columns, in the order the source supplies them.
	var targets []*catalog.Column
	if len(ins.Cols) == 0 {
		targets = obj.LiveColumns()
	} else {
		for _, n := range ins.Cols {
			rt := n.GetResTarget()
			c := obj.ColumnByName(rt.Name)
			if c == nil {
				return nil, pgerror.New(pgerror.UndefinedColumn, "column \"%s\" of relation \"%s\" does not exist", rt.Name, obj.Name).WithPosition(rt.Location + 1)
			}
			for _, prev := range targets {
				if prev == c {
					return nil, pgerror.New(pgerror.DuplicateColumn, "column \"%s\" specified more than once", c.Name).WithPosition(rt.Location + 1)
				}
			}
			targets = append(targets, c)
		}
	}
	src := ins.SelectStmt.GetSelectStmt()
	var rows [][]Expr // nil entries: DEFAULT
	var source Plan
	if len(ins.Cols) == 0 && src != nil {
		// Without a column list, the source fills the leading columns;
		// the rest take their defaults.
		n := 0
		if len(src.ValuesLists) > 0 {
			n = len(src.ValuesLists[0].GetList().Items)
		} else {
			n = len(src.TargetList)
		}
		if n < len(targets) && n > 0 && !hasStar(src) {
			targets = targets[:n]
		}
	}
	if src != nil && len(src.ValuesLists) > 0 {
		for _, l := range src.ValuesLists {
			items := l.GetList().Items
			if len(items) > len(targets) {
				return nil, tooManyExprs(items[len(targets)])
			}
			if len(items) < len(targets) {
				return nil, tooManyTargets(ins.Cols, len(items))
			}
			row := make([]Expr, len(items))
			for i, n := range items {
				if n.GetSetToDefault() != nil {
					continue
				}
				if skip, err := identityValue(targets[i], ins.Override); err != nil || skip {
					if err != nil {
						return nil, err
					}
					continue
				}
				e, err := a.expr(n, nil)
				if err != nil {
					return nil, err
				}
				if row[i], err = a.assignAt(e, targets[i], n); err != nil {
					return nil, err
				}
			}
			rows = append(rows, row)
		}
	} else if src != nil {
		if source, err = a.selectStmt(src, nil); err != nil {
			return nil, err
		}
		cols := visible(source.Columns())
		if len(cols) > len(targets) {
			var extra *pg.Node
			if len(targets) < len(src.TargetList) {
				extra = src.TargetList[len(targets)].GetResTarget().Val
			}
			return nil, tooManyExprs(extra)
		}
		if len(cols) < len(targets) {
			return nil, tooManyTargets(ins.Cols, len(cols))
		}
		for _, c := range targets {
			if _, err := identityValue(c, ins.Override); err != nil {
				return nil, err
			}
		}
	} else {
		rows = [][]Expr{{}} // DEFAULT VALUES
		targets = nil
	}
	defaults, err := a.defaults(obj)
	if err != nil {
		return nil, err
	}
	alias := obj.Name
	if ins.Relation.Alias != nil {
		alias = ins.Relation.Alias.Aliasname
	}
	ret, err := a.returningIn(ins.ReturningList, tableScope(t, alias))
	if err != nil {
		return nil, err
	}
	var upsert *onConflict
	if ins.OnConflictClause != nil {
		if upsert, err = a.onConflictClause(ins.OnConflictClause, t, alias); err != nil {
			return nil, err
		}
	}
	var srcCols []Column
	if source != nil {
		srcCols = source.Columns()
	}
	run := func(ctx *EvalCtx) (*Result, error) {
		count := 0
		res := &Result{}
		st := newDMLState(a)
		w, err := st.writer(obj)
		if err != nil {
			return nil, err
		}
		touched := map[string]bool{}
		insertRow := func(values []any) error {
			row := make(Row, t.Width())
			set := make([]bool, len(obj.Columns))
			for i, c := range targets {
				if source != nil && ins.Override == pg.OverridingKind_OVERRIDING_USER_VALUE && c.Identity != 0 {
					continue
				}
				pos := t.columnIndex(c.Num)
				row[pos], set[pos] = values[i], true
			}
			for i := range obj.Columns {
				if set[i] || defaults[i] == nil {
					continue
				}
				v, err := defaults[i].Eval(ctx, nil)
				if err != nil {
					return err
				}
				row[i] = v
			}
			key, err := t.RowKey(ctx.Env, row)
			if err != nil {
				return err
			}
			row[len(obj.Columns)] = key
			if upsert != nil {
				if row, err = upsert.insert(ctx, w, row, touched); err != nil || row == nil {
					return err
				}
			} else if err := w.insert(ctx, row); err != nil {
				return err
			}
			count++
			return ret.add(ctx, res, row)
		}
		if source != nil {
			it, err := source.Open(ctx)
			if err != nil {
				return nil, err
			}
			err = eachRow(it, func(r Row) error {
				vals := visibleValues(srcCols, r)
				for i, c := range targets {
					var err error
					if vals[i], err = assignValue(ctx, vals[i], visible(srcCols)[i].Type, c); err != nil {
						return err
					}
				}
				return insertRow(vals)
			})
			if err != nil {
				return nil, err
			}
		}
		for _, exprs := range rows {
			vals := make([]any, len(targets))
			for i, e := range exprs {
				if e == nil {
					if d := defaults[t.columnIndex(targets[i].Num)]; d != nil {
						v, err := d.Eval(ctx, nil)
						if err != nil {
							return nil, err
						}
						vals[i] = v
					}
					continue
				}
				v, err := e.Eval(ctx, nil)
				if err != nil {
					return nil, err
				}
				vals[i] = v
			}
			if err := insertRow(vals); err != nil {
				return nil, err
			}
		}
		if err := st.finish(ctx); err != nil {
			return nil, err
		}
		res.Tag = fmt.Sprintf("INSERT 0 %d", count)
		res.Columns = ret.columns()
		return res, nil
	}
	return &planned{rows: ret.plan(), run: run}, nil
}

// tooManyExprs is the error for an INSERT source wider than its target
// columns, placed at the first extra expression (nil: unknown).
func tooManyExprs(extra *pg.Node) error {
	e := pgerror.New(pgerror.SyntaxError, "INSERT has more expressions than target columns")
	if extra != nil {
		if loc := nodeLocation(extra); loc > 0 {
			e = e.WithPosition(loc)
		}
	}
	return e
}

// tooManyTargets is the error for an INSERT source narrower than its
// target columns, placed at the first column without a value.
func tooManyTargets(cols []*pg.Node, n int) error {
	e := pgerror.New(pgerror.SyntaxError, "INSERT has more target columns than expressions")
	if n < len(cols) {
		e = e.WithPosition(cols[n].GetResTarget().Location + 1)
	}
	return e
}

// hasStar reports whether a select list has a "*", whose width only
// planning knows.
func hasStar(sel *pg.SelectStmt) bool {
	for _, n := range sel.TargetList {
		if cr := n.GetResTarget().GetVal().GetColumnRef(); cr != nil && cr.Fields[len(cr.Fields)-1].GetAStar() != nil {
			return true
		}
	}
	return false
}

// assign coerces e to column c's type as an assignment does.
func (a *analyzer) assign(e Expr, c *catalog.Column) (Expr, error) {
	src := e.Type().Oid
	if src != types.OidUnknown && !CanAssign(src, c.Type.Oid) {
		err := pgerror.New(pgerror.DatatypeMismatch, "column \"%s\" is of type %s but expression is of type %s", c.Name, c.Type, e.Type()).
			WithHint("You will need to rewrite or cast the expression.")
		if k, ok := e.(*Const); ok && k.Pos > 0 {
			err.Position = k.Pos
		}
		return nil, err
	}
	var out Expr
	var err error
	if CanImplicit(src, c.Type.Oid) {
		out, err = a.coerce(e, c.Type, false)
	} else {
		out = &CastExpr{Arg: e, T: c.Type}
	}
	if err != nil {
		return nil, err
	}
	if out.Type().Mod != c.Type.Mod && c.Type.Mod >= 0 {
		out = &CastExpr{Arg: out, T: c.Type}
	}
	return out, nil
}

// assignValue converts a value from an INSERT's SELECT to column c.
func assignValue(ctx *EvalCtx, v any, from types.Type, c *catalog.Column) (any, error) {
	if v == nil {
		return nil, nil
	}
	if from.Oid != c.Type.Oid && !CanAssign(from.Oid, c.Type.Oid) {
		return nil, pgerror.New(pgerror.DatatypeMismatch, "column \"%s\" is of type %s but expression is of type %s", c.Name, c.Type, from).
			WithHint("You will need to rewrite or cast the expression.")
	}
	return types.Cast(v, from, c.Type, false, ctx.Env.Session.Types)
}

// defaults analyzes the default expression of each column of obj (nil
// where there is none).
func (a *analyzer) defaults(obj *catalog.Object) ([]Expr, error) {
	out := make([]Expr, len(obj.Columns))
	for i := range obj.Columns {
		c := &obj.Columns[i]
		if c.Identity != 0 && !c.Dropped {
			out[i] = identityDefault(c)
			continue
		}
		if c.Default == "" || c.Dropped {
			continue
		}
		n, err := ParseExpr(c.Default)
		if err != nil {
			return nil, err
		}
		e, err := a.expr(n, nil)
		if err != nil {
			return nil, withoutPosition(err)
		}
		if out[i], err = a.assign(e, c); err != nil {
			return nil, withoutPosition(err)
		}
	}
	return out, nil
}

// withoutPosition drops the query position of an error about an
// expression analyzed apart from the statement's text (a column default):
// Postgres reports none there.
func withoutPosition(err error) error {
	if pe, ok := err.(*pgerror.Error); ok && pe.Position != 0 {
		cp := *pe
		cp.Position = 0
		return &cp
	}
	return err
}

// ParseExpr parses one SQL expression.
func ParseExpr(sql string) (*pg.Node, error) {
	tree, err := pg.Parse("SELECT " + sql)
	if err != nil {
		return nil, syntaxError(err)
	}
	return tree.Stmts[0].Stmt.GetSelectStmt().TargetList[0].GetResTarget().Val, nil
}

// checkNotNull fails with 23502 if a NOT NULL column of row is NULL.
func checkNotNull(t *Table, row Row) error {
	for i, c := range t.Obj.Columns {
		if c.NotNull && !c.Dropped && row[i] == nil {
			e := pgerror.New(pgerror.NotNullViolation, "null value in column \"%s\" of relation \"%s\" violates not-null constraint", c.Name, t.Obj.Name).
				WithDetail("Failing row contains %s.", failingRow(t, row))
			e.Column = c.Name
			return t.errorOn(e)
		}
	}
	return nil
}

// failingRow renders a row as Postgres's error details do: "(1, null)".
func failingRow(t *Table, row Row) string {
	var parts []string
	for i, c := range t.Obj.Columns {
		if c.Dropped {
			continue
		}
		if row[i] == nil {
			parts = append(parts, "null")
		} else {
			parts = append(parts, types.Format(c.Type, row[i], nil))
		}
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// returningList is a DML statement's RETURNING clause, evaluated on each
// row written.
type returningList struct {
	exprs []Expr
	cols  []Column
}

// returningIn analyzes a RETURNING list over the rows of scope.
func (a *analyzer) returningIn(list []*pg.Node, s *Scope) (*returningList, error) {
	if len(list) == 0 {
		return &returningList{}, nil
	}
	exprs, cols, err := a.targetList(list, s)
	if err != nil {
		return nil, err
	}
	return &returningList{exprs: exprs, cols: cols}, nil
}

// add evaluates the list on a written row and appends the result.
func (r *returningList) add(ctx *EvalCtx, res *Result, row Row) error {
	if r.exprs == nil {
		return nil
	}
	out := make(Row, len(r.exprs))
	for i, e := range r.exprs {
		v, err := e.Eval(ctx, row)
		if err != nil {
			return err
		}
		out[i] = v
	}
	res.Rows = append(res.Rows, out)
	return nil
}

func (r *returningList) columns() []Column {
	if r.exprs == nil {
		return nil
	}
	return r.cols
}

// plan is a placeholder plan that only describes the rows (for Describe).
func (r *returningList) plan() Plan {
	if r.exprs == nil {
		return nil
	}
	return &Values{Cols: r.cols}
}
