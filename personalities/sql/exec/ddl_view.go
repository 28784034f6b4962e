package exec

import (
	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/pgerror"
)

// createView plans CREATE [OR REPLACE] VIEW v [(cols)] AS SELECT .... The
// query is checked and its columns fixed now; it is stored as the
// grammar's deparsed text (not pg_get_viewdef's form) and planned again
// wherever the view is read, resolving its names then (Postgres binds
// them at creation).
func (a *analyzer) createView(vs *pg.ViewStmt) (*planned, error) {
	if vs.View.Relpersistence == "t" {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "temporary views are not supported")
	}
	if vs.WithCheckOption != pg.ViewCheckOption_NO_CHECK_OPTION || len(vs.Options) > 0 {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "view options are not supported")
	}
	schema, err := a.creationSchema(vs.View.Schemaname)
	if err != nil {
		return nil, err
	}
	sel := vs.Query.GetSelectStmt()
	if sel == nil {
		return nil, a.unsupported(vs.Query)
	}
	p, err := a.selectStmt(sel, nil)
	if err != nil {
		return nil, err
	}
	cols := visible(p.Columns())
	if len(vs.Aliases) > len(cols) {
		return nil, pgerror.New(pgerror.SyntaxError, "CREATE VIEW specifies more column names than columns")
	}
	obj := &catalog.Object{Kind: "relation", Name: vs.View.Relname, Schema: schema.Oid, RelKind: catalog.RelView, Owner: a.ownerOid()}
	for i, c := range cols {
		name := c.Name
		if i < len(vs.Aliases) {
			name = strVal(vs.Aliases[i])
		}
		if obj.ColumnByName(name) != nil {
			return nil, pgerror.New(pgerror.DuplicateColumn, "column \"%s\" specified more than once", name)
		}
		obj.Columns = append(obj.Columns, catalog.Column{Name: name, Num: int16(i + 1), Type: c.Type})
	}
	if obj.ViewQuery, err = deparseStmt(vs.Query); err != nil {
		return nil, err
	}
	obj.DependsOn = a.relationsRead(vs.Query)
	existing := a.cat.Relation(schema.Oid, obj.Name)
	if existing != nil {
		if !vs.Replace {
			return nil, pgerror.New(pgerror.DuplicateTable, "relation \"%s\" already exists", obj.Name)
		}
		if existing.RelKind != catalog.RelView {
			return nil, pgerror.New(pgerror.WrongObjectType, "\"%s\" is not a view", obj.Name)
		}
		if err := checkViewReplace(existing, obj); err != nil {
			return nil, err
		}
	}
	return ddl("CREATE VIEW", func(ctx *EvalCtx, res *Result) error {
		w := catalog.NewWriter(ctx.Env.Store)
		if existing != nil {
			obj.Oid, obj.Comment = existing.Oid, existing.Comment
		} else {
			oid, err := w.NextOid()
			if err != nil {
				return err
			}
			obj.Oid = oid
		}
		return w.Put(obj)
	}), nil
}

// checkViewReplace enforces CREATE OR REPLACE VIEW's rule: the new query
// keeps the old columns, names and types, and may add columns at the end.
func checkViewReplace(old, obj *catalog.Object) error {
	if len(obj.Columns) < len(old.Columns) {
		return pgerror.New(pgerror.InvalidTableDefinition, "cannot drop columns from view")
	}
	for i, oc := range old.Columns {
		nc := obj.Columns[i]
		if oc.Name != nc.Name {
			return pgerror.New(pgerror.InvalidTableDefinition, "cannot change name of view column \"%s\" to \"%s\"", oc.Name, nc.Name).
				WithHint("Use ALTER VIEW ... RENAME COLUMN ... to change name of view column instead.")
		}
		if oc.Type != nc.Type {
			return pgerror.New(pgerror.InvalidTableDefinition, "cannot change data type of view column \"%s\" from %s to %s", oc.Name, oc.Type, nc.Type)
		}
	}
	return nil
}

// relationsRead lists the relations a query names, each once, in the
// order first named.
func (a *analyzer) relationsRead(n *pg.Node) []catalog.Oid {
	var out []catalog.Oid
	walkTree(n, func(m proto.Message) bool {
		if rv, ok := m.(*pg.RangeVar); ok {
			if o, _ := a.cat.Resolve(rv.Schemaname, rv.Relname, a.searchPath()); o != nil && !containsOid(out, o.Oid) {
				out = append(out, o.Oid)
			}
		}
		return true
	})
	return out
}

// walkTree calls f on every message of a parse tree, depth first, while
// f returns true.
func walkTree(n *pg.Node, f func(proto.Message) bool) {
	var walk func(m protoreflect.Message) bool
	walk = func(m protoreflect.Message) bool {
		if !f(m.Interface()) {
			return false
		}
		more := true
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.IsList() && fd.Message() != nil:
				l := v.List()
				for i := 0; i < l.Len() && more; i++ {
					more = walk(l.Get(i).Message())
				}
			case fd.Message() != nil && !fd.IsMap():
				more = walk(v.Message())
			}
			return more
		})
		return more
	}
	walk(n.ProtoReflect())
}

// viewPlan plans a view read in FROM: its stored query, with the view's
// column names, reachable through alias.
func (a *analyzer) viewPlan(obj *catalog.Object, alias string) (Plan, error) {
	tree, err := pg.Parse(obj.ViewQuery)
	if err != nil {
		return nil, syntaxError(err)
	}
	p, err := a.selectStmt(tree.Stmts[0].Stmt.GetSelectStmt(), nil)
	if err != nil {
		return nil, err
	}
	v := &ViewScan{Input: p, Name: obj.Name}
	inner := p.Columns()
	n := 0
	for _, c := range inner {
		if c.Hidden {
			continue
		}
		col := Column{Name: c.Name, Type: c.Type, Qualifier: alias}
		if n < len(obj.Columns) {
			col.Name = obj.Columns[n].Name
		}
		v.Cols = append(v.Cols, col)
		n++
	}
	return v, nil
}

// ViewScan reads a view: its query's rows, hidden columns dropped, under
// the view's column names.
type ViewScan struct {
	Input Plan
	Name  string
	Cols  []Column
}

func (v *ViewScan) Columns() []Column { return v.Cols }

func (v *ViewScan) Open(ctx *EvalCtx) (Iter, error) {
	it, err := v.Input.Open(ctx)
	if err != nil {
		return nil, err
	}
	return &viewIter{in: it, cols: v.Input.Columns()}, nil
}

func (v *ViewScan) Explain(e *Explainer) { v.Input.Explain(e) }

type viewIter struct {
	in   Iter
	cols []Column
}

func (vi *viewIter) Next() (Row, error) {
	r, err := vi.in.Next()
	if r == nil || err != nil {
		return nil, err
	}
	return visibleValues(vi.cols, r), nil
}

func (vi *viewIter) Close() error { return vi.in.Close() }
