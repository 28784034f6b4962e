// Package keyspace is the data of the Redis personality: the keyspace
// model (records, collections, the expiry index, tombstones) and the data
// commands that read and change it (strings, bitmaps, keys, hashes,
// lists, sets, sorted sets, geo commands over sorted sets, HyperLogLog
// strings, streams, SORT, DUMP and RESTORE, OBJECT, LCS, PUBLISH, the
// apply side of transactions and of blocking commands, the active expiry
// cycle, scan steps), with the reply values they return.
//
// It is the pure half of the personality. It opens no socket, starts no
// goroutine, reads no clock and never waits: the server (package kv)
// owns connections, the RESP front end, the connection commands (CLIENT,
// HELLO, AUTH, SUBSCRIBE, CONFIG, INFO, ...), MULTI queueing, WATCH, pub/sub
// delivery, blocking waits and the scan cursor table, and calls in here.
//
// # Commands
//
// The data commands form a table (Lookup, Commands); the server merges it
// with its own connection commands. A Command has a Spec (name, arity,
// key positions, flags, as COMMAND INFO reports them) and a Kind:
//
//   - KindRead runs against a view of the applied state: Command.Exec on a
//     Keyspace from NewView.
//   - KindScan is a read that continues from a cursor: Command.Scan.
//   - KindWrite is proposed to the log as EncodeCommand's body and runs
//     when the entry is applied: Apply.
//
// Command.KindOf gives the kind of one command line: a write whose
// arguments only read (BITFIELD with GETs only) runs as a read. A command
// that BlocksWith its arguments (BLPOP, XREAD BLOCK, ...) is proposed to
// the log whatever its kind.
//
// Command.Check validates a command line without the keyspace, so that
// the proposer answers a syntax error without a log append; everything
// that depends on state runs at apply. A command's own failure (wrong
// type, syntax, overflow) is a reply, an Error, whose text is Redis 7's
// word for word; any other error means the store failed.
//
// # Determinism
//
// Apply and ExpireCycle are functions of the transaction's state, the
// body (database, arguments and the proposer's random seed), the
// transaction's platform.Version and the log time, and of nothing else:
// every replica that applies the same entry writes the same keys and
// values. Randomness (SPOP, SRANDMEMBER, RANDOMKEY, ...) comes from a PCG
// seeded with the body's seed; iteration is in key order; no map order,
// clock or node state reaches a write. The only node-local input is
// Effects.Observers, which may shape a reply to the proposer (PUBLISH's
// count of this node's subscribers) and whether readiness is noted, never
// what apply writes. Reads (NewView) use the node's clock and a fresh
// seed instead; they change nothing.
//
// # Layout
//
// The keyspace lives in the transaction's namespace (the router's "p/kv/"
// for the kv mount):
//
//	'k' db key              -> record: type, expiry, version, access
//	                           time and LFU counter, and a
//	                           string's value or a collection's
//	                           generation and counts (a list's head and
//	                           tail too)
//	'e' gen sub             -> one element of a collection: a hash field,
//	                           a set member, a list item (by index), a
//	                           sorted-set member -> score and
//	                           score+member -> nothing
//	'x' expireAt db key     -> the expiry index, in time order
//	't' version db key      -> tombstones of deleted keys, in age order
//	'n' db                  -> the number of keys, for DBSIZE
//	'f' db                  -> the version of the last FLUSHDB, FLUSHALL
//	                           or SWAPDB of db
//	'g'                     -> the next collection generation
//	'L' sha                 -> a script's body (SCRIPT LOAD, EVAL)
//	'm'                     -> the used memory (see memory.go)
//	'r' hash db key         -> the live keys, for sampling
//	'v' hash db key         -> the live keys with an expiry, likewise
//	'C' name                -> an eviction setting (see access.go)
//
// with db one byte (Databases databases, 0 to 15) and numbers 8 bytes big
// endian. Elements hang off a generation, not the key's name, so RENAME,
// MOVE and SWAPDB move a key of any size in O(1), and deleting one is one
// range deletion.
//
// Every record carries the version of the transaction that last wrote
// it: platform.Version.Packed(), (position+1)<<20 | sub-position, never
// 0. A deleted key leaves a tombstone with the version of its deletion,
// so WATCH (Keyspace.Watch) sees a delete as a change; a key expired but
// not yet deleted reads as version 2^64-1. ExpireCycle collects
// tombstones 2^20 log positions after their deletion; a transaction that
// watched a key for longer aborts.
//
// # Expiry
//
// Expiry is in milliseconds since the epoch, on the log time at apply
// (the timekeeper's, passed as now): a write that meets an expired key
// deletes it first, and ExpireCycle, run once per log entry, deletes up
// to 20 due keys from the front of the expiry index and up to 20 old
// tombstones. A key is alive at exactly its expiry time. Reads hide the
// keys expired by the node's clock; ExpiryDue tells the node when a tick
// (TickBody) would expire something, so idle keys expire too.
//
// # Memory and eviction
//
// The apply writer accounts the estimated size of every record and
// element it writes (UsedMemory) and keeps the sampling indexes. Before
// each command, Apply evicts keys while the used memory is over the
// replicated maxmemory, by the replicated policy (EvictionConfig, set by
// a ConfigBody entry), drawing with the body's seed; a denyoom command
// that finds no room answers ErrOOM. Records carry their access time and
// LFU counter, stamped by writes and by touch entries (TouchBody) in
// which a node reports the keys its reads touched.
//
// # Effects
//
// Apply does not deliver anything: the messages PUBLISH applies (and the
// keyspace notifications, see Notifications) and the keys of lists,
// sorted sets and streams a write leaves (and streams deleted, groups
// destroyed, databases SWAPDB exchanges or FLUSHDB empties) are appended
// to an Effects, which the node delivers to its
// subscribers and blocked clients after the transaction commits. A
// blocking command (BLPOP, BZPOPMIN, XREAD BLOCK, ...) that finds nothing
// to take returns a WouldBlock and changes nothing (an XREADGROUP that
// serves nothing neither creates its consumer nor marks it seen, as in
// Redis 7.0); the server waits for its BlockKeys to become ready and
// proposes it again, with the WouldBlock's Retry arguments if it has
// them. In a transaction it never waits: it answers its timeout reply.
//
// # Notifications
//
// A write command notifies what it changed as Redis 7.0 does, one line
// per event, after the change:
//
//	ks.notify(EventList, "lpush", key)
//	ks.notifyEmptied(EventList, "lpop", key, rec.count == 0) // then "del"
//
// Creating a key notifies "new" (put), deleting an expired one
// "expired" (lookup at apply, ExpireCycle), and a view's lookup of a
// missing key "keymiss" when the server asked for them (NotifyMisses);
// the writes Redis looks keys up for as reads call ks.missed. Which
// classes are recorded is the node's (Observers.Notifications), so
// apply writes the same everywhere; the events become messages in
// Effects.Published, in order with PUBLISH's. A new command family adds
// its ks.notify calls with Redis's class and event names (t_*.c's
// notifyKeyspaceEvent calls), and a row of its commands to
// conformance/notify_test.go's script.
//
// # Transactions
//
// EncodeExec bundles a transaction's queued bodies and its Watches into
// one body; Apply checks the watched versions (and each database's flush
// version), answers a NullArray if any changed, and otherwise runs the
// commands in order in the one transaction, each with its own seed; a
// command's failure is its reply and the others still run, as in Redis.
// PING, ECHO and SELECT may be queued too (RunsInTransaction).
//
// # Scripts
//
// EVAL and EVALSHA are writes whose body (EncodeScript) carries the
// proposer's ScriptLimits; apply runs the script (package luasandbox)
// in the entry's transaction, its redis.call writes included, and
// caches EVAL's body. EVAL_RO and EVALSHA_RO are reads: a write from
// them is refused. math.random is seeded to 0 per script, TIME inside a
// script is the log time, and the budget is counted in instructions and
// string bytes, so a script is as deterministic as any other command.
//
// # Scans
//
// A cursor is a 63-bit FNV-1a hash of the scan's target (command, and
// key for HSCAN, SSCAN, ZSCAN) and the position the next step starts at,
// never 0. A CursorTable resolves the cursors a node handed out at once;
// any other cursor is resolved by walking the scan for the position that
// hashes to it, and one whose position is gone restarts the scan, so a
// scan survives moving between nodes: items may repeat, none present
// throughout is missed. COUNT counts positions, as Redis counts buckets.
//
// # Limits
//
//   - Databases: 16.
//   - A string built by APPEND or SETRANGE: 512 MiB.
//   - A negative count of HRANDFIELD, SRANDMEMBER or ZRANDMEMBER: 2^20
//     picks.
//   - A command name: 32 bytes (a longer one is unknown).
//
// # Usage
//
// At the proposer, for each command line args:
//
//	cmd := keyspace.Lookup(args[0])
//	if err := cmd.Check(args, time.Now()); err != nil {
//		return err // an Error reply
//	}
//	switch cmd.KindOf(args) {
//	case keyspace.KindRead:
//		return cmd.Exec(keyspace.NewView(view, db, time.Now(), rand.Uint64()), args)
//	case keyspace.KindWrite:
//		stream.Propose(&platform.Entry{Body: keyspace.EncodeCommand(db, rand.Uint64(), args)})
//	}
//
// In the applicator, for each proposal, and after the commit:
//
//	r, err := keyspace.Apply(txn, at, timekeeper.Time(e), e.Body, &fx)
//	...
//	deliver(fx.Published, fx.Ready, fx.ReadyDBs)
//	fx.Reset()
package keyspace
