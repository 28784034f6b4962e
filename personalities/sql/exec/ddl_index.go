package exec

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/store"
)

// createIndex plans CREATE [UNIQUE] INDEX [CONCURRENTLY] [IF NOT EXISTS]
// [name] ON t [USING btree] (col [ASC|DESC] [NULLS FIRST|LAST], ...).
// Indexes are btree over plain columns: expression and partial indexes,
// INCLUDE columns, other access methods and a NULLS order other than the
// direction's default (ASC NULLS LAST, DESC NULLS FIRST) are refused with
// 0A000. CONCURRENTLY builds the index as a plain CREATE INDEX does (the
// build is one log entry, so it never blocks writers anyway).
func (a *analyzer) createIndex(is *pg.IndexStmt) (*planned, error) {
	obj, err := a.cat.Resolve(is.Relation.Schemaname, is.Relation.Relname, a.searchPath())
	if err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, pgerror.New(pgerror.UndefinedTable, "relation \"%s\" does not exist", qualified(is.Relation))
	}
	if obj.RelKind != catalog.RelTable {
		return nil, pgerror.New(pgerror.WrongObjectType, "cannot create index on relation \"%s\"", obj.Name).
			WithDetail("This operation is not supported for %ss.", strings.ToLower(relKindName(obj.RelKind)))
	}
	switch is.AccessMethod {
	case "btree", "":
	case "hash", "gist", "gin", "spgist", "brin":
		return nil, pgerror.New(pgerror.FeatureNotSupported, "access method \"%s\" is not supported", is.AccessMethod)
	default:
		return nil, pgerror.New(pgerror.UndefinedObject, "access method \"%s\" does not exist", is.AccessMethod)
	}
	if is.WhereClause != nil {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "partial indexes are not supported")
	}
	if len(is.IndexIncludingParams) > 0 {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "INCLUDE columns are not supported")
	}
	idx := &catalog.Index{Unique: is.Unique, Table: obj.Oid}
	var colNames []string
	for _, p := range is.IndexParams {
		e := p.GetIndexElem()
		if e.Expr != nil {
			return nil, pgerror.New(pgerror.FeatureNotSupported, "expression indexes are not supported")
		}
		c := obj.ColumnByName(e.Name)
		if c == nil {
			return nil, pgerror.New(pgerror.UndefinedColumn, "column \"%s\" does not exist", e.Name)
		}
		desc := e.Ordering == pg.SortByDir_SORTBY_DESC
		if e.NullsOrdering == pg.SortByNulls_SORTBY_NULLS_FIRST && !desc || e.NullsOrdering == pg.SortByNulls_SORTBY_NULLS_LAST && desc {
			return nil, pgerror.New(pgerror.FeatureNotSupported, "NULLS FIRST on an ascending (or NULLS LAST on a descending) index column is not supported")
		}
		idx.Columns = append(idx.Columns, c.Num)
		idx.Desc = append(idx.Desc, desc)
		colNames = append(colNames, c.Name)
	}
	name := is.Idxname
	if name == "" {
		name = chooseRelationName(a.cat, obj.Schema, obj.Name, strings.Join(colNames, "_"), "idx")
	} else if a.cat.Relation(obj.Schema, name) != nil {
		if is.IfNotExists {
			return &planned{run: func(*EvalCtx) (*Result, error) {
				return &Result{Tag: "CREATE INDEX", Notices: []*pgerror.Error{Notice(pgerror.DuplicateTable, "relation \"%s\" already exists, skipping", name)}}, nil
			}}, nil
		}
		return nil, pgerror.New(pgerror.DuplicateTable, "relation \"%s\" already exists", name)
	}
	return ddl("CREATE INDEX", func(ctx *EvalCtx, res *Result) error {
		w := catalog.NewWriter(ctx.Env.Store)
		oid, err := w.NextOid()
		if err != nil {
			return err
		}
		io := &catalog.Object{Oid: oid, Kind: "relation", Name: name, Schema: obj.Schema, RelKind: catalog.RelIndex, Owner: obj.Owner, Index: idx}
		if err := buildIndex(ctx.Env.Store, OpenTable(a.cat, obj), io); err != nil {
			return err
		}
		return w.Put(io)
	}), nil
}

// chooseRelationName picks a free name as Postgres's ChooseRelationName
// does: table_label_suffix truncated to 63 bytes, with 1, 2, ... added
// while the name is taken.
func chooseRelationName(cat *catalog.Catalog, schema catalog.Oid, table, label, suffix string) string {
	return chooseName(func(n string) bool { return cat.Relation(schema, n) != nil }, table, label, suffix)
}

func chooseName(taken func(string) bool, table, label, suffix string) string {
	for i := 0; ; i++ {
		sfx := suffix
		if i > 0 {
			sfx += itoa(i)
		}
		name := makeObjectName(table, label, sfx)
		if !taken(name) {
			return name
		}
	}
}

// makeObjectName joins name1_name2_label within 63 bytes, shortening the
// longer of the two names first, as Postgres's makeObjectName does.
func makeObjectName(name1, name2, label string) string {
	const max = 63
	l1, l2 := len(name1), len(name2)
	overhead := len(label) + 1
	if name2 != "" {
		overhead++
	}
	for l1+l2+overhead > max {
		if l1 > l2 {
			l1--
		} else {
			l2--
		}
	}
	out := name1[:l1]
	if name2 != "" {
		out += "_" + name2[:l2]
	}
	return out + "_" + label
}

// buildIndex writes the entries of a new index idx of t over its rows; a
// unique index over duplicated keys fails as Postgres's build does.
func buildIndex(s store.Store, t *Table, idx *catalog.Object) error {
	rows, err := readAll(s, t)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err := t.insertIndex(s, idx, r, r[len(t.Obj.Columns)].([]byte)); err != nil {
			return buildError(t, idx, r, err)
		}
	}
	return nil
}

// buildError turns a unique violation met while building idx into the
// error Postgres's index build gives.
func buildError(t *Table, idx *catalog.Object, row Row, err error) error {
	if pgerror.CodeOf(err) != pgerror.UniqueViolation {
		return err
	}
	names, vals := t.keyText(idx, row)
	e := pgerror.New(pgerror.UniqueViolation, "could not create unique index \"%s\"", idx.Name).
		WithDetail("Key (%s)=(%s) is duplicated.", names, vals)
	e.Constraint = idx.Name
	return t.errorOn(e)
}

// readAll reads every row of t, in key order.
func readAll(s store.Store, t *Table) ([]Row, error) {
	it, err := t.Scan(s, nil, nil, false)
	if err != nil {
		return nil, err
	}
	var rows []Row
	for {
		r, err := it.Next()
		if err != nil {
			it.Close()
			return nil, err
		}
		if r == nil {
			break
		}
		rows = append(rows, r)
	}
	return rows, it.Close()
}
