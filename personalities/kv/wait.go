package kv

import (
	"time"

	"hourglass/personalities/kv/keyspace"
)

// WAIT and WAITAOF. Every acknowledged write is already durable on a
// majority of the log's servers, and appended to this node's fsynced
// log; what the other nodes of the ensemble may lack is having applied
// it. So a "replica" here is another ensemble node, and it has a write
// once its applied position reaches the position this node had applied
// when the client's earlier writes were all answered.

func init() {
	local("wait", 3, localWait)
	local("waitaof", 4, localWaitAOF)
}

// waitPoll bounds how often WAIT asks the other nodes for their
// positions.
const waitPoll = 20 * time.Millisecond

func localWait(c *conn, args [][]byte) any {
	n, d, err := waitArgs(args)
	if err != nil {
		return err
	}
	return c.waitReplicas(n[0], d)
}

func localWaitAOF(c *conn, args [][]byte) any {
	n, d, err := waitArgs(args)
	if err != nil {
		return err
	}
	want := n[1]
	if n[0] > 1 {
		// Only this node's own log is local, so the condition never
		// holds: WAITAOF waits out its timeout, as Redis would.
		want = 1 << 62
	}
	return []any{int64(1), c.waitReplicas(want, d)}
}

// waitArgs parses the counts of WAIT and WAITAOF and their timeout, the
// last argument, as Redis does in that order.
func waitArgs(args [][]byte) ([]int64, time.Duration, any) {
	n := make([]int64, len(args)-2)
	for i := range n {
		v, ok := keyspace.ParseInt(args[i+1])
		if !ok {
			return nil, 0, keyspace.ErrNotInteger
		}
		n[i] = v
	}
	d, err := waitTimeout(args[len(args)-1])
	return n, d, err
}

// waitTimeout parses a timeout in milliseconds; 0 means none.
func waitTimeout(arg []byte) (time.Duration, any) {
	ms, ok := keyspace.ParseInt(arg)
	if !ok {
		return 0, keyspace.Error("ERR timeout is not an integer or out of range")
	}
	if ms < 0 {
		return 0, keyspace.Error("ERR timeout is negative")
	}
	return time.Duration(min(ms, int64(1<<62)/int64(time.Millisecond))) * time.Millisecond, nil
}

// waitReplicas waits, up to d (0: until the connection or the server
// closes), until want other nodes have applied the connection's writes,
// and returns how many have.
func (c *conn) waitReplicas(want int64, d time.Duration) int64 {
	c.waitPending()
	if c.s.cfg.Applied == nil || c.s.cfg.PeersApplied == nil {
		return 0
	}
	target := c.s.cfg.Applied()
	var deadline <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		deadline = t.C
	}
	var gone <-chan struct{}
	if c.rd.Buffered() == 0 {
		closed, stop := watchClose(c.nc)
		defer stop()
		gone = closed
	}
	for {
		peers := c.s.cfg.PeersApplied(c.s.ctx)
		var n int64
		for _, p := range peers {
			if p >= target {
				n++
			}
		}
		if n >= want || len(peers) == 0 {
			return n
		}
		select {
		case <-time.After(waitPoll):
		case <-deadline:
			return n
		case <-gone:
			c.quit = true
			return n
		case <-c.s.ctx.Done():
			return n
		}
	}
}
