package exec

import (
	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// FROM clauses: several items (a cross join), JOIN ... ON/USING/NATURAL,
// subqueries and functions in FROM.
//
// Each FROM item is planned against the scope of the items before it:
// a subquery or function that references them (LATERAL) is re-run for
// each row of its left side, which its plan sees as the nearest outer
// row. An item that references none of them runs once.

// JoinKind is the kind of a join.
type JoinKind int

// The join kinds (a cross join is an inner join without condition).
const (
	InnerJoin JoinKind = iota
	LeftJoin
	RightJoin
	FullJoin
)

// fromClause plans the FROM list (nil: one empty row) into scope.
func (a *analyzer) fromClause(items []*pg.Node, scope *Scope) (Plan, error) {
	if len(items) == 0 {
		return &Values{Rows: [][]Expr{{}}}, nil
	}
	acc, err := a.fromItem(items[0], scope)
	if err != nil {
		return nil, err
	}
	for _, n := range items[1:] {
		if acc, err = a.joinItem(acc, n, scope, InnerJoin); err != nil {
			return nil, err
		}
	}
	return acc, nil
}

// itemParent is the scope a FROM item's subqueries resolve outer names
// in: the items before it, or (for the first item) the enclosing query.
func itemParent(scope *Scope) *Scope {
	if len(scope.Cols) == 0 && len(scope.Tables) == 0 {
		return scope.Parent
	}
	return scope
}

// joinItem plans item n, joined to left (nil for the first item); its
// columns are added to scope. The join's condition is the caller's to
// add.
func (a *analyzer) joinItem(left Plan, n *pg.Node, scope *Scope, kind JoinKind) (*Join, error) {
	before := scope.refs
	nl := len(scope.Cols)
	right, err := a.fromItem(n, scope)
	if err != nil {
		return nil, err
	}
	return &Join{Left: left, Right: right, Kind: kind, Lateral: scope.refs != before, nl: nl}, nil
}

// fromItem plans one FROM item and adds its columns to scope.
func (a *analyzer) fromItem(n *pg.Node, scope *Scope) (Plan, error) {
	switch x := n.Node.(type) {
	case *pg.Node_RangeVar:
		return a.rangeVar(x.RangeVar, scope)
	case *pg.Node_JoinExpr:
		return a.joinExpr(x.JoinExpr, scope)
	case *pg.Node_RangeSubselect:
		return a.rangeSubselect(x.RangeSubselect, scope)
	case *pg.Node_RangeFunction:
		return a.rangeFunction(x.RangeFunction, scope)
	}
	return nil, a.unsupported(n)
}

// addItem adds a FROM item's columns to scope under its name, renamed by
// the alias's column names.
func addItem(scope *Scope, name string, cols []Column, alias *pg.Alias) error {
	var names []string
	if alias != nil {
		names = strVals(alias.Colnames)
	}
	k := 0
	for _, c := range cols {
		c.Qualifier = name
		if !c.Hidden && !c.OnlyQualified && k < len(names) {
			c.Name = names[k]
			k++
		}
		scope.Cols = append(scope.Cols, c)
	}
	if k < len(names) {
		return pgerror.New(pgerror.InvalidColumnReference, "table \"%s\" has %d columns available but %d columns specified", name, k, len(names))
	}
	return scope.addTable(name)
}

func (a *analyzer) rangeSubselect(rs *pg.RangeSubselect, scope *Scope) (Plan, error) {
	if rs.Alias == nil {
		return nil, pgerror.New(pgerror.SyntaxError, "subquery in FROM must have an alias")
	}
	p, err := a.subquery(rs.Subquery, itemParent(scope))
	if err != nil {
		return nil, err
	}
	cols := append([]Column(nil), p.Columns()...)
	for i := range cols {
		cols[i].OnlyQualified = false
	}
	return p, addItem(scope, rs.Alias.Aliasname, cols, rs.Alias)
}

// subquery plans a nested SELECT (with its own WITH clause) in scope
// outer.
func (a *analyzer) subquery(n *pg.Node, outer *Scope) (Plan, error) {
	sel := n.GetSelectStmt()
	if sel == nil {
		return nil, a.unsupported(n)
	}
	return a.selectStmt(sel, outer)
}

func (a *analyzer) joinExpr(j *pg.JoinExpr, scope *Scope) (Plan, error) {
	js := &Scope{Parent: itemParent(scope)}
	var kind JoinKind
	switch j.Jointype {
	case pg.JoinType_JOIN_LEFT:
		kind = LeftJoin
	case pg.JoinType_JOIN_RIGHT:
		kind = RightJoin
	case pg.JoinType_JOIN_FULL:
		kind = FullJoin
	}
	left, err := a.fromItem(j.Larg, js)
	if err != nil {
		return nil, err
	}
	join, err := a.joinItem(left, j.Rarg, js, kind)
	if err != nil {
		return nil, err
	}
	nl := join.nl
	using := strVals(j.UsingClause)
	if j.IsNatural {
		using = naturalColumns(js.Cols[:nl], js.Cols[nl:])
	}
	var out Plan = join
	cols := js.Cols
	if len(using) > 0 || j.IsNatural {
		var cond Expr
		out, cols, cond, err = a.usingJoin(join, js, using, kind)
		if err != nil {
			return nil, err
		}
		join.Cond = cond
	} else if j.Quals != nil {
		prev := a.agg
		a.agg = &aggScope{forbid: "JOIN conditions"}
		join.Cond, err = a.condition(j.Quals, js, "JOIN/ON")
		a.agg = prev
		if err != nil {
			return nil, err
		}
	}
	a.planJoin(join)
	if j.Alias != nil {
		name := j.Alias.Aliasname
		vis := make([]Column, 0, len(cols))
		for _, c := range cols {
			if c.OnlyQualified {
				c.Hidden = true
			}
			vis = append(vis, c)
		}
		return out, addItem(scope, name, vis, j.Alias)
	}
	scope.Cols = append(scope.Cols, cols...)
	for _, t := range js.Tables {
		if err := scope.addTable(t); err != nil {
			return nil, err
		}
	}
	for rel, alias := range js.aliased {
		scope.noteAlias(rel, alias)
	}
	return out, nil
}

// planJoin places a join's ON condition: an inner join's parts that
// read one side go down to it, as do an outer join's parts that read its
// inner side only; then the join method is chosen.
func (a *analyzer) planJoin(j *Join) {
	if j.Cond == nil || j.Lateral {
		return
	}
	switch j.Kind {
	case InnerJoin:
		c := j.Cond
		j.Cond = nil
		a.placeConds(j, conjuncts(c))
		return
	case LeftJoin:
		var keep, right []Expr
		width := len(j.Columns())
		for _, c := range conjuncts(j.Cond) {
			if r, ok := shiftExpr(c, -j.nl, j.nl, width); ok {
				right = append(right, r)
			} else {
				keep = append(keep, c)
			}
		}
		if len(right) > 0 {
			j.Right = a.placeConds(j.Right, right)
			j.Cond = nil
			if len(keep) > 0 {
				j.Cond = andOf(keep)
			}
		}
	}
	j.plan()
}

// naturalColumns lists the column names left and right share, in left's
// order.
func naturalColumns(left, right []Column) []string {
	var out []string
	for _, l := range left {
		if l.Hidden || l.OnlyQualified {
			continue
		}
		for _, r := range right {
			if !r.Hidden && !r.OnlyQualified && r.Name == l.Name {
				out = append(out, l.Name)
				break
			}
		}
	}
	return out
}

// findJoinColumn finds a USING column on one side of a join.
func findJoinColumn(cols []Column, name, side string) (int, error) {
	found := -1
	for i, c := range cols {
		if c.Hidden || c.OnlyQualified || c.Name != name {
			continue
		}
		if found >= 0 {
			return 0, pgerror.New(pgerror.AmbiguousColumn, "common column name \"%s\" appears more than once in %s table", name, side)
		}
		found = i
	}
	if found < 0 {
		return 0, pgerror.New(pgerror.UndefinedColumn, "column \"%s\" specified in USING clause does not exist in %s table", name, side)
	}
	return found, nil
}

// usingJoin builds a USING (or NATURAL) join's condition and its output:
// the merged columns first, then the left's and the right's columns (the
// merged ones reachable only qualified), as Postgres orders them.
func (a *analyzer) usingJoin(j *Join, js *Scope, using []string, kind JoinKind) (Plan, []Column, Expr, error) {
	nl := j.nl
	left, right := js.Cols[:nl], js.Cols[nl:]
	var conds []Expr
	var exprs []Expr
	var cols []Column
	hide := map[int]bool{}
	for _, name := range using {
		li, err := findJoinColumn(left, name, "left")
		if err != nil {
			return nil, nil, nil, err
		}
		ri, err := findJoinColumn(right, name, "right")
		if err != nil {
			return nil, nil, nil, err
		}
		ri += nl
		lc, rc := js.Cols[li], js.Cols[ri]
		t, err := a.commonTypeOf("JOIN/USING", []types.Type{lc.Type, rc.Type})
		if err != nil {
			return nil, nil, nil, err
		}
		l, err := a.coerce(&ColRef{Index: li, T: lc.Type}, t, false)
		if err != nil {
			return nil, nil, nil, err
		}
		r, err := a.coerce(&ColRef{Index: ri, T: rc.Type}, t, false)
		if err != nil {
			return nil, nil, nil, err
		}
		eq, err := a.operator("=", []Expr{l, r}, 0)
		if err != nil {
			return nil, nil, nil, err
		}
		conds = append(conds, eq)
		col := Column{Name: name, Type: t}
		var merged Expr
		switch kind {
		case InnerJoin, LeftJoin:
			merged, col.Table, col.Attnum = l, lc.Table, lc.Attnum
		case RightJoin:
			merged, col.Table, col.Attnum = r, rc.Table, rc.Attnum
		default:
			merged = &CoalesceExpr{Args: []Expr{l, r}, T: t}
		}
		exprs = append(exprs, merged)
		cols = append(cols, col)
		hide[li], hide[ri] = true, true
	}
	for i, c := range js.Cols {
		if hide[i] {
			c.OnlyQualified = true
		}
		exprs = append(exprs, &ColRef{Index: i, T: c.Type})
		cols = append(cols, c)
	}
	var cond Expr
	if len(conds) == 1 {
		cond = conds[0]
	} else if len(conds) > 1 {
		cond = &BoolOp{Op: And, Args: conds}
	}
	return &Project{Input: j, Exprs: exprs, Cols: cols}, cols, cond, nil
}

// Join joins two plans: each left row with each right row for which Cond
// holds (nil: always), and for outer joins the unmatched rows beside
// NULLs. Its rows are the left's values, then the right's.
//
// The right side is read once and kept, and looked up by hash when the
// condition has equalities between a left and a right column (HashKeys);
// a Lateral right side is re-run for each left row instead.
type Join struct {
	Left, Right Plan
	Kind        JoinKind
	Cond        Expr
	Lateral     bool
	// HashKeys pairs left-row and right-row positions that must be equal
	// (a hash join); Cond is still checked in full.
	HashKeys [][2]int
	// IndexLookup, when set, reads the right side per left row through
	// an index (an index nested loop).
	IndexLookup *IndexLookup

	nl int
}

func (j *Join) Columns() []Column {
	return append(append([]Column(nil), j.Left.Columns()...), j.Right.Columns()...)
}

// planHash finds the equalities of a column of each side in Cond.
func (j *Join) planHash(cols []Column) {
	if j.Lateral || j.Cond == nil {
		return
	}
	for _, c := range conjuncts(j.Cond) {
		l, r, ok := equiColumns(c)
		if !ok {
			continue
		}
		if l >= j.nl && r < j.nl {
			l, r = r, l
		}
		if l < j.nl && r >= j.nl && hashable(cols[l].Type.Oid, cols[r].Type.Oid) {
			j.HashKeys = append(j.HashKeys, [2]int{l, r - j.nl})
		}
	}
}

// conjuncts splits a condition at its top-level ANDs.
func conjuncts(e Expr) []Expr {
	if b, ok := e.(*BoolOp); ok && b.Op == And {
		var out []Expr
		for _, a := range b.Args {
			out = append(out, conjuncts(a)...)
		}
		return out
	}
	return []Expr{e}
}

// equiColumns reports whether e is "column = column" of the current row.
func equiColumns(e Expr) (int, int, bool) {
	f, ok := e.(*FuncExpr)
	if !ok || f.Fn.Name != "=" || len(f.Args) != 2 {
		return 0, 0, false
	}
	l, lok := f.Args[0].(*ColRef)
	r, rok := f.Args[1].(*ColRef)
	if !lok || !rok || l.Level != 0 || r.Level != 0 {
		return 0, 0, false
	}
	return l.Index, r.Index, true
}

// isIntType reports whether t is one of the integer types (their values
// are all int64 and compare across types).
func isIntType(t types.Oid) bool {
	return t == types.OidInt2 || t == types.OidInt4 || t == types.OidInt8
}

// hashable reports whether equal values of types l and r have equal key
// encodings.
func hashable(l, r types.Oid) bool {
	if isIntType(l) && isIntType(r) {
		return true
	}
	return l == r && l != types.OidFloat4 && l != types.OidFloat8 && l != types.OidNumeric
}

// hashKey encodes a row's key columns; ok is false when one is NULL
// (NULL equals nothing).
func hashKey(cols []Column, row Row, idx []int) (string, bool) {
	var b []byte
	for _, i := range idx {
		if row[i] == nil {
			return "", false
		}
		t := cols[i].Type.Oid
		if isIntType(t) {
			t = types.OidInt8
		}
		var err error
		if b, err = types.AppendKey(b, t, row[i], false); err != nil {
			return "", false
		}
	}
	return string(b), true
}

func (j *Join) Open(ctx *EvalCtx) (Iter, error) {
	left, err := j.Left.Open(ctx)
	if err != nil {
		return nil, err
	}
	it := &joinIter{j: j, ctx: ctx, left: left, lcols: j.Left.Columns(), rcols: j.Right.Columns()}
	if !j.Lateral && j.IndexLookup == nil {
		if it.right, err = j.readRight(ctx, nil); err != nil {
			left.Close()
			return nil, err
		}
		it.buildHash()
		it.matched = make([]bool, len(it.right))
	}
	return it, nil
}

// readRight materializes the right side, run with lrow as the nearest
// outer row (a right side read once, lrow nil, sees the join's own outer
// rows: a correlated subquery's join reads them).
func (j *Join) readRight(ctx *EvalCtx, lrow Row) ([]Row, error) {
	rctx := ctx
	if lrow != nil || j.Lateral || j.IndexLookup != nil {
		rctx = &EvalCtx{Env: ctx.Env, Params: ctx.Params, Outer: append(ctx.Outer[:len(ctx.Outer):len(ctx.Outer)], lrow)}
	}
	if j.IndexLookup != nil {
		return j.IndexLookup.rows(rctx, lrow)
	}
	it, err := j.Right.Open(rctx)
	if err != nil {
		return nil, err
	}
	return drain(it)
}

// drain reads an iterator to its end and closes it.
func drain(it Iter) ([]Row, error) {
	defer it.Close()
	var rows []Row
	for {
		r, err := it.Next()
		if err != nil {
			return nil, err
		}
		if r == nil {
			return rows, it.Close()
		}
		rows = append(rows, r)
	}
}

type joinIter struct {
	j            *Join
	ctx          *EvalCtx
	left         Iter
	lcols, rcols []Column
	right        []Row
	hash         map[string][]int
	matched      []bool

	lrow     Row
	cands    []int // right rows to try for lrow (nil with no hash: all)
	pos      int
	lmatched bool
	done     bool // left exhausted: emitting unmatched right rows
}

func (it *joinIter) buildHash() {
	if len(it.j.HashKeys) == 0 {
		return
	}
	idx := make([]int, len(it.j.HashKeys))
	for i, k := range it.j.HashKeys {
		idx[i] = k[1]
	}
	it.hash = map[string][]int{}
	for i, r := range it.right {
		if k, ok := hashKey(it.rcols, r, idx); ok {
			it.hash[k] = append(it.hash[k], i)
		}
	}
}

func (it *joinIter) candidates() {
	it.pos = 0
	it.cands = nil
	if it.hash == nil {
		return
	}
	idx := make([]int, len(it.j.HashKeys))
	for i, k := range it.j.HashKeys {
		idx[i] = k[0]
	}
	it.cands = []int{}
	if k, ok := hashKey(it.lcols, it.lrow, idx); ok {
		it.cands = it.hash[k]
	}
}

func (it *joinIter) combine(l, r Row) Row {
	out := make(Row, len(it.lcols)+len(it.rcols))
	copy(out, l)
	copy(out[len(it.lcols):], r)
	return out
}

func (it *joinIter) Next() (Row, error) {
	for {
		if it.done {
			for it.pos < len(it.right) {
				i := it.pos
				it.pos++
				if !it.matched[i] {
					return it.combine(nil, it.right[i]), nil
				}
			}
			return nil, nil
		}
		if it.lrow == nil {
			l, err := it.left.Next()
			if err != nil {
				return nil, err
			}
			if l == nil {
				if it.j.Kind == RightJoin || it.j.Kind == FullJoin {
					it.done, it.pos = true, 0
					continue
				}
				return nil, nil
			}
			it.lrow, it.lmatched = l, false
			if it.j.Lateral || it.j.IndexLookup != nil {
				if it.right, err = it.j.readRight(it.ctx, l); err != nil {
					return nil, err
				}
				it.pos, it.cands = 0, nil
			} else {
				it.candidates()
			}
		}
		for {
			var ri int
			if it.cands != nil {
				if it.pos >= len(it.cands) {
					break
				}
				ri = it.cands[it.pos]
			} else {
				if it.pos >= len(it.right) {
					break
				}
				ri = it.pos
			}
			it.pos++
			row := it.combine(it.lrow, it.right[ri])
			if it.j.Cond != nil {
				ok, err := Truth(it.ctx, it.j.Cond, row)
				if err != nil {
					return nil, err
				}
				if !ok {
					continue
				}
			}
			it.lmatched = true
			if it.matched != nil && ri < len(it.matched) {
				it.matched[ri] = true
			}
			return row, nil
		}
		l := it.lrow
		it.lrow = nil
		if !it.lmatched && (it.j.Kind == LeftJoin || it.j.Kind == FullJoin) {
			return it.combine(l, nil), nil
		}
	}
}

func (it *joinIter) Close() error { return it.left.Close() }
