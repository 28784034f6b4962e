package kv

import (
	"fmt"
	"strings"

	"hourglass/personalities/kv/keyspace"
)

// command is one entry of the server's command table: a data command of
// package keyspace (data), or a connection command that touches no data
// (local).
type command struct {
	keyspace.Spec
	// data is the data command; nil for a connection command.
	data *keyspace.Command
	// local runs a connection command.
	local func(c *conn, args [][]byte) any
	// noAuth: allowed before AUTH when a password is set.
	noAuth bool
	// control: acts at once even inside MULTI (MULTI, EXEC, DISCARD,
	// WATCH, UNWATCH, QUIT, RESET).
	control bool
	// pubsub: allowed on a RESP2 connection in subscribed mode.
	pubsub bool
}

// commands is the server's table: the data commands, and the connection
// commands the init functions of this package add.
var commands = keyspace.Table[*command]{}

func init() {
	for _, d := range keyspace.Commands() {
		register(&command{Spec: d.Spec, data: d})
	}
}

// register adds c to the table; a name may be taken once.
func register(c *command) {
	if _, ok := commands[c.Name]; ok {
		panic("kv: command " + c.Name + " registered twice")
	}
	commands[c.Name] = c
}

// local registers a connection command.
func local(name string, arity int, f func(*conn, [][]byte) any, flags ...string) *command {
	c := &command{Spec: keyspace.Spec{Name: name, Arity: arity, Flags: flags}, local: f}
	register(c)
	return c
}

// lookupCommand returns the command called name, in any case, or nil.
func lookupCommand(name []byte) *command {
	c, _ := commands.Lookup(name)
	return c
}

// errUnknownCommand formats Redis 7's unknown-command error.
func errUnknownCommand(args [][]byte) keyspace.Error {
	var list strings.Builder
	for _, a := range args[1:] {
		if list.Len() >= 128 {
			break
		}
		fmt.Fprintf(&list, "'%s' ", truncate(a, 128-list.Len()))
	}
	return keyspace.Errorf("ERR unknown command '%s', with args beginning with: %s", truncate(args[0], 128), list.String())
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
