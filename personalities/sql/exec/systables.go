package exec

import (
	"sort"
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/types"
	"hourglass/platform"
)

// System relations: the tables and views of pg_catalog and
// information_schema are virtual. Their rows are generated, when a scan
// opens, from the catalog the statement sees (loaded from its store, so a
// transaction that reads them records the catalog version key in its read
// set and conflicts with DDL committed after its snapshot) and from the
// session. They are read-only: they resolve only as FROM items.
//
// Where Postgres's column is an oidvector or an int2vector, the value is
// carried as its text form (psql and drivers read them as text); where
// it is a regproc naming a function, as the function's name. Such values
// print as Postgres prints them but do not compare as the real types
// would.

// sysTable is one virtual relation.
type sysTable struct {
	Oid    catalog.Oid
	Schema catalog.Oid
	Name   string
	// Kind is its pg_class.relkind: 'r' for a catalog table, 'v' for a
	// view.
	Kind byte
	Cols []sysCol
	// Rows generates the rows: one value per column, in order.
	Rows func(g *sysGen) ([]Row, error)
	// Foreign, for a system schema's view, is the table it shows, read
	// in the namespace of the personality mounted as Mount (Rows is
	// nil).
	Foreign *platform.Table
	Mount   string
}

// sysCol is a column of a virtual relation.
type sysCol struct {
	Name string
	T    types.Type
}

// sysGen is what row generators read: the statement's Env and catalog.
type sysGen struct {
	env *Env
	cat *catalog.Catalog
}

var (
	sysByName = map[string]*sysTable{}
	sysByOid  = map[catalog.Oid]*sysTable{}
	sysList   []*sysTable // in oid order, once sorted
)

// registerSys adds a virtual relation. cols is "name type, name type,
// ...", types by their pg_type names ("_text" for text[]). Call it from
// init.
func registerSys(schema catalog.Oid, oid catalog.Oid, kind byte, name, cols string, rows func(g *sysGen) ([]Row, error)) {
	t := &sysTable{Oid: oid, Schema: schema, Name: name, Kind: kind, Rows: rows}
	for _, c := range strings.Split(cols, ",") {
		f := strings.Fields(c)
		info := types.LookupName(f[1])
		if info == nil {
			panic("exec: system column type " + f[1])
		}
		t.Cols = append(t.Cols, sysCol{Name: f[0], T: types.T(info.Oid)})
	}
	sysByName[sysKey(schema, name)] = t
	sysByOid[oid] = t
	sysList = append(sysList, t)
	sort.Slice(sysList, func(i, j int) bool { return sysList[i].Oid < sysList[j].Oid })
}

func sysKey(schema catalog.Oid, name string) string { return itoa(int(schema)) + "/" + name }

// emptySys is the generator of a relation that has no rows here.
func emptySys(*sysGen) ([]Row, error) { return nil, nil }

// systemRelation finds the virtual relation a FROM item names, or nil:
// a name qualified with pg_catalog or information_schema, or an
// unqualified one whose first match on the search path is one.
func (a *analyzer) systemRelation(rv *pg.RangeVar) *sysTable {
	return lookupSys(a.cat, rv.Schemaname, rv.Relname, a.searchPath())
}

func lookupSys(cat *catalog.Catalog, schema, name string, path []catalog.Oid) *sysTable {
	if schema != "" {
		s := cat.Schema(schema)
		if s == nil {
			return nil
		}
		return sysNamed(s.Oid, name)
	}
	for _, s := range path {
		if t := sysNamed(s, name); t != nil {
			return t
		}
		if cat.Relation(s, name) != nil {
			return nil
		}
	}
	return nil
}

// SysScan produces the rows of a virtual relation.
type SysScan struct {
	T     *sysTable
	Alias string
}

// Columns implements Plan.
func (s *SysScan) Columns() []Column {
	cols := make([]Column, len(s.T.Cols))
	for i, c := range s.T.Cols {
		cols[i] = Column{Name: c.Name, Type: c.T, Table: s.T.Oid, Attnum: int16(i + 1), Qualifier: s.Alias}
	}
	return cols
}

// Open implements Plan: it generates the rows from the statement's
// catalog.
func (s *SysScan) Open(ctx *EvalCtx) (Iter, error) {
	if s.T.Foreign != nil {
		rows, err := foreignRows(ctx, s.T, platform.TableQuery{})
		return &sliceIter{rows: rows}, err
	}
	cat, err := ctx.Env.Catalog()
	if err != nil {
		return nil, err
	}
	rows, err := s.T.Rows(&sysGen{env: ctx.Env, cat: cat})
	if err != nil {
		return nil, err
	}
	return &sliceIter{rows: rows}, nil
}

// Explain implements Plan.
func (s *SysScan) Explain(e *Explainer) {
	if s.Alias != s.T.Name {
		e.Node("Seq Scan on %s %s", s.T.Name, s.Alias)
		return
	}
	e.Node("Seq Scan on %s", s.T.Name)
}

// Helpers for generators.

func oidv(o catalog.Oid) any { return int64(o) }

// charv is a "char" value.
func charv(b byte) any {
	if b == 0 {
		return ""
	}
	return string(rune(b))
}

// int2Vector renders attnums as an int2vector's text ("1 2").
func int2Vector(ns []int16) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = strconv.Itoa(int(n))
	}
	return strings.Join(parts, " ")
}

// int2Array is attnums as an int2[].
func int2Array(ns []int16) *types.Array {
	elems := make([]any, len(ns))
	for i, n := range ns {
		elems[i] = int64(n)
	}
	return types.NewArray(types.OidInt2, elems)
}
