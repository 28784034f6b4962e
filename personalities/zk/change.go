package zk

import (
	"fmt"
	"log/slog"

	"hourglass/personalities/zk/jute"
	"hourglass/platform"
)

// change is one write at apply: the znodes it reads and changes, the
// index updates they need and the watch events they trigger, kept aside
// until every operation of the write (all of a multi's) has succeeded,
// then committed to the transaction at once. A failed write leaves no
// trace.
type change struct {
	r       platform.Reader
	zxid    int64
	now     int64 // log time, ms
	session int64
	auth    []ID
	// log, if set, receives the quota warnings.
	log *slog.Logger

	nodes  map[string]*znode // nil: deleted
	order  []string          // paths of nodes in first-change order
	idx    []idxOp
	events []event
	count  int64 // znodes created minus deleted
}

type idxOp struct {
	key []byte
	del bool
}

// event is a watch event an applied write triggers.
type event struct {
	typ  int32
	path string
	zxid int64
}

func newChange(r platform.Reader, zxid, now, session int64, auth []ID) *change {
	return &change{r: r, zxid: zxid, now: now, session: session, auth: auth, nodes: map[string]*znode{}}
}

// get returns the znode at path as the change sees it; nil if absent.
// The caller may modify it and must then set it.
func (c *change) get(path string) (*znode, error) {
	if n, ok := c.nodes[path]; ok {
		if n == nil {
			return nil, nil
		}
		cp := *n
		return &cp, nil
	}
	return loadNode(c.r, path)
}

func (c *change) set(path string, n *znode) {
	if _, ok := c.nodes[path]; !ok {
		c.order = append(c.order, path)
	}
	c.nodes[path] = n
}

func (c *change) index(key []byte, del bool) { c.idx = append(c.idx, idxOp{key, del}) }

func (c *change) trigger(typ int32, path string) {
	c.events = append(c.events, event{typ, path, c.zxid})
}

// commit writes the change to the transaction.
func (c *change) commit(w platform.Txn) error {
	if c.count != 0 {
		n, err := nodeCount(w)
		if err != nil {
			return err
		}
		if err := w.Set(countKey, jute.AppendLong(nil, n+c.count)); err != nil {
			return err
		}
	}
	for _, path := range c.order {
		var err error
		if n := c.nodes[path]; n == nil {
			err = w.Delete(nodeKey(path))
		} else {
			err = w.Set(nodeKey(path), n.encode())
		}
		if err != nil {
			return err
		}
	}
	for _, op := range c.idx {
		var err error
		if op.del {
			err = w.Delete(op.key)
		} else {
			err = w.Set(op.key, nil)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// checkVersion is ZooKeeper's checkAndIncVersion: -1 matches any version.
func checkVersion(current, expected int32) (int32, int32) {
	if expected != -1 && expected != current {
		return 0, errBadVersion
	}
	return current + 1, errOK
}

// create applies a create (any of its opcodes) and returns the created
// path and its stat.
func (c *change) create(op int32, req createRequest) (string, Stat, int32, error) {
	mode := req.flags
	if mode < modePersistent || mode > modePersistentSeqTTL {
		return "", Stat{}, errBadArguments, nil
	}
	isTTLMode := mode == modePersistentTTL || mode == modePersistentSeqTTL
	switch {
	case op == opCreateTTL && (!isTTLMode || req.ttl <= 0 || req.ttl > maxTTL):
		return "", Stat{}, errBadArguments, nil
	case op != opCreateTTL && isTTLMode:
		return "", Stat{}, errBadArguments, nil
	case op == opCreateContainer && mode != modeContainer:
		return "", Stat{}, errBadArguments, nil
	}
	sequential := mode == modePersistentSequential || mode == modeEphemeralSequential || mode == modePersistentSeqTTL
	path := req.path
	check := path
	if sequential {
		check += "1"
	}
	if !validatePath(check) || path == "/" {
		return "", Stat{}, errBadArguments, nil
	}
	acl, ok := fixupACL(req.acl, c.auth)
	if !ok {
		return "", Stat{}, errInvalidACL, nil
	}
	parentPath := parentOf(path)
	parent, err := c.get(parentPath)
	if err != nil {
		return "", Stat{}, 0, err
	}
	if parent == nil {
		return "", Stat{}, errNoNode, nil
	}
	if !allowed(parent.acl, permCreate, c.auth) {
		return "", Stat{}, errNoAuth, nil
	}
	if sequential {
		path += fmt.Sprintf("%010d", parent.cversion)
	}
	if existing, err := c.get(path); err != nil {
		return "", Stat{}, 0, err
	} else if existing != nil {
		return "", Stat{}, errNodeExists, nil
	}
	if parent.isEphemeral() {
		return "", Stat{}, errNoChildrenForEphemerals, nil
	}
	if code, err := c.checkQuota(path, int64(len(req.data)), 1); err != nil || code != errOK {
		return "", Stat{}, code, err
	}
	var owner int64
	switch {
	case op == opCreateContainer:
		owner = ownerContainer
	case op == opCreateTTL:
		owner = ttlOwner(req.ttl)
	case mode == modeEphemeral || mode == modeEphemeralSequential:
		owner = c.session
	}
	n := &znode{
		czxid: c.zxid, mzxid: c.zxid, pzxid: c.zxid, ctime: c.now, mtime: c.now,
		ephemeralOwner: owner, acl: acl, data: req.data,
	}
	if n.data == nil {
		n.data = []byte{}
	}
	c.set(path, n)
	c.count++
	parent.cversion++
	parent.numChildren++
	parent.pzxid = c.zxid
	c.set(parentPath, parent)
	c.index(childKey(parentPath, childName(path)), false)
	switch {
	case n.isEphemeral():
		c.index(ephemeralKey(owner, path), false)
	case owner != 0:
		c.index(reapKey(path), false)
	}
	c.trigger(eventNodeCreated, path)
	c.trigger(eventNodeChildrenChanged, parentPath)
	if err := c.quotaCreated(path); err != nil {
		return "", Stat{}, 0, err
	}
	if err := c.updateQuota(path, int64(len(n.data)), 1); err != nil {
		return "", Stat{}, 0, err
	}
	return path, n.stat(), errOK, nil
}

// remove applies a delete; checkACL is false for the deletions the
// system makes (expired sessions, reaped containers).
func (c *change) remove(req pathVersion, checkACL bool) (int32, error) {
	if req.path == "/" || !validatePath(req.path) {
		return errBadArguments, nil
	}
	parentPath := parentOf(req.path)
	parent, err := c.get(parentPath)
	if err != nil {
		return 0, err
	}
	if parent == nil {
		return errNoNode, nil
	}
	if checkACL && !allowed(parent.acl, permDelete, c.auth) {
		return errNoAuth, nil
	}
	n, err := c.get(req.path)
	if err != nil {
		return 0, err
	}
	if n == nil {
		return errNoNode, nil
	}
	if _, code := checkVersion(n.version, req.version); code != errOK {
		return code, nil
	}
	if n.numChildren > 0 {
		return errNotEmpty, nil
	}
	c.set(req.path, nil)
	c.count--
	parent.numChildren--
	parent.pzxid = c.zxid
	c.set(parentPath, parent)
	c.index(childKey(parentPath, childName(req.path)), true)
	switch {
	case n.isEphemeral():
		c.index(ephemeralKey(n.ephemeralOwner, req.path), true)
	case n.ephemeralOwner != 0:
		c.index(reapKey(req.path), true)
	}
	c.trigger(eventNodeDeleted, req.path)
	c.trigger(eventNodeChildrenChanged, parentPath)
	return errOK, c.updateQuota(req.path, -int64(len(n.data)), -1)
}

func (c *change) setData(req setDataRequest) (Stat, int32, error) {
	if !validatePath(req.path) {
		return Stat{}, errBadArguments, nil
	}
	n, err := c.get(req.path)
	if err != nil {
		return Stat{}, 0, err
	}
	if n == nil {
		return Stat{}, errNoNode, nil
	}
	if !allowed(n.acl, permWrite, c.auth) {
		return Stat{}, errNoAuth, nil
	}
	diff := int64(len(req.data) - len(n.data))
	if code, err := c.checkQuota(req.path, diff, 0); err != nil || code != errOK {
		return Stat{}, code, err
	}
	v, code := checkVersion(n.version, req.version)
	if code != errOK {
		return Stat{}, code, nil
	}
	n.version, n.data, n.mzxid, n.mtime = v, req.data, c.zxid, c.now
	if n.data == nil {
		n.data = []byte{}
	}
	c.set(req.path, n)
	c.trigger(eventNodeDataChanged, req.path)
	if err := c.updateQuota(req.path, diff, 0); err != nil {
		return Stat{}, 0, err
	}
	return n.stat(), errOK, nil
}

func (c *change) setACL(req setACLRequest) (Stat, int32, error) {
	if !validatePath(req.path) {
		return Stat{}, errBadArguments, nil
	}
	acl, ok := fixupACL(req.acl, c.auth)
	if !ok {
		return Stat{}, errInvalidACL, nil
	}
	n, err := c.get(req.path)
	if err != nil {
		return Stat{}, 0, err
	}
	if n == nil {
		return Stat{}, errNoNode, nil
	}
	if !allowed(n.acl, permAdmin, c.auth) {
		return Stat{}, errNoAuth, nil
	}
	v, code := checkVersion(n.aversion, req.version)
	if code != errOK {
		return Stat{}, code, nil
	}
	n.aversion, n.acl = v, acl
	c.set(req.path, n)
	return n.stat(), errOK, nil
}

func (c *change) check(req pathVersion) (int32, error) {
	if !validatePath(req.path) {
		return errBadArguments, nil
	}
	n, err := c.get(req.path)
	if err != nil {
		return 0, err
	}
	if n == nil {
		return errNoNode, nil
	}
	if !allowed(n.acl, permRead, c.auth) {
		return errNoAuth, nil
	}
	_, code := checkVersion(n.version, req.version)
	return code, nil
}

// single applies one write operation and returns its response body (for
// an error, none).
func (c *change) single(op int32, req any) ([]byte, int32, error) {
	switch op {
	case opCreate, opCreate2, opCreateContainer, opCreateTTL:
		path, st, code, err := c.create(op, req.(createRequest))
		if err != nil || code != errOK {
			return nil, code, err
		}
		b := jute.AppendString(nil, path)
		if op != opCreate {
			b = appendStat(b, st)
		}
		return b, errOK, nil
	case opDelete:
		code, err := c.remove(req.(pathVersion), true)
		return nil, code, err
	case opSetData:
		st, code, err := c.setData(req.(setDataRequest))
		if err != nil || code != errOK {
			return nil, code, err
		}
		return appendStat(nil, st), errOK, nil
	case opSetACL:
		st, code, err := c.setACL(req.(setACLRequest))
		if err != nil || code != errOK {
			return nil, code, err
		}
		return appendStat(nil, st), errOK, nil
	case opCheck:
		code, err := c.check(req.(pathVersion))
		return nil, code, err
	}
	return nil, errUnimplemented, nil
}

// multi applies a multi's operations all or none, and returns the multi
// response: each operation's result, or, if one failed, OK for those
// before it, its error, and RuntimeInconsistency for those after, with
// nothing applied.
func (c *change) multi(ops []multiOp) ([]byte, bool, error) {
	results := make([][]byte, len(ops))
	failed := -1
	var failCode int32
	for i, op := range ops {
		body, code, err := c.single(op.op, op.req)
		if err != nil {
			return nil, false, err
		}
		if code != errOK {
			failed, failCode = i, code
			break
		}
		results[i] = body
	}
	var b []byte
	for i, op := range ops {
		switch {
		case failed >= 0:
			code := int32(errOK)
			switch {
			case i == failed:
				code = failCode
			case i > failed:
				code = errRuntimeInconsistency
			}
			b = appendMultiHeader(b, opError, false, code)
			b = jute.AppendInt(b, code)
		default:
			b = appendMultiHeader(b, op.op, false, errOK)
			b = append(b, results[i]...)
		}
	}
	b = appendMultiHeader(b, -1, true, -1)
	return b, failed < 0, nil
}

// countKey holds the number of znodes (8 bytes).
var countKey = []byte{'N'}

// nodeCount reads the number of znodes.
func nodeCount(r platform.Reader) (int64, error) {
	b, ok, err := r.Get(countKey)
	if err != nil || !ok {
		return 0, err
	}
	d := jute.NewDecoder(b)
	n := d.Long()
	if d.Err() != nil {
		return 0, errCorrupt
	}
	return n, nil
}
