package conformance

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// bitmapScript exercises every bitmap command against redis-server:
// offsets at the limits, ranges in bytes and bits, searches that find
// nothing, every BITFIELD overflow mode at the type extremes, bad
// arguments in Redis's order, wrong types, and bitmaps read and written
// as the strings they are.
var bitmapScript = strings.Join([]string{
	"DEL b s t d",
	// SETBIT, GETBIT: growth with zero bytes, the string commands see it.
	"SETBIT b 7 1", "SETBIT b 7 1", "SETBIT b 7 0", "SETBIT b 0 1", "GET b", "STRLEN b",
	"SETBIT b 100 1", "STRLEN b", "GETRANGE b 0 -1", "GETBIT b 100", "GETBIT b 101", "GETBIT b 0",
	"GETBIT b 99999", "GETBIT nokey 0", "GETBIT nokey 4294967295",
	"SET s a", "SETBIT s 6 1", "GET s", "SETBIT s 14 1", "GET s", "APPEND s xyz", "GETBIT s 17",
	"SET n 12", "SETBIT n 7 1", "GET n", "INCR n", "GETBIT n 6",
	// A HyperLogLog is a string too: bit commands read and change it.
	"PFADD hll a b c", "BITCOUNT hll 0 3", "GETBIT hll 0", "BITFIELD hll GET u8 4", "BITPOS hll 1 4",
	"SETBIT hll 40 1", "PFCOUNT hll", "SETBIT hll 3 0", "PFCOUNT hll", "PFADD hll d",
	"BITOP OR hll2 hll hll", "PFCOUNT hll2", "SETBIT hll 1 0", "PFCOUNT hll", "PFADD hll e",
	// Offset and value errors, in Redis's order.
	"SETBIT b -1 1", "SETBIT b 4294967296 1", "SETBIT b 99999999999999999999 1", "SETBIT b x 1",
	"SETBIT b 1.5 1", "SETBIT b +1 1", "SETBIT b 01 1", "SETBIT b 0 2", "SETBIT b 0 -1",
	"SETBIT b 0 x", "SETBIT b x x", "SETBIT b", "SETBIT b 1", "SETBIT b 1 1 1",
	"GETBIT b -1", "GETBIT b 4294967296", "GETBIT b x", "GETBIT b", "GETBIT b 1 1",
	"GETBIT b 4294967295",
	// BITCOUNT: bytes and bits, negative and out-of-range ends.
	"SET c foobar", "BITCOUNT c", "BITCOUNT c 0 0", "BITCOUNT c 1 1", "BITCOUNT c 0 -1",
	"BITCOUNT c -2 -1", "BITCOUNT c -1 -2", "BITCOUNT c -100 -1", "BITCOUNT c -100 -200",
	"BITCOUNT c 2 100", "BITCOUNT c 100 200", "BITCOUNT c 3 1",
	"BITCOUNT c 1 1 BYTE", "BITCOUNT c 5 30 BIT", "BITCOUNT c 5 30 bit", "BITCOUNT c 0 0 BIT",
	"BITCOUNT c 1 1 BIT", "BITCOUNT c 7 8 BIT", "BITCOUNT c -1 -1 BIT", "BITCOUNT c -9 -2 BIT",
	"BITCOUNT c 0 1000 BIT", "BITCOUNT c -1000 1000 BIT", "BITCOUNT c 47 47 BIT",
	"BITCOUNT c 9 3 BIT", "BITCOUNT c -1 -5 BIT", "BITCOUNT c 0 -1 BIT",
	"BITCOUNT c 1", "BITCOUNT c 1 2 BIT x", "BITCOUNT c 1 2 WORD", "BITCOUNT c x 1", "BITCOUNT c 1 x",
	"BITCOUNT c -1 -2 WORD", "BITCOUNT c 1 x WORD", "BITCOUNT c 1.5 2",
	"BITCOUNT nokey", "BITCOUNT nokey 0 -1", "BITCOUNT nokey 0", "BITCOUNT nokey x y",
	"BITCOUNT nokey 0 1 WORD", "BITCOUNT", "SET empty \"\"", "BITCOUNT empty", "BITCOUNT empty 0 -1 BIT",
	// BITPOS: set and clear bits, ranges, searches past the end.
	"SET p \"\\xff\\xf0\\x00\"", "BITPOS p 0", "BITPOS p 1", "BITPOS p 0 1", "BITPOS p 1 2",
	"BITPOS p 1 2 -1", "BITPOS p 0 0 0", "BITPOS p 0 0 0 BYTE", "BITPOS p 0 0 7 BIT",
	"BITPOS p 0 0 11 BIT", "BITPOS p 0 0 12 BIT", "BITPOS p 1 12 BIT", "BITPOS p 1 12 -1 BIT",
	"BITPOS p 1 3 5 BIT", "BITPOS p 0 3 5 BIT", "BITPOS p 1 -9 -1 BIT", "BITPOS p 1 -100 -1",
	"BITPOS p 0 -100 -200", "BITPOS p 1 -100 -200", "BITPOS p 1 5 2", "BITPOS p 0 100",
	"BITPOS p 1 100", "BITPOS p 0 1 1000", "BITPOS p 0 8 BIT", "BITPOS p 1 8 100 BIT",
	"SET ones \"\\xff\\xff\\xff\"", "BITPOS ones 0", "BITPOS ones 0 0", "BITPOS ones 0 1",
	"BITPOS ones 0 0 -1", "BITPOS ones 0 0 2", "BITPOS ones 0 3 BIT", "BITPOS ones 0 3 23 BIT",
	"BITPOS ones 0 3 -1 BIT", "BITPOS ones 0 20 BIT", "BITPOS ones 1 0 -1", "BITPOS ones 0 -1",
	"SET zeros \"\\x00\\x00\"", "BITPOS zeros 1", "BITPOS zeros 0", "BITPOS zeros 1 0 -1 BIT",
	"BITPOS zeros 0 9 BIT", "BITPOS zeros 0 1 1",
	"BITPOS nokey 0", "BITPOS nokey 1", "BITPOS nokey 0 5 10", "BITPOS nokey 1 x y z w",
	"BITPOS empty 0", "BITPOS empty 1", "BITPOS empty 0 0 -1",
	"BITPOS p 2", "BITPOS p -1", "BITPOS p x", "BITPOS nokey 2", "BITPOS p 1 x", "BITPOS p 1 0 x",
	"BITPOS p 1 0 1 WORD", "BITPOS p 1 0 x WORD", "BITPOS p 1 x 1 WORD", "BITPOS p 1 0 1 BIT x",
	"BITPOS p", "BITPOS",
	// BITOP: every operation, unequal lengths, missing keys, deletion.
	"SET k1 foobar", "SET k2 abcdef", "SET k3 \"\\x0f\"",
	"BITOP AND d k1 k2", "GET d", "BITOP or d k1 k2 k3", "GET d", "BITOP XOR d k1 k2 k3", "GET d",
	"BITOP NOT d k3", "GET d", "BITOP NOT d k1", "GET d", "BITOP AND d k1 k3", "GET d",
	"BITOP AND d k1 nokey", "GET d", "STRLEN d", "BITOP OR d nokey k3", "GET d",
	"BITOP XOR d k1 k1", "GET d", "BITOP AND d d", "GET d",
	"SET d x", "EXPIRE d 100", "BITOP OR d k3", "TTL d", "GET d",
	"BITOP AND d nokey", "EXISTS d", "SET d x", "BITOP OR d nokey nokey2", "EXISTS d",
	"BITOP NOT d empty", "EXISTS d", "BITOP XOR d empty empty", "EXISTS d",
	"HSET h f v", "BITOP NOT h nokey", "EXISTS h", "TYPE h", "HSET h f v", "BITOP OR h k1", "TYPE h", "GET h",
	"BITOP NOT d k1 k2", "BITOP NOT d", "BITOP NOR d k1", "BITOP AND d", "BITOP", "BITOP nand d k1",
	"HSET h2 f v", "BITOP AND d k1 h2", "BITOP NOT d h2", "BITOP OR d nokey h2", "BITOP NOR d h2",
	// BITFIELD: GET, SET, INCRBY, the three overflow modes.
	"DEL f", "BITFIELD f SET u8 0 255", "BITFIELD f GET u8 0 GET i8 0 GET u4 4 GET i4 4 GET u1 7",
	"GET f", "BITFIELD f INCRBY u8 0 1", "BITFIELD f OVERFLOW SAT INCRBY u8 0 300", "BITFIELD f OVERFLOW FAIL INCRBY u8 0 1",
	"BITFIELD f GET u8 0", "BITFIELD f OVERFLOW WRAP INCRBY u8 0 -256", "BITFIELD f INCRBY u8 0 -1",
	"BITFIELD f OVERFLOW SAT INCRBY u8 0 -1000", "BITFIELD f OVERFLOW FAIL INCRBY u8 0 -1 INCRBY u8 0 1",
	"BITFIELD f SET i8 8 127 INCRBY i8 8 1 OVERFLOW SAT INCRBY i8 8 1 INCRBY i8 8 -300 OVERFLOW FAIL INCRBY i8 8 -1 GET i8 8",
	"BITFIELD f OVERFLOW SAT SET i8 8 200 SET i8 8 -200 SET u8 16 -1 SET u8 16 300 GET u8 16",
	"BITFIELD f OVERFLOW WRAP SET i8 8 200 SET i8 8 -200 SET u8 16 -1 SET u8 16 300 GET u8 16",
	"BITFIELD f OVERFLOW FAIL SET i8 8 200 SET u8 16 -1 SET u8 16 255 GET u8 16",
	"BITFIELD f OVERFLOW SAT SET i8 24 -9223372036854775808 SET i8 24 9223372036854775807 GET i8 24",
	// Type extremes: i64, u63, i1, u1.
	"BITFIELD x SET i64 0 9223372036854775807 INCRBY i64 0 1 GET i64 0",
	"BITFIELD x OVERFLOW SAT INCRBY i64 0 -1 INCRBY i64 0 -9223372036854775808 INCRBY i64 0 -9223372036854775808 INCRBY i64 0 9223372036854775807 INCRBY i64 0 9223372036854775807",
	"BITFIELD x OVERFLOW FAIL SET i64 0 -9223372036854775808 INCRBY i64 0 -1 INCRBY i64 0 9223372036854775807 INCRBY i64 0 1 GET i64 0",
	"BITFIELD x SET u63 64 9223372036854775807 INCRBY u63 64 1 INCRBY u63 64 -1 GET u63 64",
	"BITFIELD x OVERFLOW SAT INCRBY u63 64 9223372036854775807 INCRBY u63 64 9223372036854775807 INCRBY u63 64 -9223372036854775808 SET u63 64 -1",
	"BITFIELD x OVERFLOW FAIL SET u63 64 -1 INCRBY u63 64 -1 INCRBY u63 64 9223372036854775807 GET u63 64 GET u63 65",
	"BITFIELD x SET i1 0 1 GET i1 0 INCRBY i1 0 1 SET u1 1 2 GET u1 1 OVERFLOW SAT INCRBY i1 0 5 INCRBY u1 1 5 INCRBY i1 0 -5",
	"BITFIELD x GET i64 3 GET u63 5 GET i64 130 GET u63 126", "STRLEN x",
	// Positional offsets and unaligned fields.
	"DEL y", "BITFIELD y SET u8 #0 1 SET u8 #1 2 SET u8 #2 3 GET u16 #0 GET u4 #3", "GET y",
	"BITFIELD y SET i5 #3 -7 GET i5 15 GET u5 15 GET u16 7 INCRBY u12 3 4095", "GET y",
	"BITFIELD y GET u8 #536870911", "BITFIELD y GET u8 #536870912", "BITFIELD y GET i64 #67108863",
	"BITFIELD y GET i64 #67108864", "BITFIELD y GET u8 #-1", "BITFIELD y GET u8 #", "BITFIELD y GET u8 ##1",
	"BITFIELD y GET u8 #1152921504606846976", "BITFIELD y GET u8 #2305843009213693952",
	"BITFIELD y GET u8 4294967295", "BITFIELD y GET u8 4294967296",
	// Growth: with SET or INCRBY the string grows even when FAIL writes nothing.
	"DEL g", "BITFIELD g OVERFLOW FAIL SET u2 10 7", "GET g", "STRLEN g", "BITFIELD g GET u8 100", "STRLEN g",
	"BITFIELD g INCRBY i7 20 0", "GET g", "BITFIELD nokey GET u8 0 GET i64 1000", "EXISTS nokey",
	"BITFIELD g", "BITFIELD nokey", "EXISTS nokey",
	"SET str hello", "BITFIELD str GET u8 0 GET u8 8 SET u8 0 72", "GET str", "EXPIRE str 100",
	"BITFIELD str INCRBY u8 8 1", "TTL str", "GET str",
	// BITFIELD errors: types, offsets, values, overflow names, arity.
	"BITFIELD f GET u64 0", "BITFIELD f GET i65 0", "BITFIELD f GET i0 0", "BITFIELD f GET u0 0",
	"BITFIELD f GET x8 0", "BITFIELD f GET 8 0", "BITFIELD f GET U8 0", "BITFIELD f GET i-1 0",
	"BITFIELD f GET i08 0", "BITFIELD f GET i 0", "BITFIELD f GET \"\" 0",
	"BITFIELD f GET u8 -1", "BITFIELD f GET u8 x", "BITFIELD f GET u8 4294967296",
	"BITFIELD f SET u8 0 x", "BITFIELD f SET u8 0 1.5", "BITFIELD f INCRBY u8 0 99999999999999999999",
	"BITFIELD f OVERFLOW BAD", "BITFIELD f OVERFLOW", "BITFIELD f OVERFLOW sat", "BITFIELD f OVERFLOW fail GET u8 0",
	"BITFIELD f GET u8", "BITFIELD f SET u8 0", "BITFIELD f INCRBY u8 0", "BITFIELD f FOO u8 0",
	"BITFIELD f GET u8 0 SET", "BITFIELD f GET u8 0 GET u64 0 SET u8 0 1", "BITFIELD", "GET f",
	// BITFIELD_RO.
	"BITFIELD_RO f GET u8 0 GET i4 4", "BITFIELD_RO f", "BITFIELD_RO nokey GET u8 0",
	"BITFIELD_RO f SET u8 0 1", "BITFIELD_RO f GET u8 0 INCRBY u8 0 1", "BITFIELD_RO f OVERFLOW SAT GET u8 0",
	"BITFIELD_RO f GET u64 0", "BITFIELD_RO f GET u8 x", "BITFIELD_RO f BAD", "BITFIELD_RO",
	"BITFIELD_RO h GET u8 0", "BITFIELD_RO h SET u8 0 1", "BITFIELD_RO h GET u64 0",
	// BITFIELD stays a write in scripts and transactions, even with GETs only.
	"EVAL_RO \"return redis.call('BITFIELD', KEYS[1], 'GET', 'u8', 0)\" 1 f",
	"EVAL_RO \"return redis.call('BITFIELD_RO', KEYS[1], 'GET', 'u8', 0)\" 1 f",
	"EVAL \"return redis.call('BITFIELD', KEYS[1], 'GET', 'u8', 0, 'INCRBY', 'u8', 0, 1)\" 1 f",
	"MULTI", "BITFIELD f GET u8 0", "SETBIT f 0 1", "BITFIELD f GET u8 0", "EXEC",
	// Wrong types, and argument errors before the type check.
	"HSET hw f v", "SETBIT hw 0 1", "GETBIT hw 0", "BITCOUNT hw", "BITCOUNT hw 0 1", "BITCOUNT hw x y",
	"BITPOS hw 1", "BITPOS hw 2", "BITPOS hw 1 x", "BITFIELD hw GET u8 0", "BITFIELD hw SET u8 0 1",
	"BITFIELD hw GET u64 0", "BITFIELD hw", "SETBIT hw x 1", "SETBIT hw 0 5", "GETBIT hw x", "TYPE hw",
	"DEL b s n c p ones zeros k1 k2 k3 d h h2 f x y g str hw empty hll hll2",
}, "\n") + "\n"

// TestRedisBitmapsMatchRedisServer diffs the bitmap commands against
// redis-server, in RESP2 (raw and formatted) and RESP3.
func TestRedisBitmapsMatchRedisServer(t *testing.T) {
	g := startGateway(t)
	diffWithRedis(t, g, bitmapScript)
	diffWithRedisRESP3(t, g, bitmapScript)
}

// TestRedisBitmapsClients runs the bitmap feature-flag test on one node.
func TestRedisBitmapsClients(t *testing.T) { testRedisBitmapFlags(t, startGateway(t)) }

// testRedisBitmapFlags keeps feature flags as bitmaps, one bit per user
// id, through go-redis: it turns flags on and off, reads each change back
// at once (on an ensemble the next command goes to another node), and
// checks the counts, searches, combinations and bytes against a model.
func testRedisBitmapFlags(t *testing.T, g redisTarget) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			ctx := testCtx(t)
			c := g.redisClient(proto)
			beta, dark := fmt.Sprintf("p%d:flag:beta", proto), fmt.Sprintf("p%d:flag:dark", proto)
			rng := rand.New(rand.NewPCG(uint64(proto), 7))
			model := map[string]map[int64]bool{beta: {}, dark: {}}
			set := func(key string, id int64, on bool) {
				t.Helper()
				v := 0
				if on {
					v = 1
				}
				old := r(c.SetBit(ctx, key, id, v).Result()).must(t, "SETBIT")
				if want := model[key][id]; old != boolInt(want) {
					t.Fatalf("SETBIT %s %d %d = %d, model had %v", key, id, v, old, want)
				}
				model[key][id] = on
				// The read goes to the next node: it sees the write.
				if got := r(c.GetBit(ctx, key, id).Result()).must(t, "GETBIT"); got != int64(v) {
					t.Fatalf("GETBIT %s %d right after SETBIT %d = %d", key, id, v, got)
				}
			}
			for range 150 {
				set(beta, rng.Int64N(4000)+5, true)
				set(dark, rng.Int64N(3000), true)
			}
			set(beta, 123456, true) // a far id grows the bitmap with zero bytes
			for id := range model[beta] {
				if rng.IntN(4) == 0 {
					set(beta, id, false) // a flag turned off again
				}
			}
			on := func(key string) []int64 {
				var ids []int64
				for id, v := range model[key] {
					if v {
						ids = append(ids, id)
					}
				}
				slices.Sort(ids)
				return ids
			}
			// The bitmap's bytes, as the model says they are.
			bitmap := func(key string, ids []int64) string {
				b := make([]byte, slices.Max(slices.Collect(maps.Keys(model[key])))/8+1)
				for _, id := range ids {
					b[id/8] |= 0x80 >> (id % 8)
				}
				return string(b)
			}
			betaOn, darkOn := on(beta), on(dark)
			if got := r(c.Get(ctx, beta).Result()).must(t, "GET"); got != bitmap(beta, betaOn) {
				t.Fatalf("GET %s: %d bytes unlike the model's", beta, len(got))
			}
			if n := r(c.StrLen(ctx, beta).Result()).must(t, "STRLEN"); n != 123456/8+1 {
				t.Fatalf("STRLEN %s = %d", beta, n)
			}
			if n := r(c.BitCount(ctx, beta, nil).Result()).must(t, "BITCOUNT"); n != int64(len(betaOn)) {
				t.Fatalf("BITCOUNT %s = %d, want %d", beta, n, len(betaOn))
			}
			count := func(ids []int64, lo, hi int64) (n int64) {
				for _, id := range ids {
					if lo <= id && id <= hi {
						n++
					}
				}
				return n
			}
			for _, rg := range [][2]int64{{0, 99}, {17, 2049}, {1000, 1000}, {-800, -1}} {
				lo, hi := rg[0], rg[1]
				if lo < 0 {
					lo, hi = int64(len(bitmap(beta, nil)))*8+lo, int64(len(bitmap(beta, nil)))*8+hi
				}
				got := r(c.BitCount(ctx, beta, &redis.BitCount{Start: rg[0], End: rg[1], Unit: redis.BitCountIndexBit}).Result()).must(t, "BITCOUNT BIT")
				if want := count(betaOn, lo, hi); got != want {
					t.Fatalf("BITCOUNT %s %d %d BIT = %d, want %d", beta, rg[0], rg[1], got, want)
				}
				got = r(c.BitCount(ctx, beta, &redis.BitCount{Start: rg[0] / 8, End: rg[1] / 8}).Result()).must(t, "BITCOUNT BYTE")
				if want := count(betaOn, lo/8*8, hi/8*8+7); rg[0] >= 0 && got != want {
					t.Fatalf("BITCOUNT %s %d %d = %d, want %d", beta, rg[0]/8, rg[1]/8, got, want)
				}
			}
			if pos := r(c.BitPos(ctx, beta, 1).Result()).must(t, "BITPOS 1"); pos != betaOn[0] {
				t.Fatalf("BITPOS %s 1 = %d, want %d", beta, pos, betaOn[0])
			}
			if pos := r(c.BitPos(ctx, dark, 1, 0, -1).Result()).must(t, "BITPOS 1 0 -1"); pos != darkOn[0] {
				t.Fatalf("BITPOS %s 1 0 -1 = %d, want %d", dark, pos, darkOn[0])
			}
			if pos := r(c.BitPosSpan(ctx, beta, 1, betaOn[3]+1, -1, "bit").Result()).must(t, "BITPOS BIT"); pos != betaOn[4] {
				t.Fatalf("BITPOS %s 1 %d -1 BIT = %d, want %d", beta, betaOn[3]+1, pos, betaOn[4])
			}
			// Users with both flags, and with either.
			both, either := fmt.Sprintf("p%d:flag:both", proto), fmt.Sprintf("p%d:flag:either", proto)
			n := r(c.BitOpAnd(ctx, both, beta, dark).Result()).must(t, "BITOP AND")
			if n != int64(len(bitmap(beta, nil))) {
				t.Fatalf("BITOP AND length = %d", n)
			}
			r(c.BitOpOr(ctx, either, beta, dark).Result()).must(t, "BITOP OR")
			var inBoth, inEither int64
			for id := range int64(123457) {
				b, d := model[beta][id], model[dark][id]
				if b && d {
					inBoth++
				}
				if b || d {
					inEither++
				}
			}
			if got := r(c.BitCount(ctx, both, nil).Result()).must(t, "BITCOUNT both"); got != inBoth {
				t.Fatalf("BITCOUNT of AND = %d, want %d", got, inBoth)
			}
			if got := r(c.BitCount(ctx, either, nil).Result()).must(t, "BITCOUNT either"); got != inEither {
				t.Fatalf("BITCOUNT of OR = %d, want %d", got, inEither)
			}
			// Per-user 4-bit counters next to the flags, saturating.
			counters := fmt.Sprintf("p%d:visits", proto)
			for i := range 20 {
				got := r(c.BitField(ctx, counters, "OVERFLOW", "SAT", "INCRBY", "u4", "#7", 1).Result()).must(t, "BITFIELD INCRBY")
				if want := min(int64(i+1), 15); len(got) != 1 || got[0] != want {
					t.Fatalf("BITFIELD INCRBY u4 #7 = %v, want [%d]", got, want)
				}
				// GETs only: served as a read, on the next node, after
				// the write.
				got = r(c.BitField(ctx, counters, "GET", "u4", "#7").Result()).must(t, "BITFIELD GET")
				if want := min(int64(i+1), 15); len(got) != 1 || got[0] != want {
					t.Fatalf("BITFIELD GET u4 #7 right after INCRBY = %v, want [%d]", got, want)
				}
			}
			vals := r(c.BitFieldRO(ctx, counters, "u4", "#7", "u4", "#6", "i4", "#7").Result()).must(t, "BITFIELD_RO")
			if !slices.Equal(vals, []int64{15, 0, -1}) {
				t.Fatalf("BITFIELD_RO = %v", vals)
			}
			if got := r(c.Do(ctx, "BITFIELD", counters, "OVERFLOW", "FAIL", "INCRBY", "u4", "#7", 1, "GET", "u4", "#7").Slice()).must(t, "BITFIELD FAIL"); len(got) != 2 || got[0] != nil || got[1] != int64(15) {
				t.Fatalf("BITFIELD OVERFLOW FAIL = %#v", got)
			}
			_, err := c.SetBit(ctx, beta, 1<<32, 1).Result()
			expectErr(t, "SETBIT past 512 MiB", err, "ERR bit offset is not an integer or out of range")
			_, err = c.BitField(ctx, beta, "GET", "u64", 0).Result()
			expectErr(t, "BITFIELD u64", err, "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.")
			r(c.HSet(ctx, counters+"h", "f", "v").Result()).must(t, "HSET")
			_, err = c.GetBit(ctx, counters+"h", 0).Result()
			expectErr(t, "GETBIT hash", err, "WRONGTYPE Operation against a key holding the wrong kind of value")
		})
	}
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// TestRedisBitmapsHugeOffsets: a bit offset at or past 512 MiB (Redis's
// proto-max-bulk-len default) is refused before anything is allocated,
// in every form (BITFIELD's #n offsets included, even when n*width wraps
// around); the largest legal offsets read as zero without growing
// anything; bad BITFIELD overflow arguments get Redis's errors; and a
// far SETBIT grows memory with the bitmap it builds, not more.
func TestRedisBitmapsHugeOffsets(t *testing.T) {
	g := startGateway(t)
	ctx := testCtx(t)
	c := g.redisClient(2)
	base := g.rssBytes()
	const offsetErr = "ERR bit offset is not an integer or out of range"
	for _, args := range [][]any{
		{"SETBIT", "big", 1 << 32, 1},
		{"SETBIT", "big", "18446744073709551616", 1},
		{"SETBIT", "big", -1, 1},
		{"GETBIT", "big", 1 << 32},
		{"BITFIELD", "big", "SET", "u8", "#536870912", 1},
		{"BITFIELD", "big", "INCRBY", "i64", "#67108864", 1},
		{"BITFIELD", "big", "SET", "u8", 0, 1, "GET", "u8", 1 << 32},
		{"BITFIELD", "big", "SET", "u8", "#1152921504606846976", 1}, // n*8 wraps to -2^63
		{"BITFIELD", "big", "SET", "i64", "#144115188075855872", 1}, // n*64 wraps to -2^63
		{"BITFIELD_RO", "big", "GET", "u8", 4294967296},
	} {
		_, err := c.Do(ctx, args...).Result()
		expectErr(t, fmt.Sprint(args), err, offsetErr)
	}
	for _, tc := range []struct {
		args []any
		err  string
	}{
		{[]any{"BITFIELD", "big", "OVERFLOW", "SATURATE", "INCRBY", "u8", 0, 1}, "ERR Invalid OVERFLOW type specified"},
		{[]any{"BITFIELD", "big", "INCRBY", "u8", 0, "9223372036854775808"}, "ERR value is not an integer or out of range"},
		{[]any{"BITFIELD", "big", "SET", "u64", 0, 1}, "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."},
		{[]any{"BITFIELD", "big", "GET", "i65", 0}, "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."},
	} {
		_, err := c.Do(ctx, tc.args...).Result()
		expectErr(t, fmt.Sprint(tc.args), err, tc.err)
	}
	if n := r(c.Exists(ctx, "big").Result()).must(t, "EXISTS"); n != 0 {
		t.Fatal("a refused command created the key")
	}

	// The largest legal offsets read as zero and grow nothing.
	r(c.Set(ctx, "small", "a", 0).Result()).must(t, "SET")
	if got := r(c.GetBit(ctx, "small", 1<<32-1).Result()).must(t, "GETBIT"); got != 0 {
		t.Fatalf("GETBIT small 4294967295 = %d", got)
	}
	got := r(c.BitField(ctx, "small", "GET", "i64", 1<<32-1, "GET", "u63", 1<<32-1, "GET", "u8", "#536870911").Result()).must(t, "BITFIELD GET")
	if !slices.Equal(got, []int64{0, 0, 0}) {
		t.Fatalf("BITFIELD GET at the last offsets = %v", got)
	}
	if n := r(c.StrLen(ctx, "small").Result()).must(t, "STRLEN"); n != 1 {
		t.Fatalf("a BITFIELD of GETs grew the string to %d bytes", n)
	}
	if grew := g.rssBytes() - base; grew > 64<<20 {
		t.Fatalf("refused offsets and reads grew RSS by %d MiB", grew>>20)
	}

	// A far bit builds a 16 MiB string of zero bytes and that bit; a
	// field may end past the string, which grows to hold it.
	const far = 1<<27 - 1
	if old := r(c.SetBit(ctx, "far", far, 1).Result()).must(t, "SETBIT"); old != 0 {
		t.Fatalf("SETBIT far = %d", old)
	}
	got = r(c.BitField(ctx, "far", "SET", "i64", far, -1).Result()).must(t, "BITFIELD SET i64")
	if !slices.Equal(got, []int64{math.MinInt64}) {
		t.Fatalf("BITFIELD SET i64 %d -1 = %v", far, got)
	}
	if n := r(c.StrLen(ctx, "far").Result()).must(t, "STRLEN"); n != 16<<20+8 {
		t.Fatalf("STRLEN = %d, want %d", n, 16<<20+8)
	}
	if n := r(c.BitCount(ctx, "far", nil).Result()).must(t, "BITCOUNT"); n != 64 {
		t.Fatalf("BITCOUNT = %d", n)
	}
	if n := r(c.BitPos(ctx, "far", 1).Result()).must(t, "BITPOS"); n != far {
		t.Fatalf("BITPOS far 1 = %d", n)
	}
	peak := g.rssBytes()
	t.Logf("RSS %d MiB before, %d MiB with a 16 MiB bitmap", base>>20, peak>>20)
	if grew := peak - base; grew > 512<<20 {
		t.Fatalf("a 16 MiB bitmap grew RSS by %d MiB", grew>>20)
	}
}

// randomBitmapScript is a seeded random mix of bitmap commands on a few
// keys: bits set and cleared, BITFIELD runs of every type, overflow mode
// and extreme value, counts and searches over random ranges in bytes
// and bits, BITOP over the keys, and string writes in between.
func randomBitmapScript(seed uint64, n int) string {
	rng := rand.New(rand.NewPCG(seed, 11))
	key := func() string { return fmt.Sprintf("r%d", rng.IntN(3)) }
	unit := func() string { return []string{"", " BIT", " BYTE", " bit"}[rng.IntN(4)] }
	pos := func() int { return rng.IntN(80) - 40 }
	value := func(w int) string {
		switch rng.IntN(8) {
		case 0:
			return fmt.Sprint(rng.Int64())
		case 1:
			return fmt.Sprint(-rng.Int64() - 1)
		case 2:
			return []string{"9223372036854775807", "-9223372036854775808", "0", "1", "-1"}[rng.IntN(5)]
		case 3:
			return fmt.Sprint(int64(1)<<(w-1) - 1 + rng.Int64N(3) - 1)
		case 4:
			return fmt.Sprint(-(int64(1) << (w - 1)) + rng.Int64N(3) - 1)
		case 5:
			if w < 63 {
				return fmt.Sprint(int64(1)<<w + rng.Int64N(3) - 1)
			}
			return "9223372036854775807"
		default:
			return fmt.Sprint(rng.Int64N(300) - 150)
		}
	}
	lines := []string{"FLUSHALL"}
	for range n {
		switch rng.IntN(10) {
		case 0, 1:
			lines = append(lines, fmt.Sprintf("SETBIT %s %d %d", key(), rng.IntN(200), rng.IntN(2)))
		case 2, 3, 4:
			line := "BITFIELD " + key()
			if rng.IntN(5) == 0 {
				line = "BITFIELD_RO " + key()
			}
			for range rng.IntN(4) + 1 {
				if rng.IntN(3) == 0 && line[:9] == "BITFIELD " {
					line += " OVERFLOW " + []string{"WRAP", "SAT", "FAIL", "sat"}[rng.IntN(4)]
				}
				signed := rng.IntN(2) == 0
				w := rng.IntN(63) + 1
				typ := fmt.Sprintf("u%d", w)
				if signed {
					w = rng.IntN(64) + 1
					typ = fmt.Sprintf("i%d", w)
				}
				off := fmt.Sprint(rng.IntN(150))
				if rng.IntN(4) == 0 {
					off = fmt.Sprintf("#%d", rng.IntN(5))
				}
				op := []string{"GET", "SET", "INCRBY"}[rng.IntN(3)]
				if line[:9] != "BITFIELD " {
					op = "GET"
				}
				line += fmt.Sprintf(" %s %s %s", op, typ, off)
				if op != "GET" {
					line += " " + value(w)
				}
			}
			lines = append(lines, line)
		case 5:
			switch rng.IntN(3) {
			case 0:
				lines = append(lines, "BITCOUNT "+key())
			default:
				lines = append(lines, fmt.Sprintf("BITCOUNT %s %d %d%s", key(), pos(), pos(), unit()))
			}
		case 6:
			line := fmt.Sprintf("BITPOS %s %d", key(), rng.IntN(2))
			switch rng.IntN(3) {
			case 1:
				line += fmt.Sprintf(" %d", pos())
			case 2:
				line += fmt.Sprintf(" %d %d%s", pos(), pos(), unit())
			}
			lines = append(lines, line)
		case 7:
			op := []string{"AND", "OR", "XOR", "NOT"}[rng.IntN(4)]
			srcs := key()
			if op != "NOT" {
				for range rng.IntN(3) {
					srcs += " " + []string{"r0", "r1", "r2", "rd", "nokey"}[rng.IntN(5)]
				}
			}
			dest := []string{"rd", key()}[rng.IntN(2)]
			lines = append(lines, fmt.Sprintf("BITOP %s %s %s", op, dest, srcs), "GET "+dest)
		case 8:
			switch rng.IntN(4) {
			case 0:
				lines = append(lines, fmt.Sprintf("SET %s \"\\x%02x\\x%02x\"", key(), rng.IntN(256), rng.IntN(256)))
			case 1:
				lines = append(lines, fmt.Sprintf("APPEND %s \"\\x%02x\"", key(), rng.IntN(256)))
			case 2:
				lines = append(lines, fmt.Sprintf("SETRANGE %s %d \"\\x%02x\"", key(), rng.IntN(20), rng.IntN(256)))
			default:
				lines = append(lines, "DEL "+key())
			}
		default:
			lines = append(lines, "GET "+key(), "STRLEN "+key())
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

// TestRedisBitmapsRandomMatchRedisServer diffs seeded random bitmap
// scripts against redis-server: redis-server is the oracle for every
// range, overflow and growth rule the fixed script does not name.
func TestRedisBitmapsRandomMatchRedisServer(t *testing.T) {
	g := startGateway(t)
	for seed := range uint64(3) {
		diffWithRedis(t, g, randomBitmapScript(seed, 400))
	}
}
