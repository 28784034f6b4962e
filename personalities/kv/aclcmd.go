package kv

import (
	"crypto/rand"
	"encoding/hex"
	"slices"
	"strings"
	"sync"
	"time"

	"hourglass/personalities/kv/acl"
	"hourglass/personalities/kv/keyspace"
)

func init() {
	local("acl", -2, localACL)
}

const aclHelp = `ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:
CAT [<category>]
    List all commands that belong to <category>, or all command categories
    when no category is specified.
DELUSER <username> [<username> ...]
    Delete a list of users.
DRYRUN <username> <command> [<arg> ...]
    Returns whether the user can execute the given command without executing the command.
GETUSER <username>
    Get the user's details.
GENPASS [<bits>]
    Generate a secure 256-bit user password. The optional ` + "`bits`" + ` argument can
    be used to specify a different size.
LIST
    Show users details in config file format.
LOAD
    Reload users from the ACL file.
LOG [<count> | RESET]
    Show the ACL log entries.
SAVE
    Save the current config to the ACL file.
SETUSER <username> <attribute> [<attribute> ...]
    Create or modify a user with the specified attributes.
USERS
    List all the registered usernames.
WHOAMI
    Return the current connection username.
HELP
    Prints this help.`

const errNoACLFile = keyspace.Error("ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.")

// localACL implements ACL. SETUSER and DELUSER are log entries; the
// reads of users (GETUSER, LIST, USERS, DRYRUN) read a synced view.
func localACL(c *conn, args [][]byte) any {
	if err := checkSubcommand("acl", args); err != nil {
		return err
	}
	switch sub := strings.ToLower(string(args[1])); sub {
	case "setuser":
		if !acl.ValidName(string(args[2])) {
			return keyspace.Error(acl.ErrBadName)
		}
		fallthrough
	case "deluser":
		body := append([][]byte{[]byte(cmdACL), []byte(sub)}, args[2:]...)
		c.proposeCommand(keyspace.EncodeCommand(0, 0, body))
		return deferred{}
	case "whoami":
		return c.userName()
	case "cat", "genpass", "log":
		if len(args) > 3 {
			return keyspace.Errorf("ERR unknown subcommand or wrong number of arguments for '%s'. Try ACL HELP.", args[1])
		}
		switch sub {
		case "cat":
			return aclCat(args[2:])
		case "genpass":
			return aclGenpass(args[2:])
		}
		return c.s.acl.log.command(args[2:])
	case "save", "load":
		return errNoACLFile
	case "help":
		return helpReply(aclHelp)
	}
	users, err := c.syncedUsers()
	if err != nil {
		return platformError(err)
	}
	switch strings.ToLower(string(args[1])) {
	case "getuser":
		if u := users[string(args[2])]; u != nil {
			return u.GetUserReply()
		}
		return nil
	case "users", "list":
		out := []any{}
		for _, name := range sortedNames(users) {
			if keyspace.EqFold(args[1], "users") {
				out = append(out, name)
			} else {
				out = append(out, "user "+name+" "+users[name].Describe())
			}
		}
		return out
	}
	return aclDryrun(users, args[2:])
}

func sortedNames(users map[string]*acl.User) []string {
	names := make([]string, 0, len(users))
	for n := range users {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func aclCat(args [][]byte) any {
	out := []any{}
	if len(args) == 0 {
		for _, cat := range acl.Categories {
			out = append(out, cat)
		}
		return out
	}
	cat := strings.ToLower(string(args[0]))
	if !slices.Contains(acl.Categories, cat) {
		return keyspace.Errorf("ERR Unknown category '%s'", args[0])
	}
	for _, name := range acl.CommandsIn(cat) {
		out = append(out, name)
	}
	return out
}

func aclGenpass(args [][]byte) any {
	bits := int64(256)
	if len(args) == 1 {
		n, ok := keyspace.ParseInt(args[0])
		if !ok {
			return keyspace.ErrNotInteger
		}
		bits = n
	}
	if bits <= 0 || bits > 4096 {
		return keyspace.Error("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096")
	}
	buf := make([]byte, (bits+7)/8)
	rand.Read(buf)
	return hex.EncodeToString(buf)[:(bits+3)/4]
}

// aclDryrun implements ACL DRYRUN user command [arg ...].
func aclDryrun(users map[string]*acl.User, args [][]byte) any {
	u := users[string(args[0])]
	if u == nil {
		return keyspace.Errorf("ERR User '%s' not found", args[0])
	}
	line := args[1:]
	info := lookupLine(line)
	if info == nil {
		return keyspace.Errorf("ERR Command '%s' not found", line[0])
	}
	if info.Arity > 0 && len(line) != info.Arity || len(line) < -info.Arity {
		return keyspace.Errorf("ERR wrong number of arguments for '%s' command", info.Name)
	}
	switch d, pos := u.Check(info, line); d {
	case acl.DeniedCommand:
		return []byte("This user has no permissions to run the '" + info.Name + "' command")
	case acl.DeniedKey:
		return []byte("This user has no permissions to access the '" + string(line[pos]) + "' key")
	case acl.DeniedChannel:
		return []byte("This user has no permissions to access the '" + string(line[pos]) + "' channel")
	}
	return keyspace.OK
}

// checkPermission checks the connection's user may run args, as Redis
// does before a command runs, and returns the NOPERM error (logged in
// ACL LOG) when not. An unrestricted user costs a table lookup.
func (c *conn) checkPermission(args [][]byte) any {
	u, err := c.aclUser()
	if err != nil {
		return platformError(err)
	}
	if u != nil && u.Unrestricted() {
		return nil
	}
	info := lookupLine(args)
	if info == nil {
		return nil
	}
	// A restricted user, or one this node has not loaded yet, is checked
	// as of a synced view, so that a change acknowledged on any node
	// holds for the next command.
	if u, err = c.syncedUser(); err != nil {
		return platformError(err)
	}
	if u == nil {
		c.quit = true
		return errWrongPass
	}
	d, reason, object := denial(u, info, args)
	var reply keyspace.Error
	switch d {
	case acl.Allowed:
		return nil
	case acl.DeniedCommand:
		reply = keyspace.Errorf("NOPERM this user has no permissions to run the '%s' command", info.Name)
	case acl.DeniedKey:
		reply = "NOPERM this user has no permissions to access one of the keys used as arguments"
	default:
		reply = "NOPERM this user has no permissions to access one of the channels used as arguments"
	}
	ctx := "toplevel"
	if c.multi != nil {
		ctx = "multi"
	}
	c.lastName.Store(&info.Name)
	c.s.acl.log.add(reason, ctx, object, c.userName(), strings.TrimSuffix(c.describe(), "\n"))
	return reply
}

// login checks user and pass against the synced users and, when
// they match, makes user the connection's; a failure is logged.
func (c *conn) login(user, pass []byte) any {
	users, err := c.syncedUsers()
	if err != nil {
		return platformError(err)
	}
	name := "default"
	if user != nil {
		name = string(user)
	}
	u := users[name]
	if u == nil || !u.CheckPassword(pass) {
		c.s.acl.log.add("auth", "toplevel", "AUTH", name, strings.TrimSuffix(c.describe(), "\n"))
		return errWrongPass
	}
	c.setUser(name)
	c.authenticate()
	return nil
}

// aclLog is the node's ACL LOG: the latest denials and failed logins,
// newest first.
type aclLog struct {
	mu      sync.Mutex
	entries []*aclLogEntry
}

type aclLogEntry struct {
	count                         int64
	reason, context, object, user string
	clientInfo                    string
	created                       time.Time
}

// aclLogMax is Redis's default acllog-max-len.
const aclLogMax = 128

// add records a denial, or counts it on a like entry of the last 60
// seconds, as Redis's addACLLogEntry does.
func (l *aclLog) add(reason, context, object, user, clientInfo string) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, e := range l.entries[:min(len(l.entries), 10)] {
		if e.reason == reason && e.context == context && e.object == object && e.user == user && now.Sub(e.created) < time.Minute {
			e.count++
			e.created, e.clientInfo = now, clientInfo
			copy(l.entries[1:i+1], l.entries[:i])
			l.entries[0] = e
			return
		}
	}
	e := &aclLogEntry{count: 1, reason: reason, context: context, object: object, user: user, clientInfo: clientInfo, created: now}
	l.entries = append([]*aclLogEntry{e}, l.entries[:min(len(l.entries), aclLogMax-1)]...)
}

// command implements ACL LOG [count|RESET].
func (l *aclLog) command(args [][]byte) any {
	count := int64(10)
	if len(args) == 1 {
		if keyspace.EqFold(args[0], "reset") {
			l.mu.Lock()
			l.entries = nil
			l.mu.Unlock()
			return keyspace.OK
		}
		n, ok := keyspace.ParseInt(args[0])
		if !ok {
			return keyspace.ErrNotInteger
		}
		count = max(n, 0)
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	out := []any{}
	for _, e := range l.entries[:min(int64(len(l.entries)), count)] {
		out = append(out, keyspace.Map{
			"count", e.count, "reason", e.reason, "context", e.context, "object", e.object,
			"username", e.user, "age-seconds", float64(now.Sub(e.created).Milliseconds()) / 1000,
			"client-info", e.clientInfo,
		})
	}
	return out
}
