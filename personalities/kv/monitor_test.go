package kv

import (
	"strings"
	"testing"
	"time"
)

// MONITOR lines quote as Redis's sdscatrepr and pad the microseconds.
func TestMonitorLine(t *testing.T) {
	at := time.Unix(1700000000, 4500)
	for _, c := range []struct {
		args     []string
		from, to int
		want     string
	}{
		{[]string{"GET", "k"}, 0, 0, `1700000000.000004 [3 1.2.3.4:5] "GET" "k"`},
		{[]string{"SET", "k", "a\"b\\c\n\r\t\a\b\x00\x7f\xc3 ~"}, 0, 0, `1700000000.000004 [3 1.2.3.4:5] "SET" "k" "a\"b\\c\n\r\t\a\b\x00\x7f\xc3 ~"`},
		{[]string{"AUTH", "u", "p"}, 1, 3, `1700000000.000004 [3 1.2.3.4:5] "AUTH" "(redacted)" "(redacted)"`},
		{[]string{""}, 0, 0, `1700000000.000004 [3 1.2.3.4:5] ""`},
	} {
		args := make([][]byte, len(c.args))
		for i, a := range c.args {
			args[i] = []byte(a)
		}
		if got := string(appendMonitorLine(nil, at, 3, "1.2.3.4:5", args, c.from, c.to)); got != c.want {
			t.Errorf("%q:\n got  %s\n want %s", c.args, got, c.want)
		}
	}
	for _, c := range []struct {
		args     []string
		from, to int
	}{
		{[]string{"AUTH", "p"}, 1, 2}, {[]string{"HELLO", "3", "AUTH", "u", "p", "SETNAME", "n"}, 3, 5},
		{[]string{"HELLO", "3", "SETNAME", "auth"}, 0, 0}, {[]string{"GET", "auth"}, 0, 0},
	} {
		args := make([][]byte, len(c.args))
		for i, a := range c.args {
			args[i] = []byte(a)
		}
		if from, to := redacted(strings.ToLower(c.args[0]), args); from != c.from || to != c.to {
			t.Errorf("redacted(%q) = %d, %d; want %d, %d", c.args, from, to, c.from, c.to)
		}
	}
}
