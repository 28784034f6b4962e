// Package glob matches Redis glob-style patterns, as Redis's
// stringmatchlen does, for KEYS, SCAN MATCH, PSUBSCRIBE, PUBSUB CHANNELS
// and CONFIG GET:
//
//   - '*' matches any run of bytes, the empty one included;
//   - '?' matches any one byte;
//   - '[...]' matches one byte of a class: single bytes, ranges "a-z" (in
//     either order), '^' first to negate, '\' to take the next byte
//     literally; an unterminated class ends at the end of the pattern;
//   - '\' matches the next byte literally (a trailing '\' matches itself);
//   - any other byte matches itself.
//
// Matching is on bytes, not runes; MatchFold ignores ASCII case only.
// Both are pure functions, safe for concurrent use; neither keeps or
// changes its arguments. Matching backtracks, as Redis's does: a pattern
// with k separate stars may take time of the order of len(s)^k on a
// subject it does not match.
//
//	glob.Match([]byte("user:*"), []byte("user:42"))     // true
//	glob.MatchFold([]byte("MAX*"), []byte("maxclients")) // true
package glob

// Match reports whether s matches the glob pattern.
func Match(pattern, s []byte) bool { return match(pattern, s, false) }

// MatchFold is Match ignoring ASCII case.
func MatchFold(pattern, s []byte) bool { return match(pattern, s, true) }

func match(p, s []byte, nocase bool) bool {
	lower := func(c byte) byte {
		if nocase && 'A' <= c && c <= 'Z' {
			return c + 'a' - 'A'
		}
		return c
	}
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 1 && p[1] == '*' {
				p = p[1:]
			}
			if len(p) == 1 {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if match(p[1:], s[i:], nocase) {
					return true
				}
			}
			return false
		case '?':
			if len(s) == 0 {
				return false
			}
			s = s[1:]
		case '[':
			if len(s) == 0 {
				return false
			}
			p = p[1:]
			not := len(p) > 0 && p[0] == '^'
			if not {
				p = p[1:]
			}
			match := false
			for {
				if len(p) == 0 {
					// Unterminated class: Redis treats the end as ']'.
					break
				}
				if p[0] == '\\' && len(p) >= 2 {
					p = p[1:]
					if p[0] == s[0] {
						match = true
					}
				} else if p[0] == ']' {
					break
				} else if len(p) >= 3 && p[1] == '-' {
					lo, hi := lower(p[0]), lower(p[2])
					if lo > hi {
						lo, hi = hi, lo
					}
					c := lower(s[0])
					if c >= lo && c <= hi {
						match = true
					}
					p = p[2:]
				} else if lower(p[0]) == lower(s[0]) {
					match = true
				}
				p = p[1:]
			}
			if not {
				match = !match
			}
			if !match {
				return false
			}
			s = s[1:]
			if len(p) == 0 {
				return len(s) == 0
			}
		case '\\':
			if len(p) >= 2 {
				p = p[1:]
			}
			fallthrough
		default:
			if len(s) == 0 || lower(p[0]) != lower(s[0]) {
				return false
			}
			s = s[1:]
		}
		p = p[1:]
	}
	return len(s) == 0
}
