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
//     validated at its position and applied, or refused with 40001. A
//     transaction that wrote nothing commits without the log.
//
// The SQL itself lives in the sub-packages: exec (analysis, planning and
// execution), catalog, types, store and pgerror.
package sql
