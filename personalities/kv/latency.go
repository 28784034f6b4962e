package kv

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"hourglass/personalities/kv/keyspace"
)

// LATENCY: this node's latency monitor. With latency-monitor-threshold
// set (milliseconds; 0 is off), a command of this node's clients that
// takes that long or longer is a sample of the event "fast-command" (a
// command flagged fast) or "command" (the others). Each event keeps its
// latest latencyHistoryLen samples, one a second (the largest), and its
// all-time largest.

func init() {
	local("latency", -2, localLatency, "admin")
}

// latencyHistoryLen is how many samples an event keeps, as Redis keeps.
const latencyHistoryLen = 160

type latencySample struct{ unix, ms int64 }

type latencyEvent struct {
	samples []latencySample // oldest first
	max     int64
}

// latencyMonitor holds the events.
type latencyMonitor struct {
	mu     sync.Mutex
	events map[string]*latencyEvent
}

func (l *latencyMonitor) add(event string, unix, ms int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.events == nil {
		l.events = map[string]*latencyEvent{}
	}
	e := l.events[event]
	if e == nil {
		e = &latencyEvent{}
		l.events[event] = e
	}
	e.max = max(e.max, ms)
	if n := len(e.samples); n > 0 && e.samples[n-1].unix == unix {
		e.samples[n-1].ms = max(e.samples[n-1].ms, ms)
		return
	}
	e.samples = append(e.samples, latencySample{unix, ms})
	if len(e.samples) > latencyHistoryLen {
		e.samples = slices.Delete(e.samples, 0, 1)
	}
}

// names returns the events with samples, sorted.
func (l *latencyMonitor) names() []string {
	var out []string
	for n := range l.events {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

var latencyHelp = keyspace.HelpReply(
	"LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"DOCTOR",
	"    Return a human readable latency analysis report.",
	"GRAPH <event>",
	"    Return an ASCII latency graph for the <event> class.",
	"HISTORY <event>",
	"    Return time-latency samples for the <event> class.",
	"LATEST",
	"    Return the latest latency samples for all events.",
	"RESET [<event> ...]",
	"    Reset latency data of one or more <event> classes.",
	"    (default: reset all data for all event classes)",
	"HELP",
	"    Prints this help.",
)

// LATENCY DOCTOR's reports when nothing was sampled: with the monitor
// off, and on.
const (
	latencyOff      = "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n"
	latencyNoSpikes = "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sleep tonight.\n"
)

func localLatency(c *conn, args [][]byte) any {
	c.waitPending() // the commands sent before are sampled
	l := &c.s.latency
	l.mu.Lock()
	defer l.mu.Unlock()
	sub := strings.ToLower(string(args[1]))
	switch {
	case sub == "help" && len(args) == 2:
		return latencyHelp
	case sub == "latest" && len(args) == 2:
		out := []any{}
		for _, n := range l.names() {
			e := l.events[n]
			last := e.samples[len(e.samples)-1]
			out = append(out, []any{n, last.unix, last.ms, e.max})
		}
		return out
	case sub == "history" && len(args) == 3:
		out := []any{}
		if e := l.events[string(args[2])]; e != nil {
			for _, s := range e.samples {
				out = append(out, []any{s.unix, s.ms})
			}
		}
		return out
	case sub == "reset":
		if len(args) == 2 {
			n := len(l.events)
			l.events = nil
			return int64(n)
		}
		var n int64
		for _, a := range args[2:] {
			if _, ok := l.events[string(a)]; ok {
				delete(l.events, string(a))
				n++
			}
		}
		return n
	case sub == "doctor" && len(args) == 2:
		if len(l.events) == 0 && c.s.monitor.Load().latencyMs == 0 {
			return verbatim(latencyOff)
		}
		if len(l.events) == 0 {
			return verbatim(latencyNoSpikes)
		}
		var b strings.Builder
		b.WriteString("Latency spikes observed on this node (latency-monitor-threshold " + fmt.Sprint(c.s.monitor.Load().latencyMs) + " ms):\n\n")
		for i, n := range l.names() {
			e := l.events[n]
			var sum int64
			for _, s := range e.samples {
				sum += s.ms
			}
			fmt.Fprintf(&b, "%d. %s: %d latency spikes (average %dms, mean deviation 0ms, period 0 sec). Worst all time event %dms.\n",
				i+1, n, len(e.samples), sum/int64(len(e.samples)), e.max)
		}
		return verbatim(b.String())
	case sub == "graph" && len(args) == 3:
		if l.events[string(args[2])] == nil {
			return keyspace.Errorf("ERR No samples available for event '%s'", args[2])
		}
		return keyspace.Error("ERR LATENCY GRAPH is not built on this server")
	}
	return errSubcommand("LATENCY", args, "help", "latest", "history", "doctor", "graph")
}
