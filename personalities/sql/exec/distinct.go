package exec

import (
	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/pgerror"
)

// SELECT DISTINCT and DISTINCT ON. DISTINCT sorts the rows by every
// output column and drops repeats (so without ORDER BY its rows come out
// in that order, where Postgres's order is unspecified); DISTINCT ON sorts
// by the ORDER BY, then the DISTINCT ON expressions, and keeps the first
// row of each run.

// distinctOn analyzes the DISTINCT ON expressions, as ORDER BY items are,
// into hidden output columns; it returns their indexes.
func (a *analyzer) distinctOn(sel *pg.SelectStmt, s *Scope, exprs *[]Expr, cols *[]Column, ntargets int) ([]int, error) {
	if len(sel.DistinctClause) == 0 || sel.DistinctClause[0].Node == nil {
		return nil, nil
	}
	var on []int
	for _, n := range sel.DistinctClause {
		e, err := a.sortExpr(n, s, (*exprs)[:ntargets], (*cols)[:ntargets])
		if err != nil {
			return nil, err
		}
		on = append(on, len(*exprs))
		*exprs = append(*exprs, e)
		*cols = append(*cols, Column{Name: "?distinct?", Type: e.Type(), Hidden: true})
	}
	return on, nil
}

// distinctPlan adds DISTINCT or DISTINCT ON above p (the projection); it
// returns the sort keys still to apply above the result.
func (a *analyzer) distinctPlan(sel *pg.SelectStmt, p Plan, exprs []Expr, ntargets int, keys []SortKey, on []int) (Plan, []SortKey, error) {
	if len(sel.DistinctClause) == 0 {
		return p, keys, nil
	}
	if on == nil {
		for i, k := range keys {
			if k.Index < ntargets {
				continue
			}
			found := -1
			for j := 0; j < ntargets && found < 0; j++ {
				if exprEqual(exprs[k.Index], exprs[j]) {
					found = j
				}
			}
			if found < 0 {
				return nil, nil, pgerror.New(pgerror.InvalidColumnReference, "for SELECT DISTINCT, ORDER BY expressions must appear in select list").
					WithPosition(nodeLocation(sel.SortClause[i].GetSortBy().Node))
			}
			keys[i].Index = found
		}
		all := make([]SortKey, ntargets)
		idx := make([]int, ntargets)
		for i := range all {
			all[i] = SortKey{Index: i}
			idx[i] = i
		}
		return &Unique{Input: &Sort{Input: p, Keys: all}, Cols: idx}, keys, nil
	}
	covered := make([]bool, len(on))
	nCovered := 0
	for _, k := range keys {
		match := -1
		for i, o := range on {
			if exprEqual(exprs[k.Index], exprs[o]) {
				match = i
			}
		}
		if match < 0 {
			if nCovered < len(on) {
				first := 0
				for first < len(on) && covered[first] {
					first++
				}
				return nil, nil, pgerror.New(pgerror.InvalidColumnReference, "SELECT DISTINCT ON expressions must match initial ORDER BY expressions").
					WithPosition(nodeLocation(sel.DistinctClause[first]))
			}
			break
		}
		if !covered[match] {
			covered[match] = true
			nCovered++
		}
	}
	full := append([]SortKey(nil), keys...)
	for i, o := range on {
		if !covered[i] {
			full = append(full, SortKey{Index: o})
		}
	}
	return &Unique{Input: &Sort{Input: p, Keys: full}, Cols: on}, nil, nil
}

// Unique drops each row equal to the row before it on Cols (NULLs equal).
type Unique struct {
	Input Plan
	Cols  []int
}

func (u *Unique) Columns() []Column { return u.Input.Columns() }

// input is the node's one input (for EXPLAIN).
func (u *Unique) input() Plan { return u.Input }

func (u *Unique) Explain(e *Explainer) {
	e.Node("Unique")
	e.Child(u.Input)
}

func (u *Unique) Open(ctx *EvalCtx) (Iter, error) {
	in, err := u.Input.Open(ctx)
	if err != nil {
		return nil, err
	}
	keys := make([]SortKey, len(u.Cols))
	for i, c := range u.Cols {
		keys[i] = SortKey{Index: c}
	}
	return &uniqueIter{in: in, cols: u.Input.Columns(), keys: keys}, nil
}

type uniqueIter struct {
	in   Iter
	cols []Column
	keys []SortKey
	prev Row
}

func (u *uniqueIter) Next() (Row, error) {
	for {
		r, err := u.in.Next()
		if r == nil || err != nil {
			return nil, err
		}
		if u.prev != nil && CompareRows(u.cols, u.keys, u.prev, r) == 0 {
			continue
		}
		u.prev = r
		return r, nil
	}
}

func (u *uniqueIter) Close() error { return u.in.Close() }
