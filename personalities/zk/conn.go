package zk

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"hourglass/engines/sessionorder"
	"hourglass/personalities/zk/jute"
	"hourglass/platform"
)

// maxQueuedBytes bounds what a connection may have waiting to be written
// (responses and watch events) before it is closed as too slow.
const maxQueuedBytes = 64 << 20

// conn is one client connection.
type conn struct {
	s  *Server
	nc net.Conn
	rd *bufio.Reader

	session atomic.Int64
	timeout time.Duration
	// epoch and seq number the session's writes from this connection.
	epoch   atomic.Uint32
	seq     uint32
	auth    []ID // ip, then what addAuth added
	created time.Time

	received, sent atomic.Int64
	lastZxid       atomic.Int64

	out struct {
		sync.Mutex
		cond   *sync.Cond
		frames [][]byte
		bytes  int
		closed bool // no more frames: the writer flushes and closes
	}
	closeOnce sync.Once

	// lastRead is the last request that looks at the state; only the
	// reader goroutine touches it.
	lastRead *step
	// arrived counts the requests the reader has dispatched; each step
	// carries its number.
	arrived atomic.Uint64
	// running and shared belong to the responder: the step it runs, and
	// the view a run of reads shares (see viewFor).
	running *step
	shared  struct {
		v    platform.View
		zxid int64
		// upTo is the number of the last request that had arrived when
		// the view's sync began: only requests up to it may use it.
		upTo uint64
	}
	// writes is the queue of writes waiting for the proposer.
	writes struct {
		sync.Mutex
		cond   *sync.Cond
		queue  []queuedWrite
		closed bool
	}
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{s: s, nc: nc, rd: bufio.NewReaderSize(nc, 16<<10), created: time.Now()}
	c.out.cond = sync.NewCond(&c.out.Mutex)
	c.writes.cond = sync.NewCond(&c.writes.Mutex)
	host, _, _ := net.SplitHostPort(nc.RemoteAddr().String())
	c.auth = []ID{{"ip", host}}
	return c
}

func (c *conn) sessionID() int64 { return c.session.Load() }

// close drops the connection at once.
func (c *conn) close() {
	c.closeOnce.Do(func() { c.nc.Close() })
	c.out.Lock()
	c.out.closed = true
	c.out.cond.Broadcast()
	c.out.Unlock()
}

// closeAfterFlush lets the queued frames go out, then closes.
func (c *conn) closeAfterFlush() {
	c.out.Lock()
	c.out.closed = true
	c.out.cond.Broadcast()
	c.out.Unlock()
}

// send queues one frame (without its length prefix).
func (c *conn) send(frame []byte) {
	c.out.Lock()
	defer c.out.Unlock()
	if c.out.closed {
		return
	}
	if c.out.bytes+len(frame) > maxQueuedBytes {
		c.out.closed = true
		c.out.frames = nil
		c.closeOnce.Do(func() { c.nc.Close() })
		c.out.cond.Broadcast()
		return
	}
	c.out.frames = append(c.out.frames, frame)
	c.out.bytes += len(frame)
	c.out.cond.Broadcast()
}

// sendEvent queues a watch notification.
func (c *conn) sendEvent(typ int32, path string) {
	b := appendReplyHeader(nil, xidWatchEvent, -1, errOK)
	c.send(appendWatcherEvent(b, typ, stateSyncConnected, path))
}

// writer writes queued frames until the queue is closed and empty.
func (c *conn) writer() {
	w := bufio.NewWriterSize(c.nc, 16<<10)
	for {
		c.out.Lock()
		for len(c.out.frames) == 0 && !c.out.closed {
			c.out.cond.Wait()
		}
		frames := c.out.frames
		c.out.frames, c.out.bytes = nil, 0
		closed := c.out.closed
		c.out.Unlock()
		for _, f := range frames {
			var n [4]byte
			binary.BigEndian.PutUint32(n[:], uint32(len(f)))
			w.Write(n[:])
			w.Write(f)
			c.sent.Add(1)
			c.s.stats.sent.Add(1)
		}
		if err := w.Flush(); err != nil {
			c.close()
			return
		}
		if closed {
			c.closeOnce.Do(func() { c.nc.Close() })
			return
		}
	}
}

// readFrame reads one length-prefixed frame of at most MaxBuffer bytes.
func (c *conn) readFrame() ([]byte, error) {
	var n [4]byte
	if _, err := io.ReadFull(c.rd, n[:]); err != nil {
		return nil, err
	}
	return c.readBody(int32(binary.BigEndian.Uint32(n[:])))
}

var errFrameLength = errors.New("zk: frame length out of range")

func (c *conn) readBody(n int32) ([]byte, error) {
	if n < 0 || int(n) > c.s.cfg.MaxBuffer {
		return nil, errFrameLength
	}
	b := make([]byte, n)
	_, err := io.ReadFull(c.rd, b)
	return b, err
}

func (c *conn) serve() {
	done := make(chan struct{})
	go func() {
		c.writer()
		close(done)
	}()
	defer func() {
		c.closeAfterFlush()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			c.close()
			<-done
		}
	}()
	// The first four bytes are a frame length, or a four-letter word.
	var head [4]byte
	c.nc.SetReadDeadline(time.Now().Add(c.s.cfg.MaxSessionTimeout))
	if _, err := io.ReadFull(c.rd, head[:]); err != nil {
		return
	}
	if cmd := string(head[:]); fourLetterWords[cmd] != nil {
		c.send4lw(cmd)
		return
	}
	frame, err := c.readBody(int32(binary.BigEndian.Uint32(head[:])))
	if err != nil {
		return
	}
	if !c.connect(frame) {
		return
	}
	// The reader (this goroutine) turns requests into steps; the
	// responder runs them in order, and the proposer bundles the writes
	// among them into log entries, one bundle in flight at a time. So a
	// session's requests apply in the order sent, its reads see its
	// earlier writes, and replies leave in request order.
	steps := make(chan *step, maxOutstanding)
	responded := make(chan struct{})
	go func() {
		c.respond(steps)
		close(responded)
	}()
	proposed := make(chan struct{})
	go func() {
		c.proposeLoop()
		close(proposed)
	}()
	defer func() {
		close(steps)
		c.writes.Lock()
		c.writes.closed = true
		c.writes.cond.Broadcast()
		c.writes.Unlock()
		<-proposed
		<-responded
	}()
	for {
		c.nc.SetReadDeadline(time.Now().Add(c.timeout))
		frame, err := c.readFrame()
		if err != nil {
			return
		}
		c.received.Add(1)
		c.s.stats.received.Add(1)
		c.s.touch(c.sessionID())
		st, more := c.dispatch(frame)
		if st != nil {
			st.seq = c.arrived.Add(1)
			steps <- st
		}
		if !more {
			return
		}
	}
}

// maxOutstanding bounds the requests a connection may have under way
// before the server stops reading from it.
const maxOutstanding = 1000

// step is one request in its connection's order. A read or local request
// runs when every earlier step is done, and is then done; a write is done
// when its bundle has applied, and then carries its reply.
type step struct {
	run   func() bool // false closes the connection
	seq   uint64      // the request's number in arrival order
	done  chan struct{}
	reply []byte
	close bool
}

// respond runs the steps in order.
func (c *conn) respond(steps <-chan *step) {
	defer c.dropShared()
	closing := false
	for st := range steps {
		if st.run == nil {
			// A write: later reads must see it.
			c.dropShared()
		}
		if closing {
			if st.run != nil {
				close(st.done)
			} else {
				<-st.done
			}
			continue
		}
		if st.run != nil {
			c.running = st
			ok := st.run()
			if st.seq >= c.shared.upTo {
				// No later request may use the shared view.
				c.dropShared()
			}
			close(st.done)
			if !ok {
				closing = true
				c.closeAfterFlush()
			}
			continue
		}
		<-st.done
		if st.reply != nil {
			c.send(st.reply)
		}
		if st.close {
			closing = true
			c.closeAfterFlush()
		}
	}
}

// viewFor returns the view the running read runs against. A run of reads
// shares one view: it is taken for the first, after every earlier write
// applied, and serves only the requests that had arrived before its sync
// began, so that each read sees a state from after it was sent (a request
// that arrives later may follow a write another client saw acknowledged
// meanwhile). The responder drops the view after the last request that
// may use it, and at every write. Only the responder calls it.
//
// A read that sets a watch takes a fresh view (fresh): its watch was
// registered just before, and must not miss a change between an older
// view and the registration.
func (c *conn) viewFor(ctx context.Context, fresh bool) (platform.View, int64, error) {
	if fresh || c.running.seq > c.shared.upTo {
		c.dropShared()
	}
	if c.shared.v != nil {
		return c.shared.v, c.shared.zxid, nil
	}
	upTo := c.arrived.Load()
	v, zxid, err := c.s.readView(ctx)
	if err != nil {
		return nil, 0, err
	}
	c.shared.v, c.shared.zxid, c.shared.upTo = v, zxid, upTo
	return v, zxid, nil
}

func (c *conn) dropShared() {
	if c.shared.v != nil {
		c.shared.v.Close()
		c.shared.v = nil
	}
}

// queuedWrite is a write waiting for its bundle.
type queuedWrite struct {
	op   int32
	xid  int32
	body []byte
	auth []ID
	st   *step
	// after is the last read sent before the write: the write must not
	// apply before that read has seen the state.
	after *step
}

// proposeLoop proposes the queued writes, a bundle at a time, until the
// connection closes and the queue is empty. Once a bundle fails, the
// connection is closing, and the writes after it are never proposed.
func (c *conn) proposeLoop() {
	failed := false
	for {
		c.writes.Lock()
		for len(c.writes.queue) == 0 && !c.writes.closed {
			c.writes.cond.Wait()
		}
		if len(c.writes.queue) == 0 {
			c.writes.Unlock()
			return
		}
		// A bundle: consecutive writes with the same identities.
		n, size := 1, len(c.writes.queue[0].body)
		first := c.writes.queue[0]
		for n < len(c.writes.queue) && n < maxBundle && size < 1<<20 &&
			c.writes.queue[n].after == first.after && slices.Equal(c.writes.queue[n].auth, first.auth) {
			size += len(c.writes.queue[n].body)
			n++
		}
		bundle := slices.Clone(c.writes.queue[:n])
		c.writes.queue = c.writes.queue[n:]
		c.writes.Unlock()
		if failed {
			abandon(bundle)
			continue
		}
		if first.after != nil {
			<-first.after.done
		}
		failed = !c.proposeBundle(bundle)
	}
}

// abandon ends the steps of writes whose outcome the client will not
// learn: the connection closes after the replies before them, so that
// the client counts them as lost with the connection (they may or may
// not have applied).
func abandon(bundle []queuedWrite) {
	for _, w := range bundle {
		w.st.reply, w.st.close = nil, true
		close(w.st.done)
	}
}

// proposeBundle proposes one bundle and completes its writes' steps. It
// reports false if the stack failed (a timeout, an unavailable log, a
// node stopping, a proposal overtaken by the session's resumption
// elsewhere): the bundle is then abandoned, since a client reading an
// error code would take the writes as not done, and they may be.
func (c *conn) proposeBundle(bundle []queuedWrite) bool {
	ctx, cancel := context.WithTimeout(c.s.ctx, c.s.cfg.ProposeTimeout)
	defer cancel()
	ops, bodies := make([]int32, len(bundle)), make([][]byte, len(bundle))
	for i, w := range bundle {
		ops[i], bodies[i] = w.op, w.body
	}
	c.seq++
	r, err := c.s.proposeAny(ctx, kindBundle, c.sessionID(), sessionorder.Seq(c.epoch.Load(), c.seq), bundle[0].auth, encodeBundle(ops, bodies))
	results, ok := r.([]*result)
	if err == nil && (!ok || len(results) == 0) {
		err = errors.New("zk: unexpected bundle result")
	}
	if err == nil {
		// The replies wait until the bundle's watch events are queued.
		err = c.s.notified.wait(ctx, results[len(results)-1].zxid)
	}
	if err != nil {
		c.s.log.Debug("write outcome unknown to the client; closing its connection", "session", c.sessionID(), "err", err)
		abandon(bundle)
		return false
	}
	for i, w := range bundle {
		switch {
		case i >= len(results):
			// The bundle failed to decode at this write (it cannot: the
			// reader checked every write).
			w.st.reply = appendReplyHeader(nil, w.xid, results[len(results)-1].zxid, errMarshallingError)
		default:
			res := results[i]
			c.lastZxid.Store(res.zxid)
			b := appendReplyHeader(make([]byte, 0, 16+len(res.body)), w.xid, res.zxid, res.code)
			if res.code == errOK {
				b = append(b, res.body...)
			}
			w.st.reply = b
			w.st.close = res.code == errSessionExpired
		}
		close(w.st.done)
	}
	return true
}

// send4lw answers a four-letter word and lets the connection close.
func (c *conn) send4lw(cmd string) {
	text := fourLetterWords[cmd](c.s)
	c.out.Lock()
	c.out.closed = true
	c.out.Unlock()
	c.nc.Write([]byte(text))
}

// connect handles the ConnectRequest: a new session is created through
// the log; a resumed one must exist with the same password.
func (c *conn) connect(frame []byte) bool {
	req, err := decodeConnectRequest(frame)
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(c.s.ctx, c.s.cfg.ProposeTimeout)
	defer cancel()
	timeout := time.Duration(req.timeout) * time.Millisecond
	timeout = max(c.s.cfg.MinSessionTimeout, min(c.s.cfg.MaxSessionTimeout, timeout))
	expired := func() bool {
		c.send(appendConnectResponse(nil, 0, 0, make([]byte, 16), false))
		return false
	}
	if req.sessionID == 0 {
		passwd := make([]byte, 16)
		rand.Read(passwd)
		p := jute.AppendInt(nil, int32(timeout/time.Millisecond))
		p = jute.AppendBuffer(p, passwd)
		for range 5 {
			id := newSessionID()
			res, err := c.s.propose(ctx, opCreateSession, id, 0, nil, p)
			if err != nil {
				return false
			}
			if res.code == errOK {
				c.epoch.Store(uint32(jute.NewDecoder(res.body).Int()))
				c.session.Store(id)
				c.timeout = timeout
				c.lastZxid.Store(res.zxid)
				c.send(appendConnectResponse(nil, int32(timeout/time.Millisecond), id, passwd, false))
				return true
			}
		}
		return false
	}
	v, zxid, err := c.s.readView(ctx)
	if err != nil {
		return false
	}
	s, ok, err := loadSession(v, req.sessionID)
	v.Close()
	if err != nil {
		return false
	}
	if !ok || !bytes.Equal(s.passwd, req.passwd) {
		return expired()
	}
	if req.lastZxidSeen > zxid {
		// The client has seen more of the log than this node holds.
		return false
	}
	// Resume through the log: the session is touched at once (its client
	// may come back late in its timeout) and starts a new epoch, so that
	// its requests here come after any still under way at its old node.
	res, err := c.s.propose(ctx, kindResume, req.sessionID, 0, nil, nil)
	if err != nil {
		return false
	}
	if res.code != errOK {
		return expired()
	}
	c.epoch.Store(uint32(jute.NewDecoder(res.body).Int()))
	c.session.Store(req.sessionID)
	c.timeout = time.Duration(s.timeout) * time.Millisecond
	c.lastZxid.Store(zxid)
	c.send(appendConnectResponse(nil, s.timeout, req.sessionID, s.passwd, false))
	return true
}

// reply queues a response.
func (c *conn) reply(xid int32, zxid int64, code int32, body []byte) {
	b := appendReplyHeader(make([]byte, 0, 16+len(body)), xid, zxid, code)
	if code == errOK {
		b = append(b, body...)
	}
	c.send(b)
}

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
	case opCloseSession:
		return run(func(ctx context.Context) bool {
			res, err := c.s.propose(ctx, opCloseSession, c.sessionID(), 0, nil, nil)
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
		} else if _, code := decodeWrite(op, d); code != errOK {
			return nil, false
		}
		st := &step{done: make(chan struct{})}
		c.writes.Lock()
		c.writes.queue = append(c.writes.queue, queuedWrite{op: op, xid: xid, body: body, auth: auth, st: st, after: c.lastRead})
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

// addAuth handles an auth packet: digest credentials add an identity
// (and the super user's when they match SuperDigest). Another scheme
// fails and closes the connection, as in ZooKeeper.
func (c *conn) addAuth(body []byte) (code int32, ok bool) {
	d := jute.NewDecoder(body)
	d.Int() // type, unused
	scheme, cred := d.String(), d.Buffer()
	if d.Err() != nil || scheme != "digest" {
		return errAuthFailed, false
	}
	id := ID{"digest", digestID(string(cred))}
	if !containsID(c.auth, id) {
		c.auth = append(c.auth, id)
	}
	if c.s.cfg.SuperDigest != "" && id.ID == c.s.cfg.SuperDigest && !containsID(c.auth, ID{"super", ""}) {
		c.auth = append(c.auth, ID{"super", ""})
	}
	return errOK, true
}

func containsID(ids []ID, id ID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// local serves the requests that touch only this connection's state.
func (c *conn) local(xid, op int32, body []byte, auth []ID) bool {
	d := jute.NewDecoder(body)
	zxid := c.lastZxid.Load()
	switch op {
	case opWhoAmI:
		var b []byte
		var ids []ID
		for _, id := range auth {
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
