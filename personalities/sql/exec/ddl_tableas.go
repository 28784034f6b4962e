package exec

import (
	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// createTableAs plans CREATE TABLE [IF NOT EXISTS] t [(cols)] AS SELECT
// ... [WITH [NO] DATA]: a table with the query's columns (unknown-typed
// ones as text), filled with its rows. Materialized views and temporary
// tables are refused with 0A000.
func (a *analyzer) createTableAs(cs *pg.CreateTableAsStmt) (*planned, error) {
	if cs.Objtype != pg.ObjectType_OBJECT_TABLE {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "CREATE %s AS is not supported", objectTypeName(cs.Objtype))
	}
	rv := cs.Into.Rel
	if rv.Relpersistence == "t" {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "temporary tables are not supported")
	}
	schema, err := a.creationSchema(rv.Schemaname)
	if err != nil {
		return nil, err
	}
	tag := "SELECT"
	if cs.Into.SkipData {
		tag = "CREATE TABLE AS"
	}
	if a.cat.Relation(schema.Oid, rv.Relname) != nil {
		if cs.IfNotExists {
			return skipped("CREATE TABLE AS", Notice(pgerror.DuplicateTable, "relation \"%s\" already exists, skipping", rv.Relname)), nil
		}
		return nil, pgerror.New(pgerror.DuplicateTable, "relation \"%s\" already exists", rv.Relname)
	}
	sel := cs.Query.GetSelectStmt()
	if sel == nil {
		return nil, a.unsupported(cs.Query)
	}
	p, err := a.selectStmt(sel, nil)
	if err != nil {
		return nil, err
	}
	all := p.Columns()
	cols := visible(all)
	if len(cs.Into.ColNames) > len(cols) {
		return nil, pgerror.New(pgerror.SyntaxError, "too many column names were specified")
	}
	obj := &catalog.Object{Kind: "relation", Name: rv.Relname, Schema: schema.Oid, RelKind: catalog.RelTable, Owner: a.ownerOid()}
	for i, c := range cols {
		name := c.Name
		if i < len(cs.Into.ColNames) {
			name = strVal(cs.Into.ColNames[i])
		}
		if obj.ColumnByName(name) != nil {
			return nil, pgerror.New(pgerror.DuplicateColumn, "column \"%s\" specified more than once", name)
		}
		t := c.Type
		if t.Oid == types.OidUnknown {
			t = types.T(types.OidText)
		}
		obj.Columns = append(obj.Columns, catalog.Column{Name: name, Num: int16(i + 1), Type: t})
	}
	return &planned{run: func(ctx *EvalCtx) (*Result, error) {
		w := catalog.NewWriter(ctx.Env.Store)
		oid, err := w.NextOid()
		if err != nil {
			return nil, err
		}
		obj.Oid = oid
		n := 0
		if !cs.Into.SkipData {
			it, err := p.Open(ctx)
			if err != nil {
				return nil, err
			}
			defer it.Close()
			t := &Table{Obj: obj, SchemaName: schema.Name, prefix: tablePrefix(oid)}
			for {
				r, err := it.Next()
				if err != nil {
					return nil, err
				}
				if r == nil {
					break
				}
				row := append(visibleValues(all, r), nil)
				if row[len(obj.Columns)], err = t.RowKey(ctx.Env, row); err != nil {
					return nil, err
				}
				if err := t.Insert(ctx.Env.Store, row); err != nil {
					return nil, err
				}
				n++
			}
		}
		if err := w.Put(obj); err != nil {
			return nil, err
		}
		ctx.Env.CatalogChanged()
		if cs.Into.SkipData {
			return &Result{Tag: tag}, nil
		}
		return &Result{Tag: tag + " " + itoa(n)}, nil
	}}, nil
}
