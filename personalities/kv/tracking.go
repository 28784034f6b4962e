package kv

import (
	"bytes"
	"encoding/binary"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"

	"hourglass/personalities/kv/keyspace"
	"hourglass/platform"
)

// Client-side caching (CLIENT TRACKING) on one node.
//
// Every node applies every write, so each node invalidates its own
// clients' caches at apply: package keyspace notes the keys each command
// changed (Effects.Invalidated) while somebody here tracks, and
// PostApply hands them to the tracker before the write's proposer hears
// its result. The tracker is Redis's: in the default mode a table of
// the keys each client read (bounded by tracking-table-max-keys, whose
// evictions invalidate), a key's readers hearing of it once; in BCAST
// mode the prefixes each client asked for.
//
// A read runs on a view of the applied state taken before its key is
// remembered, so a write may apply in between. The tracker keeps the
// keys of the last entries it saw (recent); when the connection has
// written the read's reply, it remembers the key only if no entry since
// the view touched it, and otherwise invalidates it at once (after the
// reply, so that a client never caches what it read before the
// invalidation). A view older than what recent covers is invalidated
// likewise: an extra invalidation is a cache miss, a missed one a stale
// cache.

// headerOrigin tags a write proposed by a tracking client, or while the
// node has monitors: the node's token and the connection's id, 8 bytes
// each. Only the node that proposed it recognises it, to order or skip
// the client's own invalidations and to show its scripts' commands in
// MONITOR; apply's writes ignore it.
const headerOrigin = "kv.origin"

// recentTouches bounds how many written keys the tracker remembers for
// reads in flight.
const recentTouches = 4096

// defaultTrackingMaxKeys is tracking-table-max-keys's default.
const defaultTrackingMaxKeys = 1000000

// trackState is a connection's CLIENT TRACKING state. The connection
// changes it under tracker.mu; apply reads it there.
type trackState struct {
	on, bcast, optin, optout, noloop bool
	// broken: the redirect target went away.
	broken   bool
	redirect int64
	// prefixes are BCAST's, sorted.
	prefixes []string
	// deferred are the invalidations of the client's own writes, sent
	// after the write's reply as Redis sends them (nil: a flush).
	deferred [][]any
}

// trackedRead is a read whose keys the connection remembers once its
// reply is written: at is the first log position its view did not see.
type trackedRead struct {
	keys [][]byte
	at   platform.Position
}

// tracker is the node's tracking state.
type tracker struct {
	// clients counts tracking connections, read by apply without the
	// lock.
	clients atomic.Int64
	// untrackedNext is past the last position an entry applied at
	// without noting its keys (nobody tracked when it began).
	untrackedNext atomic.Uint64
	// token names this node in headerOrigin.
	token uint64

	mu struct {
		sync.Mutex
		// keys is the tracking table: per key, the clients that read
		// it since it last changed.
		keys map[string]map[*conn]struct{}
		// prefixes are the BCAST clients, per prefix.
		prefixes map[string]map[*conn]struct{}
		// tracking are the tracking connections.
		tracking map[*conn]struct{}
		// recent are the keys written at positions from recentFrom
		// on, in apply order.
		recent     []touch
		recentFrom platform.Position
	}
}

// touch is a key written (or, all, every key) at pos.
type touch struct {
	pos platform.Position
	key string
	all bool
}

// tracking reports, for apply, whether anybody here tracks keys.
func (t *tracker) tracking() bool { return t.clients.Load() > 0 }

// origin returns the local connection that proposed e, if it tagged it.
func (t *tracker) origin(e *platform.Entry) int64 {
	h := platform.HeaderValue(e, headerOrigin)
	if len(h) != 16 || binary.BigEndian.Uint64(h) != t.token {
		return 0
	}
	return int64(binary.BigEndian.Uint64(h[8:]))
}

// tagOrigin marks e as proposed by c, if c tracks keys (its own writes
// invalidate its cache after their replies, or never with NOLOOP) or
// the node has monitors (a script's commands show there), or c's user
// is restricted (a script's denials go to this node's ACL LOG).
func (c *conn) tagOrigin(e *platform.Entry) {
	if c.track.on || c.s.monitors.count.Load() > 0 || c.restricted() {
		h := binary.BigEndian.AppendUint64(nil, c.s.tracker.token)
		platform.SetHeader(e, headerOrigin, binary.BigEndian.AppendUint64(h, uint64(c.id)))
	}
}

// afterApply sends the invalidations of the entry applied at pos.
// Called by the apply goroutine before the entry's proposer hears of it.
func (s *Server) afterApply(fx *keyspace.Effects, pos platform.Position) {
	t := &s.tracker
	if fx.Untracked {
		t.untrackedNext.Store(pos + 1)
	}
	if len(fx.Invalidated) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	// BCAST clients hear, per prefix, of the entry's keys at once.
	type bcastKey struct {
		c      *conn
		prefix string
	}
	var bcast map[bcastKey][]string
	for _, inv := range fx.Invalidated {
		if inv.Key == nil {
			t.mu.recent = append(t.mu.recent, touch{pos: pos, all: true})
			for c := range t.mu.tracking {
				s.sendInvalidation(c, nil, inv.Origin)
			}
			t.mu.keys = nil
			continue
		}
		key := string(inv.Key)
		t.mu.recent = append(t.mu.recent, touch{pos: pos, key: key})
		s.invalidateKey(key, inv.Origin)
		for p, conns := range t.mu.prefixes {
			if len(conns) == 0 || len(key) < len(p) || key[:len(p)] != p {
				continue
			}
			for c := range conns {
				if c.track.noloop && inv.Origin == c.id {
					continue
				}
				if bcast == nil {
					bcast = map[bcastKey][]string{}
				}
				bcast[bcastKey{c, p}] = append(bcast[bcastKey{c, p}], key)
			}
		}
	}
	order := make([]bcastKey, 0, len(bcast))
	for k := range bcast {
		order = append(order, k)
	}
	// Per client, one message per prefix, in the prefixes' order.
	sort.Slice(order, func(i, j int) bool {
		a, b := order[i], order[j]
		return a.c.id < b.c.id || a.c.id == b.c.id && a.prefix < b.prefix
	})
	for _, k := range order {
		keys := bcast[k]
		sort.Strings(keys)
		keys = slices.Compact(keys)
		out := make([]any, len(keys))
		for i, key := range keys {
			out[i] = key
		}
		s.sendInvalidation(k.c, out, origin(fx, k.c))
	}
	if n := len(t.mu.recent); n > 2*recentTouches {
		t.mu.recentFrom = t.mu.recent[n-recentTouches-1].pos + 1
		t.mu.recent = append(t.mu.recent[:0], t.mu.recent[n-recentTouches:]...)
	}
}

// invalidateKey tells the clients that read key, but the one at origin
// if it asked NOLOOP, that it changed, and forgets them, as Redis's
// trackingInvalidateKey. REQUIRES: t.mu held.
func (s *Server) invalidateKey(key string, origin int64) {
	t := &s.tracker
	readers, ok := t.mu.keys[key]
	if !ok {
		return
	}
	delete(t.mu.keys, key)
	for c := range readers {
		if !c.track.on || c.track.bcast || c.track.noloop && origin == c.id {
			continue
		}
		s.sendInvalidation(c, []any{key}, origin)
	}
}

// origin returns c's id if one of the entry's changes came from c, for
// BCAST messages, which follow the command's reply.
func origin(fx *keyspace.Effects, c *conn) int64 {
	for _, inv := range fx.Invalidated {
		if inv.Origin == c.id {
			return c.id
		}
	}
	return 0
}

// sendInvalidation sends c an invalidation of keys (nil: every key),
// as Redis's sendTrackingMessage: a push in RESP3, a message on
// __redis__:invalidate to a RESP2 redirect target that is subscribed,
// nothing to a RESP2 client without one. A change that came from c
// itself (origin) waits for its reply (see sendDeferred). REQUIRES:
// t.mu held.
func (s *Server) sendInvalidation(c *conn, keys []any, origin int64) {
	if origin == c.id {
		c.track.deferred = append(c.track.deferred, keys)
		return
	}
	target := c
	if c.track.redirect != 0 {
		target = s.connByID(c.track.redirect)
		if target == nil {
			c.track.broken = true
			if c.pushProto.Load() >= 3 {
				c.deliver(push{"tracking-redir-broken", c.track.redirect})
			}
			return
		}
	}
	switch {
	case target.pushProto.Load() >= 3:
		target.deliver(push{"invalidate", nilOr(keys)})
	case target != c && target.subscribedHint.Load():
		target.deliver(push{"message", "__redis__:invalidate", nilOr(keys)})
	}
}

// nilOr returns keys, or an untyped nil for none (a null reply).
func nilOr(keys []any) any {
	if keys == nil {
		return nil
	}
	return keys
}

// noteRead queues the keys of cmd, a read just served from c's view,
// to be remembered once its reply is written, if c tracks them.
func (c *conn) noteRead(cmd *command, args [][]byte) {
	tr := &c.track
	if !tr.on || tr.bcast || c.view == nil || !slices.Contains(cmd.Flags, "readonly") ||
		tr.optin && !c.caching || tr.optout && c.caching {
		return
	}
	switch cmd.Name {
	case "eval_ro", "evalsha_ro", "fcall_ro":
		return
	}
	info := lookupLine(args)
	if info == nil {
		return
	}
	ks, ok := info.Keys(args)
	if !ok || len(ks) == 0 {
		return
	}
	keys := make([][]byte, len(ks))
	for i, k := range ks {
		keys[i] = bytes.Clone(args[k.Pos])
	}
	c.trackReads = append(c.trackReads, trackedRead{keys, c.view.Applied()})
}

// rememberReads remembers the keys c's written replies read, or
// invalidates those a write may have changed since their view.
func (c *conn) rememberReads() {
	if len(c.trackReads) == 0 && !c.track.on {
		return
	}
	s, t := c.s, &c.s.tracker
	limit := s.trackingMaxKeys()
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, keys := range c.track.deferred {
		s.sendInvalidation(c, keys, 0)
	}
	clear(c.track.deferred)
	c.track.deferred = c.track.deferred[:0]
	for _, r := range c.trackReads {
		if !c.track.on || c.track.bcast {
			break
		}
		var stale []any
		for _, k := range r.keys {
			if t.touchedSince(string(k), r.at) {
				stale = append(stale, k)
				continue
			}
			if t.mu.keys == nil {
				t.mu.keys = map[string]map[*conn]struct{}{}
			}
			readers := t.mu.keys[string(k)]
			if readers == nil {
				readers = map[*conn]struct{}{}
				t.mu.keys[string(k)] = readers
			}
			readers[c] = struct{}{}
		}
		for _, k := range stale {
			s.sendInvalidation(c, []any{k}, 0)
		}
	}
	clear(c.trackReads)
	c.trackReads = c.trackReads[:0]
	// Over the limit, keys go as Redis's trackingLimitUsedSlots takes
	// them: any key, its readers invalidated.
	for limit > 0 && len(t.mu.keys) > limit {
		for k := range t.mu.keys {
			s.invalidateKey(k, 0)
			break
		}
	}
}

// touchedSince reports whether key may have been written at a position
// from at on. REQUIRES: t.mu held.
func (t *tracker) touchedSince(key string, at platform.Position) bool {
	if at < t.mu.recentFrom || at < t.untrackedNext.Load() {
		return true // older than what recent covers
	}
	for i := len(t.mu.recent) - 1; i >= 0 && t.mu.recent[i].pos >= at; i-- {
		if r := t.mu.recent[i]; r.all || r.key == key {
			return true
		}
	}
	return false
}

// trackingMaxKeys returns tracking-table-max-keys (0: no limit).
func (s *Server) trackingMaxKeys() int {
	v, ok := s.settings().params["tracking-table-max-keys"]
	if !ok {
		return defaultTrackingMaxKeys
	}
	n, _ := strconv.Atoi(v)
	return n
}

// clientTracking implements CLIENT TRACKING ON|OFF [REDIRECT id]
// [PREFIX p ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP], with Redis 7.0's
// checks in its order.
func clientTracking(c *conn, args [][]byte) any {
	var redirect int64
	var bcast, optin, optout, noloop bool
	var prefixes []string
	for j := 3; j < len(args); j++ {
		more := j+1 < len(args)
		switch {
		case keyspace.EqFold(args[j], "redirect") && more:
			j++
			if redirect != 0 {
				return keyspace.Error("ERR A client can only redirect to a single other client")
			}
			n, ok := keyspace.ParseInt(args[j])
			if !ok {
				return keyspace.ErrNotInteger
			}
			if c.s.connByID(n) == nil {
				return keyspace.Error("ERR The client ID you want redirect to does not exist")
			}
			redirect = n
		case keyspace.EqFold(args[j], "bcast"):
			bcast = true
		case keyspace.EqFold(args[j], "optin"):
			optin = true
		case keyspace.EqFold(args[j], "optout"):
			optout = true
		case keyspace.EqFold(args[j], "noloop"):
			noloop = true
		case keyspace.EqFold(args[j], "prefix") && more:
			j++
			prefixes = append(prefixes, string(args[j]))
		default:
			return keyspace.ErrSyntax
		}
	}
	switch {
	case keyspace.EqFold(args[2], "on"):
	case keyspace.EqFold(args[2], "off"):
		c.s.disableTracking(c)
		return keyspace.OK
	default:
		return keyspace.ErrSyntax
	}
	tr := &c.track
	switch {
	case !bcast && len(prefixes) > 0:
		return keyspace.Error("ERR PREFIX option requires BCAST mode to be enabled")
	case tr.on && tr.bcast != bcast:
		return keyspace.Error("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.")
	case bcast && (optin || optout):
		return keyspace.Error("ERR OPTIN and OPTOUT are not compatible with BCAST")
	case optin && optout:
		return keyspace.Error("ERR You can't specify both OPTIN mode and OPTOUT mode")
	case optin && tr.optout || optout && tr.optin:
		return keyspace.Error("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.")
	}
	if bcast {
		if err := prefixCollision(tr.prefixes, prefixes); err != nil {
			return err
		}
		if len(prefixes) == 0 {
			prefixes = []string{""}
		}
	}
	c.s.enableTracking(c, redirect, bcast, optin, optout, noloop, prefixes)
	return keyspace.OK
}

// prefixCollision returns Redis's error if a new prefix overlaps one the
// client has or another new one.
func prefixCollision(have, add []string) any {
	overlap := func(a, b string) bool {
		n := min(len(a), len(b))
		return a[:n] == b[:n]
	}
	for i, p := range add {
		for _, h := range have {
			if overlap(h, p) {
				return keyspace.Errorf("ERR Prefix '%s' overlaps with an existing prefix '%s'. Prefixes for a single client must not overlap.", p, h)
			}
		}
		for _, q := range add[i+1:] {
			if overlap(p, q) {
				return keyspace.Errorf("ERR Prefix '%s' overlaps with another provided prefix '%s'. Prefixes for a single client must not overlap.", p, q)
			}
		}
	}
	return nil
}

func (s *Server) enableTracking(c *conn, redirect int64, bcast, optin, optout, noloop bool, prefixes []string) {
	t := &s.tracker
	t.mu.Lock()
	defer t.mu.Unlock()
	tr := &c.track
	if !tr.on {
		t.clients.Add(1)
		if t.mu.tracking == nil {
			t.mu.tracking = map[*conn]struct{}{}
		}
		t.mu.tracking[c] = struct{}{}
	}
	tr.on, tr.broken, tr.redirect = true, false, redirect
	tr.bcast, tr.optin, tr.optout, tr.noloop = bcast, optin, optout, noloop
	for _, p := range prefixes {
		if t.mu.prefixes == nil {
			t.mu.prefixes = map[string]map[*conn]struct{}{}
		}
		if t.mu.prefixes[p] == nil {
			t.mu.prefixes[p] = map[*conn]struct{}{}
		}
		t.mu.prefixes[p][c] = struct{}{}
		if !slices.Contains(tr.prefixes, p) {
			tr.prefixes = append(tr.prefixes, p)
		}
	}
	sort.Strings(tr.prefixes)
	c.startPushes()
}

// disableTracking turns c's tracking off (CLIENT TRACKING OFF, RESET,
// close). Its keys stay in the table until they change, as in Redis.
func (s *Server) disableTracking(c *conn) {
	t := &s.tracker
	t.mu.Lock()
	defer t.mu.Unlock()
	if !c.track.on {
		return
	}
	for _, p := range c.track.prefixes {
		delete(t.mu.prefixes[p], c)
		if len(t.mu.prefixes[p]) == 0 {
			delete(t.mu.prefixes, p)
		}
	}
	delete(t.mu.tracking, c)
	t.clients.Add(-1)
	c.track = trackState{redirect: c.track.redirect}
	c.caching = false
	clear(c.trackReads)
	c.trackReads = c.trackReads[:0]
}

// clientCaching implements CLIENT CACHING YES|NO.
func clientCaching(c *conn, opt []byte) any {
	tr := &c.track
	switch {
	case !tr.on:
		return keyspace.Error("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")
	case keyspace.EqFold(opt, "yes"):
		if !tr.optin {
			return keyspace.Error("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
		}
	case keyspace.EqFold(opt, "no"):
		if !tr.optout {
			return keyspace.Error("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")
		}
	default:
		return keyspace.ErrSyntax
	}
	c.caching = true
	return keyspace.OK
}

// trackingInfo is CLIENT TRACKINGINFO's reply.
func (c *conn) trackingInfo() any {
	c.s.tracker.mu.Lock()
	tr := c.track
	c.s.tracker.mu.Unlock()
	flags := keyspace.Set{"off"}
	if tr.on {
		flags[0] = "on"
	}
	add := func(on bool, f string) {
		if on {
			flags = append(flags, f)
		}
	}
	add(tr.bcast, "bcast")
	add(tr.optin, "optin")
	add(tr.optin && c.caching, "caching-yes")
	add(tr.optout, "optout")
	add(tr.optout && c.caching, "caching-no")
	add(tr.noloop, "noloop")
	add(tr.broken, "broken_redirect")
	prefixes := []any{}
	for _, p := range tr.prefixes {
		prefixes = append(prefixes, p)
	}
	return keyspace.Map{"flags", flags, "redirect", c.redirectID(tr), "prefixes", prefixes}
}

// redirectID is CLIENT GETREDIR's answer and CLIENT LIST's redir.
func (c *conn) redirectID(tr trackState) int64 {
	if !tr.on {
		return -1
	}
	return tr.redirect
}

// trackFlags returns c's tracking flags for CLIENT LIST (t, R, B) and
// its redir field.
func (c *conn) trackFlags() (string, int64) {
	c.s.tracker.mu.Lock()
	tr := c.track
	c.s.tracker.mu.Unlock()
	var f []byte
	if tr.on {
		f = append(f, 't')
	}
	if tr.broken {
		f = append(f, 'R')
	}
	if tr.bcast {
		f = append(f, 'B')
	}
	return string(f), c.redirectID(tr)
}
