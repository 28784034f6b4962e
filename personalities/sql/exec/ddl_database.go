package exec

import (
	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/pgerror"
)

// Databases: a gateway serves one database. Every name a client connects
// with reaches it, so CREATE DATABASE answers as Postgres does for a name
// that exists (the session's database, postgres, template0, template1:
// 42P04) and refuses any other name with 0A000 rather than create a
// second catalog namespace. DROP DATABASE refuses the open database
// (55006) and the templates, and reports other names as missing (3D000,
// or a NOTICE with IF EXISTS).

// databaseExists reports whether name is a database this gateway answers
// for as existing.
func (a *analyzer) databaseExists(name string) bool {
	switch name {
	case a.env.Session.Database, "postgres", "template0", "template1":
		return true
	}
	return false
}

func (a *analyzer) createDatabase(cd *pg.CreatedbStmt) (*planned, error) {
	if a.databaseExists(cd.Dbname) {
		return nil, pgerror.New(pgerror.DuplicateDatabase, "database \"%s\" already exists", cd.Dbname)
	}
	return nil, pgerror.New(pgerror.FeatureNotSupported, "CREATE DATABASE is not supported: this server has one database").
		WithHint("Use CREATE SCHEMA to keep objects apart.")
}

func (a *analyzer) dropDatabase(dd *pg.DropdbStmt) (*planned, error) {
	switch {
	case dd.Dbname == a.env.Session.Database:
		return nil, pgerror.New(pgerror.ObjectInUse, "cannot drop the currently open database")
	case dd.Dbname == "template0" || dd.Dbname == "template1":
		return nil, pgerror.New(pgerror.WrongObjectType, "cannot drop a template database")
	case a.databaseExists(dd.Dbname):
		return nil, pgerror.New(pgerror.FeatureNotSupported, "DROP DATABASE is not supported: this server has one database")
	case dd.MissingOk:
		return skipped("DROP DATABASE", Notice(pgerror.SuccessfulCompletion, "database \"%s\" does not exist, skipping", dd.Dbname)), nil
	}
	return nil, pgerror.New(pgerror.InvalidCatalogName, "database \"%s\" does not exist", dd.Dbname)
}

// commentStmt plans COMMENT ON TABLE / VIEW / SEQUENCE / INDEX / SCHEMA
// ... IS 'text' | NULL. Comments on columns and other objects are
// refused with 0A000.
func (a *analyzer) commentStmt(cs *pg.CommentStmt) (*planned, error) {
	var obj *catalog.Object
	switch cs.Objtype {
	case pg.ObjectType_OBJECT_SCHEMA:
		name := strVal(cs.Object)
		if obj = a.cat.Schema(name); obj == nil {
			return nil, pgerror.New(pgerror.InvalidSchemaName, "schema \"%s\" does not exist", name)
		}
	case pg.ObjectType_OBJECT_TABLE, pg.ObjectType_OBJECT_VIEW, pg.ObjectType_OBJECT_SEQUENCE, pg.ObjectType_OBJECT_INDEX:
		names := strVals(cs.Object.GetList().Items)
		rv := &pg.RangeVar{Relname: names[len(names)-1]}
		if len(names) > 1 {
			rv.Schemaname = names[len(names)-2]
		}
		want := map[pg.ObjectType]byte{pg.ObjectType_OBJECT_TABLE: catalog.RelTable, pg.ObjectType_OBJECT_VIEW: catalog.RelView,
			pg.ObjectType_OBJECT_SEQUENCE: catalog.RelSequence, pg.ObjectType_OBJECT_INDEX: catalog.RelIndex}[cs.Objtype]
		var err error
		if obj, _, err = a.relationOf(rv, want, false); err != nil {
			return nil, err
		}
	default:
		return nil, pgerror.New(pgerror.FeatureNotSupported, "COMMENT ON %s is not supported", objectTypeName(cs.Objtype))
	}
	c := clone(obj)
	c.Comment = cs.Comment
	return putObject("COMMENT", c), nil
}
