package kv

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"hourglass/personalities/kv/keyspace"
)

// SLOWLOG: this node's log of its clients' commands that took
// slowlog-log-slower-than microseconds or more, newest first, at most
// slowlog-max-len of them. A command's time runs from its arrival to
// its reply being ready: for a write, its round through the log.

func init() {
	local("slowlog", -2, localSlowlog, "admin")
	configEffects["slowlog-log-slower-than"] = monitorParam("slowlog-log-slower-than", func(m *monitorSettings) *int64 { return &m.slowerThan })
	configEffects["slowlog-max-len"] = monitorParam("slowlog-max-len", func(m *monitorSettings) *int64 { return &m.slowMaxLen })
	configEffects["latency-monitor-threshold"] = monitorParam("latency-monitor-threshold", func(m *monitorSettings) *int64 { return &m.latencyMs })
}

// monitorSettings are the CONFIG parameters of the slow log and the
// latency monitor.
type monitorSettings struct {
	slowerThan int64 // µs; negative: the slow log is off
	slowMaxLen int64
	latencyMs  int64 // 0: the latency monitor is off
}

func defaultMonitorSettings() monitorSettings {
	def := func(name string) int64 {
		n, _ := strconv.ParseInt(redisConf[name].Default, 10, 64)
		return n
	}
	return monitorSettings{def("slowlog-log-slower-than"), def("slowlog-max-len"), def("latency-monitor-threshold")}
}

// on reports whether either monitor records anything.
func (m *monitorSettings) on() bool {
	return m.slowerThan >= 0 && m.slowMaxLen > 0 || m.latencyMs > 0
}

// monitorParam is a parameter of monitorSettings, validated as Redis does.
func monitorParam(name string, field func(*monitorSettings) *int64) configEffect {
	return configEffect{
		get: func(s *Server) string { return strconv.FormatInt(*field(s.monitor.Load()), 10) },
		set: func(s *Server, v string) error {
			canon, err := redisConf[name].validate(v, "")
			if err != nil {
				return err
			}
			n, _ := strconv.ParseInt(canon, 10, 64)
			s.updateSettings(func(st *settings) { *field(&st.monitor) = n })
			return nil
		},
	}
}

// Redis's bounds on what an entry keeps of a command line.
const (
	slowlogMaxArgs     = 32
	slowlogMaxArgBytes = 128
)

// slowEntry is one entry of the slow log.
type slowEntry struct {
	id, unix, micros int64
	args             [][]byte
	addr, name       string
}

// slowlog is the node's slow log.
type slowlog struct {
	mu sync.Mutex
	// next is the next entry's id; entries are oldest first.
	next    int64
	entries []slowEntry
}

// slowArgs copies a command line as the slow log keeps it.
func slowArgs(args [][]byte) [][]byte {
	n := min(len(args), slowlogMaxArgs)
	out := make([][]byte, n)
	for j := range n {
		a := args[j]
		switch {
		case j == n-1 && n < len(args):
			a = fmt.Appendf(nil, "... (%d more arguments)", len(args)-n+1)
		case len(a) > slowlogMaxArgBytes:
			a = fmt.Appendf(slices.Clone(a[:slowlogMaxArgBytes]), "... (%d more bytes)", len(a)-slowlogMaxArgBytes)
		default:
			a = slices.Clone(a)
		}
		out[j] = a
	}
	return out
}

// add records a command line (as slowArgs keeps it) that took d, if
// the settings say so.
func (l *slowlog) add(m *monitorSettings, client, name string, args [][]byte, at time.Time, d time.Duration) {
	if m.slowerThan < 0 || m.slowMaxLen == 0 || d.Microseconds() < m.slowerThan {
		return
	}
	e := slowEntry{unix: at.Unix(), micros: d.Microseconds(), args: args, addr: client, name: name}
	l.mu.Lock()
	defer l.mu.Unlock()
	e.id = l.next
	l.next++
	l.entries = append(l.entries, e)
	if over := int64(len(l.entries)) - m.slowMaxLen; over > 0 {
		l.entries = slices.Delete(l.entries, 0, int(over))
	}
}

// skipsMonitors are the commands Redis keeps out of the slow log and the
// latency monitor (the commands of an EXEC are logged one by one there;
// here the transaction is not logged), and WAIT, which Redis logs
// without the time it waited: here it is not logged, nor are the
// blocking commands (see noteDuration).
var skipsMonitors = map[string]bool{"auth": true, "hello": true, "exec": true, "wait": true, "waitaof": true}

// monitorNote is what a slot keeps to log its command in the monitors
// once its reply is ready; notes are logged in request order, so that
// the slow log orders a pipeline's commands as they were sent.
type monitorNote struct {
	cmd      *command
	args     [][]byte // as slowArgs keeps them
	name     string   // the client's name when the command ran
	start    time.Time
	m        *monitorSettings // the settings when the command ran
	dur      time.Duration
	measured bool // dur is known (the reply is ready)
}

// noteDuration notes the command just run, whose replies were queued
// from index n on, for the slow log and the latency monitor.
func (c *conn) noteDuration(cmd *command, args [][]byte, start time.Time, n int) {
	m := c.s.monitor.Load()
	if cmd == nil || len(c.pending) == n || !m.on() || skipsMonitors[cmd.Name] || slices.Contains(cmd.Flags, "blocking") {
		return
	}
	last := c.pending[len(c.pending)-1]
	note := &monitorNote{cmd: cmd, start: start, m: m}
	if last.p == nil {
		note.dur, note.measured = time.Since(start), true
		if !m.logs(note.dur) || refused(last.reply) {
			return
		}
	}
	note.args, note.name = slowArgs(args), c.getName()
	last.note = note
}

// refused reports whether r is the error of a command Redis refuses
// before running it (and so never logs): a wrong number of arguments,
// an unknown subcommand, no authentication, or no ACL permission.
func refused(r any) bool {
	e, ok := r.(keyspace.Error)
	return ok && (strings.HasPrefix(string(e), "ERR wrong number of arguments for ") ||
		strings.HasPrefix(string(e), "ERR unknown subcommand '") || e == errNoAuth ||
		strings.HasPrefix(string(e), "NOPERM "))
}

// logs reports whether either monitor logs a command that took d.
func (m *monitorSettings) logs(d time.Duration) bool {
	return m.slowerThan >= 0 && m.slowMaxLen > 0 && d.Microseconds() >= m.slowerThan ||
		m.latencyMs > 0 && d.Milliseconds() >= m.latencyMs
}

// logNote logs a settled slot's note.
func (c *conn) logNote(s *slot) {
	n := s.note
	if n == nil || s.p != nil {
		return
	}
	s.note = nil
	m, d := n.m, n.dur
	at := n.start.Add(d)
	c.s.slowlog.add(m, c.nc.RemoteAddr().String(), n.name, n.args, at, d)
	if m.latencyMs > 0 && d.Milliseconds() >= m.latencyMs {
		event := "command"
		if slices.Contains(n.cmd.Flags, "fast") {
			event = "fast-command"
		}
		c.s.latency.add(event, at.Unix(), d.Milliseconds())
	}
}

var slowlogHelp = keyspace.HelpReply(
	"SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"GET [<count>]",
	"    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
	"    Entries are made of:",
	"    id, timestamp, time in microseconds, arguments array, client IP and port,",
	"    client name",
	"LEN",
	"    Return the length of the slowlog.",
	"RESET",
	"    Reset the slowlog.",
	"HELP",
	"    Prints this help.",
)

func localSlowlog(c *conn, args [][]byte) any {
	c.waitPending() // the commands sent before are in the log
	l := &c.s.slowlog
	sub := strings.ToLower(string(args[1]))
	switch {
	case sub == "help" && len(args) == 2:
		return slowlogHelp
	case sub == "len" && len(args) == 2:
		l.mu.Lock()
		defer l.mu.Unlock()
		return int64(len(l.entries))
	case sub == "reset" && len(args) == 2:
		l.mu.Lock()
		defer l.mu.Unlock()
		l.entries = nil
		return keyspace.OK
	case sub == "get" && len(args) <= 3:
		count := int64(10)
		if len(args) == 3 {
			n, ok := keyspace.ParseInt(args[2])
			if !ok || n < -1 {
				return keyspace.Error("ERR count should be greater than or equal to -1")
			}
			count = n
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		if count == -1 || count > int64(len(l.entries)) {
			count = int64(len(l.entries))
		}
		out := make([]any, 0, count)
		for i := len(l.entries) - 1; i >= len(l.entries)-int(count); i-- {
			e := l.entries[i]
			argv := make([]any, len(e.args))
			for j, a := range e.args {
				argv[j] = a
			}
			out = append(out, []any{e.id, e.unix, e.micros, argv, e.addr, e.name})
		}
		return out
	case sub == "get":
		return keyspace.Errorf("ERR unknown subcommand or wrong number of arguments for '%.128s'. Try SLOWLOG HELP.", args[1])
	}
	return errSubcommand("SLOWLOG", args, "len", "reset", "help")
}
