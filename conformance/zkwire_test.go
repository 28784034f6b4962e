package conformance

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"slices"
	"testing"
	"time"

	"hourglass/internal/zkserver"
	"hourglass/personalities/zk/jute"
)

// zkWire is a bare ZooKeeper client speaking jute over TCP, for the
// operations go-zookeeper lacks and for malformed input.
type zkWire struct {
	t       testing.TB
	nc      net.Conn
	xid     int32
	session int64
	passwd  []byte
	events  []zkWireEvent
}

type zkWireEvent struct {
	typ  int32
	path string
}

// dialZKWire opens a new session on addr.
func dialZKWire(t testing.TB, addr string) *zkWire {
	t.Helper()
	w, _ := zkHandshake(t, addr, 10000, 0, make([]byte, 16), true)
	if w.session == 0 {
		t.Fatal("connect: no session")
	}
	return w
}

// zkHandshake connects to addr and sends a ConnectRequest (with the
// readOnly flag newer clients send, or without it as older ones do); it
// returns the connection, with the session and password the server
// answered, and the negotiated timeout.
func zkHandshake(t testing.TB, addr string, timeout int32, session int64, passwd []byte, withReadOnly bool) (*zkWire, int32) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	w := &zkWire{t: t, nc: nc}
	req := jute.AppendInt(nil, 0)
	req = jute.AppendLong(req, 0)
	req = jute.AppendInt(req, timeout)
	req = jute.AppendLong(req, session)
	req = jute.AppendBuffer(req, passwd)
	if withReadOnly {
		req = jute.AppendBool(req, false)
	}
	w.writeFrame(req)
	d := jute.NewDecoder(w.readFrame())
	d.Int()
	to := d.Int()
	w.session, w.passwd = d.Long(), d.Buffer()
	if d.Err() != nil {
		t.Fatalf("connect response: %v", d.Err())
	}
	return w, to
}

func (w *zkWire) writeFrame(b []byte) {
	w.t.Helper()
	w.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := w.nc.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...)); err != nil {
		w.t.Fatal(err)
	}
}

func (w *zkWire) readFrame() []byte {
	w.t.Helper()
	w.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	var n [4]byte
	if _, err := io.ReadFull(w.nc, n[:]); err != nil {
		w.t.Fatal(err)
	}
	b := make([]byte, binary.BigEndian.Uint32(n[:]))
	if _, err := io.ReadFull(w.nc, b); err != nil {
		w.t.Fatal(err)
	}
	return b
}

// call sends one request and returns its error code and body; watch
// events that arrive meanwhile are kept in events.
func (w *zkWire) call(op int32, body []byte) (int32, *jute.Decoder) {
	w.t.Helper()
	w.xid++
	w.writeFrame(append(jute.AppendInt(jute.AppendInt(nil, w.xid), op), body...))
	for {
		d := jute.NewDecoder(w.readFrame())
		xid, _, code := d.Int(), d.Long(), d.Int()
		if xid == -1 {
			typ, _, path := d.Int(), d.Int(), d.String()
			w.events = append(w.events, zkWireEvent{typ, path})
			continue
		}
		if xid != w.xid {
			w.t.Fatalf("reply to xid %d, want %d", xid, w.xid)
		}
		return code, d
	}
}

// waitEvents reads until n watch events are in.
func (w *zkWire) waitEvents(n int) []zkWireEvent {
	w.t.Helper()
	for len(w.events) < n {
		d := jute.NewDecoder(w.readFrame())
		if xid := d.Int(); xid != -1 {
			w.t.Fatalf("unexpected reply %d while waiting for events", xid)
		}
		d.Long()
		d.Int()
		typ, _, path := d.Int(), d.Int(), d.String()
		w.events = append(w.events, zkWireEvent{typ, path})
	}
	return w.events
}

func zkCreateBody(path string, flags int32) []byte {
	b := jute.AppendString(nil, path)
	b = jute.AppendBuffer(b, []byte("d"))
	b = jute.AppendInt(b, 1)
	b = jute.AppendInt(b, 31)
	b = jute.AppendString(b, "world")
	b = jute.AppendString(b, "anyone")
	return jute.AppendInt(b, flags)
}

func pathWatch(path string, watch bool) []byte {
	return jute.AppendBool(jute.AppendString(nil, path), watch)
}

// TestZKWire covers, over the bare wire, the operations go-zookeeper does
// not send: create2, createTTL's argument errors, getAllChildrenNumber,
// getEphemerals, whoAmI, multiRead, addWatch, checkWatches and
// removeWatches, and server-side path validation.
func TestZKWire(t *testing.T) {
	g := startGateway(t)
	w := dialZKWire(t, g.addr("zookeeper"))
	want := func(what string, got, code int32) {
		t.Helper()
		if got != code {
			t.Fatalf("%s: error %d, want %d", what, got, code)
		}
	}

	code, d := w.call(15, zkCreateBody("/n", 0)) // create2
	want("create2", code, 0)
	if p := d.String(); p != "/n" {
		t.Fatalf("create2 path %q", p)
	}
	if czxid := d.Long(); czxid == 0 || d.Err() != nil {
		t.Fatalf("create2 stat: czxid %d, %v", czxid, d.Err())
	}
	code, _ = w.call(1, zkCreateBody("/n/", 0))
	want("create with a trailing slash", code, -8)
	code, _ = w.call(1, zkCreateBody("/n/../x", 0))
	want("create with a relative path", code, -8)
	code, _ = w.call(21, jute.AppendLong(zkCreateBody("/t", 0), 1000))
	want("createTTL with a mode without TTL", code, -8)
	code, _ = w.call(21, jute.AppendLong(zkCreateBody("/t", 5), 0))
	want("createTTL with ttl 0", code, -8)
	code, _ = w.call(1, zkCreateBody("/t", 5))
	want("create with a TTL mode", code, -8)
	code, _ = w.call(19, zkCreateBody("/c", 0))
	want("createContainer without the container mode", code, -8)

	for _, p := range []string{"/n/a", "/n/b", "/n/b/c"} {
		code, _ = w.call(1, zkCreateBody(p, 0))
		want("create "+p, code, 0)
	}
	code, d = w.call(104, jute.AppendString(nil, "/n")) // getAllChildrenNumber
	if want("getAllChildrenNumber", code, 0); d.Int() != 3 {
		t.Fatal("getAllChildrenNumber /n is not 3")
	}
	for _, p := range []string{"/n/e1", "/n/b/e2"} {
		code, _ = w.call(1, zkCreateBody(p, 1))
		want("create ephemeral "+p, code, 0)
	}
	code, d = w.call(103, jute.AppendString(nil, "/n/b")) // getEphemerals
	want("getEphemerals", code, 0)
	if got := d.Strings(); !slices.Equal(got, []string{"/n/b/e2"}) {
		t.Fatalf("getEphemerals /n/b = %q", got)
	}
	code, d = w.call(103, jute.AppendString(nil, "/"))
	if want("getEphemerals /", code, 0); len(d.Strings()) != 2 {
		t.Fatal("getEphemerals / is not both ephemerals")
	}

	code, d = w.call(107, nil) // whoAmI
	want("whoAmI", code, 0)
	if n := d.Int(); n != 1 || d.String() != "ip" {
		t.Fatalf("whoAmI: %d identities", n)
	}

	// multiRead: each read stands alone.
	mr := jute.AppendInt(nil, 4) // getData
	mr = jute.AppendBool(mr, false)
	mr = jute.AppendInt(mr, -1)
	mr = jute.AppendString(mr, "/n/a")
	mr = append(mr, jute.AppendInt(jute.AppendBool(jute.AppendInt(nil, 8), false), -1)...) // getChildren
	mr = jute.AppendString(mr, "/n")
	mr = append(mr, jute.AppendInt(jute.AppendBool(jute.AppendInt(nil, 4), false), -1)...)
	mr = jute.AppendString(mr, "/missing")
	mr = append(mr, jute.AppendInt(jute.AppendBool(jute.AppendInt(nil, -1), true), -1)...)
	code, d = w.call(22, mr)
	want("multiRead", code, 0)
	if typ, _, _ := d.Int(), d.Bool(), d.Int(); typ != 4 || string(d.Buffer()) != "d" {
		t.Fatal("multiRead getData result")
	}
	d.Long() // the stat: czxid, mzxid, ctime, mtime (longs), three versions
	d.Long()
	d.Long()
	d.Long()
	d.Int()
	d.Int()
	d.Int()
	d.Long() // ephemeralOwner, dataLength, numChildren, pzxid
	d.Int()
	d.Int()
	d.Long()
	if typ, _, _ := d.Int(), d.Bool(), d.Int(); typ != 8 || !slices.Equal(d.Strings(), []string{"a", "b", "e1"}) {
		t.Fatal("multiRead getChildren result")
	}
	if typ, _, code := d.Int(), d.Bool(), d.Int(); typ != -1 || code != -101 || d.Int() != -101 {
		t.Fatal("multiRead error result for a missing znode")
	}
	if _, done, _ := d.Int(), d.Bool(), d.Int(); !done || d.Err() != nil {
		t.Fatalf("multiRead end: %v", d.Err())
	}

	// addWatch: a persistent recursive watch sees every change below.
	code, _ = w.call(106, jute.AppendInt(jute.AppendString(nil, "/n"), 1))
	want("addWatch recursive", code, 0)
	code, _ = w.call(17, jute.AppendInt(jute.AppendString(nil, "/n"), 3)) // checkWatches any
	want("checkWatches", code, 0)
	code, _ = w.call(17, jute.AppendInt(jute.AppendString(nil, "/n/a"), 2))
	want("checkWatches without a watch", code, -121)
	other := g.zkClient(t)
	if _, err := other.Set("/n/b/c", []byte("x"), -1); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Create("/n/new", nil, 0, openACL); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Set("/n/b/c", []byte("y"), -1); err != nil {
		t.Fatal(err)
	}
	ev := w.waitEvents(3)
	wantEv := []zkWireEvent{{3, "/n/b/c"}, {1, "/n/new"}, {3, "/n/b/c"}}
	if !slices.Equal(ev[:3], wantEv) {
		t.Fatalf("recursive watch events %+v, want %+v", ev, wantEv)
	}
	code, _ = w.call(18, jute.AppendInt(jute.AppendString(nil, "/n"), 3)) // removeWatches
	want("removeWatches", code, 0)
	code, _ = w.call(18, jute.AppendInt(jute.AppendString(nil, "/n"), 3))
	want("removeWatches again", code, -121)

	// A persistent (not recursive) watch sees its own znode's children
	// change, and stays.
	code, _ = w.call(106, jute.AppendInt(jute.AppendString(nil, "/n/b"), 0))
	want("addWatch persistent", code, 0)
	for _, p := range []string{"/n/b/x", "/n/b/y"} {
		if _, err := other.Create(p, nil, 0, openACL); err != nil {
			t.Fatal(err)
		}
	}
	ev = w.waitEvents(5)
	if !slices.Equal(ev[3:5], []zkWireEvent{{4, "/n/b"}, {4, "/n/b"}}) {
		t.Fatalf("persistent watch events %+v", ev[3:])
	}
	code, _ = w.call(3, pathWatch("/n/a", false)) // exists still answers
	want("exists", code, 0)
}

// TestZKSessionHandshake: timeouts are negotiated into ZooKeeper's
// bounds, and a resume with a wrong password, or of an unknown session,
// is answered as expired (session id 0).
func TestZKSessionHandshake(t *testing.T) {
	g := startGateway(t)
	addr := g.addr("zookeeper")
	connect := func(timeout int32, session int64, passwd []byte) (int32, int64, []byte) {
		t.Helper()
		w, to := zkHandshake(t, addr, timeout, session, passwd, false)
		return to, w.session, w.passwd
	}
	for asked, want := range map[int32]int32{100: 4000, 10000: 10000, 1 << 30: 40000} {
		if to, _, _ := connect(asked, 0, make([]byte, 16)); to != want {
			t.Fatalf("timeout %d negotiated to %d, want %d", asked, to, want)
		}
	}
	_, id, pw := connect(10000, 0, make([]byte, 16))
	if to, got, _ := connect(10000, id, pw); got != id || to != 10000 {
		t.Fatalf("resume: session %#x timeout %d", got, to)
	}
	bad := append([]byte{}, pw...)
	bad[0] ^= 1
	if to, got, _ := connect(10000, id, bad); got != 0 || to != 0 {
		t.Fatalf("resume with a wrong password: session %#x timeout %d", got, to)
	}
	if _, got, _ := connect(10000, 0x0123456789, pw); got != 0 {
		t.Fatalf("resume of an unknown session: %#x", got)
	}

	// A session resumed on a new connection is no longer served on its
	// old one: the old connection is closed.
	old := dialZKWire(t, addr)
	if code, _ := old.call(3, pathWatch("/", false)); code != 0 {
		t.Fatalf("exists on the first connection: %d", code)
	}
	if _, got, _ := connect(10000, old.session, old.passwd); got != old.session {
		t.Fatalf("resume: %#x", got)
	}
	old.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := old.nc.Read(make([]byte, 1)); err == nil {
		t.Fatal("the old connection got data instead of being closed")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the old connection of a resumed session stayed open")
	}
}

// TestZKCloseSession: closeSession is answered (kazoo and Curator read
// the answer before they close their socket) and then the connection
// closes; the session is gone.
func TestZKCloseSession(t *testing.T) {
	g := startGateway(t)
	w := dialZKWire(t, g.addr("zookeeper"))
	w.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if code, _ := w.call(-11, nil); code != 0 {
		t.Fatalf("closeSession answered %d", code)
	}
	if _, err := w.nc.Read(make([]byte, 1)); err == nil {
		t.Fatal("the connection got data after closeSession's answer instead of closing")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the connection stayed open after closeSession")
	}
	if _, got := zkHandshake(t, g.addr("zookeeper"), 10000, w.session, w.passwd, false); got != 0 {
		t.Fatalf("resuming a closed session negotiated timeout %d", got)
	}
}

// TestZKBadFrames: oversized, negative and undecodable frames close the
// connection; the node serves on.
func TestZKBadFrames(t *testing.T) {
	g := startGateway(t, "--zk-max-buffer", "4096")
	addr := g.addr("zookeeper")
	closed := func(what string, payload []byte, connectFirst bool) {
		t.Helper()
		var nc net.Conn
		if connectFirst {
			w := dialZKWire(t, addr)
			nc = w.nc
		} else {
			var err error
			if nc, err = net.DialTimeout("tcp", addr, 5*time.Second); err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
		}
		nc.Write(payload)
		nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 64)
		for {
			if _, err := nc.Read(buf); err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					t.Fatalf("%s: the connection stayed open", what)
				}
				return
			}
		}
	}
	closed("connect frame over jute.maxbuffer", binary.BigEndian.AppendUint32(nil, 4097), false)
	closed("negative connect length", binary.BigEndian.AppendUint32(nil, 0xffffff00), false)
	closed("short connect request", append(binary.BigEndian.AppendUint32(nil, 3), 1, 2, 3), false)
	closed("request over jute.maxbuffer", binary.BigEndian.AppendUint32(nil, 1<<30), true)
	bad := jute.AppendInt(jute.AppendInt(nil, 1), 1) // create with a vector count past the frame
	bad = append(jute.AppendString(bad, "/x"), jute.AppendInt(jute.AppendInt(nil, -1), 1<<20)...)
	closed("undecodable create", append(binary.BigEndian.AppendUint32(nil, uint32(len(bad))), bad...), true)
	if out, err := zkserver.FourLetter(addr, "ruok"); err != nil || string(out) != "imok" {
		t.Fatalf("ruok after bad frames: %q %v", out, err)
	}
	// A request within the limit still works.
	c := g.zkClient(t)
	if _, err := c.Create("/ok", make([]byte, 3000), 0, openACL); err != nil {
		t.Fatal(err)
	}
}

// TestZKPipelinedSession sends many requests on one session without
// waiting: they apply in the order sent (each setData's version is its
// place in the stream), every read sees the writes sent before it, and the
// replies come back in request order.
func TestZKPipelinedSession(t *testing.T) {
	g := startGateway(t)
	w := dialZKWire(t, g.addr("zookeeper"))
	if code, _ := w.call(1, zkCreateBody("/p", 0)); code != 0 {
		t.Fatalf("create: %d", code)
	}
	const n = 300
	var out []byte
	frame := func(xid, op int32, body []byte) {
		b := append(jute.AppendInt(jute.AppendInt(nil, xid), op), body...)
		out = append(out, binary.BigEndian.AppendUint32(nil, uint32(len(b)))...)
		out = append(out, b...)
	}
	for i := range n {
		set := jute.AppendString(nil, "/p")
		set = jute.AppendBuffer(set, []byte(fmt.Sprint(i)))
		set = jute.AppendInt(set, -1)
		frame(int32(1000+2*i), 5, set)                      // setData
		frame(int32(1000+2*i+1), 4, pathWatch("/p", false)) // getData
	}
	w.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := w.nc.Write(out); err != nil {
		t.Fatal(err)
	}
	var lastZxid int64
	for i := range n {
		for k, op := range []string{"setData", "getData"} {
			d := jute.NewDecoder(w.readFrame())
			xid, zxid, code := d.Int(), d.Long(), d.Int()
			if want := int32(1000 + 2*i + k); xid != want || code != 0 {
				t.Fatalf("reply %d: xid %d code %d, want xid %d", 2*i+k, xid, code, want)
			}
			if zxid < lastZxid {
				t.Fatalf("%s %d: zxid %#x after %#x", op, i, zxid, lastZxid)
			}
			lastZxid = zxid
			if k == 0 {
				d.Long()
				d.Long()
				d.Long()
				d.Long()
				if v := d.Int(); v != int32(i+1) {
					t.Fatalf("setData %d applied as version %d", i, v)
				}
			} else if got := string(d.Buffer()); got != fmt.Sprint(i) {
				t.Fatalf("getData after setData %d read %q", i, got)
			}
		}
	}
	// A burst of reads around one write (the reads before it share a
	// view; none of them may see it, and every read after it must).
	out = nil
	const reads = 100
	for i := range 2*reads + 1 {
		if i == reads {
			set := jute.AppendString(nil, "/p")
			set = jute.AppendBuffer(set, []byte("mid"))
			frame(int32(3000+i), 5, jute.AppendInt(set, -1))
			continue
		}
		frame(int32(3000+i), 4, pathWatch("/p", false))
	}
	if _, err := w.nc.Write(out); err != nil {
		t.Fatal(err)
	}
	for i := range 2*reads + 1 {
		d := jute.NewDecoder(w.readFrame())
		xid, _, code := d.Int(), d.Long(), d.Int()
		if xid != int32(3000+i) || code != 0 {
			t.Fatalf("reply %d: xid %d code %d", i, xid, code)
		}
		if i == reads {
			continue
		}
		want := fmt.Sprint(n - 1)
		if i > reads {
			want = "mid"
		}
		if got := string(d.Buffer()); got != want {
			t.Fatalf("read %d got %q, want %q", i, got, want)
		}
	}

	// A burst of writes alone (bundled into few log entries): sequential
	// names follow the order sent.
	out = nil
	for i := range n {
		frame(int32(5000+i), 1, zkCreateBody("/p/s-", 2))
	}
	if _, err := w.nc.Write(out); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		d := jute.NewDecoder(w.readFrame())
		xid, _, code := d.Int(), d.Long(), d.Int()
		if path := d.String(); xid != int32(5000+i) || code != 0 || path != fmt.Sprintf("/p/s-%010d", i) {
			t.Fatalf("create %d: xid %d code %d path %q", i, xid, code, path)
		}
	}
}

// TestZKSessionMoved: a session resumes on a new connection while its
// old connection has creates under way. The old connection answers those
// that applied before the move, answers the first the move overtook
// with SessionMoved (-118), and closes; that write and the ones after it
// never applied.
func TestZKSessionMoved(t *testing.T) {
	g := startGateway(t)
	addr := g.addr("zookeeper")
	old := dialZKWire(t, addr)
	const most = 5000
	go func() {
		for xid := int32(1); xid <= most; xid++ {
			b := append(jute.AppendInt(jute.AppendInt(nil, xid), 1), zkCreateBody(fmt.Sprintf("/moved-%d", xid), 0)...)
			old.nc.SetWriteDeadline(time.Now().Add(30 * time.Second))
			if _, err := old.nc.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...)); err != nil {
				return
			}
		}
	}()
	// next reads the old connection's next reply: its xid and code, or
	// ok false once the connection closed.
	next := func() (xid, code int32, ok bool) {
		old.nc.SetReadDeadline(time.Now().Add(30 * time.Second))
		var n [4]byte
		if _, err := io.ReadFull(old.nc, n[:]); err != nil {
			if ne, isNet := err.(net.Error); isNet && ne.Timeout() {
				t.Fatal("the old connection neither answered nor closed")
			}
			return 0, 0, false
		}
		b := make([]byte, binary.BigEndian.Uint32(n[:]))
		if _, err := io.ReadFull(old.nc, b); err != nil {
			t.Fatalf("a reply cut short: %v", err)
		}
		d := jute.NewDecoder(b)
		xid, _, code = d.Int(), d.Long(), d.Int()
		return xid, code, true
	}
	want := int32(1)
	for ; want <= 20; want++ {
		if xid, code, ok := next(); !ok || xid != want || code != 0 {
			t.Fatalf("create %d before the move: xid %d code %d open %v", want, xid, code, ok)
		}
	}
	moved, _ := zkHandshake(t, addr, 10000, old.session, old.passwd, false)
	if moved.session != old.session {
		t.Fatalf("resume: session %#x", moved.session)
	}
	movedXid := int32(0)
	for {
		xid, code, ok := next()
		if !ok {
			break
		}
		if xid != want || movedXid != 0 {
			t.Fatalf("reply to %d (code %d), want %d; SessionMoved was %d", xid, code, want, movedXid)
		}
		switch code {
		case 0:
		case -118:
			movedXid = xid
		default:
			t.Fatalf("create %d answered %d", xid, code)
		}
		want++
	}
	if movedXid == 0 {
		t.Fatalf("the old connection closed after %d creates without answering SessionMoved", want-1)
	}
	exists := func(xid int32) bool {
		code, _ := moved.call(3, pathWatch(fmt.Sprintf("/moved-%d", xid), false))
		if code != 0 && code != -101 {
			t.Fatalf("exists: %d", code)
		}
		return code == 0
	}
	if !exists(movedXid - 1) {
		t.Errorf("create %d was answered OK, and its node is missing", movedXid-1)
	}
	for xid := movedXid; xid < min(movedXid+20, most+1); xid++ {
		if exists(xid) {
			t.Errorf("create %d applied, though SessionMoved was answered at %d", xid, movedXid)
		}
	}
}
