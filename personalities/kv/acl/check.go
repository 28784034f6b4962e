package acl

import (
	"hourglass/personalities/kv/cmdtable"
	"hourglass/personalities/kv/glob"
)

// Denial says why Check refused a command, in Redis's order of
// relevance (ACL_DENIED_*).
type Denial int

// The outcomes of Check.
const (
	Allowed Denial = iota
	DeniedCommand
	DeniedKey
	DeniedAuth
	DeniedChannel
)

// Check reports whether the user may run the command line args (args[0]
// the command; info the table's entry for it, a container's subcommand
// when it has one), as Redis's ACLCheckAllUserCommandPerm: when no
// selector allows it, the most relevant denial and the index of the
// argument (a key or channel) it concerns.
func (u *User) Check(info *cmdtable.Info, args [][]byte) (Denial, int) {
	var keys []cmdtable.Key
	keysFound := false
	worst, worstPos := DeniedCommand, 0
	for _, s := range u.selectors {
		d, pos := s.check(info, args, &keys, &keysFound)
		if d == Allowed {
			return Allowed, 0
		}
		if d > worst || d == worst && pos > worstPos {
			worst, worstPos = d, pos
		}
	}
	return worst, worstPos
}

func (s *Selector) check(info *cmdtable.Info, args [][]byte, keys *[]cmdtable.Key, found *bool) (Denial, int) {
	if !s.allCommands && !info.HasFlag("no_auth") && !s.bit(info.ID) {
		idx := 1
		if info.Parent != nil {
			idx = 2
		}
		if idx >= len(args) || !s.firstArgAllowed(info.ID, args[idx]) {
			return DeniedCommand, 0
		}
	}
	if !s.allKeys && info.HasKeys() {
		if !*found {
			*keys, _ = info.Keys(args)
			*found = true
		}
		for _, k := range *keys {
			if !s.keyAllowed(args[k.Pos], k.Flags) {
				return DeniedKey, k.Pos
			}
		}
	}
	if !s.allChannels {
		for _, c := range Channels(info, args) {
			if !s.channelAllowed(args[c.Pos], c.Pattern) {
				return DeniedChannel, c.Pos
			}
		}
	}
	return Allowed, 0
}

func (s *Selector) firstArgAllowed(id int, arg []byte) bool {
	for _, a := range s.firstArgs[id] {
		if len(a) == len(arg) && string(a) == lowerBytes(arg) {
			return true
		}
	}
	return false
}

func lowerBytes(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return string(out)
}

// keyAllowed is Redis's ACLSelectorCheckKey: a pattern with every
// permission the key's flags need must match.
func (s *Selector) keyAllowed(key []byte, f cmdtable.KeyFlags) bool {
	var need uint8
	if f.Reads() {
		need |= permRead
	}
	if f.Writes() {
		need |= permWrite
	}
	for _, p := range s.keys {
		if p.perm&need == need && glob.Match([]byte(p.pattern), key) {
			return true
		}
	}
	return false
}

// channelAllowed is Redis's ACLCheckChannelAgainstList: a channel must
// match a pattern, a pattern (PSUBSCRIBE's) must equal one.
func (s *Selector) channelAllowed(ch []byte, isPattern bool) bool {
	for _, p := range s.channels {
		if isPattern && p == string(ch) || !isPattern && glob.Match([]byte(p), ch) {
			return true
		}
	}
	return false
}

// ChannelAllowed reports whether the user may use the channel (a
// pattern, for PSUBSCRIBE) in some selector.
func (u *User) ChannelAllowed(ch []byte, isPattern bool) bool {
	for _, s := range u.selectors {
		if s.allChannels || s.channelAllowed(ch, isPattern) {
			return true
		}
	}
	return false
}

// Channel is a channel argument of a command line.
type Channel struct {
	Pos     int
	Pattern bool
}

// Channels returns the channels a command line publishes or subscribes
// to, which ACL checks (not those it unsubscribes from).
func Channels(info *cmdtable.Info, args [][]byte) []Channel {
	var out []Channel
	switch info.Name {
	case "publish", "spublish":
		if len(args) > 1 {
			out = append(out, Channel{Pos: 1})
		}
	case "subscribe", "ssubscribe", "psubscribe":
		for j := 1; j < len(args); j++ {
			out = append(out, Channel{Pos: j, Pattern: info.Name == "psubscribe"})
		}
	}
	return out
}
