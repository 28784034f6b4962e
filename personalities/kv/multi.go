package kv

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"

	"hourglass/internal/uvarint"
)

// Transactions: MULTI queues commands on the connection; EXEC proposes
// them as one log entry, applied in one transaction on every replica.
// WATCH records the versions of keys (and of their database, which FLUSHDB
// and SWAPDB bump) at a Sync; EXEC's entry carries them and apply aborts
// the transaction (a null reply) if any changed, whichever node changed it.

// cmdExec is the internal command that carries a transaction.
const cmdExec = "\x00exec"

func init() {
	register(&command{name: "multi", arity: 1, kind: kindLocal, local: localMulti, control: true, flags: []string{"fast"}})
	register(&command{name: "exec", arity: 1, kind: kindLocal, local: localExec, control: true})
	register(&command{name: "discard", arity: 1, kind: kindLocal, local: localDiscard, control: true, flags: []string{"fast"}})
	register(&command{name: "watch", arity: -2, kind: kindLocal, local: localWatch, control: true, firstKey: 1, lastKey: -1, step: 1, flags: []string{"fast"}})
	register(&command{name: "unwatch", arity: 1, kind: kindLocal, local: localUnwatch, control: true, flags: []string{"fast"}})
}

// multiState is a connection's open transaction.
type multiState struct {
	queued [][]byte // encoded commands (db, seed, args)
	failed bool     // a command was refused while queueing
	db     int      // the database when MULTI began
}

// watched is one WATCHed key and what it looked like.
type watched struct {
	db      int
	key     []byte
	version uint64 // the key's version
	flushed uint64 // its database's flush version
}

func localMulti(c *conn, args [][]byte) any {
	if c.multi != nil {
		return redisError("ERR MULTI calls can not be nested")
	}
	c.multi = &multiState{db: c.db}
	return replyOK
}

func localDiscard(c *conn, args [][]byte) any {
	if c.multi == nil {
		return redisError("ERR DISCARD without MULTI")
	}
	c.db = c.multi.db
	c.multi = nil
	c.watches = nil
	return replyOK
}

func localUnwatch(c *conn, args [][]byte) any {
	c.watches = nil
	return replyOK
}

func localWatch(c *conn, args [][]byte) any {
	if c.multi != nil {
		return redisError("ERR WATCH inside MULTI is not allowed")
	}
	ks, err := c.readKeyspace()
	if err != nil {
		return platformError(err)
	}
	flushed, err := ks.flushVersion()
	if err != nil {
		return replyOf(nil, err)
	}
	for _, k := range args[1:] {
		v, err := ks.keyVersion(k)
		if err != nil {
			return replyOf(nil, err)
		}
		c.watches = append(c.watches, watched{db: c.db, key: k, version: v, flushed: flushed})
	}
	return replyOK
}

// queue adds a command to the open transaction, or refuses it (then EXEC
// will fail) with the error it would have had.
func (c *conn) queue(cmd *command, args [][]byte) any {
	if cmd.kind == kindLocal && !allowedInMulti(cmd.name) {
		c.multi.failed = true
		return redisError(fmt.Sprintf("ERR Command not allowed inside a transaction: '%s'", cmd.name))
	}
	// A command whose arguments are wrong is queued all the same and
	// fails at EXEC, as in Redis; only unknown commands and wrong arity
	// abort the transaction.
	if cmd.name == "select" {
		// SELECT switches the database for the commands queued after it.
		r := cmd.local(c, args)
		if r != any(replyOK) {
			c.multi.failed = true
			return r
		}
	}
	c.multi.queued = append(c.multi.queued, encodeCommand(c.db, rand.Uint64(), args))
	return simpleString("QUEUED")
}

// allowedInMulti lists the connection commands a transaction may hold:
// they are pure and run at apply.
func allowedInMulti(name string) bool {
	return name == "ping" || name == "echo" || name == "select"
}

func localExec(c *conn, args [][]byte) any {
	m := c.multi
	if m == nil {
		return redisError("ERR EXEC without MULTI")
	}
	c.multi = nil
	watches := c.watches
	c.watches = nil
	if m.failed {
		c.db = m.db
		return redisError("EXECABORT Transaction discarded because of previous errors.")
	}
	bundle := append([][]byte{[]byte(cmdExec), encodeWatches(watches)}, m.queued...)
	c.proposeCommand(encodeCommand(c.db, 0, bundle))
	return deferred{}
}

// deferred tells handle that the command queued its own reply slot.
type deferred struct{}

func encodeWatches(ws []watched) []byte {
	b := binary.AppendUvarint(nil, uint64(len(ws)))
	for _, w := range ws {
		b = binary.AppendUvarint(b, uint64(w.db))
		b = binary.AppendUvarint(b, uint64(len(w.key)))
		b = append(b, w.key...)
		b = binary.AppendUvarint(b, w.version)
		b = binary.AppendUvarint(b, w.flushed)
	}
	return b
}

func decodeWatches(b []byte) ([]watched, bool) {
	n, k, ok := uvarint.Read(b)
	if !ok || n > uint64(len(b)) {
		return nil, false
	}
	b = b[k:]
	ws := make([]watched, 0, n)
	for range n {
		var w watched
		var db uint64
		if db, k, ok = uvarint.Read(b); !ok || db >= Databases {
			return nil, false
		}
		w.db = int(db)
		if w.key, b, ok = uvarint.ReadBytes(b[k:]); !ok {
			return nil, false
		}
		if w.version, k, ok = uvarint.Read(b); !ok {
			return nil, false
		}
		b = b[k:]
		if w.flushed, k, ok = uvarint.Read(b); !ok {
			return nil, false
		}
		b = b[k:]
		ws = append(ws, w)
	}
	return ws, len(b) == 0
}

// applyExec runs a transaction at apply: the watched keys are checked,
// then every command runs in order in the same transaction; a command's
// own failure is its reply and the others still run, as in Redis.
func applyExec(ks *keyspace, args [][]byte) (any, error) {
	ws, ok := decodeWatches(args[1])
	if !ok {
		return nil, redisError("ERR malformed transaction")
	}
	for _, w := range ws {
		kd := ks.withDB(w.db)
		v, err := kd.keyVersion(w.key)
		if err != nil {
			return nil, err
		}
		f, err := kd.flushVersion()
		if err != nil {
			return nil, err
		}
		if v != w.version || f != w.flushed {
			return nullArray{}, nil
		}
	}
	replies := make([]any, 0, len(args)-2)
	for _, body := range args[2:] {
		db, seed, cargs, err := decodeCommand(body)
		if err != nil {
			return nil, redisError("ERR malformed transaction")
		}
		sub := ks.withDB(db)
		sub.seed, sub.rng = seed, nil
		r, err := execInTransaction(sub, cargs)
		if err != nil {
			if _, ok := err.(redisError); !ok {
				return nil, err
			}
			r = err
		}
		if wb, ok := r.(wouldBlock); ok {
			r = wb.timeoutReply // a transaction never waits
		}
		replies = append(replies, r)
	}
	return replies, nil
}

// execInTransaction runs one queued command at apply.
func execInTransaction(ks *keyspace, args [][]byte) (any, error) {
	cmd := lookupCommand(args[0])
	if cmd == nil || !cmd.arityOK(len(args)) {
		return nil, redisError(fmt.Sprintf("ERR command %q cannot be applied", args[0]))
	}
	switch cmd.name {
	case "ping":
		if len(args) == 2 {
			return args[1], nil
		}
		return simpleString("PONG"), nil
	case "echo":
		return args[1], nil
	case "select":
		return replyOK, nil
	}
	if cmd.check != nil {
		if err := cmd.check(args); err != nil {
			return nil, err
		}
	}
	if cmd.kind == kindScan {
		return scanStep(cmd, args, ks, nil)
	}
	if cmd.exec == nil {
		return nil, redisError(fmt.Sprintf("ERR command '%s' cannot run in a transaction", cmd.name))
	}
	return cmd.exec(ks, args)
}

// flushVersion returns the version of the keyspace's database's last
// FLUSHDB/FLUSHALL/SWAPDB (0 if none).
func (ks *keyspace) flushVersion() (uint64, error) {
	b, ok, err := ks.r.Get(flushKey(ks.db))
	if err != nil || !ok || len(b) != 8 {
		return 0, err
	}
	return binary.BigEndian.Uint64(b), nil
}
