// Package native is the NativeLoglet of Delos: a loglet.Loglet whose
// entries are ordered by one sequencer and made durable on a majority of
// LogServers. A VirtualLog chains such loglets; when one cannot go on (its
// sequencer is gone, or it is reconfigured) it is sealed and a new one
// takes over, so a native loglet never elects a new sequencer.
//
// # LogServers
//
// A [LogServer] stores the entries of many loglets, keyed by [LogletID],
// in one Pebble database (an entry per key, and a meta record per loglet
// holding its [Status]). A single writer goroutine drains up to 1024
// queued operations (stores, seals, accepts, final tails, trims) into one
// Pebble batch and commits it with one fsync, so concurrent appends share
// an fsync (group commit; [LogServer.Fsyncs] counts them). Each reply
// carries the loglet's Status after the commit. A store beyond the
// server's local tail fails with [ErrGap]; a sealed server refuses stores
// with loglet.ErrSealed, except a sealer's repairs. The server keeps each
// loglet's latest stored entries (up to 4096, or 8 MiB) in memory for
// readers at the tail, and serves only what it knows committed: every
// request carries the sender's known committed tail, and a server learns
// it from there (a hint kept in memory, persisted with the next batch).
//
// # Sequencer
//
// The handle opened with no Config.Sequencer runs the loglet's sequencer;
// handles in other processes forward their appends to it ([Appender],
// the Sequencer gRPC service). The sequencer gives an append its
// positions when the append first goes into a store, replicates to every
// server with one call in flight per server (whatever queued while a
// store was under way goes into the next, up to Config.MaxBatchBytes),
// and acknowledges an append once a majority holds it: the committed tail
// is the highest position a majority reported as its local tail. Idle
// servers are told the committed tail by a Commit notice. A server that
// lacks committed entries that already left the queue is caught up with
// entries copied from the others; a server that fails is retried after a
// backoff (1ms doubling to 1s, with jitter) while the majority goes on
// without it. Its logic is a deterministic step function (seqstate.go)
// that a thin driver (sequencer.go) feeds with appends, replies and
// timers.
//
// The sequencer holds at most Config.MaxQueueEntries entries and
// Config.MaxQueueBytes bytes that have not committed
// ([DefaultMaxQueueEntries], [DefaultMaxQueueBytes]); an append beyond
// that fails at once with [ErrQueueFull], which matches
// loglet.ErrUnavailable (an append alone in the queue is taken whatever
// its size). An append whose context ends before it commits returns at
// once: with [ErrAppendExpired] if no server was sent it (it left the
// queue and is never written), with loglet.ErrOutcomeUnknown otherwise.
// Appends with a non-zero loglet.AppendID are deduplicated: a retry joins
// the original while it is queued, and learns its position afterwards
// (for the last 65536 ids).
//
// A fresh loglet's sequencer starts at position 0. A loglet with a single
// LogServer resumes its sequencer at that server's tail after a restart.
// A replicated loglet's sequencer is never resumed (a minority may hold
// entries nobody else knows of): the reopened handle reads and seals, and
// its appends fail with loglet.ErrUnavailable, so the VirtualLog replaces
// the loglet.
//
// # Seal
//
// [Loglet.Seal] decides the sealed loglet's final tail by single-decree
// Paxos with the LogServers as acceptors, running the steps of
// internal/paxos (the MetaStore's too). Phase 1 ([Server.Seal]) sets the
// sticky seal bit on a majority and promises a fresh [Ballot]; the value
// is the tail accepted under the highest ballot among the promisers, or
// else the highest local tail among them (every acknowledged entry is on
// a majority, so below it). The entries below that tail are repaired onto
// the promisers, copied from any server without teaching anyone that they
// are committed; phase 2 ([Server.Accept]) has a majority accept it, and
// [Server.SetFinal] teaches every server the decision (a majority before
// Seal returns, the rest in the background). A sealer preempted by a
// higher ballot retries after a backoff (1ms doubling to 100ms, with
// jitter) and adopts a decided tail it finds. Any handle may finish a
// seal another began: CheckTail does when it meets a sealed server, and a
// stalled reader does when servers are sealed without a final tail.
// Appends that the seal may or may not have included fail with a
// *loglet.OutcomeUnknownError giving their position, so the VirtualLog
// can settle them against the next segment's start; appends no server
// holds fail with loglet.ErrSealed.
//
// # Reads
//
// [Loglet.ReadNext] waits on the preferred server (Config.Servers[0], the
// co-located one) in polls of at most 250ms, then asks the others without
// waiting, and moves its preference to a server that answered with
// entries. A server that knows a position committed but lacks it answers
// [ErrNotHeld]. A reader that finds entries nobody says are committed asks
// the sequencer ([Appender.Committed]); if the sequencer cannot be
// reached, the read fails with loglet.ErrUnavailable. Reads at or beyond a
// final tail fail with loglet.ErrSealed. [Loglet.ReadNextCommitted] (the
// loglet.HintedReader ability) lets the VirtualLog pass the committed end
// of a sealed segment. CheckTail asks a majority: the sequencer's
// committed tail where it runs here, else the highest local tail among
// them.
//
// # Transport
//
// Handles talk to LogServers through the [Server] interface: a *LogServer
// implements it in-process, and [Client] over gRPC (the LogServer service
// of package nativepb, served by [RegisterLogServer]; a Read reply holds
// at most 4096 entries). Loglet-level outcomes travel in the replies;
// a failed call is reported as loglet.ErrUnavailable. Forwarded appends
// use the Sequencer service ([RegisterSequencer], [SequencerClient]): a
// call that never reached the sequencer fails with loglet.ErrUnavailable,
// one that failed under way with loglet.ErrOutcomeUnknown. Every call to
// one server is bounded by Config.CallTimeout (5s by default).
//
// # Usage
//
// A single-node loglet on a LogServer in the same process:
//
//	db, err := pebbledb.Open(dir, pebbledb.Options{})
//	server, err := native.OpenLogServer(db, true, logger) // closes db on Close
//	defer server.Close()
//	l, err := native.Open(ctx, native.Config{ID: 1, Servers: []native.Server{server}, Fresh: true})
//	defer l.Close()
//	pos, err := l.Append(ctx, loglet.AppendID{Client: c, Seq: 1}, [][]byte{entry})
//	entries, err := l.ReadNext(ctx, pos, 100) // blocks until pos is committed
//	tail, err := l.Seal(ctx)                  // no append is acknowledged after this
//
// Replicated on three LogServers reached over gRPC, with the sequencer in
// this process and other processes forwarding their appends to it:
//
//	native.RegisterLogServer(grpcServer, server) // on every node
//	servers := []native.Server{server, native.NewClient(conn2), native.NewClient(conn3)}
//	l, err := native.Open(ctx, native.Config{ID: id, Servers: servers, Fresh: true})
//	native.RegisterSequencer(grpcServer, lookup) // lookup(id) returns l, nil for other ids
//	// elsewhere:
//	r, err := native.Open(ctx, native.Config{ID: id, Servers: theirs, Sequencer: native.NewSequencerClient(conn1)})
package native
