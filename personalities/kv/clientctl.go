package kv

import (
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"hourglass/personalities/kv/keyspace"
)

// CLIENT REPLY, PAUSE, UNPAUSE, TRACKINGINFO and GETREDIR.
//
// A pause is this node's: it holds the commands of this node's clients
// only. Other nodes of the ensemble go on writing to the log, and this
// node goes on applying what they write.

// replyMode is CLIENT REPLY's state of a connection.
type replyMode struct {
	off      bool // CLIENT REPLY OFF
	skip     bool // the current command's reply is dropped
	skipNext bool // CLIENT REPLY SKIP: the next command's reply is dropped
}

// silence marks the replies queued from index n on as dropped if CLIENT
// REPLY says so, and moves a SKIP on to the next command.
func (c *conn) silence(n int) {
	if c.reply.off || c.reply.skip {
		for _, s := range c.pending[n:] {
			s.silent = true
		}
	}
	c.reply.skip, c.reply.skipNext = c.reply.skipNext, false
}

func clientReply(c *conn, mode []byte) any {
	switch {
	case keyspace.EqFold(mode, "on"):
		c.reply = replyMode{}
		return keyspace.OK
	case keyspace.EqFold(mode, "off"):
		c.reply.off = true
		return deferred{}
	case keyspace.EqFold(mode, "skip"):
		if !c.reply.off {
			c.reply.skipNext = true
		}
		return deferred{}
	}
	return keyspace.ErrSyntax
}

// pauseState is CLIENT PAUSE's state on this node.
type pauseState struct {
	mu sync.Mutex
	// until is when the pause ends (zero: none); all holds every command,
	// else only writes and may-replicate commands. changed is closed
	// (and replaced) whenever the pause ends early or changes.
	until   time.Time
	all     bool
	changed chan struct{}
	// untilNano mirrors until (unix nanoseconds), so that a command
	// checks for no pause without the lock.
	untilNano atomic.Int64
}

// over reports, without the lock, that no pause holds anything at now.
func (p *pauseState) over(now time.Time) bool { return p.untilNano.Load() <= now.UnixNano() }

// mayReplicate are the commands Redis 7.0 flags may-replicate: a WRITE
// pause holds them with the writes.
var mayReplicate = map[string]bool{"publish": true, "spublish": true, "eval": true, "evalsha": true, "fcall": true, "script": true, "function": true, "pfcount": true}

// pauseHolds reports whether a WRITE pause holds cmd: a write, a
// may-replicate command, or an EXEC whose transaction holds one.
func (c *conn) pauseHolds(cmd *command, args [][]byte) bool {
	if cmd.Name == "exec" {
		return c.multi != nil && c.multi.writes
	}
	if mayReplicate[cmd.Name] || slices.Contains(cmd.Flags, "write") {
		return true
	}
	return cmd.data != nil && cmd.data.KindOf(args) == keyspace.KindWrite
}

// held returns, if the pause holds a command (write says whether it is
// one a WRITE pause holds), the channel that says the pause changed and how long it has
// left; nil if the command may run.
func (p *pauseState) held(write bool, now time.Time) (<-chan struct{}, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !now.Before(p.until) || !p.all && !write {
		return nil, 0
	}
	if p.changed == nil {
		p.changed = make(chan struct{})
	}
	return p.changed, p.until.Sub(now)
}

// set starts or extends the pause: the longer end and the stricter mode
// of the current pause and the new one win.
func (p *pauseState) set(until time.Time, all bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !time.Now().Before(p.until) {
		p.all = false
	}
	if until.After(p.until) {
		p.until = until
		// Past 2262 a time has no int64 of nanoseconds.
		p.untilNano.Store(math.MaxInt64)
		if until.Before(time.Unix(0, math.MaxInt64)) {
			p.untilNano.Store(until.UnixNano())
		}
	}
	p.all = p.all || all
	p.wake()
}

// end ends the pause (CLIENT UNPAUSE).
func (p *pauseState) end() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.until, p.all = time.Time{}, false
	p.untilNano.Store(0)
	p.wake()
}

func (p *pauseState) wake() {
	if p.changed != nil {
		close(p.changed)
		p.changed = nil
	}
}

// waitPause holds the connection while a pause holds the command it is
// about to run, as Redis holds a paused client: the replies it owes go
// out first, and INFO counts it among blocked_clients meanwhile. It
// reports false if the connection or the server closed meanwhile.
func (c *conn) waitPause(args [][]byte) bool {
	if c.s.pause.over(time.Now()) {
		return true
	}
	cmd := lookupCommand(args[0])
	if cmd == nil || !cmd.ArityOK(len(args)) || !c.authed && !cmd.noAuth {
		return true
	}
	write := c.pauseHolds(cmd, args)
	ch, left := c.s.pause.held(write, time.Now())
	if ch == nil {
		return true
	}
	if !c.flush() {
		return false
	}
	c.s.stats.blocked.Add(1)
	defer c.s.stats.blocked.Add(-1)
	var gone <-chan struct{}
	if c.rd.Buffered() == 0 {
		closed, stop := watchClose(c.nc)
		defer stop()
		gone = closed
	}
	for ch != nil {
		t := time.NewTimer(left)
		select {
		case <-ch:
		case <-t.C:
		case <-gone:
			t.Stop()
			return false
		case <-c.s.ctx.Done():
			t.Stop()
			return false
		}
		t.Stop()
		ch, left = c.s.pause.held(write, time.Now())
	}
	return true
}

func clientPause(c *conn, args [][]byte) any {
	all := true
	if len(args) == 4 {
		switch {
		case keyspace.EqFold(args[3], "write"):
			all = false
		case keyspace.EqFold(args[3], "all"):
		default:
			return keyspace.Error("ERR CLIENT PAUSE mode must be WRITE or ALL")
		}
	}
	ms, ok := keyspace.ParseInt(args[2])
	if !ok {
		return keyspace.Error("ERR timeout is not an integer or out of range")
	}
	if ms < 0 {
		return keyspace.Error("ERR timeout is negative")
	}
	// Redis 7.0 adds the timeout to the clock unchecked: an end past
	// the largest time wraps into the past, and pauses nothing.
	c.s.pause.set(time.UnixMilli(time.Now().UnixMilli()+ms), all)
	return keyspace.OK
}

// clientControl runs the CLIENT subcommands of this file; ok is false
// for any other.
func clientControl(c *conn, sub string, args [][]byte) (r any, ok bool) {
	switch {
	case sub == "reply" && len(args) == 3:
		return clientReply(c, args[2]), true
	case sub == "pause" && (len(args) == 3 || len(args) == 4):
		return clientPause(c, args), true
	case sub == "unpause" && len(args) == 2:
		c.s.pause.end()
		return keyspace.OK, true
	case sub == "getredir" && len(args) == 2:
		return c.redirectID(c.track), true
	case sub == "trackinginfo" && len(args) == 2:
		return c.trackingInfo(), true
	case sub == "tracking" && len(args) >= 3:
		return clientTracking(c, args), true
	case sub == "caching" && len(args) == 3:
		return clientCaching(c, args[2]), true
	}
	return nil, false
}
