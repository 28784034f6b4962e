package kv

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"hourglass/personalities/kv/keyspace"
)

// The eviction settings (maxmemory, maxmemory-policy, ...) change what
// apply writes, so they are not a node's: CONFIG SET validates them here
// and proposes them to the log (keyspace.ConfigBody), every replica
// stores them at apply, and CONFIG GET reads them from a synced view.
// A redis.conf file's values are proposed the same way once the log is
// open, when they differ from the replicated ones (see FileState).
//
// Reads run on one node without the log, so the access information LRU
// and LFU eviction need is sent by the node: while the replicated policy
// is an LRU or LFU one, the keys each read touches are remembered (at
// most keyspace.MaxTouchKeys between flushes) and proposed every
// touchEvery in one touch entry (keyspace.TouchBody), which stamps them
// on every replica at its log time.

const touchEvery = 100 * time.Millisecond

var errReplicated = errors.New("replicated through the log: set it with CONFIG SET")

func init() {
	for _, name := range keyspace.ConfigNames {
		configEffects[name] = configEffect{
			get: func(s *Server) string { return s.eviction.Load().Get(name) },
			set: func(*Server, string) error { return errReplicated },
		}
	}
}

// replicatedParam reports whether CONFIG parameter name goes through the
// log.
func replicatedParam(name string) bool { return slices.Contains(keyspace.ConfigNames, name) }

// evictionConfig reads the replicated eviction settings from the
// connection's synced view.
func (c *conn) evictionConfig() (keyspace.EvictionConfig, error) {
	v, err := c.readView()
	if err != nil {
		return keyspace.EvictionConfig{}, err
	}
	return keyspace.ReadEvictionConfig(v)
}

// touchSet is the keys this node's reads touched since the last touch
// entry.
type touchSet struct {
	mu   sync.Mutex
	keys map[keyspace.DBKey]struct{} // guarded by mu
}

// noTouch are the reads that do not count as an access, as Redis looks
// their keys up with LOOKUP_NOTOUCH.
var noTouch = map[string]bool{"object": true, "type": true, "exists": true, "ttl": true, "pttl": true, "expiretime": true, "pexpiretime": true}

// noteAccess remembers the keys of the read args of d on database db,
// while the policy needs them.
func (s *Server) noteAccess(db int, d *keyspace.Command, args [][]byte) {
	if cfg := s.eviction.Load(); (!cfg.LRU() && !cfg.LFU()) || noTouch[d.Name] {
		return
	}
	var keys [][]byte
	switch {
	case d.KeysMove():
		keys, _ = d.MovableKeys(args)
	case d.FirstKey > 0:
		last := d.LastKey
		if last < 0 {
			last += len(args)
		}
		for i := d.FirstKey; i <= last && i < len(args); i += max(d.Step, 1) {
			keys = append(keys, args[i])
		}
	}
	t := &s.touches
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		if len(t.keys) >= keyspace.MaxTouchKeys {
			return
		}
		if len(k) <= keyspace.MaxTouchKeyLen {
			if t.keys == nil {
				t.keys = map[keyspace.DBKey]struct{}{}
			}
			t.keys[keyspace.DBKey{DB: db, Key: string(k)}] = struct{}{}
		}
	}
}

// takeTouches returns the keys remembered, in order, and forgets them.
func (s *Server) takeTouches() []keyspace.DBKey {
	t := &s.touches
	t.mu.Lock()
	keys := t.keys
	t.keys = nil
	t.mu.Unlock()
	out := make([]keyspace.DBKey, 0, len(keys))
	for k := range keys {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b keyspace.DBKey) int {
		if a.DB != b.DB {
			return a.DB - b.DB
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out
}

// touchLoop proposes the keys reads touched, every touchEvery.
func (s *Server) touchLoop() {
	s.every(touchEvery, func() {
		if keys := s.takeTouches(); len(keys) > 0 {
			s.proposeBackground(keyspace.TouchBody(rand.Uint64(), keys), "proposing the keys reads touched failed; their access times stay older")
		}
	})
}
