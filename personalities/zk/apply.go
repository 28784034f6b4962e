package zk

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"hourglass/engines/timekeeper"
	"hourglass/personalities/zk/jute"
	"hourglass/platform"
)

// Internal entry kinds, besides the request opcodes a write carries.
const (
	kindTouch  = 1000 // sessions seen alive: a vector of session ids
	kindTick   = 1001 // time passes: reap containers and TTL znodes
	kindResume = 1002 // a session resumes on a new connection: touch it, start its next epoch
)

// lastZxidKey holds the zxid of the last zk entry applied (8 bytes), so
// that a read knows which watch events must reach its client before its
// response.
var lastZxidKey = []byte{'z'}

// Bounds of the work one entry does besides its own.
const (
	expirePerEntry = 100
	reapPerTick    = 1000
)

// zxidOf is the zxid of the ZooKeeper transaction at: strictly
// increasing along the log, never 0.
func zxidOf(at platform.Version) int64 { return int64(at.Packed()) }

// encodeEntry is a proposal's body: what it is, for which session, with
// which identities, and the request.
func encodeEntry(kind int32, session int64, auth []ID, payload []byte) []byte {
	b := jute.AppendInt(nil, kind)
	b = jute.AppendLong(b, session)
	b = appendIDs(b, auth)
	return jute.AppendBuffer(b, payload)
}

// movedSession is a session that resumed on a new connection, in its
// new epoch.
type movedSession struct {
	id    int64
	epoch int32
}

// result is what a zk entry's apply returns to its proposer.
type result struct {
	zxid int64
	code int32
	body []byte
}

// applicator is the zk top-layer applicator. Only the apply goroutine
// uses it.
type applicator struct {
	s *Server
	// pending are the watch events of the transactions applied since the
	// last post-apply call, expired the sessions they ended, moved the
	// sessions they resumed.
	pending []event
	expired []int64
	moved   []movedSession
	// zxid is the last zxid applied.
	zxid int64
	// seeded: genesis ran (the tree's root exists from then on).
	seeded bool
}

var _ platform.EntryApplicator = (*applicator)(nil)

// seed creates the initial tree the first time this process applies.
func (a *applicator) seed(txn platform.Txn) error {
	if a.seeded {
		return nil
	}
	if err := genesis(txn); err != nil {
		return err
	}
	a.seeded = true
	return nil
}

// applied notes that the transaction zxid applied.
func (a *applicator) applied(txn platform.Txn, zxid int64) error {
	a.zxid = zxid
	a.s.firstZxid.CompareAndSwap(0, zxid)
	return txn.Set(lastZxidKey, binary.BigEndian.AppendUint64(nil, uint64(zxid)))
}

func (a *applicator) Apply(txn platform.Txn, e *platform.Entry, at platform.Version) (platform.Result, error) {
	if err := a.seed(txn); err != nil {
		return platform.Result{}, err
	}
	zxid := zxidOf(at)
	d := jute.NewDecoder(e.Body)
	kind, session, auth, payload := d.Int(), d.Long(), decodeIDs(d), d.Buffer()
	r := &result{zxid: zxid, code: errMarshallingError}
	if d.Err() == nil {
		var err error
		if r, err = a.apply(txn, kind, session, auth, payload, zxid, timekeeper.Time(e).UnixMilli()); err != nil {
			return platform.Result{}, err
		}
	}
	return platform.Result{Value: r}, a.applied(txn, zxid)
}

// ApplyEntry expires, once per log entry, the sessions whose deadline the
// log time has passed, each in its own transaction after the entry's.
func (a *applicator) ApplyEntry(txn platform.Txn, e *platform.Entry, at platform.Version) error {
	if err := a.seed(txn); err != nil {
		return err
	}
	last, err := a.expireSessions(txn, at, timekeeper.Time(e).UnixMilli())
	if err != nil || last == 0 {
		return err
	}
	return a.applied(txn, last)
}

func (a *applicator) apply(txn platform.Txn, kind int32, session int64, auth []ID, payload []byte, zxid, now int64) (*result, error) {
	d := jute.NewDecoder(payload)
	res := &result{zxid: zxid}
	switch kind {
	case opCreateSession:
		timeout, passwd := d.Int(), d.Buffer()
		if d.Err() != nil {
			res.code = errMarshallingError
			return res, nil
		}
		if _, exists, err := loadSession(txn, session); err != nil || exists {
			res.code = errNodeExists // the proposer draws another id
			return res, err
		}
		s := session0(timeout, passwd)
		s.epoch = 1
		res.body = jute.AppendInt(nil, s.epoch)
		return res, putSession(txn, session, s, now)
	case kindResume:
		s, ok, err := loadSession(txn, session)
		if err != nil || !ok {
			res.code = errSessionExpired
			return res, err
		}
		if err := txn.Delete(deadlineKey(s.expiresAt, session)); err != nil {
			return nil, err
		}
		s.epoch++
		res.body = jute.AppendInt(nil, s.epoch)
		a.moved = append(a.moved, movedSession{session, s.epoch})
		return res, putSession(txn, session, s, now)
	case opCloseSession:
		return res, a.endSession(txn, session, zxid, now)
	case kindTouch:
		n := d.Count(8)
		for range max(n, 0) {
			id := d.Long()
			s, ok, err := loadSession(txn, id)
			if err != nil {
				return nil, err
			}
			if ok {
				if err := txn.Delete(deadlineKey(s.expiresAt, id)); err != nil {
					return nil, err
				}
				if err := putSession(txn, id, s, now); err != nil {
					return nil, err
				}
			}
		}
		return res, nil
	case kindTick:
		return res, a.reap(txn, zxid, now)
	}
	// A write of a session that is gone fails.
	if _, ok, err := loadSession(txn, session); err != nil || !ok {
		res.code = errSessionExpired
		return res, err
	}
	c := newChange(txn, zxid, now, session, auth)
	c.log = a.s.log
	var ok bool
	switch kind {
	case opMulti:
		ops, code := decodeMulti(d, maxMultiOps)
		if code == errOK && d.Err() != nil {
			code = errMarshallingError
		}
		if code != errOK {
			res.code = code
			return res, nil
		}
		for _, op := range ops {
			if op.op == opGetData || op.op == opGetChildren {
				res.code = errBadArguments // reads belong in multiRead
				return res, nil
			}
		}
		var err error
		if res.body, ok, err = c.multi(ops); err != nil {
			return nil, err
		}
	default:
		req, code := decodeWrite(kind, d)
		if code != errOK {
			res.code = code
			return res, nil
		}
		var err error
		if res.body, res.code, err = c.single(kind, req); err != nil {
			return nil, err
		}
		ok = res.code == errOK
	}
	if !ok {
		return res, nil
	}
	if err := c.commit(txn); err != nil {
		return nil, err
	}
	a.pending = append(a.pending, c.events...)
	return res, nil
}

// maxMultiOps bounds one multi; a frame of jute.maxbuffer could not hold
// more operations anyway.
const maxMultiOps = 1 << 16

// decodeWrite decodes the request of a single write.
func decodeWrite(op int32, d *jute.Decoder) (any, int32) {
	var req any
	switch op {
	case opCreate, opCreate2, opCreateContainer:
		req = decodeCreate(d, false)
	case opCreateTTL:
		req = decodeCreate(d, true)
	case opDelete, opCheck:
		req = decodePathVersion(d)
	case opSetData:
		req = decodeSetData(d)
	case opSetACL:
		req = decodeSetACL(d)
	default:
		return nil, errUnimplemented
	}
	if d.Err() != nil {
		return nil, errMarshallingError
	}
	return req, errOK
}

func session0(timeout int32, passwd []byte) session {
	return session{timeout: timeout, passwd: bytes.Clone(passwd)}
}

// putSession stores a session alive as of now.
func putSession(txn platform.Txn, id int64, s session, now int64) error {
	s.expiresAt = now + int64(s.timeout)
	if err := txn.Set(sessionKey(id), s.encode()); err != nil {
		return err
	}
	return txn.Set(deadlineKey(s.expiresAt, id), nil)
}

// endSession deletes a session and its ephemeral znodes.
func (a *applicator) endSession(txn platform.Txn, id, zxid, now int64) error {
	s, ok, err := loadSession(txn, id)
	if err != nil || !ok {
		return err
	}
	var paths []string
	lo := ephemeralPrefix(id)
	it, err := txn.NewIter(lo, ephemeralPrefix(id+1))
	if err != nil {
		return err
	}
	for ok := it.First(); ok; ok = it.Next() {
		paths = append(paths, string(it.Key()[len(lo):]))
	}
	if err := it.Close(); err != nil {
		return err
	}
	c := newChange(txn, zxid, now, id, nil)
	c.log = a.s.log
	// Children before parents: an ephemeral has no children, but keep
	// the order deterministic and safe.
	for i := len(paths) - 1; i >= 0; i-- {
		if _, err := c.remove(pathVersion{path: paths[i], version: -1}, false); err != nil {
			return err
		}
	}
	if err := c.commit(txn); err != nil {
		return err
	}
	a.pending = append(a.pending, c.events...)
	a.expired = append(a.expired, id)
	if err := txn.Delete(deadlineKey(s.expiresAt, id)); err != nil {
		return err
	}
	a.s.order.End(id)
	return txn.Delete(sessionKey(id))
}

// expireSessions ends sessions whose deadline has passed in log time,
// each its own transaction from at on, and returns the zxid of the last
// (0 if none).
func (a *applicator) expireSessions(txn platform.Txn, at platform.Version, now int64) (int64, error) {
	it, err := txn.NewIter([]byte{prefixDeadline}, deadlineKey(now, 0))
	if err != nil {
		return 0, err
	}
	var ids []int64
	for ok := it.First(); ok && len(ids) < expirePerEntry; ok = it.Next() {
		k := it.Key()
		if len(k) == 17 {
			ids = append(ids, int64(binary.BigEndian.Uint64(k[9:])))
		}
	}
	if err := it.Close(); err != nil {
		return 0, err
	}
	var zxid int64
	for _, id := range ids {
		// Each expiry is its own transaction, as a closeSession is.
		zxid = zxidOf(at)
		at.Sub++
		if err := a.endSession(txn, id, zxid, now); err != nil {
			return 0, err
		}
	}
	return zxid, nil
}

// reap deletes empty containers that once had children and TTL znodes
// without children whose time to live has passed since their last
// change, as ZooKeeper's ContainerManager does.
func (a *applicator) reap(txn platform.Txn, zxid, now int64) error {
	it, err := txn.NewIter([]byte{prefixReap}, []byte{prefixReap + 1})
	if err != nil {
		return err
	}
	var paths []string
	for ok := it.First(); ok && len(paths) < reapPerTick; ok = it.Next() {
		paths = append(paths, string(it.Key()[1:]))
	}
	if err := it.Close(); err != nil {
		return err
	}
	c := newChange(txn, zxid, now, 0, nil)
	c.log = a.s.log
	for _, p := range paths {
		n, err := c.get(p)
		if err != nil {
			return err
		}
		if n == nil || n.numChildren > 0 {
			continue
		}
		if (n.isContainer() && n.cversion > 0) || (n.ttl() > 0 && now > n.mtime+n.ttl()) {
			if _, err := c.remove(pathVersion{path: p, version: -1}, false); err != nil {
				return err
			}
		}
	}
	if err := c.commit(txn); err != nil {
		return err
	}
	a.pending = append(a.pending, c.events...)
	return nil
}

// genesis creates the tree ZooKeeper starts with ("/", "/zookeeper",
// "/zookeeper/quota") the first time a zk entry is applied.
func genesis(txn platform.Txn) error {
	if _, ok, err := txn.Get(nodeKey("/")); err != nil || ok {
		return err
	}
	open := []ACL{{Perms: permAll, ID: worldAnyone}}
	nodes := []struct {
		path string
		n    *znode
	}{
		{"/", &znode{numChildren: 1, acl: open}},
		{"/zookeeper", &znode{numChildren: 2, acl: open}},
		{"/zookeeper/config", &znode{aversion: -1, acl: []ACL{{Perms: permRead, ID: worldAnyone}}}},
		{"/zookeeper/quota", &znode{acl: open}},
	}
	for _, x := range nodes {
		x.n.data = []byte{}
		if err := txn.Set(nodeKey(x.path), x.n.encode()); err != nil {
			return err
		}
		if x.path != "/" {
			if err := txn.Set(childKey(parentOf(x.path), childName(x.path)), nil); err != nil {
				return err
			}
		}
	}
	return txn.Set(countKey, jute.AppendLong(nil, int64(len(nodes))))
}

// PostApplyEntry implements platform.EntryApplicator.
func (a *applicator) PostApplyEntry(e *platform.Entry, at platform.Version) { a.PostApply(e, at) }

// PostApply delivers the watch events of what applied to this node's
// watchers, closes this node's connections of sessions that ended, and
// then lets responses that wait on them go.
func (a *applicator) PostApply(e *platform.Entry, at platform.Version) {
	if len(a.pending) > 0 {
		a.s.watches.deliver(a.pending)
		a.pending = a.pending[:0]
	}
	for _, id := range a.expired {
		a.s.sessionEnded(id)
	}
	a.expired = a.expired[:0]
	for _, m := range a.moved {
		a.s.sessionMoved(m.id, m.epoch)
	}
	a.moved = a.moved[:0]
	a.s.notified.advance(a.zxid)
}

func (r *result) String() string { return fmt.Sprintf("zxid %#x code %d", r.zxid, r.code) }
