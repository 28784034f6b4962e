package exec

import (
	"fmt"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// ddl returns a planned statement that runs f and answers tag.
func ddl(tag string, f func(ctx *EvalCtx, res *Result) error) *planned {
	return &planned{run: func(ctx *EvalCtx) (*Result, error) {
		res := &Result{Tag: tag}
		if err := f(ctx, res); err != nil {
			return nil, err
		}
		ctx.Env.CatalogChanged()
		return res, nil
	}}
}

// Notice returns a NOTICE with its SQLSTATE (Postgres gives most notices
// 00000, some the code of the error they stand in for) and a message.
func Notice(code, format string, args ...any) *pgerror.Error {
	e := pgerror.New(code, format, args...)
	e.Severity = "NOTICE"
	return e
}

// creationSchema is the schema a new object goes in: the named one, or
// the first schema of the search path that exists.
func (a *analyzer) creationSchema(name string) (*catalog.Object, error) {
	if name != "" {
		s := a.cat.Schema(name)
		if s == nil {
			return nil, pgerror.New(pgerror.InvalidSchemaName, "schema \"%s\" does not exist", name)
		}
		return s, systemSchemaWrite(s)
	}
	for _, oid := range a.searchPath() {
		if oid != catalog.PgCatalogNamespace {
			s := a.cat.Object(oid)
			return s, systemSchemaWrite(s)
		}
	}
	return nil, pgerror.New(pgerror.InvalidSchemaName, "no schema has been selected to create in")
}

// createTable plans CREATE TABLE.
func (a *analyzer) createTable(cs *pg.CreateStmt) (*planned, error) {
	rv := cs.Relation
	if rv.Relpersistence == "t" {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "temporary tables are not supported")
	}
	schema, err := a.creationSchema(rv.Schemaname)
	if err != nil {
		return nil, pgerror.As(err).WithPosition(rv.Location + 1)
	}
	if existing := a.cat.Relation(schema.Oid, rv.Relname); existing != nil {
		if cs.IfNotExists {
			return &planned{run: func(*EvalCtx) (*Result, error) {
				return &Result{Tag: "CREATE TABLE", Notices: []*pgerror.Error{Notice(pgerror.DuplicateTable, "relation \"%s\" already exists, skipping", rv.Relname)}}, nil
			}}, nil
		}
		return nil, pgerror.New(pgerror.DuplicateTable, "relation \"%s\" already exists", rv.Relname)
	}
	return ddl("CREATE TABLE", func(ctx *EvalCtx, res *Result) error {
		w := catalog.NewWriter(ctx.Env.Store)
		oid, err := w.NextOid()
		if err != nil {
			return err
		}
		obj := &catalog.Object{Oid: oid, Kind: "relation", Name: rv.Relname, Schema: schema.Oid, RelKind: catalog.RelTable, Owner: a.ownerOid()}
		var pending []func() error // indexes and sequences, once the table is known
		var later []func() error   // CHECK and FOREIGN KEY constraints, once the keys are known
		addIndex := func(name string, cols []int16, primary bool, kind byte) {
			pending = append(pending, func() error {
				ioid, err := w.NextOid()
				if err != nil {
					return err
				}
				if name == "" {
					name = indexName(rv.Relname, obj, cols, primary)
				}
				if a.cat.Relation(schema.Oid, name) != nil {
					return pgerror.New(pgerror.DuplicateTable, "relation \"%s\" already exists", name)
				}
				idx := &catalog.Object{Oid: ioid, Kind: "relation", Name: name, Schema: schema.Oid, RelKind: catalog.RelIndex, Owner: obj.Owner,
					Index: &catalog.Index{Columns: cols, Unique: true, Primary: primary, Table: oid}}
				coid, err := w.NextOid()
				if err != nil {
					return err
				}
				obj.Constraints = append(obj.Constraints, catalog.Constraint{Name: name, Oid: coid, Kind: kind, Columns: cols, Index: ioid, Validated: true})
				return w.Put(idx)
			})
		}
		for _, elt := range cs.TableElts {
			switch x := elt.Node.(type) {
			case *pg.Node_ColumnDef:
				cd := x.ColumnDef
				if obj.ColumnByName(cd.Colname) != nil {
					return pgerror.New(pgerror.DuplicateColumn, "column \"%s\" specified more than once", cd.Colname)
				}
				t, err := ResolveTypeName(cd.TypeName)
				if err != nil {
					return err
				}
				col := catalog.Column{Name: cd.Colname, Num: int16(len(obj.Columns) + 1), Type: t, NotNull: cd.IsNotNull}
				if serial := serialType(cd.TypeName); serial {
					col.NotNull = true
					num := col.Num
					pending = append(pending, func() error {
						seq, err := a.createSequence(w, schema, fmt.Sprintf("%s_%s_seq", rv.Relname, cd.Colname), t.Oid, obj, num)
						if err != nil {
							return err
						}
						c := obj.Column(num)
						c.Default = fmt.Sprintf("nextval('%s'::regclass)", quoteSeqName(a.cat, schema, seq.Name))
						c.Sequence = seq.Oid
						return nil
					})
				}
				for _, cn := range cd.Constraints {
					c := cn.GetConstraint()
					switch c.Contype {
					case pg.ConstrType_CONSTR_NOTNULL:
						col.NotNull = true
					case pg.ConstrType_CONSTR_NULL:
						col.NotNull = false
					case pg.ConstrType_CONSTR_DEFAULT:
						text, err := deparseExpr(c.RawExpr)
						if err != nil {
							return err
						}
						col.Default = text
					case pg.ConstrType_CONSTR_PRIMARY:
						col.NotNull = true
						addIndex(c.Conname, []int16{col.Num}, true, 'p')
					case pg.ConstrType_CONSTR_UNIQUE:
						addIndex(c.Conname, []int16{col.Num}, false, 'u')
					case pg.ConstrType_CONSTR_CHECK, pg.ConstrType_CONSTR_FOREIGN:
						later = append(later, a.declareConstraint(ctx, obj, c, cd.Colname))
					case pg.ConstrType_CONSTR_IDENTITY:
						f, err := a.identityColumn(w, schema, obj, &col, c)
						if err != nil {
							return err
						}
						pending = append(pending, f)
					default:
						return pgerror.New(pgerror.FeatureNotSupported, "column constraint %s is not supported", c.Contype)
					}
				}
				obj.Columns = append(obj.Columns, col)
			case *pg.Node_Constraint:
				c := x.Constraint
				cols, err := constraintColumns(obj, c.Keys)
				if err != nil {
					return err
				}
				switch c.Contype {
				case pg.ConstrType_CONSTR_PRIMARY:
					for _, num := range cols {
						obj.Column(num).NotNull = true
					}
					addIndex(c.Conname, cols, true, 'p')
				case pg.ConstrType_CONSTR_UNIQUE:
					addIndex(c.Conname, cols, false, 'u')
				case pg.ConstrType_CONSTR_CHECK, pg.ConstrType_CONSTR_FOREIGN:
					later = append(later, a.declareConstraint(ctx, obj, c, ""))
				default:
					return pgerror.New(pgerror.FeatureNotSupported, "table constraint %s is not supported", c.Contype)
				}
			default:
				return a.unsupported(elt)
			}
		}
		if err := checkOnePrimaryKey(obj, cs); err != nil {
			return err
		}
		for _, f := range append(pending, later...) {
			if err := f(); err != nil {
				return err
			}
		}
		return w.Put(obj)
	}), nil
}

func checkOnePrimaryKey(obj *catalog.Object, cs *pg.CreateStmt) error {
	n := 0
	for _, elt := range cs.TableElts {
		if c := elt.GetConstraint(); c != nil && c.Contype == pg.ConstrType_CONSTR_PRIMARY {
			n++
		}
		if cd := elt.GetColumnDef(); cd != nil {
			for _, cn := range cd.Constraints {
				if cn.GetConstraint().Contype == pg.ConstrType_CONSTR_PRIMARY {
					n++
				}
			}
		}
	}
	if n > 1 {
		return pgerror.New(pgerror.InvalidTableDefinition, "multiple primary keys for table \"%s\" are not allowed", obj.Name)
	}
	return nil
}

// constraintColumns resolves a table constraint's column names.
func constraintColumns(obj *catalog.Object, keys []*pg.Node) ([]int16, error) {
	var out []int16
	for _, k := range keys {
		name := strVal(k)
		c := obj.ColumnByName(name)
		if c == nil {
			return nil, pgerror.New(pgerror.UndefinedColumn, "column \"%s\" named in key does not exist", name)
		}
		out = append(out, c.Num)
	}
	return out, nil
}

// indexName is the name Postgres gives a constraint's index:
// table_pkey, table_col_key, with a number added while it is taken.
func indexName(table string, obj *catalog.Object, cols []int16, primary bool) string {
	if primary {
		return table + "_pkey"
	}
	var names []string
	for _, n := range cols {
		names = append(names, obj.Column(n).Name)
	}
	return table + "_" + strings.Join(names, "_") + "_key"
}

// serialType reports whether a column's declared type is a serial one.
func serialType(tn *pg.TypeName) bool {
	names := strVals(tn.Names)
	switch names[len(names)-1] {
	case "serial", "bigserial", "smallserial", "serial2", "serial4", "serial8":
		return len(names) == 1
	}
	return false
}

// quoteSeqName renders a sequence name as a default expression names it:
// qualified only if its schema is not the first of the search path.
func quoteSeqName(cat *catalog.Catalog, schema *catalog.Object, name string) string {
	if schema.Oid == catalog.PublicNamespace {
		return catalog.QuoteIdent(name)
	}
	return catalog.QuoteIdent(schema.Name) + "." + catalog.QuoteIdent(name)
}

// deparseExpr renders an expression's parse tree as SQL text.
func deparseExpr(n *pg.Node) (string, error) {
	sql, err := deparseStmt(&pg.Node{Node: &pg.Node_SelectStmt{SelectStmt: &pg.SelectStmt{
		TargetList: []*pg.Node{{Node: &pg.Node_ResTarget{ResTarget: &pg.ResTarget{Val: n}}}},
	}}})
	return strings.TrimPrefix(sql, "SELECT "), err
}

// parseTreeVersion is the Postgres version of pg_query's parse trees,
// which Deparse requires a tree to carry.
var parseTreeVersion = func() int32 {
	tree, err := pg.Parse("SELECT")
	if err != nil {
		panic(err)
	}
	return tree.Version
}()

// deparseStmt renders a statement's parse tree as SQL text.
func deparseStmt(stmt *pg.Node) (string, error) {
	sql, err := pg.Deparse(&pg.ParseResult{Version: parseTreeVersion, Stmts: []*pg.RawStmt{{Stmt: stmt}}})
	if err != nil {
		return "", pgerror.New(pgerror.Internal, "deparse: %v", err)
	}
	return sql, nil
}

func relKindName(k byte) string {
	switch k {
	case catalog.RelTable:
		return "TABLE"
	case catalog.RelIndex:
		return "INDEX"
	case catalog.RelSequence:
		return "SEQUENCE"
	case catalog.RelView:
		return "VIEW"
	}
	return "RELATION"
}

// ownerOid is the oid of the session's role (the bootstrap superuser if
// it has none of its own).
func (a *analyzer) ownerOid() catalog.Oid {
	if r := a.cat.Role(a.env.Session.User); r != nil {
		return r.Oid
	}
	return catalog.BootstrapSuperuser
}

var _ = types.Oid(0)
