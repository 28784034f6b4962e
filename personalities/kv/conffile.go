package kv

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Directive is one line of a redis.conf file: a directive name (lower
// case) and its arguments, with where it was read.
type Directive struct {
	Name string
	Args []string
	File string
	Line int
}

func (d Directive) String() string { return fmt.Sprintf("%s:%d: %s", d.File, d.Line, d.Name) }

// maxIncludeDepth bounds include chains (and include loops).
const maxIncludeDepth = 16

// ReadConfFile reads a redis.conf file as redis-server does: one
// directive per line, arguments split as sdssplitargs splits them
// (double quotes with backslash escapes, single quotes), # comments,
// and include directives read in place.
func ReadConfFile(path string) ([]Directive, error) {
	return readConf(path, 0)
}

func readConf(path string, depth int) ([]Directive, error) {
	if depth > maxIncludeDepth {
		return nil, fmt.Errorf("%s: includes nested deeper than %d", path, maxIncludeDepth)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Directive
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		args, err := SplitArgs(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, n, err)
		}
		if len(args) == 0 {
			continue
		}
		d := Directive{Name: strings.ToLower(args[0]), Args: args[1:], File: path, Line: n}
		if d.Name == "include" {
			if len(d.Args) != 1 {
				return nil, fmt.Errorf("%s: wrong number of arguments", d)
			}
			// A relative include is read from the working directory,
			// as redis-server reads it.
			sub, err := readConf(d.Args[0], depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
			continue
		}
		out = append(out, d)
	}
	return out, sc.Err()
}

// SplitArgs splits a line as Redis's sdssplitargs does.
func SplitArgs(line string) ([]string, error) {
	var out []string
	i := 0
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i == len(line) {
			return out, nil
		}
		var cur strings.Builder
		inDouble, inSingle := false, false
		for done := false; !done; {
			switch {
			case inDouble:
				if i == len(line) {
					return nil, errors.New("unbalanced quotes")
				}
				c := line[i]
				switch {
				case c == '\\' && i+3 < len(line) && line[i+1] == 'x' && isHex(line[i+2]) && isHex(line[i+3]):
					cur.WriteByte(hexVal(line[i+2])<<4 | hexVal(line[i+3]))
					i += 3
				case c == '\\' && i+1 < len(line):
					i++
					switch e := line[i]; e {
					case 'n':
						cur.WriteByte('\n')
					case 'r':
						cur.WriteByte('\r')
					case 't':
						cur.WriteByte('\t')
					case 'b':
						cur.WriteByte('\b')
					case 'a':
						cur.WriteByte('\a')
					default:
						cur.WriteByte(e)
					}
				case c == '"':
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return nil, errors.New("closing quote must be followed by a space")
					}
					done = true
				default:
					cur.WriteByte(c)
				}
			case inSingle:
				if i == len(line) {
					return nil, errors.New("unbalanced quotes")
				}
				c := line[i]
				switch {
				case c == '\\' && i+1 < len(line) && line[i+1] == '\'':
					i++
					cur.WriteByte('\'')
				case c == '\'':
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return nil, errors.New("closing quote must be followed by a space")
					}
					done = true
				default:
					cur.WriteByte(c)
				}
			default:
				if i == len(line) {
					done = true
					continue
				}
				switch c := line[i]; {
				case isSpace(c):
					done = true
				case c == '"':
					inDouble = true
				case c == '\'':
					inSingle = true
				default:
					cur.WriteByte(c)
				}
			}
			if i < len(line) {
				i++
			}
		}
		out = append(out, cur.String())
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hexVal(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// lenientDirectives are parameters the gateway has one value of, where
// redis.conf files commonly carry another (the default file says
// appendonly no): a file's other value is logged and ignored rather than
// refused, since the gateway keeps at least the guarantee asked for.
var lenientDirectives = map[string]bool{"appendonly": true, "appendfsync": true, "hll-sparse-max-bytes": true}

// LoadDirective applies one redis.conf directive's parameter at start-up,
// with CONFIG SET's checks; immutable and protected parameters, which a
// file may set, are kept as given. It returns a note for the log when the
// directive changes nothing on this node ("" when it took effect), or
// the error that should stop the start. The directives that set
// replicated state (ReplicatedDirective) are refused: they go to a
// FileState.
func (s *Server) LoadDirective(name, value string) (note string, err error) {
	name = strings.ToLower(name)
	e, effect := configEffects[name]
	p := redisConf[name]
	if p == nil && !effect {
		return "", errors.New("Bad directive or wrong number of arguments")
	}
	const noEffect = "accepted; it changes nothing on this server"
	switch {
	case p != nil && (p.Kind == "immutable" || p.Kind == "protected"):
		if effect {
			if v := e.get(s); v != value {
				return fmt.Sprintf("ignored: this server's %s is %s", name, v), nil
			}
			return "", nil
		}
		s.keepParam(p, name, value)
		return noEffect, nil
	case effect && e.set != nil:
		if err := e.set(s, value); err != nil {
			if lenientDirectives[name] {
				return fmt.Sprintf("ignored (%v): this server's %s is %s", err, name, e.get(s)), nil
			}
			return "", err
		}
		return "", nil
	}
	if err := s.configSet(name, value); err != nil {
		return "", err
	}
	return noEffect, nil
}
