// Package exec plans and executes SQL statements for the Postgres
// personality: it analyzes a statement parsed by the Postgres grammar
// (pg_query), resolves its names against the catalog, plans it (index
// scans where an index serves, joins, aggregation, sorting), and runs the
// plan against a store.Store. The relations of pg_catalog and
// information_schema are virtual (systables.go): their rows are generated
// from the statement's catalog when scanned.
//
// The same code runs in two places: on the node a client is connected to
// (reads at a synced view, and the statements of an interactive
// transaction against its overlay) and at apply on every replica (a
// statement that writes outside a transaction block). So execution is
// deterministic given the Env: no wall clock, no randomness and no map
// iteration order reach a result; now(), random() and the like come from
// the Env, which the proposer fixes and the log carries.
//
//	env := &exec.Env{Store: s, Catalogs: cache, Session: sess, Now: now, Seed: seed}
//	stmts, err := exec.Prepare(env, "SELECT * FROM t WHERE id = $1", nil)
//	res, err := exec.Execute(env, stmts[0], []any{int64(1)})
package exec

import (
	"context"
	"math/rand/v2"
	"sync"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/store"
	"hourglass/personalities/sql/types"
	"hourglass/platform"
)

// Session is the state of a client session that statements depend on.
type Session struct {
	// User is the session's role name; Database its database name.
	User     string
	Database string
	// SearchPath is search_path, as a list of schema names ("$user" for
	// the user's own).
	SearchPath []string
	// Types holds TimeZone, DateStyle, IntervalStyle,
	// extra_float_digits and bytea_output.
	Types *types.Settings
	// Settings holds the other run-time parameters by name (lower case),
	// as SHOW prints them.
	Settings map[string]string
	// BackendPID is the connection's process id (pg_backend_pid()).
	BackendPID int32
	// Sequences holds the values nextval and setval gave in this
	// session, for currval and lastval.
	Sequences SequenceValues
}

// SequenceValues are a session's sequence values: the last value nextval
// (or setval with is_called) gave each sequence, and the sequence nextval
// advanced last. The zero value holds none.
type SequenceValues struct {
	Values map[catalog.Oid]int64
	Last   catalog.Oid // 0 before any nextval
}

// note records that a sequence gave v; advanced is set for nextval (which
// lastval follows) and clear for setval.
func (sv *SequenceValues) note(seq catalog.Oid, v int64, advanced bool) {
	if sv.Values == nil {
		sv.Values = map[catalog.Oid]int64{}
	}
	sv.Values[seq] = v
	if advanced {
		sv.Last = seq
	}
}

// Merge adds the values another session recorded (a statement's, at
// apply) to sv, theirs winning.
func (sv *SequenceValues) Merge(o SequenceValues) {
	for seq, v := range o.Values {
		sv.note(seq, v, false)
	}
	if o.Last != 0 {
		sv.Last = o.Last
	}
}

// NewSession returns a session with Postgres's defaults.
func NewSession(user, database string) *Session {
	return &Session{
		User:       user,
		Database:   database,
		SearchPath: []string{"$user", "public"},
		Types:      types.DefaultSettings(),
		Settings:   map[string]string{},
	}
}

// Env is what one statement runs with.
type Env struct {
	// Store is what the statement reads and writes.
	Store store.Store
	// Catalogs caches loaded catalogs (shared by every session of a
	// node).
	Catalogs *Catalogs
	// Session is the client's session.
	Session *Session
	// Now is the statement's (or its transaction's) timestamp, fixed by
	// the proposer: now(), current_timestamp, current_date.
	Now types.Timestamp
	// Seed seeds random() and gen_random_uuid() for this statement.
	Seed uint64
	// Nextval decides a sequence's next value. At apply it advances the
	// sequence in Store; in an interactive transaction it goes through
	// the log at once (sequences are not transactional). Nil means at
	// apply, in Store.
	Nextval func(seq catalog.Oid) (int64, error)
	// SystemKeysRead counts the keys the statement read in other
	// personalities' namespaces (the system schemas' scans).
	SystemKeysRead int64
	// RowIDs numbers the new rows of tables without a primary key across
	// the statements of one transaction (each statement of a block has an
	// Env of its own, and a new random seed, but the block's timestamp),
	// so the row ids one transaction makes never repeat. Nil numbers them
	// within the statement.
	RowIDs *uint32
	// AtApply is set when the statement runs at apply on every replica.
	AtApply bool
	// Context is the client's statement context on the node the client
	// is connected to (canceled by a cancel request); nil at apply.
	// Only what waits on the client's behalf (pg_sleep) looks at it.
	Context context.Context

	rng *rand.Rand
	cat *catalog.Catalog
}

// NewRowID returns the next row number of the statement's transaction.
func (e *Env) NewRowID() uint32 {
	if e.RowIDs == nil {
		e.RowIDs = new(uint32)
	}
	n := *e.RowIDs
	*e.RowIDs = n + 1
	return n
}

// Rand returns the statement's deterministic random source.
func (e *Env) Rand() *rand.Rand {
	if e.rng == nil {
		e.rng = rand.New(rand.NewPCG(e.Seed, e.Seed^0x9e3779b97f4a7c15))
	}
	return e.rng
}

// Catalog returns the catalog the statement sees: loaded from Store (from
// the cache when Store's version was loaded before and Store holds no
// catalog change of its own).
func (e *Env) Catalog() (*catalog.Catalog, error) {
	if e.cat != nil {
		return e.cat, nil
	}
	c, err := e.Catalogs.Load(e.Store)
	if err != nil {
		return nil, err
	}
	e.cat = c
	return c, nil
}

// CatalogChanged drops the Env's catalog after DDL changed it.
func (e *Env) CatalogChanged() { e.cat = nil }

// Catalogs is a cache of catalogs by version, safe for concurrent use.
type Catalogs struct {
	mu     sync.Mutex
	latest *catalog.Catalog
	// at is the catalog version a view at a log position read: the
	// version is a function of the position, so another view at the same
	// position skips reading it (a point SELECT then reads one key).
	at struct {
		pos     platform.Position
		version uint64
		ok      bool
	}
}

// writeTracker is an overlay: it knows whether it holds a catalog change
// of its own (then its catalog is not the committed one of its version).
type writeTracker interface{ Written(key []byte) bool }

// Load returns the catalog s holds.
func (c *Catalogs) Load(s store.Store) (*catalog.Catalog, error) {
	if w, ok := s.(writeTracker); ok && w.Written(catalog.VersionKey()) {
		return catalog.Load(s, systemSchemaObjects()...)
	}
	pv, positioned := s.(store.Positioned)
	c.mu.Lock()
	latest, at := c.latest, c.at
	c.mu.Unlock()
	var v uint64
	if positioned && at.ok && at.pos == pv.Applied() {
		v = at.version
	} else {
		var err error
		if v, err = catalog.Version(s); err != nil {
			return nil, err
		}
		if positioned {
			c.mu.Lock()
			c.at.pos, c.at.version, c.at.ok = pv.Applied(), v, true
			c.mu.Unlock()
		}
	}
	if latest != nil && latest.Version == v {
		return latest, nil
	}
	cat, err := catalog.Load(s, systemSchemaObjects()...)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.latest == nil || c.latest.Version <= cat.Version {
		c.latest = cat
	}
	c.mu.Unlock()
	return cat, nil
}

// Latest returns the newest catalog loaded so far, or nil.
func (c *Catalogs) Latest() *catalog.Catalog {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.latest
}
