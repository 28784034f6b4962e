package node

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"hourglass/personalities/zk/sasl"
)

// zkAuthSchemes are the schemes a ZooKeeper session can authenticate
// with, and so the ones enforce.auth.schemes may name.
var zkAuthSchemes = []string{"ip", "digest", "sasl", "x509"}

// validateZKAuth reports the problems of the ZooKeeper authentication
// settings.
func (c *Config) validateZKAuth() []error {
	var errs []error
	for _, s := range c.ZKEnforceAuthSchemes {
		if !slices.Contains(zkAuthSchemes, s) {
			errs = append(errs, fmt.Errorf("zk-enforce-auth-schemes: %q: want %s", s, strings.Join(zkAuthSchemes, ", ")))
		}
	}
	for _, u := range c.ZKSASLUsers {
		if name, _, ok := strings.Cut(u, "="); !ok || name == "" {
			errs = append(errs, fmt.Errorf("zk-sasl-user %q: want name=password", u))
		}
	}
	return errs
}

// zkSASLUsers reads the ZooKeeper API's SASL users: the Server section of
// the JAAS file, then the zk-sasl-user pairs (which win). Nil when
// neither is given: SASL is not configured.
func (c *Config) zkSASLUsers() (map[string]string, error) {
	if c.ZKJAASFile == "" && len(c.ZKSASLUsers) == 0 {
		return nil, nil
	}
	users := map[string]string{}
	if c.ZKJAASFile != "" {
		f, err := os.Open(c.ZKJAASFile)
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(io.LimitReader(f, sasl.MaxJAASBytes+1))
		f.Close()
		if err != nil {
			return nil, err
		}
		if users, err = sasl.ServerUsers(data, "Server"); err != nil {
			return nil, fmt.Errorf("%s: %w", c.ZKJAASFile, err)
		}
	}
	for _, u := range c.ZKSASLUsers {
		name, pass, ok := strings.Cut(u, "=")
		if !ok || name == "" {
			return nil, errors.New("zk-sasl-user: want name=password")
		}
		users[name] = pass
	}
	return users, nil
}
