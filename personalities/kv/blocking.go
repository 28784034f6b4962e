package kv

import (
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"hourglass/personalities/kv/keyspace"
)

// A blocking command (BLPOP, BZPOPMIN, ..., and XREAD or XREADGROUP with
// BLOCK) is proposed as a write, whose apply says keyspace.WouldBlock
// when it cannot serve it yet. The connection then
// waits on this node for one of the command's keys to be written, by an
// entry from any node, since every entry is applied here too, and
// proposes the command again; until it is served, times out, is
// unblocked by CLIENT UNBLOCK, or its client goes away.

// waiter is one blocked connection.
type waiter struct {
	db    int
	keys  []string
	wake  chan struct{} // a key may be ready: try again
	unblk chan bool     // CLIENT UNBLOCK; true: with an error
}

// blocker is the node's table of blocked connections by key.
type blocker struct {
	mu    sync.Mutex
	byKey map[keyspace.DBKey]map[*waiter]struct{}
	n     atomic.Int64 // waiters registered
}

func (b *blocker) add(w *waiter) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.byKey == nil {
		b.byKey = make(map[keyspace.DBKey]map[*waiter]struct{})
	}
	for _, k := range w.keys {
		bk := keyspace.DBKey{DB: w.db, Key: k}
		set := b.byKey[bk]
		if set == nil {
			set = make(map[*waiter]struct{})
			b.byKey[bk] = set
		}
		set[w] = struct{}{}
	}
	b.n.Add(1)
}

func (b *blocker) remove(w *waiter) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, k := range w.keys {
		bk := keyspace.DBKey{DB: w.db, Key: k}
		if set := b.byKey[bk]; set != nil {
			delete(set, w)
			if len(set) == 0 {
				delete(b.byKey, bk)
			}
		}
	}
	b.n.Add(-1)
}

// wake tells the waiters on keys (and, for db entries with an empty key
// in dbs, on every key of those databases) to try again.
func (b *blocker) wake(keys []keyspace.DBKey, dbs []int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	signal := func(set map[*waiter]struct{}) {
		for w := range set {
			select {
			case w.wake <- struct{}{}:
			default:
			}
		}
	}
	for _, k := range keys {
		signal(b.byKey[k])
	}
	for _, db := range dbs {
		for k, set := range b.byKey {
			if k.DB == db {
				signal(set)
			}
		}
	}
}

// errUnblocked is the reply of a client unblocked by CLIENT UNBLOCK ERROR.
const errUnblocked = keyspace.Error("UNBLOCKED client unblocked via CLIENT UNBLOCK")

// runBlocking runs a blocking command whose arguments passed Check at
// now: it proposes the command, and while apply says it would block,
// waits for one of its keys to be written and proposes it again.
func (c *conn) runBlocking(cmd *keyspace.Command, args [][]byte, now time.Time) {
	timeout := cmd.BlockTimeout(args, now)
	// Earlier replies go out first, and earlier writes are applied, so
	// that this command's entries follow them in the log.
	if !c.flush() {
		c.quit = true
		return
	}
	w := &waiter{db: c.db, wake: make(chan struct{}, 1), unblk: make(chan bool, 1)}
	for _, k := range cmd.BlockKeys(args) {
		w.keys = append(w.keys, string(k))
	}
	var deadline <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(time.Duration(timeout) * time.Millisecond)
		defer t.Stop()
		deadline = t.C
	}
	c.s.blocker.add(w)
	defer c.s.blocker.remove(w)
	c.blocked.Store(w)
	defer c.blocked.Store(nil)
	// INFO's blocked_clients counts the connection once apply has said it
	// would block, as Redis counts a client it has blocked.
	counted := false
	defer func() {
		if counted {
			c.s.stats.blocked.Add(-1)
		}
	}()
	var gone <-chan struct{}
	if c.rd.Buffered() == 0 {
		closed, stop := watchClose(c.nc)
		defer stop()
		gone = closed
	}
	body := keyspace.EncodeCommand(c.db, rand.Uint64(), args)
	for {
		// A wake-up that comes while this attempt is in flight stays in
		// w.wake and costs one more attempt, never a lost one.
		s := &slot{p: c.propose(body)}
		c.settle(s)
		wb, ok := s.reply.(keyspace.WouldBlock)
		if !ok {
			c.push(s.reply)
			return
		}
		if wb.Retry != nil {
			body = keyspace.EncodeCommand(c.db, rand.Uint64(), wb.Retry)
		}
		if !counted {
			c.s.stats.blocked.Add(1)
			counted = true
		}
		select {
		case <-w.wake:
		case <-deadline:
			c.push(wb.TimeoutReply)
			return
		case withErr := <-w.unblk:
			if withErr {
				c.push(errUnblocked)
			} else {
				c.push(wb.TimeoutReply)
			}
			return
		case <-gone:
			c.quit = true
			return
		case <-c.s.ctx.Done():
			c.quit = true
			return
		}
	}
}

// clientUnblock implements CLIENT UNBLOCK id [TIMEOUT|ERROR].
func clientUnblock(c *conn, args [][]byte) any {
	id, ok := keyspace.ParseInt(args[2])
	if !ok {
		return keyspace.ErrNotInteger
	}
	withErr := false
	if len(args) == 4 {
		switch {
		case keyspace.EqFold(args[3], "timeout"):
		case keyspace.EqFold(args[3], "error"):
			withErr = true
		default:
			return keyspace.Error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
		}
	}
	for _, o := range c.s.connections() {
		if o.id != id {
			continue
		}
		w := o.blocked.Load()
		if w == nil {
			return int64(0)
		}
		select {
		case w.unblk <- withErr:
			return int64(1)
		default:
			return int64(0) // already being unblocked
		}
	}
	return int64(0)
}

// watchClose reports, by closing closed, that the peer of nc has closed
// the connection or sent something (a blocked client's next command stays
// unread in the socket). stop ends the watch; the connection is usable
// again once it returns.
func watchClose(nc any) (closed <-chan struct{}, stop func()) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil, func() {}
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, func() {}
	}
	dl, ok := nc.(interface{ SetReadDeadline(time.Time) error })
	if !ok {
		return nil, func() {}
	}
	ch := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var peerClosed bool
		var buf [1]byte
		err := rc.Read(func(fd uintptr) bool {
			n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR) {
				return false // wait until readable
			}
			peerClosed = n == 0 || err != nil
			return true
		})
		// An error is the connection closed here (CLIENT KILL) or the
		// deadline stop sets; either way nobody should wait any more.
		if err != nil || peerClosed {
			close(ch)
		}
	}()
	return ch, func() {
		dl.SetReadDeadline(time.Unix(1, 0)) // wakes the watch
		<-done
		dl.SetReadDeadline(time.Time{})
	}
}
