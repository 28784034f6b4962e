package keyspace

import (
	"encoding/binary"
	"errors"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"hourglass/internal/uvarint"
)

// Spec is what COMMAND INFO reports of a command: its name, how many
// arguments it takes and where its keys are. The server describes its
// connection commands with the same struct.
type Spec struct {
	// Name is the command's name in lower case.
	Name string
	// Arity follows Redis: n > 0 means exactly n arguments (the name
	// included), n < 0 means at least -n.
	Arity int
	// FirstKey, LastKey and Step locate the key arguments: FirstKey 0
	// means none (or, with the "movablekeys" flag, found by parsing);
	// a negative LastKey counts from the end.
	FirstKey, LastKey, Step int
	// Flags are COMMAND INFO's flags ("write", "readonly", "fast", ...).
	Flags []string
}

// ArityOK reports whether n arguments (the name included) suit the
// command's arity.
func (s *Spec) ArityOK(n int) bool {
	if s.Arity >= 0 {
		return n == s.Arity
	}
	return n >= -s.Arity
}

// Kind says where a data command runs.
type Kind int

const (
	// KindRead runs against a view of the applied state, after a Sync.
	KindRead Kind = iota
	// KindWrite is proposed to the log and runs at apply (see Apply).
	KindWrite
	// KindScan is a read that continues from a cursor (see Command.Scan).
	KindScan
)

// Command is one data command of the table: its Spec, where it runs and
// the functions that check and run it. Commands are registered when the
// package initializes and never change afterwards; they are safe for
// concurrent use.
type Command struct {
	Spec
	Kind Kind

	// check validates the arguments without the keyspace, so that a
	// syntax error never reaches the log. nil: nothing to check beyond
	// arity and, for a blocking command, its timeout.
	check func(args [][]byte) error
	// exec runs a read against a view or a write inside Apply.
	exec func(ks *Keyspace, args [][]byte) (any, error)
	// readWith, for a write, reports whether args make it a read that
	// can run against a view (BITFIELD with GETs only). nil: never.
	readWith func(args [][]byte) bool
	// scan returns the walker of a KindScan command over a view, nil
	// when there is nothing to walk (a missing key). optsAt is the index
	// of the first option argument; scanType the type of the key a
	// collection scan (HSCAN...) walks, 0 for SCAN.
	scan     func(ks *Keyspace, args [][]byte, o scanOptions) (scanWalker, error)
	optsAt   int
	scanType byte
	// block: a command that waits for its keys (BLPOP, XREAD BLOCK ...);
	// see blocking.go.
	block *blockSpec
	// keys finds the keys of a command whose key positions are not fixed
	// (FirstKey 0) as Redis's key specs do, from any arguments; nil: the
	// blocking spec's keys, if any, from arguments that pass Check.
	keys func(args [][]byte) ([][]byte, error)
	// writeIf makes a KindRead command a write for the command lines it
	// reports true for (SORT ... STORE); nil: never.
	writeIf func(args [][]byte) bool
}

// KeysMove reports whether MovableKeys can find c's keys: those of a
// command whose key positions are not fixed (FirstKey 0).
func (c *Command) KeysMove() bool { return c.keys != nil || c.block != nil && c.FirstKey <= 0 }

// MovableKeys returns the keys of a command whose key positions are not
// fixed, found by parsing its arguments, as COMMAND GETKEYS reports them,
// or GETKEYS's error. They alias args.
//
// REQUIRES: c.KeysMove(), args satisfy the arity.
func (c *Command) MovableKeys(args [][]byte) ([][]byte, error) {
	if c.keys != nil {
		return c.keys(args)
	}
	if err := c.checkAt(args, 0); err != nil {
		return nil, Error("ERR Invalid arguments specified for command")
	}
	return c.block.keys(args), nil
}

// subcommandKey returns the key of a container command (XGROUP, XINFO),
// the argument after the subcommand (none for HELP); arity maps the
// subcommands.
func subcommandKey(arity map[string]int) func([][]byte) ([][]byte, error) {
	return func(args [][]byte) ([][]byte, error) {
		sub := strings.ToLower(string(args[1]))
		if _, ok := arity[sub]; !ok {
			return nil, Error("ERR Invalid command specified")
		}
		if sub == "help" || len(args) < 3 {
			return nil, nil
		}
		return args[2:3], nil
	}
}

// Check validates args (a command line that satisfies the arity) as far
// as it can without the keyspace, in Redis's order, and returns the error
// reply a client gets for them, or nil. now is the time a blocking
// command's timeout is checked against: the node's clock at the
// proposer, the log time at apply.
func (c *Command) Check(args [][]byte, now time.Time) error {
	return c.checkAt(args, now.UnixMilli())
}

func (c *Command) checkAt(args [][]byte, now int64) error {
	if c.block != nil && c.block.option == nil && !c.block.timeoutLast {
		if _, err := parseTimeout(c.block.timeoutArg(args), now); err != nil {
			return err
		}
	}
	if c.check != nil {
		if err := c.check(args); err != nil {
			return err
		}
	}
	if c.block != nil && c.block.option == nil && c.block.timeoutLast {
		if _, err := parseTimeout(c.block.timeoutArg(args), now); err != nil {
			return err
		}
	}
	return nil
}

// Exec runs a KindRead command against ks, a view from NewView. It
// returns the reply, a command's own failure as an Error (also as the
// error), or another error when the store failed.
//
// REQUIRES: c.KindOf(args) == KindRead, args passed Check.
func (c *Command) Exec(ks *Keyspace, args [][]byte) (any, error) {
	return c.exec(ks, args)
}

// KindOf returns where the command runs with args: its Kind, except
// that a write these args make a read (BITFIELD with GET subcommands
// only) is KindRead and runs with Exec against a view, and a read these
// args make a write (SORT with STORE) is KindWrite and goes through the
// log. The command keeps its flags everywhere else (COMMAND INFO,
// read-only scripts).
//
// REQUIRES: args passed Check.
func (c *Command) KindOf(args [][]byte) Kind {
	switch {
	case c.readWith != nil && c.readWith(args):
		return KindRead
	case c.writeIf != nil && c.writeIf(args):
		return KindWrite
	}
	return c.Kind
}

// appliesWith reports whether the command line may come from the log: a
// write (whatever its arguments), a read its arguments make a write, or
// a blocking command.
func (c *Command) appliesWith(args [][]byte) bool {
	return c.Kind == KindWrite || c.writeIf != nil && c.writeIf(args) || c.BlocksWith(args)
}

// execNested runs a checked command inside a transaction or a script,
// on ks: a read there notifies the keys it misses, at apply too, as a
// read on a view does.
func (c *Command) execNested(ks *Keyspace, args [][]byte) (any, error) {
	if c.Kind != KindWrite {
		ks.reading = true
		defer func() { ks.reading = false }()
	}
	if c.Kind == KindScan {
		return c.scanStep(args, ks, nil)
	}
	return c.exec(ks, args)
}

// Table maps lower-case command names to commands of type C. The data
// commands are one; the server merges them with its connection commands
// into another.
type Table[C any] map[string]C

// Lookup returns the command called name, in any case.
func (t Table[C]) Lookup(name []byte) (C, bool) {
	var buf [32]byte
	if len(name) > len(buf) {
		var none C
		return none, false
	}
	lower := buf[:len(name)]
	for i, ch := range name {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		lower[i] = ch
	}
	c, ok := t[string(lower)]
	return c, ok
}

// Sorted returns the table's commands in name order. The slice is the
// caller's.
func (t Table[C]) Sorted() []C {
	names := make([]string, 0, len(t))
	for n := range t {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]C, len(names))
	for i, n := range names {
		out[i] = t[n]
	}
	return out
}

// commands are the data commands, filled by the init functions.
var commands = Table[*Command]{}

func register(c *Command) { commands[c.Name] = c }

// singleKey marks c as taking one key, its first argument.
func singleKey(c *Command) *Command {
	c.FirstKey, c.LastKey, c.Step = 1, 1, 1
	return c
}

// Lookup returns the data command called name (in any case), or nil.
func Lookup(name []byte) *Command {
	c, _ := commands.Lookup(name)
	return c
}

// Commands returns every data command, by name. The slice is the
// caller's; the commands are shared and must not be changed.
func Commands() []*Command { return commands.Sorted() }

// ParseInt parses a Redis integer argument exactly as Redis's string2ll
// does: optional '-', digits, no leading zeros, no '+', no spaces, within
// int64.
func ParseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := b[0] == '-'
	digits := b
	if neg {
		digits = b[1:]
	}
	if len(digits) == 0 || digits[0] < '1' || digits[0] > '9' {
		return 0, false
	}
	var v uint64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > (math.MaxUint64-9)/10 {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true // -(1<<63) wraps to MinInt64 correctly
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

func formatInt(v int64) []byte { return strconv.AppendInt(nil, v, 10) }

// EqFold reports whether the argument b is the keyword lower (given in
// lower case), ignoring ASCII case, as Redis compares option names.
func EqFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// EncodeCommand returns the log body of a command: database db, the
// proposer's random seed (for commands that pick at random, so that every
// replica picks the same) and the command line. Bodies travel as uvarint
// db, uvarint seed, uvarint argc, then uvarint length and bytes for each
// argument. The result does not alias args.
func EncodeCommand(db int, seed uint64, args [][]byte) []byte {
	n := 3 * binary.MaxVarintLen64
	for _, a := range args {
		n += binary.MaxVarintLen64 + len(a)
	}
	b := make([]byte, 0, n)
	b = binary.AppendUvarint(b, uint64(db))
	b = binary.AppendUvarint(b, seed)
	b = binary.AppendUvarint(b, uint64(len(args)))
	for _, a := range args {
		b = binary.AppendUvarint(b, uint64(len(a)))
		b = append(b, a...)
	}
	return b
}

var errBadBody = errors.New("keyspace: malformed command body")

// decodeCommand reads a body EncodeCommand wrote; args alias b.
func decodeCommand(b []byte) (db int, seed uint64, args [][]byte, err error) {
	d, n, ok := uvarint.Read(b)
	if !ok || d > 255 {
		return 0, 0, nil, errBadBody
	}
	b = b[n:]
	if seed, n, ok = uvarint.Read(b); !ok {
		return 0, 0, nil, errBadBody
	}
	b = b[n:]
	argc, n, ok := uvarint.Read(b)
	if !ok || argc == 0 || argc > uint64(len(b)) {
		return 0, 0, nil, errBadBody
	}
	b = b[n:]
	args = make([][]byte, argc)
	for i := range args {
		if args[i], b, ok = uvarint.ReadBytes(b); !ok {
			return 0, 0, nil, errBadBody
		}
	}
	if len(b) != 0 {
		return 0, 0, nil, errBadBody
	}
	return int(d), seed, args, nil
}

func beUint64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// DecodeInternal returns the arguments after the name of a body that
// EncodeCommand(0, 0, ...) wrote for the internal command name (a name
// starting with NUL, which no client can send), and false for any other
// body. Other bodies are told apart by their first bytes, without
// decoding them. The arguments alias body.
func DecodeInternal(body []byte, name string) ([][]byte, bool) {
	if len(body) < 4 || body[0] != 0 || body[1] != 0 {
		return nil, false
	}
	_, _, args, err := decodeCommand(body)
	if err != nil || string(args[0]) != name {
		return nil, false
	}
	return args[1:], true
}
