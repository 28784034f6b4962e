package kv

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"hourglass/internal/uvarint"
)

// command is one entry of the command table.
type command struct {
	name string
	// arity follows Redis: n > 0 means exactly n arguments (the name
	// included), n < 0 means at least -n.
	arity int
	// kind says where the command runs.
	kind cmdKind
	// check validates a write at the proposer, so that a syntax error
	// never reaches the log. nil: nothing to check beyond arity.
	check func(args [][]byte) error
	// exec runs a read against a view or a write inside Apply.
	exec func(ks *keyspace, args [][]byte) (any, error)
	// local runs a connection command that touches no data.
	local func(c *conn, args [][]byte) any
	// scan returns the walker of a SCAN-like command (kindScan) over a
	// view, nil when there is nothing to walk (a missing key).
	// optsAt is the index of the first option argument.
	// scanType is the type of the key a collection scan (HSCAN...) walks.
	scan     func(ks *keyspace, args [][]byte, o scanOptions) (scanWalker, error)
	optsAt   int
	scanType byte
	// firstKey, lastKey, step locate the key arguments (COMMAND INFO).
	firstKey, lastKey, step int
	flags                   []string
	// noAuth: allowed before AUTH when a password is set.
	noAuth bool
	// control: acts at once even inside MULTI (MULTI, EXEC, DISCARD,
	// WATCH, UNWATCH, QUIT, RESET).
	control bool
	// pubsub: allowed on a RESP2 connection in subscribed mode.
	pubsub bool
	// block: a write that waits for its keys (BLPOP ...); see blocking.go.
	block *blockSpec
}

type cmdKind int

const (
	kindRead  cmdKind = iota // Sync, then exec against the view
	kindWrite                // propose; exec at apply
	kindLocal                // connection state only
	kindScan                 // Sync, then scan against the view from a cursor
)

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

func lookupCommand(name []byte) *command {
	var buf [32]byte
	if len(name) > len(buf) {
		return nil
	}
	lower := buf[:len(name)]
	for i, ch := range name {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		lower[i] = ch
	}
	return commands[string(lower)]
}

func (c *command) arityOK(n int) bool {
	if c.arity >= 0 {
		return n == c.arity
	}
	return n >= -c.arity
}

// errUnknownCommand formats Redis 7's unknown-command error.
func errUnknownCommand(args [][]byte) redisError {
	var list strings.Builder
	for _, a := range args[1:] {
		if list.Len() >= 128 {
			break
		}
		fmt.Fprintf(&list, "'%s' ", truncate(a, 128-list.Len()))
	}
	msg := fmt.Sprintf("ERR unknown command '%s', with args beginning with: %s", truncate(args[0], 128), list.String())
	return redisError(sanitize(msg))
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// sanitize replaces line breaks, which cannot travel in an error reply.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

// parseInt parses a Redis integer argument exactly as Redis's string2ll
// does: optional '-', digits, no leading zeros, no '+', no spaces, within
// int64.
func parseInt(b []byte) (int64, bool) {
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

// Command bodies travel in the log as: uvarint db, uvarint seed (the
// proposer's random choice, for commands that pick at random), uvarint
// argc, then uvarint length and bytes for each argument.
func encodeCommand(db int, seed uint64, args [][]byte) []byte {
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

var errBadBody = errors.New("kv: malformed command body")

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
