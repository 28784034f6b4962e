package kv

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

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

// scripts tracks the read-only scripts running on this node, for SCRIPT
// KILL, and whether apply is running a script (which cannot be killed).
type scripts struct {
	mu       sync.Mutex
	running  map[*atomic.Bool]struct{} // kill flags of running read-only scripts
	applying atomic.Bool
}

// start registers a read-only script and returns its kill flag; done
// unregisters it.
func (sc *scripts) start() *atomic.Bool {
	f := &atomic.Bool{}
	sc.mu.Lock()
	if sc.running == nil {
		sc.running = map[*atomic.Bool]struct{}{}
	}
	sc.running[f] = struct{}{}
	sc.mu.Unlock()
	return f
}

func (sc *scripts) done(f *atomic.Bool) {
	sc.mu.Lock()
	delete(sc.running, f)
	sc.mu.Unlock()
}

// kill stops every running read-only script; it reports how many.
func (sc *scripts) kill() int {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	for f := range sc.running {
		f.Store(true)
	}
	return len(sc.running)
}

// writeBody returns the log body of the write d with args, in the
// connection's database.
func (c *conn) writeBody(d *keyspace.Command, args [][]byte) []byte {
	if d.Name == "eval" || d.Name == "evalsha" {
		return keyspace.EncodeScript(c.db, rand.Uint64(), c.s.settings().scriptLimits, args)
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
		if c.s.scripts.kill() > 0 {
			return keyspace.OK
		}
		if c.s.scripts.applying.Load() {
			return keyspace.Error("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.")
		}
		return keyspace.Error("NOTBUSY No scripts in execution right now.")
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
