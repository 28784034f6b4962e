package kv

import (
	"bytes"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"hourglass/personalities/kv/glob"
	"hourglass/personalities/kv/keyspace"
)

// Pub/sub through the log: PUBLISH is a log entry (a data command of
// package keyspace), so every node applies it, and each node delivers it
// to its own subscribers after the apply commits (PostApply).
// Subscriptions are per node: PUBSUB and PUBLISH's count report the node
// that answers.

func init() {
	sub := func(name string, arity int, f func(*conn, [][]byte) any) {
		local(name, arity, f, "pubsub", "noscript", "loading", "stale").pubsub = true
	}
	sub("subscribe", -2, localSubscribe(false))
	sub("psubscribe", -2, localSubscribe(true))
	sub("unsubscribe", -1, localUnsubscribe(false))
	sub("punsubscribe", -1, localUnsubscribe(true))
	local("pubsub", -2, localPubsub, "pubsub", "loading", "stale")
}

// hub is a node's subscriptions.
type hub struct {
	// count is the number of subscriptions, read without the lock.
	count    atomic.Int64
	mu       sync.Mutex
	channels map[string]map[*conn]struct{}
	patterns map[string]map[*conn]struct{}
}

func (h *hub) add(pattern bool, name string, c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := &h.channels
	if pattern {
		m = &h.patterns
	}
	if *m == nil {
		*m = map[string]map[*conn]struct{}{}
	}
	if (*m)[name] == nil {
		(*m)[name] = map[*conn]struct{}{}
	}
	if _, ok := (*m)[name][c]; !ok {
		(*m)[name][c] = struct{}{}
		h.count.Add(1)
	}
}

func (h *hub) remove(pattern bool, name string, c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := h.channels
	if pattern {
		m = h.patterns
	}
	if _, ok := m[name][c]; ok {
		delete(m[name], c)
		h.count.Add(-1)
	}
	if len(m[name]) == 0 {
		delete(m, name)
	}
}

// publish delivers a message to this node's subscribers and returns how
// many received it.
func (h *hub) publish(channel, message []byte) int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	var n int64
	for c := range h.channels[string(channel)] {
		c.deliver(push{"message", bytes.Clone(channel), bytes.Clone(message)})
		n++
	}
	for pat, conns := range h.patterns {
		if !glob.Match([]byte(pat), channel) {
			continue
		}
		for c := range conns {
			c.deliver(push{"pmessage", pat, bytes.Clone(channel), bytes.Clone(message)})
			n++
		}
	}
	return n
}

// publishAll delivers the messages fx collected to this node's
// subscribers, in order.
func (s *Server) publishAll(fx *keyspace.Effects) {
	for _, m := range fx.Published {
		s.hub.publish(m.Channel, m.Message)
	}
}

// noteMisses makes the read on ks collect the keys it misses, if this
// node notifies key misses to anybody (an Effects to publishAll after the
// read), else returns nil.
func (s *Server) noteMisses(ks *keyspace.Keyspace) *keyspace.Effects {
	classes := keyspace.EventClass(s.notify.Load())
	if s.hub.count.Load() == 0 || classes.Deliverable()&keyspace.EventKeyMiss == 0 {
		return nil
	}
	fx := &keyspace.Effects{}
	ks.NotifyMisses(fx, classes)
	return fx
}

// receivers counts this node's subscribers a message on channel reaches.
func (h *hub) receivers(channel []byte) int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := int64(len(h.channels[string(channel)]))
	for pat, conns := range h.patterns {
		if glob.Match([]byte(pat), channel) {
			n += int64(len(conns))
		}
	}
	return n
}

// subscriptions returns how many channels and patterns c is subscribed to.
func (c *conn) subscriptions() int64 { return int64(len(c.subs) + len(c.psubs)) }

func localSubscribe(pattern bool) func(*conn, [][]byte) any {
	kind := "subscribe"
	if pattern {
		kind = "psubscribe"
	}
	return func(c *conn, args [][]byte) any {
		c.startPushes()
		set := c.subsFor(pattern)
		for _, name := range args[1:] {
			n := string(name)
			if _, ok := set[n]; !ok {
				set[n] = struct{}{}
				c.s.hub.add(pattern, n, c)
			}
			c.push(push{kind, bytes.Clone(name), c.subscriptions()})
		}
		c.subscribedHint.Store(c.subscriptions() > 0)
		return deferred{}
	}
}

func localUnsubscribe(pattern bool) func(*conn, [][]byte) any {
	kind := "unsubscribe"
	if pattern {
		kind = "punsubscribe"
	}
	return func(c *conn, args [][]byte) any {
		set := c.subsFor(pattern)
		names := args[1:]
		if len(names) == 0 {
			for n := range set {
				names = append(names, []byte(n))
			}
			sort.Slice(names, func(i, j int) bool { return bytes.Compare(names[i], names[j]) < 0 })
			if len(names) == 0 {
				c.push(push{kind, nil, c.subscriptions()})
				return deferred{}
			}
		}
		for _, name := range names {
			n := string(name)
			if _, ok := set[n]; ok {
				delete(set, n)
				c.s.hub.remove(pattern, n, c)
			}
			c.push(push{kind, bytes.Clone(name), c.subscriptions()})
		}
		c.subscribedHint.Store(c.subscriptions() > 0)
		return deferred{}
	}
}

func (c *conn) subsFor(pattern bool) map[string]struct{} {
	if pattern {
		if c.psubs == nil {
			c.psubs = map[string]struct{}{}
		}
		return c.psubs
	}
	if c.subs == nil {
		c.subs = map[string]struct{}{}
	}
	return c.subs
}

// unsubscribeAll drops every subscription (on RESET and close).
func (c *conn) unsubscribeAll() {
	for n := range c.subs {
		c.s.hub.remove(false, n, c)
	}
	for n := range c.psubs {
		c.s.hub.remove(true, n, c)
	}
	c.subs, c.psubs = nil, nil
	c.subscribedHint.Store(false)
}

func localPubsub(c *conn, args [][]byte) any {
	sub := strings.ToLower(string(args[1]))
	h := &c.s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case sub == "channels" && len(args) <= 3:
		out := []any{}
		var names []string
		for n := range h.channels {
			if len(args) == 3 && !glob.Match(args[2], []byte(n)) {
				continue
			}
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			out = append(out, n)
		}
		return out
	case sub == "numsub":
		out := []any{}
		for _, n := range args[2:] {
			out = append(out, bytes.Clone(n), int64(len(h.channels[string(n)])))
		}
		return out
	case sub == "numpat" && len(args) == 2:
		return int64(len(h.patterns))
	}
	return errSubcommand("PUBSUB", args, "channels", "numsub", "numpat")
}
