package zk

import (
	"context"
	"errors"
	"slices"
	"strings"

	"hourglass/personalities/zk/jute"
	"hourglass/platform"
)

// dispatch turns one request into its step; more is false when the
// connection must read no further (closeSession, or a request that does
// not decode, which closes the connection as in ZooKeeper).
func (c *conn) dispatch(frame []byte) (st *step, more bool) {
	d := jute.NewDecoder(frame)
	xid, op := d.Int(), d.Int()
	if d.Err() != nil {
		return nil, false
	}
	body := d.Rest()
	auth := slices.Clone(c.auth)
	run := func(f func(ctx context.Context) bool) *step {
		return &step{done: make(chan struct{}), run: func() bool {
			ctx, cancel := context.WithTimeout(c.s.ctx, c.s.cfg.ProposeTimeout)
			defer cancel()
			return f(ctx)
		}}
	}
	// read is run for a request that looks at the state: later writes
	// wait for it.
	read := func(f func(ctx context.Context) bool) *step {
		st := run(f)
		c.lastRead = st
		return st
	}
	if op != opAuth && op != opSASL && !c.authenticated() {
		// enforce.auth: the session must authenticate first.
		c.s.log.Warn("closing an unauthenticated session", "session", c.sessionID(), "schemes", c.s.cfg.EnforceAuthSchemes)
		return run(func(context.Context) bool {
			c.reply(xid, 0, errSessionClosedRequireSASLAuth, nil)
			return false
		}), false
	}
	switch op {
	case opPing:
		return run(func(context.Context) bool {
			c.reply(xid, c.lastZxid.Load(), errOK, nil)
			return true
		}), true
	case opAuth:
		code, ok := c.addAuth(body)
		return run(func(context.Context) bool {
			c.reply(xid, 0, code, nil)
			return ok
		}), ok
	case opSASL:
		token, code, ok := c.saslStep(body)
		return run(func(context.Context) bool {
			c.lastCode.Store(code)
			b := appendReplyHeader(nil, xid, 0, code)
			c.send(jute.AppendBuffer(b, token))
			return ok
		}), ok
	case opCloseSession:
		return run(func(ctx context.Context) bool {
			c.closingSession.Store(true)
			res, err := c.s.propose(ctx, opCloseSession, c.sessionID(), nil, nil)
			if err == nil {
				c.reply(xid, res.zxid, errOK, nil)
			}
			return false
		}), false
	case opCreate, opCreate2, opCreateContainer, opCreateTTL, opDelete, opSetData, opSetACL, opCheck, opMulti:
		// A write that does not decode never reaches the log.
		d := jute.NewDecoder(body)
		if op == opMulti {
			if _, code := decodeMulti(d, maxMultiOps); code == errMarshallingError || d.Err() != nil {
				return nil, false
			}
		}
		st := &step{done: make(chan struct{}), xid: xid}
		if op != opMulti {
			req, code := decodeWrite(op, d)
			if code != errOK {
				return nil, false
			}
			st.written = writtenBytes(op, req)
		}
		c.writes.Lock()
		c.writes.queue = append(c.writes.queue, queuedWrite{op: op, body: body, auth: auth, st: st, after: c.lastRead})
		c.writes.cond.Broadcast()
		c.writes.Unlock()
		return st, true
	case opSetWatches, opSetWatches2:
		return read(func(ctx context.Context) bool { return c.setWatches(ctx, xid, op, body) }), true
	case opAddWatch, opRemoveWatches, opCheckWatches, opWhoAmI:
		return read(func(context.Context) bool { return c.local(xid, op, body, auth) }), true
	case opReconfig:
		// Membership changes go through gateway members, not the
		// ZooKeeper API, as on a ZooKeeper with reconfigEnabled=false.
		return run(func(context.Context) bool {
			c.reply(xid, c.lastZxid.Load(), errReconfigDisabled, nil)
			return true
		}), true
	}
	return read(func(ctx context.Context) bool { return c.read(ctx, xid, op, body, auth) }), true
}

// errorCode maps a failure of the stack to a ZooKeeper error code.
func errorCode(err error) int32 {
	if errors.Is(err, context.DeadlineExceeded) {
		return errOperationTimeout
	}
	return errSystemError
}

// local serves the requests that touch only this connection's state.
func (c *conn) local(xid, op int32, body []byte, auth []ID) bool {
	d := jute.NewDecoder(body)
	zxid := c.lastZxid.Load()
	switch op {
	case opWhoAmI:
		var b []byte
		var ids []ID
		for _, id := range javaSetOrder(auth) {
			if id.Scheme != "super" || id.ID != "" {
				ids = append(ids, id)
			}
		}
		b = jute.AppendInt(b, int32(len(ids)))
		for _, id := range ids {
			b = jute.AppendString(b, id.Scheme)
			b = jute.AppendString(b, id.ID)
		}
		c.reply(xid, zxid, errOK, b)
	case opAddWatch:
		path, mode := d.String(), d.Int()
		if d.Err() != nil {
			return false
		}
		if !validatePath(path) || (mode != 0 && mode != 1) {
			c.reply(xid, zxid, errBadArguments, nil)
			return true
		}
		kind := watchPersistent
		if mode == 1 {
			kind = watchRecursive
		}
		r := c.s.watches.add(kind, path, c)
		c.reply(xid, zxid, errOK, nil)
		c.s.watches.arm(kind, path, r, zxid)
	case opRemoveWatches, opCheckWatches:
		path, typ := d.String(), d.Int()
		if d.Err() != nil {
			return false
		}
		if !validatePath(path) {
			c.reply(xid, zxid, errBadArguments, nil)
			return true
		}
		if !c.s.watches.remove(c, path, typ, op == opCheckWatches) {
			c.reply(xid, zxid, errNoWatcher, nil)
			return true
		}
		c.reply(xid, zxid, errOK, nil)
	}
	return true
}

// setWatches re-registers a resumed session's watches, firing at once
// those whose znodes changed after relativeZxid.
func (c *conn) setWatches(ctx context.Context, xid, op int32, body []byte) bool {
	d := jute.NewDecoder(body)
	rel := d.Long()
	lists := [][]string{d.Strings(), d.Strings(), d.Strings()} // data, exist, child
	if op == opSetWatches2 {
		lists = append(lists, d.Strings(), d.Strings()) // persistent, recursive
	}
	if d.Err() != nil {
		return false
	}
	type pending struct {
		kind int
		path string
		reg  *watchReg
	}
	var regs []pending
	add := func(kind int, path string) {
		regs = append(regs, pending{kind, path, c.s.watches.add(kind, path, c)})
	}
	for i, list := range lists {
		for _, p := range list {
			switch i {
			case 0, 1:
				add(watchData, p)
			case 2:
				add(watchChild, p)
			case 3:
				add(watchPersistent, p)
			case 4:
				add(watchRecursive, p)
			}
		}
	}
	v, zxid, err := c.s.readView(ctx)
	if err != nil {
		return false
	}
	defer v.Close()
	i := 0
	for li, list := range lists {
		for _, p := range list {
			r := regs[i]
			i++
			if li > 2 {
				c.s.watches.arm(r.kind, p, r.reg, zxid)
				continue
			}
			n, err := loadNode(v, p)
			if err != nil {
				return false
			}
			var typ int32
			switch {
			case li == 0 && n == nil:
				typ = eventNodeDeleted
			case li == 0 && n.mzxid > rel:
				typ = eventNodeDataChanged
			case li == 1 && n != nil:
				typ = eventNodeCreated
			case li == 2 && n == nil:
				typ = eventNodeDeleted
			case li == 2 && n.pzxid > rel:
				typ = eventNodeChildrenChanged
			}
			if typ != 0 {
				c.s.watches.drop(r.kind, p, r.reg)
				c.sendEvent(typ, p)
				continue
			}
			c.s.watches.arm(r.kind, p, r.reg, zxid)
		}
	}
	c.reply(xid, zxid, errOK, nil)
	return true
}

// read serves a read against a view synced with the log.
func (c *conn) read(ctx context.Context, xid, op int32, body []byte, auth []ID) bool {
	d := jute.NewDecoder(body)
	var path string
	var watch bool
	var reads []multiOp
	switch op {
	case opExists, opGetData, opGetChildren, opGetChildren2:
		path, watch = d.String(), d.Bool()
	case opGetACL, opSync, opGetEphemerals, opGetAllChildrenNum:
		path = d.String()
	case opMultiRead:
		var code int32
		reads, code = decodeMulti(d, maxMultiOps)
		if code == errMarshallingError {
			return false
		}
		if code != errOK {
			c.reply(xid, c.lastZxid.Load(), code, nil)
			return true
		}
	default:
		c.reply(xid, c.lastZxid.Load(), errUnimplemented, nil)
		return true
	}
	if d.Err() != nil {
		return false
	}
	valid := op == opMultiRead || validatePath(path) || (op == opGetEphemerals && path == "")
	if !valid {
		c.reply(xid, c.lastZxid.Load(), errBadArguments, nil)
		return true
	}
	var reg *watchReg
	kind := watchData
	if watch {
		if op == opGetChildren || op == opGetChildren2 {
			kind = watchChild
		}
		reg = c.s.watches.add(kind, path, c)
	}
	v, zxid, err := c.viewFor(ctx, reg != nil)
	if err != nil {
		if reg != nil {
			c.s.watches.drop(kind, path, reg)
		}
		c.reply(xid, c.lastZxid.Load(), errorCode(err), nil)
		return true
	}
	c.lastZxid.Store(zxid)
	var b []byte
	var code int32
	if op == opMultiRead {
		b, err = c.multiRead(v, reads, auth)
	} else {
		b, code, err = c.readOne(v, op, path, auth)
	}
	if err != nil {
		return false
	}
	// The response goes out before the watch is armed: clients register
	// a watch when its response arrives, and drop events for watches they
	// do not know yet.
	c.reply(xid, zxid, code, b)
	if reg != nil {
		// ZooKeeper sets no watch where the read failed, except exists,
		// which watches for the znode's creation.
		if code == errOK || (op == opExists && code == errNoNode) {
			c.s.watches.arm(kind, path, reg, zxid)
		} else {
			c.s.watches.drop(kind, path, reg)
		}
	}
	return true
}

// readOne runs one read against v.
func (c *conn) readOne(v platform.Reader, op int32, path string, auth []ID) ([]byte, int32, error) {
	if op == opGetEphemerals {
		b, err := c.ephemerals(v, path)
		return b, errOK, err
	}
	if op == opSync {
		return jute.AppendString(nil, path), errOK, nil
	}
	n, err := loadNode(v, path)
	if err != nil {
		return nil, 0, err
	}
	if n == nil {
		return nil, errNoNode, nil
	}
	switch op {
	case opExists:
		return appendStat(nil, n.stat()), errOK, nil
	case opGetData:
		if !allowed(n.acl, permRead, auth) {
			return nil, errNoAuth, nil
		}
		c.s.stats.namespaces.read(path, len(n.data))
		return appendStat(jute.AppendBuffer(nil, n.data), n.stat()), errOK, nil
	case opGetChildren, opGetChildren2:
		if !allowed(n.acl, permRead, auth) {
			return nil, errNoAuth, nil
		}
		kids, err := children(v, path)
		if err != nil {
			return nil, 0, err
		}
		b := jute.AppendStrings(nil, kids)
		names := 0
		for _, k := range kids {
			names += len(k)
		}
		c.s.stats.namespaces.read(path, names)
		if op == opGetChildren2 {
			b = appendStat(b, n.stat())
		}
		return b, errOK, nil
	case opGetACL:
		if !allowed(n.acl, permRead, auth) {
			return nil, errNoAuth, nil
		}
		acl := n.acl
		if !allowed(n.acl, permAdmin, auth) {
			acl = redactACL(acl)
		}
		return appendStat(appendACLs(nil, acl), n.stat()), errOK, nil
	case opGetAllChildrenNum:
		if !allowed(n.acl, permRead, auth) {
			return nil, errNoAuth, nil
		}
		total, err := descendants(v, path)
		return jute.AppendInt(nil, int32(total)), errOK, err
	}
	return nil, errUnimplemented, nil
}

// descendants counts the znodes below path.
func descendants(r platform.Reader, path string) (int, error) {
	kids, err := children(r, path)
	if err != nil {
		return 0, err
	}
	total := len(kids)
	for _, k := range kids {
		child := path + "/" + k
		if path == "/" {
			child = "/" + k
		}
		n, err := descendants(r, child)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// ephemerals lists the session's ephemeral znodes under prefix (all of
// them for "" or "/").
func (c *conn) ephemerals(r platform.Reader, prefix string) ([]byte, error) {
	lo := ephemeralPrefix(c.sessionID())
	it, err := r.NewIter(lo, ephemeralPrefix(c.sessionID()+1))
	if err != nil {
		return nil, err
	}
	defer it.Close()
	paths := []string{}
	for ok := it.First(); ok; ok = it.Next() {
		p := string(it.Key()[len(lo):])
		if prefix == "" || prefix == "/" || strings.HasPrefix(p, prefix) {
			paths = append(paths, p)
		}
	}
	return jute.AppendStrings(nil, paths), it.Close()
}

// multiRead runs getData and getChildren reads against one view; each
// fails or succeeds on its own.
func (c *conn) multiRead(v platform.Reader, ops []multiOp, auth []ID) ([]byte, error) {
	var b []byte
	for _, op := range ops {
		path, ok := op.req.(string)
		if !ok {
			b = appendMultiHeader(b, opError, false, errBadArguments)
			b = jute.AppendInt(b, errBadArguments)
			continue
		}
		body, code := []byte(nil), int32(errBadArguments)
		if validatePath(path) {
			var err error
			if body, code, err = c.readOne(v, op.op, path, auth); err != nil {
				return nil, err
			}
		}
		if code != errOK {
			b = appendMultiHeader(b, opError, false, code)
			b = jute.AppendInt(b, code)
			continue
		}
		if op.op == opGetData {
			b = appendMultiHeader(b, opGetData, false, errOK)
		} else {
			b = appendMultiHeader(b, opGetChildren, false, errOK)
		}
		b = append(b, body...)
	}
	return appendMultiHeader(b, -1, true, -1), nil
}
