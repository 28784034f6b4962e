package exec

import (
	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// ArraySubExpr is ARRAY(subquery): the subquery's single column gathered
// into a one-dimensional array, in the subquery's row order (an empty
// array when it has no rows).
type ArraySubExpr struct {
	Sub  *SubqueryExpr
	Elem types.Oid
}

func arraySubquery(sub *SubqueryExpr, cols []Column, sl *pg.SubLink) (Expr, error) {
	if len(cols) != 1 {
		return nil, pgerror.New(pgerror.SyntaxError, "subquery must return only one column").WithPosition(sl.Location + 1)
	}
	elem := cols[0].Type.Oid
	if types.ArrayOf(elem) == 0 {
		return nil, pgerror.New(pgerror.UndefinedObject, "could not find array type for data type %s", cols[0].Type).WithPosition(sl.Location + 1)
	}
	sub.Kind, sub.T = ScalarSub, cols[0].Type
	return &ArraySubExpr{Sub: sub, Elem: elem}, nil
}

func (a *ArraySubExpr) Type() types.Type { return types.T(types.ArrayOf(a.Elem)) }

func (a *ArraySubExpr) Eval(ctx *EvalCtx, row Row) (any, error) {
	rows, err := a.Sub.rows(ctx, row, 0)
	if err != nil {
		return nil, err
	}
	col := firstVisible(a.Sub.Plan.Columns())
	elems := make([]any, len(rows))
	for i, r := range rows {
		elems[i] = r[col]
	}
	return types.NewArray(a.Elem, elems), nil
}

// collateClause analyzes expr COLLATE name. Every collation here orders
// as "C" does (the server's only locale), so the clause checks the
// collation's name and that the type is collatable, and changes nothing.
func (a *analyzer) collateClause(c *pg.CollateClause, s *Scope) (Expr, error) {
	e, err := a.expr(c.Arg, s)
	if err != nil {
		return nil, err
	}
	names := strVals(c.Collname)
	name := names[len(names)-1]
	switch name {
	case "default", "C", "POSIX", "ucs_basic":
	default:
		return nil, pgerror.New(pgerror.UndefinedObject, "collation \"%s\" for encoding \"UTF8\" does not exist", name).WithPosition(c.Location + 1)
	}
	if e.Type().Oid == types.OidUnknown {
		if e, err = a.coerce(e, types.TextType, false); err != nil {
			return nil, err
		}
	}
	if collationOf(e.Type().Oid) == 0 {
		return nil, pgerror.New(pgerror.DatatypeMismatch, "collations are not supported by type %s", e.Type()).WithPosition(c.Location + 1)
	}
	return e, nil
}
