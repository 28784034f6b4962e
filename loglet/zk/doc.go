// Package zk is a loglet stored in an Apache ZooKeeper ensemble, the kind
// of loglet Delos first ran in production: ZooKeeper provides ordering and
// durability, the loglet maps the contract onto znodes.
//
// # Layout
//
// A loglet lives under one root znode (Config.Root):
//
//	root/meta     version 0 while open; Seal sets its data to "sealed"
//	root/tail     the first unwritten position, decimal
//	root/trim     the trim point, decimal
//	root/b/<pos>  a batch of appends whose first position is pos (20
//	              digits, so names sort as positions do)
//
// # Append: one multi checks the seal and moves the tail
//
// A handle's committer goroutine takes the queued appends (up to
// MaxBatchBytes, under ZooKeeper's 1 MB jute.maxbuffer) and writes them
// with one multi op: check(meta, version 0), setData(tail, T+n, the tail's
// version), create(b/T, batch). ZooKeeper applies the three atomically, so
// an append is acknowledged only if the loglet was not sealed at that
// instant, and two writers (handles in different processes) never take
// the same positions: the loser's setData fails on the tail's version and
// it retries at the new tail. So any number of handles may append.
//
// # Seal and tail
//
// Seal is setData(meta, "sealed", version 0): after it, every append's
// check fails, so no append is ever acknowledged again. The final tail is
// read after a sync; it cannot move once meta's version changed. Seal is
// as fault tolerant as the ZooKeeper ensemble. CheckTail syncs and reads
// tail and meta, so it sees every append acknowledged before it began,
// whichever process made it.
//
// # Reads and trims
//
// ReadNext reads the batch starting at from (a sequential reader always
// finds one there) and keeps the last batch it decoded; a read in the
// middle of a batch lists root/b to find it. A read at the tail waits on
// watches of tail and meta, in bounded polls. PrefixTrim raises root/trim
// (conditionally on its version) and deletes the batches that lie wholly
// below it.
//
// # Failures
//
// Every ZooKeeper call is bounded by Config.CallTimeout (and the caller's
// context). An append whose multi may have reached ZooKeeper but got no
// answer fails with a loglet.OutcomeUnknownError; a retry with the same
// AppendID first looks for the original in the batch it was sent as.
// ZooKeeper errors other than a lost answer (no quorum, connection down)
// fail the call with loglet.ErrUnavailable; the client library reconnects
// by itself.
//
// # Limits
//
// One append's entries must fit in MaxBatchBytes (900 KB by default);
// larger appends fail with loglet.ErrUnavailable. A read that lands in the
// middle of a batch lists root/b, whose reply (about 30 bytes a batch)
// must fit in jute.maxbuffer: keep the loglet trimmed (the node trims the
// log below what every replica applied).
package zk
