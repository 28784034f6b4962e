package exec

import (
	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/pgerror"
)

// onConflict is INSERT's ON CONFLICT clause, analyzed: the arbiter
// unique indexes (every unique index for DO NOTHING without a target),
// and for DO UPDATE its SET list and WHERE over the existing row followed
// by the proposed one (EXCLUDED).
type onConflict struct {
	arbiters []*catalog.Object
	update   bool
	sets     []setClause
	where    Expr
	defaults []Expr
}

// onConflictClause analyzes ON CONFLICT for table t (named alias in the
// statement).
func (a *analyzer) onConflictClause(oc *pg.OnConflictClause, t *Table, alias string) (*onConflict, error) {
	out := &onConflict{update: oc.Action == pg.OnConflictAction_ONCONFLICT_UPDATE}
	switch inf := oc.Infer; {
	case inf == nil:
		if out.update {
			return nil, pgerror.New(pgerror.SyntaxError, "ON CONFLICT DO UPDATE requires inference specification or constraint name").
				WithHint("For example, ON CONFLICT (column_name).").WithPosition(oc.Location + 1)
		}
		for _, idx := range t.Indexes {
			if idx.Index.Unique {
				out.arbiters = append(out.arbiters, idx)
			}
		}
	case inf.Conname != "":
		var con *catalog.Constraint
		for i := range t.Obj.Constraints {
			if t.Obj.Constraints[i].Name == inf.Conname {
				con = &t.Obj.Constraints[i]
			}
		}
		if con == nil {
			return nil, pgerror.New(pgerror.UndefinedObject, "constraint \"%s\" for table \"%s\" does not exist", inf.Conname, t.Obj.Name)
		}
		for _, idx := range t.Indexes {
			if idx.Oid == con.Index {
				out.arbiters = append(out.arbiters, idx)
			}
		}
		if len(out.arbiters) == 0 {
			return nil, pgerror.New(pgerror.WrongObjectType, "constraint in ON CONFLICT clause has no associated index")
		}
	default:
		if inf.WhereClause != nil {
			return nil, pgerror.New(pgerror.FeatureNotSupported, "ON CONFLICT with a partial index predicate is not supported")
		}
		var cols []int16
		for _, n := range inf.IndexElems {
			ie := n.GetIndexElem()
			if ie.Name == "" {
				return nil, pgerror.New(pgerror.FeatureNotSupported, "ON CONFLICT on an expression is not supported")
			}
			c := t.Obj.ColumnByName(ie.Name)
			if c == nil {
				return nil, pgerror.New(pgerror.UndefinedColumn, "column \"%s\" does not exist", ie.Name).WithPosition(inf.Location + 1)
			}
			cols = append(cols, c.Num)
		}
		for _, idx := range t.Indexes {
			if idx.Index.Unique && sameColumnSet(idx.Index.Columns, dedupe(cols)) {
				out.arbiters = append(out.arbiters, idx)
			}
		}
		if len(out.arbiters) == 0 {
			return nil, pgerror.New(pgerror.InvalidColumnReference, "there is no unique or exclusion constraint matching the ON CONFLICT specification")
		}
	}
	if !out.update {
		return out, nil
	}
	scope := tableScope(t, alias)
	excluded := tableScope(t, "excluded")
	scope.Cols = append(scope.Cols, excluded.Cols...)
	scope.Tables = append(scope.Tables, "excluded")
	var err error
	if out.sets, err = a.setList(t, oc.TargetList, scope); err != nil {
		return nil, err
	}
	if oc.WhereClause != nil {
		if out.where, err = a.condition(oc.WhereClause, scope, "WHERE"); err != nil {
			return nil, err
		}
	}
	if out.defaults, err = a.defaults(t.Obj); err != nil {
		return nil, err
	}
	return out, nil
}

func dedupe(cols []int16) []int16 {
	var out []int16
	for _, c := range cols {
		found := false
		for _, o := range out {
			found = found || o == c
		}
		if !found {
			out = append(out, c)
		}
	}
	return out
}

// conflicting returns the stored row that conflicts with row on an
// arbiter index, or nil.
func (oc *onConflict) conflicting(ctx *EvalCtx, t *Table, row Row) (Row, error) {
	for _, idx := range oc.arbiters {
		k, hasNull, err := t.appendIndexKey(nil, idx.Index, row)
		if err != nil {
			return nil, err
		}
		if hasNull {
			continue
		}
		rowKey := k
		if !idx.Index.Primary {
			v, ok, err := ctx.Env.Store.Get(append(indexPrefix(idx.Oid), k...))
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			rowKey = v
		}
		old, err := t.Get(ctx.Env.Store, rowKey)
		if err != nil || old != nil {
			return old, err
		}
	}
	return nil, nil
}

// insert writes row (its key set) unless it conflicts; on a conflict it
// does nothing or updates the existing row. It returns the row written
// (nil if none). touched holds the storage keys of the rows the
// statement inserted or updated: DO UPDATE may not affect one twice.
func (oc *onConflict) insert(ctx *EvalCtx, w *tableWriter, row Row, touched map[string]bool) (Row, error) {
	if err := w.checkRow(ctx, row); err != nil {
		return nil, err
	}
	t := w.t
	width := t.Width()
	old, err := oc.conflicting(ctx, t, row)
	if err != nil {
		return nil, err
	}
	if old == nil {
		if err := w.insert(ctx, row); err != nil {
			return nil, err
		}
		touched[string(row[width-1].([]byte))] = true
		return row, nil
	}
	if !oc.update {
		return nil, nil
	}
	if touched[string(old[width-1].([]byte))] {
		return nil, pgerror.New(pgerror.CardinalityViolation, "ON CONFLICT DO UPDATE command cannot affect row a second time").
			WithHint("Ensure that no rows proposed for insertion within the same command have duplicate constrained values.")
	}
	joined := append(append(Row(nil), old...), row...)
	if oc.where != nil {
		ok, err := Truth(ctx, oc.where, joined)
		if err != nil || !ok {
			return nil, err
		}
	}
	nr := append(Row(nil), old...)
	if err := applySets(ctx, oc.sets, oc.defaults, joined, nr); err != nil {
		return nil, err
	}
	if err := w.update(ctx, old, nr); err != nil {
		return nil, err
	}
	touched[string(nr[width-1].([]byte))] = true
	return nr, nil
}
