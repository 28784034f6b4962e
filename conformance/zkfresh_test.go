package conformance

import (
	"encoding/binary"
	"fmt"
	"testing"

	"hourglass/personalities/zk/jute"
)

// zkFrame appends one request frame (length prefix, xid, op, body) to out.
func zkFrame(out []byte, xid, op int32, body []byte) []byte {
	b := append(jute.AppendInt(jute.AppendInt(nil, xid), op), body...)
	out = binary.BigEndian.AppendUint32(out, uint32(len(b)))
	return append(out, b...)
}

// TestZKReadAfterSharedView: a read sent after another session's write
// was acknowledged sees that write, even when the read's connection had a
// burst of requests (a read and pings, as a client sends after a
// reconnect) served from one view just before. A view shared by a run of
// reads may serve only the requests that had arrived before its sync
// began; a read that arrives later takes a view of its own.
func TestZKReadAfterSharedView(t *testing.T) {
	g := startGateway(t)
	r := dialZKWire(t, g.addr("zookeeper"))
	w := dialZKWire(t, g.addr("zookeeper"))
	if code, _ := w.call(1, zkCreateBody("/r", 0)); code != 0 {
		t.Fatalf("create: %d", code)
	}
	getData := pathWatch("/r", false)
	for i := range 50 {
		// A read and two pings arrive together: the pings are queued
		// while the read syncs.
		var burst []byte
		burst = zkFrame(burst, 1, 4, getData)
		burst = zkFrame(burst, -2, 11, nil)
		burst = zkFrame(burst, -2, 11, nil)
		r.nc.Write(burst)
		for k := range 3 {
			d := jute.NewDecoder(r.readFrame())
			if xid, _, code := d.Int(), d.Long(), d.Int(); code != 0 || (k == 0) != (xid == 1) {
				t.Fatalf("burst %d reply %d: xid %d code %d", i, k, xid, code)
			}
		}
		val := fmt.Sprint("v", i)
		set := jute.AppendInt(jute.AppendBuffer(jute.AppendString(nil, "/r"), []byte(val)), -1)
		if code, _ := w.call(5, set); code != 0 {
			t.Fatalf("setData: %d", code)
		}
		// Sent after the write was acknowledged: must see it.
		code, d := r.call(4, getData)
		if got := string(d.Buffer()); code != 0 || got != val {
			t.Fatalf("round %d: getData after an acknowledged setData(%q) read %q (code %d)", i, val, got, code)
		}
	}
}
