package kv

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
	c.pushes = make(chan any, maxPushBacklog)
	c.pushTick = make(chan struct{}, 1)
	go func() {
		var buf []byte
		defer c.tickPushes()
		for msg := range c.pushes {
			buf = appendReply(buf[:0], msg, int(c.pushProto.Load()))
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
