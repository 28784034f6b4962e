package kv

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"hourglass/personalities/kv/keyspace"
)

// MONITOR: a monitor connection receives a line for every command this
// node's clients send, as Redis 7.0 formats it:
//
//	+1700000000.123456 [0 127.0.0.1:60866] "SET" "k" "v"
//
// The line is made when the command runs on this node, in the order the
// node's clients' commands run (a write when it is proposed, with the
// database it runs in; SELECT with the database it selected), as Redis
// feeds its monitors from the commands it runs for its clients. Redis
// leaves out the commands it refuses before running them (unknown,
// wrong arity, no authentication) and the admin commands (CONFIG, DEBUG,
// SLOWLOG, CLIENT LIST/KILL ...); AUTH's and HELLO's credentials show as
// "(redacted)". Commands queued in MULTI show as they are queued, then
// EXEC.
//
// A monitor's lines go through its push queue, bounded in bytes by
// client-output-buffer-limit's normal class as Redis bounds a monitor
// (a slow monitor is disconnected), and, where that class is unlimited
// (Redis's default), by monitorMaxBacklog.

func init() {
	local("monitor", 1, localMonitor, "admin", "noscript", "loading", "stale")
}

// monitorMaxBacklog bounds a monitor's queued lines in bytes when
// client-output-buffer-limit sets no limit for the normal class.
const monitorMaxBacklog = 64 << 20

// monitorQueue is the capacity of a monitor's push queue, in lines.
const monitorQueue = 1 << 16

// monitors are this node's MONITOR connections.
type monitors struct {
	// count is the number of monitors, read without the lock.
	count atomic.Int64
	mu    sync.Mutex
	conns map[*conn]struct{}
}

func localMonitor(c *conn, args [][]byte) any {
	if c.monitoring.Load() {
		return deferred{} // ignored, as Redis ignores a second MONITOR
	}
	c.pushMu.Lock()
	if c.pushes == nil && !c.pushesClosed {
		c.startPushesCap(monitorQueue)
	}
	c.pushMu.Unlock()
	m := &c.s.monitors
	m.mu.Lock()
	if m.conns == nil {
		m.conns = map[*conn]struct{}{}
	}
	m.conns[c] = struct{}{}
	m.count.Add(1)
	m.mu.Unlock()
	c.monitoring.Store(true)
	return keyspace.OK
}

// stopMonitor makes c an ordinary connection again (RESET, close).
func (c *conn) stopMonitor() {
	if !c.monitoring.Load() {
		return
	}
	m := &c.s.monitors
	m.mu.Lock()
	delete(m.conns, c)
	m.count.Add(-1)
	m.mu.Unlock()
	c.monitoring.Store(false)
}

// monitorRefuses returns Redis's error for a command that touches the
// keyspace sent by a monitor (Redis counts a monitor as a replica), or
// nil.
func (c *conn) monitorRefuses(cmd *command, args [][]byte) any {
	if !c.monitoring.Load() {
		return nil
	}
	if cmd.data != nil || mayReplicate[cmd.Name] {
		return keyspace.Error("ERR Replica can't interact with the keyspace")
	}
	return nil
}

// monitorAdmin are the commands Redis 7.0 flags admin, by name, and
// those of CLIENT's subcommands: MONITOR leaves them out.
var (
	monitorAdmin = map[string]bool{
		"config": true, "debug": true, "slowlog": true, "latency": true, "monitor": true,
		"save": true, "bgsave": true, "bgrewriteaof": true, "shutdown": true, "pfdebug": true,
		"pfselftest": true, "acl": true, "module": true, "failover": true, "replicaof": true,
		"slaveof": true, "sync": true, "psync": true, "replconf": true,
	}
	monitorAdminClient = map[string]bool{
		"kill": true, "list": true, "no-evict": true, "pause": true, "unblock": true, "unpause": true,
	}
)

// feedMonitors sends the command c ran (args, arrived at) to this
// node's monitors, unless Redis would leave it out. reply is what the
// command answered (a refusal before running leaves it out).
func (c *conn) feedMonitors(cmd *command, args [][]byte, at time.Time, reply any) {
	m := &c.s.monitors
	if m.count.Load() == 0 || cmd == nil || monitorAdmin[cmd.Name] ||
		cmd.Name == "client" && len(args) > 1 && monitorAdminClient[strings.ToLower(string(args[1]))] || refused(reply) {
		c.luaLines = c.luaLines[:0]
		return
	}
	from, to := redacted(cmd.Name, args)
	line := monitorLine(appendMonitorLine(nil, at, c.db, c.nc.RemoteAddr().String(), args, from, to))
	switch {
	case c.multi != nil && reply == keyspace.SimpleString("QUEUED"):
		c.multi.lines = append(c.multi.lines, line) // shown if EXEC runs it
		return
	case cmd.Name == "exec" && len(c.pending) > 0 && c.pending[len(c.pending)-1].p != nil:
		c.pending[len(c.pending)-1].exec = append(c.execLines, line)
		c.execLines = nil
		return
	}
	c.execLines = nil
	c.s.feedLine(c, line)
	for _, l := range c.luaLines {
		c.s.feedLine(c, l)
	}
	clear(c.luaLines)
	c.luaLines = c.luaLines[:0]
}

// noteLua keeps a command a read-only script of c ran, for the monitors
// to see after the script's own line.
func (c *conn) noteLua(db int, args [][]byte) {
	if c.s.monitors.count.Load() > 0 {
		line := appendMonitorLine(nil, time.Now(), db, "lua", args, 0, 0)
		c.luaLines = append(c.luaLines, monitorLine(line))
	}
}

// feedLua sends a command a script ran at apply to the monitors.
func (s *Server) feedLua(db int, args [][]byte) {
	if s.monitors.count.Load() > 0 {
		s.feedLine(nil, monitorLine(appendMonitorLine(nil, time.Now(), db, "lua", args, 0, 0)))
	}
}

// feedApplied shows the monitors a write another node took, as this
// node applies it: "[db log]" stands for the client's address, which
// only its own node knows.
func (s *Server) feedApplied(body []byte) {
	now := time.Now()
	for _, l := range keyspace.LoggedCommands(body) {
		s.feedLine(nil, monitorLine(appendMonitorLine(nil, now, l.DB, "log", l.Args, 0, 0)))
	}
}

// feedLine sends line to every monitor; c's own (the command's sender)
// waits until c's reply is written, which Redis writes first.
func (s *Server) feedLine(c *conn, line monitorLine) {
	hard, soft, secs := s.monitorLimits()
	m := &s.monitors
	m.mu.Lock()
	defer m.mu.Unlock()
	for o := range m.conns {
		if o == c {
			c.ownLines = append(c.ownLines, line)
			continue
		}
		o.deliverLine(line, hard, soft, secs)
	}
}

// sendOwnLines delivers the lines of c's own commands once their
// replies are written.
func (c *conn) sendOwnLines() {
	if len(c.ownLines) == 0 {
		return
	}
	hard, soft, secs := c.s.monitorLimits()
	for _, l := range c.ownLines {
		c.deliverLine(l, hard, soft, secs)
	}
	clear(c.ownLines)
	c.ownLines = c.ownLines[:0]
}

// feedExec shows a settled EXEC's lines: its commands', unless WATCH
// aborted it (a null reply), then its own.
func (c *conn) feedExec(s *slot) {
	if s.exec == nil || s.p != nil {
		return
	}
	lines := s.exec
	s.exec = nil
	_, aborted := s.reply.(keyspace.NullArray)
	if _, failed := s.reply.(keyspace.Error); aborted || failed {
		lines = lines[len(lines)-1:]
	}
	for _, l := range lines {
		c.s.feedLine(c, l)
	}
}

// redacted returns the index from which args are credentials that MONITOR
// shows as "(redacted)", and the index after them (0, 0: none).
func redacted(name string, args [][]byte) (from, to int) {
	switch name {
	case "auth":
		return 1, len(args)
	case "hello":
		for j := 2; j+2 < len(args); j++ {
			if keyspace.EqFold(args[j], "auth") {
				return j + 1, j + 3
			}
		}
	}
	return 0, 0
}

// appendMonitorLine appends a MONITOR line (without its "+" and CRLF):
// the time, the database and client address, and the arguments quoted
// as Redis's sdscatrepr, those in [from, to) redacted.
func appendMonitorLine(b []byte, at time.Time, db int, addr string, args [][]byte, from, to int) []byte {
	b = strconv.AppendInt(b, at.Unix(), 10)
	b = append(b, '.')
	us := strconv.Itoa(at.Nanosecond() / 1000)
	b = append(b, "000000"[len(us):]...)
	b = append(b, us...)
	b = append(b, " ["...)
	b = strconv.AppendInt(b, int64(db), 10)
	b = append(b, ' ')
	b = append(b, addr...)
	b = append(b, ']')
	for j, a := range args {
		b = append(b, ' ')
		if j >= from && j < to {
			a = []byte("(redacted)")
		}
		b = appendRepr(b, a)
	}
	return b
}

// reprEscapes maps the bytes sdscatrepr escapes with a backslash to
// the letter that follows it.
var reprEscapes = [256]byte{'\\': '\\', '"': '"', '\n': 'n', '\r': 'r', '\t': 't', '\a': 'a', '\b': 'b'}

// appendRepr quotes s as Redis's sdscatrepr: a backslash before \ and ",
// C escapes for the control characters it names, \xHH for the other
// bytes outside printable ASCII.
func appendRepr(b, s []byte) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, ch := range s {
		switch e := reprEscapes[ch]; {
		case e != 0:
			b = append(b, '\\', e)
		case ch >= ' ' && ch <= '~':
			b = append(b, ch)
		default:
			b = append(b, '\\', 'x', hex[ch>>4], hex[ch&15])
		}
	}
	return append(b, '"')
}

// monitorLimits returns client-output-buffer-limit's normal class (hard
// and soft bytes, soft seconds), the hard limit monitorMaxBacklog where
// the class sets none.
func (s *Server) monitorLimits() (hard, soft int64, secs int64) {
	v, ok := s.settings().params["client-output-buffer-limit"]
	if !ok {
		v = redisConf["client-output-buffer-limit"].Default
	}
	f := strings.Fields(v)
	for i := 0; i+3 < len(f); i += 4 {
		if f[i] == "normal" {
			hard, _ = strconv.ParseInt(f[i+1], 10, 64)
			soft, _ = strconv.ParseInt(f[i+2], 10, 64)
			secs, _ = strconv.ParseInt(f[i+3], 10, 64)
		}
	}
	if hard <= 0 {
		hard = monitorMaxBacklog
	}
	return hard, soft, secs
}
