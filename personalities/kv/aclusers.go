package kv

import (
	"sync"
	"sync/atomic"

	"hourglass/personalities/kv/acl"
	"hourglass/personalities/kv/keyspace"
	"hourglass/platform"
)

// ACL users are replicated state: ACL SETUSER and ACL DELUSER are log
// entries (the internal command cmdACL) that every replica applies in
// the store, under
//
//	'U' name -> the user's rules as ACL LIST describes them
//
// The default user has no record until ACL SETUSER changes it. Each node
// keeps the users it last loaded (aclTable) for the permission check,
// reloaded from a synced view when an applied ACL entry or a settings
// change bumps aclGen; ACL's own reads, AUTH and HELLO read the users
// from a synced view, so they see every write acknowledged before them.
const (
	cmdACL    = "\x00acl"
	prefixACL = 'U'
)

func aclKey(name []byte) []byte { return append([]byte{prefixACL}, name...) }

// aclState is the node's ACL state.
type aclState struct {
	// gen counts the applied ACL entries and settings changes; a table
	// of an older generation is stale.
	gen   atomic.Uint64
	table atomic.Pointer[aclTable]
	// loadMu serializes reloads.
	loadMu sync.Mutex
	log    aclLog
}

// aclTable is the users of one generation, default included, with the
// node's requirepass applied to the default user.
type aclTable struct {
	gen   uint64
	users map[string]*acl.User
}

// readUsers reads every user from r, the default user as the node's
// requirepass makes it.
func readUsers(r platform.Reader, requirePass string) (map[string]*acl.User, error) {
	it, err := r.NewIter([]byte{prefixACL}, []byte{prefixACL + 1})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	users := map[string]*acl.User{}
	for ok := it.First(); ok; ok = it.Next() {
		name := string(it.Key()[1:])
		u, err := acl.ParseDescription(name, string(it.Value()))
		if err != nil {
			return nil, err
		}
		users[name] = u
	}
	if err := it.Error(); err != nil {
		return nil, err
	}
	if users["default"] == nil {
		users["default"] = acl.DefaultUser()
	}
	if requirePass != "" {
		d := users["default"].Clone()
		d.SetPasswordFromConfig(requirePass)
		users["default"] = d
	}
	return users, nil
}

// syncedUsers reads the users from the connection's synced view.
func (c *conn) syncedUsers() (map[string]*acl.User, error) {
	v, err := c.readView()
	if err != nil {
		return nil, err
	}
	return readUsers(v, c.s.settings().requirePass)
}

// syncedUser returns the connection's user as of its synced view, or
// nil if the user is gone. The connection keeps the last user it parsed
// with the stored text it came from.
func (c *conn) syncedUser() (*acl.User, error) {
	v, err := c.readView()
	if err != nil {
		return nil, err
	}
	name := c.userName()
	b, ok, err := v.Get(aclKey([]byte(name)))
	if err != nil {
		return nil, err
	}
	if !ok && name != "default" {
		return nil, nil
	}
	pass := c.s.settings().requirePass
	key := string(b) + "\x00" + pass
	if c.synced != nil && c.syncedKey == key {
		return c.synced, nil
	}
	u := acl.DefaultUser()
	if ok {
		if u, err = acl.ParseDescription(name, string(b)); err != nil {
			return nil, err
		}
	}
	if name == "default" && pass != "" {
		u.SetPasswordFromConfig(pass)
	}
	c.synced, c.syncedKey = u, key
	return u, nil
}

// aclUsers returns the node's current table, reloading it from a synced
// view when it is stale.
func (s *Server) aclUsers() (*aclTable, error) {
	gen := s.acl.gen.Load()
	if t := s.acl.table.Load(); t != nil && t.gen == gen {
		return t, nil
	}
	s.acl.loadMu.Lock()
	defer s.acl.loadMu.Unlock()
	gen = s.acl.gen.Load()
	if t := s.acl.table.Load(); t != nil && t.gen == gen {
		return t, nil
	}
	var users map[string]*acl.User
	err := s.withSyncedView(func(v platform.View) (err error) {
		users, err = readUsers(v, s.settings().requirePass)
		return err
	})
	if err != nil {
		return nil, err
	}
	t := &aclTable{gen: gen, users: users}
	s.acl.table.Store(t)
	return t, nil
}

// defaultOpen reports whether a new connection is authenticated as the
// default user at once: it is on and takes no password. Before the
// node has loaded its users, requirepass alone decides.
func (s *Server) defaultOpen() bool {
	if t := s.acl.table.Load(); t != nil {
		d := t.users["default"]
		return d.Enabled() && d.NoPass()
	}
	return s.settings().requirePass == ""
}

// aclUser returns the user the connection runs as, as of the node's
// current table: nil if the user is gone (the connection is then being
// closed).
func (c *conn) aclUser() (*acl.User, error) {
	t := c.s.acl.table.Load()
	if t == nil || t.gen != c.s.acl.gen.Load() {
		var err error
		if t, err = c.s.aclUsers(); err != nil {
			return nil, err
		}
	}
	if c.permGen != t.gen || c.perm == nil {
		c.perm, c.permGen = t.users[c.userName()], t.gen
	}
	return c.perm, nil
}

// userName returns the connection's user.
func (c *conn) userName() string {
	if n := c.user.Load(); n != nil {
		return *n
	}
	return "default"
}

// setUser makes name the connection's user.
func (c *conn) setUser(name string) {
	c.user.Store(&name)
	c.perm, c.synced = nil, nil
}

// applyACL applies an ACL entry's arguments (SETUSER name rules..., or
// DELUSER names...) in txn, and returns the reply and the users whose
// connections must close (deleted or disabled).
func applyACL(txn platform.Txn, args [][]byte) (any, []string, error) {
	if len(args) < 2 {
		return keyspace.Error("ERR malformed ACL entry"), nil, nil
	}
	switch string(args[0]) {
	case "setuser":
		name := args[1]
		var u *acl.User
		switch b, ok, err := txn.Get(aclKey(name)); {
		case err != nil:
			return nil, nil, err
		case ok:
			if u, err = acl.ParseDescription(string(name), string(b)); err != nil {
				return nil, nil, err
			}
		case string(name) == "default":
			u = acl.DefaultUser()
		default:
			u = acl.NewUser(string(name))
		}
		rules := make([]string, len(args)-2)
		for i, r := range args[2:] {
			rules[i] = string(r)
		}
		if err := u.SetUser(rules); err != nil {
			return keyspace.Error(err.Error()), nil, nil
		}
		if err := txn.Set(aclKey(name), []byte(u.Describe())); err != nil {
			return nil, nil, err
		}
		var kill []string
		if !u.Enabled() {
			kill = []string{string(name)}
		}
		return keyspace.OK, kill, nil
	case "deluser":
		var deleted int64
		var kill []string
		for _, name := range args[1:] {
			if string(name) == "default" {
				return keyspace.Error("ERR The 'default' user cannot be removed"), nil, nil
			}
		}
		for _, name := range args[1:] {
			_, ok, err := txn.Get(aclKey(name))
			if err != nil {
				return nil, nil, err
			}
			if ok {
				if err := txn.Delete(aclKey(name)); err != nil {
					return nil, nil, err
				}
				deleted++
				kill = append(kill, string(name))
			}
		}
		return deleted, kill, nil
	}
	return keyspace.Error("ERR malformed ACL entry"), nil, nil
}

// closeUsers closes this node's connections authenticated as one of
// names, as Redis does when a user is deleted or disabled.
func (s *Server) closeUsers(names []string) {
	for _, o := range s.connections() {
		for _, n := range names {
			if o.userName() == n {
				o.kill()
			}
		}
	}
}
