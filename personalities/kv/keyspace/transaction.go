package keyspace

import (
	"encoding/binary"

	"hourglass/internal/uvarint"
)

// Transactions: the server queues a MULTI's commands on the connection
// and proposes them as one log entry (EncodeExec); apply runs them in one
// transaction on every replica. WATCH records the versions of keys (and
// of their database, which FLUSHDB and SWAPDB bump) at a read; the entry
// carries them and apply aborts the transaction (a null reply) if any
// changed, whichever node changed it.

// cmdExec is the internal command that carries a transaction.
const cmdExec = "\x00exec"

// Watch is one WATCHed key and what it looked like.
type Watch struct {
	DB      int
	Key     []byte
	Version uint64 // the key's version; 0: never written
	Flushed uint64 // its database's flush version; 0: never flushed
}

// Watch returns what WATCH records of keys in the keyspace's database.
// The Watches alias keys.
func (ks *Keyspace) Watch(keys [][]byte) ([]Watch, error) {
	flushed, err := ks.flushVersion()
	if err != nil {
		return nil, err
	}
	out := make([]Watch, 0, len(keys))
	for _, k := range keys {
		v, err := ks.keyVersion(k)
		if err != nil {
			return nil, err
		}
		out = append(out, Watch{DB: ks.db, Key: k, Version: v, Flushed: flushed})
	}
	return out, nil
}

// EncodeExec returns the log body of a transaction begun in database db:
// the watches to check and the queued command bodies (EncodeCommand's),
// run in order at apply, by user: "" for a user who may run anything,
// else the user whose permissions the apply checks again for each
// queued command. The result does not alias its arguments.
func EncodeExec(db int, watches []Watch, user string, queued [][]byte) []byte {
	bundle := append([][]byte{[]byte(cmdExec), encodeWatches(watches)}, withUser(user, queued)...)
	return EncodeCommand(db, 0, bundle)
}

// RunsInTransaction reports whether the connection command name (PING,
// ECHO, SELECT) may be queued in a transaction: it touches no data, and
// apply answers it as the connection would.
func RunsInTransaction(name string) bool {
	return name == "ping" || name == "echo" || name == "select"
}

func encodeWatches(ws []Watch) []byte {
	b := binary.AppendUvarint(nil, uint64(len(ws)))
	for _, w := range ws {
		b = binary.AppendUvarint(b, uint64(w.DB))
		b = binary.AppendUvarint(b, uint64(len(w.Key)))
		b = append(b, w.Key...)
		b = binary.AppendUvarint(b, w.Version)
		b = binary.AppendUvarint(b, w.Flushed)
	}
	return b
}

func decodeWatches(b []byte) ([]Watch, bool) {
	n, k, ok := uvarint.Read(b)
	if !ok || n > uint64(len(b)) {
		return nil, false
	}
	b = b[k:]
	ws := make([]Watch, 0, n)
	for range n {
		var w Watch
		var db uint64
		if db, k, ok = uvarint.Read(b); !ok || db >= Databases {
			return nil, false
		}
		w.DB = int(db)
		if w.Key, b, ok = uvarint.ReadBytes(b[k:]); !ok {
			return nil, false
		}
		if w.Version, k, ok = uvarint.Read(b); !ok {
			return nil, false
		}
		b = b[k:]
		if w.Flushed, k, ok = uvarint.Read(b); !ok {
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
func applyExec(ks *Keyspace, args [][]byte) (any, error) {
	ws, ok := decodeWatches(args[1])
	if !ok {
		return nil, Error("ERR malformed transaction")
	}
	for _, w := range ws {
		kd := ks.withDB(w.DB)
		v, err := kd.keyVersion(w.Key)
		if err != nil {
			return nil, err
		}
		f, err := kd.flushVersion()
		if err != nil {
			return nil, err
		}
		if v != w.Version || f != w.Flushed {
			return NullArray{}, nil
		}
	}
	user, queued := scriptEntryLine(args[2:])
	var checker ACLChecker
	if user != nil {
		checker, _ = ks.fx.observers().(ACLChecker)
	}
	replies := make([]any, 0, len(queued))
	for _, body := range queued {
		db, seed, cargs, err := decodeCommand(body)
		if err != nil {
			return nil, Error("ERR malformed transaction")
		}
		if checker != nil {
			// Redis checks again at EXEC: the user may have changed.
			if err := checker.Permission(ks.r, user, clientLine(cargs), ACLContextMulti); err != nil {
				if _, ok := err.(Error); !ok {
					return nil, err
				}
				replies = append(replies, err)
				continue
			}
		}
		sub := ks.withDB(db)
		sub.seed, sub.rng, sub.txnUser = seed, nil, user
		r, err := execInTransaction(sub, cargs)
		if err != nil {
			if _, ok := err.(Error); !ok {
				return nil, err
			}
			r = err
		}
		if wb, ok := r.(WouldBlock); ok {
			r = wb.TimeoutReply // a transaction never waits
		}
		replies = append(replies, r)
	}
	return replies, nil
}

// execInTransaction runs one queued command at apply.
func execInTransaction(ks *Keyspace, args [][]byte) (any, error) {
	if r, ok := execConnectionCommand(args); ok {
		return r, nil
	}
	if string(args[0]) == cmdScript {
		return applyScriptEntry(ks, args)
	}
	cmd := Lookup(args[0])
	if cmd == nil || !cmd.ArityOK(len(args)) {
		return nil, Errorf("ERR command %q cannot be applied", args[0])
	}
	if err := cmd.checkAt(args, ks.now); err != nil {
		return nil, err
	}
	return cmd.execNested(ks, args)
}

// clientLine returns the command line the client sent for a queued
// command: a script entry's EVAL, EVALSHA or FCALL line.
func clientLine(args [][]byte) [][]byte {
	if string(args[0]) == cmdScript && len(args) > 3 {
		_, line := scriptEntryLine(args[3:])
		return line
	}
	return args
}

// execConnectionCommand answers the connection commands a transaction
// may hold (RunsInTransaction) as the connection would; ok is false for
// any other command line.
func execConnectionCommand(args [][]byte) (r any, ok bool) {
	switch {
	case EqFold(args[0], "ping"):
		if len(args) == 2 {
			return args[1], true
		}
		return SimpleString("PONG"), true
	case EqFold(args[0], "echo") && len(args) == 2:
		return args[1], true
	case EqFold(args[0], "select") && len(args) == 2:
		return OK, true
	}
	return nil, false
}

// flushVersion returns the version of the keyspace's database's last
// FLUSHDB/FLUSHALL/SWAPDB (0 if none).
func (ks *Keyspace) flushVersion() (uint64, error) {
	b, ok, err := ks.r.Get(flushKey(ks.db))
	if err != nil || !ok || len(b) != 8 {
		return 0, err
	}
	return binary.BigEndian.Uint64(b), nil
}

// Logged is one command line a log entry carries, as a client sent it,
// for MONITOR on a node that applies another node's write.
type Logged struct {
	DB   int
	Args [][]byte
}

// LoggedCommands returns the command lines of body (EncodeCommand's,
// EncodeExec's or a script's): a transaction's queued commands then
// EXEC, a script's EVAL or EVALSHA line, SCRIPT LOAD and FLUSH; nil for
// a tick or a malformed body. The lines alias body.
func LoggedCommands(body []byte) []Logged {
	db, _, args, err := decodeCommand(body)
	if err != nil {
		return nil
	}
	switch string(args[0]) {
	case cmdTick:
		return nil
	case cmdScript:
		if len(args) < 4 {
			return nil
		}
		_, line := scriptEntryLine(args[3:])
		return []Logged{{db, line}}
	case cmdScriptLoad:
		return []Logged{{db, append([][]byte{[]byte("SCRIPT"), []byte("LOAD")}, args[1:]...)}}
	case cmdScriptFlush:
		return []Logged{{db, [][]byte{[]byte("SCRIPT"), []byte("FLUSH")}}}
	case cmdExec:
		var out []Logged
		_, queued := scriptEntryLine(args[2:])
		for _, q := range queued {
			if qdb, _, qargs, err := decodeCommand(q); err == nil {
				out = append(out, Logged{qdb, qargs})
			}
		}
		return append(out, Logged{db, [][]byte{[]byte("EXEC")}})
	}
	return []Logged{{db, args}}
}
