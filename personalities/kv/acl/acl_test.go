package acl

import (
	"slices"
	"strings"
	"testing"

	"hourglass/personalities/kv/cmdtable"
)

// sameRules compares two descriptions as Redis 7.0 prints them: its
// single commands come in hash-table order, so the tail is compared as
// a set after the fixed head.
func sameRules(got, want string) bool {
	g, w := strings.Fields(got), strings.Fields(want)
	slices.Sort(g)
	slices.Sort(w)
	return slices.Equal(g, w)
}

// TestDescribe checks descriptions against what redis-server 7.0 printed
// for the same rules.
func TestDescribe(t *testing.T) {
	cases := []struct {
		rules []string
		want  string
	}{
		{nil, "off resetchannels -@all"},
		{[]string{"reset"}, "off sanitize-payload resetchannels -@all"},
		{[]string{"on", "nopass", "~*", "&*", "+@all"}, "on nopass ~* &* +@all"},
		{[]string{"on", ">p1", "#5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8", "%R~r*", "~k*", "%W~w*", "&ch*", "+get", "+@hash", "-hset", "+client|id", "+select|0", "(+set ~s*)"},
			"on #f64551fcd6f07823cb87971cfb91446425da18286b3ab1ef935e0cbd7a69f68a #5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8 %R~r* ~k* %W~w* resetchannels &ch* -@all +@hash +client|id +get +select|0 -hset (~s* resetchannels -@all +set)"},
		{[]string{"+@all", "-@dangerous", "+debug", "-get", "+@read"},
			"off resetchannels +@all -@admin -info -flushdb -migrate +debug -sort -flushall -restore-asking -restore -swapdb"},
	}
	for _, c := range cases {
		u := NewUser("u")
		if err := u.SetUser(c.rules); err != nil {
			t.Fatalf("%q: %v", c.rules, err)
		}
		got := strings.TrimSpace(u.Describe())
		if !sameRules(got, c.want) {
			t.Errorf("%q:\ngot  %s\nwant %s", c.rules, got, c.want)
		}
		back, err := ParseDescription("u", got)
		if err != nil || back.Describe() != u.Describe() {
			t.Errorf("%q: the description does not rebuild the user: %v %s", c.rules, err, back.Describe())
		}
	}
}

func TestSetUserErrors(t *testing.T) {
	cases := map[string]string{
		"%~a":          "ERR Error in ACL SETUSER modifier '%~a': Syntax error",
		"%RX~a":        "ERR Error in ACL SETUSER modifier '%RX~a': Syntax error",
		"ff":           "ERR Error in ACL SETUSER modifier 'ff': Syntax error",
		"+nosuch":      "ERR Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL",
		"+client|id|x": "ERR Error in ACL SETUSER modifier '+client|id|x': Allowing first-arg of a subcommand is not supported",
		"(~a":          "ERR Unmatched parenthesis in acl selector starting at '(~a'.",
		"<nopass":      "ERR Error in ACL SETUSER modifier '<nopass': The password you are trying to remove from the user does not exist",
		"#abc":         "ERR Error in ACL SETUSER modifier '#abc': The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
	}
	for rule, want := range cases {
		u := NewUser("x")
		if err := u.SetUser([]string{rule}); err == nil || err.Error() != want {
			t.Errorf("%s: %v", rule, err)
		}
	}
	u := NewUser("x")
	if err := u.SetUser([]string{"~*", "~a"}); err == nil || !strings.Contains(err.Error(), "'allkeys' flag") {
		t.Errorf("~* ~a: %v", err)
	}
	if u.Describe() != "off resetchannels -@all" {
		t.Errorf("a failed SETUSER changed the user: %s", u.Describe())
	}
}

func TestCheck(t *testing.T) {
	u := NewUser("lim")
	if err := u.SetUser([]string{"on", ">pw", "~k*", "%R~r*", "&c*", "+get", "+set", "+publish", "+psubscribe", "+lmove"}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		line string
		d    Denial
		pos  int
	}{
		{"get k1", Allowed, 0},
		{"get x", DeniedKey, 1},
		{"get r1", Allowed, 0},
		{"set r1 v", DeniedKey, 1},
		{"lmove k1 r1 left left", DeniedKey, 2},
		{"del k", DeniedCommand, 0},
		{"publish c1 m", Allowed, 0},
		{"publish z m", DeniedChannel, 1},
		{"psubscribe c*", Allowed, 0},
		{"psubscribe c*x", DeniedChannel, 1},
	}
	for _, c := range cases {
		args := bytesOf(c.line)
		d, pos := u.Check(cmdtable.Lookup(string(args[0])), args)
		if d != c.d || pos != c.pos {
			t.Errorf("%s: %v at %d, want %v at %d", c.line, d, pos, c.d, c.pos)
		}
	}
	if !u.CheckPassword([]byte("pw")) || u.CheckPassword([]byte("no")) || u.Unrestricted() || !DefaultUser().Unrestricted() {
		t.Fatal("passwords or the unrestricted fast path")
	}
}

func bytesOf(line string) [][]byte {
	var out [][]byte
	for _, f := range strings.Fields(line) {
		out = append(out, []byte(f))
	}
	return out
}
