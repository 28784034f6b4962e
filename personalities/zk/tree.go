package zk

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"

	"hourglass/personalities/zk/jute"
	"hourglass/platform"
)

// LocalStore layout, under the router's "p/zk/" prefix:
//
//	'n' path                  -> znode (see znode.encode)
//	'c' parent 0x00 child     -> empty: the children of parent, in order
//	's' session(8)            -> session (see session.encode)
//	'd' deadline(8) session(8)-> empty: sessions by expiry, in time order
//	'e' session(8) path       -> empty: a session's ephemeral znodes
//	'r' path                  -> empty: containers and TTL znodes, to reap
const (
	prefixNode      = 'n'
	prefixChild     = 'c'
	prefixSession   = 's'
	prefixDeadline  = 'd'
	prefixEphemeral = 'e'
	prefixReap      = 'r'
)

func nodeKey(path string) []byte { return append([]byte{prefixNode}, path...) }

func childPrefix(parent string) []byte {
	k := append([]byte{prefixChild}, parent...)
	return append(k, 0)
}

func childKey(parent, child string) []byte { return append(childPrefix(parent), child...) }

func sessionKey(id int64) []byte {
	return binary.BigEndian.AppendUint64([]byte{prefixSession}, uint64(id))
}

func deadlineKey(at, id int64) []byte {
	k := binary.BigEndian.AppendUint64([]byte{prefixDeadline}, uint64(at))
	return binary.BigEndian.AppendUint64(k, uint64(id))
}

func ephemeralPrefix(id int64) []byte {
	return binary.BigEndian.AppendUint64([]byte{prefixEphemeral}, uint64(id))
}

func ephemeralKey(id int64, path string) []byte { return append(ephemeralPrefix(id), path...) }

func reapKey(path string) []byte { return append([]byte{prefixReap}, path...) }

// Special ephemeral owners, as ZooKeeper's EphemeralType encodes them: a
// container's owner is the smallest long; a TTL znode's has the top byte
// set and its time to live in the rest.
const (
	ownerContainer = -1 << 63
	ownerTTLMask   = -1 << 56 // 0xff00000000000000
	maxTTL         = 1<<40 - 1
)

func ttlOwner(ttl int64) int64 { return ownerTTLMask | ttl }

// znode is a node of the tree.
type znode struct {
	czxid, mzxid, ctime, mtime  int64
	version, cversion, aversion int32 // cversion: children created
	ephemeralOwner              int64
	pzxid                       int64
	numChildren                 int32
	acl                         []ACL
	data                        []byte
}

// stat is the znode's Stat as clients see it, which ZooKeeper derives
// from what it stores: cversion counts child creations (the sequence
// number of a sequential child) and is reported as the number of child
// changes, creations plus deletions, 2*creations - children; containers
// and TTL znodes report no ephemeral owner.
func (n *znode) stat() Stat {
	owner := int64(0)
	if n.isEphemeral() {
		owner = n.ephemeralOwner
	}
	return Stat{
		Czxid: n.czxid, Mzxid: n.mzxid, Ctime: n.ctime, Mtime: n.mtime,
		Version: n.version, Cversion: 2*n.cversion - n.numChildren, Aversion: n.aversion,
		EphemeralOwner: owner, DataLength: int32(len(n.data)),
		NumChildren: n.numChildren, Pzxid: n.pzxid,
	}
}

// stored is the znode as the store keeps it.
func (n *znode) stored() Stat {
	st := n.stat()
	st.Cversion, st.EphemeralOwner = n.cversion, n.ephemeralOwner
	return st
}

// isEphemeral reports a session's ephemeral znode (not a container or a
// TTL znode, which borrow the owner field).
func (n *znode) isEphemeral() bool {
	return n.ephemeralOwner != 0 && n.ephemeralOwner != ownerContainer && n.ephemeralOwner&ownerTTLMask != ownerTTLMask
}

func (n *znode) isContainer() bool { return n.ephemeralOwner == ownerContainer }

// ttl returns a TTL znode's time to live, or 0.
func (n *znode) ttl() int64 {
	if n.ephemeralOwner != ownerContainer && n.ephemeralOwner&ownerTTLMask == ownerTTLMask {
		return n.ephemeralOwner &^ ownerTTLMask
	}
	return 0
}

func (n *znode) encode() []byte {
	b := appendStat(nil, n.stored())
	b = appendACLs(b, n.acl)
	return jute.AppendBuffer(b, n.data)
}

var errCorrupt = errors.New("zk: corrupt record")

func decodeZnode(b []byte) (*znode, error) {
	d := jute.NewDecoder(b)
	n := &znode{
		czxid: d.Long(), mzxid: d.Long(), ctime: d.Long(), mtime: d.Long(),
		version: d.Int(), cversion: d.Int(), aversion: d.Int(), ephemeralOwner: d.Long(),
	}
	d.Int() // data length, recomputed
	n.numChildren, n.pzxid = d.Int(), d.Long()
	n.acl = decodeACLs(d)
	n.data = bytes.Clone(d.Buffer())
	if d.Err() != nil {
		return nil, errCorrupt
	}
	return n, nil
}

// session is a client session in the replicated state.
type session struct {
	timeout   int32 // negotiated, ms
	passwd    []byte
	expiresAt int64 // log time, ms
	// epoch counts the connections the session has had; its requests
	// are numbered within it (engines/sessionorder).
	epoch int32
}

func (s session) encode() []byte {
	b := jute.AppendInt(nil, s.timeout)
	b = jute.AppendBuffer(b, s.passwd)
	b = jute.AppendLong(b, s.expiresAt)
	return jute.AppendInt(b, s.epoch)
}

func decodeSession(b []byte) (session, error) {
	d := jute.NewDecoder(b)
	s := session{timeout: d.Int(), passwd: bytes.Clone(d.Buffer()), expiresAt: d.Long(), epoch: d.Int()}
	if d.Err() != nil {
		return session{}, errCorrupt
	}
	return s, nil
}

func loadSession(r platform.Reader, id int64) (session, bool, error) {
	b, ok, err := r.Get(sessionKey(id))
	if err != nil || !ok {
		return session{}, false, err
	}
	s, err := decodeSession(b)
	return s, err == nil, err
}

// loadNode reads a znode from r; nil if absent.
func loadNode(r platform.Reader, path string) (*znode, error) {
	b, ok, err := r.Get(nodeKey(path))
	if err != nil || !ok {
		return nil, err
	}
	return decodeZnode(b)
}

// children lists parent's children in order.
func children(r platform.Reader, parent string) ([]string, error) {
	lo := childPrefix(parent)
	hi := append(bytes.Clone(lo[:len(lo)-1]), 1)
	it, err := r.NewIter(lo, hi)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	out := []string{}
	for ok := it.First(); ok; ok = it.Next() {
		out = append(out, string(it.Key()[len(lo):]))
	}
	return out, it.Close()
}

// validatePath checks a path as ZooKeeper's PathUtils.validatePath does.
func validatePath(path string) bool {
	if path == "" || path[0] != '/' {
		return false
	}
	if path == "/" {
		return true
	}
	if path[len(path)-1] == '/' {
		return false
	}
	runes := []rune(path)
	for i := 1; i < len(runes); i++ {
		c, last := runes[i], runes[i-1]
		switch {
		case c == 0:
			return false
		case c == '/' && last == '/':
			return false
		case c == '.' && last == '.':
			if runes[i-2] == '/' && (i+1 == len(runes) || runes[i+1] == '/') {
				return false
			}
		case c == '.':
			if last == '/' && (i+1 == len(runes) || runes[i+1] == '/') {
				return false
			}
		case c > 0 && c <= 0x1f, c >= 0x7f && c <= 0x9f, c >= 0xd800 && c <= 0xf8ff, c >= 0xfff0 && c <= 0xffff:
			return false
		}
	}
	return true
}

// parentOf returns a valid non-root path's parent.
func parentOf(path string) string {
	i := strings.LastIndexByte(path, '/')
	if i == 0 {
		return "/"
	}
	return path[:i]
}

// childName returns the last component of a non-root path.
func childName(path string) string { return path[strings.LastIndexByte(path, '/')+1:] }
