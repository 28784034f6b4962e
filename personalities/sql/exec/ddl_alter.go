package exec

import (
	"fmt"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/pgerror"
)

// alteration is one ALTER TABLE statement's work: its subcommands change
// a copy of the table and of its index list in order; then, if the
// stored rows must change (a column added with a default, a column's type
// changed, the primary key added or dropped), every row is rewritten
// under the new definition and every index rebuilt; otherwise new indexes
// are built and new NOT NULL columns checked over the rows. All of it is
// one statement: an error anywhere leaves nothing.
type alteration struct {
	a   *analyzer
	ctx *EvalCtx
	w   *catalog.Writer
	old *catalog.Object
	obj *catalog.Object
	// idxs is the table's new index list; built lists the indexes this
	// statement creates, dropped the ones it removes.
	idxs    []*catalog.Object
	built   []*catalog.Object
	dropped []*catalog.Object
	// rewrite is set when every row must be rewritten; conv computes a
	// column's new value from the old row (by attnum), checkNull lists
	// columns that became NOT NULL.
	rewrite   bool
	conv      map[int16]func(Row) (any, error)
	checkNull []int16
	// later adds CHECK and FOREIGN KEY constraints, validated over the
	// rows as rewritten.
	later []func() error
	res   *Result
}

// alterTable plans ALTER TABLE [IF EXISTS] t subcommand, ...: ADD COLUMN,
// DROP COLUMN, ALTER COLUMN TYPE / SET DEFAULT / DROP DEFAULT / SET NOT
// NULL / DROP NOT NULL, ADD CONSTRAINT (PRIMARY KEY, UNIQUE, CHECK and
// FOREIGN KEY, each validated over the existing rows) and DROP
// CONSTRAINT.
// Dropping a column a view reads is not detected (the view then fails
// when read); changing the type of a column of a table a view reads is
// refused, as Postgres refuses it for the columns the view uses.
func (a *analyzer) alterTable(st *pg.AlterTableStmt) (*planned, error) {
	tag := "ALTER " + objectTypeName(st.Objtype)
	if st.Objtype != pg.ObjectType_OBJECT_TABLE {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "%s is not supported", tag)
	}
	obj, notice, err := a.relationOf(st.Relation, catalog.RelTable, st.MissingOk)
	if err != nil {
		return nil, err
	}
	if obj == nil {
		return skipped(tag, notice), nil
	}
	return ddl(tag, func(ctx *EvalCtx, res *Result) error {
		al := &alteration{a: a, ctx: ctx, w: catalog.NewWriter(ctx.Env.Store), old: obj, obj: clone(obj), conv: map[int16]func(Row) (any, error){}, res: res}
		for _, idx := range a.cat.Indexes(obj.Oid) {
			al.idxs = append(al.idxs, clone(idx))
		}
		for _, n := range st.Cmds {
			if err := al.command(n.GetAlterTableCmd()); err != nil {
				return err
			}
		}
		return al.finish()
	}), nil
}

func (al *alteration) command(cmd *pg.AlterTableCmd) error {
	switch cmd.Subtype {
	case pg.AlterTableType_AT_AddColumn:
		return al.addColumn(cmd.Def.GetColumnDef(), cmd.MissingOk)
	case pg.AlterTableType_AT_DropColumn:
		return al.dropColumn(cmd.Name, cmd.MissingOk)
	case pg.AlterTableType_AT_ColumnDefault:
		col, err := al.column(cmd.Name)
		if err != nil {
			return err
		}
		if cmd.Def == nil {
			col.Default = ""
			return nil
		}
		if _, err := al.defaultExpr(cmd.Def, col); err != nil {
			return err
		}
		text, err := deparseExpr(cmd.Def)
		col.Default = text
		return err
	case pg.AlterTableType_AT_SetNotNull:
		col, err := al.column(cmd.Name)
		if err != nil {
			return err
		}
		if !col.NotNull {
			col.NotNull = true
			al.checkNull = append(al.checkNull, col.Num)
		}
		return nil
	case pg.AlterTableType_AT_DropNotNull:
		col, err := al.column(cmd.Name)
		if err != nil {
			return err
		}
		for _, idx := range al.idxs {
			if idx.Index.Primary && containsNum(idx.Index.Columns, col.Num) {
				return pgerror.New(pgerror.InvalidTableDefinition, "column \"%s\" is in a primary key", col.Name)
			}
		}
		col.NotNull = false
		return nil
	case pg.AlterTableType_AT_AlterColumnType:
		return al.alterType(cmd.Name, cmd.Def.GetColumnDef())
	case pg.AlterTableType_AT_AddConstraint:
		return al.addConstraint(cmd.Def.GetConstraint())
	case pg.AlterTableType_AT_DropConstraint:
		return al.dropConstraint(cmd.Name, cmd.MissingOk)
	}
	return pgerror.New(pgerror.FeatureNotSupported, "ALTER TABLE subcommand %s is not supported", strings.TrimPrefix(cmd.Subtype.String(), "AT_"))
}

func containsNum(nums []int16, n int16) bool {
	for _, x := range nums {
		if x == n {
			return true
		}
	}
	return false
}

// column finds a live column of the table being altered.
func (al *alteration) column(name string) (*catalog.Column, error) {
	col := al.obj.ColumnByName(name)
	if col == nil {
		return nil, pgerror.New(pgerror.UndefinedColumn, "column \"%s\" of relation \"%s\" does not exist", name, al.obj.Name)
	}
	return col, nil
}

// defaultExpr analyzes a default expression for col. A literal that
// does not convert is an error without a position, as ALTER TABLE
// reports it.
func (al *alteration) defaultExpr(n *pg.Node, col *catalog.Column) (Expr, error) {
	e, err := al.a.expr(n, nil)
	if err != nil {
		return nil, withoutPosition(err)
	}
	e, err = al.a.assign(e, col)
	return e, withoutPosition(err)
}

func (al *alteration) addColumn(cd *pg.ColumnDef, ifNotExists bool) error {
	if al.obj.ColumnByName(cd.Colname) != nil {
		if ifNotExists {
			al.res.Notices = append(al.res.Notices, Notice(pgerror.DuplicateColumn, "column \"%s\" of relation \"%s\" already exists, skipping", cd.Colname, al.obj.Name))
			return nil
		}
		return pgerror.New(pgerror.DuplicateColumn, "column \"%s\" of relation \"%s\" already exists", cd.Colname, al.obj.Name)
	}
	t, err := ResolveTypeName(cd.TypeName)
	if err != nil {
		return err
	}
	num := int16(len(al.obj.Columns) + 1)
	col := catalog.Column{Name: cd.Colname, Num: num, Type: t, NotNull: cd.IsNotNull}
	var fill Expr
	var constraints []*pg.Constraint
	for _, cn := range cd.Constraints {
		c := cn.GetConstraint()
		switch c.Contype {
		case pg.ConstrType_CONSTR_NOTNULL:
			col.NotNull = true
		case pg.ConstrType_CONSTR_NULL:
			col.NotNull = false
		case pg.ConstrType_CONSTR_DEFAULT:
			if fill, err = al.defaultExpr(c.RawExpr, &col); err != nil {
				return err
			}
			if col.Default, err = deparseExpr(c.RawExpr); err != nil {
				return err
			}
		case pg.ConstrType_CONSTR_PRIMARY, pg.ConstrType_CONSTR_UNIQUE:
			c.Keys = []*pg.Node{pg.MakeStrNode(cd.Colname)}
			constraints = append(constraints, c)
		case pg.ConstrType_CONSTR_CHECK, pg.ConstrType_CONSTR_FOREIGN:
			c := c
			al.later = append(al.later, func() error { return al.a.addTableConstraint(al.ctx, al.obj, c, cd.Colname) })
		default:
			return pgerror.New(pgerror.FeatureNotSupported, "column constraint %s is not supported in ALTER TABLE", strings.TrimPrefix(c.Contype.String(), "CONSTR_"))
		}
	}
	var seq *catalog.Object
	if serialType(cd.TypeName) {
		col.NotNull = true
		schema := al.a.cat.Object(al.obj.Schema)
		name := chooseRelationName(al.a.cat, schema.Oid, al.obj.Name, cd.Colname, "seq")
		if seq, err = al.a.createSequence(al.w, schema, name, t.Oid, al.obj, num); err != nil {
			return err
		}
		col.Default = fmt.Sprintf("nextval('%s'::regclass)", quoteSeqName(al.a.cat, schema, seq.Name))
		col.Sequence = seq.Oid
	}
	al.obj.Columns = append(al.obj.Columns, col)
	switch {
	case seq != nil:
		al.rewrite = true
		al.conv[num] = func(Row) (any, error) { return NextValue(al.ctx.Env.Store, seq) }
	case fill != nil:
		al.rewrite = true
		al.conv[num] = func(Row) (any, error) { return fill.Eval(al.ctx, nil) }
	}
	if col.NotNull {
		al.checkNull = append(al.checkNull, num)
	}
	for _, c := range constraints {
		if err := al.addConstraint(c); err != nil {
			return err
		}
	}
	return nil
}

func (al *alteration) dropColumn(name string, ifExists bool) error {
	col := al.obj.ColumnByName(name)
	if col == nil {
		if ifExists {
			al.res.Notices = append(al.res.Notices, Notice(pgerror.SuccessfulCompletion, "column \"%s\" of relation \"%s\" does not exist, skipping", name, al.obj.Name))
			return nil
		}
		return pgerror.New(pgerror.UndefinedColumn, "column \"%s\" of relation \"%s\" does not exist", name, al.obj.Name)
	}
	// Indexes and constraints on the column go with it.
	var keep []*catalog.Object
	for _, idx := range al.idxs {
		if containsNum(idx.Index.Columns, col.Num) {
			al.dropIndex(idx)
			continue
		}
		keep = append(keep, idx)
	}
	al.idxs = keep
	var cons []catalog.Constraint
	for _, c := range al.obj.Constraints {
		if !containsNum(c.Columns, col.Num) {
			cons = append(cons, c)
		}
	}
	al.obj.Constraints = cons
	col.Dropped = true
	col.Name = fmt.Sprintf("........pg.dropped.%d........", col.Num)
	col.NotNull, col.Default, col.Identity = false, "", 0
	return nil
}

// dropIndex removes idx from the table (a dropped primary key changes
// every row's key).
func (al *alteration) dropIndex(idx *catalog.Object) {
	for i, b := range al.built {
		if b == idx {
			al.built = append(al.built[:i], al.built[i+1:]...)
			return
		}
	}
	al.dropped = append(al.dropped, idx)
	if idx.Index.Primary {
		al.rewrite = true
	}
}

func (al *alteration) alterType(name string, cd *pg.ColumnDef) error {
	col, err := al.column(name)
	if err != nil {
		return err
	}
	t, err := ResolveTypeName(cd.TypeName)
	if err != nil {
		return err
	}
	for _, o := range al.a.cat.Objects() {
		if containsOid(o.DependsOn, al.obj.Oid) {
			return pgerror.New(pgerror.FeatureNotSupported, "cannot alter type of a column used by a view or rule").
				WithDetail("rule _RETURN on view %s depends on column \"%s\"", o.Name, col.Name)
		}
	}
	pos := -1
	for i := range al.obj.Columns {
		if al.obj.Columns[i].Num == col.Num {
			pos = i
		}
	}
	scan := &SeqScan{Table: &Table{Obj: al.obj}, Alias: al.obj.Name}
	var src Expr = &ColRef{Index: pos, T: col.Type}
	newCol := *col
	newCol.Type = t
	if cd.RawDefault != nil {
		scope := &Scope{Cols: scan.Columns(), Tables: []string{al.obj.Name}}
		if src, err = al.a.expr(cd.RawDefault, scope); err != nil {
			return withoutPosition(err)
		}
		if st := src.Type().Oid; st != t.Oid && st != 0 && !CanAssign(st, t.Oid) {
			return pgerror.New(pgerror.DatatypeMismatch, "result of USING clause for column \"%s\" cannot be cast automatically to type %s", col.Name, t).
				WithHint("You might need to add an explicit cast.")
		}
	} else if col.Type.Oid != t.Oid && !CanAssign(col.Type.Oid, t.Oid) {
		return pgerror.New(pgerror.DatatypeMismatch, "column \"%s\" cannot be cast automatically to type %s", col.Name, t).
			WithHint("You might need to specify \"USING %s::%s\".", catalog.QuoteIdent(col.Name), t)
	}
	conv, err := al.a.assign(src, &newCol)
	if err != nil {
		return withoutPosition(err)
	}
	if col.Default != "" && !CanAssign(col.Type.Oid, t.Oid) {
		return pgerror.New(pgerror.DatatypeMismatch, "default for column \"%s\" cannot be cast automatically to type %s", col.Name, t)
	}
	if prev := al.conv[col.Num]; prev != nil {
		// The column was changed before in this statement: convert its
		// value as changed.
		al.conv[col.Num] = func(r Row) (any, error) {
			v, err := prev(r)
			if err != nil {
				return nil, err
			}
			r2 := append(Row(nil), r...)
			r2[pos] = v
			return conv.Eval(al.ctx, r2)
		}
	} else {
		al.conv[col.Num] = func(r Row) (any, error) { return conv.Eval(al.ctx, r) }
	}
	col.Type = t
	al.rewrite = true
	return nil
}

func containsOid(oids []catalog.Oid, o catalog.Oid) bool {
	for _, x := range oids {
		if x == o {
			return true
		}
	}
	return false
}

// relationTaken reports whether a relation name is in use in the table's
// schema, counting this statement's changes.
func (al *alteration) relationTaken(name string) bool {
	for _, b := range al.built {
		if b.Name == name {
			return true
		}
	}
	o := al.a.cat.Relation(al.obj.Schema, name)
	if o == nil {
		return false
	}
	for _, d := range al.dropped {
		if d.Oid == o.Oid {
			return false
		}
	}
	return true
}

func (al *alteration) addConstraint(c *pg.Constraint) error {
	var kind byte
	switch c.Contype {
	case pg.ConstrType_CONSTR_PRIMARY:
		kind = 'p'
	case pg.ConstrType_CONSTR_UNIQUE:
		kind = 'u'
	case pg.ConstrType_CONSTR_CHECK, pg.ConstrType_CONSTR_FOREIGN:
		al.later = append(al.later, func() error { return al.a.addTableConstraint(al.ctx, al.obj, c, "") })
		return nil
	default:
		return pgerror.New(pgerror.FeatureNotSupported, "ALTER TABLE ADD CONSTRAINT %s is not supported", strings.TrimPrefix(c.Contype.String(), "CONSTR_"))
	}
	if len(c.Including) > 0 || c.Indexname != "" {
		return pgerror.New(pgerror.FeatureNotSupported, "INCLUDE and USING INDEX in a constraint are not supported")
	}
	cols, err := constraintColumns(al.obj, c.Keys)
	if err != nil {
		return err
	}
	if kind == 'p' {
		for _, idx := range al.idxs {
			if idx.Index.Primary {
				return pgerror.New(pgerror.InvalidTableDefinition, "multiple primary keys for table \"%s\" are not allowed", al.obj.Name)
			}
		}
		for _, num := range cols {
			if col := al.obj.Column(num); !col.NotNull {
				col.NotNull = true
				al.checkNull = append(al.checkNull, num)
			}
		}
		al.rewrite = true
	}
	name := c.Conname
	if name == "" {
		var names []string
		for _, n := range cols {
			names = append(names, al.obj.Column(n).Name)
		}
		label, sfx := strings.Join(names, "_"), "key"
		if kind == 'p' {
			label, sfx = "", "pkey"
		}
		name = chooseName(al.relationTaken, al.obj.Name, label, sfx)
	} else {
		if al.relationTaken(name) {
			return pgerror.New(pgerror.DuplicateTable, "relation \"%s\" already exists", name)
		}
		for _, other := range al.obj.Constraints {
			if other.Name == name {
				return pgerror.New(pgerror.DuplicateObject, "constraint \"%s\" for relation \"%s\" already exists", name, al.obj.Name)
			}
		}
	}
	ioid, err := al.w.NextOid()
	if err != nil {
		return err
	}
	coid, err := al.w.NextOid()
	if err != nil {
		return err
	}
	idx := &catalog.Object{Oid: ioid, Kind: "relation", Name: name, Schema: al.obj.Schema, RelKind: catalog.RelIndex, Owner: al.obj.Owner,
		Index: &catalog.Index{Columns: cols, Unique: true, Primary: kind == 'p', Table: al.obj.Oid}}
	al.idxs = append(al.idxs, idx)
	al.built = append(al.built, idx)
	al.obj.Constraints = append(al.obj.Constraints, catalog.Constraint{Name: name, Oid: coid, Kind: kind, Columns: cols, Index: ioid, Validated: true})
	return nil
}

func (al *alteration) dropConstraint(name string, ifExists bool) error {
	for i, c := range al.obj.Constraints {
		if c.Name != name {
			continue
		}
		al.obj.Constraints = append(al.obj.Constraints[:i:i], al.obj.Constraints[i+1:]...)
		var keep []*catalog.Object
		for _, idx := range al.idxs {
			if idx.Oid == c.Index {
				al.dropIndex(idx)
				continue
			}
			keep = append(keep, idx)
		}
		al.idxs = keep
		return nil
	}
	if ifExists {
		al.res.Notices = append(al.res.Notices, Notice(pgerror.SuccessfulCompletion, "constraint \"%s\" of relation \"%s\" does not exist, skipping", name, al.obj.Name))
		return nil
	}
	return pgerror.New(pgerror.UndefinedObject, "constraint \"%s\" of relation \"%s\" does not exist", name, al.obj.Name)
}

// addTableConstraint adds CHECK or FOREIGN KEY constraint c (declared on
// column, or "" for a table constraint) to table obj, checking its rows.
func (a *analyzer) addTableConstraint(ctx *EvalCtx, obj *catalog.Object, c *pg.Constraint, column string) error {
	if c.Contype == pg.ConstrType_CONSTR_CHECK {
		return a.addCheck(ctx, obj, c, true)
	}
	return a.addForeignKey(ctx, obj, c, column, true)
}

// newTable is the data access of the altered table.
func (al *alteration) newTable() *Table {
	t := &Table{Obj: al.obj, Indexes: al.idxs, prefix: tablePrefix(al.obj.Oid)}
	for _, idx := range al.idxs {
		if idx.Index.Primary {
			t.PK = idx
		}
	}
	if ns := al.a.cat.Object(al.obj.Schema); ns != nil {
		t.SchemaName = ns.Name
	}
	return t
}

// finish rewrites or checks the rows and stores the new definitions.
func (al *alteration) finish() error {
	s := al.ctx.Env.Store
	oldT := OpenTable(al.a.cat, al.old)
	newT := al.newTable()
	if al.rewrite || len(al.checkNull) > 0 || len(al.built) > 0 {
		rows, err := readAll(s, oldT)
		if err != nil {
			return err
		}
		var out []Row
		for _, r := range rows {
			nr := make(Row, newT.Width())
			copy(nr, r[:len(al.old.Columns)])
			for i, c := range al.obj.Columns {
				if c.Dropped {
					nr[i] = nil
				} else if f := al.conv[c.Num]; f != nil {
					if nr[i], err = f(r); err != nil {
						return err
					}
				}
			}
			nr[len(al.obj.Columns)] = r[len(al.old.Columns)]
			for _, num := range al.checkNull {
				if c := al.obj.Column(num); !c.Dropped && nr[newT.columnIndex(num)] == nil {
					e := pgerror.New(pgerror.NotNullViolation, "column \"%s\" of relation \"%s\" contains null values", c.Name, al.obj.Name)
					e.Column = c.Name
					return newT.errorOn(e)
				}
			}
			out = append(out, nr)
		}
		if al.rewrite {
			if err := oldT.DropData(s); err != nil {
				return err
			}
			for _, r := range out {
				if newT.PK != nil || oldT.PK != nil {
					k, err := newT.RowKey(al.ctx.Env, r)
					if err != nil {
						return err
					}
					r[len(al.obj.Columns)] = k
				}
				if err := newT.Insert(s, r); err != nil {
					return rewriteError(newT, r, err)
				}
			}
		} else {
			for _, idx := range al.built {
				for _, r := range out {
					if err := newT.insertIndex(s, idx, r, r[len(al.obj.Columns)].([]byte)); err != nil {
						return buildError(newT, idx, r, err)
					}
				}
			}
		}
	}
	for _, f := range al.later {
		if err := f(); err != nil {
			return err
		}
	}
	for _, idx := range al.dropped {
		if !al.rewrite {
			if err := deletePrefix(s, indexPrefix(idx.Oid)); err != nil {
				return err
			}
		}
		if err := al.w.Delete(idx.Oid); err != nil {
			return err
		}
	}
	for _, idx := range al.built {
		if err := al.w.Put(idx); err != nil {
			return err
		}
	}
	return al.w.Put(al.obj)
}

// rewriteError turns a unique violation met while rewriting the rows into
// the index build error Postgres gives.
func rewriteError(t *Table, r Row, err error) error {
	e := pgerror.As(err)
	if e.Code != pgerror.UniqueViolation {
		return err
	}
	for _, idx := range t.Indexes {
		if idx.Name == e.Constraint {
			return buildError(t, idx, r, err)
		}
	}
	return err
}
