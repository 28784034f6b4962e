package kv

import "time"

// Delivery to a subscriber goes through its own queue and writer, so that
// the apply goroutine never waits on a slow client.

const maxPushBacklog = 8192

// startPushes starts c's push writer, once.
func (c *conn) startPushes() {
	c.pushMu.Lock()
	defer c.pushMu.Unlock()
	c.startPushesLocked()
}

// startPushesLocked is startPushes with c.pushMu held.
func (c *conn) startPushesLocked() {
	if c.pushes != nil || c.pushesClosed {
		return
	}
	c.startPushesCap(maxPushBacklog)
}

// startPushesCap starts c's push writer with a queue of n messages.
// REQUIRES: c.pushMu held, no writer yet.
func (c *conn) startPushesCap(n int) {
	c.pushes = make(chan any, n)
	c.pushTick = make(chan struct{}, 1)
	go func() {
		var buf []byte
		defer c.tickPushes()
		for msg := range c.pushes {
			buf = appendReply(buf[:0], msg, int(c.pushProto.Load()))
			if l, ok := msg.(monitorLine); ok {
				c.pushBytes.Add(-int64(len(l)))
			}
			c.outMu.Lock()
			_, err := c.nc.Write(buf)
			c.outMu.Unlock()
			if err != nil {
				c.pushFailed.Store(true)
				c.nc.Close()
				for range c.pushes {
				}
				return
			}
			c.pushWritten.Add(1)
			c.tickPushes()
		}
	}()
}

func (c *conn) tickPushes() {
	select {
	case c.pushTick <- struct{}{}:
	default:
	}
}

// awaitPushes waits until the messages queued for c so far are written,
// so that a reply written next comes after them: a client that reads
// anything after a write was acknowledged has its invalidations and
// notifications first.
func (c *conn) awaitPushes() {
	want := c.pushQueued.Load()
	for c.pushWritten.Load() < want && !c.pushFailed.Load() {
		select {
		case <-c.pushTick:
		case <-c.s.ctx.Done():
			return
		}
	}
}

// deliver queues a message for c; a client that lets the backlog fill up
// is disconnected, as Redis does past its pub/sub output buffer limit.
func (c *conn) deliver(msg any) {
	c.pushMu.Lock()
	defer c.pushMu.Unlock()
	if c.pushesClosed {
		return
	}
	c.startPushesLocked()
	select {
	case c.pushes <- msg:
		c.pushQueued.Add(1)
	default:
		c.s.log.Warn("subscriber too slow; disconnecting", "client", c.id)
		c.nc.Close()
	}
}

// deliverLine queues a MONITOR line for c, bounded as Redis bounds a
// client's output buffer: past hard bytes queued, or past soft bytes
// for more than secs seconds, c is disconnected.
func (c *conn) deliverLine(line monitorLine, hard, soft, secs int64) {
	c.pushMu.Lock()
	defer c.pushMu.Unlock()
	if c.pushesClosed {
		return
	}
	c.startPushesLocked()
	queued := c.pushBytes.Load() + int64(len(line))
	over := queued > hard
	switch {
	case soft <= 0 || queued <= soft:
		c.softSince = time.Time{}
	case c.softSince.IsZero():
		c.softSince = time.Now()
	case time.Since(c.softSince) > time.Duration(secs)*time.Second:
		over = true
	}
	if over {
		c.s.log.Warn("monitor too slow: output buffer limit reached; disconnecting", "client", c.id, "bytes", queued)
		c.pushesClosed = true
		close(c.pushes)
		c.nc.Close()
		return
	}
	select {
	case c.pushes <- line:
		c.pushBytes.Add(int64(len(line)))
		c.pushQueued.Add(1)
	default:
		c.s.log.Warn("monitor too slow; disconnecting", "client", c.id)
		c.nc.Close()
	}
}

// stopPushes ends c's push writer (on close).
func (c *conn) stopPushes() {
	c.pushMu.Lock()
	defer c.pushMu.Unlock()
	if !c.pushesClosed {
		c.pushesClosed = true
		if c.pushes != nil {
			close(c.pushes)
		}
	}
}
