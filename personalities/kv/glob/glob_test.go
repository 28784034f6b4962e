package glob

import "testing"

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		pat, name string
		want      bool
	}{
		{"*", "save", true}, {"save", "save", true}, {"sav?", "save", true}, {"*fsync", "appendfsync", true},
		{"append*", "appendonly", true}, {"a*z", "appendonly", false}, {"", "x", false},
		{"h[ae]llo", "hello", true}, {"h[ae]llo", "hillo", false}, {"h[^e]llo", "hallo", true},
		{"h[^e]llo", "hello", false}, {"h[a-c]llo", "hbllo", true}, {"h[c-a]llo", "hbllo", true},
		{`h\*llo`, "h*llo", true}, {`h\*llo`, "hello", false}, {"**a", "bba", true}, {"[abc", "a", true},
	} {
		if got := Match([]byte(c.pat), []byte(c.name)); got != c.want {
			t.Errorf("Match(%q, %q) = %v", c.pat, c.name, got)
		}
	}
}

func TestMatchFold(t *testing.T) {
	for _, c := range []struct {
		pat, name string
		want      bool
	}{
		{"MAX*", "maxclients", true}, {"max*", "MAXCLIENTS", true}, {"[A-C]x", "bx", true},
		{"[^a]x", "Ax", false}, {"Save", "save", true}, {"Save", "sav", false},
	} {
		if got := MatchFold([]byte(c.pat), []byte(c.name)); got != c.want {
			t.Errorf("MatchFold(%q, %q) = %v", c.pat, c.name, got)
		}
		if c.want && c.pat != c.name && Match([]byte(c.pat), []byte(c.name)) {
			t.Errorf("Match(%q, %q) ignored case", c.pat, c.name)
		}
	}
}
