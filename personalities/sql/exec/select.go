package exec

import (
	"sort"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// selectStmt plans a SELECT (or VALUES). outer is the enclosing query's
// scope, for correlated subqueries (nil at the top).
func (a *analyzer) selectStmt(sel *pg.SelectStmt, outer *Scope) (Plan, error) {
	if sel.WithClause != nil {
		pop, err := a.withClause(sel.WithClause, outer)
		if err != nil {
			return nil, err
		}
		defer pop()
	}
	if len(sel.ValuesLists) > 0 {
		return a.valuesPlan(sel.ValuesLists, outer)
	}
	if sel.Op != pg.SetOperation_SETOP_NONE {
		return a.setOpStmt(sel, outer)
	}
	scope := &Scope{Parent: outer}
	grouping, prevAgg := &aggScope{windowDefs: sel.WindowClause}, a.agg
	a.agg = &aggScope{forbid: "WHERE"}
	input, err := a.fromWhere(sel.FromClause, sel.WhereClause, scope)
	if err != nil {
		a.agg = prevAgg
		return nil, err
	}
	keep := a.keepUnknown
	a.keepUnknown = a.unknownLeaves[sel]
	a.agg = grouping
	exprs, cols, err := a.targetList(sel.TargetList, scope)
	a.keepUnknown = keep
	if err != nil {
		return nil, err
	}
	ntargets := len(exprs)
	// Sort keys are computed beside the output columns, hidden.
	var keys []SortKey
	for _, n := range sel.SortClause {
		sb := n.GetSortBy()
		e, err := a.sortExpr(sb.Node, scope, exprs, cols)
		if err != nil {
			return nil, err
		}
		idx := len(exprs)
		exprs = append(exprs, e)
		cols = append(cols, Column{Name: "?sort?", Type: e.Type(), Hidden: true})
		keys = append(keys, SortKey{Index: idx, Desc: sb.SortbyDir == pg.SortByDir_SORTBY_DESC, NullsFirst: nullsFirst(sb)})
	}
	onKeys, err := a.distinctOn(sel, scope, &exprs, &cols, ntargets)
	if err != nil {
		return nil, err
	}
	a.agg = prevAgg
	if input, err = a.groupPlan(sel, grouping, input, scope, exprs, cols, ntargets); err != nil {
		return nil, err
	}
	if input, err = a.windowPlan(grouping, input, exprs); err != nil {
		return nil, err
	}
	var p Plan = &Project{Input: input, Exprs: exprs, Cols: cols}
	if p, keys, err = a.distinctPlan(sel, p, exprs, ntargets, keys, onKeys); err != nil {
		return nil, err
	}
	if len(keys) > 0 {
		p = orderedPlan(p, keys, sel.LimitCount != nil)
	}
	return a.limit(sel, p)
}

func (a *analyzer) limitExpr(n *pg.Node) (Expr, error) {
	e, err := a.expr(n, nil)
	if err != nil {
		return nil, err
	}
	return a.coerce(e, types.Int8Type, false)
}

// nullsFirst is the NULLS FIRST/LAST of a sort key (by default, NULLs
// sort as if larger than any value).
func nullsFirst(sb *pg.SortBy) bool {
	switch sb.SortbyNulls {
	case pg.SortByNulls_SORTBY_NULLS_FIRST:
		return true
	case pg.SortByNulls_SORTBY_NULLS_LAST:
		return false
	}
	return sb.SortbyDir == pg.SortByDir_SORTBY_DESC
}

// sortExpr analyzes an ORDER BY item: an output column's number or name,
// or an expression over the input.
func (a *analyzer) sortExpr(n *pg.Node, s *Scope, exprs []Expr, cols []Column) (Expr, error) {
	if c := n.GetAConst(); c != nil && c.GetIval() != nil {
		k := int(c.GetIval().Ival)
		if k < 1 || k > len(exprs) {
			return nil, pgerror.New(pgerror.InvalidColumnReference, "ORDER BY position %d is not in select list", k).WithPosition(c.Location + 1)
		}
		return exprs[k-1], nil
	}
	if cr := n.GetColumnRef(); cr != nil && len(cr.Fields) == 1 && cr.Fields[0].GetString_() != nil {
		name := strVal(cr.Fields[0])
		for i, c := range cols {
			if c.Name == name && !c.Hidden {
				if _, _, _, err := s.resolve([]string{name}, 0); err != nil {
					return exprs[i], nil
				}
				// An input column of the same name wins, as in Postgres
				// only when the output name is not a column alias; both
				// are the same expression for a plain column.
				return exprs[i], nil
			}
		}
	}
	return a.expr(n, s)
}

// targetList analyzes the select list: expressions and their output
// columns, "*" and "t.*" expanded.
func (a *analyzer) targetList(list []*pg.Node, s *Scope) ([]Expr, []Column, error) {
	var exprs []Expr
	var cols []Column
	for _, n := range list {
		rt := n.GetResTarget()
		if cr := rt.Val.GetColumnRef(); cr != nil && cr.Fields[len(cr.Fields)-1].GetAStar() != nil {
			qual := ""
			if len(cr.Fields) > 1 {
				qual = strVal(cr.Fields[len(cr.Fields)-2])
			}
			found := false
			for i, c := range s.Cols {
				if c.Hidden || qual != "" && c.Qualifier != qual || qual == "" && c.OnlyQualified {
					continue
				}
				found = true
				exprs = append(exprs, &ColRef{Index: i, T: c.Type})
				cols = append(cols, c)
			}
			if qual != "" && !found {
				return nil, nil, pgerror.New(pgerror.UndefinedTable, "missing FROM-clause entry for table \"%s\"", qual).WithPosition(cr.Location + 1)
			}
			if qual == "" && len(s.Tables) == 0 {
				return nil, nil, pgerror.New(pgerror.SyntaxError, "SELECT * with no tables specified is not valid").WithPosition(cr.Location + 1)
			}
			continue
		}
		e, err := a.expr(rt.Val, s)
		if err != nil {
			return nil, nil, err
		}
		if e.Type().Oid == types.OidUnknown && !a.keepUnknown {
			if e, err = a.coerce(e, types.TextType, false); err != nil {
				return nil, nil, err
			}
		}
		col := Column{Name: outputName(rt), Type: e.Type()}
		if ref, ok := e.(*ColRef); ok && ref.Level == 0 {
			src := s.Cols[ref.Index]
			col.Table, col.Attnum = src.Table, src.Attnum
		}
		exprs = append(exprs, e)
		cols = append(cols, col)
	}
	return exprs, cols, nil
}

// outputName is a select-list item's column name, as Postgres names it:
// its alias, a column's name, a function's name, else "?column?".
func outputName(rt *pg.ResTarget) string {
	if rt.Name != "" {
		return rt.Name
	}
	return FigureColname(rt.Val)
}

// FigureColname names an unaliased expression as Postgres's
// FigureColname does.
func FigureColname(n *pg.Node) string {
	name, _ := figureColname(n)
	return name
}

// figureColname names an expression and says how strongly: 2 for a
// column's or function's name, 1 for a type's (a cast of a cast takes
// the outer type's name), 0 for "?column?".
func figureColname(n *pg.Node) (string, int) {
	if tc := n.GetTypeCast(); tc != nil {
		if name, strength := figureColname(tc.Arg); strength > 1 {
			return name, strength
		}
		names := strVals(tc.TypeName.Names)
		return names[len(names)-1], 1
	}
	name := figureColnameOf(n)
	if name == "?column?" {
		return name, 0
	}
	return name, 2
}

func figureColnameOf(n *pg.Node) string {
	switch x := n.Node.(type) {
	case *pg.Node_ColumnRef:
		last := x.ColumnRef.Fields[len(x.ColumnRef.Fields)-1]
		if last.GetAStar() == nil {
			return strVal(last)
		}
	case *pg.Node_FuncCall:
		return strVal(x.FuncCall.Funcname[len(x.FuncCall.Funcname)-1])
	case *pg.Node_AExpr:
		if x.AExpr.Kind == pg.A_Expr_Kind_AEXPR_NULLIF {
			return "nullif"
		}
	case *pg.Node_CaseExpr:
		// The ELSE result's name when it has a strong one.
		if d := x.CaseExpr.Defresult; d != nil {
			if name := FigureColname(d); name != "?column?" && name != "case" && d.GetTypeCast() == nil {
				return name
			}
		}
		return "case"
	case *pg.Node_GroupingFunc:
		return "grouping"
	case *pg.Node_CoalesceExpr:
		return "coalesce"
	case *pg.Node_MinMaxExpr:
		if x.MinMaxExpr.Op == pg.MinMaxOp_IS_GREATEST {
			return "greatest"
		}
		return "least"
	case *pg.Node_SqlvalueFunction:
		return sqlValueName(x.SqlvalueFunction.Op)
	case *pg.Node_SubLink:
		if x.SubLink.SubLinkType == pg.SubLinkType_EXISTS_SUBLINK {
			return "exists"
		}
		if x.SubLink.SubLinkType == pg.SubLinkType_ARRAY_SUBLINK {
			return "array"
		}
		if x.SubLink.SubLinkType == pg.SubLinkType_EXPR_SUBLINK {
			// A scalar subquery is named by its column.
			sel := x.SubLink.Subselect.GetSelectStmt()
			for sel != nil && sel.Op != pg.SetOperation_SETOP_NONE {
				sel = sel.Larg
			}
			if sel != nil && len(sel.TargetList) > 0 {
				return outputName(sel.TargetList[0].GetResTarget())
			}
		}
	case *pg.Node_AIndirection:
		// A subscript takes its array's name.
		return FigureColname(x.AIndirection.Arg)
	case *pg.Node_AArrayExpr:
		return "array"
	case *pg.Node_RowExpr:
		return "row"
	}
	return "?column?"
}

func sqlValueName(op pg.SQLValueFunctionOp) string {
	switch op {
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_DATE:
		return "current_date"
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_TIME, pg.SQLValueFunctionOp_SVFOP_CURRENT_TIME_N:
		return "current_time"
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP, pg.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP_N:
		return "current_timestamp"
	case pg.SQLValueFunctionOp_SVFOP_LOCALTIME, pg.SQLValueFunctionOp_SVFOP_LOCALTIME_N:
		return "localtime"
	case pg.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP, pg.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP_N:
		return "localtimestamp"
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_ROLE:
		return "current_role"
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_USER:
		return "current_user"
	case pg.SQLValueFunctionOp_SVFOP_USER:
		return "user"
	case pg.SQLValueFunctionOp_SVFOP_SESSION_USER:
		return "session_user"
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_CATALOG:
		return "current_catalog"
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_SCHEMA:
		return "current_schema"
	}
	return "?column?"
}

// valuesPlan plans VALUES lists: every row has as many expressions; each
// column's type is resolved across the rows.
func (a *analyzer) valuesPlan(lists []*pg.Node, outer *Scope) (Plan, error) {
	var rows [][]Expr
	for _, l := range lists {
		var row []Expr
		for _, n := range l.GetList().Items {
			e, err := a.expr(n, outer)
			if err != nil {
				return nil, err
			}
			row = append(row, e)
		}
		if len(rows) > 0 && len(row) != len(rows[0]) {
			return nil, pgerror.New(pgerror.SyntaxError, "VALUES lists must all be the same length")
		}
		rows = append(rows, row)
	}
	cols := make([]Column, len(rows[0]))
	for i := range cols {
		t := types.UnknownType
		for _, r := range rows {
			if rt := r[i].Type(); rt.Oid != types.OidUnknown {
				if t.Oid == types.OidUnknown || CanImplicit(t.Oid, rt.Oid) && t.Oid != rt.Oid {
					t = types.T(rt.Oid)
				}
			}
		}
		if t.Oid == types.OidUnknown {
			t = types.TextType
		}
		for _, r := range rows {
			c, err := a.coerce(r[i], t, false)
			if err != nil {
				return nil, err
			}
			r[i] = c
		}
		cols[i] = Column{Name: "column" + itoa(i+1), Type: t}
	}
	return &Values{Cols: cols, Rows: rows}, nil
}

func qualified(rv *pg.RangeVar) string {
	if rv.Schemaname != "" {
		return rv.Schemaname + "." + rv.Relname
	}
	return rv.Relname
}

func itoa(i int) string {
	return string(appendInt(nil, i))
}

func appendInt(b []byte, i int) []byte {
	if i >= 10 {
		b = appendInt(b, i/10)
	}
	return append(b, byte('0'+i%10))
}

// SeqScan reads every row of a table in key order.
type SeqScan struct {
	Table *Table
	Alias string
}

// Columns implements Plan: the table's columns (dropped ones hidden),
// then the hidden row key.
func (s *SeqScan) Columns() []Column {
	obj := s.Table.Obj
	cols := make([]Column, 0, len(obj.Columns)+1)
	for _, c := range obj.Columns {
		cols = append(cols, Column{Name: c.Name, Type: c.Type, Table: obj.Oid, Attnum: c.Num, Qualifier: s.Alias, Hidden: c.Dropped})
	}
	return append(cols, Column{Name: "ctid", Type: types.ByteaType, Qualifier: s.Alias, Hidden: true})
}

func (s *SeqScan) Open(ctx *EvalCtx) (Iter, error) {
	return s.Table.Scan(ctx.Env.Store, nil, nil, false)
}

func (s *SeqScan) Explain(e *Explainer) {
	e.Node("Seq Scan on %s", scanName(s.Table.Obj.Name, s.Alias))
}

// SortKey is one ORDER BY key: a column of the sorted rows.
type SortKey struct {
	Index      int
	Desc       bool
	NullsFirst bool
}

// Sort materializes its input and orders it by Keys (stable: ties keep
// their input order).
type Sort struct {
	Input Plan
	Keys  []SortKey
}

func (s *Sort) Columns() []Column { return s.Input.Columns() }

func (s *Sort) Open(ctx *EvalCtx) (Iter, error) {
	rows, err := Materialize(ctx, s.Input)
	if err != nil {
		return nil, err
	}
	cols := s.Input.Columns()
	sort.SliceStable(rows, func(i, j int) bool { return CompareRows(cols, s.Keys, rows[i], rows[j]) < 0 })
	return &sliceIter{rows: rows}, nil
}

// CompareRows orders two rows by keys.
func CompareRows(cols []Column, keys []SortKey, x, y Row) int {
	for _, k := range keys {
		a, b := x[k.Index], y[k.Index]
		var c int
		switch {
		case a == nil && b == nil:
			continue
		case a == nil:
			c = 1
			if k.NullsFirst {
				c = -1
			}
			return c
		case b == nil:
			c = -1
			if k.NullsFirst {
				c = 1
			}
			return c
		}
		c = types.Compare(cols[k.Index].Type.Oid, a, b)
		if k.Desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

func (s *Sort) Explain(e *Explainer) {
	e.Node("Sort")
	var keys []string
	for _, k := range s.Keys {
		var text string
		if p, ok := s.Input.(*Project); ok {
			text = e.ExprString(p.Exprs[k.Index], p.Input.Columns())
		} else {
			text = e.ExprString(&ColRef{Index: k.Index}, s.Input.Columns())
		}
		if k.Desc {
			text += " DESC"
			if !k.NullsFirst {
				text += " NULLS LAST"
			}
		} else if k.NullsFirst {
			text += " NULLS FIRST"
		}
		keys = append(keys, text)
	}
	e.Detail("Sort Key: %s", strings.Join(keys, ", "))
	e.Child(s.Input)
}
