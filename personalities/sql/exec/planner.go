package exec

import (
	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// The planner: FROM + WHERE into scans, index scans and joins.

// fromWhere plans a FROM list and its WHERE condition into scope: the
// row source of SELECT, UPDATE and DELETE. Conditions go as far down as
// they can, and a table read under an index condition becomes an index
// scan.
func (a *analyzer) fromWhere(from []*pg.Node, where *pg.Node, scope *Scope) (Plan, error) {
	input, err := a.fromClause(from, scope)
	if err != nil {
		return nil, err
	}
	if where == nil {
		return input, nil
	}
	cond, err := a.condition(where, scope, "WHERE")
	if err != nil {
		return nil, err
	}
	return a.placeConds(input, conjuncts(cond)), nil
}

// rangeVar plans a named FROM item: a WITH query or a table.
func (a *analyzer) rangeVar(rv *pg.RangeVar, scope *Scope) (Plan, error) {
	name := rv.Relname
	if rv.Alias != nil {
		name = rv.Alias.Aliasname
	}
	if rv.Schemaname == "" {
		if def := a.lookupCTE(rv.Relname); def != nil {
			p := a.cteScan(def, name)
			return p, addItem(scope, name, p.Columns(), rv.Alias)
		}
	}
	if t := a.systemRelation(rv); t != nil {
		var p Plan = &SysScan{T: t, Alias: name}
		if t.Foreign != nil {
			p = &ForeignScan{T: t, Alias: name}
		}
		return p, addItem(scope, name, p.Columns(), rv.Alias)
	}
	obj, err := a.relation(rv)
	if err != nil {
		return nil, err
	}
	if obj.RelKind == catalog.RelView {
		v, err := a.viewPlan(obj, name)
		if err != nil {
			return nil, err
		}
		return v, addItem(scope, name, v.Columns(), rv.Alias)
	}
	if obj.RelKind != catalog.RelTable {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "reading \"%s\" is not supported", obj.Name)
	}
	scan := &SeqScan{Table: OpenTable(a.cat, obj), Alias: name}
	if rv.Alias != nil {
		scope.noteAlias(rv.Relname, name)
	}
	return scan, addItem(scope, name, scan.Columns(), rv.Alias)
}

// relation resolves a relation's name; it is an error if none has it (a
// missing schema too, as Postgres words it: the relation does not exist).
func (a *analyzer) relation(rv *pg.RangeVar) (*catalog.Object, error) {
	obj, err := a.cat.Resolve(rv.Schemaname, rv.Relname, a.searchPath())
	if err != nil && pgerror.CodeOf(err) != pgerror.InvalidSchemaName {
		return nil, err
	}
	if obj == nil {
		return nil, pgerror.New(pgerror.UndefinedTable, "relation \"%s\" does not exist", qualified(rv)).WithPosition(rv.Location + 1)
	}
	return obj, nil
}

// placeConds applies conditions (over p's rows) to p: pushed into the
// sides of an inner join, an index chosen for a table, the rest
// filtered.
func (a *analyzer) placeConds(p Plan, conds []Expr) Plan {
	if len(conds) == 0 {
		return p
	}
	switch x := p.(type) {
	case *SeqScan:
		return chooseIndex(x, conds, false)
	case *ForeignScan:
		return foreignScan(x, conds)
	case *Filter:
		return a.placeConds(x.Input, append(conjuncts(x.Cond), conds...))
	case *Join:
		if x.Lateral || x.IndexLookup != nil {
			break
		}
		var left, right, rest []Expr
		width := len(x.Columns())
		for _, c := range conds {
			if l, ok := shiftExpr(c, 0, 0, x.nl); ok && (x.Kind == InnerJoin || x.Kind == LeftJoin) {
				left = append(left, l)
			} else if r, ok := shiftExpr(c, -x.nl, x.nl, width); ok && (x.Kind == InnerJoin || x.Kind == RightJoin) {
				right = append(right, r)
			} else {
				rest = append(rest, c)
			}
		}
		x.Left = a.placeConds(x.Left, left)
		x.Right = a.placeConds(x.Right, right)
		if x.Kind == InnerJoin && len(rest) > 0 {
			if x.Cond != nil {
				rest = append(conjuncts(x.Cond), rest...)
			}
			x.Cond, rest = andOf(rest), nil
		}
		x.plan()
		if len(rest) > 0 {
			return &Filter{Input: x, Cond: andOf(rest)}
		}
		return x
	}
	return &Filter{Input: p, Cond: andOf(conds)}
}

// plan chooses how the join finds its right rows: through an index on
// the inner table's join column, by hash on equal columns, or by trying
// each.
func (j *Join) plan() {
	j.HashKeys = nil
	if j.Lateral || j.Cond == nil {
		return
	}
	cols := j.Columns()
	j.planHash(cols)
	if len(j.HashKeys) == 0 || j.Kind == RightJoin || j.Kind == FullJoin {
		return
	}
	// The join's equalities become conditions on the inner table, with
	// the outer row's columns as values.
	lcols := j.Left.Columns()
	var conds []Expr
	for _, k := range j.HashKeys {
		rc := cols[j.nl+k[1]]
		conds = append(conds, &FuncExpr{Fn: eqFunc(rc.Type.Oid), Args: []Expr{&ColRef{Index: k[1], T: rc.Type}, &outerRef{ColRef: ColRef{Index: k[0], Level: 1, T: lcols[k[0]].Type}, cols: lcols}}, T: types.BoolType})
	}
	if fs, ok := j.Right.(*ForeignScan); ok {
		if lookup := foreignLookup(fs, conds); lookup != nil {
			j.IndexLookup = &IndexLookup{Scan: lookup}
			j.HashKeys = nil
		}
		return
	}
	scan, filter := tableScanOf(j.Right)
	if scan == nil {
		return
	}
	if filter != nil {
		conds = append(conds, conjuncts(filter)...)
	}
	is, ok := chooseIndex(scan, conds, true).(*IndexScan)
	if !ok || len(is.Eq) == 0 {
		return
	}
	is.lookup = true
	j.IndexLookup = &IndexLookup{Scan: is}
	j.HashKeys = nil
}

// eqFunc is "=" on values of type t (integers of any width), for the
// conditions an index lookup is chosen by.
func eqFunc(t types.Oid) *Func {
	if isIntType(t) {
		t = types.OidInt8
	}
	return &Func{Name: "=", Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) {
		return types.Compare(t, a[0], a[1]) == 0, nil
	}}
}

// outerRef is a column of the outer row of an index lookup; it renders
// with the outer row's column names.
type outerRef struct {
	ColRef
	cols []Column
}

// tableScanOf returns the table scan p reads (and the condition over it),
// if p is one.
func tableScanOf(p Plan) (*SeqScan, Expr) {
	switch x := p.(type) {
	case *SeqScan:
		return x, nil
	case *Filter:
		if s, ok := x.Input.(*SeqScan); ok {
			return s, x.Cond
		}
	case *IndexScan:
		if x.Conds == nil {
			break
		}
		return &SeqScan{Table: x.Table, Alias: x.Alias}, x.condExpr()
	}
	return nil, nil
}

// shiftExpr returns e with its columns moved by delta, if e reads only
// columns in [lo, hi) of the current row and is an expression the
// planner can move (else ok is false).
func shiftExpr(e Expr, delta, lo, hi int) (Expr, bool) {
	switch x := e.(type) {
	case *Const, *Param:
		return e, true
	case *ColRef:
		if x.Level > 0 {
			return e, true
		}
		if x.Index < lo || x.Index >= hi {
			return nil, false
		}
		return &ColRef{Index: x.Index + delta, T: x.T}, true
	case *FuncExpr:
		args, ok := shiftExprs(x.Args, delta, lo, hi)
		return &FuncExpr{Fn: x.Fn, Args: args, T: x.T}, ok
	case *BoolOp:
		args, ok := shiftExprs(x.Args, delta, lo, hi)
		return &BoolOp{Op: x.Op, Args: args}, ok
	case *NullTest:
		s, ok := shiftExpr(x.Arg, delta, lo, hi)
		return &NullTest{Arg: s, Not: x.Not}, ok
	case *CastExpr:
		s, ok := shiftExpr(x.Arg, delta, lo, hi)
		return &CastExpr{Arg: s, T: x.T, Explicit: x.Explicit}, ok
	case *SubqueryExpr:
		return e, !x.Correlated
	}
	return nil, false
}

func shiftExprs(es []Expr, delta, lo, hi int) ([]Expr, bool) {
	out := make([]Expr, len(es))
	for i, a := range es {
		s, ok := shiftExpr(a, delta, lo, hi)
		if !ok {
			return nil, false
		}
		out[i] = s
	}
	return out, true
}

// rowIndependent reports whether e's value is the same for every row of
// a scan (evaluated once when the scan opens).
func rowIndependent(e Expr) bool {
	switch x := e.(type) {
	case *Const, *Param:
		return true
	case *ColRef:
		return x.Level > 0
	case *outerRef:
		return true
	case *CastExpr:
		return rowIndependent(x.Arg)
	}
	return false
}

// indexCond is a condition "column op value" on a table column.
type indexCond struct {
	col  int // position in the row
	op   string
	vals []Expr
	expr Expr
	show Expr // expr as EXPLAIN shows it
}

// asIndexCond recognizes "column op value", "value op column" and an OR
// of "column = value" (an IN list).
func asIndexCond(e Expr, cols []Column) (indexCond, bool) {
	if b, ok := e.(*BoolOp); ok && b.Op == Or {
		var out indexCond
		for i, a := range b.Args {
			c, ok := asIndexCond(a, cols)
			if !ok || c.op != "=" || i > 0 && c.col != out.col {
				return indexCond{}, false
			}
			out.col, out.op = c.col, "="
			out.vals = append(out.vals, c.vals...)
		}
		out.expr, out.show = e, e
		return out, true
	}
	f, ok := e.(*FuncExpr)
	if !ok || len(f.Args) != 2 {
		return indexCond{}, false
	}
	op := f.Fn.Name
	flip := map[string]string{"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
	if _, ok := flip[op]; !ok {
		return indexCond{}, false
	}
	col, val := f.Args[0], f.Args[1]
	show := e
	if !isColumn(col) {
		col, val, op = val, col, flip[op]
		// EXPLAIN shows the column first, as Postgres commutes it.
		show = &FuncExpr{Fn: &Func{Name: op}, Args: []Expr{col, val}, T: f.T}
	}
	if !isColumn(col) || !rowIndependent(val) {
		return indexCond{}, false
	}
	idx := columnOf(col)
	ct, vt := cols[idx].Type.Oid, val.Type().Oid
	if ct != vt && !(isIntType(ct) && isIntType(vt)) {
		return indexCond{}, false
	}
	if _, cast := col.(*CastExpr); cast && ct != types.OidVarchar {
		return indexCond{}, false
	}
	return indexCond{col: idx, op: op, vals: []Expr{val}, expr: e, show: show}, true
}

// isColumn reports whether e is a column of the current row (possibly
// varchar read as text).
func isColumn(e Expr) bool {
	if c, ok := e.(*CastExpr); ok && c.T.Oid == types.OidText {
		e = c.Arg
	}
	r, ok := e.(*ColRef)
	return ok && r.Level == 0
}

func columnOf(e Expr) int {
	if c, ok := e.(*CastExpr); ok {
		e = c.Arg
	}
	return e.(*ColRef).Index
}

// chooseIndex plans a table read under conditions: the index whose
// leading columns the conditions fix best (the primary key on a tie),
// else the whole table, with what the index does not apply as a filter.
// lookup asks for an index lookup's scan (EXPLAIN names outer columns).
func chooseIndex(scan *SeqScan, conds []Expr, lookup bool) Plan {
	cols := scan.Columns()
	var ics []indexCond
	var other []Expr
	for _, c := range conds {
		if ic, ok := asIndexCond(c, cols); ok {
			ics = append(ics, ic)
		} else {
			other = append(other, c)
		}
	}
	var best *IndexScan
	bestScore := 0
	var bestUsed map[int]bool
	for _, idx := range scan.Table.Indexes {
		is := &IndexScan{Table: scan.Table, Index: idx, Alias: scan.Alias}
		used := map[int]bool{}
		score := 0
		for i, num := range idx.Index.Columns {
			pos := scan.Table.columnIndex(num)
			eq := -1
			for k, ic := range ics {
				if ic.col == pos && ic.op == "=" && !used[k] {
					eq = k
					break
				}
			}
			if eq >= 0 {
				used[eq] = true
				is.Eq = append(is.Eq, ics[eq].vals)
				score += 4
				continue
			}
			if i < len(idx.Index.Desc) && idx.Index.Desc[i] {
				break
			}
			for k, ic := range ics {
				if ic.col != pos || used[k] || len(ic.vals) != 1 {
					continue
				}
				switch ic.op {
				case ">", ">=":
					if is.Lo == nil {
						is.Lo, is.LoIncl, used[k] = ic.vals[0], ic.op == ">=", true
						score++
					}
				case "<", "<=":
					if is.Hi == nil {
						is.Hi, is.HiIncl, used[k] = ic.vals[0], ic.op == "<=", true
						score++
					}
				}
			}
			break
		}
		if score > bestScore {
			best, bestScore, bestUsed = is, score, used
		}
	}
	if best == nil {
		if len(conds) == 0 {
			return scan
		}
		return &Filter{Input: scan, Cond: andOf(conds)}
	}
	var applied, shown []Expr
	for k, ic := range ics {
		if bestUsed[k] {
			applied = append(applied, ic.expr)
			shown = append(shown, ic.show)
		} else {
			other = append(other, ic.expr)
		}
	}
	if len(other) > 0 {
		best.Filter = andOf(other)
	}
	best.Conds = func(e *Explainer) []string {
		var out []string
		for _, c := range shown {
			out = append(out, e.ExprString(c, cols))
		}
		return out
	}
	best.applied = applied
	return best
}

// orderedPlan orders p's rows by keys: by reading its table through an
// index in key order when one gives that order (with a LIMIT, or when
// the index scan is chosen already), else with a Sort.
func orderedPlan(p Plan, keys []SortKey, limited bool) Plan {
	proj, ok := p.(*Project)
	if !ok {
		return &Sort{Input: p, Keys: keys}
	}
	desc := keys[0].Desc
	var cols []int
	for _, k := range keys {
		ref, ok := proj.Exprs[k.Index].(*ColRef)
		if !ok || ref.Level != 0 || k.Desc != desc || k.NullsFirst != desc {
			return &Sort{Input: p, Keys: keys}
		}
		cols = append(cols, ref.Index)
	}
	switch in := proj.Input.(type) {
	case *IndexScan:
		if in.Lookup() || !indexOrders(in.Table, in.Index, in.Eq, cols) {
			break
		}
		in.Reverse = desc
		return p
	case *SeqScan, *Filter:
		scan, filter := tableScanOf(in)
		if scan == nil || !limited {
			break
		}
		for _, idx := range scan.Table.Indexes {
			if indexOrders(scan.Table, idx, nil, cols) {
				proj.Input = &IndexScan{Table: scan.Table, Index: idx, Alias: scan.Alias, Filter: filter, Reverse: desc}
				return p
			}
		}
	}
	return &Sort{Input: p, Keys: keys}
}

// indexOrders reports whether reading index idx in key order (with
// equalities eq on its leading columns) orders rows by the table columns
// at positions cols.
func indexOrders(t *Table, idx *catalog.Object, eq [][]Expr, cols []int) bool {
	ic := idx.Index.Columns
	for j := 0; j <= len(eq); j++ {
		if j > 0 && len(eq[j-1]) != 1 {
			return false // several values: the order restarts per value
		}
		if j+len(cols) > len(ic) {
			return false
		}
		match := true
		for i, c := range cols {
			k := j + i
			if t.columnIndex(ic[k]) != c || k < len(idx.Index.Desc) && idx.Index.Desc[k] {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}
