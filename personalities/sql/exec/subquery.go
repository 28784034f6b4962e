package exec

import (
	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// Subqueries in expressions: scalar, EXISTS, IN / ANY / ALL. A subquery
// runs with the row it is evaluated on as its nearest outer row; one that
// references no enclosing query (uncorrelated) runs once per statement
// and its rows are kept.

// SubLinkKind is the kind of a subquery expression.
type SubLinkKind int

// The subquery expression kinds.
const (
	ScalarSub SubLinkKind = iota
	ExistsSub
	AnySub
	AllSub
)

// SubqueryExpr evaluates a subquery as an expression.
type SubqueryExpr struct {
	Kind SubLinkKind
	Plan Plan
	// Tests and Cmp compare for ANY and ALL: Tests (one, or a row's
	// fields) are evaluated on the outer row into Slots, then Cmp on
	// each subquery row.
	Tests []Expr
	Slots []*slotExpr
	Cmp   Expr
	T     types.Type
	// Correlated subqueries run for each evaluation; the others once.
	Correlated bool

	cached []Row
	done   bool
}

// slotExpr is a value set before its expression is evaluated.
type slotExpr struct {
	T types.Type
	V any
}

func (s *slotExpr) Type() types.Type                { return s.T }
func (s *slotExpr) Eval(*EvalCtx, Row) (any, error) { return s.V, nil }

func (s *SubqueryExpr) Type() types.Type { return s.T }

// rows runs the subquery (or returns its kept rows). limit stops reading
// after that many rows (0: all).
func (s *SubqueryExpr) rows(ctx *EvalCtx, row Row, limit int) ([]Row, error) {
	if !s.Correlated && s.done {
		return s.cached, nil
	}
	sctx := &EvalCtx{Env: ctx.Env, Params: ctx.Params, Outer: append(ctx.Outer[:len(ctx.Outer):len(ctx.Outer)], row)}
	it, err := s.Plan.Open(sctx)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []Row
	for limit == 0 || len(out) < limit {
		r, err := it.Next()
		if err != nil {
			return nil, err
		}
		if r == nil {
			break
		}
		out = append(out, r)
	}
	if !s.Correlated {
		s.cached, s.done = out, true
	}
	return out, it.Close()
}

func (s *SubqueryExpr) Eval(ctx *EvalCtx, row Row) (any, error) {
	switch s.Kind {
	case ExistsSub:
		rows, err := s.rows(ctx, row, 1)
		return len(rows) > 0, err
	case ScalarSub:
		rows, err := s.rows(ctx, row, 2)
		if err != nil {
			return nil, err
		}
		if len(rows) > 1 {
			return nil, pgerror.New(pgerror.CardinalityViolation, "more than one row returned by a subquery used as an expression")
		}
		if len(rows) == 0 {
			return nil, nil
		}
		return rows[0][0], nil
	}
	for i, t := range s.Tests {
		v, err := t.Eval(ctx, row)
		if err != nil {
			return nil, err
		}
		s.Slots[i].V = v
	}
	rows, err := s.rows(ctx, row, 0)
	if err != nil {
		return nil, err
	}
	sawNull := false
	for _, r := range rows {
		v, err := s.Cmp.Eval(ctx, r)
		if err != nil {
			return nil, err
		}
		switch {
		case v == nil:
			sawNull = true
		case v.(bool) == (s.Kind == AnySub):
			return v, nil // ANY met true, ALL met false
		}
	}
	if sawNull {
		return nil, nil
	}
	return s.Kind == AllSub, nil
}

// subLink analyzes a subquery expression.
func (a *analyzer) subLink(sl *pg.SubLink, s *Scope) (Expr, error) {
	refs := scopeRefs(s)
	p, err := a.subquery(sl.Subselect, s)
	if err != nil {
		return nil, err
	}
	out := &SubqueryExpr{Plan: p, Correlated: scopeRefs(s) != refs, T: types.BoolType}
	cols := visible(p.Columns())
	switch sl.SubLinkType {
	case pg.SubLinkType_EXISTS_SUBLINK:
		out.Kind = ExistsSub
		return out, nil
	case pg.SubLinkType_EXPR_SUBLINK:
		if len(cols) != 1 {
			return nil, pgerror.New(pgerror.SyntaxError, "subquery must return only one column").WithPosition(sl.Location + 1)
		}
		out.Kind, out.T = ScalarSub, cols[0].Type
		return out, nil
	case pg.SubLinkType_ARRAY_SUBLINK:
		return arraySubquery(out, cols, sl)
	case pg.SubLinkType_ANY_SUBLINK, pg.SubLinkType_ALL_SUBLINK:
		out.Kind = AnySub
		if sl.SubLinkType == pg.SubLinkType_ALL_SUBLINK {
			out.Kind = AllSub
		}
		tests := []*pg.Node{sl.Testexpr}
		if r := sl.Testexpr.GetRowExpr(); r != nil {
			tests = r.Args
		}
		if len(cols) != len(tests) {
			if len(cols) > len(tests) {
				return nil, pgerror.New(pgerror.SyntaxError, "subquery has too many columns").WithPosition(sl.Location + 1)
			}
			return nil, pgerror.New(pgerror.SyntaxError, "subquery has too few columns").WithPosition(sl.Location + 1)
		}
		op := "="
		if len(sl.OperName) > 0 {
			op = strVal(sl.OperName[len(sl.OperName)-1])
		}
		if len(tests) > 1 && op != "=" && op != "<>" {
			return nil, pgerror.New(pgerror.FeatureNotSupported, "row comparisons with %s and a subquery are not supported", op).WithPosition(sl.Location + 1)
		}
		var cmps []Expr
		k := 0
		for i, c := range p.Columns() {
			if c.Hidden {
				continue
			}
			test, err := a.expr(tests[k], s)
			if err != nil {
				return nil, err
			}
			if test.Type().Oid == types.OidUnknown {
				if test, err = a.coerce(test, c.Type, false); err != nil {
					return nil, err
				}
			}
			slot := &slotExpr{T: test.Type()}
			cmp, err := a.operator(op, []Expr{slot, &ColRef{Index: i, T: c.Type}}, sl.Location+1)
			if err != nil {
				return nil, err
			}
			if cmp.Type().Oid != types.OidBool {
				return nil, pgerror.New(pgerror.DatatypeMismatch, "op ANY/ALL (array) requires operator to yield boolean").WithPosition(sl.Location + 1)
			}
			out.Tests, out.Slots, cmps = append(out.Tests, test), append(out.Slots, slot), append(cmps, cmp)
			k++
		}
		out.Cmp = cmps[0]
		if len(cmps) > 1 {
			// Rows are equal when every column is, unequal when one is.
			out.Cmp = &BoolOp{Op: And, Args: cmps}
			if op == "<>" {
				out.Cmp = &BoolOp{Op: Or, Args: cmps}
			}
		}
		return out, nil
	}
	return nil, pgerror.New(pgerror.FeatureNotSupported, "subquery kind %s is not supported", sl.SubLinkType).WithPosition(sl.Location + 1)
}

// firstVisible is the position of the first output column.
func firstVisible(cols []Column) int {
	for i, c := range cols {
		if !c.Hidden {
			return i
		}
	}
	return 0
}

// scopeRefs sums the outer references resolved in s and its ancestors.
func scopeRefs(s *Scope) int {
	n := 0
	for ; s != nil; s = s.Parent {
		n += s.refs
	}
	return n
}
