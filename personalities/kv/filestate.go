package kv

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"hourglass/personalities/kv/acl"
	"hourglass/personalities/kv/keyspace"
	"hourglass/platform"
)

// A redis.conf file's user lines and eviction parameters (maxmemory,
// maxmemory-policy, ...) set replicated state: ACL users and the
// eviction settings are applied from the log on every replica, so a
// node cannot just take them from its file. FileState collects them as
// the file is read, checked as ACL SETUSER and CONFIG SET check them;
// once the log is open, ProposeFileState proposes those that differ
// from the replicated state, and waits for them to apply. A node of an
// ensemble started from the same file as the others then proposes
// nothing, or the same entries again (which change nothing), and a
// restart proposes nothing.
//
// A user line defines the user whole, as redis-server loads it at
// start: its rules are applied to a reset user ("reset" first), so the
// user is what the file says whatever ACL SETUSER changed before the
// restart.

// FileState is the replicated state a redis.conf file sets. The zero
// value sets nothing. It is not safe for concurrent use.
type FileState struct {
	// config are the eviction parameters, name and canonical value,
	// the last line of a name kept.
	config []string
	users  []fileUser
}

// fileUser is a user line: its rules, and the description the user has
// once they are applied.
type fileUser struct {
	name  string
	rules []string
	desc  string
}

// ReplicatedDirective reports whether redis.conf directive name sets
// replicated state, to be given to FileState rather than to
// Server.LoadDirective.
func ReplicatedDirective(name string) bool {
	return name == "user" || replicatedParam(name)
}

// Add checks one replicated directive (see ReplicatedDirective) and
// keeps it. A user line's arguments are the user's name and its rules;
// an eviction parameter's is its value.
func (f *FileState) Add(name string, args []string) error {
	if name == "user" {
		return f.addUser(args)
	}
	if !replicatedParam(name) {
		return fmt.Errorf("%s is not replicated", name)
	}
	if len(args) != 1 {
		return errors.New("wrong number of arguments")
	}
	canon, err := redisConf[name].validate(args[0], "")
	if err != nil {
		return err
	}
	if i := slices.Index(f.config, name); i >= 0 && i%2 == 0 {
		f.config[i+1] = canon
		return nil
	}
	f.config = append(f.config, name, canon)
	return nil
}

func (f *FileState) addUser(args []string) error {
	if len(args) == 0 {
		return errors.New("wrong number of arguments")
	}
	name := args[0]
	if !acl.ValidName(name) {
		return errors.New(acl.ErrBadName)
	}
	for _, u := range f.users {
		if u.name == name {
			return fmt.Errorf("Duplicate user '%s' found", name)
		}
	}
	rules := append([]string{"reset"}, args[1:]...)
	u := acl.NewUser(name)
	if err := u.SetUser(rules); err != nil {
		return err
	}
	f.users = append(f.users, fileUser{name: name, rules: rules, desc: u.Describe()})
	return nil
}

// ProposeFileState proposes the settings of f that differ from the
// replicated state as of a synced view: the eviction parameters in one
// CONFIG entry, each user in its own ACL SETUSER entry. It returns when
// they applied, with one note per entry for the log, or the error that
// stopped it (ctx's end, the log's, or an entry's own refusal). Call it
// once the engine applies, before the clients' listeners open.
func (s *Server) ProposeFileState(ctx context.Context, f *FileState) (notes []string, err error) {
	if len(f.config) == 0 && len(f.users) == 0 {
		return nil, nil
	}
	var cfg keyspace.EvictionConfig
	stored := map[string]string{}
	err = s.withSyncedView(func(v platform.View) error {
		var err error
		if cfg, err = keyspace.ReadEvictionConfig(v); err != nil {
			return err
		}
		for _, u := range f.users {
			b, ok, err := v.Get(aclKey([]byte(u.name)))
			switch {
			case err != nil:
				return err
			case ok:
				stored[u.name] = string(b)
			case u.name == "default":
				stored[u.name] = acl.DefaultUser().Describe()
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var pairs []string
	for i := 0; i < len(f.config); i += 2 {
		if cfg.Get(f.config[i]) != f.config[i+1] {
			pairs = append(pairs, f.config[i], f.config[i+1])
		}
	}
	if len(pairs) > 0 {
		if err := s.proposeWait(ctx, keyspace.ConfigBody(pairs)); err != nil {
			return notes, fmt.Errorf("CONFIG SET %q: %w", pairs, err)
		}
		notes = append(notes, fmt.Sprintf("replicated CONFIG SET %q", pairs))
	}
	for _, u := range f.users {
		if stored[u.name] == u.desc {
			continue
		}
		body := [][]byte{[]byte(cmdACL), []byte("setuser"), []byte(u.name)}
		for _, r := range u.rules {
			body = append(body, []byte(r))
		}
		if err := s.proposeWait(ctx, keyspace.EncodeCommand(0, 0, body)); err != nil {
			return notes, fmt.Errorf("ACL SETUSER %s: %w", u.name, err)
		}
		notes = append(notes, "replicated ACL SETUSER "+u.name)
	}
	return notes, nil
}

// proposeWait proposes an entry of the node's own and waits (within
// ProposeTimeout) for it to apply; a command's own error reply is
// returned as an error.
func (s *Server) proposeWait(ctx context.Context, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ProposeTimeout)
	defer cancel()
	r, err := s.engine.Propose(ctx, &platform.Entry{Body: body})
	if err == nil {
		err = r.Err
	}
	if err != nil {
		return err
	}
	if e, ok := r.Value.(keyspace.Error); ok {
		return errors.New(string(e))
	}
	return nil
}
