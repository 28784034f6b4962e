package exec

import (
	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/pgerror"
)

// createSchema plans CREATE SCHEMA [IF NOT EXISTS] [name] [AUTHORIZATION
// role]. Schema elements (CREATE SCHEMA s CREATE TABLE ...) are not
// supported.
func (a *analyzer) createSchema(cs *pg.CreateSchemaStmt) (*planned, error) {
	owner := a.ownerOid()
	name := cs.Schemaname
	if cs.Authrole != nil {
		rn := cs.Authrole.Rolename
		switch cs.Authrole.Roletype {
		case pg.RoleSpecType_ROLESPEC_CURRENT_USER, pg.RoleSpecType_ROLESPEC_SESSION_USER, pg.RoleSpecType_ROLESPEC_CURRENT_ROLE:
			rn = a.env.Session.User
		}
		r := a.cat.Role(rn)
		if r == nil {
			return nil, pgerror.New(pgerror.UndefinedObject, "role \"%s\" does not exist", rn)
		}
		owner = r.Oid
		if name == "" {
			name = rn
		}
	}
	if len(cs.SchemaElts) > 0 {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "CREATE SCHEMA with schema elements is not supported")
	}
	if len(name) >= 3 && name[:3] == "pg_" {
		return nil, pgerror.New(pgerror.ReservedName, "unacceptable schema name \"%s\"", name).WithDetail("The prefix \"pg_\" is reserved for system schemas.")
	}
	if a.cat.Schema(name) != nil {
		if cs.IfNotExists {
			return &planned{run: func(*EvalCtx) (*Result, error) {
				return &Result{Tag: "CREATE SCHEMA", Notices: []*pgerror.Error{Notice(pgerror.DuplicateSchema, "schema \"%s\" already exists, skipping", name)}}, nil
			}}, nil
		}
		return nil, pgerror.New(pgerror.DuplicateSchema, "schema \"%s\" already exists", name)
	}
	return ddl("CREATE SCHEMA", func(ctx *EvalCtx, res *Result) error {
		w := catalog.NewWriter(ctx.Env.Store)
		oid, err := w.NextOid()
		if err != nil {
			return err
		}
		return w.Put(&catalog.Object{Oid: oid, Kind: "schema", Name: name, Owner: owner})
	}), nil
}
