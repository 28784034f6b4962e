// Package catalog is the Postgres personality's system catalog: schemas,
// relations (tables, views, sequences, indexes), their columns and
// constraints, and roles, kept in the personality's namespace of the
// LocalStore and loaded, per catalog version, into an immutable in-memory
// Catalog that statements resolve names against.
//
// Storage (keys in the personality's namespace):
//
//	'c' oid(4)    one object, JSON-encoded (an Object)
//	'C'           the catalog version (8 bytes): every change bumps it,
//	              so a transaction that read the catalog conflicts with
//	              any DDL committed after its snapshot
//	'o'           the next OID to hand out (4 bytes)
//
// OIDs of user objects start at 16384, as in Postgres. A Catalog is built
// deterministically from the stored objects, so every replica resolves
// every name the same way at every log position.
package catalog

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/store"
	"hourglass/personalities/sql/types"
)

// Oid is an object identifier.
type Oid = types.Oid

// Well-known OIDs, as in Postgres.
const (
	PgCatalogNamespace         Oid = 11
	PublicNamespace            Oid = 2200
	InformationSchemaNamespace Oid = 13000 // fixed here; Postgres assigns it at initdb
	PgToastNamespace           Oid = 99
	BootstrapSuperuser         Oid = 10
	DatabaseOid                Oid = 16384 - 1 // the one database's oid (below user objects)
	FirstUserOid               Oid = 16384
)

// Kinds of relations (pg_class.relkind).
const (
	RelTable    = 'r'
	RelIndex    = 'i'
	RelSequence = 'S'
	RelView     = 'v'
)

// Column is one column of a relation.
type Column struct {
	Name    string     `json:"name"`
	Num     int16      `json:"num"` // attnum: 1, 2, ... (gaps where dropped)
	Type    types.Type `json:"type"`
	NotNull bool       `json:"notnull,omitempty"`
	// Default is the default expression as SQL text ("" for none).
	Default string `json:"default,omitempty"`
	// Identity is 'a' (ALWAYS), 'd' (BY DEFAULT) or 0.
	Identity byte `json:"identity,omitempty"`
	// Sequence backs a serial or identity column (0 if none).
	Sequence Oid  `json:"sequence,omitempty"`
	Dropped  bool `json:"dropped,omitempty"`
}

// Index is a btree index of a table; the primary key is one too.
type Index struct {
	Columns []int16 `json:"columns"` // attnums, in key order
	Desc    []bool  `json:"desc,omitempty"`
	Unique  bool    `json:"unique,omitempty"`
	Primary bool    `json:"primary,omitempty"`
	// Table is the indexed table.
	Table Oid `json:"table"`
}

// Constraint is a table constraint (pg_constraint).
type Constraint struct {
	Name string `json:"name"`
	Oid  Oid    `json:"oid"`
	// Kind is 'p' primary key, 'u' unique, 'c' check, 'f' foreign key,
	// 'n' not null (kept on the column in Postgres 15; unused here).
	Kind    byte    `json:"kind"`
	Columns []int16 `json:"columns,omitempty"`
	// Index backs a primary key or unique constraint.
	Index Oid `json:"index,omitempty"`
	// Check is a check constraint's expression as SQL text.
	Check string `json:"check,omitempty"`
	// A foreign key: the referenced table and columns, the actions
	// (a no action, r restrict, c cascade, n set null, d set default) and
	// the match type (s simple, f full).
	RefTable   Oid     `json:"reftable,omitempty"`
	RefColumns []int16 `json:"refcolumns,omitempty"`
	OnDelete   byte    `json:"ondelete,omitempty"`
	OnUpdate   byte    `json:"onupdate,omitempty"`
	Match      byte    `json:"match,omitempty"`
	// Deferrable and Deferred as declared (checked at statement end
	// regardless: deferring to COMMIT is not supported).
	Deferrable bool `json:"deferrable,omitempty"`
	Deferred   bool `json:"deferred,omitempty"`
	// NoInherit and validity flags as pg_constraint reports them.
	Validated bool `json:"validated"`
}

// Sequence is a sequence's definition (its current value lives apart, see
// package table).
type Sequence struct {
	Type      types.Oid `json:"type"` // int2, int4 or int8
	Start     int64     `json:"start"`
	Increment int64     `json:"increment"`
	Min       int64     `json:"min"`
	Max       int64     `json:"max"`
	Cache     int64     `json:"cache"`
	Cycle     bool      `json:"cycle,omitempty"`
	// OwnedBy is the table and column a serial or identity sequence
	// belongs to (dropped with it).
	OwnedByTable  Oid   `json:"ownedbytable,omitempty"`
	OwnedByColumn int16 `json:"ownedbycolumn,omitempty"`
}

// Object is one stored catalog object: a schema, a relation or a role.
type Object struct {
	Oid  Oid    `json:"oid"`
	Kind string `json:"kind"` // "schema", "relation", "role"
	Name string `json:"name"`
	// Schema is the namespace of a relation.
	Schema Oid `json:"schema,omitempty"`
	Owner  Oid `json:"owner,omitempty"`

	// A relation.
	RelKind     byte         `json:"relkind,omitempty"`
	Columns     []Column     `json:"columns,omitempty"`
	Constraints []Constraint `json:"constraints,omitempty"`
	Index       *Index       `json:"index,omitempty"`    // an index
	Sequence    *Sequence    `json:"sequence,omitempty"` // a sequence
	// ViewQuery is a view's defining query as SQL text.
	ViewQuery string `json:"viewquery,omitempty"`
	// DependsOn lists the relations a view reads (a normal dependency:
	// dropping one of them needs CASCADE, which drops the view too).
	DependsOn []Oid `json:"dependson,omitempty"`
	// NextRowID numbers the rows of a table without a primary key is kept
	// with its data, not here.

	// A role.
	Super      bool `json:"super,omitempty"`
	Login      bool `json:"login,omitempty"`
	CreateRole bool `json:"createrole,omitempty"`
	CreateDB   bool `json:"createdb,omitempty"`
	// NoInherit, Replication and BypassRLS are rolinherit (negated, so
	// the zero value is Postgres's default), rolreplication and
	// rolbypassrls; they are recorded, not enforced.
	NoInherit   bool   `json:"noinherit,omitempty"`
	Replication bool   `json:"replication,omitempty"`
	BypassRLS   bool   `json:"bypassrls,omitempty"`
	Password    string `json:"password,omitempty"` // a SCRAM-SHA-256 verifier, as rolpassword
	// Comment is the object's description (COMMENT ON).
	Comment string `json:"comment,omitempty"`
}

// Keys of the catalog in the personality's namespace.
var (
	keyVersion = []byte{'C'}
	keyNextOid = []byte{'o'}
)

// VersionKey returns the key of the catalog version: a store that wrote
// it holds a catalog change of its own. The caller must not modify it.
func VersionKey() []byte { return keyVersion }

func objectKey(oid Oid) []byte { return binary.BigEndian.AppendUint32([]byte{'c'}, uint32(oid)) }

// Catalog is the catalog at one version: immutable, safe for concurrent
// use.
type Catalog struct {
	Version uint64
	objects map[Oid]*Object
	// ordered lists every object by oid.
	ordered []*Object
	// names maps schema oid + "/" + name to a relation, and schema and
	// role names to their objects.
	relations map[string]*Object
	schemas   map[string]*Object
	roles     map[string]*Object
	// indexes lists each table's indexes, in oid order.
	indexes map[Oid][]*Object
}

// Version reads the catalog version s holds (0 before any DDL).
func Version(s store.Store) (uint64, error) {
	b, ok, err := s.Get(keyVersion)
	if err != nil || !ok {
		return 0, err
	}
	if len(b) != 8 {
		return 0, fmt.Errorf("catalog: version holds %d bytes", len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}

// Load reads the whole catalog from s. extra are built-in objects beyond
// the standard ones (the system schemas of the other APIs); the caller
// must not modify them.
func Load(s store.Store, extra ...*Object) (*Catalog, error) {
	v, err := Version(s)
	if err != nil {
		return nil, err
	}
	c := &Catalog{Version: v, objects: map[Oid]*Object{}}
	it, err := s.Scan([]byte{'c'}, []byte{'d'}, false)
	if err != nil {
		return nil, err
	}
	for it.Next() {
		o := &Object{}
		if err := json.Unmarshal(it.Value(), o); err != nil {
			it.Close()
			return nil, fmt.Errorf("catalog: object %x: %w", it.Key(), err)
		}
		c.objects[o.Oid] = o
		c.ordered = append(c.ordered, o)
	}
	if err := it.Close(); err != nil {
		return nil, err
	}
	for _, o := range append(builtinObjects(), extra...) {
		if c.objects[o.Oid] == nil {
			c.objects[o.Oid] = o
			c.ordered = append(c.ordered, o)
		}
	}
	sort.Slice(c.ordered, func(i, j int) bool { return c.ordered[i].Oid < c.ordered[j].Oid })
	c.index()
	return c, nil
}

// builtinObjects are the objects every catalog has: the pg_catalog,
// public and information_schema schemas, the bootstrap superuser and
// the predefined roles.
func builtinObjects() []*Object {
	objs := []*Object{
		{Oid: BootstrapSuperuser, Kind: "role", Name: "postgres", Super: true, Login: true, CreateRole: true, CreateDB: true, Replication: true, BypassRLS: true},
		{Oid: PgCatalogNamespace, Kind: "schema", Name: "pg_catalog", Owner: BootstrapSuperuser, Comment: "system catalog schema"},
		{Oid: PgToastNamespace, Kind: "schema", Name: "pg_toast", Owner: BootstrapSuperuser, Comment: "reserved schema for TOAST tables"},
		{Oid: PublicNamespace, Kind: "schema", Name: "public", Owner: DatabaseOwner, Comment: "standard public schema"},
		{Oid: InformationSchemaNamespace, Kind: "schema", Name: "information_schema", Owner: BootstrapSuperuser},
	}
	for oid, name := range predefinedRoles {
		objs = append(objs, &Object{Oid: oid, Kind: "role", Name: name})
	}
	return objs
}

// DatabaseOwner is the predefined role pg_database_owner, which owns the
// public schema.
const DatabaseOwner Oid = 6171

// predefinedRoles are Postgres 15's predefined roles (no login, no
// privileges modelled).
var predefinedRoles = map[Oid]string{
	DatabaseOwner: "pg_database_owner", 6181: "pg_read_all_data", 6182: "pg_write_all_data",
	3373: "pg_monitor", 3374: "pg_read_all_settings", 3375: "pg_read_all_stats", 3377: "pg_stat_scan_tables",
	4569: "pg_read_server_files", 4570: "pg_write_server_files", 4571: "pg_execute_server_program",
	4200: "pg_signal_backend", 4544: "pg_checkpoint",
}

func (c *Catalog) index() {
	c.relations = map[string]*Object{}
	c.schemas = map[string]*Object{}
	c.roles = map[string]*Object{}
	c.indexes = map[Oid][]*Object{}
	for _, o := range c.ordered {
		switch o.Kind {
		case "schema":
			c.schemas[o.Name] = o
		case "role":
			c.roles[o.Name] = o
		case "relation":
			c.relations[relKey(o.Schema, o.Name)] = o
			if o.RelKind == RelIndex && o.Index != nil {
				c.indexes[o.Index.Table] = append(c.indexes[o.Index.Table], o)
			}
		}
	}
}

func relKey(schema Oid, name string) string { return fmt.Sprintf("%d/%s", schema, name) }

// Object returns the object with oid, or nil.
func (c *Catalog) Object(oid Oid) *Object { return c.objects[oid] }

// Objects returns every object in oid order. The caller must not modify
// them.
func (c *Catalog) Objects() []*Object { return c.ordered }

// Schema returns the schema named name, or nil.
func (c *Catalog) Schema(name string) *Object { return c.schemas[name] }

// Role returns the role named name, or nil.
func (c *Catalog) Role(name string) *Object { return c.roles[name] }

// RolesInUse reports whether a role was created (CREATE ROLE or USER)
// beyond the built-in ones: then only roles may log in.
func (c *Catalog) RolesInUse() bool {
	for _, r := range c.roles {
		if r.Oid >= FirstUserOid {
			return true
		}
	}
	return false
}

// Relation returns the relation named name in schema, or nil.
func (c *Catalog) Relation(schema Oid, name string) *Object { return c.relations[relKey(schema, name)] }

// Indexes returns the indexes of table, in oid order.
func (c *Catalog) Indexes(table Oid) []*Object { return c.indexes[table] }

// PrimaryKey returns table's primary key index, or nil.
func (c *Catalog) PrimaryKey(table Oid) *Object {
	for _, i := range c.indexes[table] {
		if i.Index.Primary {
			return i
		}
	}
	return nil
}

// SearchPath resolves a search_path setting to schema oids: "$user" is
// the user's schema if one exists; pg_catalog comes first unless named.
func (c *Catalog) SearchPath(path []string, user string) []Oid {
	var out []Oid
	hasCatalog := false
	for _, p := range path {
		name := p
		if name == "$user" {
			name = user
		}
		if s := c.schemas[name]; s != nil {
			if s.Oid == PgCatalogNamespace {
				hasCatalog = true
			}
			out = append(out, s.Oid)
		}
	}
	if !hasCatalog {
		out = append([]Oid{PgCatalogNamespace}, out...)
	}
	return out
}

// Resolve finds a relation by (possibly qualified) name: in the named
// schema, or the first schema of searchPath that has it. It returns nil if
// there is none (a missing named schema is an error).
func (c *Catalog) Resolve(schema, name string, searchPath []Oid) (*Object, error) {
	if schema != "" {
		s := c.schemas[schema]
		if s == nil {
			return nil, pgerror.New(pgerror.InvalidSchemaName, "schema \"%s\" does not exist", schema)
		}
		return c.Relation(s.Oid, name), nil
	}
	for _, s := range searchPath {
		if o := c.Relation(s, name); o != nil {
			return o, nil
		}
	}
	return nil, nil
}

// ColumnByName returns the live column of o named name, or nil.
func (o *Object) ColumnByName(name string) *Column {
	for i := range o.Columns {
		if c := &o.Columns[i]; !c.Dropped && c.Name == name {
			return c
		}
	}
	return nil
}

// Column returns the column with attnum num, or nil.
func (o *Object) Column(num int16) *Column {
	for i := range o.Columns {
		if o.Columns[i].Num == num {
			return &o.Columns[i]
		}
	}
	return nil
}

// LiveColumns returns the columns not dropped, in attnum order.
func (o *Object) LiveColumns() []*Column {
	var out []*Column
	for i := range o.Columns {
		if !o.Columns[i].Dropped {
			out = append(out, &o.Columns[i])
		}
	}
	return out
}

// QualifiedName returns schema.name as Postgres quotes them.
func (c *Catalog) QualifiedName(o *Object) string {
	s := c.objects[o.Schema]
	if s == nil {
		return QuoteIdent(o.Name)
	}
	return QuoteIdent(s.Name) + "." + QuoteIdent(o.Name)
}

// QuoteIdent quotes an identifier if Postgres would (quote_ident).
func QuoteIdent(s string) string {
	plain := s != ""
	for i, r := range s {
		if !(r >= 'a' && r <= 'z' || r == '_' || i > 0 && (r >= '0' && r <= '9' || r == '$')) {
			plain = false
			break
		}
	}
	if plain && !isReservedKeyword(s) {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// Writer changes the catalog in a store: every change bumps the version.
type Writer struct {
	s store.Store
}

// NewWriter returns a Writer over s.
func NewWriter(s store.Store) *Writer { return &Writer{s: s} }

// NextOid hands out a new oid.
func (w *Writer) NextOid() (Oid, error) {
	b, ok, err := w.s.Get(keyNextOid)
	if err != nil {
		return 0, err
	}
	next := FirstUserOid
	if ok && len(b) == 4 {
		next = Oid(binary.BigEndian.Uint32(b))
	}
	return next, w.s.Set(keyNextOid, binary.BigEndian.AppendUint32(nil, uint32(next+1)))
}

// Put stores o (new or changed).
func (w *Writer) Put(o *Object) error {
	b, err := json.Marshal(o)
	if err != nil {
		return err
	}
	if err := w.s.Set(objectKey(o.Oid), b); err != nil {
		return err
	}
	return w.bump()
}

// Delete removes the object with oid.
func (w *Writer) Delete(oid Oid) error {
	if err := w.s.Delete(objectKey(oid)); err != nil {
		return err
	}
	return w.bump()
}

func (w *Writer) bump() error {
	v, err := Version(w.s)
	if err != nil {
		return err
	}
	return w.s.Set(keyVersion, binary.BigEndian.AppendUint64(nil, v+1))
}
