package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"
)

// Config is everything a node needs. The gateway's flags and its config
// file both map onto it; field names in the file are the flag names.
type Config struct {
	// DataDir holds the node's databases: log/ (the LogServer), meta/
	// (the MetaStore) and store/ (the LocalStore).
	DataDir string `json:"data-dir"`
	// RedisAddr is where the Redis API listens; port 0 picks a free port.
	// Empty disables the API.
	RedisAddr string `json:"redis-addr"`
	// ZKAddr and PGAddr are reserved for the ZooKeeper and Postgres APIs,
	// which this version does not serve yet.
	ZKAddr string `json:"zk-addr"`
	PGAddr string `json:"pg-addr"`
	// AdminAddr is the local admin endpoint (gRPC) used by the gateway's
	// admin sub-commands.
	AdminAddr string `json:"admin-addr"`
	// DebugAddr, if set, serves Go's pprof profiles over HTTP.
	DebugAddr string `json:"debug-addr"`

	// StoreCacheBytes is the LocalStore's block cache size.
	StoreCacheBytes int64 `json:"store-cache-bytes"`

	// LogRetain is how many applied entries the node keeps in the log
	// before trimming below them.
	LogRetain uint64 `json:"log-retain"`

	// Redis connection limits, as Redis names them.
	ProtoMaxBulkLen        int64 `json:"proto-max-bulk-len"`
	ClientQueryBufferLimit int64 `json:"client-query-buffer-limit"`
	MaxMultibulkLen        int   `json:"max-multibulk-len"`
	MaxClients             int   `json:"maxclients"`

	// Logger receives the node's logs; nil means slog.Default().
	Logger *slog.Logger `json:"-"`
}

// Defaults, filled in by EnsureDefaults.
const (
	DefaultDataDir   = "data"
	DefaultRedisAddr = "127.0.0.1:6379"
	DefaultZKAddr    = "127.0.0.1:2181"
	DefaultPGAddr    = "127.0.0.1:5432"
	DefaultAdminAddr = "127.0.0.1:7070"
	DefaultLogRetain = 100_000
	// DefaultStoreCacheBytes is the LocalStore's default block cache.
	DefaultStoreCacheBytes = 128 << 20
)

// Default returns a Config with every default filled in.
func Default() Config {
	var c Config
	c.EnsureDefaults()
	return c
}

// EnsureDefaults fills every unset field with its default. Limits left at
// zero take the Redis personality's defaults.
func (c *Config) EnsureDefaults() {
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.RedisAddr == "" {
		c.RedisAddr = DefaultRedisAddr
	}
	if c.ZKAddr == "" {
		c.ZKAddr = DefaultZKAddr
	}
	if c.PGAddr == "" {
		c.PGAddr = DefaultPGAddr
	}
	if c.AdminAddr == "" {
		c.AdminAddr = DefaultAdminAddr
	}
	if c.StoreCacheBytes == 0 {
		c.StoreCacheBytes = DefaultStoreCacheBytes
	}
	if c.LogRetain == 0 {
		c.LogRetain = DefaultLogRetain
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports every problem with c at once.
func (c *Config) Validate() error {
	var errs []error
	for _, a := range []struct{ name, addr string }{
		{"redis-addr", c.RedisAddr}, {"zk-addr", c.ZKAddr}, {"pg-addr", c.PGAddr}, {"admin-addr", c.AdminAddr}, {"debug-addr", c.DebugAddr},
	} {
		if _, _, err := net.SplitHostPort(a.addr); err != nil && !(a.name == "debug-addr" && a.addr == "") {
			errs = append(errs, fmt.Errorf("%s %q: %v", a.name, a.addr, err))
		}
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data-dir is empty"))
	}
	if c.ProtoMaxBulkLen < 0 {
		errs = append(errs, errors.New("proto-max-bulk-len < 0"))
	}
	if c.ClientQueryBufferLimit < 0 {
		errs = append(errs, errors.New("client-query-buffer-limit < 0"))
	}
	if c.MaxMultibulkLen < 0 {
		errs = append(errs, errors.New("max-multibulk-len < 0"))
	}
	if c.StoreCacheBytes < 0 {
		errs = append(errs, errors.New("store-cache-bytes < 0"))
	}
	if c.MaxClients < 0 {
		errs = append(errs, errors.New("maxclients < 0"))
	}
	return errors.Join(errs...)
}

// LoadFile reads a JSON config file into c; fields the file does not
// mention keep their values. Unknown fields are an error.
func (c *Config) LoadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	return nil
}

// trimEvery is how often the node moves its trim point forward.
const trimEvery = time.Second
