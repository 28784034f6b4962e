package keyspace

import (
	"slices"
	"testing"
	"time"

	"hourglass/platform"
)

// trackingObservers is a node whose clients track keys (or not).
type trackingObservers struct {
	notifyObservers
	on bool
}

func (o trackingObservers) Tracking() bool { return o.on }

// The keys a command changes are noted for invalidation, each time it
// changes them, and only those: failed and no-op writes note nothing, a
// flush notes one null however many databases it empties, expiry notes
// the expired key. With nobody tracking, nothing is noted and the entry
// says so.
func TestInvalidatedKeys(t *testing.T) {
	txn := newMemTxn(t)
	fx := &Effects{Observers: trackingObservers{on: true}}
	var pos uint64
	untracked := false
	apply := func(now int64, words ...string) []string {
		t.Helper()
		pos++
		fx.Origin = int64(pos)
		if _, err := Apply(txn, platform.Version{Pos: pos}, time.UnixMilli(now), EncodeCommand(0, 1, argv(words)), fx); err != nil {
			t.Fatal(err)
		}
		fx.Origin = 0
		if err := ExpireCycle(txn, platform.Version{Pos: pos, Sub: 1}, time.UnixMilli(now), fx); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, inv := range fx.Invalidated {
			k := "<all>"
			if inv.Key != nil {
				k = string(inv.Key)
			}
			out = append(out, k+"@"+string(rune('0'+inv.Origin)))
		}
		untracked = fx.Untracked
		fx.Reset()
		return out
	}
	for _, c := range []struct {
		now   int64
		words []string
		want  []string
	}{
		{1000, []string{"SET", "a", "1"}, []string{"a@1"}},
		{1000, []string{"MSET", "b", "1", "c", "2"}, []string{"b@2", "c@2"}},
		{1000, []string{"LPUSH", "a", "x"}, nil}, // wrong type: no change
		{1000, []string{"DEL", "a", "nokey", "b"}, []string{"a@4", "b@4"}},
		{1000, []string{"GET", "c"}, nil},
		{1000, []string{"SADD", "s", "m"}, []string{"s@6"}},
		{1000, []string{"SADD", "s", "m"}, nil}, // already a member
		{1000, []string{"SET", "e", "1", "PX", "10"}, []string{"e@8"}},
		{2000, []string{"SET", "f", "1"}, []string{"f@9", "e@0"}}, // e expires in the entry's cycle
		{2000, []string{"FLUSHALL"}, []string{"<all>@:"}},
	} {
		if got := apply(c.now, c.words...); !slices.Equal(got, c.want) || untracked {
			t.Errorf("%q: noted %q (untracked %v), want %q", c.words, got, untracked, c.want)
		}
	}
	fx.Observers = trackingObservers{on: false}
	if got := apply(2000, "SET", "g", "1"); got != nil || !untracked {
		t.Errorf("nobody tracking: noted %q, untracked %v", got, untracked)
	}
}

// LoggedCommands renders what a log entry's body carries as the command
// lines a client sent.
func TestLoggedCommands(t *testing.T) {
	render := func(ls []Logged) []string {
		var out []string
		for _, l := range ls {
			s := string(rune('0' + l.DB))
			for _, a := range l.Args {
				s += " " + string(a)
			}
			out = append(out, s)
		}
		return out
	}
	exec := EncodeExec(2, nil, "", [][]byte{EncodeCommand(1, 5, argv([]string{"SET", "a", "1"})), EncodeCommand(2, 6, argv([]string{"SELECT", "2"}))})
	for _, c := range []struct {
		body []byte
		want []string
	}{
		{EncodeCommand(3, 9, argv([]string{"SET", "k", "v"})), []string{"3 SET k v"}},
		{exec, []string{"1 SET a 1", "2 SELECT 2", "2 EXEC"}},
		{EncodeScript(0, 1, DefaultScriptLimits, "", argv([]string{"EVAL", "return 1", "0"})), []string{"0 EVAL return 1 0"}},
		// A restricted user's name is not part of the lines.
		{EncodeScript(0, 1, DefaultScriptLimits, "bob", argv([]string{"EVAL", "return 1", "0"})), []string{"0 EVAL return 1 0"}},
		{EncodeExec(0, nil, "bob", [][]byte{EncodeCommand(0, 5, argv([]string{"GET", "a"}))}), []string{"0 GET a", "0 EXEC"}},
		{TickBody(), nil},
		{[]byte{0xff}, nil},
	} {
		if got := render(LoggedCommands(c.body)); !slices.Equal(got, c.want) {
			t.Errorf("LoggedCommands: %q, want %q", got, c.want)
		}
	}
}
