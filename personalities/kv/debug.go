package kv

import (
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"time"

	"hourglass/personalities/kv/keyspace"
)

// DEBUG: SLEEP, SET-ACTIVE-EXPIRE, OBJECT and HELP; Redis's other
// subcommands answer its unknown-subcommand error. As in Redis 7.0,
// DEBUG is refused unless enable-debug-command (set at start only, by
// the node's --redis-conf file) is yes, or local and the client
// connects over loopback.

func init() {
	local("debug", -2, localDebug, "admin", "noscript", "loading", "stale")
}

const errDebugNotAllowed = keyspace.Error("ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.")

// debugAllowed applies enable-debug-command to c.
func (c *conn) debugAllowed() bool {
	switch strings.ToLower(c.s.configGet("enable-debug-command")) {
	case "yes":
		return true
	case "local":
		if a, ok := c.nc.RemoteAddr().(*net.TCPAddr); ok {
			return a.IP.IsLoopback()
		}
		_, unix := c.nc.RemoteAddr().(*net.UnixAddr)
		return unix
	}
	return false
}

func localDebug(c *conn, args [][]byte) any {
	if !c.debugAllowed() {
		return errDebugNotAllowed
	}
	sub := strings.ToLower(string(args[1]))
	switch {
	case sub == "help" && len(args) == 2:
		return debugHelp
	case sub == "sleep" && len(args) == 3:
		return c.debugSleep(strtod(args[2]))
	case sub == "set-active-expire" && len(args) == 3:
		// Redis reads the flag with atoi: anything but a number is 0.
		// Off, this node stops proposing expiry ticks; keys still expire
		// at the entries other writes and other nodes' ticks make.
		c.s.activeExpire.Store(int64(strtod(args[2])) != 0)
		return keyspace.OK
	case sub == "object" && len(args) == 3:
		return c.debugObject(args[2])
	}
	return keyspace.Errorf("ERR unknown subcommand or wrong number of arguments for '%.128s'. Try DEBUG HELP.", args[1])
}

// strtod reads the longest prefix of b that is a number, as C's strtod
// does (0 if none).
func strtod(b []byte) float64 {
	s := strings.TrimLeft(string(b[:min(len(b), 64)]), " \t\n\v\f\r")
	for n := len(s); n > 0; n-- {
		if f, err := strconv.ParseFloat(s[:n], 64); err == nil || strings.Contains(err.Error(), "range") {
			return f
		}
	}
	return 0
}

// debugSleep holds the connection (only it: the node goes on serving
// the others) for seconds, or until the connection or server closes.
func (c *conn) debugSleep(seconds float64) any {
	if !(seconds > 0) {
		return keyspace.OK
	}
	d := time.Duration(math.MaxInt64)
	if seconds < d.Seconds() {
		d = time.Duration(seconds * float64(time.Second))
	}
	var gone <-chan struct{}
	if c.rd.Buffered() == 0 {
		closed, stop := watchClose(c.nc)
		defer stop()
		gone = closed
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-gone:
		c.quit = true
	case <-c.s.ctx.Done():
		c.quit = true
	}
	return keyspace.OK
}

// lruClockMax bounds Redis's LRU clock (24 bits of seconds).
const lruClockMax = 1<<24 - 1

// debugObject answers DEBUG OBJECT in Redis 7.0's format. A value has no
// address here (it is records in the store): "Value at" shows 0x0. No
// access is tracked, so lru is the current LRU clock and
// lru_seconds_idle 0; a list's quicklist fields (ql_nodes ...) are not
// given.
func (c *conn) debugObject(key []byte) any {
	ks, err := c.readKeyspace()
	if err != nil {
		return platformError(err)
	}
	info, ok, err := ks.WithNodeConfig(c.s.nodeConfig()).DebugObject(key)
	if err != nil {
		return replyOf(nil, err)
	}
	if !ok {
		return keyspace.Error("ERR no such key")
	}
	lru := time.Now().Unix() & lruClockMax
	return keyspace.SimpleString(fmt.Sprintf("Value at:0x0 refcount:%d encoding:%s serializedlength:%d lru:%d lru_seconds_idle:0",
		info.Refcount, info.Encoding, info.SerializedLength, lru))
}
