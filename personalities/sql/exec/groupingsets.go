package exec

import (
	"sort"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// The GROUP BY list with GROUPING SETS, ROLLUP and CUBE, the GROUPING()
// function, and the Aggregate node that computes every grouping set.

// groupBy analyzes the GROUP BY list into its distinct grouping
// expressions and, when it uses GROUPING SETS, ROLLUP, CUBE or (), its
// grouping sets (each a list of indexes into the expressions; the cross
// product of the items, as Postgres expands them). sets is nil for a
// plain list.
func (a *analyzer) groupBy(list []*pg.Node, s *Scope, exprs []Expr, cols []Column, ntargets int) ([]Expr, [][]int, error) {
	var groups []Expr
	index := func(e Expr) int {
		for i, g := range groups {
			if exprEqual(g, e) {
				return i
			}
		}
		groups = append(groups, e)
		return len(groups) - 1
	}
	one := func(n *pg.Node) (int, error) {
		e, err := a.groupExpr(n, s, exprs, cols, ntargets)
		if err != nil {
			return 0, err
		}
		return index(e), nil
	}
	// sublist is an item of ROLLUP, CUBE or GROUPING SETS: an expression
	// or a parenthesized list of them.
	sublist := func(n *pg.Node) ([]int, error) {
		var items []*pg.Node
		switch {
		case n.GetRowExpr() != nil:
			items = n.GetRowExpr().Args
		case n.GetGroupingSet() != nil && n.GetGroupingSet().Kind == pg.GroupingSetKind_GROUPING_SET_EMPTY:
		default:
			items = []*pg.Node{n}
		}
		var out []int
		for _, it := range items {
			i, err := one(it)
			if err != nil {
				return nil, err
			}
			out = append(out, i)
		}
		return out, nil
	}
	var expand func(n *pg.Node) ([][]int, error)
	expand = func(n *pg.Node) ([][]int, error) {
		gs := n.GetGroupingSet()
		if gs == nil {
			l, err := sublist(n)
			return [][]int{l}, err
		}
		var elems [][]int
		if gs.Kind == pg.GroupingSetKind_GROUPING_SET_ROLLUP || gs.Kind == pg.GroupingSetKind_GROUPING_SET_CUBE {
			for _, c := range gs.Content {
				l, err := sublist(c)
				if err != nil {
					return nil, err
				}
				elems = append(elems, l)
			}
		}
		switch gs.Kind {
		case pg.GroupingSetKind_GROUPING_SET_EMPTY:
			return [][]int{{}}, nil
		case pg.GroupingSetKind_GROUPING_SET_ROLLUP:
			var out [][]int
			for k := len(elems); k >= 0; k-- {
				var set []int
				for _, e := range elems[:k] {
					set = append(set, e...)
				}
				out = append(out, set)
			}
			return out, nil
		case pg.GroupingSetKind_GROUPING_SET_CUBE:
			if len(elems) > 12 {
				return nil, pgerror.New(pgerror.ProgramLimitExceeded, "CUBE is limited to 12 elements").WithPosition(gs.Location + 1)
			}
			var out [][]int
			for mask := (1 << len(elems)) - 1; mask >= 0; mask-- {
				var set []int
				for i, e := range elems {
					if mask&(1<<(len(elems)-1-i)) != 0 {
						set = append(set, e...)
					}
				}
				out = append(out, set)
			}
			return out, nil
		case pg.GroupingSetKind_GROUPING_SET_SETS:
			var out [][]int
			for _, c := range gs.Content {
				sub, err := expand(c)
				if err != nil {
					return nil, err
				}
				out = append(out, sub...)
			}
			return out, nil
		}
		l, err := sublist(n)
		return [][]int{l}, err
	}
	sets := [][]int{{}}
	usesSets := false
	for _, n := range list {
		var item [][]int
		var err error
		if n.GetGroupingSet() != nil {
			usesSets = true
			item, err = expand(n)
		} else {
			var l []int
			l, err = sublist(n)
			item = [][]int{l}
		}
		if err != nil {
			return nil, nil, err
		}
		var cross [][]int
		for _, s := range sets {
			for _, t := range item {
				cross = append(cross, append(append([]int(nil), s...), t...))
			}
		}
		sets = cross
	}
	if !usesSets {
		return groups, nil, nil
	}
	if len(sets) > 4096 {
		return nil, nil, pgerror.New(pgerror.StatementTooComplex, "too many grouping sets present (maximum 4096)")
	}
	return groups, sets, nil
}

// groupingRef is GROUPING(...) before grouping resolves its arguments.
type groupingRef struct {
	Args []Expr
	Pos  []int32 // each argument's position
}

func (r *groupingRef) Type() types.Type { return types.Int4Type }
func (r *groupingRef) Eval(*EvalCtx, Row) (any, error) {
	return nil, pgerror.New(pgerror.Internal, "GROUPING evaluated outside its aggregate")
}

func (a *analyzer) groupingFunc(gf *pg.GroupingFunc, s *Scope) (Expr, error) {
	pos := gf.Location + 1
	g := a.agg
	switch {
	case g == nil:
		return nil, pgerror.New(pgerror.GroupingError, "grouping operations are not allowed here").WithPosition(pos)
	case g.forbid != "":
		return nil, pgerror.New(pgerror.GroupingError, "grouping operations are not allowed in %s", g.forbid).WithPosition(pos)
	case g.inArgs:
		return nil, pgerror.New(pgerror.GroupingError, "aggregate function calls cannot contain grouping operations").WithPosition(pos)
	}
	if len(gf.Args) > 31 {
		return nil, pgerror.New("54023", "GROUPING must have fewer than 32 arguments").WithPosition(pos)
	}
	args, err := a.exprList(gf.Args, s)
	if err != nil {
		return nil, err
	}
	g.hasGrouping = true
	ref := &groupingRef{Args: args}
	for _, n := range gf.Args {
		ref.Pos = append(ref.Pos, nodeLocation(n))
	}
	return ref, nil
}

// grouping resolves GROUPING(...) over the Aggregate's output: bit i
// (from the right, for the last argument first) is set when argument i is
// not grouped in the row's grouping set.
func (r *grouper) grouping(x *groupingRef) (Expr, error) {
	idx := make([]int, len(x.Args))
	for i, arg := range x.Args {
		idx[i] = -1
		for k, g := range r.groups {
			if exprEqual(arg, g) {
				idx[i] = k
			}
		}
		if idx[i] < 0 {
			return nil, pgerror.New(pgerror.GroupingError, "arguments to GROUPING must be grouping expressions of the associated query level").WithPosition(x.Pos[i])
		}
	}
	if r.sets == nil {
		return &Const{T: types.Int4Type, Value: int64(0)}, nil
	}
	masks := make([]int64, len(r.sets))
	for si, set := range r.sets {
		for i, k := range idx {
			in := false
			for _, m := range set {
				in = in || m == k
			}
			if !in {
				masks[si] |= 1 << (len(idx) - 1 - i)
			}
		}
	}
	return &groupingExpr{Col: len(r.groups) + len(r.g.calls), Masks: masks}, nil
}

// groupingExpr is GROUPING(...) over the Aggregate's output: the mask of
// the row's grouping set (its index is in column Col).
type groupingExpr struct {
	Col   int
	Masks []int64
}

func (g *groupingExpr) Type() types.Type { return types.Int4Type }
func (g *groupingExpr) Eval(_ *EvalCtx, row Row) (any, error) {
	return g.Masks[row[g.Col].(int64)], nil
}

// Aggregate groups its input by Groups and computes Aggs for each group.
// Its rows are the group key values, then the aggregates' results, then
// (with grouping sets) the index of the row's set. With no GROUP BY
// (Grouped false) it produces exactly one row, even for no input; so does
// an empty grouping set. Each set's groups come out in key order, the
// keys not in the set NULL.
type Aggregate struct {
	Input   Plan
	Groups  []Expr
	Aggs    []*aggCall
	Grouped bool
	Sets    [][]int
}

func (g *Aggregate) Columns() []Column {
	cols := make([]Column, 0, len(g.Groups)+len(g.Aggs)+1)
	in := g.Input.Columns()
	for _, e := range g.Groups {
		// Named as EXPLAIN shows the key.
		cols = append(cols, Column{Name: deparse(e, in, false, true), Type: e.Type()})
	}
	for _, c := range g.Aggs {
		cols = append(cols, Column{Name: c.Name, Type: c.T})
	}
	if g.Sets != nil {
		cols = append(cols, Column{Name: "?set?", Type: types.Int4Type, Hidden: true})
	}
	return cols
}

// streams reports whether the aggregate can take its input row by row
// rather than materialize it: one group (no GROUP BY, no grouping sets)
// and no aggregate that needs all its inputs at once (DISTINCT, ORDER
// BY). SELECT count(*) over a large table then holds one row at a time.
func (g *Aggregate) streams() bool {
	if g.Grouped || g.Sets != nil {
		return false
	}
	for _, c := range g.Aggs {
		if c.collects() {
			return false
		}
	}
	return true
}

// openStreaming computes the single group's aggregates as the input
// rows come.
func (g *Aggregate) openStreaming(ctx *EvalCtx) (Iter, error) {
	states := make([]AggState, len(g.Aggs))
	for i, c := range g.Aggs {
		states[i] = c.newState()
	}
	in, err := g.Input.Open(ctx)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	for {
		r, err := in.Next()
		if err != nil {
			return nil, err
		}
		if r == nil {
			break
		}
		for i, c := range g.Aggs {
			args, ok, err := c.args(ctx, r)
			if err != nil {
				return nil, err
			}
			if ok {
				if err := states[i].Add(ctx, args); err != nil {
					return nil, err
				}
			}
		}
	}
	out := make(Row, 0, len(g.Aggs)+1)
	for _, st := range states {
		v, err := st.Result(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return &sliceIter{rows: []Row{out}}, nil
}

// input is the node's one input (for EXPLAIN).
func (g *Aggregate) input() Plan { return g.Input }

func (g *Aggregate) Explain(e *Explainer) {
	switch {
	case g.Sets != nil:
		e.Node("MixedAggregate")
	case g.Grouped:
		e.Node("HashAggregate")
		keys := make([]string, len(g.Groups))
		for i, k := range g.Groups {
			keys[i] = e.ExprString(k, g.Input.Columns())
		}
		e.Detail("Group Key: %s", strings.Join(keys, ", "))
	default:
		e.Node("Aggregate")
	}
	e.Child(g.Input)
}

func (g *Aggregate) Open(ctx *EvalCtx) (Iter, error) {
	if g.streams() {
		return g.openStreaming(ctx)
	}
	input, err := Materialize(ctx, g.Input)
	if err != nil {
		return nil, err
	}
	// Each input row, with its group key values.
	type keyed struct {
		key Row
		row Row
	}
	rows := make([]keyed, 0, len(input))
	for _, r := range input {
		k := make(Row, len(g.Groups))
		for i, e := range g.Groups {
			if k[i], err = e.Eval(ctx, r); err != nil {
				return nil, err
			}
		}
		rows = append(rows, keyed{key: k, row: r})
	}
	sets := g.Sets
	if sets == nil {
		all := []int{}
		if g.Grouped {
			for i := range g.Groups {
				all = append(all, i)
			}
		}
		sets = [][]int{all}
	}
	cols := g.Columns()[:len(g.Groups)]
	var out []Row
	emit := func(si int, set []int, key Row, members []keyed) error {
		r := make(Row, len(g.Groups), len(g.Groups)+len(g.Aggs)+1)
		for _, k := range set {
			r[k] = key[k]
		}
		rs := make([]Row, len(members))
		for i, m := range members {
			rs[i] = m.row
		}
		for _, c := range g.Aggs {
			v, err := c.compute(ctx, rs)
			if err != nil {
				return err
			}
			r = append(r, v)
		}
		if g.Sets != nil {
			r = append(r, int64(si))
		}
		out = append(out, r)
		return nil
	}
	for si, set := range sets {
		if len(set) == 0 && (!g.Grouped || g.Sets != nil) {
			if err := emit(si, set, nil, rows); err != nil {
				return nil, err
			}
			continue
		}
		keys := make([]SortKey, len(set))
		for i, k := range set {
			keys[i] = SortKey{Index: k}
		}
		sorted := append([]keyed(nil), rows...)
		sort.SliceStable(sorted, func(i, j int) bool { return CompareRows(cols, keys, sorted[i].key, sorted[j].key) < 0 })
		for start := 0; start < len(sorted); {
			end := start + 1
			for end < len(sorted) && CompareRows(cols, keys, sorted[start].key, sorted[end].key) == 0 {
				end++
			}
			if err := emit(si, set, sorted[start].key, sorted[start:end]); err != nil {
				return nil, err
			}
			start = end
		}
	}
	return &sliceIter{rows: out}, nil
}
