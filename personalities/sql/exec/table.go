package exec

import (
	"bytes"
	"encoding/binary"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/store"
	"hourglass/personalities/sql/types"
)

// Table data in the personality's namespace:
//
//	'r' table(4) rowkey      -> the row: a count, then each column's value
//	                            in attnum order (types row encoding)
//	'x' index(4) indexkey    -> the row's rowkey
//
// rowkey is the key encoding of the primary key's columns, or, for a table
// without one, a row id: 8 bytes of the inserting statement's timestamp,
// 4 of its row number, 4 random (from the statement's seeded source), so
// ids are unique, roughly in insertion order, and the same on every
// replica. An index key is the key encoding of the index's columns,
// followed by the rowkey unless the index is unique and no key column is
// NULL (a unique index then holds one entry per key, which is how
// uniqueness is checked).
const (
	prefixRow   = 'r'
	prefixIndex = 'x'
)

func tablePrefix(oid catalog.Oid) []byte {
	return binary.BigEndian.AppendUint32([]byte{prefixRow}, uint32(oid))
}

func indexPrefix(oid catalog.Oid) []byte {
	return binary.BigEndian.AppendUint32([]byte{prefixIndex}, uint32(oid))
}

// prefixEnd returns the first key after every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// Table is a table's data access: rows and index entries, kept in step.
// A row passed to or returned by it has one value per catalog column
// (dropped ones nil), then the row's storage key ([]byte) as a hidden
// last value.
type Table struct {
	Obj     *catalog.Object
	PK      *catalog.Object   // the primary key index, nil if none
	Indexes []*catalog.Object // every index, the primary key's included
	// SchemaName is the name of the table's schema, for errors.
	SchemaName string
	prefix     []byte
}

// OpenTable returns the data access of table obj.
func OpenTable(c *catalog.Catalog, obj *catalog.Object) *Table {
	t := &Table{Obj: obj, PK: c.PrimaryKey(obj.Oid), Indexes: c.Indexes(obj.Oid), prefix: tablePrefix(obj.Oid)}
	if ns := c.Object(obj.Schema); ns != nil {
		t.SchemaName = ns.Name
	}
	return t
}

// errorOn fills in the schema and table an error about this table names,
// as Postgres's errors carry them.
func (t *Table) errorOn(e *pgerror.Error) *pgerror.Error {
	e.Schema, e.Table = t.SchemaName, t.Obj.Name
	return e
}

// Width is the number of values in a row, the hidden key included.
func (t *Table) Width() int { return len(t.Obj.Columns) + 1 }

// columnIndex is the position in a row of the column with attnum num.
func (t *Table) columnIndex(num int16) int {
	for i, c := range t.Obj.Columns {
		if c.Num == num {
			return i
		}
	}
	return -1
}

// appendIndexKey appends the key encoding of idx's columns of row, and
// reports whether one of them is NULL.
func (t *Table) appendIndexKey(b []byte, idx *catalog.Index, row Row) ([]byte, bool, error) {
	hasNull := false
	for i, num := range idx.Columns {
		pos := t.columnIndex(num)
		v := row[pos]
		if v == nil {
			hasNull = true
		}
		desc := i < len(idx.Desc) && idx.Desc[i]
		var err error
		if b, err = types.AppendKey(b, t.Obj.Columns[pos].Type.Oid, v, desc); err != nil {
			return nil, false, err
		}
	}
	return b, hasNull, nil
}

// RowKey computes a new row's storage key: its primary key's encoding, or
// a fresh row id: the statement's (or its transaction's) timestamp, the
// row's number within the transaction (Env.NewRowID) and a random word.
// The number keeps the ids of one transaction apart whatever the random
// words; the timestamp and the random word keep transactions apart (a
// collision across transactions is a write-write conflict: the insert's
// existence check is in the read set).
func (t *Table) RowKey(env *Env, row Row) ([]byte, error) {
	if t.PK != nil {
		k, _, err := t.appendIndexKey(nil, t.PK.Index, row)
		return k, err
	}
	k := binary.BigEndian.AppendUint64(nil, uint64(env.Now)^(1<<63))
	k = binary.BigEndian.AppendUint32(k, env.NewRowID())
	return binary.BigEndian.AppendUint32(k, env.Rand().Uint32()), nil
}

func (t *Table) dataKey(rowKey []byte) []byte {
	return append(bytes.Clone(t.prefix), rowKey...)
}

func (t *Table) encodeRow(row Row) ([]byte, error) {
	b := binary.AppendUvarint(nil, uint64(len(t.Obj.Columns)))
	for i, c := range t.Obj.Columns {
		var err error
		if b, err = types.AppendValue(b, c.Type.Oid, row[i]); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// DecodeRow decodes a stored row of t, and appends rowKey as its hidden
// last value. Columns added after the row was written are NULL.
func (t *Table) DecodeRow(b, rowKey []byte) (Row, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 {
		return nil, pgerror.New(pgerror.Internal, "corrupt row in table %s", t.Obj.Name)
	}
	b = b[k:]
	row := make(Row, t.Width())
	for i, c := range t.Obj.Columns {
		if uint64(i) >= n {
			break
		}
		v, rest, err := types.DecodeValue(b, c.Type.Oid)
		if err != nil {
			return nil, err
		}
		row[i], b = v, rest
	}
	row[len(t.Obj.Columns)] = bytes.Clone(rowKey)
	return row, nil
}

// Insert stores a new row (its hidden key already set) and its index
// entries; a duplicate of a unique key fails with 23505.
func (t *Table) Insert(s store.Store, row Row) error {
	key := row[len(t.Obj.Columns)].([]byte)
	dk := t.dataKey(key)
	if _, ok, err := s.Get(dk); err != nil {
		return err
	} else if ok {
		if t.PK != nil {
			return t.uniqueViolation(t.PK, row)
		}
		return pgerror.New(pgerror.Internal, "row id collision in table %s", t.Obj.Name)
	}
	v, err := t.encodeRow(row)
	if err != nil {
		return err
	}
	if err := s.Set(dk, v); err != nil {
		return err
	}
	for _, idx := range t.Indexes {
		if idx.Index.Primary {
			continue
		}
		if err := t.insertIndex(s, idx, row, key); err != nil {
			return err
		}
	}
	return nil
}

func (t *Table) indexEntryKey(idx *catalog.Object, row Row, rowKey []byte) ([]byte, error) {
	k, hasNull, err := t.appendIndexKey(indexPrefix(idx.Oid), idx.Index, row)
	if err != nil {
		return nil, err
	}
	if !idx.Index.Unique || hasNull {
		k = append(k, rowKey...)
	}
	return k, nil
}

func (t *Table) insertIndex(s store.Store, idx *catalog.Object, row Row, rowKey []byte) error {
	k, err := t.indexEntryKey(idx, row, rowKey)
	if err != nil {
		return err
	}
	if idx.Index.Unique {
		if _, ok, err := s.Get(k); err != nil {
			return err
		} else if ok {
			return t.uniqueViolation(idx, row)
		}
	}
	return s.Set(k, rowKey)
}

// Delete removes a stored row (as read, its hidden key set) and its index
// entries.
func (t *Table) Delete(s store.Store, row Row) error {
	key := row[len(t.Obj.Columns)].([]byte)
	for _, idx := range t.Indexes {
		if idx.Index.Primary {
			continue
		}
		k, err := t.indexEntryKey(idx, row, key)
		if err != nil {
			return err
		}
		if err := s.Delete(k); err != nil {
			return err
		}
	}
	return s.Delete(t.dataKey(key))
}

// Update replaces old (as read) with row. A change of the primary key
// moves the row to its new key.
func (t *Table) Update(env *Env, s store.Store, old, row Row) error {
	oldKey := old[len(t.Obj.Columns)].([]byte)
	newKey := oldKey
	if t.PK != nil {
		k, err := t.RowKey(env, row)
		if err != nil {
			return err
		}
		newKey = k
	}
	row[len(t.Obj.Columns)] = newKey
	if !bytes.Equal(oldKey, newKey) {
		if err := t.Delete(s, old); err != nil {
			return err
		}
		return t.Insert(s, row)
	}
	for _, idx := range t.Indexes {
		if idx.Index.Primary {
			continue
		}
		ok, err := t.indexEntryKey(idx, old, oldKey)
		if err != nil {
			return err
		}
		nk, err := t.indexEntryKey(idx, row, newKey)
		if err != nil {
			return err
		}
		if bytes.Equal(ok, nk) {
			continue
		}
		if err := s.Delete(ok); err != nil {
			return err
		}
		if err := t.insertIndex(s, idx, row, newKey); err != nil {
			return err
		}
	}
	v, err := t.encodeRow(row)
	if err != nil {
		return err
	}
	return s.Set(t.dataKey(newKey), v)
}

// Get returns the row stored under rowKey, or nil.
func (t *Table) Get(s store.Store, rowKey []byte) (Row, error) {
	v, ok, err := s.Get(t.dataKey(rowKey))
	if err != nil || !ok {
		return nil, err
	}
	return t.DecodeRow(v, rowKey)
}

// keyText renders row's key of idx as Postgres's DETAILs do: the column
// names and the values, each comma-separated ("a, b" and "1, null").
func (t *Table) keyText(idx *catalog.Object, row Row) (names, vals string) {
	var ns, vs []string
	for _, num := range idx.Index.Columns {
		pos := t.columnIndex(num)
		c := t.Obj.Columns[pos]
		ns = append(ns, c.Name)
		if row[pos] == nil {
			vs = append(vs, "null")
		} else {
			vs = append(vs, types.Format(c.Type, row[pos], nil))
		}
	}
	return joinComma(ns), joinComma(vs)
}

// uniqueViolation is the 23505 error for a duplicate key of idx.
func (t *Table) uniqueViolation(idx *catalog.Object, row Row) error {
	names, vals := t.keyText(idx, row)
	e := pgerror.New(pgerror.UniqueViolation, "duplicate key value violates unique constraint \"%s\"", idx.Name).
		WithDetail("Key (%s)=(%s) already exists.", names, vals)
	e.Constraint = idx.Name
	return t.errorOn(e)
}

func joinComma(s []string) string {
	var b bytes.Buffer
	for i, x := range s {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(x)
	}
	return b.String()
}

// Scan iterates over the table's rows with storage keys in [lo, hi)
// (nil: unbounded), in key order or reversed.
func (t *Table) Scan(s store.Store, lo, hi []byte, reverse bool) (Iter, error) {
	start := t.prefix
	if lo != nil {
		start = append(bytes.Clone(t.prefix), lo...)
	}
	end := prefixEnd(t.prefix)
	if hi != nil {
		end = append(bytes.Clone(t.prefix), hi...)
	}
	it, err := s.Scan(start, end, reverse)
	if err != nil {
		return nil, err
	}
	return &tableIter{t: t, it: it}, nil
}

type tableIter struct {
	t  *Table
	it store.Iter
}

func (ti *tableIter) Next() (Row, error) {
	if !ti.it.Next() {
		return nil, nil
	}
	return ti.t.DecodeRow(ti.it.Value(), ti.it.Key()[len(ti.t.prefix):])
}

func (ti *tableIter) Close() error { return ti.it.Close() }

// DropData deletes every row and index entry of t.
func (t *Table) DropData(s store.Store) error {
	if err := deletePrefix(s, t.prefix); err != nil {
		return err
	}
	for _, idx := range t.Indexes {
		if err := deletePrefix(s, indexPrefix(idx.Oid)); err != nil {
			return err
		}
	}
	return nil
}

// deletePrefix deletes every key with prefix p.
func deletePrefix(s store.Store, p []byte) error {
	it, err := s.Scan(p, prefixEnd(p), false)
	if err != nil {
		return err
	}
	var keys [][]byte
	for it.Next() {
		keys = append(keys, bytes.Clone(it.Key()))
	}
	if err := it.Close(); err != nil {
		return err
	}
	for _, k := range keys {
		if err := s.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
