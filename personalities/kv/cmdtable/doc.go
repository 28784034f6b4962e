// Package cmdtable is Redis 7.0's command table as redis-server's COMMAND
// INFO and COMMAND DOCS describe it: for every command and subcommand its
// arity, flags, key positions, ACL categories, tips, key specs and
// documentation, read from rediscommands.json (written by
// scripts/gen-redis-commands.py from a real redis-server 7.0 and embedded
// in the binary).
//
// The server answers COMMAND from it for the commands it serves, finds a
// command line's keys and their access flags from the key specs as
// Redis's getKeysFromCommandWithSpecs does (Keys), and takes the ACL
// categories of each command from it.
//
//	info := cmdtable.Lookup("client|id")
//	keys, ok := cmdtable.Lookup("lmove").Keys(args)
//
// The table is built when the package initializes and never changes; it
// is safe for concurrent use.
package cmdtable
