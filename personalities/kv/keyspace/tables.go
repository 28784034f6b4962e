package keyspace

import (
	"bytes"
	"encoding/binary"
	"time"

	"hourglass/platform"
)

// Tables returns the keyspace as read-only relations (the Postgres API's
// redis schema): keys, strings, hashes, lists, sets, zsets and streams
// (one row per field of each entry; groups and consumers are not shown). Redis keys
// and values are binary; each is shown twice, as text (NULL when its
// bytes are not valid UTF-8 or hold a NUL, which Postgres's text cannot
// hold) and as bytea in the column of the same name suffixed _bytes.
// Expired keys are not shown; ttl_ms counts from the query's time.
//
// Bounds on db (equality) and on key or key_bytes (ranges) become ranges
// of the 'k' records, so a query for one key or one key prefix reads only
// those records and their elements.
func Tables() []platform.Table {
	keyCols := []platform.TableColumn{{Name: "db", Type: "int4"}, {Name: "key", Type: "text"}, {Name: "key_bytes", Type: "bytea"}}
	with := func(cols ...platform.TableColumn) []platform.TableColumn {
		return append(append([]platform.TableColumn(nil), keyCols...), cols...)
	}
	text := func(name string) []platform.TableColumn {
		return []platform.TableColumn{{Name: name, Type: "text"}, {Name: name + "_bytes", Type: "bytea"}}
	}
	keys := []string{"db", "key", "key_bytes"}
	tables := []platform.Table{
		{Name: "keys", Columns: with(
			platform.TableColumn{Name: "type", Type: "text"},
			platform.TableColumn{Name: "ttl_ms", Type: "int8"},
			platform.TableColumn{Name: "expires_at", Type: "timestamptz"},
			platform.TableColumn{Name: "size", Type: "int8"},
			platform.TableColumn{Name: "version", Type: "int8"}),
			Scan: scanKeyTable},
		{Name: "strings", Columns: with(text("value")...), Scan: scanStringTable},
		{Name: "hashes", Columns: with(append(text("field"), text("value")...)...), Scan: elemTable(typeHash, nil, hashRow)},
		{Name: "lists", Columns: with(append([]platform.TableColumn{{Name: "idx", Type: "int8"}}, text("value")...)...), Scan: elemTable(typeList, nil, listRow)},
		{Name: "sets", Columns: with(text("member")...), Scan: elemTable(typeSet, nil, setRow)},
		{Name: "zsets", Columns: with(append(text("member"), platform.TableColumn{Name: "score", Type: "float8"})...), Scan: elemTable(typeZSet, []byte{zsubMember}, zsetRow)},
		{Name: "streams", Columns: with(append(append([]platform.TableColumn{{Name: "id", Type: "text"}}, text("field")...), text("value")...)...), Scan: elemTable(typeStream, []byte{subEntry}, streamRows)},
	}
	for i := range tables {
		tables[i].Keys = keys
	}
	return tables
}

// textAndBytes returns b as a text column's value and its bytea twin.
func textAndBytes(b []byte) []any { return []any{platform.TextValue(b), bytes.Clone(b)} }

// scanRecords calls f with each live record whose db and key the query's
// bounds allow (and of type typ, unless typ is 0), in db and key order,
// until f returns false.
func scanRecords(r platform.TableReader, q platform.TableQuery, typ byte, f func(db int, key []byte, rec record) (bool, error)) error {
	lo, hi, empty := q.Bytes("key")
	blo, bhi, bempty := q.Bytes("key_bytes")
	if empty || bempty {
		return nil
	}
	if string(blo) > string(lo) {
		lo = blo
	}
	if bhi != nil && (hi == nil || string(bhi) < string(hi)) {
		hi = bhi
	}
	first, last := 0, Databases-1
	if db, empty := q.Int("db"); empty {
		return nil
	} else if db != nil {
		if *db < 0 || *db >= Databases {
			return nil
		}
		first, last = int(*db), int(*db)
	}
	for db := first; db <= last; db++ {
		end := dataKey(db+1, nil)
		if hi != nil {
			end = dataKey(db, hi)
		}
		more := true
		var ferr error
		err := r.Scan(dataKey(db, lo), end, func(k, v []byte) bool {
			rec, err := decodeRecord(v)
			if err != nil {
				ferr = err
				return false
			}
			if rec.typ == typeTombstone || rec.expired(q.Now) || typ != 0 && rec.typ != typ {
				return true
			}
			// A string's payload aliases v: keep a copy.
			rec.payload = bytes.Clone(rec.payload)
			more, ferr = f(db, bytes.Clone(k[2:]), rec)
			return more && ferr == nil
		})
		if err != nil {
			return err
		}
		if ferr != nil || !more {
			return ferr
		}
	}
	return nil
}

func keyRow(db int, key []byte) []any {
	return append([]any{int64(db)}, textAndBytes(key)...)
}

func scanKeyTable(r platform.TableReader, q platform.TableQuery, emit func([]any) bool) error {
	return scanRecords(r, q, 0, func(db int, key []byte, rec record) (bool, error) {
		var ttl, at any
		if rec.expireAt != 0 {
			ttl, at = rec.expireAt-q.Now, time.UnixMilli(rec.expireAt).UTC()
		}
		size := rec.count
		if rec.typ == typeString {
			size = int64(len(rec.payload))
		}
		return emit(append(keyRow(db, key), typeName(rec.typ), ttl, at, size, int64(rec.version))), nil
	})
}

func scanStringTable(r platform.TableReader, q platform.TableQuery, emit func([]any) bool) error {
	return scanRecords(r, q, typeString, func(db int, key []byte, rec record) (bool, error) {
		return emit(append(keyRow(db, key), textAndBytes(rec.payload)...)), nil
	})
}

// elemTable returns the scan of a collection type's elements: each live
// key of type typ, then its elements under sub (a sub-key prefix), each
// made rows by rows.
func elemTable(typ byte, sub []byte, rows func(rec record, sub, v []byte) ([][]any, error)) func(platform.TableReader, platform.TableQuery, func([]any) bool) error {
	return func(r platform.TableReader, q platform.TableQuery, emit func([]any) bool) error {
		return scanRecords(r, q, typ, func(db int, key []byte, rec record) (bool, error) {
			p := elemKey(rec.gen, sub)
			skip := len(elemPrefix(rec.gen))
			more := true
			var rerr error
			err := r.Scan(p, prefixEnd(p), func(k, v []byte) bool {
				var out [][]any
				out, rerr = rows(rec, k[skip:], v)
				for _, cols := range out {
					if more = emit(append(keyRow(db, key), cols...)); !more {
						break
					}
				}
				return more && rerr == nil
			})
			if err == nil {
				err = rerr
			}
			return more, err
		})
	}
}

func hashRow(_ record, field, v []byte) ([][]any, error) {
	return [][]any{append(textAndBytes(field), textAndBytes(v)...)}, nil
}

func listRow(rec record, sub, v []byte) ([][]any, error) {
	if len(sub) != 8 {
		return nil, errCorrupt
	}
	i := int64(binary.BigEndian.Uint64(sub)^(1<<63)) - rec.head
	return [][]any{append([]any{i}, textAndBytes(v)...)}, nil
}

func setRow(_ record, member, _ []byte) ([][]any, error) {
	return [][]any{textAndBytes(member)}, nil
}

func zsetRow(_ record, sub, v []byte) ([][]any, error) {
	if len(v) != 8 {
		return nil, errCorrupt
	}
	return [][]any{append(textAndBytes(sub[1:]), decodeScore(v))}, nil
}

// streamRows is a stream entry's rows: its ID, then each field and value.
func streamRows(_ record, sub, v []byte) ([][]any, error) {
	if len(sub) != 17 {
		return nil, errCorrupt
	}
	id := string(decodeStreamID(sub[1:]).reply())
	fields, err := decodeFields(v)
	if err != nil || len(fields)%2 != 0 {
		return nil, errCorrupt
	}
	out := make([][]any, 0, len(fields)/2)
	for i := 0; i < len(fields); i += 2 {
		out = append(out, append(append([]any{id}, textAndBytes(fields[i].([]byte))...), textAndBytes(fields[i+1].([]byte))...))
	}
	return out, nil
}
