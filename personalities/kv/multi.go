package kv

import (
	"math/rand/v2"

	"hourglass/personalities/kv/keyspace"
)

// Transactions: MULTI queues commands on the connection; EXEC proposes
// them as one log entry (keyspace.EncodeExec), applied in one transaction
// on every replica. WATCH records the versions of keys at a read; EXEC's
// entry carries them and apply aborts the transaction (a null reply) if
// any changed, whichever node changed it.

func init() {
	local("multi", 1, localMulti, "fast").control = true
	local("exec", 1, localExec).control = true
	local("discard", 1, localDiscard, "fast").control = true
	w := local("watch", -2, localWatch, "fast")
	w.control, w.FirstKey, w.LastKey, w.Step = true, 1, -1, 1
	local("unwatch", 1, localUnwatch, "fast").control = true
}

// multiState is a connection's open transaction.
type multiState struct {
	queued [][]byte // encoded commands (db, seed, args)
	failed bool     // a command was refused while queueing
	db     int      // the database when MULTI began
	writes bool     // a queued command is one a WRITE pause holds
	// lines are the queued commands' MONITOR lines, shown when EXEC
	// runs them.
	lines []monitorLine
}

func localMulti(c *conn, args [][]byte) any {
	if c.multi != nil {
		return keyspace.Error("ERR MULTI calls can not be nested")
	}
	c.multi = &multiState{db: c.db}
	return keyspace.OK
}

func localDiscard(c *conn, args [][]byte) any {
	if c.multi == nil {
		return keyspace.Error("ERR DISCARD without MULTI")
	}
	c.db = c.multi.db
	c.multi = nil
	c.watches = nil
	return keyspace.OK
}

func localUnwatch(c *conn, args [][]byte) any {
	c.watches = nil
	return keyspace.OK
}

func localWatch(c *conn, args [][]byte) any {
	if c.multi != nil {
		return keyspace.Error("ERR WATCH inside MULTI is not allowed")
	}
	ks, err := c.readKeyspace()
	if err != nil {
		return platformError(err)
	}
	ws, err := ks.Watch(args[1:])
	if err != nil {
		return replyOf(nil, err)
	}
	c.watches = append(c.watches, ws...)
	return keyspace.OK
}

// queue adds a command to the open transaction, or refuses it (then EXEC
// will fail) with the error it would have had.
func (c *conn) queue(cmd *command, args [][]byte) any {
	if cmd.data == nil && !keyspace.RunsInTransaction(cmd.Name) {
		c.multi.failed = true
		return keyspace.Errorf("ERR Command not allowed inside a transaction: '%s'", cmd.Name)
	}
	// A command whose arguments are wrong is queued all the same and
	// fails at EXEC, as in Redis; only unknown commands and wrong arity
	// abort the transaction.
	if cmd.Name == "select" {
		// SELECT switches the database for the commands queued after it.
		r := cmd.local(c, args)
		if r != any(keyspace.OK) {
			c.multi.failed = true
			return r
		}
	}
	c.multi.writes = c.multi.writes || c.pauseHolds(cmd, args)
	if cmd.data != nil && (cmd.data.Kind == keyspace.KindWrite || cmd.data.KindOf(args) == keyspace.KindWrite) {
		c.multi.queued = append(c.multi.queued, c.writeBody(cmd.data, args))
	} else {
		c.multi.queued = append(c.multi.queued, keyspace.EncodeCommand(c.db, rand.Uint64(), args))
	}
	return keyspace.SimpleString("QUEUED")
}

func localExec(c *conn, args [][]byte) any {
	m := c.multi
	if m == nil {
		return keyspace.Error("ERR EXEC without MULTI")
	}
	c.multi = nil
	watches := c.watches
	c.watches = nil
	if m.failed {
		c.db = m.db
		return keyspace.Error("EXECABORT Transaction discarded because of previous errors.")
	}
	c.execLines = m.lines
	c.proposeCommand(keyspace.EncodeExec(c.db, watches, c.scriptUser(), m.queued))
	return deferred{}
}

// deferred tells handle that the command queued its own reply slot.
type deferred struct{}
