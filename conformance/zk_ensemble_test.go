package conformance

import (
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// TestZKEnsemble: on three nodes, a watch set on one node fires for a
// write on another; a session moved between nodes keeps its ephemerals and
// watches; when its client disappears, its ephemerals vanish on every
// node once the session times out.
func TestZKEnsemble(t *testing.T) {
	e := startEnsemble(t, 3, "--zk-tick-time", "250ms")
	clients := make([]*zk.Conn, 3)
	for i, g := range e.nodes {
		clients[i] = g.zkClient(t)
	}
	mustZK[string](t, "create")(clients[0].Create("/data", []byte("0"), 0, openACL))

	// A watch on node 1 fires for a write on node 3.
	_, _, w, err := clients[0].GetW("/data")
	if err != nil {
		t.Fatal(err)
	}
	mustZK[*zk.Stat](t, "set on n3")(clients[2].Set("/data", []byte("1"), -1))
	expectEvent(t, w, zk.EventNodeDataChanged, "/data")

	// A session on node 1 (through p1; p2 refuses for now).
	p1, p2 := newProxy(t), newProxy(t)
	p1.setTarget(e.nodes[0].addr("zookeeper"))
	p2.setTarget(e.nodes[1].addr("zookeeper"))
	p2.set(linkDown)
	mover, events := zkConnect(t, []string{p1.addr(), p2.addr()}, 2*time.Second)
	session := mover.SessionID()
	mustZK[string](t, "ephemeral")(mover.Create("/data/eph", nil, zk.FlagEphemeral, openACL))
	_, _, moverW, err := mover.GetW("/data")
	if err != nil {
		t.Fatal(err)
	}
	// Move it to node 2.
	p2.set(linkUp)
	p1.set(linkDown)
	waitFor(t, "the session on node 2", 15*time.Second, func() bool {
		for {
			select {
			case ev := <-events:
				if ev.State == zk.StateExpired {
					t.Fatal("the session expired while moving")
				}
				if ev.State == zk.StateHasSession {
					return true
				}
			default:
				return false
			}
		}
	})
	if mover.SessionID() != session {
		t.Fatalf("session %#x became %#x", session, mover.SessionID())
	}
	// Its watch survived the move, and fires for a write on node 3.
	mustZK[*zk.Stat](t, "set on n3")(clients[2].Set("/data", []byte("2"), -1))
	expectEvent(t, moverW, zk.EventNodeDataChanged, "/data")
	if ok, st, _ := clients[2].Exists("/data/eph"); !ok || st.EphemeralOwner != session {
		t.Fatal("the moved session's ephemeral is gone")
	}
	// The moved session writes on node 2.
	mustZK[string](t, "create after the move")(mover.Create("/data/after", nil, 0, openACL))

	// Its client disappears: the ephemeral vanishes everywhere.
	p2.set(linkBlackhole)
	for i, c := range clients {
		waitFor(t, "the ephemeral gone on every node", 20*time.Second, func() bool {
			ok, _, err := c.Exists("/data/eph")
			if err != nil {
				t.Fatalf("exists on node %d: %v", i+1, err)
			}
			return !ok
		})
	}
}

func expectEvent(t *testing.T, ch <-chan zk.Event, typ zk.EventType, path string) {
	t.Helper()
	select {
	case ev := <-ch:
		if ev.Type != typ || ev.Path != path {
			t.Fatalf("event %+v, want %v on %s", ev, typ, path)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("no %v event on %s", typ, path)
	}
}

// TestZKEnsembleNodeLoss: the node a session is on dies (kill -9; it runs
// the log's sequencer, so the log fails over too); the client resumes on
// another node with its session, ephemeral and watch, and writes on.
func TestZKEnsembleNodeLoss(t *testing.T) {
	e := startEnsemble(t, 3)
	p1, p2 := newProxy(t), newProxy(t)
	p1.setTarget(e.nodes[0].addr("zookeeper")) // the first node runs the initial sequencer
	p2.setTarget(e.nodes[1].addr("zookeeper"))
	p2.set(linkDown)
	c, events := zkConnect(t, []string{p1.addr(), p2.addr()}, 5*time.Second)
	session := c.SessionID()
	mustZK[string](t, "ephemeral")(c.Create("/eph", nil, zk.FlagEphemeral, openACL))
	mustZK[string](t, "create")(c.Create("/data", []byte("0"), 0, openACL))
	_, _, w, err := c.GetW("/data")
	if err != nil {
		t.Fatal(err)
	}
	p2.set(linkUp)
	e.nodes[0].kill()
	waitFor(t, "the session back on node 2", 30*time.Second, func() bool {
		for {
			select {
			case ev := <-events:
				if ev.State == zk.StateExpired {
					t.Fatal("the session expired")
				}
				if ev.State == zk.StateHasSession {
					return true
				}
			default:
				return false
			}
		}
	})
	if c.SessionID() != session {
		t.Fatalf("session %#x became %#x", session, c.SessionID())
	}
	other := e.nodes[2].zkClient(t)
	mustZK[*zk.Stat](t, "set on n3")(other.Set("/data", []byte("1"), -1))
	expectEvent(t, w, zk.EventNodeDataChanged, "/data")
	if ok, st, err := other.Exists("/eph"); err != nil || !ok || st.EphemeralOwner != session {
		t.Fatalf("the ephemeral after the node loss: %v %+v %v", ok, st, err)
	}
	mustZK[string](t, "write after the node loss")(c.Create("/after", nil, 0, openACL))
}
