package exec

import (
	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/pgerror"
)

// Declaring CHECK and FOREIGN KEY constraints: CREATE TABLE calls these,
// and so can ALTER TABLE ADD CONSTRAINT (validate set: the table's
// existing rows are checked).

// declareConstraint returns the step of CREATE TABLE that adds CHECK or
// FOREIGN KEY constraint c (declared on column, or "" for a table
// constraint) to the new table obj.
func (a *analyzer) declareConstraint(ctx *EvalCtx, obj *catalog.Object, c *pg.Constraint, column string) func() error {
	if c.Contype == pg.ConstrType_CONSTR_CHECK {
		return func() error { return a.addCheck(ctx, obj, c, false) }
	}
	return func() error { return a.addForeignKey(ctx, obj, c, column, false) }
}

// addCheck adds CHECK constraint c to table obj (whose catalog object the
// caller then writes; obj must be the caller's own copy, not one of a
// loaded Catalog's, which are shared). With validate, every existing row
// of obj must pass (ctx is then required).
func (a *analyzer) addCheck(ctx *EvalCtx, obj *catalog.Object, c *pg.Constraint, validate bool) error {
	t := &Table{Obj: obj, prefix: tablePrefix(obj.Oid)}
	if ns := a.cat.Object(obj.Schema); ns != nil {
		t.SchemaName = ns.Name
	}
	e, err := a.checkCondition(c.RawExpr, tableScope(t, obj.Name))
	if pe, ok := err.(*pgerror.Error); ok && pe.Position == 0 {
		if loc := nodeLocation(c.RawExpr); loc > 0 {
			pe.Position = loc
		}
	}
	if err != nil {
		return err
	}
	text, err := deparseExpr(c.RawExpr)
	if err != nil {
		return err
	}
	name := c.Conname
	if name == "" {
		var cols []string
		if vars := exprColumns(obj, c.RawExpr); len(vars) == 1 {
			cols = vars
		}
		name = chooseConstraintName(a.cat, obj.Schema, obj.Name, cols, "check", constraintNames(obj))
	} else if err := a.checkConstraintNameFree(obj, name); err != nil {
		return err
	}
	if validate {
		err := eachTableRow(ctx, t, func(r Row) error {
			if v, err := e.Eval(ctx, r); err != nil || v != false {
				return err
			}
			pe := pgerror.New(pgerror.CheckViolation, "check constraint \"%s\" of relation \"%s\" is violated by some row", name, obj.Name)
			pe.Constraint = name
			return t.errorOn(pe)
		})
		if err != nil {
			return err
		}
	}
	obj.Constraints = append(obj.Constraints, catalog.Constraint{Name: name, Kind: 'c', Check: text, Columns: columnNums(obj, exprColumns(obj, c.RawExpr)), Validated: true})
	return nil
}

// eachTableRow calls f on every row of t.
func eachTableRow(ctx *EvalCtx, t *Table, f func(Row) error) error {
	it, err := t.Scan(ctx.Env.Store, nil, nil, false)
	if err != nil {
		return err
	}
	return eachRow(it, f)
}

func columnNums(obj *catalog.Object, names []string) []int16 {
	var out []int16
	for _, n := range names {
		out = append(out, obj.ColumnByName(n).Num)
	}
	return out
}

// checkConstraintNameFree fails if obj already has a constraint name.
func (a *analyzer) checkConstraintNameFree(obj *catalog.Object, name string) error {
	for _, c := range obj.Constraints {
		if c.Name == name {
			return pgerror.New(pgerror.DuplicateObject, "constraint \"%s\" for relation \"%s\" already exists", name, obj.Name)
		}
	}
	return nil
}

// addForeignKey adds FOREIGN KEY constraint c to table obj (whose catalog
// object the caller then writes; obj must be the caller's own copy).
// column is the column a column constraint (REFERENCES) is declared on
// ("" for a table constraint).
// The referenced table may be obj itself. With validate, every existing
// row of obj must have its referenced row (ctx is then required).
func (a *analyzer) addForeignKey(ctx *EvalCtx, obj *catalog.Object, c *pg.Constraint, column string, validate bool) error {
	var names []string
	if column != "" {
		names = []string{column}
	} else {
		names = strVals(c.FkAttrs)
	}
	var cols []int16
	for _, n := range names {
		col := obj.ColumnByName(n)
		if col == nil {
			return pgerror.New(pgerror.UndefinedColumn, "column \"%s\" referenced in foreign key constraint does not exist", n)
		}
		cols = append(cols, col.Num)
	}
	ref := obj
	pk := c.Pktable
	creating := a.cat.Object(obj.Oid) == nil
	self := creating && pk.Relname == obj.Name && (pk.Schemaname == "" || a.cat.Schema(pk.Schemaname) != nil && a.cat.Schema(pk.Schemaname).Oid == obj.Schema)
	if !self {
		r, err := a.cat.Resolve(pk.Schemaname, pk.Relname, a.searchPath())
		if err != nil {
			return err
		}
		if r == nil {
			return pgerror.New(pgerror.UndefinedTable, "relation \"%s\" does not exist", qualified(pk))
		}
		if r.RelKind != catalog.RelTable {
			return pgerror.New(pgerror.WrongObjectType, "referenced relation \"%s\" is not a table", r.Name)
		}
		if r.Oid == obj.Oid {
			r = obj
		}
		ref = r
	}
	var refCols []int16
	if len(c.PkAttrs) == 0 {
		for _, k := range ref.Constraints {
			if k.Kind == 'p' {
				refCols = k.Columns
			}
		}
		if refCols == nil {
			return pgerror.New(pgerror.UndefinedObject, "there is no primary key for referenced table \"%s\"", ref.Name)
		}
	} else {
		for _, n := range strVals(c.PkAttrs) {
			col := ref.ColumnByName(n)
			if col == nil {
				return pgerror.New(pgerror.UndefinedColumn, "column \"%s\" referenced in foreign key constraint does not exist", n)
			}
			refCols = append(refCols, col.Num)
		}
	}
	if len(refCols) != len(cols) {
		return pgerror.New(pgerror.InvalidForeignKey, "number of referencing and referenced columns for foreign key disagree")
	}
	if !a.hasUniqueKey(ref, refCols) {
		return pgerror.New(pgerror.InvalidForeignKey, "there is no unique constraint matching given keys for referenced table \"%s\"", ref.Name)
	}
	name := c.Conname
	if name == "" {
		name = chooseConstraintName(a.cat, obj.Schema, obj.Name, names, "fkey", constraintNames(obj))
	} else if err := a.checkConstraintNameFree(obj, name); err != nil {
		return err
	}
	for i := range cols {
		ft, tt := obj.Column(cols[i]).Type, ref.Column(refCols[i]).Type
		if ft.Oid != tt.Oid && !CanImplicit(ft.Oid, tt.Oid) && !CanImplicit(tt.Oid, ft.Oid) {
			return pgerror.New(pgerror.DatatypeMismatch, "foreign key constraint \"%s\" cannot be implemented", name).
				WithDetail("Key columns \"%s\" and \"%s\" are of incompatible types: %s and %s.", obj.Column(cols[i]).Name, ref.Column(refCols[i]).Name, ft, tt)
		}
	}
	con := catalog.Constraint{Name: name, Kind: 'f', Columns: cols, RefTable: ref.Oid, RefColumns: refCols,
		OnDelete: fkAction(c.FkDelAction), OnUpdate: fkAction(c.FkUpdAction), Match: 's',
		Deferrable: c.Deferrable, Deferred: c.Initdeferred, Validated: true}
	if c.FkMatchtype != "" {
		con.Match = c.FkMatchtype[0]
	}
	if validate {
		fk, err := a.resolveForeignKey(obj, &con)
		if err != nil {
			return err
		}
		err = eachTableRow(ctx, fk.from, func(r Row) error { return fk.checkReferenced(ctx, r) })
		if err != nil {
			return err
		}
	}
	obj.Constraints = append(obj.Constraints, con)
	return nil
}

// hasUniqueKey reports whether table ref has a primary key or unique
// constraint (or unique index) on exactly cols.
func (a *analyzer) hasUniqueKey(ref *catalog.Object, cols []int16) bool {
	for _, k := range ref.Constraints {
		if (k.Kind == 'p' || k.Kind == 'u') && sameColumnSet(k.Columns, cols) {
			return true
		}
	}
	return uniqueIndexOn(a.cat.Indexes(ref.Oid), cols) != nil
}

func constraintNames(obj *catalog.Object) []string {
	var out []string
	for _, c := range obj.Constraints {
		out = append(out, c.Name)
	}
	return out
}

// fkAction is a foreign key action's code letter (NO ACTION if none).
func fkAction(s string) byte {
	if s == "" {
		return 'a'
	}
	return s[0]
}

// addForeignKeys adds to a DROP the foreign keys of other tables that
// reference table obj: each blocks the DROP, or with CASCADE goes (the
// referencing table stays), as Postgres's pg_depend has it.
func (d *dropPlan) addForeignKeys(obj *catalog.Object) {
	if obj.RelKind != catalog.RelTable {
		return
	}
	for _, o := range d.a.cat.Objects() {
		if o.RelKind != catalog.RelTable || o.Oid == obj.Oid || d.seen[o.Oid] {
			continue
		}
		for _, c := range o.Constraints {
			if c.Kind == 'f' && c.RefTable == obj.Oid {
				what := "constraint " + catalog.QuoteIdent(c.Name) + " on " + d.a.describeObject(o)
				d.blocked = append(d.blocked, what+" depends on "+d.a.describeObject(obj))
				d.cascaded = append(d.cascaded, "drop cascades to "+what)
				d.fkeys = append(d.fkeys, droppedKey{table: o.Oid, name: c.Name})
			}
		}
	}
}

// droppedKey is a foreign key a DROP ... CASCADE removes.
type droppedKey struct {
	table catalog.Oid
	name  string
}

// dropForeignKeys removes the foreign keys the DROP cascaded to from the
// tables that stay.
func (d *dropPlan) dropForeignKeys(w *catalog.Writer) error {
	var changed []*catalog.Object
	for _, k := range d.fkeys {
		if d.seen[k.table] {
			continue
		}
		var t *catalog.Object
		for _, c := range changed {
			if c.Oid == k.table {
				t = c
			}
		}
		if t == nil {
			cp := *d.a.cat.Object(k.table)
			t = &cp
			changed = append(changed, t)
		}
		var keep []catalog.Constraint
		for _, c := range t.Constraints {
			if c.Name != k.name {
				keep = append(keep, c)
			}
		}
		t.Constraints = keep
	}
	for _, t := range changed {
		if err := w.Put(t); err != nil {
			return err
		}
	}
	return nil
}
