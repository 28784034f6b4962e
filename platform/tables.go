package platform

import (
	"bytes"
	"unicode/utf8"
)

// Tables: a personality can show its state as read-only relations that
// another personality queries (the Postgres API's system schemas redis.*
// and zookeeper.*). The owner defines its tables over its own namespace;
// the querier reads them through MountReader at its own view (or, at
// apply, its own transaction), so one query sees every personality's
// state at one log position, and a query at apply reads deterministically
// what every replica reads.

// Table is one read-only relation over a personality's namespace.
type Table struct {
	Name    string
	Columns []TableColumn
	// Keys are the columns whose bounds Scan turns into key ranges: the
	// querier hands it bounds on those only.
	Keys []string
	// Scan emits the rows of the relation that may satisfy q's bounds
	// (at least every row that does; the caller filters again), reading
	// the owner's namespace through r. A row holds one value per column,
	// in order: nil (NULL), int64 (int2, int4, int8), float64, string
	// (text), []byte (bytea), bool, or time.Time (timestamptz). emit may
	// keep the row; it returns false to stop the scan early.
	Scan func(r TableReader, q TableQuery, emit func(row []any) bool) error
}

// TextValue is b as a text column's value: nil (NULL) when Postgres's
// text cannot hold it (not valid UTF-8, or holding a NUL byte).
func TextValue(b []byte) any {
	if !utf8.Valid(b) || bytes.IndexByte(b, 0) >= 0 {
		return nil
	}
	return string(b)
}

// TableColumn is a column of a Table: its name and its Postgres type name
// ("int4", "int8", "float8", "text", "bytea", "bool", "timestamptz").
type TableColumn struct {
	Name, Type string
}

// TableQuery is what a scan is asked for.
type TableQuery struct {
	// Now is the time the state is read at (ms since the epoch): what
	// has expired by then is not shown. At apply it is fixed by the
	// proposer, so every replica shows the same.
	Now int64
	// Bounds narrow the scan: every row the query wants satisfies all
	// of them. A table uses those it can turn into key ranges of its
	// namespace and ignores the others.
	Bounds []TableBound
}

// TableBound limits one column. For a text or bytea column, the value's
// bytes lie in [Lo, Hi) (Hi nil: no upper bound). For an integer column,
// Eq, if not nil, is its only value.
type TableBound struct {
	Column string
	Lo, Hi []byte
	Eq     *int64
}

// Bytes returns the range the bounds give column (text or bytea):
// lo and hi (nil: unbounded), the intersection of every bound on it.
// empty reports that no value satisfies them all.
func (q TableQuery) Bytes(column string) (lo, hi []byte, empty bool) {
	for _, b := range q.Bounds {
		if b.Column != column || b.Eq != nil {
			continue
		}
		if lo == nil || string(b.Lo) > string(lo) {
			lo = b.Lo
		}
		if b.Hi != nil && (hi == nil || string(b.Hi) < string(hi)) {
			hi = b.Hi
		}
	}
	return lo, hi, hi != nil && string(lo) >= string(hi)
}

// Int returns the value bounds fix for an integer column, if any; empty
// reports two different values.
func (q TableQuery) Int(column string) (v *int64, empty bool) {
	for _, b := range q.Bounds {
		if b.Column != column || b.Eq == nil {
			continue
		}
		if v != nil && *v != *b.Eq {
			return v, true
		}
		v = b.Eq
	}
	return v, false
}

// Point reports whether column's range is exactly one value, and which.
func (q TableQuery) Point(column string) ([]byte, bool) {
	lo, hi, empty := q.Bytes(column)
	if empty || hi == nil || len(hi) != len(lo)+1 || hi[len(lo)] != 0 || string(hi[:len(lo)]) != string(lo) {
		return nil, false
	}
	return lo, true
}

// TableReader is what a table's scan reads: the owner's namespace at one
// state, as the querying personality sees it (which may record what is
// read, to validate a transaction). Not safe for concurrent use.
type TableReader interface {
	// Get returns a copy of key's value, and false if key is absent.
	Get(key []byte) ([]byte, bool, error)
	// Scan calls f for each key in [lo, hi) (hi nil: to the end of the
	// namespace) in order, until f returns false. key and value are
	// valid only during the call.
	Scan(lo, hi []byte, f func(key, value []byte) bool) error
}

// TableSchema is a personality's tables as a querier names them: the
// schema Name, the Mount whose namespace they read.
type TableSchema struct {
	Name   string
	Mount  string
	Tables []Table
}

// MountReader returns a read-only Reader over the namespace of the
// personality mounted as mount, at the same state as r: r is a View
// that a Mount's Sync returned, or the transaction a mount's applicator
// got at apply (reads there see the entry's earlier writes, as every
// replica does). The Reader is valid as long as r is. It returns
// ErrNoNamespace if r is neither.
func MountReader(r Reader, mount string) (Reader, error) {
	checkName(mount)
	switch x := r.(type) {
	case prefixView:
		return prefixReader{mountPrefix(mount), x.v}, nil
	case *scopedTxn:
		return prefixReader{mountPrefix(mount), x.root}, nil
	}
	return nil, ErrNoNamespace
}
