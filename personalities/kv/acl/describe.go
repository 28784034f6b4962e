package acl

import (
	"strings"

	"hourglass/personalities/kv/cmdtable"
	"hourglass/personalities/kv/keyspace"
)

// flags returns the user's flags in Redis's order.
func (u *User) flags() []string {
	var out []string
	if u.on {
		out = append(out, "on")
	} else {
		out = append(out, "off")
	}
	if u.nopass {
		out = append(out, "nopass")
	}
	if u.sanitize == "skip-sanitize-payload" {
		out = append(out, u.sanitize)
	}
	if u.sanitize == "sanitize-payload" {
		out = append(out, u.sanitize)
	}
	return out
}

// Describe returns the user's rules as ACL LIST shows them after "user
// <name> ": applied to a new user they rebuild it exactly.
func (u *User) Describe() string {
	var b strings.Builder
	for _, f := range u.flags() {
		b.WriteString(f + " ")
	}
	for _, p := range u.passwords {
		b.WriteString("#" + p + " ")
	}
	for i, s := range u.selectors {
		if i == 0 {
			b.WriteString(s.describe())
		} else {
			b.WriteString(" (" + s.describe() + ")")
		}
	}
	return b.String()
}

func (s *Selector) keysText() string {
	if s.allKeys {
		return "~*"
	}
	parts := make([]string, len(s.keys))
	for i, k := range s.keys {
		switch k.perm {
		case permAll:
			parts[i] = "~" + k.pattern
		case permRead:
			parts[i] = "%R~" + k.pattern
		default:
			parts[i] = "%W~" + k.pattern
		}
	}
	return strings.Join(parts, " ")
}

func (s *Selector) channelsText() string {
	if s.allChannels {
		return "&*"
	}
	parts := make([]string, len(s.channels))
	for i, c := range s.channels {
		parts[i] = "&" + c
	}
	return strings.Join(parts, " ")
}

// describe is Redis's ACLDescribeSelector.
func (s *Selector) describe() string {
	var b strings.Builder
	if k := s.keysText(); k != "" {
		b.WriteString(k + " ")
	}
	if !s.allChannels {
		b.WriteString("resetchannels ")
	}
	if c := s.channelsText(); c != "" {
		b.WriteString(c + " ")
	}
	b.WriteString(s.commandRules())
	return b.String()
}

// commandRules is Redis 7.0's ACLDescribeSelectorCommandRules: +@all or
// -@all, then the categories that best fit the bitmap, then the single
// commands that still differ (in name order; Redis's are in its hash
// table's order).
func (s *Selector) commandRules() string {
	future := s.bit(cmdtable.Count())
	fake := newSelector()
	var rules []string
	if future {
		rules = append(rules, "+@all")
		fake.apply("+@all")
	} else {
		rules = append(rules, "-@all")
	}
	temp := newSelector()
	copy(temp.bits, s.bits)
	applied := make([]bool, len(Categories))
	for {
		best, minDiff, maxSame := -1, int(^uint(0)>>1), 0
		for j, cat := range Categories {
			if applied[j] {
				continue
			}
			on, off := temp.count(cat)
			diff, same := on, off
			if !future {
				diff, same = off, on
			}
			if same > diff && (diff < minDiff || diff == minDiff && same > maxSame) {
				best, minDiff, maxSame = j, diff, same
			}
		}
		if best < 0 {
			break
		}
		op, inv := "+@", "-@"
		if future {
			op, inv = "-@", "+@"
		}
		fake.apply(op + Categories[best])
		temp.apply(inv + Categories[best])
		rules = append(rules, op+Categories[best])
		applied[best] = true
	}
	for _, top := range cmdtable.All() {
		rules = s.singleCommand(fake, top, rules)
		for _, sub := range top.Subcommands {
			rules = s.singleCommand(fake, sub, rules)
		}
	}
	return strings.Join(rules, " ")
}

func (s *Selector) singleCommand(fake *Selector, i *cmdtable.Info, rules []string) []string {
	if mine := s.bit(i.ID); mine != fake.bit(i.ID) {
		if mine {
			rules = append(rules, "+"+i.Name)
		} else {
			rules = append(rules, "-"+i.Name)
		}
		fake.change(i, mine)
	}
	for _, a := range s.firstArgs[i.ID] {
		rules = append(rules, "+"+i.Name+"|"+a)
	}
	return rules
}

// count counts the commands of cat the selector allows and denies.
func (s *Selector) count(cat string) (on, off int) {
	for id := range cmdtable.Count() {
		if inCategory(cmdtable.ByID(id), cat) {
			if s.bit(id) {
				on++
			} else {
				off++
			}
		}
	}
	return on, off
}

// GetUserReply returns ACL GETUSER's reply for the user.
func (u *User) GetUserReply() keyspace.Map {
	flags := keyspace.Set{}
	for _, f := range u.flags() {
		flags = append(flags, f)
	}
	pw := make([]any, len(u.passwords))
	for i, p := range u.passwords {
		pw[i] = p
	}
	root := u.selectors[0]
	sels := []any{}
	for _, s := range u.selectors[1:] {
		sels = append(sels, keyspace.Map{"commands", s.commandRules(), "keys", s.keysText(), "channels", s.channelsText()})
	}
	return keyspace.Map{"flags", flags, "passwords", pw, "commands", root.commandRules(),
		"keys", root.keysText(), "channels", root.channelsText(), "selectors", sels}
}

// ParseDescription rebuilds a user from Describe's text.
func ParseDescription(name, desc string) (*User, error) {
	u := NewUser(name)
	if err := u.SetUser(strings.Fields(desc)); err != nil {
		return nil, err
	}
	return u, nil
}
