package zk

import (
	"bytes"
	"context"
	"crypto/rand"
	"time"

	"hourglass/engines/sessionorder"
	"hourglass/personalities/zk/jute"
)

// send4lw answers a four-letter word, or ZooKeeper's refusal if the
// whitelist leaves it out, and lets the connection close.
func (c *conn) send4lw(cmd string) {
	var text string
	if allowed := c.s.cfg.FourLetterWords; allowed == nil || allowed[cmd] {
		text = fourLetterWords[cmd](c.s)
	} else {
		text = cmd + " is not executed because it is not in the whitelist.\n"
	}
	c.out.Lock()
	c.out.closed = true
	c.out.Unlock()
	c.nc.Write([]byte(text))
}

// connect handles the ConnectRequest: a new session is created through
// the log; a resumed one must exist with the same password.
func (c *conn) connect(frame []byte) bool {
	req, err := decodeConnectRequest(frame)
	if err != nil {
		return false
	}
	c.s.stats.connectionRequests.Add(1)
	c.received.Add(1)
	c.s.stats.received.Add(1)
	start := time.Now()
	defer func() {
		if c.sessionID() != 0 {
			c.s.requestDone(&c.stats, opCreateSession, 0, c.lastZxid.Load(), time.Since(start))
		}
	}()
	ctx, cancel := context.WithTimeout(c.s.ctx, c.s.cfg.ProposeTimeout)
	defer cancel()
	timeout := time.Duration(req.timeout) * time.Millisecond
	timeout = max(c.s.cfg.MinSessionTimeout, min(c.s.cfg.MaxSessionTimeout, timeout))
	expired := func() bool {
		c.send(appendConnectResponse(nil, 0, 0, make([]byte, 16), false))
		return false
	}
	if req.sessionID == 0 {
		passwd := make([]byte, 16)
		rand.Read(passwd)
		p := jute.AppendInt(nil, int32(timeout/time.Millisecond))
		p = jute.AppendBuffer(p, passwd)
		for range 5 {
			id := newSessionID()
			res, err := c.s.propose(ctx, opCreateSession, id, nil, p)
			if err != nil {
				return false
			}
			if res.code == errOK {
				c.epoch.Store(uint32(jute.NewDecoder(res.body).Int()))
				c.timeout = timeout // before the session: see conn.snapshot
				c.session.Store(id)
				c.lastZxid.Store(res.zxid)
				c.send(appendConnectResponse(nil, int32(timeout/time.Millisecond), id, passwd, false))
				return true
			}
		}
		return false
	}
	v, zxid, err := c.s.readView(ctx)
	if err != nil {
		return false
	}
	s, ok, err := loadSession(v, req.sessionID)
	v.Close()
	if err != nil {
		return false
	}
	if !ok || !bytes.Equal(s.passwd, req.passwd) {
		return expired()
	}
	if req.lastZxidSeen > zxid {
		// The client has seen more of the log than this node holds.
		return false
	}
	// Resume through the log: the session is touched at once (its client
	// may come back late in its timeout) and starts a new epoch, so that
	// its requests here come after any still under way at its old node.
	// The resume is the new epoch's first entry in the session's order:
	// a request of an older epoch that applies after it is stale (and
	// answered SessionMoved where it came from); a resume racing this one
	// from the same epoch is too, and its client connects again.
	seq := sessionorder.Seq(uint32(s.epoch)+1, 0)
	res, err := outcome(c.s.engine.Propose(ctx, entry(kindResume, req.sessionID, seq, nil, nil)))
	if err != nil {
		return false
	}
	if res.code != errOK {
		return expired()
	}
	c.epoch.Store(uint32(jute.NewDecoder(res.body).Int()))
	c.timeout = time.Duration(s.timeout) * time.Millisecond
	c.session.Store(req.sessionID)
	c.lastZxid.Store(zxid)
	c.send(appendConnectResponse(nil, s.timeout, req.sessionID, s.passwd, false))
	return true
}
