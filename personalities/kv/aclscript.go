package kv

import (
	"strings"

	"hourglass/personalities/kv/acl"
	"hourglass/personalities/kv/cmdtable"
	"hourglass/personalities/kv/keyspace"
	"hourglass/platform"
)

// Permissions inside scripts. A script's redis.call and redis.pcall
// check the calling user's permissions for each command, as Redis's
// scriptVerifyACL does. A read-only script (EVAL_RO, EVALSHA_RO,
// FCALL_RO) checks on this node against the connection's synced user.
// A script that may write runs at apply on every replica, so its entry
// carries the name of a restricted user (an unrestricted one, nothing),
// and the apply reads that user from the replicated 'U' record in the
// same transaction: every replica reaches the same verdict, and a user
// changed or deleted since the proposal is judged as of the apply (a
// deleted user may run nothing). The denial goes to the ACL LOG, with
// context "lua", on the node whose client ran the script.

// denial describes why u may not run args (info its table entry): the
// ACL LOG's reason and object, and Check's verdict.
func denial(u *acl.User, info *cmdtable.Info, args [][]byte) (d acl.Denial, reason, object string) {
	d, pos := u.Check(info, args)
	switch d {
	case acl.Allowed:
		return d, "", ""
	case acl.DeniedCommand:
		return d, "command", info.Name
	case acl.DeniedKey:
		return d, "key", string(args[pos])
	}
	return d, "channel", string(args[pos])
}

// deniedError is the error of a denial inside a script (context
// keyspace.ACLContextScript: what redis.call raises) or of a queued
// command at EXEC (keyspace.ACLContextMulti).
func deniedError(d acl.Denial, context string) error {
	if context == keyspace.ACLContextMulti {
		reason := "no permission to access one of the channels used as arguments"
		switch d {
		case acl.DeniedCommand:
			reason = "no permission to execute the command or subcommand"
		case acl.DeniedKey:
			reason = "no permission to touch the specified keys"
		}
		return keyspace.Error("NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: " + reason)
	}
	switch d {
	case acl.DeniedCommand:
		return keyspace.ErrScriptDeniedCommand
	case acl.DeniedKey:
		return keyspace.ErrScriptDeniedKey
	}
	return keyspace.ErrScriptDeniedChannel
}

// checkCall checks u (nil: deleted) may run args in a script or at EXEC
// (context) run by c (nil: a client of another node), and logs a denial
// in the ACL LOG of c's node.
func checkCall(c *conn, u *acl.User, name string, args [][]byte, context string) error {
	info := lookupLine(args)
	if info == nil {
		return nil
	}
	d, reason, object := acl.DeniedCommand, "command", info.Name
	if u != nil {
		if d, reason, object = denial(u, info, args); d == acl.Allowed {
			return nil
		}
	}
	if c != nil {
		c.s.acl.log.add(reason, context, object, name, strings.TrimSuffix(c.describe(), "\n"))
	}
	return deniedError(d, context)
}

// restricted reports whether the connection's user may not run every
// command (or is not loaded yet): its scripts' calls are checked.
func (c *conn) restricted() bool {
	u, err := c.aclUser()
	return err != nil || u == nil || !u.Unrestricted()
}

// scriptUser is the user a script or transaction entry carries: "" when the
// connection's user may run anything.
func (c *conn) scriptUser() string {
	if !c.restricted() {
		return ""
	}
	return c.userName()
}

// scriptPermit is the check of a read-only script's calls on this
// node: nil for an unrestricted user.
func (c *conn) scriptPermit() func(args [][]byte) error {
	if !c.restricted() {
		return nil
	}
	return func(args [][]byte) error {
		u, err := c.syncedUser()
		if err != nil {
			return err
		}
		return checkCall(c, u, c.userName(), args, keyspace.ACLContextScript)
	}
}

// scriptUsersMax bounds the applicator's cache of users parsed at
// apply; it is dropped when full.
const scriptUsersMax = 256

// Permission implements keyspace.ACLChecker: user as the apply
// transaction r holds it.
func (a *applicator) Permission(r platform.Reader, user []byte, args [][]byte, context string) error {
	b, ok, err := r.Get(aclKey(user))
	if err != nil {
		return err
	}
	var u *acl.User
	switch {
	case ok:
		key := string(user) + "\x00" + string(b)
		if u = a.users[key]; u == nil {
			if u, err = acl.ParseDescription(string(user), string(b)); err != nil {
				return err
			}
			if a.users == nil || len(a.users) >= scriptUsersMax {
				a.users = map[string]*acl.User{}
			}
			a.users[key] = u
		}
	case string(user) == "default":
		u = acl.DefaultUser()
	}
	var c *conn
	if a.fx.Origin != 0 {
		c = a.s.connByID(a.fx.Origin)
	}
	return checkCall(c, u, string(user), args, context)
}
