package exec

import (
	"reflect"

	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// Conditional expressions: CASE, COALESCE, NULLIF, GREATEST, LEAST,
// IS [NOT] TRUE/FALSE/UNKNOWN, IS [NOT] DISTINCT FROM, [NOT] IN (list),
// [NOT] BETWEEN [SYMMETRIC]. Postgres rewrites IN over a list it cannot
// make an array of, and BETWEEN, into ORs and ANDs of comparisons; these do
// the same for every list, which gives the same results and errors.

// exprMore analyzes the expression kinds of this file and of the pattern
// and aggregate files; ok is false for a kind none of them knows.
func (a *analyzer) exprMore(n *pg.Node, s *Scope) (e Expr, ok bool, err error) {
	switch x := n.Node.(type) {
	case *pg.Node_CaseExpr:
		e, err = a.caseExpr(x.CaseExpr, s)
	case *pg.Node_CoalesceExpr:
		e, err = a.coalesce(x.CoalesceExpr, s)
	case *pg.Node_MinMaxExpr:
		e, err = a.minMax(x.MinMaxExpr, s)
	case *pg.Node_BooleanTest:
		e, err = a.booleanTest(x.BooleanTest, s)
	case *pg.Node_GroupingFunc:
		e, err = a.groupingFunc(x.GroupingFunc, s)
	default:
		return nil, false, nil
	}
	return e, true, err
}

// nodeLocation is a parse node's 1-based position in the query text, 0 if
// it has none.
func nodeLocation(n *pg.Node) int32 {
	if n == nil || n.Node == nil {
		return 0
	}
	leftmost := func(locs ...int32) int32 {
		best := int32(0)
		for _, l := range locs {
			if l > 0 && (best == 0 || l < best) {
				best = l
			}
		}
		return best
	}
	switch x := n.Node.(type) {
	case *pg.Node_TypeCast:
		return leftmost(x.TypeCast.Location+1, nodeLocation(x.TypeCast.Arg))
	case *pg.Node_AExpr:
		return leftmost(x.AExpr.Location+1, nodeLocation(x.AExpr.Lexpr))
	}
	v := reflect.ValueOf(n.Node)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct || v.Elem().NumField() == 0 {
		return 0
	}
	if l, ok := v.Elem().Field(0).Interface().(interface{ GetLocation() int32 }); ok {
		if loc := l.GetLocation(); loc >= 0 {
			return loc + 1
		}
	}
	return 0
}

// exprs analyzes a list of expressions.
func (a *analyzer) exprList(ns []*pg.Node, s *Scope) ([]Expr, error) {
	out := make([]Expr, len(ns))
	for i, n := range ns {
		e, err := a.expr(n, s)
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}

// coerceCommon resolves the type a set of expressions is brought to, as
// Postgres's select_common_type does (what names the construct in
// errors: "CASE", "COALESCE", ...), and coerces them all to it.
func (a *analyzer) coerceCommon(what string, es []Expr, ns []*pg.Node) (types.Type, error) {
	ts := make([]types.Type, len(es))
	pos := make([]int32, len(es))
	for i, e := range es {
		ts[i], pos[i] = e.Type(), nodeLocation(ns[i])
	}
	t, err := a.commonTypeAt(what, ts, pos)
	if err != nil {
		return t, err
	}
	for i, e := range es {
		if e.Type().Oid != t.Oid && e.Type().Oid != types.OidUnknown && !CanImplicit(e.Type().Oid, t.Oid) {
			return t, pgerror.New(pgerror.CannotCoerce, "%s could not convert type %s to %s", what, types.FormatType(e.Type().Oid, -1), types.FormatType(t.Oid, -1)).WithPosition(pos[i])
		}
		c, err := a.coerce(e, types.Type{Oid: t.Oid, Mod: -1}, false)
		if err != nil {
			return t, err
		}
		es[i] = c
	}
	return t, nil
}

// CaseExpr is CASE WHEN ... THEN ... [ELSE ...] END (the simple form is
// analyzed into conditions comparing the operand).
type CaseExpr struct {
	Conds   []Expr
	Results []Expr
	Else    Expr // nil: NULL
	T       types.Type
}

func (c *CaseExpr) Type() types.Type { return c.T }
func (c *CaseExpr) Eval(ctx *EvalCtx, row Row) (any, error) {
	for i, cond := range c.Conds {
		ok, err := Truth(ctx, cond, row)
		if err != nil {
			return nil, err
		}
		if ok {
			return c.Results[i].Eval(ctx, row)
		}
	}
	if c.Else == nil {
		return nil, nil
	}
	return c.Else.Eval(ctx, row)
}

func (a *analyzer) caseExpr(c *pg.CaseExpr, s *Scope) (Expr, error) {
	var operand Expr
	if c.Arg != nil {
		e, err := a.expr(c.Arg, s)
		if err != nil {
			return nil, err
		}
		operand = e
	}
	out := &CaseExpr{}
	var resultNodes []*pg.Node
	for _, w := range c.Args {
		cw := w.GetCaseWhen()
		var cond Expr
		if operand != nil {
			v, err := a.expr(cw.Expr, s)
			if err != nil {
				return nil, err
			}
			if cond, err = a.operator("=", []Expr{operand, v}, cw.Location+1); err != nil {
				return nil, err
			}
		} else {
			e, err := a.expr(cw.Expr, s)
			if err != nil {
				return nil, err
			}
			if e.Type().Oid != types.OidBool {
				if cond, err = a.coerce(e, types.BoolType, false); err != nil {
					return nil, pgerror.New(pgerror.DatatypeMismatch, "argument of CASE/WHEN must be type boolean, not type %s", e.Type()).WithPosition(nodeLocation(cw.Expr))
				}
			} else {
				cond = e
			}
		}
		r, err := a.expr(cw.Result, s)
		if err != nil {
			return nil, err
		}
		out.Conds = append(out.Conds, cond)
		out.Results = append(out.Results, r)
		resultNodes = append(resultNodes, cw.Result)
	}
	all := append([]Expr(nil), out.Results...)
	if c.Defresult != nil {
		e, err := a.expr(c.Defresult, s)
		if err != nil {
			return nil, err
		}
		all = append([]Expr{e}, all...)
		resultNodes = append([]*pg.Node{c.Defresult}, resultNodes...)
	}
	t, err := a.coerceCommon("CASE", all, resultNodes)
	if err != nil {
		return nil, err
	}
	if c.Defresult != nil {
		out.Else, all = all[0], all[1:]
	}
	out.Results = all
	out.T = t
	return out, nil
}

// CoalesceExpr is COALESCE(...): its first non-NULL argument.
type CoalesceExpr struct {
	Args []Expr
	T    types.Type
}

func (c *CoalesceExpr) Type() types.Type { return c.T }
func (c *CoalesceExpr) Eval(ctx *EvalCtx, row Row) (any, error) {
	for _, e := range c.Args {
		v, err := e.Eval(ctx, row)
		if err != nil || v != nil {
			return v, err
		}
	}
	return nil, nil
}

func (a *analyzer) coalesce(c *pg.CoalesceExpr, s *Scope) (Expr, error) {
	args, err := a.exprList(c.Args, s)
	if err != nil {
		return nil, err
	}
	t, err := a.coerceCommon("COALESCE", args, c.Args)
	if err != nil {
		return nil, err
	}
	return &CoalesceExpr{Args: args, T: t}, nil
}

// MinMaxExpr is GREATEST or LEAST: NULL arguments are ignored.
type MinMaxExpr struct {
	Args     []Expr
	Greatest bool
	T        types.Type
}

func (m *MinMaxExpr) Type() types.Type { return m.T }
func (m *MinMaxExpr) Eval(ctx *EvalCtx, row Row) (any, error) {
	var best any
	for _, e := range m.Args {
		v, err := e.Eval(ctx, row)
		if err != nil {
			return nil, err
		}
		if v == nil {
			continue
		}
		if best == nil {
			best = v
			continue
		}
		c := types.Compare(m.T.Oid, v, best)
		if (m.Greatest && c > 0) || (!m.Greatest && c < 0) {
			best = v
		}
	}
	return best, nil
}

func (a *analyzer) minMax(m *pg.MinMaxExpr, s *Scope) (Expr, error) {
	args, err := a.exprList(m.Args, s)
	if err != nil {
		return nil, err
	}
	what := "LEAST"
	if m.Op == pg.MinMaxOp_IS_GREATEST {
		what = "GREATEST"
	}
	t, err := a.coerceCommon(what, args, m.Args)
	if err != nil {
		return nil, err
	}
	if !isComparable(t.Oid) {
		return nil, pgerror.New(pgerror.UndefinedFunction, "could not identify a comparison function for type %s", t).WithPosition(m.Location + 1)
	}
	return &MinMaxExpr{Args: args, Greatest: m.Op == pg.MinMaxOp_IS_GREATEST, T: t}, nil
}

// isComparable reports whether values of t have a btree order.
func isComparable(t types.Oid) bool {
	for _, o := range operators["<"] {
		if len(o.Args) == 2 && o.Args[0] == t && o.Args[1] == t {
			return true
		}
	}
	return false
}

// BoolTest is IS [NOT] TRUE, IS [NOT] FALSE, IS [NOT] UNKNOWN: never NULL.
type BoolTest struct {
	Arg Expr
	// Want is the value tested for (nil: UNKNOWN); Not negates.
	Want any
	Not  bool
}

func (b *BoolTest) Type() types.Type { return types.BoolType }
func (b *BoolTest) Eval(ctx *EvalCtx, row Row) (any, error) {
	v, err := b.Arg.Eval(ctx, row)
	if err != nil {
		return nil, err
	}
	return (v == b.Want) != b.Not, nil
}

func (a *analyzer) booleanTest(t *pg.BooleanTest, s *Scope) (Expr, error) {
	arg, err := a.expr(t.Arg, s)
	if err != nil {
		return nil, err
	}
	out := &BoolTest{}
	var what string
	switch t.Booltesttype {
	case pg.BoolTestType_IS_TRUE:
		out.Want, what = true, "IS TRUE"
	case pg.BoolTestType_IS_NOT_TRUE:
		out.Want, out.Not, what = true, true, "IS NOT TRUE"
	case pg.BoolTestType_IS_FALSE:
		out.Want, what = false, "IS FALSE"
	case pg.BoolTestType_IS_NOT_FALSE:
		out.Want, out.Not, what = false, true, "IS NOT FALSE"
	case pg.BoolTestType_IS_UNKNOWN:
		what = "IS UNKNOWN"
	default:
		out.Not, what = true, "IS NOT UNKNOWN"
	}
	if arg.Type().Oid != types.OidBool {
		c, err := a.coerce(arg, types.BoolType, false)
		if err != nil {
			return nil, pgerror.New(pgerror.DatatypeMismatch, "argument of %s must be type boolean, not type %s", what, arg.Type()).WithPosition(nodeLocation(t.Arg))
		}
		arg = c
	}
	out.Arg = arg
	return out, nil
}

// DistinctExpr is a IS [NOT] DISTINCT FROM b: Eq compares two non-NULL
// values; NULLs are equal to each other and distinct from any value.
type DistinctExpr struct {
	Left, Right Expr
	Eq          *Func
	Not         bool
}

func (d *DistinctExpr) Type() types.Type { return types.BoolType }
func (d *DistinctExpr) Eval(ctx *EvalCtx, row Row) (any, error) {
	l, err := d.Left.Eval(ctx, row)
	if err != nil {
		return nil, err
	}
	r, err := d.Right.Eval(ctx, row)
	if err != nil {
		return nil, err
	}
	var distinct bool
	switch {
	case l == nil || r == nil:
		distinct = (l == nil) != (r == nil)
	default:
		eq, err := d.Eq.Fn(ctx, []any{l, r})
		if err != nil {
			return nil, err
		}
		distinct = eq == false
	}
	return distinct != d.Not, nil
}

// NullIfExpr is NULLIF(a, b): NULL when a = b, else a.
type NullIfExpr struct {
	Left, Right Expr
	Eq          *Func
}

func (n *NullIfExpr) Type() types.Type { return n.Left.Type() }
func (n *NullIfExpr) Eval(ctx *EvalCtx, row Row) (any, error) {
	l, err := n.Left.Eval(ctx, row)
	if err != nil || l == nil {
		return l, err
	}
	r, err := n.Right.Eval(ctx, row)
	if err != nil || r == nil {
		return l, err
	}
	eq, err := n.Eq.Fn(ctx, []any{l, r})
	if err != nil {
		return nil, err
	}
	if eq == true {
		return nil, nil
	}
	return l, nil
}

// aExprMore analyzes the A_Expr kinds beyond plain operators.
func (a *analyzer) aExprMore(x *pg.A_Expr, s *Scope) (Expr, error) {
	name := ""
	if len(x.Name) > 0 {
		name = strVal(x.Name[len(x.Name)-1])
	}
	pos := x.Location + 1
	switch x.Kind {
	case pg.A_Expr_Kind_AEXPR_DISTINCT, pg.A_Expr_Kind_AEXPR_NOT_DISTINCT, pg.A_Expr_Kind_AEXPR_NULLIF:
		l, err := a.expr(x.Lexpr, s)
		if err != nil {
			return nil, err
		}
		r, err := a.expr(x.Rexpr, s)
		if err != nil {
			return nil, err
		}
		e, err := a.operator("=", []Expr{l, r}, pos)
		if err != nil {
			return nil, err
		}
		f := e.(*FuncExpr)
		if f.T.Oid != types.OidBool {
			return nil, pgerror.New(pgerror.DatatypeMismatch, "%s requires = operator to yield boolean", map[bool]string{true: "NULLIF", false: "IS DISTINCT FROM"}[x.Kind == pg.A_Expr_Kind_AEXPR_NULLIF]).WithPosition(pos)
		}
		if x.Kind == pg.A_Expr_Kind_AEXPR_NULLIF {
			return &NullIfExpr{Left: f.Args[0], Right: f.Args[1], Eq: f.Fn}, nil
		}
		return &DistinctExpr{Left: f.Args[0], Right: f.Args[1], Eq: f.Fn, Not: x.Kind == pg.A_Expr_Kind_AEXPR_NOT_DISTINCT}, nil
	case pg.A_Expr_Kind_AEXPR_IN:
		l, err := a.expr(x.Lexpr, s)
		if err != nil {
			return nil, err
		}
		out := &BoolOp{Op: Or}
		if name == "<>" {
			out.Op = And
		}
		for _, n := range x.Rexpr.GetList().Items {
			r, err := a.expr(n, s)
			if err != nil {
				return nil, err
			}
			cmp, err := a.operator(name, []Expr{l, r}, pos)
			if err != nil {
				return nil, err
			}
			out.Args = append(out.Args, cmp)
		}
		if len(out.Args) == 1 {
			return out.Args[0], nil
		}
		return out, nil
	case pg.A_Expr_Kind_AEXPR_BETWEEN, pg.A_Expr_Kind_AEXPR_NOT_BETWEEN, pg.A_Expr_Kind_AEXPR_BETWEEN_SYM, pg.A_Expr_Kind_AEXPR_NOT_BETWEEN_SYM:
		bounds := x.Rexpr.GetList().Items
		not := x.Kind == pg.A_Expr_Kind_AEXPR_NOT_BETWEEN || x.Kind == pg.A_Expr_Kind_AEXPR_NOT_BETWEEN_SYM
		sym := x.Kind == pg.A_Expr_Kind_AEXPR_BETWEEN_SYM || x.Kind == pg.A_Expr_Kind_AEXPR_NOT_BETWEEN_SYM
		between := func(lo, hi *pg.Node) (Expr, error) {
			var args [3]Expr
			for i, n := range []*pg.Node{x.Lexpr, lo, hi} {
				e, err := a.expr(n, s)
				if err != nil {
					return nil, err
				}
				args[i] = e
			}
			op1, op2, kind := ">=", "<=", And
			if not {
				op1, op2, kind = "<", ">", Or
			}
			c1, err := a.operator(op1, []Expr{args[0], args[1]}, pos)
			if err != nil {
				return nil, err
			}
			c2, err := a.operator(op2, []Expr{args[0], args[2]}, pos)
			if err != nil {
				return nil, err
			}
			return &BoolOp{Op: kind, Args: []Expr{c1, c2}}, nil
		}
		e, err := between(bounds[0], bounds[1])
		if err != nil || !sym {
			return e, err
		}
		e2, err := between(bounds[1], bounds[0])
		if err != nil {
			return nil, err
		}
		if not {
			return &BoolOp{Op: And, Args: []Expr{e, e2}}, nil
		}
		return &BoolOp{Op: Or, Args: []Expr{e, e2}}, nil
	case pg.A_Expr_Kind_AEXPR_LIKE, pg.A_Expr_Kind_AEXPR_ILIKE, pg.A_Expr_Kind_AEXPR_SIMILAR:
		var args []Expr
		for _, n := range []*pg.Node{x.Lexpr, x.Rexpr} {
			e, err := a.expr(n, s)
			if err != nil {
				return nil, err
			}
			args = append(args, e)
		}
		return a.operator(name, args, pos)
	}
	return nil, pgerror.New(pgerror.FeatureNotSupported, "expression kind %s is not supported", x.Kind).WithPosition(pos)
}

// hasOperator reports whether operator name takes two values of type t.
func hasOperator(name string, t types.Oid) bool {
	for _, o := range operators[name] {
		if len(o.Args) == 2 && o.Args[0] == t && o.Args[1] == t {
			return true
		}
	}
	return false
}
