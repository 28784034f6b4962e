package exec

import (
	"bytes"
	"sync"
	"sync/atomic"
	"time"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/store"
	"hourglass/personalities/sql/types"
	"hourglass/platform"
)

// System schemas: the other APIs' state as read-only views (redis.keys,
// zookeeper.znodes, ...). Each personality defines its tables over its
// own namespace (platform.Table); the node hands them to the server,
// which installs them here. A scan reads them through the statement's
// Store under store.ForeignPrefix, so it sees them at the statement's
// (or its transaction's) one view, an Overlay records what it read for
// validation, and at apply it reads the entry's own transaction.
//
// They are views of pg_class (relkind 'v') in schemas of their own, so
// that psql's \dn, \dv and \d show them, and they resolve only as FROM
// items: a write to one is refused (readOnlyView).

// foreignSet is the installed system schemas. It is replaced whole, never
// changed, so lookups read it without a lock.
type foreignSet struct {
	byName  map[string]*sysTable
	byOid   map[catalog.Oid]*sysTable
	list    []*sysTable
	schemas []*catalog.Object
}

var (
	foreign   atomic.Pointer[foreignSet]
	installMu sync.Mutex
)

// System schema OIDs: the n'th installed schema is firstSystemSchema +
// n*schemaOidStride, its tables the OIDs after it (above the catalogs'
// virtual relations, below the user's objects).
const (
	firstSystemSchema catalog.Oid = 14000
	schemaOidStride               = 100
)

// InstallSystemSchemas adds the schemas' tables as read-only views. A
// schema already installed under the same name is kept (every node of a
// process mounts the same personalities). Safe for concurrent use; the
// tables are fixed from then on.
func InstallSystemSchemas(schemas []platform.TableSchema) {
	installMu.Lock()
	defer installMu.Unlock()
	old := foreign.Load()
	next := &foreignSet{byName: map[string]*sysTable{}, byOid: map[catalog.Oid]*sysTable{}}
	if old != nil {
		for k, v := range old.byName {
			next.byName[k] = v
		}
		for k, v := range old.byOid {
			next.byOid[k] = v
		}
		next.list = append(next.list, old.list...)
		next.schemas = append(next.schemas, old.schemas...)
	}
	for _, s := range schemas {
		if len(s.Tables) >= schemaOidStride || hasSchema(next.schemas, s.Name) {
			continue
		}
		oid := firstSystemSchema + catalog.Oid(len(next.schemas)*schemaOidStride)
		next.schemas = append(next.schemas, &catalog.Object{Oid: oid, Kind: "schema", Name: s.Name, Owner: catalog.BootstrapSuperuser,
			Comment: "read-only views of the " + s.Name + " API's state"})
		for i := range s.Tables {
			pt := &s.Tables[i]
			t := &sysTable{Oid: oid + 1 + catalog.Oid(i), Schema: oid, Name: pt.Name, Kind: 'v', Foreign: pt, Mount: s.Mount}
			for _, c := range pt.Columns {
				info := types.LookupName(c.Type)
				if info == nil {
					panic("exec: system schema column type " + c.Type)
				}
				t.Cols = append(t.Cols, sysCol{Name: c.Name, T: types.T(info.Oid)})
			}
			if sysByOid[t.Oid] != nil {
				panic("exec: system schema table oid taken")
			}
			next.byName[sysKey(oid, t.Name)] = t
			next.byOid[t.Oid] = t
			next.list = append(next.list, t)
		}
	}
	foreign.Store(next)
}

func hasSchema(objs []*catalog.Object, name string) bool {
	for _, o := range objs {
		if o.Name == name {
			return true
		}
	}
	return false
}

// systemSchemaObjects are the installed schemas, for the catalog.
func systemSchemaObjects() []*catalog.Object {
	if f := foreign.Load(); f != nil {
		return f.schemas
	}
	return nil
}

// sysNamed returns the virtual relation name in schema, or nil.
func sysNamed(schema catalog.Oid, name string) *sysTable {
	if t := sysByName[sysKey(schema, name)]; t != nil {
		return t
	}
	if f := foreign.Load(); f != nil {
		return f.byName[sysKey(schema, name)]
	}
	return nil
}

// sysWithOid returns the virtual relation with oid, or nil.
func sysWithOid(oid catalog.Oid) *sysTable {
	if t := sysByOid[oid]; t != nil {
		return t
	}
	if f := foreign.Load(); f != nil {
		return f.byOid[oid]
	}
	return nil
}

// sysAll lists every virtual relation: the catalogs', then the system
// schemas', each in oid order.
func sysAll() []*sysTable {
	f := foreign.Load()
	if f == nil {
		return sysList
	}
	return append(append([]*sysTable(nil), sysList...), f.list...)
}

// IsSystemView reports whether schema.name (schema "": the first match
// on path) is a system schema's view.
func IsSystemView(cat *catalog.Catalog, schema, name string, path []catalog.Oid) bool {
	t := lookupSys(cat, schema, name, path)
	return t != nil && t.Foreign != nil
}

// readOnlyView is the error of a write to a system schema's view, in
// Postgres's words for a view that cannot be written.
func readOnlyView(t *sysTable, verb string) error {
	return pgerror.New(pgerror.ObjectNotInPrerequisiteState, "cannot %s view \"%s\"", verb, t.Name).
		WithDetail("Views of another API's state are read-only: change it through that API.")
}

// systemSchemaWrite refuses to create objects in a system schema.
func systemSchemaWrite(schema *catalog.Object) error {
	for _, o := range systemSchemaObjects() {
		if o.Oid == schema.Oid {
			return pgerror.New(pgerror.InsufficientPrivilege, "permission denied for schema %s", schema.Name).
				WithDetail("It holds read-only views of another API's state.")
		}
	}
	return nil
}

// foreignReader is a table scan's TableReader: the mount's keys through
// the statement's Store, counting the keys read.
type foreignReader struct {
	st     store.Store
	prefix []byte
	env    *Env
}

func (r *foreignReader) key(k []byte) []byte {
	return append(bytes.Clone(r.prefix), k...)
}

func (r *foreignReader) Get(key []byte) ([]byte, bool, error) {
	r.env.SystemKeysRead++
	return r.st.Get(r.key(key))
}

func (r *foreignReader) Scan(lo, hi []byte, f func(key, value []byte) bool) error {
	end := prefixEnd(r.prefix)
	if hi != nil {
		end = r.key(hi)
	}
	it, err := r.st.Scan(r.key(lo), end, false)
	if err != nil {
		return err
	}
	for it.Next() {
		r.env.SystemKeysRead++
		if !f(it.Key()[len(r.prefix):], it.Value()) {
			break
		}
	}
	return it.Close()
}

// foreignRows scans t under q and converts its rows to datums. A cancel
// request stops the scan (57014).
func foreignRows(ctx *EvalCtx, t *sysTable, q platform.TableQuery) ([]Row, error) {
	r := &foreignReader{st: ctx.Env.Store, prefix: store.ForeignPrefix(t.Mount), env: ctx.Env}
	q.Now = ctx.Env.Now.TimeOf(time.UTC).UnixMilli()
	var rows []Row
	var stop error
	err := t.Foreign.Scan(r, q, func(vals []any) bool {
		if len(rows)%1024 == 1023 {
			if stop = canceled(ctx); stop != nil {
				return false
			}
		}
		row := make(Row, len(vals))
		for i, v := range vals {
			if tm, ok := v.(time.Time); ok {
				v = types.TimestampOf(tm)
			}
			row[i] = v
		}
		rows = append(rows, row)
		return true
	})
	if err == nil {
		err = stop
	}
	return rows, err
}
