package kv

import (
	"bytes"
	"testing"

	"hourglass/personalities/kv/keyspace"
)

func TestUnknownCommandText(t *testing.T) {
	args := [][]byte{[]byte("foo"), []byte("a\r\nb"), bytes.Repeat([]byte("x"), 200), []byte("never")}
	got := string(errUnknownCommand(args))
	want := "ERR unknown command 'foo', with args beginning with: 'a  b' '" + string(bytes.Repeat([]byte("x"), 121)) + "' "
	if got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

// TestCommandTable checks that the server's table holds every data
// command as package keyspace describes it, and that the connection
// commands are its own.
func TestCommandTable(t *testing.T) {
	data := keyspace.Commands()
	for _, d := range data {
		c := lookupCommand([]byte(d.Name))
		if c == nil || c.data != d || c.Name != d.Name || c.Arity != d.Arity {
			t.Errorf("%s: the server's entry %+v does not describe the data command", d.Name, c)
		}
	}
	local := 0
	for name, c := range commands {
		if c.data == nil {
			local++
			if c.local == nil || keyspace.Lookup([]byte(name)) != nil {
				t.Errorf("%s: a connection command without a function, or shadowing a data command", name)
			}
		}
	}
	if len(commands) != len(data)+local {
		t.Fatalf("%d commands, %d data and %d connection commands", len(commands), len(data), local)
	}
	for _, name := range []string{"GET", "Blpop", "publish", "zrangestore"} {
		if c := lookupCommand([]byte(name)); c == nil || c.data == nil {
			t.Errorf("%s is not a data command", name)
		}
	}
	for _, name := range []string{"PING", "multi", "Subscribe", "client"} {
		if c := lookupCommand([]byte(name)); c == nil || c.data != nil {
			t.Errorf("%s is not a connection command", name)
		}
	}
}

// TestCommandTableEntries checks that every served command has an entry
// in Redis's command table (what COMMAND answers from) and that the
// table's arity is the one the server checks.
func TestCommandTableEntries(t *testing.T) {
	for name, c := range commands {
		info := c.tableEntry()
		if info == nil {
			t.Errorf("%s: no entry in the command table", name)
			continue
		}
		if info.Arity != c.Arity {
			t.Errorf("%s: the table's arity %d, the server's %d", name, info.Arity, c.Arity)
		}
	}
	if n := len(served()); n != len(commands) {
		t.Fatalf("COMMAND COUNT would say %d, the server serves %d", n, len(commands))
	}
}
