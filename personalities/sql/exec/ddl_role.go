package exec

import (
	"fmt"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/pgerror"
)

// Roles: CREATE ROLE / USER / GROUP, ALTER ROLE / USER (attributes,
// PASSWORD, RENAME TO) and DROP ROLE / USER / GROUP [IF EXISTS], stored
// in the catalog like every other object. A password is stored only as
// its SCRAM-SHA-256 verifier (catalog.NewVerifier), salted from the
// statement's deterministic random source so every replica stores the
// same verifier. Memberships (IN ROLE, ROLE, ADMIN), VALID UNTIL and
// CONNECTION LIMIT are not supported.

// roleOptions applies CREATE/ALTER ROLE options to r.
func (a *analyzer) roleOptions(ctx *EvalCtx, r *catalog.Object, opts []*pg.Node) error {
	for _, n := range opts {
		d := n.GetDefElem()
		if d == nil {
			continue
		}
		flag := func() bool {
			if b := d.Arg.GetBoolean(); b != nil {
				return b.Boolval
			}
			if i := d.Arg.GetInteger(); i != nil {
				return i.Ival != 0
			}
			return true
		}
		switch d.Defname {
		case "superuser":
			r.Super = flag()
		case "createdb":
			r.CreateDB = flag()
		case "createrole":
			r.CreateRole = flag()
		case "canlogin":
			r.Login = flag()
		case "inherit":
			r.NoInherit = !flag()
		case "isreplication":
			r.Replication = flag()
		case "bypassrls":
			r.BypassRLS = flag()
		case "password":
			r.Password = ""
			s := d.Arg.GetString_()
			if s == nil || s.Sval == "" {
				// PASSWORD NULL clears it; an empty one is refused
				// by Postgres with a NOTICE and also leaves none.
				continue
			}
			if _, ok := catalog.ParseVerifier(s.Sval); ok {
				r.Password = s.Sval
				continue
			}
			salt := make([]byte, 16)
			for i := range salt {
				salt[i] = byte(ctx.Env.Rand().Uint32())
			}
			v, err := catalog.NewVerifier(s.Sval, salt)
			if err != nil {
				return pgerror.New(pgerror.InvalidParameterValue, "invalid password: %v", err)
			}
			r.Password = v
		default:
			return pgerror.New(pgerror.FeatureNotSupported, "role option %s is not supported", strings.ToUpper(d.Defname))
		}
	}
	return nil
}

// checkRoleOptions refuses an option given twice, as Postgres does.
func checkRoleOptions(opts []*pg.Node) error {
	seen := map[string]bool{}
	for _, n := range opts {
		d := n.GetDefElem()
		if d == nil {
			continue
		}
		if seen[d.Defname] {
			return pgerror.New(pgerror.SyntaxError, "conflicting or redundant options").WithPosition(d.Location + 1)
		}
		seen[d.Defname] = true
		switch d.Defname {
		case "superuser", "createdb", "createrole", "canlogin", "inherit", "isreplication", "bypassrls", "password":
		default:
			return pgerror.New(pgerror.FeatureNotSupported, "role option %s is not supported", strings.ToUpper(d.Defname))
		}
	}
	return nil
}

func reservedRoleName(name string) error {
	if strings.HasPrefix(name, "pg_") {
		return pgerror.New(pgerror.ReservedName, "role name \"%s\" is reserved", name).WithDetail("Role names starting with \"pg_\" are reserved.")
	}
	return nil
}

// createRole plans CREATE ROLE / USER / GROUP. CREATE USER implies
// LOGIN.
func (a *analyzer) createRole(cr *pg.CreateRoleStmt) (*planned, error) {
	if err := checkRoleOptions(cr.Options); err != nil {
		return nil, err
	}
	if err := reservedRoleName(cr.Role); err != nil {
		return nil, err
	}
	if a.cat.Role(cr.Role) != nil {
		return nil, pgerror.New(pgerror.DuplicateObject, "role \"%s\" already exists", cr.Role)
	}
	return ddl("CREATE ROLE", func(ctx *EvalCtx, res *Result) error {
		w := catalog.NewWriter(ctx.Env.Store)
		oid, err := w.NextOid()
		if err != nil {
			return err
		}
		r := &catalog.Object{Oid: oid, Kind: "role", Name: cr.Role, Login: cr.StmtType == pg.RoleStmtType_ROLESTMT_USER}
		if err := a.roleOptions(ctx, r, cr.Options); err != nil {
			return err
		}
		return w.Put(r)
	}), nil
}

// roleSpec resolves a RoleSpec to a role (nil, with its name, if none).
func (a *analyzer) roleSpec(rs *pg.RoleSpec) (*catalog.Object, string) {
	name := rs.GetRolename()
	switch rs.GetRoletype() {
	case pg.RoleSpecType_ROLESPEC_CURRENT_USER, pg.RoleSpecType_ROLESPEC_SESSION_USER, pg.RoleSpecType_ROLESPEC_CURRENT_ROLE:
		name = a.env.Session.User
	case pg.RoleSpecType_ROLESPEC_PUBLIC:
		name = "public"
	}
	return a.cat.Role(name), name
}

// alterRole plans ALTER ROLE / USER name [WITH] options.
func (a *analyzer) alterRole(ar *pg.AlterRoleStmt) (*planned, error) {
	if err := checkRoleOptions(ar.Options); err != nil {
		return nil, err
	}
	r, name := a.roleSpec(ar.Role)
	if r == nil {
		return nil, pgerror.New(pgerror.UndefinedObject, "role \"%s\" does not exist", name)
	}
	return ddl("ALTER ROLE", func(ctx *EvalCtx, res *Result) error {
		c := clone(r)
		if err := a.roleOptions(ctx, c, ar.Options); err != nil {
			return err
		}
		return catalog.NewWriter(ctx.Env.Store).Put(c)
	}), nil
}

// renameRole plans ALTER ROLE name RENAME TO newname.
func (a *analyzer) renameRole(rs *pg.RenameStmt) (*planned, error) {
	r := a.cat.Role(rs.Subname)
	if r == nil {
		return nil, pgerror.New(pgerror.UndefinedObject, "role \"%s\" does not exist", rs.Subname)
	}
	if r.Name == a.env.Session.User {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "session user cannot be renamed")
	}
	if err := reservedRoleName(r.Name); err != nil {
		return nil, err
	}
	if err := reservedRoleName(rs.Newname); err != nil {
		return nil, err
	}
	if a.cat.Role(rs.Newname) != nil {
		return nil, pgerror.New(pgerror.DuplicateObject, "role \"%s\" already exists", rs.Newname)
	}
	c := clone(r)
	c.Name = rs.Newname
	return putObject("ALTER ROLE", c), nil
}

// dropRole plans DROP ROLE / USER / GROUP [IF EXISTS] names: a role
// that owns objects cannot be dropped.
func (a *analyzer) dropRole(dr *pg.DropRoleStmt) (*planned, error) {
	var notices []*pgerror.Error
	var drop []catalog.Oid
	for _, n := range dr.Roles {
		r, name := a.roleSpec(n.GetRoleSpec())
		if r == nil {
			if dr.MissingOk {
				notices = append(notices, Notice(pgerror.SuccessfulCompletion, "role \"%s\" does not exist, skipping", name))
				continue
			}
			return nil, pgerror.New(pgerror.UndefinedObject, "role \"%s\" does not exist", name)
		}
		if r.Name == a.env.Session.User {
			return nil, pgerror.New(pgerror.ObjectInUse, "current user cannot be dropped")
		}
		if r.Oid == catalog.BootstrapSuperuser || strings.HasPrefix(r.Name, "pg_") {
			return nil, pgerror.New(pgerror.DependentObjectsStillExist, "cannot drop role %s because it is required by the database system", r.Name)
		}
		var owned []string
		for _, o := range a.cat.Objects() {
			if o.Owner != r.Oid {
				continue
			}
			switch {
			case o.Kind == "schema":
				owned = append(owned, "owner of schema "+o.Name)
			case o.Kind == "relation" && o.RelKind != catalog.RelIndex:
				owned = append(owned, fmt.Sprintf("owner of %s %s", relKindLower(o.RelKind), a.cat.QualifiedName(o)))
			}
		}
		if len(owned) > 0 {
			return nil, pgerror.New(pgerror.DependentObjectsStillExist, "role \"%s\" cannot be dropped because some objects depend on it", r.Name).WithDetail("%s", strings.Join(owned, "\n"))
		}
		drop = append(drop, r.Oid)
	}
	return &planned{run: func(ctx *EvalCtx) (*Result, error) {
		w := catalog.NewWriter(ctx.Env.Store)
		for _, oid := range drop {
			if err := w.Delete(oid); err != nil {
				return nil, err
			}
		}
		if len(drop) > 0 {
			ctx.Env.CatalogChanged()
		}
		return &Result{Tag: "DROP ROLE", Notices: notices}, nil
	}}, nil
}
