package sasl

import (
	"fmt"
	"strings"
)

// DigestLoginModule is the login module whose user_<name> options list
// ZooKeeper's DIGEST-MD5 users.
const DigestLoginModule = "org.apache.zookeeper.server.auth.DigestLoginModule"

// MaxJAASBytes bounds a JAAS file.
const MaxJAASBytes = 1 << 20

// ServerUsers reads the users of section (ZooKeeper's is "Server") of a
// JAAS login configuration: the user_<name>="<password>" options of its
// DigestLoginModule entries. A section that is missing, or a file that
// does not parse, is an error naming the line.
func ServerUsers(data []byte, section string) (map[string]string, error) {
	if len(data) > MaxJAASBytes {
		return nil, fmt.Errorf("JAAS file larger than %d bytes", MaxJAASBytes)
	}
	t := &jaasTokens{s: string(data), line: 1}
	var users map[string]string
	for {
		name, ok := t.next()
		if !ok {
			break
		}
		if err := t.expect("{"); err != nil {
			return nil, err
		}
		entries, err := t.entries()
		if err != nil {
			return nil, err
		}
		if name != section {
			continue
		}
		users = map[string]string{}
		for _, e := range entries {
			if e.module != DigestLoginModule {
				continue
			}
			for k, v := range e.options {
				if u, ok := strings.CutPrefix(k, "user_"); ok {
					users[u] = v
				}
			}
		}
	}
	if t.err != nil {
		return nil, t.err
	}
	if users == nil {
		return nil, fmt.Errorf("JAAS file has no %s section", section)
	}
	return users, nil
}

// jaasEntry is one login module line of a section.
type jaasEntry struct {
	module  string
	options map[string]string
}

// jaasTokens splits a JAAS file into words, quoted strings and the
// punctuation { } ; =, skipping // and /* */ comments.
type jaasTokens struct {
	s    string
	line int
	err  error
}

// entries reads a section's entries after its "{", through "};".
func (t *jaasTokens) entries() ([]jaasEntry, error) {
	var out []jaasEntry
	for {
		module, ok := t.next()
		if !ok {
			return nil, t.fail("unterminated section")
		}
		if module == "}" {
			return out, t.expect(";")
		}
		flag, ok := t.next()
		switch strings.ToLower(flag) {
		case "required", "requisite", "sufficient", "optional":
		default:
			if !ok {
				return nil, t.fail("unterminated section")
			}
			return nil, t.fail(fmt.Sprintf("%q: want a control flag (required, requisite, sufficient or optional)", flag))
		}
		e := jaasEntry{module: module, options: map[string]string{}}
		for {
			key, ok := t.next()
			if !ok {
				return nil, t.fail("unterminated entry")
			}
			if key == ";" {
				break
			}
			if err := t.expect("="); err != nil {
				return nil, err
			}
			val, ok := t.next()
			if !ok {
				return nil, t.fail("option without a value")
			}
			e.options[key] = val
		}
		out = append(out, e)
	}
}

func (t *jaasTokens) fail(msg string) error {
	if t.err == nil {
		t.err = fmt.Errorf("JAAS file line %d: %s", t.line, msg)
	}
	return t.err
}

func (t *jaasTokens) expect(want string) error {
	got, ok := t.next()
	if !ok || got != want {
		return t.fail(fmt.Sprintf("want %q, got %q", want, got))
	}
	return nil
}

// next returns the next token; false at the end or after an error.
func (t *jaasTokens) next() (string, bool) {
	for t.err == nil {
		t.s = strings.TrimLeftFunc(t.s, func(r rune) bool {
			if r == '\n' {
				t.line++
			}
			return r == ' ' || r == '\t' || r == '\r' || r == '\n'
		})
		switch {
		case t.s == "":
			return "", false
		case strings.HasPrefix(t.s, "//"):
			i := strings.IndexByte(t.s, '\n')
			if i < 0 {
				i = len(t.s)
			}
			t.s = t.s[i:]
		case strings.HasPrefix(t.s, "/*"):
			i := strings.Index(t.s, "*/")
			if i < 0 {
				t.fail("unterminated comment")
				return "", false
			}
			t.line += strings.Count(t.s[:i], "\n")
			t.s = t.s[i+2:]
		case strings.ContainsRune("{};=", rune(t.s[0])):
			tok := t.s[:1]
			t.s = t.s[1:]
			return tok, true
		case t.s[0] == '"':
			var b strings.Builder
			for i := 1; i < len(t.s); i++ {
				switch c := t.s[i]; {
				case c == '\\' && i+1 < len(t.s):
					i++
					b.WriteByte(t.s[i])
				case c == '"':
					t.s = t.s[i+1:]
					return b.String(), true
				default:
					if c == '\n' {
						t.line++
					}
					b.WriteByte(c)
				}
			}
			t.fail("unterminated quoted string")
			return "", false
		default:
			i := strings.IndexAny(t.s, " \t\r\n{};=\"")
			if i < 0 {
				i = len(t.s)
			}
			tok := t.s[:i]
			t.s = t.s[i:]
			return tok, true
		}
	}
	return "", false
}
