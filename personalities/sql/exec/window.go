package exec

import (
	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/pgerror"
)

// windowCall is one window function call of a query level.
type windowCall struct{}

func (a *analyzer) windowCall(fc *pg.FuncCall, name string, fs []*Func, s *Scope) (Expr, error) {
	return nil, pgerror.New(pgerror.FeatureNotSupported, "window functions are not supported").WithPosition(fc.Location + 1)
}

// windowPlan adds the window computations of a query level above input.
func (a *analyzer) windowPlan(g *aggScope, input Plan, exprs []Expr) (Plan, error) {
	return input, nil
}
