package kv

import (
	"strings"
	"testing"
	"time"
)

func TestSlowArgsTruncatesAsRedis(t *testing.T) {
	args := [][]byte{[]byte("SET"), []byte("k"), []byte(strings.Repeat("v", 130))}
	got := slowArgs(args)
	if want := strings.Repeat("v", 128) + "... (2 more bytes)"; string(got[2]) != want {
		t.Fatalf("long argument kept as %q", got[2])
	}
	var many [][]byte
	for range 40 {
		many = append(many, []byte("a"))
	}
	got = slowArgs(many)
	if len(got) != 32 || string(got[31]) != "... (9 more arguments)" || string(got[30]) != "a" {
		t.Fatalf("40 arguments kept as %d, last %q", len(got), got[len(got)-1])
	}
	if got := slowArgs(many[:32]); len(got) != 32 || string(got[31]) != "a" {
		t.Fatalf("32 arguments kept as %d, last %q", len(got), got[31])
	}
}

func TestSlowlogKeepsNewestUpToMaxLen(t *testing.T) {
	var l slowlog
	m := &monitorSettings{slowerThan: 10, slowMaxLen: 2}
	for i, d := range []time.Duration{5, 20, 30, 40} {
		l.add(m, "addr", "", [][]byte{[]byte{byte('a' + i)}}, time.Unix(0, 0), d*time.Microsecond)
	}
	if len(l.entries) != 2 || l.entries[0].id != 1 || l.entries[1].id != 2 || string(l.entries[1].args[0]) != "d" {
		t.Fatalf("entries %+v", l.entries)
	}
	m.slowerThan = -1
	l.add(m, "addr", "", nil, time.Unix(0, 0), time.Second)
	if l.next != 3 {
		t.Fatalf("logged with slowlog-log-slower-than -1")
	}
}

func TestLatencyMonitorKeepsOneSamplePerSecond(t *testing.T) {
	var l latencyMonitor
	l.add("command", 100, 5)
	l.add("command", 100, 9)
	l.add("command", 101, 3)
	e := l.events["command"]
	if len(e.samples) != 2 || e.samples[0].ms != 9 || e.max != 9 {
		t.Fatalf("samples %+v max %d", e.samples, e.max)
	}
	for i := range latencyHistoryLen + 10 {
		l.add("fast-command", int64(i), 1)
	}
	if n := len(l.events["fast-command"].samples); n != latencyHistoryLen {
		t.Fatalf("%d samples kept", n)
	}
}

func TestPauseHoldsByMode(t *testing.T) {
	var p pauseState
	now := time.Now()
	p.set(now.Add(time.Minute), false)
	if ch, _ := p.held(false, now); ch != nil {
		t.Fatal("a WRITE pause holds a read")
	}
	if ch, left := p.held(true, now); ch == nil || left <= 0 {
		t.Fatal("a WRITE pause does not hold a write")
	}
	p.set(now.Add(time.Second), true) // stricter mode, earlier end
	if ch, left := p.held(false, now); ch == nil || left < 59*time.Second {
		t.Fatalf("the later end and the stricter mode do not both hold (left %v)", left)
	}
	ch, _ := p.held(true, now)
	p.end()
	select {
	case <-ch:
	default:
		t.Fatal("UNPAUSE does not wake the held")
	}
	if ch, _ := p.held(true, now); ch != nil {
		t.Fatal("held after UNPAUSE")
	}
}

func TestPauseFarInTheFuture(t *testing.T) {
	var p pauseState
	now := time.Now()
	p.set(time.UnixMilli(1<<60), false)
	if p.over(now) {
		t.Fatal("a pause ending in the year 36 million is over")
	}
	p.end()
	if !p.over(now) {
		t.Fatal("a pause ended by UNPAUSE is not over")
	}
}

func TestStrtod(t *testing.T) {
	for in, want := range map[string]float64{"0.5": 0.5, "x": 0, " 2abc": 2, "": 0, "-1": -1, "1e-3": 0.001} {
		if got := strtod([]byte(in)); got != want {
			t.Errorf("strtod(%q) = %v, want %v", in, got, want)
		}
	}
}
