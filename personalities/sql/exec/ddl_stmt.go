package exec

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/pgerror"
)

// ddlTag is the command tag of a DDL statement other than CREATE TABLE
// and DROP ("" if n is none).
func ddlTag(n *pg.Node) string {
	switch x := n.Node.(type) {
	case *pg.Node_CreateSchemaStmt:
		return "CREATE SCHEMA"
	case *pg.Node_IndexStmt:
		return "CREATE INDEX"
	case *pg.Node_AlterTableStmt:
		return "ALTER " + objectTypeName(x.AlterTableStmt.Objtype)
	case *pg.Node_RenameStmt:
		t := x.RenameStmt.RenameType
		switch t {
		case pg.ObjectType_OBJECT_COLUMN, pg.ObjectType_OBJECT_TABCONSTRAINT:
			t = x.RenameStmt.RelationType
			if objectTypeName(t) == "OBJECT" {
				t = pg.ObjectType_OBJECT_TABLE
			}
		}
		return "ALTER " + objectTypeName(t)
	case *pg.Node_AlterObjectSchemaStmt:
		return "ALTER " + objectTypeName(x.AlterObjectSchemaStmt.ObjectType)
	case *pg.Node_CreateSeqStmt:
		return "CREATE SEQUENCE"
	case *pg.Node_AlterSeqStmt:
		return "ALTER SEQUENCE"
	case *pg.Node_ViewStmt:
		return "CREATE VIEW"
	case *pg.Node_CreatedbStmt:
		return "CREATE DATABASE"
	case *pg.Node_DropdbStmt:
		return "DROP DATABASE"
	case *pg.Node_CommentStmt:
		return "COMMENT"
	case *pg.Node_CreateTableAsStmt:
		return "SELECT"
	case *pg.Node_CreateRoleStmt:
		return "CREATE ROLE"
	case *pg.Node_AlterRoleStmt:
		return "ALTER ROLE"
	case *pg.Node_DropRoleStmt:
		return "DROP ROLE"
	}
	return ""
}

// ddlStmt plans the DDL statements ddlTag names; ok is false for others.
func (a *analyzer) ddlStmt(n *pg.Node) (p *planned, ok bool, err error) {
	switch x := n.Node.(type) {
	case *pg.Node_CreateSchemaStmt:
		p, err = a.createSchema(x.CreateSchemaStmt)
	case *pg.Node_IndexStmt:
		p, err = a.createIndex(x.IndexStmt)
	case *pg.Node_AlterTableStmt:
		p, err = a.alterTable(x.AlterTableStmt)
	case *pg.Node_RenameStmt:
		p, err = a.renameStmt(x.RenameStmt)
	case *pg.Node_AlterObjectSchemaStmt:
		p, err = a.setSchema(x.AlterObjectSchemaStmt)
	case *pg.Node_CreateSeqStmt:
		p, err = a.createSequenceStmt(x.CreateSeqStmt)
	case *pg.Node_AlterSeqStmt:
		p, err = a.alterSequenceStmt(x.AlterSeqStmt)
	case *pg.Node_ViewStmt:
		p, err = a.createView(x.ViewStmt)
	case *pg.Node_CreatedbStmt:
		p, err = a.createDatabase(x.CreatedbStmt)
	case *pg.Node_DropdbStmt:
		p, err = a.dropDatabase(x.DropdbStmt)
	case *pg.Node_CommentStmt:
		p, err = a.commentStmt(x.CommentStmt)
	case *pg.Node_CreateTableAsStmt:
		p, err = a.createTableAs(x.CreateTableAsStmt)
	case *pg.Node_CreateRoleStmt:
		p, err = a.createRole(x.CreateRoleStmt)
	case *pg.Node_AlterRoleStmt:
		p, err = a.alterRole(x.AlterRoleStmt)
	case *pg.Node_DropRoleStmt:
		p, err = a.dropRole(x.DropRoleStmt)
	default:
		return nil, false, nil
	}
	return p, true, err
}

// relationOf resolves a RangeVar to a relation of kind want (0: any),
// with Postgres's errors; nil without error when missingOK and it does
// not exist (the NOTICE is then in notice).
func (a *analyzer) relationOf(rv *pg.RangeVar, want byte, missingOK bool) (*catalog.Object, *pgerror.Error, error) {
	obj, err := a.cat.Resolve(rv.Schemaname, rv.Relname, a.searchPath())
	if err != nil {
		return nil, nil, err
	}
	if obj == nil {
		if missingOK {
			return nil, Notice(pgerror.SuccessfulCompletion, "relation \"%s\" does not exist, skipping", rv.Relname), nil
		}
		return nil, nil, pgerror.New(pgerror.UndefinedTable, "relation \"%s\" does not exist", qualified(rv))
	}
	if want != 0 && obj.RelKind != want {
		return nil, nil, pgerror.New(pgerror.WrongObjectType, "\"%s\" is not a%s %s", obj.Name, article(relKindName(want)), strings.ToLower(relKindName(want)))
	}
	return obj, nil, nil
}

// skipped is a statement that did nothing but give a NOTICE.
func skipped(tag string, notice *pgerror.Error) *planned {
	return &planned{run: func(*EvalCtx) (*Result, error) {
		return &Result{Tag: tag, Notices: []*pgerror.Error{notice}}, nil
	}}
}

// putObject plans a statement that stores one changed catalog object.
func putObject(tag string, o *catalog.Object) *planned {
	return ddl(tag, func(ctx *EvalCtx, res *Result) error { return catalog.NewWriter(ctx.Env.Store).Put(o) })
}

// clone copies a catalog object deeply enough to change it.
func clone(o *catalog.Object) *catalog.Object {
	c := *o
	c.Columns = append([]catalog.Column(nil), o.Columns...)
	c.Constraints = append([]catalog.Constraint(nil), o.Constraints...)
	if o.Index != nil {
		idx := *o.Index
		c.Index = &idx
	}
	if o.Sequence != nil {
		seq := *o.Sequence
		c.Sequence = &seq
	}
	return &c
}

// renameStmt plans ALTER TABLE/INDEX/SEQUENCE/VIEW ... RENAME TO, RENAME
// COLUMN, RENAME CONSTRAINT and ALTER SCHEMA ... RENAME TO.
func (a *analyzer) renameStmt(rs *pg.RenameStmt) (*planned, error) {
	tag := ddlTag(&pg.Node{Node: &pg.Node_RenameStmt{RenameStmt: rs}})
	if rs.RenameType == pg.ObjectType_OBJECT_ROLE {
		return a.renameRole(rs)
	}
	if rs.RenameType == pg.ObjectType_OBJECT_SCHEMA {
		s := a.cat.Schema(rs.Subname)
		if s == nil {
			return nil, pgerror.New(pgerror.InvalidSchemaName, "schema \"%s\" does not exist", rs.Subname)
		}
		if a.cat.Schema(rs.Newname) != nil {
			return nil, pgerror.New(pgerror.DuplicateSchema, "schema \"%s\" already exists", rs.Newname)
		}
		c := clone(s)
		c.Name = rs.Newname
		return putObject(tag, c), nil
	}
	var want byte
	switch rs.RenameType {
	case pg.ObjectType_OBJECT_INDEX:
		want = catalog.RelIndex
	case pg.ObjectType_OBJECT_SEQUENCE:
		want = catalog.RelSequence
	case pg.ObjectType_OBJECT_VIEW:
		want = catalog.RelView
	case pg.ObjectType_OBJECT_TABLE, pg.ObjectType_OBJECT_COLUMN, pg.ObjectType_OBJECT_TABCONSTRAINT:
		want = catalog.RelTable
	default:
		return nil, pgerror.New(pgerror.FeatureNotSupported, "%s is not supported", tag)
	}
	if rs.RenameType == pg.ObjectType_OBJECT_TABLE || rs.RenameType == pg.ObjectType_OBJECT_INDEX {
		want = 0 // ALTER TABLE and ALTER INDEX rename any relation, as in Postgres
	}
	obj, notice, err := a.relationOf(rs.Relation, want, rs.MissingOk)
	if err != nil {
		return nil, err
	}
	if obj == nil {
		return skipped(tag, notice), nil
	}
	c := clone(obj)
	switch rs.RenameType {
	case pg.ObjectType_OBJECT_COLUMN:
		col := c.ColumnByName(rs.Subname)
		if col == nil {
			return nil, pgerror.New(pgerror.UndefinedColumn, "column \"%s\" does not exist", rs.Subname)
		}
		if c.ColumnByName(rs.Newname) != nil {
			return nil, pgerror.New(pgerror.DuplicateColumn, "column \"%s\" of relation \"%s\" already exists", rs.Newname, obj.Name)
		}
		col.Name = rs.Newname
		return putObject(tag, c), nil
	case pg.ObjectType_OBJECT_TABCONSTRAINT:
		for i := range c.Constraints {
			con := &c.Constraints[i]
			if con.Name != rs.Subname {
				continue
			}
			for _, other := range c.Constraints {
				if other.Name == rs.Newname {
					return nil, pgerror.New(pgerror.DuplicateObject, "constraint \"%s\" for relation \"%s\" already exists", rs.Newname, obj.Name)
				}
			}
			if con.Index != 0 && a.cat.Relation(obj.Schema, rs.Newname) != nil {
				return nil, pgerror.New(pgerror.DuplicateTable, "relation \"%s\" already exists", rs.Newname)
			}
			con.Name = rs.Newname
			return ddl(tag, func(ctx *EvalCtx, res *Result) error {
				w := catalog.NewWriter(ctx.Env.Store)
				if con.Index != 0 {
					idx := clone(a.cat.Object(con.Index))
					idx.Name = rs.Newname
					if err := w.Put(idx); err != nil {
						return err
					}
				}
				return w.Put(c)
			}), nil
		}
		return nil, pgerror.New(pgerror.UndefinedObject, "constraint \"%s\" for table \"%s\" does not exist", rs.Subname, obj.Name)
	}
	if a.cat.Relation(obj.Schema, rs.Newname) != nil {
		return nil, pgerror.New(pgerror.DuplicateTable, "relation \"%s\" already exists", rs.Newname)
	}
	c.Name = rs.Newname
	return ddl(tag, func(ctx *EvalCtx, res *Result) error {
		w := catalog.NewWriter(ctx.Env.Store)
		if c.RelKind == catalog.RelIndex {
			// A constraint's index and the constraint share their name.
			t := clone(a.cat.Object(c.Index.Table))
			for i := range t.Constraints {
				if t.Constraints[i].Index == c.Oid {
					t.Constraints[i].Name = c.Name
					if err := w.Put(t); err != nil {
						return err
					}
				}
			}
		}
		return w.Put(c)
	}), nil
}

// setSchema plans ALTER TABLE/SEQUENCE/VIEW ... SET SCHEMA s: the
// relation moves with its indexes and the sequences it owns.
func (a *analyzer) setSchema(st *pg.AlterObjectSchemaStmt) (*planned, error) {
	tag := ddlTag(&pg.Node{Node: &pg.Node_AlterObjectSchemaStmt{AlterObjectSchemaStmt: st}})
	var want byte
	switch st.ObjectType {
	case pg.ObjectType_OBJECT_TABLE:
		want = catalog.RelTable
	case pg.ObjectType_OBJECT_SEQUENCE:
		want = catalog.RelSequence
	case pg.ObjectType_OBJECT_VIEW:
		want = catalog.RelView
	default:
		return nil, pgerror.New(pgerror.FeatureNotSupported, "%s SET SCHEMA is not supported", tag)
	}
	obj, notice, err := a.relationOf(st.Relation, want, st.MissingOk)
	if err != nil {
		return nil, err
	}
	if obj == nil {
		return skipped(tag, notice), nil
	}
	ns := a.cat.Schema(st.Newschema)
	if ns == nil {
		return nil, pgerror.New(pgerror.InvalidSchemaName, "schema \"%s\" does not exist", st.Newschema)
	}
	if ns.Oid == obj.Schema {
		return ddl(tag, func(*EvalCtx, *Result) error { return nil }), nil
	}
	moving := []*catalog.Object{obj}
	if obj.RelKind == catalog.RelTable {
		moving = append(moving, a.cat.Indexes(obj.Oid)...)
		for _, o := range a.cat.Objects() {
			if o.Sequence != nil && o.Sequence.OwnedByTable == obj.Oid {
				moving = append(moving, o)
			}
		}
	}
	for _, m := range moving {
		if a.cat.Relation(ns.Oid, m.Name) != nil {
			return nil, pgerror.New(pgerror.DuplicateTable, "relation \"%s\" already exists in schema \"%s\"", m.Name, ns.Name)
		}
	}
	return ddl(tag, func(ctx *EvalCtx, res *Result) error {
		w := catalog.NewWriter(ctx.Env.Store)
		for _, m := range moving {
			c := clone(m)
			c.Schema = ns.Oid
			if err := w.Put(c); err != nil {
				return err
			}
		}
		return nil
	}), nil
}
