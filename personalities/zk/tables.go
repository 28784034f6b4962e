package zk

import (
	"bytes"
	"encoding/binary"
	"time"

	"hourglass/platform"
)

// Tables returns the tree and the sessions as read-only relations (the
// Postgres API's zookeeper schema): znodes (the Stat of each znode as
// clients see it, its data as text, NULL when not valid UTF-8 or holding
// a NUL, and as bytea in data_bytes), acls (one row per ACL entry) and
// sessions.
//
// On znodes and acls, a bound on path (one path, or a range such as
// LIKE '/a/%' gives) reads only those 'n' records; parent = '/a' reads
// /a's children through the children index. On sessions, id = n reads
// one session.
func Tables() []platform.Table {
	return []platform.Table{
		{Name: "znodes", Columns: cols("path text, parent text, data text, data_bytes bytea, czxid int8, mzxid int8, ctime timestamptz, mtime timestamptz, version int4, cversion int4, aversion int4, ephemeral_owner int8, data_length int4, num_children int4, pzxid int8"),
			Keys: []string{"path", "parent"}, Scan: znodeTable(znodeRow)},
		{Name: "acls", Columns: cols("path text, scheme text, id text, perms int4"), Keys: []string{"path"}, Scan: znodeTable(aclRows)},
		{Name: "sessions", Columns: cols("id int8, timeout_ms int4, expires_at timestamptz, epoch int4, ephemerals int8"), Keys: []string{"id"}, Scan: scanSessionTable},
	}
}

// cols parses "name type, name type, ...".
func cols(s string) []platform.TableColumn {
	var out []platform.TableColumn
	for _, c := range bytes.Split([]byte(s), []byte(",")) {
		f := bytes.Fields(c)
		out = append(out, platform.TableColumn{Name: string(f[0]), Type: string(f[1])})
	}
	return out
}

func millis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func znodeRow(path string, n *znode) [][]any {
	var parent any
	if path != "/" {
		parent = parentOf(path)
	}
	st := n.stat()
	return [][]any{{path, parent, platform.TextValue(n.data), n.data, st.Czxid, st.Mzxid, millis(st.Ctime), millis(st.Mtime),
		int64(st.Version), int64(st.Cversion), int64(st.Aversion), st.EphemeralOwner,
		int64(st.DataLength), int64(st.NumChildren), st.Pzxid}}
}

func aclRows(path string, n *znode) [][]any {
	out := make([][]any, 0, len(n.acl))
	for _, a := range n.acl {
		out = append(out, []any{path, a.Scheme, a.ID.ID, int64(a.Perms)})
	}
	return out
}

// znodeTable returns the scan of a table of rows per znode: one path,
// a parent's children, a range of paths, or every znode.
func znodeTable(rows func(path string, n *znode) [][]any) func(platform.TableReader, platform.TableQuery, func([]any) bool) error {
	return func(r platform.TableReader, q platform.TableQuery, emit func([]any) bool) error {
		send := func(path string, b []byte) (bool, error) {
			n, err := decodeZnode(b)
			if err != nil {
				return false, err
			}
			for _, row := range rows(path, n) {
				if !emit(row) {
					return false, nil
				}
			}
			return true, nil
		}
		get := func(path string) (bool, error) {
			b, ok, err := r.Get(nodeKey(path))
			if err != nil || !ok {
				return err == nil, err
			}
			return send(path, b)
		}
		if p, ok := q.Point("path"); ok {
			_, err := get(string(p))
			return err
		}
		lo, hi, empty := q.Bytes("path")
		if empty {
			return nil
		}
		if parent, ok := q.Point("parent"); ok {
			// The children index, then each child's record.
			cp := childPrefix(string(parent))
			var names []string
			if err := r.Scan(cp, platform.PrefixEnd(cp), func(k, _ []byte) bool {
				names = append(names, string(k[len(cp):]))
				return true
			}); err != nil {
				return err
			}
			base := string(parent)
			if base != "/" {
				base += "/"
			}
			for _, name := range names {
				if more, err := get(base + name); err != nil || !more {
					return err
				}
			}
			return nil
		}
		end := []byte{prefixNode + 1}
		if hi != nil {
			end = nodeKey(string(hi))
		}
		var ferr error
		err := r.Scan(nodeKey(string(lo)), end, func(k, v []byte) bool {
			var more bool
			more, ferr = send(string(k[1:]), v)
			return more && ferr == nil
		})
		if err != nil {
			return err
		}
		return ferr
	}
}

func scanSessionTable(r platform.TableReader, q platform.TableQuery, emit func([]any) bool) error {
	lo, hi := sessionKey(0)[:1], []byte{prefixSession + 1}
	if id, empty := q.Int("id"); empty {
		return nil
	} else if id != nil {
		lo, hi = sessionKey(*id), append(sessionKey(*id), 0)
	}
	type row struct {
		id int64
		s  session
	}
	var rows []row
	var ferr error
	if err := r.Scan(lo, hi, func(k, v []byte) bool {
		if len(k) != 9 {
			return true
		}
		s, err := decodeSession(v)
		ferr = err
		rows = append(rows, row{int64(binary.BigEndian.Uint64(k[1:])), s})
		return err == nil
	}); err != nil {
		return err
	}
	if ferr != nil {
		return ferr
	}
	for _, x := range rows {
		var n int64
		p := ephemeralPrefix(x.id)
		if err := r.Scan(p, platform.PrefixEnd(p), func(_, _ []byte) bool { n++; return true }); err != nil {
			return err
		}
		if !emit([]any{x.id, int64(x.s.timeout), millis(x.s.expiresAt), int64(x.s.epoch), n}) {
			return nil
		}
	}
	return nil
}
