package acl

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"

	"hourglass/personalities/kv/cmdtable"
)

// Key permissions of a key pattern.
const (
	permRead  = 1
	permWrite = 2
	permAll   = permRead | permWrite
)

type keyPattern struct {
	pattern string
	perm    uint8
}

// Selector is one set of permissions: the user's root selector, or one
// of the selectors added in parentheses. A command is allowed when any
// selector allows it.
type Selector struct {
	allKeys, allChannels, allCommands bool
	keys                              []keyPattern
	channels                          []string
	// bits are the allowed commands by ID, and one more bit past the
	// table's last ID that only +@all sets: the "future commands" bit
	// that makes the description start with +@all.
	bits []uint64
	// firstArgs are the first arguments allowed of an otherwise denied
	// command (+select|0), by command ID.
	firstArgs map[int][]string
}

func newSelector() *Selector {
	return &Selector{bits: make([]uint64, (cmdtable.Count()+1+63)/64)}
}

func (s *Selector) clone() *Selector {
	c := *s
	c.keys = slices.Clone(s.keys)
	c.channels = slices.Clone(s.channels)
	c.bits = slices.Clone(s.bits)
	if s.firstArgs != nil {
		c.firstArgs = map[int][]string{}
		for id, a := range s.firstArgs {
			c.firstArgs[id] = slices.Clone(a)
		}
	}
	return &c
}

func (s *Selector) bit(id int) bool { return s.bits[id/64]&(1<<(id%64)) != 0 }

func (s *Selector) setBit(id int, on bool) {
	if on {
		s.bits[id/64] |= 1 << (id % 64)
	} else {
		s.bits[id/64] &^= 1 << (id % 64)
		s.allCommands = false
	}
}

// change allows or denies a command and its subcommands, as Redis's
// ACLChangeSelectorPerm.
func (s *Selector) change(i *cmdtable.Info, allow bool) {
	s.setBit(i.ID, allow)
	delete(s.firstArgs, i.ID)
	for _, sub := range i.Subcommands {
		s.setBit(sub.ID, allow)
	}
}

// User is one ACL user.
type User struct {
	Name string
	on   bool
	// nopass: any password authenticates.
	nopass bool
	// sanitize is "", "sanitize-payload" or "skip-sanitize-payload".
	sanitize string
	// passwords are hex SHA-256 digests, in the order added.
	passwords []string
	// selectors[0] is the root selector.
	selectors []*Selector
}

// NewUser returns a user as ACL SETUSER creates one: off, no passwords,
// no keys, no channels, no commands.
func NewUser(name string) *User {
	s := newSelector()
	return &User{Name: name, selectors: []*Selector{s}}
}

// DefaultUser returns the default user as Redis starts it: on, nopass,
// every key, channel and command.
func DefaultUser() *User {
	u := NewUser("default")
	if err := u.SetUser([]string{"on", "nopass", "~*", "&*", "+@all"}); err != nil {
		panic(err)
	}
	return u
}

// Clone returns a deep copy of u.
func (u *User) Clone() *User {
	c := *u
	c.passwords = slices.Clone(u.passwords)
	c.selectors = make([]*Selector, len(u.selectors))
	for i, s := range u.selectors {
		c.selectors[i] = s.clone()
	}
	return &c
}

// Enabled reports whether the user is on.
func (u *User) Enabled() bool { return u.on }

// NoPass reports whether any password authenticates the user.
func (u *User) NoPass() bool { return u.nopass }

// Unrestricted reports whether the user may run every command on every
// key and channel, so that no command needs checking.
func (u *User) Unrestricted() bool {
	r := u.selectors[0]
	return r.allCommands && r.allKeys && r.allChannels
}

// CheckPassword reports whether pass authenticates the enabled user.
func (u *User) CheckPassword(pass []byte) bool {
	if !u.on {
		return false
	}
	if u.nopass {
		return true
	}
	sum := sha256.Sum256(pass)
	h := hex.EncodeToString(sum[:])
	return slices.Contains(u.passwords, h)
}

// SetPasswordFromConfig makes pass the user's only password, or nopass
// when it is empty, as CONFIG SET requirepass does to the default user.
func (u *User) SetPasswordFromConfig(pass string) {
	u.passwords = nil
	u.nopass = pass == ""
	if pass != "" {
		sum := sha256.Sum256([]byte(pass))
		u.passwords = []string{hex.EncodeToString(sum[:])}
	}
}

// Rule errors, as Redis words them after "Error in ACL SETUSER modifier
// '<rule>': ".
var (
	errSyntax        = errors.New("Syntax error")
	errUnknown       = errors.New("Unknown command or category name in ACL")
	errKeyAfterAll   = errors.New("Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns")
	errChanAfterAll  = errors.New("Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels")
	errNoSuchPass    = errors.New("The password you are trying to remove from the user does not exist")
	errBadHash       = errors.New("The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters")
	errSubFirstArg   = errors.New("Allowing first-arg of a subcommand is not supported")
	errUnmatchedOpen = errors.New("unmatched parenthesis")
)

// RuleError is a rule SETUSER could not apply: Redis's reply names it.
type RuleError struct {
	Rule string
	Err  error
}

func (e *RuleError) Error() string {
	if e.Err == errUnmatchedOpen {
		return "ERR Unmatched parenthesis in acl selector starting at '" + e.Rule + "'."
	}
	return "ERR Error in ACL SETUSER modifier '" + e.Rule + "': " + e.Err.Error()
}

// ValidName reports whether name may name a user (no spaces or NULs).
func ValidName(name string) bool { return !strings.ContainsAny(name, " \x00") }

// ErrBadName is ACL SETUSER's reply to a name ValidName refuses.
const ErrBadName = "ERR Usernames can't contain spaces or null characters"

// mergeSelectors joins the arguments of a selector written over several
// arguments, "(~a" "+get)", into one, as Redis's
// ACLMergeSelectorArguments does.
func mergeSelectors(rules []string) ([]string, error) {
	var out []string
	var open []string
	for _, r := range rules {
		switch {
		case open != nil:
			open = append(open, r)
			if strings.HasSuffix(r, ")") {
				out = append(out, strings.Join(open, " "))
				open = nil
			}
		case strings.HasPrefix(r, "(") && !strings.HasSuffix(r, ")"):
			open = []string{r}
		default:
			out = append(out, r)
		}
	}
	if open != nil {
		return nil, &RuleError{Rule: open[0], Err: errUnmatchedOpen}
	}
	return out, nil
}

// SetUser applies ACL SETUSER's rules to u, in order; on an error u is
// left as it was. The error is a *RuleError.
func (u *User) SetUser(rules []string) error {
	merged, err := mergeSelectors(rules)
	if err != nil {
		return err
	}
	t := u.Clone()
	for _, r := range merged {
		if err := t.apply(r); err != nil {
			return &RuleError{Rule: r, Err: err}
		}
	}
	*u = *t
	return nil
}

func (u *User) apply(op string) error {
	switch strings.ToLower(op) {
	case "on":
		u.on = true
		return nil
	case "off":
		u.on = false
		return nil
	case "sanitize-payload", "skip-sanitize-payload":
		u.sanitize = strings.ToLower(op)
		return nil
	case "nopass":
		u.nopass, u.passwords = true, nil
		return nil
	case "resetpass":
		u.nopass, u.passwords = false, nil
		return nil
	case "clearselectors":
		u.selectors = u.selectors[:1]
		return nil
	case "reset":
		for _, r := range []string{"resetpass", "resetkeys", "resetchannels", "off", "sanitize-payload", "clearselectors", "-@all"} {
			if err := u.apply(r); err != nil {
				return err
			}
		}
		return nil
	}
	switch {
	case op == "":
		return errSyntax
	case op[0] == '>' || op[0] == '#':
		h, err := passwordHash(op)
		if err != nil {
			return err
		}
		if !slices.Contains(u.passwords, h) {
			u.passwords = append(u.passwords, h)
		}
		u.nopass = false
		return nil
	case op[0] == '<' || op[0] == '!':
		h, err := passwordHash(op)
		if err != nil {
			return err
		}
		i := slices.Index(u.passwords, h)
		if i < 0 {
			return errNoSuchPass
		}
		u.passwords = slices.Delete(u.passwords, i, i+1)
		return nil
	case op[0] == '(' && op[len(op)-1] == ')':
		s := newSelector()
		for _, r := range strings.Fields(op[1 : len(op)-1]) {
			if err := s.apply(r); err != nil {
				return err
			}
		}
		u.selectors = append(u.selectors, s)
		return nil
	}
	return u.selectors[0].apply(op)
}

// passwordHash returns the digest a password rule names: of the
// password after '>' or '<', or the digest itself after '#' or '!'.
func passwordHash(op string) (string, error) {
	h := op[1:]
	if op[0] == '>' || op[0] == '<' {
		sum := sha256.Sum256([]byte(h))
		return hex.EncodeToString(sum[:]), nil
	}
	if !validHash(h) {
		return "", errBadHash
	}
	return h, nil
}

func validHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for _, c := range h {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// apply applies one selector rule, as Redis's ACLSetSelector.
func (s *Selector) apply(op string) error {
	switch strings.ToLower(op) {
	case "allkeys", "~*":
		s.allKeys, s.keys = true, nil
		return nil
	case "resetkeys":
		s.allKeys, s.keys = false, nil
		return nil
	case "allchannels", "&*":
		s.allChannels, s.channels = true, nil
		return nil
	case "resetchannels":
		s.allChannels, s.channels = false, nil
		return nil
	case "allcommands", "+@all":
		for i := range s.bits {
			s.bits[i] = ^uint64(0)
		}
		s.allCommands, s.firstArgs = true, nil
		return nil
	case "nocommands", "-@all":
		clear(s.bits)
		s.allCommands, s.firstArgs = false, nil
		return nil
	}
	switch {
	case op[0] == '~' || op[0] == '%':
		return s.addKeyPattern(op)
	case op[0] == '&':
		if s.allChannels {
			return errChanAfterAll
		}
		if strings.ContainsAny(op[1:], " \x00") {
			return errSyntax
		}
		if !slices.Contains(s.channels, op[1:]) {
			s.channels = append(s.channels, op[1:])
		}
		return nil
	case len(op) > 1 && (op[0] == '+' || op[0] == '-') && op[1] == '@':
		cat := strings.ToLower(op[2:])
		if !slices.Contains(Categories, cat) {
			return errUnknown
		}
		s.setCategory(cat, op[0] == '+')
		return nil
	case op[0] == '+' || op[0] == '-':
		return s.setCommand(op[1:], op[0] == '+')
	}
	return errSyntax
}

func (s *Selector) addKeyPattern(op string) error {
	if s.allKeys {
		return errKeyAfterAll
	}
	perm, at := uint8(permAll), 1
	if op[0] == '%' {
		perm = 0
		for ; at < len(op); at++ {
			c := op[at] &^ 0x20
			if c == 'R' && perm&permRead == 0 {
				perm |= permRead
			} else if c == 'W' && perm&permWrite == 0 {
				perm |= permWrite
			} else if op[at] == '~' {
				at++
				break
			} else {
				return errSyntax
			}
		}
		if perm == 0 {
			return errSyntax
		}
	}
	pat := op[at:]
	if pat == "*" && perm == permAll {
		s.allKeys, s.keys = true, nil
		return nil
	}
	if strings.ContainsAny(pat, " \x00") {
		return errSyntax
	}
	for i := range s.keys {
		if s.keys[i].pattern == pat {
			s.keys[i].perm |= perm
			return nil
		}
	}
	s.keys = append(s.keys, keyPattern{pat, perm})
	return nil
}

func (s *Selector) setCommand(name string, allow bool) error {
	base, sub, isSub := strings.Cut(name, "|")
	if !isSub || !allow {
		i := cmdtable.Lookup(name)
		if i == nil {
			return errUnknown
		}
		s.change(i, allow)
		return nil
	}
	if strings.Contains(sub, "|") {
		// Redis splits at the last '|': the part before must name a
		// command, and a subcommand cannot take first-args.
		at := strings.LastIndexByte(name, '|')
		if i := cmdtable.Lookup(name[:at]); i == nil {
			return errUnknown
		} else if i.Parent != nil {
			return errSubFirstArg
		}
		return errUnknown
	}
	i := cmdtable.Lookup(base)
	switch {
	case i == nil:
		return errUnknown
	case sub == "":
		return errSyntax
	case i.Subcommands != nil:
		si := i.Sub([]byte(sub))
		if si == nil {
			return errUnknown
		}
		s.change(si, true)
	default:
		if s.firstArgs == nil {
			s.firstArgs = map[int][]string{}
		}
		if !slices.Contains(s.firstArgs[i.ID], strings.ToLower(sub)) {
			s.firstArgs[i.ID] = append(s.firstArgs[i.ID], strings.ToLower(sub))
		}
	}
	return nil
}

// Categories are Redis 7.0's ACL categories, in its order.
var Categories = []string{"keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
	"hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous", "connection",
	"transaction", "scripting"}

// inCategory reports whether a command is in cat for ACL. The commands
// served beyond Redis 7.0 (WAITAOF) are in none, so that categories
// cover the commands they cover in 7.0 and descriptions read the same;
// +@all and their own names allow them.
func inCategory(i *cmdtable.Info, cat string) bool {
	return i.Since < "7.1" && slices.Contains(i.Categories, cat)
}

// setCategory allows or denies every command and subcommand of cat.
func (s *Selector) setCategory(cat string, allow bool) {
	for id := range cmdtable.Count() {
		if i := cmdtable.ByID(id); inCategory(i, cat) {
			s.change(i, allow)
		}
	}
}

// CommandsIn returns the full names of the commands and subcommands in
// category cat, in name order.
func CommandsIn(cat string) []string {
	var out []string
	for id := range cmdtable.Count() {
		if i := cmdtable.ByID(id); inCategory(i, cat) {
			out = append(out, i.Name)
		}
	}
	return out
}
