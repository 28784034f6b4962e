// Package sql is the Postgres personality: the server that speaks the
// Postgres frontend/backend protocol 3.0 (messages from pgx's pgproto3)
// to psql and the drivers, and the applicator that executes SQL at apply
// on every replica.
//
// A connection (conn.go) reads frontend messages under the configured
// limits, answers startup, authentication, the simple and the extended
// query protocols, COPY and cancel requests, and runs each statement
// through its session (session.go):
//
//   - outside a transaction block, a statement that only reads runs at a
//     view synced with the log (linearizable, on any node);
//   - outside a block, a statement that writes is proposed as one log
//     entry (sqlpb.Exec: its text, parameters, session settings, the
//     proposer's timestamp and random seed) and executed
//     deterministically at apply on every replica (apply.go);
//   - BEGIN ... COMMIT runs optimistically: reads at a view through a
//     store.Overlay that records a read set, writes buffered; COMMIT
//     proposes the read set and the writes as one entry (sqlpb.Commit),
//     validated at its position and applied; if its reads changed, its
//     statements (recorded with a hash of the results the client saw)
//     are re-executed there and commit if they give the same results
//     (replay.go), else it is refused with 40001. A transaction that
//     wrote nothing commits without the log.
//
// The other APIs' state is queryable as read-only views in the schemas
// redis and zookeeper (Config.SystemSchemas, tables the node takes from
// the kv and zk personalities): a statement reads them at its one view,
// and a transaction's read set covers what it read of them (see
// exec/sysschemas.go and store.ForeignPrefix).
//
// The SQL itself lives in the sub-packages: exec (analysis, planning and
// execution), catalog, types, store and pgerror.
//
// The wire (conn.go, wire.go): frontend messages are framed here, their
// bodies grown as bytes arrive (never allocated from a declared length)
// and bounded by Config.MaxMessage (64 MiB by default): a longer message,
// a bad length or an unknown message type gets Postgres's 08P01 FATAL
// error and the connection closes. A startup packet is 8 to 10000 bytes;
// SSLRequest is answered 'S' and the connection upgraded to TLS when the
// server has a TLS config ('N' otherwise), GSSEncRequest 'N'; bytes sent
// after an SSLRequest before the handshake are refused (08P01), and
// SSLRequired refuses a client that stays plain; protocol 3.x minors and
// _pq_ options get NegotiateProtocolVersion (3.0); other versions are
// refused. Messages are encoded with pgx's pgproto3. Simple query runs a
// message's statements as one implicit transaction; the extended
// protocol (Parse/Bind/Describe/Execute/Close/Sync/Flush) supports named
// and unnamed statements and portals, text and binary formats, row
// limits with PortalSuspended, and skipping to Sync after an error (see
// pipeline.go for implicit transactions across Executes). ParameterStatus
// reports Postgres 15's parameters at startup and again, before
// ReadyForQuery, when SET changes one.
//
// Cancel (cancel.go): BackendKeyData hands out a process id and a random
// key per connection; a CancelRequest with both cancels the statement
// running on that connection (57014). The process id carries the
// owning node's index (Config.Node) in its high bits; a CancelRequest
// for another node's process id goes to Config.ForwardCancel, which the
// node sets to send it over its peer endpoint to the owner, where
// Server.Cancel checks the key and cancels. Forwarding is best effort,
// bounded by a short timeout, and answers nothing, as Postgres does.
//
// Authentication (auth.go): a role with a password of its own logs in
// with SCRAM-SHA-256 against its stored verifier; any other user with
// Config.Password, or trusted without it. Once a role was created, a
// user that is no role is refused (28000); postgres always exists.
//
// COPY (copy.go, copyfmt.go): FROM STDIN and TO STDOUT in text, CSV and
// binary; a COPY FROM is parsed on the connection's node and written as
// one transaction (one log entry outside a block).
package sql
