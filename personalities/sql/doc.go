// Package sql is the Postgres personality: the protocol v3 server, the
// session (settings, the transaction block and its state I/T/E), and the
// applicator that executes statements and validates transactions at
// apply. The executor lives in exec/, types in types/, the catalog in
// catalog/, the store contract in store/.
//
// The wire (conn.go, wire.go): frontend messages are framed here, their
// bodies grown as bytes arrive (never allocated from a declared length)
// and bounded by Config.MaxMessage (64 MiB by default): a longer message,
// a bad length or an unknown message type gets Postgres's 08P01 FATAL
// error and the connection closes. A startup packet is 8 to 10000 bytes;
// SSLRequest and GSSEncRequest are answered 'N'; protocol 3.x minors and
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
// running on that connection of this node (57014). Cancels are not yet
// forwarded between the nodes of an ensemble.
//
// Authentication (auth.go): trust without Config.Password; with it,
// SCRAM-SHA-256 against that one password for every user name.
//
// COPY (copy.go, copyfmt.go): FROM STDIN and TO STDOUT in text, CSV and
// binary; a COPY FROM is parsed on the connection's node and written as
// one transaction (one log entry outside a block).
package sql
