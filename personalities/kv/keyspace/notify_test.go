package keyspace

import (
	"math"
	"slices"
	"testing"
	"time"

	"hourglass/platform"
)

// The canonical forms are redis-server 7.0's CONFIG GET answers.
func TestParseEventClasses(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""}, {"K", "K"}, {"E", "E"}, {"A", "A"}, {"KEA", "AKE"}, {"KA", "AK"},
		{"KEAmn", "AKEm"}, {"g$", "g$"}, {"Ex", "xE"}, {"Kl", "lK"}, {"xe", "xe"},
		{"nd", "dn"}, {"An", "A"}, {"mA", "Am"}, {"g$lshzxetd", "A"}, {"g$lshzxet", "g$lshzxet"},
		{"EKmhh", "hKEm"}, {"tdn$", "$tdn"},
	} {
		got, ok := ParseEventClasses(c.in)
		if !ok || got.String() != c.want {
			t.Errorf("ParseEventClasses(%q) = %q, %v; want %q", c.in, got, ok, c.want)
		}
	}
	for _, bad := range []string{"Q", "KEAQ", "a", " ", "*"} {
		if _, ok := ParseEventClasses(bad); ok {
			t.Errorf("ParseEventClasses(%q) accepted", bad)
		}
	}
	if EventClass(EventKeyspace|EventKeyMiss).Deliverable() == 0 || EventClass(EventAll).Deliverable() != 0 {
		t.Error("Deliverable: classes without K or E deliver nothing, with them everything")
	}
}

// notifyObservers is a node whose every subscriber wants classes.
type notifyObservers struct{ classes EventClass }

func (o notifyObservers) Subscribers([]byte) int64  { return 1 }
func (o notifyObservers) Blocked() bool             { return false }
func (o notifyObservers) Notifications() EventClass { return o.classes }

// applyLines applies command lines at log time now (ms), from version
// *pos on, and returns the messages they published.
func applyLines(t *testing.T, txn memTxn, fx *Effects, pos *uint64, now int64, lines ...[]string) []string {
	t.Helper()
	var out []string
	for _, words := range lines {
		*pos++
		at := platform.Version{Pos: *pos}
		if _, err := Apply(txn, at, time.UnixMilli(now), EncodeCommand(0, 1, argv(words)), fx); err != nil {
			t.Fatal(err)
		}
		if err := ExpireCycle(txn, platform.Version{Pos: *pos, Sub: 1}, time.UnixMilli(now), fx); err != nil {
			t.Fatal(err)
		}
		for _, m := range fx.Published {
			out = append(out, string(m.Channel)+" "+string(m.Message))
		}
		fx.Reset()
	}
	return out
}

// Expiry notifies "expired" at apply: a write that meets an expired key
// before its own events, and the active cycle for the others.
func TestNotifyExpiredAtApply(t *testing.T) {
	txn := newMemTxn(t)
	fx := &Effects{Observers: notifyObservers{EventKeyevent | EventAll | EventNew}}
	var pos uint64
	got := applyLines(t, txn, fx, &pos, 1000,
		[]string{"SET", "a", "1", "PX", "100"}, []string{"SET", "b", "1", "PX", "5000"})
	got = append(got, applyLines(t, txn, fx, &pos, 1200, []string{"APPEND", "a", "x"})...)
	got = append(got, applyLines(t, txn, fx, &pos, 7000, []string{"PUBLISH", "c", "m"})...)
	want := []string{
		"__keyevent@0__:new a", "__keyevent@0__:set a", "__keyevent@0__:expire a",
		"__keyevent@0__:new b", "__keyevent@0__:set b", "__keyevent@0__:expire b",
		"__keyevent@0__:expired a", "__keyevent@0__:new a", "__keyevent@0__:append a",
		"c m", "__keyevent@0__:expired b",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("events\n got  %q\n want %q", got, want)
	}

	// A node that wants no class (or has no K nor E) records nothing.
	for _, classes := range []EventClass{0, EventAll, EventKeyspace | EventKeyMiss} {
		fx.Observers = notifyObservers{classes}
		if got := applyLines(t, txn, fx, &pos, 8000, []string{"SET", "a", "1"}, []string{"DEL", "a"}); len(got) != 0 {
			t.Fatalf("classes %q recorded %q", classes, got)
		}
	}
}

// With notifications off, a write allocates no more than without an
// Observers at all.
func TestNotifyOffAllocatesNothing(t *testing.T) {
	txn := newMemTxn(t)
	body := EncodeCommand(0, 1, argv([]string{"SET", "k", "v"}))
	pos := uint64(0)
	// The fewest of three measurements: under the race detector,
	// sync.Pool drops items at random, which adds allocations to some
	// runs that the code under test does not make.
	allocs := func(fx *Effects) float64 {
		least := math.Inf(1)
		for range 3 {
			least = min(least, testing.AllocsPerRun(200, func() {
				pos++
				if _, err := Apply(txn, platform.Version{Pos: pos}, time.UnixMilli(1000), body, fx); err != nil {
					t.Fatal(err)
				}
				fx.Reset()
			}))
		}
		return least
	}
	base := allocs(&Effects{})
	if off := allocs(&Effects{Observers: notifyObservers{}}); off > base {
		t.Fatalf("SET allocates %v times with notifications off, %v without observers", off, base)
	}
	if on := allocs(&Effects{Observers: notifyObservers{EventKeyspace | EventKeyevent | EventAll}}); on <= base {
		t.Fatalf("SET allocates %v times with notifications on, %v without: no events made?", on, base)
	}
}

func BenchmarkApplySet(b *testing.B) {
	for _, c := range []struct {
		name    string
		classes EventClass
	}{{"notify=off", 0}, {"notify=KEA", EventKeyspace | EventKeyevent | EventAll}} {
		b.Run(c.name, func(b *testing.B) {
			txn := newMemTxn(b)
			fx := &Effects{Observers: notifyObservers{c.classes}}
			body := EncodeCommand(0, 1, argv([]string{"SET", "k", "v"}))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := Apply(txn, platform.Version{Pos: uint64(i + 1)}, time.UnixMilli(1000), body, fx); err != nil {
					b.Fatal(err)
				}
				fx.Reset()
			}
		})
	}
}
