package exec

import (
	"sort"

	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// Window functions. A call f(...) OVER (...) in the select list or ORDER
// BY is analyzed into a WinRef; the WindowAgg node, above the grouping,
// computes every call for every row and appends the values to the row.
// Frames: ROWS with offsets, RANGE UNBOUNDED PRECEDING / CURRENT ROW /
// UNBOUNDED FOLLOWING (peers included). RANGE with an offset, GROUPS, and
// EXCLUDE are not supported.

// Frame option bits, as Postgres's parser sets them.
const (
	frameRange              = 0x2
	frameRows               = 0x4
	frameGroups             = 0x8
	frameStartUnboundedPrec = 0x20
	frameEndUnboundedFoll   = 0x100
	frameStartCurrentRow    = 0x200
	frameEndCurrentRow      = 0x400
	frameStartOffsetPrec    = 0x800
	frameEndOffsetPrec      = 0x1000
	frameStartOffsetFoll    = 0x2000
	frameEndOffsetFoll      = 0x4000
	frameExclusion          = 0x8000 | 0x10000 | 0x20000
	frameDefaults           = frameRange | frameStartUnboundedPrec | frameEndCurrentRow
)

// windowCall is one window function call of a query level.
type windowCall struct {
	Fn   *Func
	Args []Expr
	// Agg is set for an aggregate used as a window function.
	Agg       *aggCall
	Partition []Expr
	Order     []Expr
	Keys      []SortKey // Index is into Order
	Frame     int32
	// StartOffset and EndOffset are the frame's offsets (nil: none).
	StartOffset, EndOffset Expr
	T                      types.Type
	// Pos is the call's position in the query.
	Pos int32
}

// WinRef is a window function's value in an expression not yet rewritten
// over the WindowAgg node's output. It is never evaluated.
type WinRef struct {
	Index int
	T     types.Type
}

func (r *WinRef) Type() types.Type { return r.T }
func (r *WinRef) Eval(*EvalCtx, Row) (any, error) {
	return nil, pgerror.New(pgerror.Internal, "window function reference evaluated outside its window")
}

// windowCall analyzes f(...) OVER (...).
func (a *analyzer) windowCall(fc *pg.FuncCall, name string, fs []*Func, s *Scope) (Expr, error) {
	pos := fc.Location + 1
	g := a.agg
	switch {
	case g == nil:
		return nil, pgerror.New(pgerror.WindowingError, "window functions are not allowed here").WithPosition(pos)
	case g.forbid != "":
		return nil, pgerror.New(pgerror.WindowingError, "window functions are not allowed in %s", g.forbid).WithPosition(pos)
	case g.inArgs:
		return nil, pgerror.New(pgerror.GroupingError, "aggregate function calls cannot contain window function calls").WithPosition(pos)
	case g.inWindow:
		return nil, pgerror.New(pgerror.WindowingError, "window function calls cannot be nested").WithPosition(pos)
	}
	if fs[0].Window == nil && !isAggregate(fs) {
		return nil, pgerror.New(pgerror.WrongObjectType, "OVER specified, but %s is not a window function nor an aggregate function", name).WithPosition(pos)
	}
	if fc.AggDistinct {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "DISTINCT is not implemented for window functions").WithPosition(pos)
	}
	if len(fc.AggOrder) > 0 {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "aggregate ORDER BY is not implemented for window functions").WithPosition(pos)
	}
	g.inWindow = true
	defer func() { g.inWindow = false }()
	w := &windowCall{Pos: pos}
	if isAggregate(fs) {
		call, err := a.aggregate(fc, name, fs, s)
		if err != nil {
			return nil, err
		}
		w.Agg, w.Fn, w.Args, w.T = call, call.Fn, call.Args, call.T
	} else {
		if fc.AggFilter != nil {
			return nil, pgerror.New(pgerror.FeatureNotSupported, "FILTER is not implemented for non-aggregate window functions").WithPosition(pos)
		}
		args, err := a.exprList(fc.Args, s)
		if err != nil {
			return nil, err
		}
		e, err := a.call("function", name, fs, args, pos)
		if err != nil {
			return nil, err
		}
		fe := e.(*FuncExpr)
		w.Fn, w.Args, w.T = fe.Fn, fe.Args, fe.T
	}
	def, err := a.windowDef(fc.Over, g.windowDefs)
	if err != nil {
		return nil, err
	}
	for _, n := range def.PartitionClause {
		e, err := a.expr(n, s)
		if err != nil {
			return nil, err
		}
		w.Partition = append(w.Partition, e)
	}
	for _, n := range def.OrderClause {
		sb := n.GetSortBy()
		e, err := a.expr(sb.Node, s)
		if err != nil {
			return nil, err
		}
		w.Keys = append(w.Keys, SortKey{Index: len(w.Order), Desc: sb.SortbyDir == pg.SortByDir_SORTBY_DESC, NullsFirst: nullsFirst(sb)})
		w.Order = append(w.Order, e)
	}
	w.Frame = def.FrameOptions
	if w.Frame&frameGroups != 0 || w.Frame&frameExclusion != 0 ||
		w.Frame&frameRange != 0 && w.Frame&(frameStartOffsetPrec|frameStartOffsetFoll|frameEndOffsetPrec|frameEndOffsetFoll) != 0 {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "RANGE with offsets, GROUPS and EXCLUDE frames are not supported").WithPosition(def.Location + 1)
	}
	for _, off := range []struct {
		n   *pg.Node
		dst *Expr
	}{{def.StartOffset, &w.StartOffset}, {def.EndOffset, &w.EndOffset}} {
		if off.n == nil {
			continue
		}
		e, err := a.expr(off.n, nil)
		if err != nil {
			return nil, err
		}
		if *off.dst, err = a.coerce(e, types.Int8Type, false); err != nil {
			return nil, err
		}
	}
	g.windows = append(g.windows, w)
	return &WinRef{Index: len(g.windows) - 1, T: w.T}, nil
}

// windowDef resolves an OVER clause against the query's WINDOW clause.
func (a *analyzer) windowDef(over *pg.WindowDef, named []*pg.Node) (*pg.WindowDef, error) {
	find := func(name string) (*pg.WindowDef, error) {
		for _, n := range named {
			if d := n.GetWindowDef(); d != nil && d.Name == name {
				return d, nil
			}
		}
		return nil, pgerror.New(pgerror.UndefinedObject, "window \"%s\" does not exist", name).WithPosition(over.Location + 1)
	}
	if over.Name != "" && over.Refname == "" && len(over.PartitionClause) == 0 && len(over.OrderClause) == 0 {
		// OVER w: the named window itself.
		return find(over.Name)
	}
	if over.Refname == "" {
		return over, nil
	}
	ref, err := find(over.Refname)
	if err != nil {
		return nil, err
	}
	if len(over.PartitionClause) > 0 {
		return nil, pgerror.New(pgerror.WindowingError, "cannot override PARTITION BY clause of window \"%s\"", over.Refname).WithPosition(over.Location + 1)
	}
	if len(over.OrderClause) > 0 && len(ref.OrderClause) > 0 {
		return nil, pgerror.New(pgerror.WindowingError, "cannot override ORDER BY clause of window \"%s\"", over.Refname).WithPosition(over.Location + 1)
	}
	if ref.FrameOptions != frameDefaults && ref.FrameOptions != 0 {
		return nil, pgerror.New(pgerror.WindowingError, "cannot copy window \"%s\" because it has a frame clause", over.Refname).WithPosition(over.Location + 1)
	}
	out := &pg.WindowDef{PartitionClause: ref.PartitionClause, OrderClause: ref.OrderClause, FrameOptions: over.FrameOptions,
		StartOffset: over.StartOffset, EndOffset: over.EndOffset, Location: over.Location}
	if len(over.OrderClause) > 0 {
		out.OrderClause = over.OrderClause
	}
	return out, nil
}

// rewriteWindows rewrites the expressions of the level's window calls
// with f (over the grouping's output).
func rewriteWindows(g *aggScope, f func(Expr) (Expr, error)) error {
	for _, w := range g.windows {
		for _, es := range [][]Expr{w.Args, w.Partition, w.Order} {
			for i, e := range es {
				n, err := f(e)
				if err != nil {
					return err
				}
				es[i] = n
			}
		}
		if w.Agg != nil && w.Agg.Filter != nil {
			n, err := f(w.Agg.Filter)
			if err != nil {
				return err
			}
			w.Agg.Filter = n
		}
	}
	return nil
}

// windowPlan adds the window computations of a query level above input,
// and rewrites exprs' window references over its output.
func (a *analyzer) windowPlan(g *aggScope, input Plan, exprs []Expr) (Plan, error) {
	if len(g.windows) == 0 {
		return input, nil
	}
	n := len(input.Columns())
	var replace func(e Expr) (Expr, error)
	replace = func(e Expr) (Expr, error) {
		if r, ok := e.(*WinRef); ok {
			return &ColRef{Index: n + r.Index, T: r.T}, nil
		}
		return e, mapChildren(e, replace)
	}
	for i, e := range exprs {
		r, err := replace(e)
		if err != nil {
			return nil, err
		}
		exprs[i] = r
	}
	return &WindowAgg{Input: input, Calls: g.windows}, nil
}

// WindowAgg computes window functions: each output row is its input row
// followed by the value of each call. Rows come out partition by
// partition, each in its window order (the first call's).
type WindowAgg struct {
	Input Plan
	Calls []*windowCall
}

func (w *WindowAgg) Columns() []Column {
	cols := append([]Column(nil), w.Input.Columns()...)
	for _, c := range w.Calls {
		cols = append(cols, Column{Name: c.Fn.Name, Type: c.T, Hidden: true})
	}
	return cols
}

// input is the node's one input (for EXPLAIN).
func (w *WindowAgg) input() Plan { return w.Input }

func (w *WindowAgg) Explain(e *Explainer) {
	e.Node("WindowAgg")
	e.Child(w.Input)
}

func (w *WindowAgg) Open(ctx *EvalCtx) (Iter, error) {
	rows, err := Materialize(ctx, w.Input)
	if err != nil {
		return nil, err
	}
	n := len(w.Input.Columns())
	out := make([]Row, len(rows))
	for i, r := range rows {
		out[i] = make(Row, n, n+len(w.Calls))
		copy(out[i], r)
	}
	// Compute the calls last to first, so that the first call's order
	// is the order the rows leave in.
	vals := make([][]any, len(w.Calls))
	var order []int
	for ci := len(w.Calls) - 1; ci >= 0; ci-- {
		if vals[ci], order, err = w.Calls[ci].compute(ctx, rows); err != nil {
			return nil, err
		}
	}
	sorted := make([]Row, len(rows))
	for k, i := range order {
		for ci := range w.Calls {
			out[i] = append(out[i], vals[ci][i])
		}
		sorted[k] = out[i]
	}
	return &sliceIter{rows: sorted}, nil
}

// WindowPartition is one partition of rows in window order, as a window
// function sees it.
type WindowPartition struct {
	// Args[i] are the call's arguments evaluated on row i.
	Args [][]any
	// PeerStart[i], PeerEnd[i] bound row i's peer group: [start, end).
	PeerStart, PeerEnd []int
	// FrameStart[i], FrameEnd[i] bound row i's frame: [start, end).
	FrameStart, FrameEnd []int
}

// compute evaluates the call for every row; it returns the values by
// input row and the rows' window order.
func (w *windowCall) compute(ctx *EvalCtx, rows []Row) ([]any, []int, error) {
	np, no := len(w.Partition), len(w.Order)
	keyed := make([]Row, len(rows))
	for i, r := range rows {
		k := make(Row, 0, np+no+1)
		for _, e := range append(append([]Expr(nil), w.Partition...), w.Order...) {
			v, err := e.Eval(ctx, r)
			if err != nil {
				return nil, nil, err
			}
			k = append(k, v)
		}
		keyed[i] = k
	}
	cols := make([]Column, 0, np+no)
	var partKeys, ordKeys []SortKey
	for i, e := range w.Partition {
		cols = append(cols, Column{Type: e.Type()})
		partKeys = append(partKeys, SortKey{Index: i})
	}
	for _, k := range w.Keys {
		cols = append(cols, Column{Type: w.Order[k.Index].Type()})
		ordKeys = append(ordKeys, SortKey{Index: np + k.Index, Desc: k.Desc, NullsFirst: k.NullsFirst})
	}
	all := append(append([]SortKey(nil), partKeys...), ordKeys...)
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return CompareRows(cols, all, keyed[order[i]], keyed[order[j]]) < 0 })
	startOff, endOff, err := w.offsets(ctx)
	if err != nil {
		return nil, nil, err
	}
	vals := make([]any, len(rows))
	for start := 0; start < len(order); {
		end := start + 1
		for end < len(order) && CompareRows(cols, partKeys, keyed[order[start]], keyed[order[end]]) == 0 {
			end++
		}
		part := order[start:end]
		p := &WindowPartition{}
		m := len(part)
		p.PeerStart, p.PeerEnd = make([]int, m), make([]int, m)
		for i := 0; i < m; {
			j := i + 1
			for j < m && CompareRows(cols, ordKeys, keyed[part[i]], keyed[part[j]]) == 0 {
				j++
			}
			for k := i; k < j; k++ {
				p.PeerStart[k], p.PeerEnd[k] = i, j
			}
			i = j
		}
		p.FrameStart, p.FrameEnd = make([]int, m), make([]int, m)
		for i := 0; i < m; i++ {
			p.FrameStart[i], p.FrameEnd[i] = w.frame(i, m, p, startOff, endOff)
		}
		p.Args = make([][]any, m)
		for i, ri := range part {
			args := make([]any, len(w.Args))
			for k, e := range w.Args {
				if args[k], err = e.Eval(ctx, rows[ri]); err != nil {
					return nil, nil, err
				}
			}
			p.Args[i] = args
		}
		var res []any
		if w.Agg != nil {
			res, err = w.aggregate(ctx, rows, part, p)
		} else {
			res, err = w.Fn.Window.Compute(ctx, p)
		}
		if err != nil {
			return nil, nil, err
		}
		for i, ri := range part {
			vals[ri] = res[i]
		}
		start = end
	}
	return vals, order, nil
}

// offsets evaluates the frame's offsets.
func (w *windowCall) offsets(ctx *EvalCtx) (int64, int64, error) {
	var out [2]int64
	for i, e := range []Expr{w.StartOffset, w.EndOffset} {
		if e == nil {
			continue
		}
		which := [2]string{"starting", "ending"}[i]
		v, err := e.Eval(ctx, nil)
		if err != nil {
			return 0, 0, err
		}
		if v == nil {
			return 0, 0, pgerror.New(pgerror.NullValueNotAllowed, "frame %s offset must not be null", which)
		}
		if v.(int64) < 0 {
			return 0, 0, pgerror.New("22013", "frame %s offset must not be negative", which)
		}
		out[i] = v.(int64)
	}
	return out[0], out[1], nil
}

// frame bounds row i's frame in a partition of m rows.
func (w *windowCall) frame(i, m int, p *WindowPartition, startOff, endOff int64) (int, int) {
	f := w.Frame
	if f == 0 {
		f = frameDefaults
	}
	clamp := func(x int64) int { return int(max(0, min(x, int64(m)))) }
	start, end := 0, m
	rows := f&frameRows != 0
	switch {
	case f&frameStartUnboundedPrec != 0:
		start = 0
	case f&frameStartCurrentRow != 0:
		start = i
		if !rows {
			start = p.PeerStart[i]
		}
	case f&frameStartOffsetPrec != 0:
		start = clamp(int64(i) - startOff)
	case f&frameStartOffsetFoll != 0:
		start = clamp(int64(i) + startOff)
	}
	switch {
	case f&frameEndUnboundedFoll != 0:
		end = m
	case f&frameEndCurrentRow != 0:
		end = i + 1
		if !rows {
			end = p.PeerEnd[i]
		}
	case f&frameEndOffsetPrec != 0:
		end = clamp(int64(i) - endOff + 1)
	case f&frameEndOffsetFoll != 0:
		end = clamp(int64(i) + endOff + 1)
	}
	return start, max(start, end)
}

// aggregate computes an aggregate over each row's frame.
func (w *windowCall) aggregate(ctx *EvalCtx, rows []Row, part []int, p *WindowPartition) ([]any, error) {
	out := make([]any, len(part))
	for i := range part {
		if i > 0 && p.FrameStart[i] == p.FrameStart[i-1] && p.FrameEnd[i] == p.FrameEnd[i-1] {
			out[i] = out[i-1]
			continue
		}
		members := make([]Row, 0, p.FrameEnd[i]-p.FrameStart[i])
		for _, ri := range part[p.FrameStart[i]:p.FrameEnd[i]] {
			members = append(members, rows[ri])
		}
		v, err := w.Agg.compute(ctx, members)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func winFunc(name string, args []types.Oid, ret types.Oid, compute func(ctx *EvalCtx, p *WindowPartition) ([]any, error)) {
	RegisterFunc(&Func{Name: name, Args: args, Ret: ret, Window: &WindowFunc{Compute: compute}})
}

// perRow builds a window function from a function of one row's position.
func perRow(f func(i int, p *WindowPartition) (any, error)) func(*EvalCtx, *WindowPartition) ([]any, error) {
	return func(_ *EvalCtx, p *WindowPartition) ([]any, error) {
		out := make([]any, len(p.Args))
		for i := range out {
			v, err := f(i, p)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
}

func init() {
	I8, F8, AE := types.OidInt8, types.OidFloat8, types.OidAnyElement
	winFunc("row_number", nil, I8, perRow(func(i int, _ *WindowPartition) (any, error) { return int64(i + 1), nil }))
	winFunc("rank", nil, I8, perRow(func(i int, p *WindowPartition) (any, error) { return int64(p.PeerStart[i] + 1), nil }))
	winFunc("dense_rank", nil, I8, func(_ *EvalCtx, p *WindowPartition) ([]any, error) {
		out := make([]any, len(p.Args))
		rank := int64(0)
		for i := range out {
			if p.PeerStart[i] == i {
				rank++
			}
			out[i] = rank
		}
		return out, nil
	})
	winFunc("percent_rank", nil, F8, perRow(func(i int, p *WindowPartition) (any, error) {
		if len(p.Args) <= 1 {
			return float64(0), nil
		}
		return float64(p.PeerStart[i]) / float64(len(p.Args)-1), nil
	}))
	winFunc("cume_dist", nil, F8, perRow(func(i int, p *WindowPartition) (any, error) {
		return float64(p.PeerEnd[i]) / float64(len(p.Args)), nil
	}))
	winFunc("ntile", []types.Oid{types.OidInt4}, types.OidInt4, perRow(func(i int, p *WindowPartition) (any, error) {
		if p.Args[0][0] == nil {
			return nil, nil
		}
		k := p.Args[0][0].(int64)
		if k <= 0 {
			return nil, pgerror.New("22014", "argument of ntile must be greater than zero")
		}
		m := int64(len(p.Args))
		size, extra := m/k, m%k
		// The first extra buckets hold size+1 rows.
		pos := int64(i)
		if pos < extra*(size+1) {
			return pos/(size+1) + 1, nil
		}
		return extra + (pos-extra*(size+1))/size + 1, nil
	}))
	shift := func(dir int) func(i int, p *WindowPartition) (any, error) {
		return func(i int, p *WindowPartition) (any, error) {
			args := p.Args[i]
			off := int64(1)
			if len(args) > 1 {
				if args[1] == nil {
					return nil, nil
				}
				off = args[1].(int64)
			}
			j := int64(i) + int64(dir)*off
			if j < 0 || j >= int64(len(p.Args)) {
				if len(args) > 2 {
					return args[2], nil
				}
				return nil, nil
			}
			return p.Args[j][0], nil
		}
	}
	for _, f := range []struct {
		name string
		dir  int
	}{{"lag", -1}, {"lead", 1}} {
		winFunc(f.name, []types.Oid{AE}, AE, perRow(shift(f.dir)))
		winFunc(f.name, []types.Oid{AE, types.OidInt4}, AE, perRow(shift(f.dir)))
		winFunc(f.name, []types.Oid{AE, types.OidInt4, AE}, AE, perRow(shift(f.dir)))
	}
	winFunc("first_value", []types.Oid{AE}, AE, perRow(func(i int, p *WindowPartition) (any, error) {
		if p.FrameStart[i] >= p.FrameEnd[i] {
			return nil, nil
		}
		return p.Args[p.FrameStart[i]][0], nil
	}))
	winFunc("last_value", []types.Oid{AE}, AE, perRow(func(i int, p *WindowPartition) (any, error) {
		if p.FrameStart[i] >= p.FrameEnd[i] {
			return nil, nil
		}
		return p.Args[p.FrameEnd[i]-1][0], nil
	}))
	winFunc("nth_value", []types.Oid{AE, types.OidInt4}, AE, perRow(func(i int, p *WindowPartition) (any, error) {
		if p.Args[i][1] == nil {
			return nil, nil
		}
		n := p.Args[i][1].(int64)
		if n <= 0 {
			return nil, pgerror.New("22016", "argument of nth_value must be greater than zero")
		}
		j := int64(p.FrameStart[i]) + n - 1
		if j >= int64(p.FrameEnd[i]) {
			return nil, nil
		}
		return p.Args[j][0], nil
	}))
}
