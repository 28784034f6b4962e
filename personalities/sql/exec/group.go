package exec

import (
	"sort"

	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// Grouping and aggregation. The select list, HAVING and ORDER BY of a
// query level are analyzed over the input rows (the FROM items after
// WHERE) with an aggScope that turns each aggregate call into an AggRef.
// If the query groups (GROUP BY, HAVING, or any aggregate), those
// expressions are then rewritten over the Aggregate node's output (the
// group key values, then the aggregates' results): a subexpression equal
// to a GROUP BY expression becomes a reference to its key, an AggRef a
// reference to its result, and a column of the input left over is the
// "must appear in the GROUP BY clause" error.

// aggScope collects the aggregate calls of one query level.
type aggScope struct {
	// forbid names the clause being analyzed where aggregates are not
	// allowed ("WHERE"); "" where they are.
	forbid string
	// inArgs is set while an aggregate's arguments are analyzed.
	inArgs bool
	calls  []*aggCall
	// refs remembers each input column reference's position and name.
	refs map[*ColRef]refInfo
	// windows collects window function calls (window.go); inWindow is
	// set while one's arguments are analyzed; windowDefs is the WINDOW
	// clause.
	windows    []*windowCall
	inWindow   bool
	windowDefs []*pg.Node
	// hasGrouping is set when GROUPING() is used.
	hasGrouping bool
}

type refInfo struct {
	pos  int32
	name string
}

func (g *aggScope) noteRef(ref *ColRef, pos int32, col *Column) {
	if g.refs == nil {
		g.refs = map[*ColRef]refInfo{}
	}
	name := col.Name
	if col.Qualifier != "" {
		name = col.Qualifier + "." + name
	}
	g.refs[ref] = refInfo{pos: pos, name: name}
}

// aggCall is one aggregate call: its function, arguments over the input
// rows, and its DISTINCT, ORDER BY and FILTER.
type aggCall struct {
	Fn       *Func
	Args     []Expr
	Distinct bool
	Order    []Expr
	Keys     []SortKey // Index is into Order
	Filter   Expr
	T        types.Type
	Name     string
}

// AggRef is an aggregate's result in an expression not yet rewritten
// over the Aggregate node's output. It is never evaluated.
type AggRef struct {
	Index int
	T     types.Type
}

func (r *AggRef) Type() types.Type { return r.T }
func (r *AggRef) Eval(*EvalCtx, Row) (any, error) {
	return nil, pgerror.New(pgerror.Internal, "aggregate reference evaluated outside its aggregate")
}

// isAggregate reports whether the function name is an aggregate.
func isAggregate(fs []*Func) bool { return len(fs) > 0 && fs[0].Agg != nil }

// aggOrWindowCall analyzes a call of an aggregate or window function, or
// one with aggregate decorations (DISTINCT, ORDER BY, FILTER, OVER, *);
// ok is false for a plain function call.
func (a *analyzer) aggOrWindowCall(fc *pg.FuncCall, name string, fs []*Func, s *Scope) (Expr, bool, error) {
	pos := fc.Location + 1
	if fc.Over != nil {
		e, err := a.windowCall(fc, name, fs, s)
		return e, true, err
	}
	if fs[0].Window != nil {
		return nil, true, pgerror.New(pgerror.WrongObjectType, "window function %s requires an OVER clause", name).WithPosition(pos)
	}
	if !isAggregate(fs) {
		switch {
		case fc.AggStar:
			return nil, true, pgerror.New(pgerror.WrongObjectType, "%s(*) specified, but %s is not an aggregate function", name, name).WithPosition(pos)
		case fc.AggDistinct:
			return nil, true, pgerror.New(pgerror.WrongObjectType, "DISTINCT specified, but %s is not an aggregate function", name).WithPosition(pos)
		case len(fc.AggOrder) > 0:
			return nil, true, pgerror.New(pgerror.WrongObjectType, "ORDER BY specified, but %s is not an aggregate function", name).WithPosition(pos)
		case fc.AggFilter != nil:
			return nil, true, pgerror.New(pgerror.WrongObjectType, "FILTER specified, but %s is not an aggregate function", name).WithPosition(pos)
		}
		return nil, false, nil
	}
	g := a.agg
	switch {
	case g == nil:
		return nil, true, pgerror.New(pgerror.GroupingError, "aggregate functions are not allowed here").WithPosition(pos)
	case g.forbid != "":
		return nil, true, pgerror.New(pgerror.GroupingError, "aggregate functions are not allowed in %s", g.forbid).WithPosition(pos)
	case g.inArgs:
		return nil, true, pgerror.New(pgerror.GroupingError, "aggregate function calls cannot be nested").WithPosition(pos)
	}
	g.inArgs = true
	defer func() { g.inArgs = false }()
	call, err := a.aggregate(fc, name, fs, s)
	if err != nil {
		return nil, true, err
	}
	g.calls = append(g.calls, call)
	return &AggRef{Index: len(g.calls) - 1, T: call.T}, true, nil
}

// aggregate analyzes an aggregate call's arguments, FILTER and ORDER BY.
func (a *analyzer) aggregate(fc *pg.FuncCall, name string, fs []*Func, s *Scope) (*aggCall, error) {
	pos := fc.Location + 1
	var args []Expr
	if !fc.AggStar {
		var err error
		if args, err = a.exprList(fc.Args, s); err != nil {
			return nil, err
		}
	} else if name != "count" {
		return nil, pgerror.New(pgerror.UndefinedFunction, "function %s() does not exist", name).WithPosition(pos).
			WithHint("No function matches the given name and argument types. You might need to add explicit type casts.")
	}
	var fn *Func
	var t types.Type
	if fc.AggStar {
		for _, f := range fs {
			if len(f.Args) == 0 {
				fn, t = f, types.T(f.Ret)
			}
		}
	} else {
		e, err := a.call("function", name, fs, args, pos)
		if err != nil {
			return nil, err
		}
		fe := e.(*FuncExpr)
		fn, args, t = fe.Fn, fe.Args, fe.T
	}
	call := &aggCall{Fn: fn, Args: args, Distinct: fc.AggDistinct, T: t, Name: name}
	if fc.AggFilter != nil {
		g, forbid := a.agg, ""
		if g != nil {
			forbid, g.forbid = g.forbid, "FILTER"
		}
		f, err := a.condition(fc.AggFilter, s, "FILTER")
		if g != nil {
			g.forbid = forbid
		}
		if err != nil {
			return nil, err
		}
		call.Filter = f
	}
	for _, n := range fc.AggOrder {
		sb := n.GetSortBy()
		e, err := a.expr(sb.Node, s)
		if err != nil {
			return nil, err
		}
		if e.Type().Oid == types.OidUnknown {
			if e, err = a.coerce(e, types.TextType, false); err != nil {
				return nil, err
			}
		}
		if call.Distinct {
			found := false
			for _, arg := range args {
				found = found || exprEqual(arg, e)
			}
			if !found {
				return nil, pgerror.New(pgerror.InvalidColumnReference, "in an aggregate with DISTINCT, ORDER BY expressions must appear in argument list").WithPosition(nodeLocation(sb.Node))
			}
		}
		call.Keys = append(call.Keys, SortKey{Index: len(call.Order), Desc: sb.SortbyDir == pg.SortByDir_SORTBY_DESC, NullsFirst: nullsFirst(sb)})
		call.Order = append(call.Order, e)
	}
	return call, nil
}

// groupExpr analyzes one GROUP BY expression: an integer names a
// select-list item, a bare name an input column or else a select-list
// item's alias, and anything else is an expression over the input.
func (a *analyzer) groupExpr(n *pg.Node, s *Scope, exprs []Expr, cols []Column, ntargets int) (Expr, error) {
	var e Expr
	switch {
	case n.GetAConst() != nil && n.GetAConst().GetIval() != nil:
		c := n.GetAConst()
		k := int(c.GetIval().Ival)
		if k < 1 || k > ntargets {
			return nil, pgerror.New(pgerror.InvalidColumnReference, "GROUP BY position %d is not in select list", k).WithPosition(c.Location + 1)
		}
		e = exprs[k-1]
	default:
		if cr := n.GetColumnRef(); cr != nil && len(cr.Fields) == 1 && cr.Fields[0].GetString_() != nil {
			name := strVal(cr.Fields[0])
			if idx, err := s.find([]string{name}, cr.Location+1); err == nil && idx < 0 {
				for i, c := range cols[:ntargets] {
					if c.Name == name {
						e = exprs[i]
						break
					}
				}
			}
		}
		if e == nil {
			g := a.agg
			a.agg = &aggScope{forbid: "GROUP BY"}
			var err error
			e, err = a.expr(n, s)
			a.agg = g
			if err != nil {
				return nil, err
			}
			if e.Type().Oid == types.OidUnknown {
				if e, err = a.coerce(e, types.TextType, false); err != nil {
					return nil, err
				}
			}
		}
	}
	return e, nil
}

// dependentColumns adds to groups the columns the expressions use that
// depend functionally on the grouped ones: every column of a table whose
// primary key columns are all grouped (as Postgres allows them ungrouped).
// Grouping by them too changes no group.
func (a *analyzer) dependentColumns(groups []Expr, s *Scope, es []Expr) []Expr {
	grouped := func(c Column) bool {
		for _, g := range groups {
			if ref, ok := g.(*ColRef); ok && ref.Level == 0 {
				gc := s.Cols[ref.Index]
				if gc.Table == c.Table && gc.Qualifier == c.Qualifier && gc.Attnum == c.Attnum {
					return true
				}
			}
		}
		return false
	}
	var visit func(e Expr) (Expr, error)
	visit = func(e Expr) (Expr, error) {
		for _, g := range groups {
			if exprEqual(e, g) {
				return e, nil
			}
		}
		ref, ok := e.(*ColRef)
		if !ok {
			return e, mapChildren(e, visit)
		}
		if ref.Level != 0 || ref.Index >= len(s.Cols) {
			return e, nil
		}
		col := s.Cols[ref.Index]
		if col.Table == 0 {
			return e, nil
		}
		pk := a.cat.PrimaryKey(col.Table)
		if pk == nil {
			return e, nil
		}
		for _, attnum := range pk.Index.Columns {
			if !grouped(Column{Table: col.Table, Qualifier: col.Qualifier, Attnum: attnum}) {
				return e, nil
			}
		}
		groups = append(groups, &ColRef{Index: ref.Index, T: ref.T})
		return e, nil
	}
	for _, e := range es {
		visit(e)
	}
	return groups
}

// grouper rewrites expressions over the Aggregate node's output.
type grouper struct {
	g      *aggScope
	scope  *Scope
	groups []Expr
	sets   [][]int
	// done holds references already made over the Aggregate's output.
	done map[*ColRef]bool
}

func (r *grouper) rewrite(e Expr) (Expr, error) {
	for i, g := range r.groups {
		if exprEqual(e, g) {
			return r.out(i, e.Type()), nil
		}
	}
	switch x := e.(type) {
	case *AggRef:
		return r.out(len(r.groups)+x.Index, x.T), nil
	case *groupingRef:
		return r.grouping(x)
	case *SubqueryExpr:
		if len(x.Tests) == 0 && !x.Correlated {
			return x, nil
		}
		return r.subquery(x), nil
	case *ColRef:
		if r.done[x] || x.Level > 0 {
			return x, nil
		}
		info, ok := r.g.refs[x]
		if !ok {
			c := r.scope.Cols[x.Index]
			info.name = c.Qualifier + "." + c.Name
		}
		return nil, pgerror.New(pgerror.GroupingError, "column \"%s\" must appear in the GROUP BY clause or be used in an aggregate function", info.name).WithPosition(info.pos)
	}
	return e, mapChildren(e, r.rewrite)
}

// subquery makes a subquery that reads the query level's row (a
// correlated one, or the left side of IN and ANY) read it in a grouped
// query: it sees a row of the level's input with the grouped columns
// filled in from the group key. A reference to a column that is not
// grouped reads NULL there (Postgres refuses it as "subquery uses
// ungrouped column"), and an aggregate on the left of IN is not
// supported.
func (r *grouper) subquery(x *SubqueryExpr) Expr {
	from := make([]int, len(r.scope.Cols))
	for i := range from {
		from[i] = -1
	}
	for k, g := range r.groups {
		if ref, ok := g.(*ColRef); ok && ref.Level == 0 {
			from[ref.Index] = k
		}
	}
	return &groupedSubquery{Sub: x, from: from}
}

// groupedSubquery evaluates a subquery of a grouped query level over a
// row of the level's input rebuilt from the group key.
type groupedSubquery struct {
	Sub  *SubqueryExpr
	from []int // input column -> group key index, or -1
}

func (g *groupedSubquery) Type() types.Type { return g.Sub.Type() }
func (g *groupedSubquery) Eval(ctx *EvalCtx, row Row) (any, error) {
	in := make(Row, len(g.from))
	for i, k := range g.from {
		if k >= 0 {
			in[i] = row[k]
		}
	}
	return g.Sub.Eval(ctx, in)
}

func (r *grouper) out(i int, t types.Type) *ColRef {
	ref := &ColRef{Index: i, T: t}
	r.done[ref] = true
	return ref
}

// ExprParent is an expression with subexpressions: MapChildren replaces
// each by f's result. Expression kinds defined elsewhere implement it so
// that grouping can rewrite through them.
type ExprParent interface {
	MapChildren(f func(Expr) (Expr, error)) error
}

// mapChildren replaces e's subexpressions by f's results.
func mapChildren(e Expr, f func(Expr) (Expr, error)) error {
	each := func(es []Expr) error {
		for i, c := range es {
			n, err := f(c)
			if err != nil {
				return err
			}
			es[i] = n
		}
		return nil
	}
	one := func(p *Expr) error {
		if *p == nil {
			return nil
		}
		n, err := f(*p)
		if err == nil {
			*p = n
		}
		return err
	}
	switch x := e.(type) {
	case *FuncExpr:
		return each(x.Args)
	case *BoolOp:
		return each(x.Args)
	case *NullTest:
		return one(&x.Arg)
	case *CastExpr:
		return one(&x.Arg)
	case *CaseExpr:
		if err := each(x.Conds); err != nil {
			return err
		}
		if err := each(x.Results); err != nil {
			return err
		}
		return one(&x.Else)
	case *CoalesceExpr:
		return each(x.Args)
	case *MinMaxExpr:
		return each(x.Args)
	case *BoolTest:
		return one(&x.Arg)
	case *DistinctExpr:
		if err := one(&x.Left); err != nil {
			return err
		}
		return one(&x.Right)
	case *NullIfExpr:
		if err := one(&x.Left); err != nil {
			return err
		}
		return one(&x.Right)
	case ExprParent:
		return x.MapChildren(f)
	}
	return nil
}

// exprEqual reports whether two analyzed expressions compute the same
// thing (GROUP BY matching).
func exprEqual(x, y Expr) bool {
	if x == y {
		return true
	}
	if x == nil || y == nil {
		return false
	}
	all := func(a, b []Expr) bool {
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if !exprEqual(a[i], b[i]) {
				return false
			}
		}
		return true
	}
	switch a := x.(type) {
	case *ColRef:
		b, ok := y.(*ColRef)
		return ok && a.Index == b.Index && a.Level == b.Level
	case *Const:
		b, ok := y.(*Const)
		if !ok || a.T.Oid != b.T.Oid || (a.Value == nil) != (b.Value == nil) {
			return false
		}
		return a.Value == nil || types.Compare(a.T.Oid, a.Value, b.Value) == 0 && types.Format(a.T, a.Value, nil) == types.Format(b.T, b.Value, nil)
	case *Param:
		b, ok := y.(*Param)
		return ok && a.Index == b.Index
	case *FuncExpr:
		b, ok := y.(*FuncExpr)
		return ok && a.Fn == b.Fn && all(a.Args, b.Args)
	case *CastExpr:
		b, ok := y.(*CastExpr)
		return ok && a.T == b.T && exprEqual(a.Arg, b.Arg)
	case *BoolOp:
		b, ok := y.(*BoolOp)
		return ok && a.Op == b.Op && all(a.Args, b.Args)
	case *NullTest:
		b, ok := y.(*NullTest)
		return ok && a.Not == b.Not && exprEqual(a.Arg, b.Arg)
	case *AggRef:
		b, ok := y.(*AggRef)
		return ok && a.Index == b.Index
	}
	return false
}

// typedState is an aggregate state that needs its result type.
type typedState interface{ setType(t types.Type) }

// compute runs the aggregate over one group's rows.
func (c *aggCall) compute(ctx *EvalCtx, rows []Row) (any, error) {
	st := c.newState()
	collect := c.collects()
	var inputs []Row // args then order values, when collected
	for _, r := range rows {
		args, ok, err := c.args(ctx, r)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if !collect {
			if err := st.Add(ctx, args); err != nil {
				return nil, err
			}
			continue
		}
		for _, e := range c.Order {
			v, err := e.Eval(ctx, r)
			if err != nil {
				return nil, err
			}
			args = append(args, v)
		}
		inputs = append(inputs, args)
	}
	if collect {
		n := len(c.Args)
		cols := make([]Column, 0, n+len(c.Order))
		for _, e := range c.Args {
			cols = append(cols, Column{Type: e.Type()})
		}
		for _, e := range c.Order {
			cols = append(cols, Column{Type: e.Type()})
		}
		var keys []SortKey
		for _, k := range c.Keys {
			keys = append(keys, SortKey{Index: n + k.Index, Desc: k.Desc, NullsFirst: k.NullsFirst})
		}
		var argKeys []SortKey
		for i := 0; i < n; i++ {
			argKeys = append(argKeys, SortKey{Index: i})
		}
		if c.Distinct {
			keys = append(keys, argKeys...)
		}
		sort.SliceStable(inputs, func(i, j int) bool { return CompareRows(cols, keys, inputs[i], inputs[j]) < 0 })
		for i, in := range inputs {
			if c.Distinct && i > 0 && CompareRows(cols, argKeys, inputs[i-1], in) == 0 {
				continue
			}
			if err := st.Add(ctx, in[:n]); err != nil {
				return nil, err
			}
		}
	}
	return st.Result(ctx)
}

// newState is a fresh state of the call's aggregate.
func (c *aggCall) newState() AggState {
	st := c.Fn.Agg.New()
	if ts, ok := st.(typedState); ok {
		ts.setType(c.T)
	}
	return st
}

// collects reports whether the call sees its inputs only once all are
// in (DISTINCT or ORDER BY); otherwise each row is added as it comes.
func (c *aggCall) collects() bool { return c.Distinct || len(c.Order) > 0 }

// args evaluates the call's arguments on row r; ok is false if the row
// does not count (its FILTER is not true, or a strict aggregate's
// argument is NULL).
func (c *aggCall) args(ctx *EvalCtx, r Row) (args []any, ok bool, err error) {
	if c.Filter != nil {
		ok, err := Truth(ctx, c.Filter, r)
		if err != nil || !ok {
			return nil, false, err
		}
	}
	args = make([]any, len(c.Args), len(c.Args)+len(c.Order))
	for i, e := range c.Args {
		v, err := e.Eval(ctx, r)
		if err != nil {
			return nil, false, err
		}
		if v == nil && c.Fn.Strict {
			return nil, false, nil
		}
		args[i] = v
	}
	return args, true, nil
}

// groupPlan finishes a query level's grouping: when the level groups, it
// returns the Aggregate (and HAVING filter) over input, and exprs and
// having rewritten over it. g is the level's collector.
func (a *analyzer) groupPlan(sel *pg.SelectStmt, g *aggScope, input Plan, s *Scope, exprs []Expr, cols []Column, ntargets int) (Plan, error) {
	var having Expr
	if sel.HavingClause != nil {
		prev, nwin := a.agg, len(g.windows)
		a.agg = g
		h, err := a.condition(sel.HavingClause, s, "HAVING")
		a.agg = prev
		if err != nil {
			return nil, err
		}
		if len(g.windows) > nwin {
			return nil, pgerror.New(pgerror.WindowingError, "window functions are not allowed in HAVING").WithPosition(g.windows[nwin].Pos)
		}
		having = h
	}
	if len(sel.GroupClause) == 0 && len(g.calls) == 0 && having == nil && !g.hasGrouping {
		// Without grouping, window calls see the input rows as they are.
		return input, nil
	}
	prev := a.agg
	a.agg = g
	groups, sets, err := a.groupBy(sel.GroupClause, s, exprs, cols, ntargets)
	a.agg = prev
	if err != nil {
		return nil, err
	}
	if sets == nil {
		all := append([]Expr(nil), exprs...)
		if having != nil {
			all = append(all, having)
		}
		for _, w := range g.windows {
			all = append(all, w.Args...)
			all = append(all, w.Partition...)
			all = append(all, w.Order...)
		}
		groups = a.dependentColumns(groups, s, all)
	}
	r := &grouper{g: g, scope: s, groups: groups, sets: sets, done: map[*ColRef]bool{}}
	for i, e := range exprs {
		if exprs[i], err = r.rewrite(e); err != nil {
			return nil, err
		}
	}
	if err := rewriteWindows(g, r.rewrite); err != nil {
		return nil, err
	}
	var p Plan = &Aggregate{Input: input, Groups: groups, Aggs: g.calls, Grouped: len(sel.GroupClause) > 0, Sets: sets}
	if having != nil {
		if having, err = r.rewrite(having); err != nil {
			return nil, err
		}
		p = &Filter{Input: p, Cond: having}
	}
	return p, nil
}

// Materialize runs p to its end and returns its rows.
func Materialize(ctx *EvalCtx, p Plan) ([]Row, error) {
	in, err := p.Open(ctx)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	var rows []Row
	for {
		r, err := in.Next()
		if err != nil {
			return nil, err
		}
		if r == nil {
			return rows, nil
		}
		rows = append(rows, r)
	}
}
