package exec

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// Constraint enforcement. Every write of a DML statement goes through a
// tableWriter, which checks NOT NULL and CHECK constraints before the row
// is stored (CHECKs in name order, as Postgres fires them), lets Table
// keep unique indexes, and queues the statement's foreign-key work: the
// checks of referencing rows written and the actions (NO ACTION,
// RESTRICT, CASCADE, SET NULL, SET DEFAULT) on rows referencing a
// referenced row deleted or changed. The queue runs at the end of the
// statement (dmlState.finish), as Postgres's RI triggers do; actions that
// write (cascades) queue more work, run in turn.
//
// Deliberate differences from Postgres: DEFERRABLE constraints are checked
// at the end of the statement like the others (not at COMMIT), and a
// referencing row is found by scanning its table (no index is used).

// dmlState is the constraint machinery of one statement: a writer per
// table it touches and the queued foreign-key work.
type dmlState struct {
	a       *analyzer
	writers map[catalog.Oid]*tableWriter
	queue   []fkEvent
}

func newDMLState(a *analyzer) *dmlState {
	return &dmlState{a: a, writers: map[catalog.Oid]*tableWriter{}}
}

// tableWriter writes one table's rows with its constraints enforced.
type tableWriter struct {
	st     *dmlState
	t      *Table
	checks []checkConstraint
	// out are the foreign keys of this table; in those of other tables
	// (or this one) that reference it.
	out []*foreignKey
	in  []*foreignKey
}

type checkConstraint struct {
	con  *catalog.Constraint
	expr Expr
}

// foreignKey is a foreign key resolved against the catalog: the
// referencing table (from) and columns, the referenced table and the
// unique index that serves its key.
type foreignKey struct {
	con      *catalog.Constraint
	from, to *Table
	// fromPos and toPos are the key's column positions in each table's
	// rows, in constraint order.
	fromPos, toPos []int
	index          *catalog.Object
}

// fkEvent is queued foreign-key work: check that row (of fk's
// referencing table) has its referenced row, or act on the rows that
// reference old (of fk's referenced table), deleted (row nil) or
// updated to row.
type fkEvent struct {
	fk       *foreignKey
	check    bool
	old, row Row
}

// writer returns the tableWriter of obj, built on first use.
func (st *dmlState) writer(obj *catalog.Object) (*tableWriter, error) {
	if w := st.writers[obj.Oid]; w != nil {
		return w, nil
	}
	w := &tableWriter{st: st, t: OpenTable(st.a.cat, obj)}
	st.writers[obj.Oid] = w
	var err error
	if w.checks, err = st.a.checkConstraints(w.t); err != nil {
		return nil, err
	}
	for i := range obj.Constraints {
		if c := &obj.Constraints[i]; c.Kind == 'f' {
			fk, err := st.a.resolveForeignKey(obj, c)
			if err != nil {
				return nil, err
			}
			w.out = append(w.out, fk)
		}
	}
	for _, o := range st.a.cat.Objects() {
		if o.RelKind != catalog.RelTable {
			continue
		}
		for i := range o.Constraints {
			if c := &o.Constraints[i]; c.Kind == 'f' && c.RefTable == obj.Oid {
				fk, err := st.a.resolveForeignKey(o, c)
				if err != nil {
					return nil, err
				}
				w.in = append(w.in, fk)
			}
		}
	}
	return w, nil
}

// checkConstraints analyzes the CHECK constraints of t, in name order.
func (a *analyzer) checkConstraints(t *Table) ([]checkConstraint, error) {
	var out []checkConstraint
	for i := range t.Obj.Constraints {
		c := &t.Obj.Constraints[i]
		if c.Kind != 'c' {
			continue
		}
		e, err := a.checkExpr(t, c.Check)
		if err != nil {
			return nil, err
		}
		out = append(out, checkConstraint{con: c, expr: e})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].con.Name < out[j].con.Name })
	return out, nil
}

// tableScope is the scope of a table's own columns (a row of t as
// Table reads it), named by alias.
func tableScope(t *Table, alias string) *Scope {
	scan := &SeqScan{Table: t, Alias: alias}
	return &Scope{Cols: scan.Columns(), Tables: []string{alias}}
}

// checkExpr analyzes a CHECK expression (SQL text) over a row of t.
func (a *analyzer) checkExpr(t *Table, text string) (Expr, error) {
	n, err := ParseExpr(text)
	if err != nil {
		return nil, err
	}
	return a.checkCondition(n, tableScope(t, t.Obj.Name))
}

// checkCondition analyzes a CHECK constraint's expression: a boolean.
func (a *analyzer) checkCondition(n *pg.Node, s *Scope) (Expr, error) {
	return a.condition(n, s, "CHECK")
}

// insert stores a new row (its hidden key set) with its constraints
// checked.
func (w *tableWriter) insert(ctx *EvalCtx, row Row) error {
	if err := w.checkRow(ctx, row); err != nil {
		return err
	}
	if err := w.t.Insert(ctx.Env.Store, row); err != nil {
		return err
	}
	for _, fk := range w.out {
		w.st.queue = append(w.st.queue, fkEvent{fk: fk, check: true, row: row})
	}
	return nil
}

// update replaces old (as read) with row, constraints checked.
func (w *tableWriter) update(ctx *EvalCtx, old, row Row) error {
	if err := w.checkRow(ctx, row); err != nil {
		return err
	}
	if err := w.t.Update(ctx.Env, ctx.Env.Store, old, row); err != nil {
		return err
	}
	for _, fk := range w.out {
		if !sameValues(fk.from, fk.fromPos, old, row) {
			w.st.queue = append(w.st.queue, fkEvent{fk: fk, check: true, row: row})
		}
	}
	for _, fk := range w.in {
		if !sameValues(fk.to, fk.toPos, old, row) {
			w.st.queue = append(w.st.queue, fkEvent{fk: fk, old: old, row: row})
		}
	}
	return nil
}

// delete removes old (as read).
func (w *tableWriter) delete(ctx *EvalCtx, old Row) error {
	if err := w.t.Delete(ctx.Env.Store, old); err != nil {
		return err
	}
	for _, fk := range w.in {
		w.st.queue = append(w.st.queue, fkEvent{fk: fk, old: old})
	}
	return nil
}

// checkRow checks a row's NOT NULL and CHECK constraints.
func (w *tableWriter) checkRow(ctx *EvalCtx, row Row) error {
	if err := checkNotNull(w.t, row); err != nil {
		return err
	}
	for _, c := range w.checks {
		v, err := c.expr.Eval(ctx, row)
		if err != nil {
			return err
		}
		if v == false {
			e := pgerror.New(pgerror.CheckViolation, "new row for relation \"%s\" violates check constraint \"%s\"", w.t.Obj.Name, c.con.Name).
				WithDetail("Failing row contains %s.", failingRow(w.t, row))
			e.Constraint = c.con.Name
			return w.t.errorOn(e)
		}
	}
	return nil
}

// sameValues reports whether rows x and y agree on the columns at pos.
func sameValues(t *Table, pos []int, x, y Row) bool {
	for _, p := range pos {
		a, b := x[p], y[p]
		if (a == nil) != (b == nil) {
			return false
		}
		if a != nil && types.Compare(t.Obj.Columns[p].Type.Oid, a, b) != 0 {
			return false
		}
	}
	return true
}

// finish runs the statement's queued foreign-key work.
func (st *dmlState) finish(ctx *EvalCtx) error {
	for i := 0; i < len(st.queue); i++ {
		ev := st.queue[i]
		var err error
		if ev.check {
			err = ev.fk.checkReferenced(ctx, ev.row)
		} else {
			err = st.act(ctx, ev)
		}
		if err != nil {
			return err
		}
	}
	st.queue = nil
	return nil
}

// keyOf returns the values of a row at pos, and whether any and all are
// NULL.
func keyOf(row Row, pos []int) ([]any, bool, bool) {
	vals := make([]any, len(pos))
	anyNull, allNull := false, true
	for i, p := range pos {
		vals[i] = row[p]
		if row[p] == nil {
			anyNull = true
		} else {
			allNull = false
		}
	}
	return vals, anyNull, allNull
}

// keyText renders "(a, b)=(1, 2)" for a key of t.
func keyText(t *Table, pos []int, row Row) string {
	var names, vals []string
	for _, p := range pos {
		c := t.Obj.Columns[p]
		names = append(names, catalog.QuoteIdent(c.Name))
		if row[p] == nil {
			vals = append(vals, "null")
		} else {
			vals = append(vals, types.Format(c.Type, row[p], nil))
		}
	}
	return "(" + strings.Join(names, ", ") + ")=(" + strings.Join(vals, ", ") + ")"
}

// checkReferenced checks that a referencing row's key is present in the
// referenced table (a key with a NULL passes under MATCH SIMPLE; MATCH
// FULL allows only all or none NULL).
func (fk *foreignKey) checkReferenced(ctx *EvalCtx, row Row) error {
	vals, anyNull, allNull := keyOf(row, fk.fromPos)
	if allNull || anyNull && fk.con.Match != 'f' {
		return nil
	}
	if anyNull {
		return fk.from.errorOn(fk.violation("insert or update on table \"%s\" violates foreign key constraint \"%s\"", fk.from.Obj.Name, fk.con.Name).
			WithDetail("MATCH FULL does not allow mixing of null and nonnull key values."))
	}
	ok, err := fk.referencedExists(ctx, vals)
	if err != nil || ok {
		return err
	}
	return fk.from.errorOn(fk.violation("insert or update on table \"%s\" violates foreign key constraint \"%s\"", fk.from.Obj.Name, fk.con.Name).
		WithDetail("Key %s is not present in table \"%s\".", keyText(fk.from, fk.fromPos, row), fk.to.Obj.Name))
}

func (fk *foreignKey) violation(format string, args ...any) *pgerror.Error {
	e := pgerror.New(pgerror.ForeignKeyViolation, format, args...)
	e.Constraint = fk.con.Name
	return e
}

// referencedExists reports whether the referenced table holds key vals
// (values of the referencing columns, in constraint order), looked up
// through the referenced key's unique index.
func (fk *foreignKey) referencedExists(ctx *EvalCtx, vals []any) (bool, error) {
	idx := fk.index.Index
	row := make(Row, fk.to.Width())
	for i, p := range fk.toPos {
		v, err := types.Cast(vals[i], fk.from.Obj.Columns[fk.fromPos[i]].Type, fk.to.Obj.Columns[p].Type, false, ctx.Env.Session.Types)
		if err != nil {
			return false, err
		}
		row[p] = v
	}
	k, _, err := fk.to.appendIndexKey(nil, idx, row)
	if err != nil {
		return false, err
	}
	if !idx.Primary {
		k = append(indexPrefix(fk.index.Oid), k...)
		_, ok, err := ctx.Env.Store.Get(k)
		return ok, err
	}
	_, ok, err := ctx.Env.Store.Get(fk.to.dataKey(k))
	return ok, err
}

// referencing returns the rows of fk's referencing table whose key
// equals the referenced key of old: through an index that leads with the
// key's columns if the table has one, else by scanning the table.
func (fk *foreignKey) referencing(ctx *EvalCtx, old Row) ([]Row, error) {
	if rows, ok, err := fk.referencingByIndex(ctx, old); ok || err != nil {
		return rows, err
	}
	it, err := fk.from.Scan(ctx.Env.Store, nil, nil, false)
	if err != nil {
		return nil, err
	}
	var out []Row
	err = eachRow(it, func(r Row) error {
		for i, p := range fk.fromPos {
			if r[p] == nil {
				return nil
			}
			tc := fk.to.Obj.Columns[fk.toPos[i]].Type
			v, err := types.Cast(r[p], fk.from.Obj.Columns[p].Type, tc, false, ctx.Env.Session.Types)
			if err != nil {
				return err
			}
			if types.Compare(tc.Oid, v, old[fk.toPos[i]]) != 0 {
				return nil
			}
		}
		out = append(out, r)
		return nil
	})
	return out, err
}

// referencingByIndex finds the referencing rows through an index of the
// referencing table whose leading columns are the key's (ok false if
// there is none).
func (fk *foreignKey) referencingByIndex(ctx *EvalCtx, old Row) ([]Row, bool, error) {
	t, s := fk.from, ctx.Env.Store
	for _, idx := range t.Indexes {
		cols := idx.Index.Columns
		if len(cols) < len(fk.fromPos) || !sameColumnSet(cols[:len(fk.fromPos)], fk.con.Columns) {
			continue
		}
		var key []byte
		for i, num := range cols[:len(fk.fromPos)] {
			j := 0
			for fk.con.Columns[j] != num {
				j++
			}
			p := fk.toPos[j]
			v, err := types.Cast(old[p], fk.to.Obj.Columns[p].Type, t.Obj.Columns[fk.fromPos[j]].Type, false, ctx.Env.Session.Types)
			if err != nil {
				return nil, false, nil // not representable: no index probe
			}
			desc := i < len(idx.Index.Desc) && idx.Index.Desc[i]
			if key, err = types.AppendKey(key, t.Obj.Columns[fk.fromPos[j]].Type.Oid, v, desc); err != nil {
				return nil, false, err
			}
		}
		if idx.Index.Primary {
			it, err := t.Scan(s, key, prefixEnd(key), false)
			if err != nil {
				return nil, false, err
			}
			var out []Row
			err = eachRow(it, func(r Row) error {
				out = append(out, r)
				return nil
			})
			return out, true, err
		}
		prefix := append(indexPrefix(idx.Oid), key...)
		it, err := s.Scan(prefix, prefixEnd(prefix), false)
		if err != nil {
			return nil, false, err
		}
		var keys [][]byte
		for it.Next() {
			keys = append(keys, bytes.Clone(it.Value()))
		}
		if err := it.Close(); err != nil {
			return nil, false, err
		}
		var out []Row
		for _, k := range keys {
			r, err := t.Get(s, k)
			if err != nil {
				return nil, false, err
			}
			if r != nil {
				out = append(out, r)
			}
		}
		return out, true, nil
	}
	return nil, false, nil
}

// act runs a foreign key's action for a referenced row deleted (ev.row
// nil) or updated.
func (st *dmlState) act(ctx *EvalCtx, ev fkEvent) error {
	fk := ev.fk
	action := fk.con.OnDelete
	if ev.row != nil {
		action = fk.con.OnUpdate
	}
	if _, anyNull, _ := keyOf(ev.old, fk.toPos); anyNull {
		return nil
	}
	if action == 'a' || action == 0 {
		// NO ACTION: fine if the key exists again by the statement's end.
		vals := make([]any, len(fk.toPos))
		for i, p := range fk.toPos {
			v, err := types.Cast(ev.old[p], fk.to.Obj.Columns[p].Type, fk.from.Obj.Columns[fk.fromPos[i]].Type, false, ctx.Env.Session.Types)
			if err != nil {
				return err
			}
			vals[i] = v
		}
		if ok, err := fk.referencedExists(ctx, vals); err != nil || ok {
			return err
		}
	}
	rows, err := fk.referencing(ctx, ev.old)
	if err != nil || len(rows) == 0 {
		return err
	}
	w, err := st.writer(fk.from.Obj)
	if err != nil {
		return err
	}
	switch action {
	case 'c':
		for _, r := range rows {
			if ev.row == nil {
				err = w.delete(ctx, r)
			} else {
				nr := append(Row(nil), r...)
				for i, p := range fk.fromPos {
					if nr[p], err = types.Cast(ev.row[fk.toPos[i]], fk.to.Obj.Columns[fk.toPos[i]].Type, fk.from.Obj.Columns[p].Type, false, ctx.Env.Session.Types); err != nil {
						return err
					}
				}
				err = w.update(ctx, r, nr)
			}
			if err != nil {
				return err
			}
		}
		return nil
	case 'n', 'd':
		var defaults []Expr
		if action == 'd' {
			if defaults, err = st.a.defaults(fk.from.Obj); err != nil {
				return err
			}
		}
		for _, r := range rows {
			nr := append(Row(nil), r...)
			for _, p := range fk.fromPos {
				nr[p] = nil
				if defaults != nil && defaults[p] != nil {
					if nr[p], err = defaults[p].Eval(ctx, nil); err != nil {
						return err
					}
				}
			}
			if err := w.update(ctx, r, nr); err != nil {
				return err
			}
		}
		if action == 'd' {
			// A default equal to the key just removed still references it.
			if rows, err = fk.referencing(ctx, ev.old); err != nil || len(rows) == 0 {
				return err
			}
			return fk.stillReferenced(ev.old)
		}
		return nil
	}
	return fk.stillReferenced(ev.old)
}

// stillReferenced is the error for a referenced row removed or changed
// while rows reference it.
func (fk *foreignKey) stillReferenced(old Row) error {
	e := fk.violation("update or delete on table \"%s\" violates foreign key constraint \"%s\" on table \"%s\"", fk.to.Obj.Name, fk.con.Name, fk.from.Obj.Name).
		WithDetail("Key %s is still referenced from table \"%s\".", keyText(fk.to, fk.toPos, old), fk.from.Obj.Name)
	return fk.from.errorOn(e)
}

// resolveForeignKey resolves constraint c of table obj.
func (a *analyzer) resolveForeignKey(obj *catalog.Object, c *catalog.Constraint) (*foreignKey, error) {
	ref := a.cat.Object(c.RefTable)
	if ref == nil {
		return nil, pgerror.New(pgerror.Internal, "foreign key %s references a missing table", c.Name)
	}
	fk := &foreignKey{con: c, from: OpenTable(a.cat, obj), to: OpenTable(a.cat, ref)}
	for _, n := range c.Columns {
		fk.fromPos = append(fk.fromPos, fk.from.columnIndex(n))
	}
	for _, n := range c.RefColumns {
		fk.toPos = append(fk.toPos, fk.to.columnIndex(n))
	}
	fk.index = uniqueIndexOn(fk.to.Indexes, c.RefColumns)
	if fk.index == nil {
		return nil, pgerror.New(pgerror.InvalidForeignKey, "there is no unique constraint matching given keys for referenced table \"%s\"", ref.Name)
	}
	return fk, nil
}

// uniqueIndexOn returns the unique index among idxs whose columns are
// exactly cols (in any order), preferring the primary key.
func uniqueIndexOn(idxs []*catalog.Object, cols []int16) *catalog.Object {
	var found *catalog.Object
	for _, idx := range idxs {
		if idx.Index.Unique && sameColumnSet(idx.Index.Columns, cols) && (found == nil || idx.Index.Primary) {
			found = idx
		}
	}
	return found
}

func sameColumnSet(x, y []int16) bool {
	if len(x) != len(y) {
		return false
	}
	for _, a := range x {
		found := false
		for _, b := range y {
			found = found || a == b
		}
		if !found {
			return false
		}
	}
	return true
}

// chooseConstraintName picks a constraint name as Postgres's
// ChooseConstraintName does: table_cols_label, with a number added
// while the name is taken by a constraint in the schema (or by taken).
func chooseConstraintName(cat *catalog.Catalog, schema catalog.Oid, table string, cols []string, label string, taken []string) string {
	base := table
	if len(cols) > 0 {
		base += "_" + strings.Join(cols, "_")
	}
	used := map[string]bool{}
	for _, n := range taken {
		used[n] = true
	}
	for _, o := range cat.Objects() {
		if o.Schema != schema {
			continue
		}
		for _, c := range o.Constraints {
			used[c.Name] = true
		}
	}
	for i := 0; ; i++ {
		suffix := label
		if i > 0 {
			suffix = fmt.Sprintf("%s%d", label, i)
		}
		name := base + "_" + suffix
		if len(name) > 63 {
			name = base[:63-len(suffix)-1] + "_" + suffix
		}
		if !used[name] {
			return name
		}
	}
}

// exprColumns lists the distinct columns of obj an expression names, in
// order of first appearance.
func exprColumns(obj *catalog.Object, n *pg.Node) []string {
	var out []string
	var walk func(x any)
	walk = func(x any) {
		switch v := x.(type) {
		case *pg.Node:
			if v == nil {
				return
			}
			if cr := v.GetColumnRef(); cr != nil {
				last := cr.Fields[len(cr.Fields)-1]
				if name := strVal(last); name != "" && obj.ColumnByName(name) != nil {
					for _, o := range out {
						if o == name {
							return
						}
					}
					out = append(out, name)
				}
				return
			}
			walkChildren(v, walk)
		}
	}
	walk(n)
	return out
}

// walkChildren calls f on each child node of n (through its protobuf
// message's fields).
func walkChildren(n *pg.Node, f func(any)) {
	msg := n.ProtoReflect()
	oneof := msg.WhichOneof(msg.Descriptor().Oneofs().Get(0))
	if oneof == nil {
		return
	}
	inner := msg.Get(oneof).Message()
	inner.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				if m, ok := l.Get(i).Message().Interface().(*pg.Node); ok {
					f(m)
				}
			}
		case fd.Message() != nil:
			if m, ok := v.Message().Interface().(*pg.Node); ok {
				f(m)
			}
		}
		return true
	})
}

// rowKeyEqual reports whether two rows have the same storage key.
func rowKeyEqual(t *Table, x, y Row) bool {
	return bytes.Equal(x[len(t.Obj.Columns)].([]byte), y[len(t.Obj.Columns)].([]byte))
}
