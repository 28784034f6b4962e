package sql

import (
	"context"
	"encoding/binary"

	"hourglass/personalities/sql/exec"
)

// Extended-protocol messages up to a Sync form one implicit transaction
// in Postgres: an error rolls back what the earlier Executes of the
// pipeline did. Here a lone Execute before its Sync (the common case)
// runs like a simple statement, through the log by itself; when the
// client has already sent another Execute before the Sync (a pipeline, a
// batch), the pipeline runs as an implicit transaction from its first
// Execute, committed at Sync. A pipeline whose later Executes arrive
// only after the first has run is not made one transaction.

// pipelined reports whether the bytes already received hold another
// Execute before the next Sync.
func (c *conn) pipelined() bool {
	b, _ := c.fr.r.Peek(c.fr.r.Buffered())
	for len(b) >= 5 {
		switch b[0] {
		case 'E':
			return true
		case 'S':
			return false
		}
		n := int(binary.BigEndian.Uint32(b[1:5]))
		if n < 4 || n+1 > len(b) {
			return false
		}
		b = b[n+1:]
	}
	return false
}

// beginPipeline opens the implicit transaction of a pipeline before an
// Execute, if there is one to open.
func (c *conn) beginPipeline(st *exec.Statement) {
	if c.implicit || c.ss.state != txIdle || st.Node.GetTransactionStmt() != nil || !c.pipelined() {
		return
	}
	c.implicit = true
	c.ss.state, c.ss.tx = txOpen, &transaction{now: timestamp(c.s.cfg.Clock())}
}

// endPipeline commits (or, after an error, drops) the implicit
// transaction at Sync. A BEGIN inside the pipeline made it explicit.
func (c *conn) endPipeline(ctx context.Context) {
	if !c.implicit {
		return
	}
	c.implicit = false
	if c.ss.state == txOpen {
		if err := c.ss.commit(ctx); err != nil {
			c.sendError(err)
		}
	}
	c.ss.end()
}
