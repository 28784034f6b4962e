package node

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"hourglass/personalities/kv"
)

// RedisDirective is a redis.conf directive for the Redis API to apply at
// start-up, as CONFIG SET would (see kv.Server.LoadDirective).
type RedisDirective struct {
	Name, Value string
	// Where is file:line, for the log and errors.
	Where string
}

// LoadRedisConf reads a redis.conf file (as `gateway serve --redis-conf`):
// the directives that place the node's Redis API (bind, port, tls-port,
// the tls-* files and tls-auth-clients) set c's fields; every other
// directive is kept in c.RedisDirectives for the Redis API to apply when
// it starts. Directives that cannot be honoured safely stop the load:
// port 0 (no plain port), rename-command, user and aclfile.
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
		case "rename-command", "user", "aclfile":
			// Security settings: ignoring them would leave open what
			// the file closes.
			return fmt.Errorf("%s: %s is not supported (ACL users and renamed commands are not built; requirepass is)", where, d.Name)
		default:
			c.RedisDirectives = append(c.RedisDirectives, RedisDirective{Name: d.Name, Value: strings.Join(d.Args, " "), Where: where})
		}
	}
	c.RedisAddr = net.JoinHostPort(host, port)
	if tlsPort != "" {
		c.RedisTLSAddr = net.JoinHostPort(host, tlsPort)
	}
	return nil
}

// applyRedisDirectives sets the Redis API's parameters from a redis.conf
// file, logging each one that changes nothing here.
func (n *Node) applyRedisDirectives() error {
	for _, d := range n.cfg.RedisDirectives {
		note, err := n.kv.LoadDirective(d.Name, d.Value)
		if err != nil {
			return fmt.Errorf("%s: %s %q: %v", d.Where, d.Name, d.Value, err)
		}
		if note != "" {
			n.log.Info("redis.conf directive "+note, "at", d.Where, "directive", d.Name, "value", d.Value)
		}
	}
	return nil
}
