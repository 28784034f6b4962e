package conformance

import (
	"fmt"
	"strings"
	"testing"
)

// streamEntryScript exercises the stream entry commands against
// redis-server with explicit IDs only (auto IDs come from each server's
// clock), errors and edge cases included.
var streamEntryScript = strings.Join([]string{
	// XADD with explicit IDs, ms-* and its errors.
	"XADD s 1-1 a 1", "XADD s 1-2 b 2 c 3", "XADD s 1-2 x y", "XADD s 1-1 x y", "XADD s 0-5 x y",
	"XADD s 1-* d 4", "XADD s 2-* e 5", "XADD s 2 f 6", "XADD s 3 g 7", "XADD s 3-0 g 7",
	"XADD s 0-0 x y", "XADD s 0 x y", "XADD n 0-* x y", "XADD n 0-* x y", "XADD n2 0-1 x y",
	"XADD s 4-1 a", "XADD s 4-1 a b c", "XADD s 4-1", "XADD s", "XADD s * ", "XADD s MAXLEN 5 *",
	"XADD s x-1 a b", "XADD s 1-x a b", "XADD s - a b", "XADD s + a b", "XADD s -1 a b", "XADD s 1- a b",
	"XADD s 5-*x a b", "XADD s *-1 a b", "XADD s 18446744073709551616-0 a b", "XADD s 007-1 a b", `XADD s " 8" a b`,
	"XADD s +9 a b", "XADD s 10--1 a b", "XADD s 11-01 a b", `XADD s "" a b`,
	"XLEN s", "XLEN nokey", "XRANGE s - +", "XREVRANGE s + -",
	// NOMKSTREAM.
	"XADD nomk NOMKSTREAM 1-1 a b", "EXISTS nomk", "XADD s NOMKSTREAM 20-1 h 8", "XADD s nomkstream * ",
	// XRANGE, XREVRANGE: bounds, exclusive bounds, COUNT.
	"XRANGE s 1 1", "XRANGE s 1-2 2", "XRANGE s (1-2 (3", "XRANGE s (1-1 + COUNT 2", "XRANGE s - + COUNT 0",
	"XRANGE s - + COUNT -5", "XRANGE s - + COUNT 1 COUNT 3", "XRANGE s - + COUNT", "XRANGE s - + COUNT x",
	"XRANGE s - + FOO", "XRANGE s 5 1", "XRANGE s x +", "XRANGE s - x", "XRANGE s (- +", "XRANGE s - (+",
	"XRANGE s (18446744073709551615-18446744073709551615 +", "XRANGE s - (0-0", "XRANGE s (0 +", "XRANGE s ( +",
	"XRANGE s - (", "XREVRANGE s (3 (1 COUNT 2", "XREVRANGE s 2 1", "XREVRANGE s - +", "XREVRANGE s + - COUNT 0",
	"XREVRANGE s + (18446744073709551615-18446744073709551615", "XRANGE nokey - +", "XREVRANGE nokey + -",
	"XRANGE nokey - + COUNT 0", "XRANGE s", "XRANGE s -",
	// XDEL.
	"XDEL s 1-2 1-2 9-9", "XDEL s x", "XDEL s 1-3 x", "XLEN s", "XDEL nokey x", "XDEL nokey 1-1", "XRANGE s - +",
	// XTRIM: exact and approximate, MAXLEN and MINID, LIMIT, errors.
	"XTRIM s MAXLEN 4", "XRANGE s - +", "XTRIM s MAXLEN = 3", "XTRIM s MINID 3", "XTRIM s MINID = 3-0",
	"XRANGE s - +", "XTRIM s MAXLEN ~ 0", "XLEN s", "XTRIM s MINID ~ 99", "XLEN s",
	"XTRIM s MAXLEN -1", "XTRIM s MAXLEN x", "XTRIM s MINID x", "XTRIM s MAXLEN 1 LIMIT 5", "XTRIM s MAXLEN ~ 1 LIMIT -1",
	"XTRIM s MAXLEN ~ 1 LIMIT x", "XTRIM s MAXLEN 1 MINID 1", "XTRIM s LIMIT 5", "XTRIM s LIMIT 0 MAXLEN 1",
	"XTRIM s FOO 1", "XTRIM s MAXLEN", "XTRIM s MAXLEN ~", "XTRIM s MAXLEN = x", "XTRIM nokey MAXLEN 1", "XTRIM s",
	"XTRIM nokey MAXLEN x",
	// XADD with trimming.
	"XADD s MAXLEN 2 21-1 i 9", "XADD s MAXLEN = 2 22-1 j 10", "XRANGE s - +", "XADD s MINID 22 23-1 k 11",
	"XADD s MINID ~ 99 24-1 l 12", "XADD s MAXLEN ~ 0 LIMIT 10 25-1 m 13", "XRANGE s - +",
	"XADD s LIMIT 5 26-1 x y", "XADD s MAXLEN 1 LIMIT 5 26-1 x y", "XADD s MAXLEN -1 26-1 x y",
	"XADD s MAXLEN 1 MINID 1 26-1 x y", "XADD s LIMIT 0 26-1 x y", "XRANGE s - +",
	// XSETID.
	"XSETID s 100-0", "XADD s 99-1 a b", "XADD s 100-* a b", "XSETID s 1-1", "XSETID nokey 1-1", "XSETID s x",
	"XSETID s 200-0 ENTRIESADDED 1", "XSETID s 200-0 ENTRIESADDED 50 MAXDELETEDID 150-0", "XSETID s 140-0",
	"XSETID s 200-0 MAXDELETEDID 300-0", "XSETID s 200-0 ENTRIESADDED -1", "XSETID s 200-0 ENTRIESADDED x",
	"XSETID s 200-0 FOO 1", "XSETID s 200-0 ENTRIESADDED", "XSETID s 18446744073709551615-18446744073709551615",
	"XADD s * a b", "XADD s 5-* a b", "XLEN s",
	// An empty stream stays.
	"XADD e 1-1 a b", "XDEL e 1-1", "EXISTS e", "XLEN e", "TYPE e", "XRANGE e - +", "XADD e 1-1 a b", "XADD e 1-2 a b",
	"XTRIM e MAXLEN 0", "EXISTS e",
	// Wrong type, and argument errors before the type check.
	"SET str x", "XADD str 1-1 a b", "XADD str NOMKSTREAM 1-1 a b", "XLEN str", "XRANGE str - +", "XREVRANGE str + -",
	"XDEL str 1-1", "XTRIM str MAXLEN 1", "XSETID str 1-1", "XRANGE str x +", "XTRIM str MAXLEN x", "XADD str 0-0 a b",
	"TYPE s", "TYPE str", "DEL s e", "EXISTS s",
	// Binary and empty fields and values.
	`XADD b 1-1 "" "" "a b" "\x00\xff"`, "XRANGE b - +",
}, "\n") + "\n"

// streamApproxScript fills streams past one node (100 entries), so that
// approximate trimming removes whole nodes, as Redis does.
func streamApproxScript() string {
	var b strings.Builder
	for i := 1; i <= 250; i++ {
		fmt.Fprintf(&b, "XADD big %d-1 f v\n", i)
	}
	for _, l := range []string{
		"XTRIM big MAXLEN ~ 180", "XLEN big", "XTRIM big MAXLEN ~ 149", "XLEN big", "XTRIM big MAXLEN ~ 50 LIMIT 10",
		"XLEN big", "XTRIM big MAXLEN ~ 50 LIMIT 100", "XLEN big", "XRANGE big - + COUNT 1",
		"XDEL big 220-1 221-1", "XTRIM big MINID ~ 230", "XLEN big", "XTRIM big MINID ~ 251", "XLEN big",
		"XRANGE big - + COUNT 2", "XADD big MAXLEN ~ 10 251-1 f v", "XLEN big", "XTRIM big MAXLEN 10", "XLEN big",
		"XRANGE big - + COUNT 1",
	} {
		b.WriteString(l + "\n")
	}
	for i := 1; i <= 120; i++ {
		fmt.Fprintf(&b, "XADD del %d-1 f v\n", i)
	}
	for i := 1; i <= 100; i++ {
		fmt.Fprintf(&b, "XDEL del %d-1\n", i)
	}
	for _, l := range []string{
		"XLEN del", "XTRIM del MAXLEN ~ 5", "XLEN del", "XTRIM del MINID ~ 121", "XLEN del", "XRANGE del - + COUNT 1",
	} {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// TestRedisStreamsMatchRedisServer diffs the stream commands against
// redis-server, in RESP2 (raw and formatted) and RESP3.
func TestRedisStreamsMatchRedisServer(t *testing.T) {
	g := startGateway(t)
	for _, script := range []string{streamEntryScript, streamApproxScript()} {
		diffWithRedis(t, g, "FLUSHALL\n"+script)
		diffWithRedisRESP3(t, g, script)
	}
}
