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
	for _, script := range []string{streamEntryScript, streamGroupScript, streamInfoScript, streamBlockScript} {
		diffWithRedis(t, g, "FLUSHALL\n"+script)
		diffWithRedisRESP3(t, g, script)
	}
	// Many entries, plain replies: RESP2 is enough.
	diffWithRedis(t, g, "FLUSHALL\n"+streamApproxScript()+streamRaxScript()+streamBytesScript())
}

// streamGroupScript exercises consumer groups and XREAD against
// redis-server with explicit IDs; idle times never reach the output
// (XPENDING's extended form and XCLAIM run only where they are filtered
// out or do not show them).
var streamGroupScript = strings.Join([]string{
	"XADD s 1-1 a 1", "XADD s 2-1 b 2", "XADD s 3-1 c 3", "XADD s 4-1 d 4", "XADD s 5-1 e 5",
	// XGROUP CREATE: $, explicit IDs, MKSTREAM, ENTRIESREAD and errors.
	"XGROUP CREATE s g1 0", "XGROUP CREATE s g1 0", "XGROUP CREATE s g2 $", "XGROUP CREATE s g3 2-1 ENTRIESREAD 2",
	"XGROUP CREATE nokey g 0", "XGROUP CREATE nokey g $ MKSTREAM", "TYPE nokey", "XLEN nokey",
	"XGROUP CREATE mk g 5 MKSTREAM ENTRIESREAD 3", "XGROUP CREATE s g4 x", "XGROUP CREATE s g4 0 ENTRIESREAD -2",
	"XGROUP CREATE s g4 0 ENTRIESREAD x", "XGROUP CREATE s g4 0 FOO", "XGROUP CREATE s g4 0 ENTRIESREAD",
	"XGROUP CREATE s g4 - ", "XGROUP CREATE s g4 +", "XGROUP CREATE s", "XGROUP", "XGROUP FOO", "XGROUP FOO s g",
	"XGROUP CREATE s g4 0 MKSTREAM ENTRIESREAD 1 MKSTREAM", "XGROUP DESTROY s g4",
	// XGROUP CREATECONSUMER, DELCONSUMER, SETID, DESTROY.
	"XGROUP CREATECONSUMER s g1 alice", "XGROUP CREATECONSUMER s g1 alice", "XGROUP CREATECONSUMER s nog alice",
	"XGROUP CREATECONSUMER nokey2 g1 alice", "XGROUP CREATECONSUMER s g1", "XGROUP DELCONSUMER s g1 nobody",
	"XGROUP DELCONSUMER s nog alice", "XGROUP SETID s g2 0", "XGROUP SETID s g2 $ ENTRIESREAD 5", "XGROUP SETID s g2 x",
	"XGROUP SETID s nog 0", "XGROUP SETID s g2 0 FOO 1", "XGROUP SETID s g2 0 ENTRIESREAD -3", "XGROUP SETID s g2 -",
	"XGROUP SETID s g2 0 ENTRIESREAD", "XGROUP DESTROY s g2", "XGROUP DESTROY s g2", "XGROUP DESTROY nokey3 g2",
	"XGROUP DESTROY s", "XGROUP HELP", "XGROUP HELP x",
	// XREADGROUP: new entries, history, NOACK, COUNT, errors.
	"XREADGROUP GROUP g1 alice COUNT 2 STREAMS s >", "XREADGROUP GROUP g1 bob COUNT 1 STREAMS s >",
	"XREADGROUP GROUP g1 alice STREAMS s 0", "XREADGROUP GROUP g1 alice COUNT 1 STREAMS s 1-1",
	"XREADGROUP GROUP g1 bob STREAMS s 0-0", "XREADGROUP GROUP g1 carol STREAMS s 0", "XREADGROUP GROUP g1 carol NOACK COUNT 1 STREAMS s >",
	"XPENDING s g1", "XREADGROUP GROUP g1 alice STREAMS s >", "XREADGROUP GROUP g1 alice STREAMS s >",
	"XREADGROUP GROUP nog alice STREAMS s >", "XREADGROUP GROUP g1 alice STREAMS nokey9 >",
	"XREADGROUP GROUP g1 alice STREAMS s $", "XREADGROUP GROUP g1 alice STREAMS s x", "XREADGROUP GROUP g1 alice STREAMS s",
	"XREADGROUP GROUP g1 alice STREAMS s mk > >", "XREADGROUP GROUP g1 STREAMS s >", "XREADGROUP COUNT 1 STREAMS s >",
	"XREADGROUP GROUP g1 alice COUNT x STREAMS s >", "XREADGROUP GROUP g1 alice BLOCK x STREAMS s >",
	"XREADGROUP GROUP g1 alice BLOCK -1 STREAMS s >", "XREADGROUP GROUP g1 alice FOO STREAMS s >",
	"XREADGROUP GROUP g1 alice COUNT -3 STREAMS s 0",
	// XACK.
	"XACK s g1 1-1 1-1 9-9", "XACK s g1 x", "XACK s g1 2-1 x", "XACK s nog 1-1", "XACK nokey g 1-1", "XPENDING s g1",
	// XPENDING: summary, extended with consumer and IDLE filters, errors.
	"XPENDING s g1 - + 10 nobody", "XPENDING s g1 IDLE 99999999 - + 10", "XPENDING s g1 IDLE 99999999 - + 10 alice",
	"XPENDING s g1 - + 0", "XPENDING s g1 - + -1", "XPENDING s g1 - + x", "XPENDING s g1 x + 1", "XPENDING s g1 - x 1",
	"XPENDING s g1 IDLE 99999999 (5 + 1", "XPENDING s g1 (5 + 1 nobody", "XPENDING s g1 IDLE x - + 1", "XPENDING s g1 IDLE 1 - +", "XPENDING s g1 - +",
	"XPENDING s g1 - + 1 a b", "XPENDING s nog", "XPENDING nokey g", "XPENDING s g3", "XPENDING mk g",
	// XCLAIM: min-idle too high claims nothing; JUSTID, FORCE, LASTID, errors.
	"XCLAIM s g1 bob 99999999 2-1", "XCLAIM s g1 bob 99999999 2-1 JUSTID", "XCLAIM s g1 bob 99999999 9-9 FORCE JUSTID",
	"XCLAIM s g1 bob 0 2-1 JUSTID LASTID 4-1", "XCLAIM s g1 bob 0 2-1 x", "XCLAIM s g1 bob x 2-1",
	"XCLAIM s g1 bob 0 2-1 IDLE x", "XCLAIM s g1 bob 0 2-1 TIME x", "XCLAIM s g1 bob 0 2-1 RETRYCOUNT x",
	"XCLAIM s g1 bob 0 2-1 LASTID x", "XCLAIM s nog bob 0 2-1", "XCLAIM nokey g1 bob 0 2-1", "XCLAIM s g1 bob 0 x",
	"XCLAIM s g1 bob 0 2-1 IDLE", "XPENDING s g1",
	// XAUTOCLAIM: cursor, COUNT, JUSTID, deleted entries, errors.
	"XAUTOCLAIM s g1 dave 99999999 0", "XAUTOCLAIM s g1 dave 99999999 0 COUNT 1 JUSTID", "XAUTOCLAIM s g1 dave 0 0 COUNT 1 JUSTID",
	"XDEL s 3-1", "XAUTOCLAIM s g1 dave 0 0 JUSTID", "XPENDING s g1", "XAUTOCLAIM s g1 dave 0 0 COUNT 0",
	"XAUTOCLAIM s g1 dave 0 0 COUNT x", "XAUTOCLAIM s g1 dave 0 x", "XAUTOCLAIM s g1 dave x 0", "XAUTOCLAIM s g1 dave 0 0 FOO",
	"XAUTOCLAIM s nog dave 0 0", "XAUTOCLAIM nokey g dave 0 0", "XAUTOCLAIM s g1 dave 0 (0", "XAUTOCLAIM s g1 dave 0 0 COUNT 9223372036854775807",
	// XREADGROUP history shows deleted entries as nil.
	"XREADGROUP GROUP g1 dave STREAMS s 0", "XDEL s 4-1", "XREADGROUP GROUP g1 dave STREAMS s 0",
	// XGROUP DELCONSUMER drops its pending entries.
	"XGROUP DELCONSUMER s g1 dave", "XPENDING s g1", "XGROUP CREATECONSUMER s g1 erin", "XGROUP DELCONSUMER s g1 erin",
	// XREAD: several streams, $, COUNT and errors.
	"XADD t 1-1 x 1", "XADD t 2-1 y 2", "XREAD STREAMS s t 0 0", "XREAD COUNT 1 STREAMS s t 1-1 1-1", "XREAD STREAMS s t $ $",
	"XREAD STREAMS s nokey 0 0", "XREAD STREAMS nokey 0", "XREAD STREAMS s 5-1", "XREAD STREAMS s >", "XREAD STREAMS s x",
	"XREAD STREAMS s", "XREAD STREAMS s t 0", "XREAD COUNT x STREAMS s 0", "XREAD GROUP g c STREAMS s 0",
	"XREAD NOACK STREAMS s 0", "XREAD FOO STREAMS s 0", "XREAD COUNT 0 STREAMS s 0", "XREAD STREAMS s (0",
	"XREAD STREAMS s -", "XREAD STREAMS s +",
	// Groups go with the key; wrong types.
	"DEL s", "XGROUP CREATE s g1 0 MKSTREAM", "XPENDING s g1", "XREADGROUP GROUP g1 a STREAMS s >",
	"SET str x", "XGROUP CREATE str g 0", "XGROUP CREATE str g 0 MKSTREAM", "XREADGROUP GROUP g a STREAMS str >",
	"XREAD STREAMS str 0", "XACK str g 1-1", "XPENDING str g", "XCLAIM str g a 0 1-1", "XAUTOCLAIM str g a 0 0",
	"XGROUP DESTROY str g", "XGROUP SETID str g 0", "XGROUP CREATECONSUMER str g a",
}, "\n") + "\n"

// streamInfoScript exercises XINFO against redis-server; its consumers
// and pending entries (whose times differ between servers) show only
// through counts.
var streamInfoScript = strings.Join([]string{
	"XGROUP CREATE e g $ MKSTREAM", "XINFO STREAM e", "XINFO STREAM e FULL", "XINFO GROUPS e", "XINFO CONSUMERS e g",
	"XADD s 1-1 a 1", "XADD s 2-1 b 2", "XADD s 3-1 c 3", "XINFO STREAM s", "XINFO STREAM s FULL", "XINFO GROUPS s",
	"XDEL s 2-1", "XGROUP CREATE s g 0", "XGROUP CREATE s h 1-1", "XGROUP CREATE s i $ ENTRIESREAD 3", "XINFO GROUPS s",
	"XINFO STREAM s FULL", "XINFO STREAM s FULL COUNT 1", "XINFO STREAM s FULL COUNT 0", "XINFO STREAM s FULL COUNT -1",
	"XREADGROUP GROUP g alice COUNT 1 STREAMS s >", "XINFO GROUPS s", "XREADGROUP GROUP g alice STREAMS s >", "XINFO GROUPS s",
	"XREADGROUP GROUP h bob NOACK STREAMS s >", "XINFO GROUPS s", "XADD s 4-1 d 4", "XINFO GROUPS s", "XINFO STREAM s",
	"XDEL s 1-1", "XINFO STREAM s", "XINFO GROUPS s", "XDEL s 3-1 4-1", "XINFO STREAM s", "XINFO GROUPS s",
	"XSETID s 10-0 ENTRIESADDED 20 MAXDELETEDID 9-0", "XINFO STREAM s", "XINFO GROUPS s", "XADD s 11-1 x y", "XINFO GROUPS s",
	"XGROUP SETID s g 11-1 ENTRIESREAD 21", "XINFO GROUPS s", "XGROUP SETID s h 0 ENTRIESREAD 1", "XINFO GROUPS s",
	// Errors.
	"XINFO", "XINFO FOO", "XINFO FOO s", "XINFO STREAM", "XINFO STREAM nokey", "XINFO STREAM nokey FOO", "XINFO GROUPS nokey",
	"XINFO CONSUMERS nokey g", "XINFO CONSUMERS s nog", "XINFO CONSUMERS s", "XINFO GROUPS s x", "XINFO STREAM s FOO",
	"XINFO STREAM s FULL COUNT", "XINFO STREAM s FULL COUNT x", "XINFO STREAM s FULL FOO 1", "XINFO STREAM s FULL COUNT 1 x",
	"XINFO HELP", "XINFO HELP x", "XINFO help", "SET str x", "XINFO STREAM str", "XINFO GROUPS str", "XINFO CONSUMERS str g",
	// COMMAND GETKEYS finds the keys that move (those of the blocking
	// commands that count their keys too).
	"COMMAND GETKEYS XREAD STREAMS a b 0 0", "COMMAND GETKEYS XREAD BLOCK 10 STREAMS a 0", "COMMAND GETKEYS XREAD STREAMS a b 0",
	"COMMAND GETKEYS XREADGROUP GROUP g c STREAMS a b > >", "COMMAND GETKEYS XREAD COUNT x STREAMS a 0",
	"COMMAND GETKEYS XREAD COUNT 1 x a 0", "COMMAND GETKEYS XGROUP CREATE s g 0", "COMMAND GETKEYS XGROUP HELP",
	"COMMAND GETKEYS XGROUP FOO s", "COMMAND GETKEYS XINFO STREAM s", "COMMAND GETKEYS XINFO HELP",
	"COMMAND GETKEYS XGROUP CREATECONSUMER s g c", "COMMAND GETKEYS XADD s * a b", "COMMAND GETKEYS BLMPOP 0 2 a b LEFT",
	"COMMAND GETKEYS BLMPOP 0 5 a b LEFT", "COMMAND GETKEYS BZMPOP 0 1 a MIN", "COMMAND GETKEYS BLPOP a b 0",
}, "\n") + "\n"

// streamRaxScript fills streams with many nodes, so that XINFO STREAM's
// radix-tree-keys and radix-tree-nodes count Redis's listpacks and the
// radix tree over them.
func streamRaxScript() string {
	var b strings.Builder
	for i := 1; i <= 450; i++ {
		fmt.Fprintf(&b, "XADD r %d-%d f v\n", 1000+i*i*i, i%3)
		if i%97 == 0 {
			b.WriteString("XINFO STREAM r\n")
		}
	}
	for i := 0; i < 250; i++ {
		fmt.Fprintf(&b, "XADD q %d-0 f v\n", (i*(i+1)/2)<<uint(i%40))
	}
	for _, l := range []string{"XINFO STREAM q", "XTRIM q MAXLEN ~ 120", "XINFO STREAM q", "XTRIM r MAXLEN ~ 250",
		"XINFO STREAM r", "XTRIM r MAXLEN 3", "XINFO STREAM r"} {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// streamBlockScript covers XREAD and XREADGROUP with BLOCK where nothing
// arrives (short timeouts) or something is there already, in MULTI, and
// in scripts, which refuse BLOCK.
var streamBlockScript = strings.Join([]string{
	"XADD s 1-1 a 1", "XADD s 2-1 b 2", "XGROUP CREATE s g 0", "XREADGROUP GROUP g c COUNT 1 STREAMS s >",
	"XREAD BLOCK 10 STREAMS s nokey $ $", "XREAD BLOCK 10 STREAMS s 1-1", "XREAD BLOCK 10 STREAMS s 2-1",
	"XREADGROUP GROUP g c BLOCK 10 STREAMS s 0", "XREADGROUP GROUP g c BLOCK 10 STREAMS s >",
	"XREADGROUP GROUP g c BLOCK 10 STREAMS s >", "XREADGROUP GROUP g c BLOCK 10 NOACK STREAMS s 0",
	"XREAD BLOCK x STREAMS s 0", "XREAD BLOCK -1 STREAMS s 0", "XREAD BLOCK 1.5 STREAMS s 0",
	"XREAD BLOCK 9223372036854775808 STREAMS s 0", "XREAD BLOCK 10 STREAMS s x", "XREAD BLOCK 10 STREAMS s",
	"XREADGROUP GROUP nog c BLOCK 10 STREAMS s >", "XREADGROUP GROUP g c BLOCK 10 STREAMS s $",
	`XREADGROUP GROUP g c "\x00block-retried" 10 STREAMS s >`, `XREAD "\x00block-retried" 10 STREAMS s $`,
	"MULTI", "XREAD BLOCK 0 STREAMS s $", "XREADGROUP GROUP g c BLOCK 0 STREAMS s >", "XADD s 3-1 c 3",
	"XREADGROUP GROUP g c BLOCK 0 STREAMS s >", "EXEC",
	`EVAL "return redis.call('XREAD','BLOCK','0','STREAMS','s','$')" 0`,
	`EVAL "return redis.call('xread','COUNT','1','BLOCK','x','STREAMS','s','$')" 0`,
	`EVAL "return redis.call('XREAD','COUNT','x','BLOCK','0','STREAMS','s','$')" 0`,
	`EVAL "return redis.call('XREAD','STREAMS','s','0')" 0`,
	`EVAL "return redis.call('XREADGROUP','GROUP','g','d','BLOCK','0','STREAMS','s','>')" 1 s`,
	`EVAL "return redis.call('XREADGROUP','GROUP','g','d','STREAMS','s','0')" 1 s`,
}, "\n") + "\n"

// streamBytesScript fills streams with entries of many sizes and shapes,
// so that nodes close at stream-node-max-bytes as Redis's listpacks do:
// approximate trimming and XINFO STREAM's counts show where.
func streamBytesScript() string {
	var b strings.Builder
	values := []string{"5", "300", "70000", "10000000", "5000000000", "-3", "-0", "007", "", strings.Repeat("v", 63),
		strings.Repeat("w", 64), strings.Repeat("x", 150), "12345678901234567890", "-9223372036854775808"}
	for i := 1; i <= 240; i++ {
		v := values[i%len(values)]
		switch i % 7 {
		case 0: // other fields than the master entry's
			fmt.Fprintf(&b, "XADD b %d-%d g %q h %q\n", i*1000, i%4, v, v)
		case 3: // fewer fields
			fmt.Fprintf(&b, "XADD b %d-%d f %q\n", i*1000, i%4, v)
		default:
			fmt.Fprintf(&b, "XADD b %d-%d f %q g %q\n", i*1000, i%4, v, strings.Repeat("y", i%90))
		}
		if i%40 == 0 {
			b.WriteString("XINFO STREAM b\n")
		}
	}
	for _, l := range []string{
		"XDEL b 2000-2 3000-3 4000-0", "XINFO STREAM b", "XTRIM b MAXLEN ~ 200", "XLEN b", "XTRIM b MAXLEN ~ 150", "XLEN b",
		"XTRIM b MINID ~ 150000", "XLEN b", "XINFO STREAM b", "XTRIM b MAXLEN 100", "XINFO STREAM b",
		// Negative seq and 64-bit ms differences from the master entry.
		"XADD n 1-5 f v", "XADD n 2-0 f v", "XADD n 5000000000000-1 f v", "XADD n 5000000000000-99999999999 f v",
		"XINFO STREAM n",
		// Strings of 4096 bytes and more.
		"XADD l 1-1 f " + strings.Repeat("z", 4100), "XADD l 2-1 f v", "XADD l 3-1 " + strings.Repeat("k", 5000) + " v",
		"XADD l 4-1 f v", "XINFO STREAM l",
	} {
		b.WriteString(l + "\n")
	}
	for i := 1; i <= 60; i++ {
		fmt.Fprintf(&b, "XADD m %d-1 f %s\n", i, strings.Repeat("q", 60+i))
		if i%3 == 0 {
			fmt.Fprintf(&b, "XDEL m %d-1\n", i-1)
		}
	}
	for _, l := range []string{"XINFO STREAM m", "XTRIM m MAXLEN ~ 30", "XLEN m", "XINFO STREAM m"} {
		b.WriteString(l + "\n")
	}
	return b.String()
}
