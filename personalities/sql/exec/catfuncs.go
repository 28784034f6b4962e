package exec

import (
	"sort"
	"strconv"
	"strings"
	"sync"

	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// The system information and catalog functions psql and drivers call.
// Privileges are not modelled: every has_*_privilege of an existing
// object is true. Sizes are estimates (a relation with data reports
// Postgres's one-page minimum).

// ServerVersion is what version() returns.
const ServerVersion = "PostgreSQL 15.8 (Hourglass) on x86_64-pc-linux-gnu, compiled by Go, 64-bit"

func catCtx(ctx *EvalCtx) *catalog.Catalog {
	cat, err := ctx.Env.Catalog()
	if err != nil {
		return nil
	}
	return cat
}

func reg(name string, args []types.Oid, ret types.Oid, strict bool, fn func(ctx *EvalCtx, a []any) (any, error)) {
	RegisterFunc(&Func{Name: name, Args: args, Ret: ret, Strict: strict, Fn: fn})
}

func oids(ts ...types.Oid) []types.Oid { return ts }

func init() {
	O, T, N, I4, I8, B := types.OidOid, types.OidText, types.OidName, types.OidInt4, types.OidInt8, types.OidBool
	reg("version", nil, T, true, func(*EvalCtx, []any) (any, error) { return ServerVersion, nil })
	reg("current_database", nil, N, true, func(ctx *EvalCtx, _ []any) (any, error) { return ctx.Env.Session.Database, nil })
	reg("current_schema", nil, N, true, func(ctx *EvalCtx, _ []any) (any, error) { return currentSchema(ctx) })
	reg("current_schemas", oids(B), types.ArrayOf(N), true, func(ctx *EvalCtx, a []any) (any, error) {
		cat, err := ctx.Env.Catalog()
		if err != nil {
			return nil, err
		}
		var names []any
		for _, oid := range cat.SearchPath(ctx.Env.Session.SearchPath, ctx.Env.Session.User) {
			if oid == catalog.PgCatalogNamespace && !a[0].(bool) && !explicitCatalog(ctx.Env.Session.SearchPath) {
				continue
			}
			names = append(names, cat.Object(oid).Name)
		}
		return types.NewArray(types.OidName, names), nil
	})
	reg("pg_backend_pid", nil, I4, true, func(ctx *EvalCtx, _ []any) (any, error) { return int64(ctx.Env.Session.BackendPID), nil })
	reg("pg_table_is_visible", oids(O), B, true, func(ctx *EvalCtx, a []any) (any, error) {
		cat := catCtx(ctx)
		if cat == nil {
			return nil, nil
		}
		oid := catalog.Oid(a[0].(int64))
		if t := sysWithOid(oid); t != nil {
			return lookupSys(cat, "", t.Name, searchPathOf(ctx, cat)) == t, nil
		}
		o := cat.Object(oid)
		if o == nil || o.Kind != "relation" {
			return nil, nil
		}
		return relationVisible(ctx, cat, o), nil
	})
	reg("pg_type_is_visible", oids(O), B, true, func(_ *EvalCtx, a []any) (any, error) {
		if types.Lookup(types.Oid(a[0].(int64))) == nil {
			return nil, nil
		}
		return true, nil
	})
	for _, n := range []string{"pg_function_is_visible", "pg_collation_is_visible", "pg_opclass_is_visible", "pg_operator_is_visible", "pg_conversion_is_visible"} {
		reg(n, oids(O), B, true, func(*EvalCtx, []any) (any, error) { return true, nil })
	}
	reg("pg_is_other_temp_schema", oids(O), B, true, func(*EvalCtx, []any) (any, error) { return false, nil })
	reg("pg_my_temp_schema", nil, O, true, func(*EvalCtx, []any) (any, error) { return int64(0), nil })
	reg("format_type", oids(O, I4), T, false, func(_ *EvalCtx, a []any) (any, error) {
		if a[0] == nil {
			return nil, nil
		}
		oid := types.Oid(a[0].(int64))
		if types.Lookup(oid) == nil {
			return "???", nil
		}
		mod := int32(-1)
		if a[1] != nil {
			mod = int32(a[1].(int64))
		}
		return types.FormatType(oid, mod), nil
	})
	reg("pg_get_userbyid", oids(O), N, true, func(ctx *EvalCtx, a []any) (any, error) {
		if cat := catCtx(ctx); cat != nil {
			if o := cat.Object(catalog.Oid(a[0].(int64))); o != nil && o.Kind == "role" {
				return o.Name, nil
			}
		}
		return "unknown (OID=" + itoa(int(a[0].(int64))) + ")", nil
	})
	reg("pg_encoding_to_char", oids(I4), N, true, func(_ *EvalCtx, a []any) (any, error) {
		switch a[0].(int64) {
		case 0:
			return "SQL_ASCII", nil
		case 6:
			return "UTF8", nil
		}
		return "", nil
	})
	reg("pg_char_to_encoding", oids(N), I4, true, func(_ *EvalCtx, a []any) (any, error) {
		switch strings.ToUpper(a[0].(string)) {
		case "SQL_ASCII":
			return int64(0), nil
		case "UTF8", "UTF-8", "UNICODE":
			return int64(6), nil
		}
		return int64(-1), nil
	})
	reg("pg_get_expr", oids(types.OidPgNodeTree, O), T, true, func(_ *EvalCtx, a []any) (any, error) { return a[0], nil })
	reg("pg_get_expr", oids(types.OidPgNodeTree, O, B), T, true, func(_ *EvalCtx, a []any) (any, error) { return a[0], nil })
	reg("pg_get_indexdef", oids(O), T, true, func(ctx *EvalCtx, a []any) (any, error) { return indexDef(ctx, a[0].(int64), 0) })
	reg("pg_get_indexdef", oids(O, I4, B), T, true, func(ctx *EvalCtx, a []any) (any, error) {
		return indexDef(ctx, a[0].(int64), int(a[1].(int64)))
	})
	reg("pg_get_constraintdef", oids(O), T, true, func(ctx *EvalCtx, a []any) (any, error) { return constraintDef(ctx, a[0].(int64)) })
	reg("pg_get_constraintdef", oids(O, B), T, true, func(ctx *EvalCtx, a []any) (any, error) { return constraintDef(ctx, a[0].(int64)) })
	viewdef := func(ctx *EvalCtx, a []any) (any, error) {
		if cat := catCtx(ctx); cat != nil {
			if o := cat.Object(catalog.Oid(a[0].(int64))); o != nil && o.RelKind == catalog.RelView {
				return o.ViewQuery, nil
			}
		}
		return nil, nil
	}
	reg("pg_get_viewdef", oids(O), T, true, viewdef)
	reg("pg_get_viewdef", oids(O, B), T, true, viewdef)
	reg("pg_get_viewdef", oids(O, I4), T, true, viewdef)
	reg("pg_get_serial_sequence", oids(T, T), T, true, serialSequence)
	reg("pg_get_partkeydef", oids(O), T, true, func(*EvalCtx, []any) (any, error) { return nil, nil })
	reg("pg_tablespace_location", oids(O), T, true, func(*EvalCtx, []any) (any, error) { return "", nil })
	reg("obj_description", oids(O, N), T, true, func(ctx *EvalCtx, a []any) (any, error) { return description(ctx, a[0].(int64), a[1].(string)) })
	reg("obj_description", oids(O), T, true, func(ctx *EvalCtx, a []any) (any, error) { return description(ctx, a[0].(int64), "") })
	reg("shobj_description", oids(O, N), T, true, func(ctx *EvalCtx, a []any) (any, error) {
		if a[1].(string) == "pg_authid" {
			return description(ctx, a[0].(int64), "")
		}
		return nil, nil
	})
	reg("col_description", oids(O, I4), T, true, func(*EvalCtx, []any) (any, error) { return nil, nil })
	for _, n := range []string{"pg_relation_size", "pg_table_size", "pg_total_relation_size", "pg_indexes_size"} {
		n := n
		reg(n, oids(types.OidRegclass), I8, true, func(ctx *EvalCtx, a []any) (any, error) { return relationSize(ctx, n, a[0].(int64)) })
	}
	reg("pg_database_size", oids(N), I8, true, func(*EvalCtx, []any) (any, error) { return int64(7 << 20), nil })
	reg("pg_size_pretty", oids(I8), T, true, func(_ *EvalCtx, a []any) (any, error) { return sizePretty(a[0].(int64)), nil })
	for _, n := range []string{"has_table_privilege", "has_sequence_privilege", "has_column_privilege", "has_any_column_privilege"} {
		registerPrivilege(n, "relation", types.OidRegclass)
	}
	registerPrivilege("has_schema_privilege", "schema", types.OidRegnamespace)
	registerPrivilege("has_database_privilege", "database", N)
	registerPrivilege("has_function_privilege", "function", types.OidRegproc)
	registerPrivilege("has_tablespace_privilege", "tablespace", N)
}

// currentSchema is the first schema of the search path that exists, or
// NULL.
func currentSchema(ctx *EvalCtx) (any, error) {
	cat, err := ctx.Env.Catalog()
	if err != nil {
		return nil, err
	}
	for _, oid := range cat.SearchPath(ctx.Env.Session.SearchPath, ctx.Env.Session.User) {
		if oid == catalog.PgCatalogNamespace && !explicitCatalog(ctx.Env.Session.SearchPath) {
			continue
		}
		return cat.Object(oid).Name, nil
	}
	return nil, nil
}

func explicitCatalog(path []string) bool {
	for _, p := range path {
		if p == "pg_catalog" {
			return true
		}
	}
	return false
}

func searchPathOf(ctx *EvalCtx, cat *catalog.Catalog) []catalog.Oid {
	return cat.SearchPath(ctx.Env.Session.SearchPath, ctx.Env.Session.User)
}

// relationVisible reports whether o is the relation its unqualified name
// finds on the search path.
func relationVisible(ctx *EvalCtx, cat *catalog.Catalog, o *catalog.Object) bool {
	for _, s := range searchPathOf(ctx, cat) {
		if sysNamed(s, o.Name) != nil {
			return false
		}
		if r := cat.Relation(s, o.Name); r != nil {
			return r == o
		}
	}
	return false
}

// description is an object's comment (COMMENT ON); class, if given,
// names the catalog the oid is from.
func description(ctx *EvalCtx, oid int64, class string) (any, error) {
	cat, err := ctx.Env.Catalog()
	if err != nil {
		return nil, err
	}
	o := cat.Object(catalog.Oid(oid))
	if o == nil || o.Comment == "" {
		return nil, nil
	}
	want := map[string]string{"pg_class": "relation", "pg_namespace": "schema", "pg_authid": "role"}[class]
	if class != "" && want != o.Kind {
		return nil, nil
	}
	return o.Comment, nil
}

func relationSize(ctx *EvalCtx, fn string, oid int64) (any, error) {
	cat, err := ctx.Env.Catalog()
	if err != nil {
		return nil, err
	}
	o := cat.Object(catalog.Oid(oid))
	if o == nil || o.Kind != "relation" {
		return nil, nil
	}
	// Pages are not kept: report what a fresh relation of the kind has
	// (an empty heap none, a btree index its metapage, a sequence one).
	page := int64(8192)
	size := func(r *catalog.Object) int64 {
		switch r.RelKind {
		case catalog.RelIndex, catalog.RelSequence:
			return page
		}
		return 0
	}
	switch fn {
	case "pg_indexes_size":
		var n int64
		for _, ix := range cat.Indexes(o.Oid) {
			n += size(ix)
		}
		return n, nil
	case "pg_total_relation_size":
		n := size(o)
		for _, ix := range cat.Indexes(o.Oid) {
			n += size(ix)
		}
		return n, nil
	}
	return size(o), nil
}

// sizePretty prints a byte count as pg_size_pretty does: bytes below
// 10 kB, then the largest unit (kB ... PB) keeping the number under
// 20480, rounded half away from zero.
func sizePretty(n int64) string {
	units := []struct {
		name  string
		limit int64
		round bool
		bits  uint
	}{{"bytes", 10 * 1024, false, 0}, {"kB", 20*1024 - 1, true, 10}, {"MB", 20*1024 - 1, true, 20},
		{"GB", 20*1024 - 1, true, 30}, {"TB", 20*1024 - 1, true, 40}, {"PB", 20*1024 - 1, true, 50}}
	abs := func(x int64) int64 {
		if x < 0 {
			return -x
		}
		return x
	}
	for i, u := range units {
		if i == len(units)-1 || abs(n) < u.limit {
			if u.round {
				if n < 0 {
					n = (n - 1) / 2
				} else {
					n = (n + 1) / 2
				}
			}
			return strconv.FormatInt(n, 10) + " " + u.name
		}
		next := units[i+1]
		bits := next.bits - u.bits
		if next.round {
			bits--
		}
		if u.round {
			bits++
		}
		n /= int64(1) << bits
	}
	return ""
}

func registerPrivilege(name, kind string, objType types.Oid) {
	check := func(ctx *EvalCtx, obj any, objIsText bool, priv string) (any, error) {
		if err := checkPrivilegeName(kind, priv); err != nil {
			return nil, err
		}
		cat, err := ctx.Env.Catalog()
		if err != nil {
			return nil, err
		}
		if objIsText {
			text := obj.(string)
			switch kind {
			case "relation":
				if _, err := regInput(cat, ctx.Env.Session, types.OidRegclass, text); err != nil {
					return nil, err
				}
			case "schema":
				if cat.Schema(text) == nil {
					return nil, pgerror.New(pgerror.InvalidSchemaName, "schema \"%s\" does not exist", text)
				}
			case "database":
				if text != ctx.Env.Session.Database && text != "template0" && text != "template1" {
					return nil, pgerror.New("3D000", "database \"%s\" does not exist", text)
				}
			}
			return true, nil
		}
		oid := catalog.Oid(obj.(int64))
		switch kind {
		case "relation":
			if sysWithOid(oid) == nil && (cat.Object(oid) == nil || cat.Object(oid).Kind != "relation") {
				return nil, nil
			}
		case "schema":
			if o := cat.Object(oid); o == nil || o.Kind != "schema" {
				return nil, nil
			}
		}
		return true, nil
	}
	textual := kind == "database" || kind == "tablespace"
	objArgs := []types.Oid{types.OidText, types.OidOid}
	for _, objArg := range objArgs {
		objArg := objArg
		isText := objArg == types.OidText || textual
		reg(name, oids(objArg, types.OidText), types.OidBool, true, func(ctx *EvalCtx, a []any) (any, error) {
			return check(ctx, a[0], isText && objArg == types.OidText, a[1].(string))
		})
		reg(name, oids(types.OidName, objArg, types.OidText), types.OidBool, true, func(ctx *EvalCtx, a []any) (any, error) {
			return check(ctx, a[1], isText && objArg == types.OidText, a[2].(string))
		})
	}
	_ = objType
}

// privileges lists the privilege names each kind of object takes.
var privileges = map[string][]string{
	"relation":   {"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER", "USAGE", "MAINTAIN"},
	"schema":     {"CREATE", "USAGE"},
	"database":   {"CREATE", "CONNECT", "TEMPORARY", "TEMP"},
	"function":   {"EXECUTE"},
	"tablespace": {"CREATE"},
}

// checkPrivilegeName validates a privilege list ("SELECT, INSERT WITH
// GRANT OPTION").
func checkPrivilegeName(kind, text string) error {
	for _, p := range strings.Split(text, ",") {
		p = strings.ToUpper(strings.TrimSpace(p))
		p = strings.TrimSpace(strings.TrimSuffix(p, " WITH GRANT OPTION"))
		ok := false
		for _, q := range privileges[kind] {
			ok = ok || p == q
		}
		if !ok {
			return pgerror.New(pgerror.InvalidParameterValue, "unrecognized privilege type: \"%s\"", strings.TrimSpace(strings.Split(strings.TrimSpace(text), ",")[0]))
		}
	}
	return nil
}

func serialSequence(ctx *EvalCtx, a []any) (any, error) {
	cat, err := ctx.Env.Catalog()
	if err != nil {
		return nil, err
	}
	oid, err := regInput(cat, ctx.Env.Session, types.OidRegclass, a[0].(string))
	if err != nil {
		return nil, err
	}
	t := cat.Object(catalog.Oid(oid))
	col := t.ColumnByName(a[1].(string))
	if col == nil {
		return nil, pgerror.New(pgerror.UndefinedColumn, "column \"%s\" of relation \"%s\" does not exist", a[1].(string), t.Name)
	}
	if col.Sequence == 0 {
		return nil, nil
	}
	if seq := cat.Object(col.Sequence); seq != nil {
		return cat.QualifiedName(seq), nil
	}
	return nil, nil
}

// indexDef reconstructs CREATE INDEX for an index (column 0), or the
// name of its column'th key column.
func indexDef(ctx *EvalCtx, oid int64, column int) (any, error) {
	cat, err := ctx.Env.Catalog()
	if err != nil {
		return nil, err
	}
	o := cat.Object(catalog.Oid(oid))
	if o == nil || o.Index == nil {
		return nil, nil
	}
	table := cat.Object(o.Index.Table)
	if table == nil {
		return nil, nil
	}
	keys := make([]string, len(o.Index.Columns))
	for i, num := range o.Index.Columns {
		c := table.Column(num)
		if c == nil {
			continue
		}
		keys[i] = catalog.QuoteIdent(c.Name)
		if i < len(o.Index.Desc) && o.Index.Desc[i] && column == 0 {
			keys[i] += " DESC"
		}
	}
	if column > 0 {
		if column > len(keys) {
			return "", nil
		}
		return keys[column-1], nil
	}
	unique := ""
	if o.Index.Unique || o.Index.Primary {
		unique = "UNIQUE "
	}
	return "CREATE " + unique + "INDEX " + catalog.QuoteIdent(o.Name) + " ON " + cat.QualifiedName(table) +
		" USING btree (" + strings.Join(keys, ", ") + ")", nil
}

// constraintDef reconstructs a constraint's definition as
// pg_get_constraintdef prints it.
func constraintDef(ctx *EvalCtx, oid int64) (any, error) {
	cat, err := ctx.Env.Catalog()
	if err != nil {
		return nil, err
	}
	for _, o := range cat.Objects() {
		for _, c := range o.Constraints {
			if int64(c.Oid) == oid {
				return formatConstraint(cat, o, &c), nil
			}
		}
	}
	return nil, nil
}

func keyColumnList(t *catalog.Object, nums []int16) string {
	names := make([]string, len(nums))
	for i, n := range nums {
		if c := t.Column(n); c != nil {
			names[i] = catalog.QuoteIdent(c.Name)
		}
	}
	return strings.Join(names, ", ")
}

func formatConstraint(cat *catalog.Catalog, t *catalog.Object, c *catalog.Constraint) string {
	var s string
	switch c.Kind {
	case 'p':
		s = "PRIMARY KEY (" + keyColumnList(t, c.Columns) + ")"
	case 'u':
		s = "UNIQUE (" + keyColumnList(t, c.Columns) + ")"
	case 'c':
		s = "CHECK (" + c.Check + ")"
	case 'f':
		ref := cat.Object(c.RefTable)
		refName := "?"
		if ref != nil {
			refName = cat.QualifiedName(ref)
			if sch := cat.Object(ref.Schema); sch != nil && sch.Oid == catalog.PublicNamespace {
				refName = catalog.QuoteIdent(ref.Name)
			}
		}
		s = "FOREIGN KEY (" + keyColumnList(t, c.Columns) + ") REFERENCES " + refName
		if ref != nil {
			s += "(" + keyColumnList(ref, c.RefColumns) + ")"
		}
		if c.Match == 'f' {
			s += " MATCH FULL"
		}
		actions := map[byte]string{'r': "RESTRICT", 'c': "CASCADE", 'n': "SET NULL", 'd': "SET DEFAULT"}
		if a := actions[c.OnUpdate]; a != "" {
			s += " ON UPDATE " + a
		}
		if a := actions[c.OnDelete]; a != "" {
			s += " ON DELETE " + a
		}
	}
	if c.Deferrable {
		s += " DEFERRABLE"
		if c.Deferred {
			s += " INITIALLY DEFERRED"
		}
	}
	if !c.Validated && c.Kind != 'p' && c.Kind != 'u' {
		s += " NOT VALID"
	}
	return s
}

// sessionValueFunction analyzes current_user, session_user, user,
// current_role, current_schema and current_catalog (the SQL-standard
// keywords without parentheses that read the session).
func (a *analyzer) sessionValueFunction(f *pg.SQLValueFunction) (Expr, error) {
	name := ""
	switch f.Op {
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_USER, pg.SQLValueFunctionOp_SVFOP_CURRENT_ROLE,
		pg.SQLValueFunctionOp_SVFOP_USER, pg.SQLValueFunctionOp_SVFOP_SESSION_USER:
		return &Const{T: types.T(types.OidName), Value: a.env.Session.User}, nil
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_CATALOG:
		name = "current_database"
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_SCHEMA:
		name = "current_schema"
	default:
		return nil, pgerror.New(pgerror.FeatureNotSupported, "%s is not supported", sqlValueName(f.Op)).WithPosition(f.Location + 1)
	}
	return a.call("function", name, functions[name], nil, f.Location+1)
}

// procNames maps the oids of registered functions to their names.
var procNames = sync.OnceValue(func() map[int64]string {
	m := map[int64]string{}
	for oid, f := range procByOid() {
		m[oid] = f.Name
	}
	return m
})

// regOutput prints a reg* value as its output function does: the
// object's name (qualified when the search path would not find it), or
// the number when there is no such object.
func regOutput(cat *catalog.Catalog, sess *Session, t types.Oid, oid int64) string {
	switch t {
	case types.OidRegclass:
		if s := sysWithOid(catalog.Oid(oid)); s != nil {
			if ns := cat.Object(s.Schema); s.Foreign != nil && ns != nil && lookupSys(cat, "", s.Name, cat.SearchPath(sess.SearchPath, sess.User)) != s {
				return catalog.QuoteIdent(ns.Name) + "." + catalog.QuoteIdent(s.Name)
			}
			return s.Name
		}
		if o := cat.Object(catalog.Oid(oid)); o != nil && o.Kind == "relation" {
			for _, s := range cat.SearchPath(sess.SearchPath, sess.User) {
				if sysNamed(s, o.Name) != nil {
					break
				}
				if r := cat.Relation(s, o.Name); r != nil {
					if r == o {
						return catalog.QuoteIdent(o.Name)
					}
					break
				}
			}
			return cat.QualifiedName(o)
		}
	case types.OidRegtype:
		if types.Lookup(types.Oid(oid)) != nil {
			return types.FormatType(types.Oid(oid), -1)
		}
	case types.OidRegnamespace:
		if o := cat.Object(catalog.Oid(oid)); o != nil && o.Kind == "schema" {
			return catalog.QuoteIdent(o.Name)
		}
	case types.OidRegrole:
		if o := cat.Object(catalog.Oid(oid)); o != nil && o.Kind == "role" {
			return catalog.QuoteIdent(o.Name)
		}
	case types.OidRegproc, types.OidRegprocedure:
		if oid == 0 {
			return "-"
		}
		if n, ok := procNames()[oid]; ok {
			return n
		}
	}
	if oid == 0 && t != types.OidRegclass {
		return "-"
	}
	return itoa(int(oid))
}

// setRegOutput makes the session print reg* values by name, against the
// catalog the statement ran with.
func setRegOutput(env *Env) {
	if env.Session == nil || env.Session.Types == nil || env.cat == nil {
		return
	}
	cat, sess := env.cat, env.Session
	sess.Types.RegOutput = func(t types.Oid, oid int64) string { return regOutput(cat, sess, t, oid) }
}

// regtypeInput reads a type name as regtypein does.
func regtypeInput(text string) (int64, error) {
	tree, err := pg.Parse("SELECT NULL::" + text)
	if err == nil && len(tree.Stmts) == 1 {
		if sel := tree.Stmts[0].Stmt.GetSelectStmt(); sel != nil && len(sel.TargetList) == 1 {
			if tc := sel.TargetList[0].GetResTarget().Val.GetTypeCast(); tc != nil {
				t, err := ResolveTypeName(tc.TypeName)
				if err != nil {
					if pe, ok := err.(*pgerror.Error); ok {
						pe.Position = 0
					}
					return 0, err
				}
				return int64(t.Oid), nil
			}
		}
	}
	return 0, pgerror.New(pgerror.SyntaxError, "invalid type name \"%s\"", text)
}

// regprocInput reads a function name as regprocin does: it must name
// exactly one function.
func regprocInput(text string) (int64, error) {
	parts, err := SplitQualifiedName(text)
	if err != nil {
		return 0, err
	}
	name := parts[len(parts)-1]
	var found []int64
	for oid, n := range procNames() {
		if n == name {
			found = append(found, oid)
		}
	}
	switch len(found) {
	case 0:
		return 0, pgerror.New(pgerror.UndefinedFunction, "function \"%s\" does not exist", text)
	case 1:
		return found[0], nil
	}
	return 0, pgerror.New(pgerror.AmbiguousFunction, "more than one function named \"%s\"", text)
}

func init() {
	// The registered functions have no declared argument names or
	// defaults: these print their argument and result types.
	reg("pg_get_function_arguments", oids(types.OidOid), types.OidText, true, func(_ *EvalCtx, a []any) (any, error) {
		if f := procByOid()[a[0].(int64)]; f != nil {
			names := make([]string, len(f.Args))
			for i, t := range f.Args {
				names[i] = types.FormatType(t, -1)
			}
			if f.Variadic && len(names) > 0 {
				names[len(names)-1] = "VARIADIC " + names[len(names)-1]
			}
			return strings.Join(names, ", "), nil
		}
		return nil, nil
	})
	reg("pg_get_function_identity_arguments", oids(types.OidOid), types.OidText, true, func(ctx *EvalCtx, a []any) (any, error) {
		return functions["pg_get_function_arguments"][0].Fn(ctx, a)
	})
	reg("pg_get_function_result", oids(types.OidOid), types.OidText, true, func(_ *EvalCtx, a []any) (any, error) {
		if f := procByOid()[a[0].(int64)]; f != nil {
			return types.FormatType(f.Ret, -1), nil
		}
		return nil, nil
	})
}

// procByOid numbers the registered functions as pg_proc lists them: a
// function's Postgres oid where known, else one of a range Postgres
// leaves unused, in name order.
var procByOid = sync.OnceValue(func() map[int64]*Func {
	m := map[int64]*Func{}
	names := make([]string, 0, len(functions))
	for name := range functions {
		names = append(names, name)
	}
	sort.Strings(names)
	next := int64(8000)
	for _, name := range names {
		for _, f := range functions[name] {
			oid := int64(f.Oid)
			if oid == 0 || m[oid] != nil {
				oid = next
				next++
			}
			m[oid] = f
		}
	}
	return m
})

// Functions of objects that do not exist here (statistics objects,
// triggers, rules, partitions): psql's queries name them over empty
// catalogs; they return NULL.
func init() {
	null := func(*EvalCtx, []any) (any, error) { return nil, nil }
	for _, n := range []string{"pg_get_statisticsobjdef_columns", "pg_get_triggerdef", "pg_get_ruledef", "pg_get_partition_constraintdef", "pg_get_statisticsobjdef", "pg_get_function_sqlbody"} {
		reg(n, oids(types.OidOid), types.OidText, true, null)
	}
	reg("pg_get_triggerdef", oids(types.OidOid, types.OidBool), types.OidText, true, null)
	reg("pg_get_ruledef", oids(types.OidOid, types.OidBool), types.OidText, true, null)
	reg("pg_relation_is_publishable", oids(types.OidRegclass), types.OidBool, true, func(ctx *EvalCtx, a []any) (any, error) {
		if cat := catCtx(ctx); cat != nil {
			if o := cat.Object(catalog.Oid(a[0].(int64))); o != nil {
				return o.RelKind == catalog.RelTable, nil
			}
		}
		return nil, nil
	})
}
