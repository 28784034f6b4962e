package kv

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tidwall/redcon"

	"hourglass/personalities/kv/keyspace"
)

// MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
// [AUTH password] [AUTH2 username password] [KEYS key ...], as Redis
// 7.0's migrateCommand: the keys' DUMP payloads (from a synced view) are
// sent as RESTORE commands over a RESP connection to the target, and,
// without COPY, the keys the target took are deleted through the log.
// The delete is a transaction that WATCHes the keys as they were dumped:
// a key written meanwhile on any node is kept (the target has the value
// dumped). The connection is not cached between calls (Redis keeps it
// ten seconds), so SELECT is sent every time; the replies are the same.

func init() {
	local("migrate", -6, localMigrate, "write", "movablekeys")
}

// migrateLine bounds a reply line read from the target, as Redis's
// 1024-byte buffers do.
const migrateLine = 1024

var (
	errMigrateKeys    = keyspace.Error("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string")
	errMigrateConnect = keyspace.Error("IOERR error or timeout connecting to the client")
	errMigrateWrite   = keyspace.Error("IOERR error or timeout writing to target instance")
	errMigrateRead    = keyspace.Error("IOERR error or timeout reading to target instance")
)

// migrateRequest is a parsed MIGRATE.
type migrateRequest struct {
	addr           string
	db, timeout    int64
	copy, replace  bool
	user, password []byte
	auth, withUser bool
	keys           [][]byte
}

func parseMigrate(args [][]byte) (*migrateRequest, any) {
	m := &migrateRequest{addr: net.JoinHostPort(string(args[1]), string(args[2])), keys: args[3:4]}
	for j := 6; j < len(args); j++ {
		more := len(args) - 1 - j
		switch a := args[j]; {
		case keyspace.EqFold(a, "copy"):
			m.copy = true
		case keyspace.EqFold(a, "replace"):
			m.replace = true
		case keyspace.EqFold(a, "auth"):
			if more == 0 {
				return nil, keyspace.ErrSyntax
			}
			j++
			m.auth, m.withUser, m.password = true, false, args[j]
		case keyspace.EqFold(a, "auth2"):
			if more < 2 {
				return nil, keyspace.ErrSyntax
			}
			m.auth, m.withUser, m.user, m.password = true, true, args[j+1], args[j+2]
			j += 2
		case keyspace.EqFold(a, "keys"):
			if len(args[3]) != 0 {
				return nil, errMigrateKeys
			}
			m.keys = args[j+1:]
			j = len(args)
		default:
			return nil, keyspace.ErrSyntax
		}
	}
	var ok1, ok2 bool
	m.timeout, ok1 = keyspace.ParseInt(args[5])
	m.db, ok2 = keyspace.ParseInt(args[4])
	if !ok1 || !ok2 {
		return nil, keyspace.ErrNotInteger
	}
	if m.timeout <= 0 {
		m.timeout = 1000
	}
	return m, nil
}

func localMigrate(c *conn, args [][]byte) any {
	m, bad := parseMigrate(args)
	if bad != nil {
		return bad
	}
	ks, err := c.readKeyspace()
	if err != nil {
		return platformError(err)
	}
	var keys, payloads [][]byte
	var ttls []int64
	for _, k := range m.keys {
		p, ttl, ok, err := ks.DumpTTL(k)
		if err != nil {
			return replyOf(nil, err)
		}
		if ok {
			keys, payloads, ttls = append(keys, k), append(payloads, p), append(ttls, ttl)
		}
	}
	if len(keys) == 0 {
		return keyspace.SimpleString("NOKEY")
	}
	watches, err := ks.Watch(keys)
	if err != nil {
		return platformError(err)
	}
	taken, reply := m.send(keys, payloads, ttls)
	if m.copy || len(taken) == 0 {
		return reply
	}
	var kept []keyspace.Watch
	for _, w := range watches {
		for _, k := range taken {
			if bytes.Equal(w.Key, k) {
				kept = append(kept, w)
			}
		}
	}
	del := keyspace.EncodeCommand(c.db, 0, append([][]byte{[]byte("del")}, taken...))
	c.dropView()
	p := c.propose(keyspace.EncodeExec(c.db, kept, "", [][]byte{del}))
	ctx, cancel := context.WithTimeout(c.s.ctx, c.s.cfg.ProposeTimeout)
	defer cancel()
	if _, err := p.Wait(ctx); err != nil {
		return platformError(err)
	}
	return reply
}

// send restores the keys on the target, and returns the keys it took and
// MIGRATE's reply.
func (m *migrateRequest) send(keys, payloads [][]byte, ttls []int64) ([][]byte, any) {
	timeout := time.Duration(m.timeout) * time.Millisecond
	nc, err := net.DialTimeout("tcp", m.addr, timeout)
	if errors.Is(err, syscall.ECONNREFUSED) {
		// Redis connects without waiting, and learns of the refusal
		// when it writes.
		return nil, errMigrateWrite
	}
	if err != nil {
		return nil, errMigrateConnect
	}
	defer nc.Close()
	var out []byte
	if m.auth {
		if m.withUser {
			out = appendCommand(out, []byte("AUTH"), m.user, m.password)
		} else {
			out = appendCommand(out, []byte("AUTH"), m.password)
		}
	}
	out = appendCommand(out, []byte("SELECT"), strconv.AppendInt(nil, m.db, 10))
	for i, k := range keys {
		restore := [][]byte{[]byte("RESTORE"), k, strconv.AppendInt(nil, ttls[i], 10), payloads[i]}
		if m.replace {
			restore = append(restore, []byte("REPLACE"))
		}
		out = appendCommand(out, restore...)
	}
	nc.SetDeadline(time.Now().Add(timeout))
	if _, err := nc.Write(out); err != nil {
		return nil, errMigrateWrite
	}
	rd := bufio.NewReaderSize(nc, migrateLine)
	readLine := func() (string, bool) {
		nc.SetReadDeadline(time.Now().Add(timeout))
		line, err := rd.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			for err == bufio.ErrBufferFull { // the rest of a long line
				_, err = rd.ReadSlice('\n')
			}
		}
		return string(bytes.TrimRight(line, "\r\n")), err == nil && len(line) > 0
	}
	// An error from AUTH or SELECT fails every key; one from a RESTORE
	// fails its key. The first error is the reply.
	var firstErr string
	setup := true
	for range btoi(m.auth) + 1 { // AUTH's and SELECT's replies
		line, ok := readLine()
		if !ok {
			return nil, errMigrateRead
		}
		if msg, failed := strings.CutPrefix(line, "-"); failed && setup {
			firstErr, setup = msg, false
		}
	}
	var taken [][]byte
	for _, k := range keys {
		line, ok := readLine()
		if !ok {
			if firstErr != "" {
				break
			}
			return taken, errMigrateRead
		}
		msg, failed := strings.CutPrefix(line, "-")
		switch {
		case failed && firstErr == "":
			firstErr = msg
		case !failed && setup:
			taken = append(taken, k)
		}
	}
	if firstErr != "" {
		return taken, keyspace.Errorf("ERR Target instance replied with error: %s", firstErr)
	}
	return taken, keyspace.OK
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// appendCommand appends a command line in RESP.
func appendCommand(b []byte, args ...[]byte) []byte {
	b = redcon.AppendArray(b, len(args))
	for _, a := range args {
		b = redcon.AppendBulk(b, a)
	}
	return b
}
