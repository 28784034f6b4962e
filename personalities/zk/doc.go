// Package zk is the ZooKeeper personality (Zelos): a server speaking the
// ZooKeeper 3.x client protocol, and the applicator that keeps the znode
// tree, sessions and their ephemerals in the LocalStore, on one engine
// stack shared with the other personalities.
//
// Wire: jute frames (package jute), at most MaxBuffer bytes each, or a
// four-letter word (ruok, srvr, stat, mntr, cons, crst, srst, conf, envi,
// isro, wchs, wchc, wchp, dump, dirs, gtmk) instead of the first frame; Config.FourLetterWords is ZooKeeper's
// 4lw.commands.whitelist, and a word it leaves out gets ZooKeeper's
// "<word> is not executed because it is not in the whitelist." answer. A
// malformed frame closes the connection, as in ZooKeeper.
//
// Sessions are log entries: createSession (the proposer draws the id and
// password), resume on any node (a new epoch of the session's order),
// touches (each node lists, every TouchInterval, the sessions it heard
// from), closeSession, and expiry on the log's clock in the per-entry
// hook, where the session's ephemerals are deleted in the same apply on
// every replica. A client back after its timeout gets SessionExpired. A
// connection whose session resumed elsewhere reads no more requests,
// answers a write the move overtook with SessionMoved, and closes.
//
// Requests: writes (create in every mode, delete, setData, setACL, check,
// multi) are proposed, each its own proposal and transaction, on the
// connection's stream, tagged for engines/sessionorder, and run at apply
// against an overlay of the znodes they touch (a failed multi leaves
// nothing); zxid = platform.Version.Packed() of the transaction. Reads
// (getData, exists, getChildren(2), getACL, getAllChildrenNumber,
// getEphemerals, multiRead, sync) run against a view synced with the log
// after every earlier write of the connection applied; a view serves only
// requests that had arrived before its sync began. Replies leave in
// request order, each after the watch events of the state it saw.
//
// Authentication is connection state carried in every write: the ip,
// digest (auth packets), sasl (DIGEST-MD5 over sasl packets, package
// sasl; Config.SASLUsers) and x509 (the secure port's client certificate)
// identities, checked against ACLs at apply. Config.EnforceAuthSchemes
// closes a session that sends a request before authenticating, with -124.
//
// Quotas are the /zookeeper/quota tree zkCli.sh writes: apply keeps each
// quota's zookeeper_stats and refuses a create or setData past a hard
// limit with QuotaExceeded (-125); see quota.go.
//
// Watches (data, exist, child; persistent and recursive) are node state:
// apply collects the events a transaction triggers and PostApply hands
// them to this node's watchers.
//
// Statistics (mntr, stat, cons and the AdminServer, AdminHandler) are
// this node's own, never replicated: request latencies overall, by reads
// and updates and per connection, packets, response sizes, connection
// counts, the log's fsyncs (ObserveFsync) and watchers notified; counts
// ZooKeeper keeps in its tree (ephemerals, sessions, data size) are
// scanned from a synced view when asked. Listings (dump, wchc, wchp)
// hold at most 100000 entries.
//
//	order := sessionorder.New(router.Mount("zk"))
//	s := zk.New(zk.Config{TickTime: 2 * time.Second}, order)
//	go s.Serve(listener)
//	defer s.Close()
package zk
