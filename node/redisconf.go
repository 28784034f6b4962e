package node

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	"hourglass/personalities/kv"
)

// RedisDirective is a redis.conf directive for the Redis API to apply at
// start-up, as CONFIG SET would (see kv.Server.LoadDirective), or, for
// a user line or an eviction parameter, through the log (see
// kv.FileState).
type RedisDirective struct {
	// Value is Args joined by spaces.
	Name, Value string
	Args        []string
	// Where is file:line, for the log and errors.
	Where string
}

// LoadRedisConf reads a redis.conf file (as `gateway serve --redis-conf`):
// the directives that place the node's Redis API (bind, port, tls-port,
// the tls-* files and tls-auth-clients) set c's fields; every other
// directive is kept in c.RedisDirectives for the Redis API to apply when
// it starts. Directives that cannot be honoured safely stop the load:
// port 0 (no plain port), rename-command and aclfile.
func (c *Config) LoadRedisConf(path string) error {
	ds, err := kv.ReadConfFile(path)
	if err != nil {
		return err
	}
	host, port := "127.0.0.1", "6379"
	if c.RedisAddr != "" {
		if h, p, err := net.SplitHostPort(c.RedisAddr); err == nil {
			host, port = h, p
		}
	}
	tlsPort := ""
	for _, d := range ds {
		where := fmt.Sprintf("%s:%d", d.File, d.Line)
		one := func() (string, error) {
			if len(d.Args) != 1 {
				return "", fmt.Errorf("%s: %s: wrong number of arguments", where, d.Name)
			}
			return d.Args[0], nil
		}
		var v string
		switch d.Name {
		case "port", "tls-port", "tls-cert-file", "tls-key-file", "tls-ca-cert-file", "tls-auth-clients":
			if v, err = one(); err != nil {
				return err
			}
		}
		switch d.Name {
		case "bind":
			if len(d.Args) == 0 {
				return fmt.Errorf("%s: bind: wrong number of arguments", where)
			}
			// The first address; a leading '-' (skip if unavailable)
			// makes no difference to one address.
			host = strings.TrimPrefix(d.Args[0], "-")
			if host == "*" {
				host = ""
			}
		case "port":
			if n, err := strconv.Atoi(v); err != nil || n < 0 || n > 65535 {
				return fmt.Errorf("%s: port %q: Invalid port", where, v)
			} else if n == 0 {
				return fmt.Errorf("%s: port 0 (no plain TCP port) is not supported: the Redis API always has a plain port", where)
			}
			port = v
		case "tls-port":
			if v != "0" {
				tlsPort = v
			}
		case "tls-cert-file":
			c.TLSCertFile = v
		case "tls-key-file":
			c.TLSKeyFile = v
		case "tls-ca-cert-file":
			c.TLSCACertFile = v
		case "tls-auth-clients":
			c.TLSAuthClients = v
		case "rename-command", "aclfile":
			// Security settings: ignoring them would leave open what
			// the file closes.
			return fmt.Errorf("%s: %s is not supported (renamed commands and ACL files are not built; user lines and requirepass are)", where, d.Name)
		default:
			c.RedisDirectives = append(c.RedisDirectives, RedisDirective{Name: d.Name, Value: strings.Join(d.Args, " "), Args: d.Args, Where: where})
		}
	}
	c.RedisAddr = net.JoinHostPort(host, port)
	if tlsPort != "" {
		c.RedisTLSAddr = net.JoinHostPort(host, tlsPort)
	}
	return nil
}

// applyRedisDirectives sets the Redis API's parameters from a redis.conf
// file, logging each one that changes nothing here, and returns the
// replicated state the file sets, for proposeRedisFileState.
func (n *Node) applyRedisDirectives() (*kv.FileState, error) {
	fs := &kv.FileState{}
	for _, d := range n.cfg.RedisDirectives {
		if kv.ReplicatedDirective(d.Name) {
			if err := fs.Add(d.Name, d.Args); err != nil {
				return nil, fmt.Errorf("%s: %s: %v", d.Where, d.Name, err)
			}
			continue
		}
		note, err := n.kv.LoadDirective(d.Name, d.Value)
		if err != nil {
			return nil, fmt.Errorf("%s: %s %q: %v", d.Where, d.Name, d.Value, err)
		}
		if note != "" {
			n.log.Info("redis.conf directive "+note, "at", d.Where, "directive", d.Name, "value", d.Value)
		}
	}
	return fs, nil
}

// proposeRedisFileState proposes the users and eviction settings of a
// redis.conf file that differ from the replicated ones, once the engine
// applies and before the Redis API listens.
func (n *Node) proposeRedisFileState(ctx context.Context, fs *kv.FileState) error {
	notes, err := n.kv.ProposeFileState(ctx, fs)
	for _, note := range notes {
		n.log.Info("redis.conf: " + note)
	}
	if err != nil {
		return fmt.Errorf("redis.conf: %w", err)
	}
	return nil
}
