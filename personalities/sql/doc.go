// Package sql is reserved for the Postgres personality (protocol v3 over
// pgproto3, parsing with pg_query_go, the executor and its applicator).
// Nothing is built here yet: the gateway accepts --pg-addr but does not
// listen on it.
package sql
