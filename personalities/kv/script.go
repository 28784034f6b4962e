package kv

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"hourglass/personalities/kv/keyspace"
)

// Scripting on the server side: EVAL and EVALSHA are proposed with the
// node's script bounds (CONFIG lua-instruction-limit, lua-memory-limit),
// which travel in the entry so that every replica runs the script with
// the same budget; EVAL_RO and EVALSHA_RO run on a view of this node,
// where SCRIPT KILL can stop them. SCRIPT LOAD and SCRIPT FLUSH go
// through the log; SCRIPT EXISTS reads.

func init() {
	local("script", -2, localScript, "noscript")
}

// scripts tracks the read-only scripts and functions running on this
// node, for SCRIPT KILL, FUNCTION KILL and FUNCTION STATS, and whether
// apply is running a script (which cannot be killed).
type scripts struct {
	mu       sync.Mutex
	running  map[*atomic.Bool]runningScript // by kill flag
	applying atomic.Bool
}

// runningScript is a read-only script or function running on the node.
type runningScript struct {
	function bool     // FCALL_RO, not EVAL_RO or EVALSHA_RO
	args     [][]byte // the command line
	start    time.Time
}

// start registers a read-only script run by args at now and returns its
// kill flag; done unregisters it.
func (sc *scripts) start(args [][]byte, now time.Time) *atomic.Bool {
	f := &atomic.Bool{}
	sc.mu.Lock()
	if sc.running == nil {
		sc.running = map[*atomic.Bool]runningScript{}
	}
	sc.running[f] = runningScript{function: keyspace.EqFold(args[0], "fcall_ro"), args: args, start: now}
	sc.mu.Unlock()
	return f
}

func (sc *scripts) done(f *atomic.Bool) {
	sc.mu.Lock()
	delete(sc.running, f)
	sc.mu.Unlock()
}

// kill stops every running read-only function (or script); it reports
// how many it stopped, and how many of the other kind run.
func (sc *scripts) kill(function bool) (killed, others int) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	for f, r := range sc.running {
		if r.function != function {
			others++
			continue
		}
		f.Store(true)
		killed++
	}
	return killed, others
}

// oldest returns the longest running script of the kind, if any.
func (sc *scripts) oldest(function bool) (runningScript, bool) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	var out runningScript
	found := false
	for _, r := range sc.running {
		if r.function == function && (!found || r.start.Before(out.start)) {
			out, found = r, true
		}
	}
	return out, found
}

// Errors of SCRIPT KILL and FUNCTION KILL, as Redis 7.0 words them.
const (
	errBusyEval     = keyspace.Error("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.")
	errBusyFunction = keyspace.Error("BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.")
)

// killScripts answers SCRIPT KILL (function false) and FUNCTION KILL.
func (s *Server) killScripts(function bool) any {
	killed, others := s.scripts.kill(function)
	switch {
	case killed > 0:
		return keyspace.OK
	case others > 0 && function:
		return errBusyEval
	case others > 0:
		return errBusyFunction
	case s.scripts.applying.Load():
		return keyspace.Error("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.")
	}
	return keyspace.Error("NOTBUSY No scripts in execution right now.")
}

// writeBody returns the log body of the write d with args, in the
// connection's database.
func (c *conn) writeBody(d *keyspace.Command, args [][]byte) []byte {
	if d.Name == "eval" || d.Name == "evalsha" || d.Name == "fcall" {
		return keyspace.EncodeScript(c.db, rand.Uint64(), c.s.settings().scriptLimits, c.scriptUser(), args)
	}
	return keyspace.EncodeCommand(c.db, rand.Uint64(), args)
}

// checkScript answers EVAL's compile error at the proposer, without a
// log entry.
func checkScript(d *keyspace.Command, args [][]byte) error {
	if d.Name == "eval" || d.Name == "eval_ro" {
		return keyspace.CompileScript(args[1])
	}
	return nil
}

// scriptEnv is what a read-only script run by c learns of the node.
func (c *conn) scriptEnv(kill *atomic.Bool) keyspace.ScriptEnv {
	return keyspace.ScriptEnv{
		Limits:      c.s.settings().scriptLimits,
		Interrupted: kill.Load,
		Log:         c.s.scriptLog,
		Called:      c.noteLua,
		Permit:      c.scriptPermit(),
	}
}

// scriptLog writes a redis.log line to the node's log.
func (s *Server) scriptLog(level int, msg string) {
	switch level {
	case 0, 1:
		s.log.Debug("script: "+msg, "level", level)
	case 2:
		s.log.Info("script: " + msg)
	default:
		s.log.Warn("script: " + msg)
	}
}

func localScript(c *conn, args [][]byte) any {
	sub := strings.ToLower(string(args[1]))
	switch {
	case sub == "load" && len(args) == 3:
		if err := keyspace.CompileScript(args[2]); err != nil {
			return err
		}
		c.proposeCommand(keyspace.ScriptLoadBody(args[2]))
		return deferred{}
	case sub == "exists" && len(args) >= 3:
		v, err := c.readView()
		if err != nil {
			return platformError(err)
		}
		r, err := keyspace.ScriptsExist(v, args[2:])
		return replyOf(r, err)
	case sub == "flush" && len(args) <= 3:
		if len(args) == 3 && !keyspace.EqFold(args[2], "sync") && !keyspace.EqFold(args[2], "async") {
			return keyspace.Error("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
		}
		c.proposeCommand(keyspace.ScriptFlushBody())
		return deferred{}
	case sub == "kill" && len(args) == 2:
		return c.s.killScripts(false)
	case sub == "help" && len(args) == 2:
		return []any{
			keyspace.SimpleString("SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"),
			keyspace.SimpleString("EXISTS <sha1> [<sha1> ...]"),
			keyspace.SimpleString("FLUSH [ASYNC|SYNC]"),
			keyspace.SimpleString("KILL"),
			keyspace.SimpleString("LOAD <script>"),
			keyspace.SimpleString("HELP"),
		}
	}
	return errSubcommand("SCRIPT", args, "load", "exists", "flush", "kill", "help")
}

// scriptLimitParam is a CONFIG parameter of the script bounds.
func scriptLimitParam(get func(keyspace.ScriptLimits) int64, set func(*keyspace.ScriptLimits, int64)) configEffect {
	return configEffect{
		get: func(s *Server) string { return strconv.FormatInt(get(s.settings().scriptLimits), 10) },
		set: func(s *Server, v string) error {
			n, ok := keyspace.ParseInt([]byte(v))
			if !ok || n < 1 {
				return errPositive
			}
			s.updateSettings(func(st *settings) { set(&st.scriptLimits, n) })
			return nil
		},
	}
}
