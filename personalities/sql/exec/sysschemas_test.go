package exec

import "testing"

func TestLikePrefix(t *testing.T) {
	for _, c := range []struct {
		pattern, want string
		ok            bool
	}{
		{"user:%", "user:", true},
		{"user:_1", "user:", true},
		{"exact", "exact", true},
		{`/a\_b%`, "/a_b", true},
		{`%x`, "", true},
		{`bad\`, "", false},
	} {
		got, ok := likePrefix(c.pattern)
		if got != c.want || ok != c.ok {
			t.Errorf("likePrefix(%q) = %q, %v; want %q, %v", c.pattern, got, ok, c.want, c.ok)
		}
	}
}
