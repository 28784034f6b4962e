// Package kv is the Redis personality: a server that speaks Redis 7.2's
// protocol (RESP2, and RESP3 after HELLO 3) to clients such as redis-cli
// and go-redis, and the top-layer applicator of the "kv" mount of the
// engine stack.
//
// # Layers
//
//   - kv/resp reads requests from the socket under Redis's limits.
//   - kv/keyspace is the data: the keyspace model and the data commands,
//     pure and deterministic (see its package doc for the layout, versions
//     and expiry).
//   - kv/glob matches Redis glob patterns.
//   - kv/luasandbox is the Lua 5.1 environment of scripts (gopher-lua
//     with Redis's libraries, read-only globals and a deterministic
//     budget).
//   - This package is the server around them: connections, the command
//     table (keyspace's data commands merged with the connection
//     commands: PING, ECHO, QUIT, SELECT, AUTH, HELLO, RESET, CLIENT,
//     COMMAND, CONFIG, INFO, MEMORY, MIGRATE, TIME, LASTSAVE, SAVE, BGSAVE, MULTI, EXEC,
//     DISCARD, WATCH, UNWATCH, SUBSCRIBE and the other pub/sub commands,
//     ACL), the ACL users (replicated through the log, see aclusers.go)
//     and the permission check before each command (kv/acl),
//     reads on views, writes on the connection's stream, MULTI queueing
//     and WATCH, blocking waits, pub/sub delivery, the scan cursor table,
//     the applicator glue and the expiry ticks. Goroutines, sockets and
//     clocks live here, never in kv/keyspace.
//
// # Behaviour
//
// Each connection is served by one goroutine that reads a request,
// answers it and reads the next; replies leave in request order, written
// out whenever no complete request is left in the connection's buffer or
// Config.MaxPipeline replies are waiting.
//
//   - A read (GET, HGETALL, SCAN, ...) runs against a view of the applied
//     state from Sync, taken after the connection's earlier writes were
//     applied; a run of reads shares one view, and the view is dropped
//     before the connection waits on the socket, so a request never reads
//     a view taken before it arrived. Reads decide expiry by Config.Clock.
//   - A write is checked at once (a syntax error never reaches the log),
//     then proposed, without waiting, on the connection's stream of the
//     batching engine: a connection's writes reach the log in the order
//     sent, bundled while one batch is under way. Apply runs it on every
//     replica at the log time; its reply is the applied command's. A
//     write the stack cannot report on (timeout, outcome unknown) is
//     answered "UNCERTAIN the write may or may not have been applied"; an
//     unavailable log, "TRYAGAIN ...".
//   - MULTI queues commands on the connection; EXEC proposes them as one
//     entry, applied in one transaction. WATCH records versions from a
//     view; the entry carries them and apply aborts on any change.
//   - A blocking command whose apply says it would block waits on this
//     node for one of its keys to be written by any entry, then is
//     proposed again; a timeout, CLIENT UNBLOCK, the client hanging up
//     (watched on the socket while it waits) or Close ends the wait.
//   - PUBLISH is a write; once its entry commits, every node delivers the
//     message to its own subscribers, so subscribers of every node see
//     every message in log order. Subscriptions are node state: SUBSCRIBE
//     costs no log entry, and PUBLISH's count and PUBSUB report this node.
//   - Keyspace notifications are made at apply, on every node, with the
//     classes this node's notify-keyspace-events (Config.
//     NotifyKeyspaceEvents, CONFIG SET) asks for while anybody here
//     subscribes, and delivered with PUBLISH's messages, in log order. A
//     read's keymiss events go to this node's subscribers after the read.
//   - Scan cursors this node handed out are kept in a table of the last
//     10000; any other cursor is resolved by package keyspace's walk.
//   - EVAL and EVALSHA are writes: one entry each, with the node's
//     script budget (CONFIG lua-instruction-limit and lua-memory-limit,
//     Config.ScriptLimits), run at apply in the entry's transaction.
//     EVAL_RO and EVALSHA_RO are reads on this node; SCRIPT KILL stops
//     them (a script running at apply answers UNKILLABLE). SCRIPT LOAD
//     and FLUSH go through the log; SCRIPT EXISTS reads.
//   - FCALL is a write like EVAL; FCALL_RO a read on this node, which
//     FUNCTION KILL stops and FUNCTION STATS shows. FUNCTION LOAD,
//     DELETE, FLUSH and RESTORE go through the log; LIST, STATS and
//     DUMP read.
//   - Once a second, a node whose clock sees a key past due proposes a
//     tick, so idle keys expire, identically on every replica.
//   - CONFIG SET of the eviction settings (maxmemory, maxmemory-policy,
//     ...) is a write: apply stores them on every replica, and evicts by
//     them before each command. While the policy is LRU or LFU, the keys
//     this node's reads touch are proposed every 100 ms in one touch
//     entry, so that the access information is the same everywhere.
//   - MIGRATE restores the keys on the target over its own connection,
//     then deletes them through the log under WATCH.
//
// # Limits
//
//   - Config.MaxClients connections (default 10000); one more is answered
//     "ERR max number of clients reached" and closed.
//   - Config.Limits bounds a request (package resp); before AUTH, when
//     Config.RequirePass is set, Redis's tighter limits apply.
//   - Config.ProposeTimeout (default 30s) bounds a write's wait for the
//     log and a read's Sync.
//   - A subscriber more than 8192 messages behind is disconnected.
//   - Databases: keyspace.Databases (16).
//
// # Usage
//
//	router := platform.NewRouter(batching.New(timekeeper.New(base, nil), batching.Config{}))
//	srv := kv.New(kv.Config{Logger: log}, router.Mount("kv"))
//	go srv.Serve(ln) // returns nil after Close
//	...
//	srv.Close() // closes the listeners and connections, waits for them
package kv
