package kv

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"

	"hourglass/personalities/kv/glob"
	"hourglass/personalities/kv/hyperloglog"
	"hourglass/personalities/kv/keyspace"
)

// redisConf is every CONFIG parameter of Redis 7.0, as
// scripts/gen-redis-config.py read them off a real redis-server: the
// default, the kind of value, the error for a value that does not parse,
// the bounds and the aliases. CONFIG GET reports each; CONFIG SET
// validates a value as Redis does and keeps it (per node, in memory, as
// Redis keeps it until a CONFIG REWRITE). The parameters that mean
// something here (configEffects) are served from the node's settings; the
// rest (encoding thresholds, replication and persistence tuning) are
// accepted, kept and reported, and change nothing: the gateway's values
// have no listpack encodings, its persistence is the log.
//
//go:embed redisconf.json
var redisConfJSON []byte

// confParam is one parameter of redisconf.json.
type confParam struct {
	Name    string   `json:"name"`
	Default string   `json:"default"`
	Kind    string   `json:"kind"` // bool, int, memory, enum, string, immutable, protected, special
	Invalid string   `json:"invalid"`
	Values  []string `json:"values"`
	Min     *int64   `json:"min"`
	Max     *int64   `json:"max"`
	Aliases []string `json:"aliases"`
}

var redisConf = func() map[string]*confParam {
	var ps []*confParam
	if err := json.Unmarshal(redisConfJSON, &ps); err != nil {
		panic(fmt.Sprintf("kv: redisconf.json: %v", err))
	}
	m := make(map[string]*confParam, len(ps))
	for _, p := range ps {
		m[p.Name] = p
	}
	return m
}()

// configEffect is a parameter that means something here: its value is
// the node's, and setting it (if set is not nil) changes the node.
type configEffect struct {
	get func(s *Server) string
	set func(s *Server, v string) error // nil: as the table says (immutable, or kept)
}

// configEffects are the parameters served from the node's state.
var configEffects = map[string]configEffect{
	"databases":   {get: func(*Server) string { return strconv.Itoa(keyspace.Databases) }},
	"appendonly":  {get: func(*Server) string { return "yes" }, set: fixedValue("appendonly", "yes")},        // every write is in the durable log
	"appendfsync": {get: func(*Server) string { return "always" }, set: fixedValue("appendfsync", "always")}, // acknowledged after fsync
	"port":        {get: func(s *Server) string { return s.port() }},
	"dir": {get: func(*Server) string {
		wd, _ := os.Getwd()
		return wd
	}},
	"maxclients": {
		get: func(s *Server) string { return strconv.Itoa(s.settings().maxClients) },
		set: func(s *Server, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return errPositive
			}
			s.updateSettings(func(st *settings) { st.maxClients = n })
			return nil
		},
	},
	"requirepass": {
		get: func(s *Server) string { return s.settings().requirePass },
		set: func(s *Server, v string) error {
			s.updateSettings(func(st *settings) { st.requirePass = v })
			return nil
		},
	},
	"proto-max-bulk-len": {
		get: func(s *Server) string { return strconv.FormatInt(s.settings().limits.MaxBulkLen, 10) },
		set: memoryEffect("proto-max-bulk-len", func(st *settings, n int64) { st.limits.MaxBulkLen = n }),
	},
	"client-query-buffer-limit": {
		get: func(s *Server) string { return strconv.FormatInt(s.settings().limits.MaxQueryBuffer, 10) },
		set: memoryEffect("client-query-buffer-limit", func(st *settings, n int64) { st.limits.MaxQueryBuffer = n }),
	},
	"notify-keyspace-events": {
		get: func(s *Server) string { return s.settings().notify.String() },
		set: func(s *Server, v string) error {
			if _, err := redisConf["notify-keyspace-events"].validate(v, ""); err != nil {
				return err
			}
			c, _ := keyspace.ParseEventClasses(v)
			s.updateSettings(func(st *settings) { st.notify = c })
			return nil
		},
	},
	// HyperLogLog values change at apply on every replica, so their
	// sparse limit cannot be one node's setting.
	"hll-sparse-max-bytes": {
		get: func(*Server) string { return hllSparseMax },
		set: fixedValue("hll-sparse-max-bytes", hllSparseMax),
	},
	// Likewise streams group their entries into nodes at apply.
	"stream-node-max-entries": fixedParam("stream-node-max-entries", keyspace.StreamNodeMaxEntries),
	"stream-node-max-bytes":   fixedParam("stream-node-max-bytes", keyspace.StreamNodeMaxBytes),
	"lua-instruction-limit": scriptLimitParam(
		func(l keyspace.ScriptLimits) int64 { return l.Instructions },
		func(l *keyspace.ScriptLimits, n int64) { l.Instructions = n }),
	"lua-memory-limit": scriptLimitParam(
		func(l keyspace.ScriptLimits) int64 { return l.Memory },
		func(l *keyspace.ScriptLimits, n int64) { l.Memory = n }),
}

var errPositive = errors.New("argument must be a positive integer")

var hllSparseMax = strconv.Itoa(hyperloglog.SparseMaxBytes)

// fixedValue refuses every value but v, the only one the gateway has,
// after the checks Redis makes of any value of the parameter.
// fixedParam is a parameter fixed at n.
func fixedParam(name string, n int) configEffect {
	v := strconv.Itoa(n)
	return configEffect{get: func(*Server) string { return v }, set: fixedValue(name, v)}
}

func fixedValue(name, v string) func(*Server, string) error {
	return func(_ *Server, got string) error {
		canon, err := redisConf[name].validate(got, v)
		if err != nil {
			return err
		}
		if canon != v {
			return fmt.Errorf("this server supports only %q", v)
		}
		return nil
	}
}

// memoryEffect sets a memory parameter, validated as the table says.
func memoryEffect(name string, set func(*settings, int64)) func(*Server, string) error {
	return func(s *Server, v string) error {
		canon, err := redisConf[name].validate(v, "")
		if err != nil {
			return err
		}
		n, _ := strconv.ParseInt(canon, 10, 64)
		s.updateSettings(func(st *settings) { set(st, n) })
		return nil
	}
}

// configNames are every parameter's name, sorted.
var configNames = func() []string {
	names := slices.Collect(maps.Keys(redisConf))
	for n := range configEffects {
		if redisConf[n] == nil {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}()

// configGet returns the parameter's current value on this node.
func (s *Server) configGet(name string) string {
	if e, ok := configEffects[name]; ok {
		return e.get(s)
	}
	if v, ok := s.settings().params[name]; ok {
		return v
	}
	return redisConf[name].Default
}

// configSet validates v for the parameter and sets it (and its aliases).
func (s *Server) configSet(name, v string) error {
	e, effect := configEffects[name]
	p := redisConf[name]
	if effect && e.set != nil {
		return e.set(s, v)
	}
	canon, err := p.validate(v, s.configGet(name))
	if err != nil {
		return err
	}
	s.keepParam(p, name, canon)
	return nil
}

// keepParam stores a parameter's value (and its aliases') as given.
func (s *Server) keepParam(p *confParam, name, v string) {
	s.updateSettings(func(st *settings) {
		params := maps.Clone(st.params)
		if params == nil {
			params = map[string]string{}
		}
		params[name] = v
		for _, a := range p.Aliases {
			params[a] = v
		}
		st.params = params
	})
}

// validate checks v as Redis 7.0 checks a value of p's kind, and returns
// it as CONFIG GET reports it; cur is the current value.
func (p *confParam) validate(v, cur string) (string, error) {
	switch p.Kind {
	case "immutable":
		return "", errors.New("can't set immutable config")
	case "protected":
		return "", errors.New("can't set protected config")
	case "bool":
		if b := strings.ToLower(v); b == "yes" || b == "no" {
			return b, nil
		}
	case "enum":
		for _, e := range p.Values {
			if strings.EqualFold(e, v) {
				return e, nil
			}
		}
	case "int":
		n, ok := keyspace.ParseInt([]byte(v))
		if !ok {
			break
		}
		return p.inRange(n)
	case "memory":
		n, ok := parseMemory(v)
		if !ok {
			break
		}
		return p.inRange(n)
	case "string":
		return v, nil
	case "special":
		return p.validateSpecial(v, cur)
	}
	return "", errors.New(p.Invalid)
}

func (p *confParam) inRange(n int64) (string, error) {
	if p.Min != nil && p.Max != nil && (n < *p.Min || n > *p.Max) {
		return "", fmt.Errorf("argument must be between %d and %d inclusive", *p.Min, *p.Max)
	}
	return strconv.FormatInt(n, 10), nil
}

// parseMemory reads a memory value as Redis's memtoull: digits and an
// optional unit (b, k, kb, m, mb, g, gb; k is 1000, kb 1024), any case.
func parseMemory(v string) (int64, bool) {
	lower := strings.ToLower(v)
	units := []struct {
		suffix string
		mul    int64
	}{{"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10}, {"g", 1e9}, {"m", 1e6}, {"k", 1e3}, {"b", 1}}
	mul := int64(1)
	for _, u := range units {
		if strings.HasSuffix(lower, u.suffix) {
			lower, mul = strings.TrimSuffix(lower, u.suffix), u.mul
			break
		}
	}
	if lower == "" || strings.TrimLeft(lower, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseUint(lower, 10, 63)
	if err != nil || n > uint64(1<<63-1)/uint64(mul) {
		return 0, false
	}
	return int64(n) * mul, true
}

func localConfig(c *conn, args [][]byte) any {
	sub := strings.ToLower(string(args[1]))
	switch {
	case sub == "get" && len(args) >= 3:
		out := keyspace.Map{}
		var ec *keyspace.EvictionConfig
		for _, n := range configNames {
			for _, pat := range args[2:] {
				if !glob.MatchFold(pat, []byte(n)) {
					continue
				}
				if !replicatedParam(n) {
					out = append(out, n, c.s.configGet(n))
					break
				}
				if ec == nil {
					cfg, err := c.evictionConfig()
					if err != nil {
						return platformError(err)
					}
					ec = &cfg
				}
				out = append(out, n, ec.Get(n))
				break
			}
		}
		return out
	case sub == "set" && len(args) >= 4 && len(args)%2 == 0:
		return c.configSetAll(args[2:])
	case sub == "resetstat" && len(args) == 2:
		c.s.stats.commands.Store(0)
		c.s.stats.connections.Store(0)
		c.s.stats.evicted.Store(0)
		return keyspace.OK
	case sub == "rewrite" && len(args) == 2:
		return keyspace.Error("ERR The server is running without a config file")
	}
	return errSubcommand("CONFIG", args, "get", "set", "resetstat", "rewrite")
}

// configSetAll sets name value pairs, all or none: a value that fails
// leaves every parameter as it was, as Redis does. The replicated
// parameters among them are proposed to the log once the others are
// set.
func (c *conn) configSetAll(pairs [][]byte) any {
	s := c.s
	seen := map[string]bool{}
	for j := 0; j < len(pairs); j += 2 {
		name := strings.ToLower(string(pairs[j]))
		_, effect := configEffects[name]
		if redisConf[name] == nil && !effect {
			return keyspace.Errorf("ERR Unknown option or number of arguments for CONFIG SET - '%s'", pairs[j])
		}
		if seen[name] {
			return keyspace.Errorf("ERR CONFIG SET failed (possibly related to argument '%s') - duplicate parameter", name)
		}
		seen[name] = true
	}
	saved := s.settings()
	var replicated []string
	for j := 0; j < len(pairs); j += 2 {
		name := strings.ToLower(string(pairs[j]))
		var err error
		if replicatedParam(name) {
			var canon string
			if canon, err = redisConf[name].validate(string(pairs[j+1]), ""); err == nil {
				replicated = append(replicated, name, canon)
			}
		} else {
			err = s.configSet(name, string(pairs[j+1]))
		}
		if err != nil {
			s.updateSettings(func(st *settings) { *st = saved })
			return keyspace.Errorf("ERR CONFIG SET failed (possibly related to argument '%s') - %v", name, err)
		}
	}
	if len(replicated) > 0 {
		c.proposeCommand(keyspace.ConfigBody(replicated))
		return deferred{}
	}
	return keyspace.OK
}

// port is the port of the node's first Redis listener.
func (s *Server) port() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.mu.listeners) > 0 {
		if a, ok := s.mu.listeners[0].Addr().(*net.TCPAddr); ok {
			return strconv.Itoa(a.Port)
		}
	}
	return "0"
}
