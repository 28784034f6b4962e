package exec

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/pgerror"
)

// Dependencies between catalog objects, as DROP sees them. Postgres keeps
// them in pg_depend; here they follow from the objects themselves:
//
//   - a relation depends on its schema (normal: DROP SCHEMA needs CASCADE);
//   - an index and a sequence owned by a column depend on their table
//     (automatic: they go with it, unreported);
//   - a view depends on the relations its query reads (normal).

// dependents returns the objects that depend normally on obj, in oid
// order.
func dependents(cat *catalog.Catalog, obj *catalog.Object) []*catalog.Object {
	var out []*catalog.Object
	for _, o := range cat.Objects() {
		if o.Kind != "relation" || o.Oid == obj.Oid {
			continue
		}
		switch {
		case obj.Kind == "schema":
			if o.Schema != obj.Oid || o.RelKind == catalog.RelIndex {
				continue
			}
			if o.Sequence != nil && o.Sequence.OwnedByTable != 0 {
				if t := cat.Object(o.Sequence.OwnedByTable); t != nil && t.Schema == obj.Oid {
					continue
				}
			}
			out = append(out, o)
		case obj.Kind == "relation":
			for _, d := range o.DependsOn {
				if d == obj.Oid {
					out = append(out, o)
					break
				}
			}
		}
	}
	return out
}

// describeObject names an object as Postgres's dependency messages do:
// "table t", "view s.v" (qualified when not visible on the search path).
func (a *analyzer) describeObject(o *catalog.Object) string {
	if o.Kind == "schema" {
		return "schema " + catalog.QuoteIdent(o.Name)
	}
	name := catalog.QuoteIdent(o.Name)
	if vis, _ := a.cat.Resolve("", o.Name, a.searchPath()); vis != o {
		name = catalog.QuoteIdent(a.cat.Object(o.Schema).Name) + "." + name
	}
	return strings.ToLower(relKindName(o.RelKind)) + " " + name
}

// dropPlan collects what one DROP statement removes: the named objects
// and, with CASCADE, what depends on them, each once.
type dropPlan struct {
	a       *analyzer
	cascade bool
	seen    map[catalog.Oid]bool
	order   []*catalog.Object
	// cascaded are the objects dropped only because of CASCADE, and the
	// dependency lines an error without CASCADE reports.
	cascaded []string
	blocked  []string
	// fkeys are other tables' foreign keys to dropped tables.
	fkeys []droppedKey
}

// add adds obj and (recursively) its dependents.
func (d *dropPlan) add(obj *catalog.Object, top bool) {
	if d.seen[obj.Oid] {
		return
	}
	d.seen[obj.Oid] = true
	if !top {
		d.cascaded = append(d.cascaded, "drop cascades to "+d.a.describeObject(obj))
	}
	for _, dep := range dependents(d.a.cat, obj) {
		if d.seen[dep.Oid] {
			continue
		}
		d.blocked = append(d.blocked, d.a.describeObject(dep)+" depends on "+d.a.describeObject(obj))
		d.add(dep, false)
	}
	d.addForeignKeys(obj)
	d.order = append(d.order, obj)
}

// check fails without CASCADE when dependents exist, and returns the
// NOTICE CASCADE gives.
func (d *dropPlan) check(top *catalog.Object) (*pgerror.Error, error) {
	if len(d.cascaded) == 0 {
		return nil, nil
	}
	if !d.cascade {
		return nil, pgerror.New(pgerror.DependentObjectsStillExist, "cannot drop %s because other objects depend on it", d.a.describeObject(top)).
			WithDetail("%s", strings.Join(d.blocked, "\n")).
			WithHint("Use DROP ... CASCADE to drop the dependent objects too.")
	}
	if len(d.cascaded) == 1 {
		return Notice(pgerror.SuccessfulCompletion, "%s", d.cascaded[0]), nil
	}
	return Notice(pgerror.SuccessfulCompletion, "drop cascades to %d other objects", len(d.cascaded)).WithDetail("%s", strings.Join(d.cascaded, "\n")), nil
}

// dropStmt plans DROP TABLE / VIEW / SEQUENCE / INDEX / SCHEMA.
func (a *analyzer) dropStmt(d *pg.DropStmt) (*planned, error) {
	kind := objectTypeName(d.RemoveType)
	var want byte
	switch d.RemoveType {
	case pg.ObjectType_OBJECT_TABLE:
		want = catalog.RelTable
	case pg.ObjectType_OBJECT_SEQUENCE:
		want = catalog.RelSequence
	case pg.ObjectType_OBJECT_INDEX:
		want = catalog.RelIndex
	case pg.ObjectType_OBJECT_VIEW:
		want = catalog.RelView
	case pg.ObjectType_OBJECT_SCHEMA:
	default:
		return nil, pgerror.New(pgerror.FeatureNotSupported, "DROP %s is not supported", kind)
	}
	what := strings.ToLower(kind)
	return ddl("DROP "+kind, func(ctx *EvalCtx, res *Result) error {
		dp := &dropPlan{a: a, cascade: d.Behavior == pg.DropBehavior_DROP_CASCADE, seen: map[catalog.Oid]bool{}}
		var tops []*catalog.Object
		for _, n := range d.Objects {
			var obj *catalog.Object
			var name string
			if d.RemoveType == pg.ObjectType_OBJECT_SCHEMA {
				name = strVal(n)
				if obj = a.cat.Schema(name); obj == nil {
					if d.MissingOk {
						res.Notices = append(res.Notices, Notice(pgerror.SuccessfulCompletion, "schema \"%s\" does not exist, skipping", name))
						continue
					}
					return pgerror.New(pgerror.InvalidSchemaName, "schema \"%s\" does not exist", name)
				}
				if obj.Oid < catalog.FirstUserOid && obj.Oid != catalog.PublicNamespace {
					return pgerror.New(pgerror.DependentObjectsStillExist, "cannot drop schema %s because it is required by the database system", name)
				}
			} else {
				names := strVals(n.GetList().Items)
				schema := ""
				name = names[len(names)-1]
				if len(names) > 1 {
					schema = names[len(names)-2]
				}
				if t := lookupSys(a.cat, schema, name, a.searchPath()); t != nil && t.Foreign != nil {
					return pgerror.New(pgerror.DependentObjectsStillExist, "cannot drop %s %s because it is required by the database system", what, name)
				}
				var err error
				if obj, err = a.cat.Resolve(schema, name, a.searchPath()); err != nil {
					if d.MissingOk && pgerror.CodeOf(err) == pgerror.InvalidSchemaName {
						res.Notices = append(res.Notices, Notice(pgerror.SuccessfulCompletion, "schema \"%s\" does not exist, skipping", schema))
						continue
					}
					return err
				}
				if obj == nil {
					if d.MissingOk {
						res.Notices = append(res.Notices, Notice(pgerror.SuccessfulCompletion, "%s \"%s\" does not exist, skipping", what, name))
						continue
					}
					code := pgerror.UndefinedTable
					if want == catalog.RelIndex {
						code = pgerror.UndefinedObject
					}
					return pgerror.New(code, "%s \"%s\" does not exist", what, name)
				}
				if obj.RelKind != want {
					return pgerror.New(pgerror.WrongObjectType, "\"%s\" is not a%s %s", name, article(what), what).WithHint("Use DROP %s to remove a%s %s.", relKindName(obj.RelKind), article(relKindName(obj.RelKind)), strings.ToLower(relKindName(obj.RelKind)))
				}
				if err := a.checkIndexDrop(obj); err != nil {
					return err
				}
			}
			tops = append(tops, obj)
		}
		for _, obj := range tops {
			dp.seen[obj.Oid] = true
		}
		for _, obj := range tops {
			delete(dp.seen, obj.Oid)
			dp.add(obj, true)
		}
		if len(tops) > 0 {
			notice, err := dp.check(tops[0])
			if err != nil {
				return err
			}
			if notice != nil {
				res.Notices = append(res.Notices, notice)
			}
		}
		w := catalog.NewWriter(ctx.Env.Store)
		for _, obj := range dp.order {
			if err := a.dropObject(ctx, w, obj); err != nil {
				return err
			}
		}
		return dp.dropForeignKeys(w)
	}), nil
}

// article is "n" before a word starting with a vowel ("an index").
func article(word string) string {
	if word != "" && strings.ContainsRune("aeiouAEIOU", rune(word[0])) {
		return "n"
	}
	return ""
}

// checkIndexDrop refuses to drop the index of a constraint directly.
func (a *analyzer) checkIndexDrop(obj *catalog.Object) error {
	if obj.RelKind != catalog.RelIndex {
		return nil
	}
	t := a.cat.Object(obj.Index.Table)
	for _, c := range t.Constraints {
		if c.Index == obj.Oid {
			return pgerror.New(pgerror.DependentObjectsStillExist, "cannot drop index %s because constraint %s on table %s requires it", obj.Name, c.Name, t.Name).
				WithHint("You can drop constraint %s on table %s instead.", c.Name, t.Name)
		}
	}
	return nil
}

// dropObject removes a schema or a relation with its data, its indexes
// and the sequences it owns.
func (a *analyzer) dropObject(ctx *EvalCtx, w *catalog.Writer, obj *catalog.Object) error {
	s := ctx.Env.Store
	switch obj.RelKind {
	case catalog.RelTable:
		t := OpenTable(a.cat, obj)
		if err := t.DropData(s); err != nil {
			return err
		}
		for _, idx := range t.Indexes {
			if err := w.Delete(idx.Oid); err != nil {
				return err
			}
		}
		for _, o := range a.cat.Objects() {
			if o.Sequence != nil && o.Sequence.OwnedByTable == obj.Oid {
				if err := dropSequenceState(s, o.Oid); err != nil {
					return err
				}
				if err := w.Delete(o.Oid); err != nil {
					return err
				}
			}
		}
	case catalog.RelSequence:
		if err := dropSequenceState(s, obj.Oid); err != nil {
			return err
		}
	case catalog.RelIndex:
		if err := deletePrefix(s, indexPrefix(obj.Oid)); err != nil {
			return err
		}
	}
	return w.Delete(obj.Oid)
}
