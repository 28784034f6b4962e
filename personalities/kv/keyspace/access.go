package keyspace

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"hourglass/platform"
)

// Access information and the eviction settings.
//
// Every record carries its last access time (log time, ms) and its LFU
// counter, as a Redis object carries its LRU clock or its LFU counter and
// decrement time. A write stamps the keys it writes at apply (put). A
// read is served by one node without the log, so the node remembers the
// keys its reads touched and proposes them now and then in a touch entry
// (TouchBody); its apply stamps them as a write does, at the entry's log
// time, so that every replica holds the same access information. The LFU
// counter grows as Redis's LFULogIncr does, with a random source seeded
// by the entry (never the command's own, so that SPOP and the like pick
// what they picked before), and decays by one per lfu-decay-time minutes
// since the last access, as LFUDecrAndReturn does.
//
// The settings that drive eviction (maxmemory, maxmemory-policy,
// maxmemory-samples, maxmemory-eviction-tenacity, lfu-log-factor and
// lfu-decay-time) are replicated: CONFIG SET proposes them (ConfigBody)
// and apply stores them under
//
//	'C' name -> value, as CONFIG GET reports it

const (
	prefixConfig = 'C'
	cmdTouch     = "\x00touch"
	cmdConfig    = "\x00config"
)

// MaxTouchKeys bounds the keys of one touch entry; MaxTouchKeyLen the
// length of a key a node remembers touching (a longer key's reads are
// not tracked).
const (
	MaxTouchKeys   = 1024
	MaxTouchKeyLen = 1024
)

// Policies are maxmemory-policy's values.
var Policies = []string{"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"}

// EvictionConfig is the replicated eviction settings.
type EvictionConfig struct {
	// MaxMemory bounds the used memory (see UsedMemory), in bytes; 0:
	// no bound.
	MaxMemory int64
	// Policy is maxmemory-policy, one of Policies.
	Policy string
	// Samples is maxmemory-samples: keys sampled per eviction.
	Samples int64
	// Tenacity is maxmemory-eviction-tenacity (0..100): how many keys
	// one command may evict before it runs anyway (see evictLimit).
	Tenacity int64
	// LFULogFactor and LFUDecayTime are lfu-log-factor and
	// lfu-decay-time (minutes).
	LFULogFactor, LFUDecayTime int64
}

// DefaultEvictionConfig is Redis 7.0's defaults.
var DefaultEvictionConfig = EvictionConfig{Policy: "noeviction", Samples: 5, Tenacity: 10, LFULogFactor: 10, LFUDecayTime: 1}

// ConfigNames are the replicated CONFIG parameters.
var ConfigNames = []string{"maxmemory", "maxmemory-policy", "maxmemory-samples", "maxmemory-eviction-tenacity", "lfu-log-factor", "lfu-decay-time"}

// LFU reports whether the policy counts access frequency.
func (c EvictionConfig) LFU() bool { return strings.HasSuffix(c.Policy, "-lfu") }

// LRU reports whether the policy uses the access time.
func (c EvictionConfig) LRU() bool { return strings.HasSuffix(c.Policy, "-lru") }

// ints maps the integer parameters to their fields.
func (c *EvictionConfig) ints() map[string]*int64 {
	return map[string]*int64{
		"maxmemory": &c.MaxMemory, "maxmemory-samples": &c.Samples, "maxmemory-eviction-tenacity": &c.Tenacity,
		"lfu-log-factor": &c.LFULogFactor, "lfu-decay-time": &c.LFUDecayTime,
	}
}

// Get returns parameter name (one of ConfigNames) as CONFIG GET reports
// it.
func (c EvictionConfig) Get(name string) string {
	if name == "maxmemory-policy" {
		return c.Policy
	}
	if p, ok := c.ints()[name]; ok {
		return strconv.FormatInt(*p, 10)
	}
	return ""
}

// set sets parameter name from its canonical value; false if either is
// not one.
func (c *EvictionConfig) set(name, v string) bool {
	if name == "maxmemory-policy" {
		if !slices.Contains(Policies, v) {
			return false
		}
		c.Policy = v
		return true
	}
	p, ok := c.ints()[name]
	n, valid := ParseInt([]byte(v))
	if !ok || !valid || n < 0 {
		return false
	}
	*p = n
	return true
}

func configKey(name string) []byte { return append([]byte{prefixConfig}, name...) }

// ReadEvictionConfig returns the eviction settings of the applied state r.
func ReadEvictionConfig(r platform.Reader) (EvictionConfig, error) {
	c := DefaultEvictionConfig
	it, err := r.NewIter([]byte{prefixConfig}, []byte{prefixConfig + 1})
	if err != nil {
		return c, err
	}
	for it.First(); it.Valid(); it.Next() {
		c.set(string(it.Key()[1:]), string(it.Value()))
	}
	return c, it.Close()
}

// ConfigBody returns the log body that sets the replicated parameters
// pairs (name, canonical value, ...), as CONFIG SET validated them.
func ConfigBody(pairs []string) []byte {
	args := [][]byte{[]byte(cmdConfig)}
	for _, p := range pairs {
		args = append(args, []byte(p))
	}
	return EncodeCommand(0, 0, args)
}

func applyConfig(ks *Keyspace, args [][]byte) (any, error) {
	if len(args)%2 != 1 {
		return nil, Error("ERR malformed CONFIG entry")
	}
	var c EvictionConfig
	for i := 1; i < len(args); i += 2 {
		if !c.set(string(args[i]), string(args[i+1])) {
			return nil, Error("ERR malformed CONFIG entry")
		}
	}
	for i := 1; i < len(args); i += 2 {
		if err := ks.w.Set(configKey(string(args[i])), args[i+1]); err != nil {
			return nil, err
		}
	}
	ks.cfg = nil
	return OK, nil
}

// evictionConfig returns the eviction settings, read once per command.
func (ks *Keyspace) evictionConfig() (*EvictionConfig, error) {
	if ks.cfg == nil {
		c, err := ReadEvictionConfig(ks.r)
		if err != nil {
			return nil, err
		}
		ks.cfg = &c
	}
	return ks.cfg, nil
}

// TouchBody returns the log body of a touch entry: the keys (db, key)
// reads on one node touched, at most MaxTouchKeys of them.
func TouchBody(seed uint64, keys []DBKey) []byte {
	args := make([][]byte, 0, 1+2*len(keys))
	args = append(args, []byte(cmdTouch))
	for _, k := range keys {
		args = append(args, []byte{byte(k.DB)}, []byte(k.Key))
	}
	return EncodeCommand(0, seed, args)
}

func applyTouch(ks *Keyspace, args [][]byte) (any, error) {
	if len(args)%2 != 1 || len(args) > 1+2*MaxTouchKeys {
		return nil, Error("ERR malformed touch entry")
	}
	for i := 1; i < len(args); i += 2 {
		if len(args[i]) != 1 || args[i][0] >= Databases {
			return nil, Error("ERR malformed touch entry")
		}
		kd := ks.withDB(int(args[i][0]))
		rec, ok, err := kd.raw(args[i+1])
		if err != nil {
			return nil, err
		}
		if !ok || rec.typ == typeTombstone || rec.expired(ks.now) {
			continue
		}
		if err := kd.stampAccess(&rec, rec); err != nil {
			return nil, err
		}
		if err := ks.w.Set(dataKey(kd.db, args[i+1]), rec.encode()); err != nil {
			return nil, err
		}
	}
	return OK, nil
}

// stampAccess records an access to rec now, from the access information
// of old (the key's record before, or rec itself).
func (ks *Keyspace) stampAccess(rec *record, old record) error {
	cfg, err := ks.evictionConfig()
	if err != nil {
		return err
	}
	c := ks.lfuCounter(old, cfg)
	rec.atime, rec.lfu = ks.now, lfuLogIncr(c, cfg.LFULogFactor, ks.lfuRand())
	return nil
}

// stampNew stamps a new key's record: accessed now, with Redis's initial
// LFU counter.
func (ks *Keyspace) stampNew(rec *record) {
	rec.atime, rec.lfu = ks.now, lfuInitVal
}

// lfuRand returns the random source of LFU counters, seeded by the
// command's seed apart from its own random source.
func (ks *Keyspace) lfuRand() *rand.Rand {
	if ks.lfuRng == nil {
		ks.lfuRng = rand.New(rand.NewPCG(ks.seed^0x5bd1e9955bd1e995, ks.version))
	}
	return ks.lfuRng
}

// lfuCounter is Redis's LFUDecrAndReturn: rec's counter less one per
// lfu-decay-time minutes since its last access.
func (ks *Keyspace) lfuCounter(rec record, cfg *EvictionConfig) byte {
	c := int64(rec.lfu)
	if cfg.LFUDecayTime > 0 && ks.now > rec.atime {
		periods := (ks.now - rec.atime) / 60000 / cfg.LFUDecayTime
		c = max(c-periods, 0)
	}
	return byte(c)
}

// lfuLogIncr is Redis's LFULogIncr: the counter grows with probability
// 1/((counter-5)*factor+1).
func lfuLogIncr(c byte, factor int64, r *rand.Rand) byte {
	if c == 255 {
		return 255
	}
	base := max(float64(c)-lfuInitVal, 0)
	if r.Float64() < 1/(base*float64(factor)+1) {
		c++
	}
	return c
}

// idleMillis is how long ago rec was last accessed, by ks's clock.
func (ks *Keyspace) idleMillis(rec record) int64 { return max(ks.now-rec.atime, 0) }
