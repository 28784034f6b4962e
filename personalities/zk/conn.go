package zk

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"hourglass/internal/metrics"
	"hourglass/personalities/zk/sasl"
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
	// epoch and seq number the session's writes from this connection;
	// seq and stream belong to the proposer.
	epoch  atomic.Uint32
	seq    uint32
	stream platform.Stream
	// failed: a write's outcome could not be learned; the connection is
	// closing and proposes nothing more.
	failed atomic.Bool
	// closingSession: this connection proposed closeSession; it answers
	// it and then closes itself, so the session's end at apply must not
	// close it first.
	closingSession atomic.Bool
	// moved: the session resumed on a newer connection; this one reads
	// no more requests (see Server.sessionMoved).
	moved atomic.Bool
	auth  []ID // ip, then what addAuth and SASL added
	// sasl is the connection's SASL exchange, once begun; only the
	// reader goroutine touches it (and auth).
	sasl    *sasl.DigestMD5
	created time.Time

	received, sent atomic.Int64
	lastZxid       atomic.Int64
	// stats are cons's statistics; answered counts the requests
	// answered, for the outstanding ones.
	stats    connStats
	answered atomic.Int64

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
	// lastCode is the error code of the last reply (the responder's
	// request's, for its metrics).
	lastCode atomic.Int32
	shared   struct {
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
	c.stats.reset()
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
			c.s.stats.response(int64(4 + len(f)))
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
	c.s.stats.bytesReceived.Add(int64(4 + n))
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
	if !c.addX509() {
		return
	}
	if _, err := io.ReadFull(c.rd, head[:]); err != nil {
		return
	}
	if cmd := string(head[:]); fourLetterWords[cmd] != nil {
		c.received.Add(1)
		c.s.stats.received.Add(1)
		c.s.stats.bytesReceived.Add(4)
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
	// responder runs them in order, and the proposer proposes the writes
	// among them on the connection's stream (the batching engine below
	// bundles what queues while a batch is under way). So a session's
	// requests apply in the order sent, its reads see its earlier writes,
	// and replies leave in request order.
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
		if c.moved.Load() {
			return
		}
		frame, err := c.readFrame()
		if err != nil {
			return
		}
		c.received.Add(1)
		c.s.stats.received.Add(1)
		c.s.touch(c.sessionID())
		start := time.Now()
		st, more := c.dispatch(frame)
		if st != nil {
			st.seq = c.arrived.Add(1)
			if len(frame) >= 8 {
				st.cxid = int32(binary.BigEndian.Uint32(frame[0:4]))
				st.op = int32(binary.BigEndian.Uint32(frame[4:8]))
				st.m = c.s.cfg.Metrics.Command(metrics.ZooKeeper, opName(st.op))
			}
			st.start = start
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
// once proposed (p) or abandoned (p nil), and its reply is made when its
// proposal applied.
type step struct {
	run  func() bool // false closes the connection; nil for a write
	seq  uint64      // the request's number in arrival order
	done chan struct{}
	xid  int32             // a write's
	p    *platform.Pending // a write's proposal
	// m records the request once answered (lastCode says how); start
	// is when it arrived.
	m     *metrics.Command
	start time.Time
	// op and cxid are the request's, for the statistics; written is
	// what a create, setData or delete writes, counted per namespace
	// once it succeeds.
	op, cxid int32
	written  *written
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
		c.lastCode.Store(errOK)
		if st.run != nil {
			c.running = st
			ok := st.run()
			st.m.Done(st.start, c.lastCode.Load() != errOK)
			c.answeredStep(st)
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
		ok := c.answerWrite(st)
		st.m.Done(st.start, c.lastCode.Load() != errOK)
		c.answeredStep(st)
		if !ok {
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

// reply queues a response.
func (c *conn) reply(xid int32, zxid int64, code int32, body []byte) {
	c.lastCode.Store(code)
	b := appendReplyHeader(make([]byte, 0, 16+len(body)), xid, zxid, code)
	if code == errOK {
		b = append(b, body...)
	}
	c.send(b)
}

// answeredStep records an answered request in the server's and the
// connection's statistics.
func (c *conn) answeredStep(st *step) {
	c.answered.Add(1)
	c.s.requestDone(&c.stats, st.op, st.cxid, c.lastZxid.Load(), time.Since(st.start))
}

// outstanding is the number of requests read and not yet answered.
func (c *conn) outstanding() int64 {
	return max(int64(c.arrived.Load())-c.answered.Load(), 0)
}
