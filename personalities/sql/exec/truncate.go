package exec

import (
	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/pgerror"
)

// truncateStmt plans TRUNCATE [TABLE] t, ... [RESTART IDENTITY]
// [CASCADE | RESTRICT]: every row and index entry of the tables goes. A
// table referenced by a foreign key from a table not truncated with it is
// an error, or with CASCADE is truncated too (with a NOTICE).
func (a *analyzer) truncateStmt(ts *pg.TruncateStmt) (*planned, error) {
	var tables []*catalog.Object
	has := func(oid catalog.Oid) bool {
		for _, t := range tables {
			if t.Oid == oid {
				return true
			}
		}
		return false
	}
	for _, n := range ts.Relations {
		rv := n.GetRangeVar()
		if t := a.systemRelation(rv); t != nil && t.Foreign != nil {
			return nil, pgerror.New(pgerror.WrongObjectType, "\"%s\" is not a table", t.Name)
		}
		obj, err := a.existing(rv)
		if err != nil {
			return nil, err
		}
		if obj.RelKind != catalog.RelTable {
			return nil, pgerror.New(pgerror.WrongObjectType, "\"%s\" is not a table", obj.Name)
		}
		if !has(obj.Oid) {
			tables = append(tables, obj)
		}
	}
	var notices []*pgerror.Error
	cascade := ts.Behavior == pg.DropBehavior_DROP_CASCADE
	for i := 0; i < len(tables); i++ {
		for _, o := range a.cat.Objects() {
			if o.RelKind != catalog.RelTable || has(o.Oid) {
				continue
			}
			for _, c := range o.Constraints {
				if c.Kind != 'f' || c.RefTable != tables[i].Oid {
					continue
				}
				if !cascade {
					return nil, pgerror.New(pgerror.FeatureNotSupported, "cannot truncate a table referenced in a foreign key constraint").
						WithDetail("Table \"%s\" references \"%s\".", o.Name, tables[i].Name).
						WithHint("Truncate table \"%s\" at the same time, or use TRUNCATE ... CASCADE.", o.Name)
				}
				if !has(o.Oid) {
					notices = append(notices, Notice(pgerror.SuccessfulCompletion, "truncate cascades to table \"%s\"", o.Name))
					tables = append(tables, o)
				}
			}
		}
	}
	return &planned{run: func(ctx *EvalCtx) (*Result, error) {
		s := ctx.Env.Store
		for _, obj := range tables {
			if err := OpenTable(a.cat, obj).DropData(s); err != nil {
				return nil, err
			}
			if !ts.RestartSeqs {
				continue
			}
			for _, o := range a.cat.Objects() {
				if o.Sequence != nil && o.Sequence.OwnedByTable == obj.Oid {
					if err := dropSequenceState(s, o.Oid); err != nil {
						return nil, err
					}
				}
			}
		}
		return &Result{Tag: "TRUNCATE TABLE", Notices: notices}, nil
	}}, nil
}
