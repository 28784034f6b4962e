package conformance

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// hashScript exercises every hash command against redis-server, edge
// cases and errors included. It avoids replies whose order Redis leaves
// unspecified: HGETALL, HKEYS, HVALS, HSCAN and HRANDFIELD only ever see
// a one-field hash.
var hashScript = strings.Join([]string{
	// HSET, HMSET: pairs, arity.
	"HSET h f1 v1", "HSET h f1 v1b f2 v2 f3 v3", "HSET h f4", "HSET h f4 v4 f5", "HSET h",
	"HMSET h f6 v6 f7 v7", "HMSET h f8",
	// Reads.
	"HGET h f1", "HGET h nofield", "HGET nokey f1", "HGET h",
	"HMGET h f1 nofield f2 f1", "HMGET nokey a b", "HMGET h",
	"HLEN h", "HLEN nokey", "HEXISTS h f2", "HEXISTS h nofield", "HEXISTS nokey f",
	"HSTRLEN h f1", "HSTRLEN h nofield", "HSTRLEN nokey f",
	// HDEL; the key goes with its last field.
	"HDEL h f1 f1 nofield f2", "HDEL h nofield", "HDEL nokey f", "HDEL h", "HLEN h",
	"HDEL h f3 f4 f6 f7", "HLEN h", "HDEL h f5", "EXISTS h", "HLEN h",
	"HSETNX n f v", "HSETNX n f w", "HGET n f", "HSETNX n",
	// HINCRBY: overflow, bad increments, values that are no integers.
	"HINCRBY c x 5", "HINCRBY c x -10", "HINCRBY c x 9223372036854775807", "HINCRBY c x 9223372036854775802",
	"HINCRBY c x 1", "HGET c x", "HINCRBY c y -9223372036854775808", "HINCRBY c y -1",
	"HINCRBY c x abc", "HINCRBY c x 1.5", "HINCRBY c x +1", "HINCRBY c x 99999999999999999999",
	`HSET c s hello sp " 1" z 007 neg -0`, "HINCRBY c s 1", "HINCRBY c sp 1", "HINCRBY c z 1", "HINCRBY c neg 1", "HINCRBY c x",
	// HINCRBYFLOAT: long double sums, infinities, bad numbers either side.
	"HINCRBYFLOAT fl a 10.5", "HINCRBYFLOAT fl a 0.1", "HINCRBYFLOAT fl a -5", "HINCRBYFLOAT fl a 5.0e3",
	"HINCRBYFLOAT fl a 1e-3", "HINCRBYFLOAT fl a 3", "HINCRBYFLOAT fl b 1", "HINCRBYFLOAT fl b .5",
	"HINCRBYFLOAT fl b 5.", "HINCRBYFLOAT fl b -0", "HINCRBYFLOAT fl b abc", "HINCRBYFLOAT fl b inf",
	"HINCRBYFLOAT fl b -inf", "HINCRBYFLOAT fl b +INF", "HINCRBYFLOAT fl b nan", `HINCRBYFLOAT fl b " 1"`,
	`HINCRBYFLOAT fl b "1 "`, "HINCRBYFLOAT fl b 1e5000", "HINCRBYFLOAT fl b 1e400", "HGET fl b",
	`HSET fl big 1e308 inf inf s str i 5 sp " 1" tiny 1e-5000 neg -0 dbl 1.5e10`,
	"HINCRBYFLOAT fl big 1e308", "HINCRBYFLOAT fl inf 1", "HINCRBYFLOAT fl s 1", "HINCRBYFLOAT fl sp 1",
	"HINCRBYFLOAT fl tiny 1", "HINCRBYFLOAT fl neg 1", "HINCRBYFLOAT fl i 1.5", "HINCRBYFLOAT fl dbl 1",
	"HINCRBYFLOAT fl i -3.5", "HGET fl i",
	// strtold reads hexadecimal too.
	"HINCRBYFLOAT hx a 0x10", "HINCRBYFLOAT hx a 0X1.8p1", "HINCRBYFLOAT hx a 0x", "HINCRBYFLOAT hx a 0x_10",
	"HINCRBYFLOAT hx a 1_0", "HSET hx b 0x.8", "HINCRBYFLOAT hx b 0.25", "HINCRBYFLOAT hx c -Infinity",
	"HSET hx d 1 d 2", "HGET hx d",
	// Wrong type, and argument errors before the type check.
	"SET str x", "HSET str f v", "HMSET str f v", "HSETNX str f v", "HGET str f", "HMGET str f", "HDEL str f",
	"HGETALL str", "HKEYS str", "HVALS str", "HLEN str", "HEXISTS str f", "HSTRLEN str f",
	"HINCRBY str f 1", "HINCRBYFLOAT str f 1", "HINCRBY str f x", "HINCRBYFLOAT str f x",
	"HRANDFIELD str", "HRANDFIELD str 1", "HSCAN str 0",
	// Whole-hash reads and HSCAN on one field.
	"HSET one only val", "HGETALL one", "HKEYS one", "HVALS one", "HGETALL nokey", "HKEYS nokey", "HVALS nokey",
	"HSCAN one 0", "HSCAN one 0 MATCH o*", "HSCAN one 0 MATCH x*", "HSCAN one 0 COUNT 5", "HSCAN one 0 COUNT 0",
	"HSCAN one 0 COUNT x", "HSCAN one 0 MATCH", "HSCAN one 0 TYPE string", "HSCAN one 0 FOO bar", "HSCAN one x",
	"HSCAN nokey 0", "HSCAN",
	// HRANDFIELD on one field: every reply is determined.
	"HRANDFIELD one", "HRANDFIELD one 1", "HRANDFIELD one 5", "HRANDFIELD one -3", "HRANDFIELD one 0",
	"HRANDFIELD one -1 WITHVALUES", "HRANDFIELD one 2 withvalues", "HRANDFIELD one -3 WITHVALUES",
	"HRANDFIELD one 0 WITHVALUES", "HRANDFIELD one 1 WITHVALUE", "HRANDFIELD one 1 WITHVALUES x", "HRANDFIELD one x",
	"HRANDFIELD one -9223372036854775808", "HRANDFIELD one 4611686018427387904 WITHVALUES",
	"HRANDFIELD one -4611686018427387904 WITHVALUES", "HRANDFIELD nokey", "HRANDFIELD nokey 3",
	"HRANDFIELD nokey -3 WITHVALUES", "HRANDFIELD nokey x", "HRANDFIELD",
	// Empty field names and values.
	`HSET e "" emptyfield`, `HGET e ""`, `HSET e f ""`, "HGET e f", "HSTRLEN e f", "HLEN e",
	// The time to live stays through changes and goes with the key.
	"HSET t a 1", "EXPIRE t 100", "HSET t b 2", "HDEL t a", "HINCRBY t c 1", "TTL t", "HDEL t b c", "TTL t", "EXISTS t",
	"TYPE one", "TYPE c", "DEL one c", "EXISTS one c",
}, "\n") + "\n"

// TestRedisHashesMatchRedisServer diffs the hash commands against
// redis-server, in RESP2 (raw and formatted) and RESP3.
func TestRedisHashesMatchRedisServer(t *testing.T) {
	g := startGateway(t)
	diffWithRedis(t, g, hashScript)
	diffWithRedisRESP3(t, g, hashScript)
}

// sameMembers checks that got holds exactly the strings of want, in any
// order.
func sameMembers(t *testing.T, what string, got, want []string) {
	t.Helper()
	g, w := slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
	if !slices.Equal(g, w) {
		t.Fatalf("%s = %q, want %q (in any order)", what, g, w)
	}
}

// TestRedisHashesClients checks the hash replies whose order Redis leaves
// open, and their RESP2 and RESP3 shapes, through go-redis.
func TestRedisHashesClients(t *testing.T) { testRedisHashesClients(t, startGateway(t)) }

func testRedisHashesClients(t *testing.T, g redisTarget) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			ctx := testCtx(t)
			c := g.redisClient(proto)
			k := fmt.Sprintf("p%d:h", proto)
			want := map[string]string{"": "empty name", "\x00\xff\r\n": "binary", "e": ""}
			for i := range 50 {
				want[fmt.Sprintf("f%02d", i)] = fmt.Sprint("v", i)
			}
			if n := r(c.HSet(ctx, k, want).Result()).must(t, "HSET"); n != int64(len(want)) {
				t.Fatalf("HSET added %d fields, want %d", n, len(want))
			}
			if got := r(c.HGetAll(ctx, k).Result()).must(t, "HGETALL"); !maps.Equal(got, want) {
				t.Fatalf("HGETALL = %q, want %q", got, want)
			}
			sameMembers(t, "HKEYS", r(c.HKeys(ctx, k).Result()).must(t, "HKEYS"), slices.Collect(maps.Keys(want)))
			sameMembers(t, "HVALS", r(c.HVals(ctx, k).Result()).must(t, "HVALS"), slices.Collect(maps.Values(want)))
			if n := r(c.HLen(ctx, k).Result()).must(t, "HLEN"); n != int64(len(want)) {
				t.Fatalf("HLEN = %d", n)
			}

			// HGETALL is a map in RESP3 and a flat array in RESP2.
			raw := r(c.Do(ctx, "HGETALL", k).Result()).must(t, "HGETALL raw")
			switch v := raw.(type) {
			case map[any]any:
				if proto != 3 || len(v) != len(want) {
					t.Fatalf("RESP%d HGETALL is a map of %d", proto, len(v))
				}
			case []any:
				if proto != 2 || len(v) != 2*len(want) {
					t.Fatalf("RESP%d HGETALL is an array of %d", proto, len(v))
				}
			default:
				t.Fatalf("HGETALL reply %T", raw)
			}

			// HSCAN in small steps sees every field once.
			seen := map[string]string{}
			var cursor uint64
			steps := 0
			for {
				kv, next, err := c.HScan(ctx, k, cursor, "", 7).Result()
				if err != nil {
					t.Fatalf("HSCAN: %v", err)
				}
				for i := 0; i+1 < len(kv); i += 2 {
					if _, dup := seen[kv[i]]; dup {
						t.Fatalf("HSCAN returned %q twice", kv[i])
					}
					seen[kv[i]] = kv[i+1]
				}
				steps++
				if cursor = next; cursor == 0 {
					break
				}
			}
			if !maps.Equal(seen, want) || steps < 2 {
				t.Fatalf("HSCAN in %d steps saw %q", steps, seen)
			}
			kv, next, err := c.HScan(ctx, k, 0, "f1*", 1000).Result()
			if err != nil || next != 0 || len(kv) != 20 || !strings.HasPrefix(kv[0], "f1") || kv[1] != want[kv[0]] {
				t.Fatalf("HSCAN MATCH f1* = %q", kv)
			}

			// HRANDFIELD: distinct fields for a positive count, repeats for
			// a negative one, values that belong to their fields.
			one := r(c.Do(ctx, "HRANDFIELD", k).Text()).must(t, "HRANDFIELD")
			if _, ok := want[one]; !ok {
				t.Fatalf("HRANDFIELD = %q, not a field", one)
			}
			checkFields := func(what string, fs []string, n int, distinct bool) {
				t.Helper()
				if len(fs) != n {
					t.Fatalf("%s: %d fields, want %d", what, len(fs), n)
				}
				set := map[string]bool{}
				for _, f := range fs {
					if _, ok := want[f]; !ok {
						t.Fatalf("%s: %q is not a field", what, f)
					}
					set[f] = true
				}
				if distinct && len(set) != n {
					t.Fatalf("%s: repeats in %q", what, fs)
				}
			}
			checkFields("HRANDFIELD 5", r(c.HRandField(ctx, k, 5).Result()).must(t, "HRANDFIELD 5"), 5, true)
			checkFields("HRANDFIELD 40", r(c.HRandField(ctx, k, 40).Result()).must(t, "HRANDFIELD 40"), 40, true)
			checkFields("HRANDFIELD 100", r(c.HRandField(ctx, k, 100).Result()).must(t, "HRANDFIELD 100"), len(want), true)
			checkFields("HRANDFIELD -100", r(c.HRandField(ctx, k, -100).Result()).must(t, "HRANDFIELD -100"), 100, false)
			for _, n := range []int{3, -9, 1000} {
				size := min(n, len(want))
				if n < 0 {
					size = -n
				}
				pairs := r(c.HRandFieldWithValues(ctx, k, n).Result()).must(t, "HRANDFIELD WITHVALUES")
				var fs []string
				for _, p := range pairs {
					if v, ok := want[p.Key]; !ok || v != p.Value {
						t.Fatalf("HRANDFIELD %d WITHVALUES: %q => %q", n, p.Key, p.Value)
					}
					fs = append(fs, p.Key)
				}
				checkFields(fmt.Sprint("HRANDFIELD WITHVALUES ", n), fs, size, n > 0)
			}
			// WITHVALUES: [field, value] pairs in RESP3, flat in RESP2.
			raw = r(c.Do(ctx, "HRANDFIELD", k, -2, "WITHVALUES").Result()).must(t, "HRANDFIELD raw")
			if arr, ok := raw.([]any); !ok || (proto == 2 && len(arr) != 4) || (proto == 3 && len(arr) != 2) {
				t.Fatalf("RESP%d HRANDFIELD -2 WITHVALUES = %#v", proto, raw)
			} else if pair, ok := arr[0].([]any); proto == 3 && (!ok || len(pair) != 2) {
				t.Fatalf("RESP3 HRANDFIELD WITHVALUES element = %#v", arr[0])
			}

			// Typed replies.
			if f := r(c.HIncrByFloat(ctx, k, "fl", 2.5).Result()).must(t, "HINCRBYFLOAT"); f != 2.5 {
				t.Fatalf("HINCRBYFLOAT = %v", f)
			}
			if n := r(c.HIncrBy(ctx, k, "n", -7).Result()).must(t, "HINCRBY"); n != -7 {
				t.Fatalf("HINCRBY = %d", n)
			}
			vals := r(c.HMGet(ctx, k, "f01", "nofield", "").Result()).must(t, "HMGET")
			if len(vals) != 3 || vals[0] != "v1" || vals[1] != nil || vals[2] != "empty name" {
				t.Fatalf("HMGET = %#v", vals)
			}
			if _, err := c.HGet(ctx, k, "nofield").Result(); err != redis.Nil {
				t.Fatalf("HGET nofield: %v, want nil", err)
			}
			if _, err := c.Do(ctx, "HRANDFIELD", "nokey").Result(); err != redis.Nil {
				t.Fatalf("HRANDFIELD nokey: %v, want nil", err)
			}
			_, err = c.HIncrBy(ctx, k, "f01", 1).Result()
			expectErr(t, "HINCRBY on v1", err, "ERR hash value is not an integer")
			r(c.Set(ctx, k+"s", "x", 0).Result()).must(t, "SET")
			_, err = c.HGetAll(ctx, k+"s").Result()
			expectErr(t, "HGETALL string", err, "WRONGTYPE Operation against a key holding the wrong kind of value")
			_, err = c.Get(ctx, k).Result()
			expectErr(t, "GET hash", err, "WRONGTYPE Operation against a key holding the wrong kind of value")

			// Deleting every field deletes the key.
			fields := slices.Collect(maps.Keys(want))
			fields = append(fields, "fl", "n")
			if n := r(c.HDel(ctx, k, fields...).Result()).must(t, "HDEL all"); n != int64(len(fields)) {
				t.Fatalf("HDEL all = %d", n)
			}
			if n := r(c.Exists(ctx, k).Result()).must(t, "EXISTS"); n != 0 {
				t.Fatal("an empty hash still exists")
			}
		})
	}
}

// TestRedisHashesRestart: hashes, their counts and times to live are the
// same after the node is killed and restarted.
func TestRedisHashesRestart(t *testing.T) {
	g := startGateway(t)
	ctx := testCtx(t)
	c := g.redisClient(2)
	want := map[string]string{}
	for i := range 30 {
		want[fmt.Sprint("f", i)] = fmt.Sprint(i)
	}
	r(c.HSet(ctx, "h", want).Result()).must(t, "HSET")
	r(c.HDel(ctx, "h", "f0", "f1").Result()).must(t, "HDEL")
	delete(want, "f0")
	delete(want, "f1")
	r(c.HIncrBy(ctx, "h", "f2", 40).Result()).must(t, "HINCRBY")
	want["f2"] = "42"
	r(c.HIncrByFloat(ctx, "h", "fl", 0.5).Result()).must(t, "HINCRBYFLOAT")
	want["fl"] = "0.5"
	r(c.Expire(ctx, "h", time.Hour).Result()).must(t, "EXPIRE")
	r(c.HSet(ctx, "gone", "a", "1").Result()).must(t, "HSET gone")
	r(c.HDel(ctx, "gone", "a").Result()).must(t, "HDEL gone")

	g.kill()
	g.restart()
	c = g.redisClient(2)
	if got := r(c.HGetAll(ctx, "h").Result()).must(t, "HGETALL"); !maps.Equal(got, want) {
		t.Fatalf("after restart HGETALL = %q, want %q", got, want)
	}
	if n := r(c.HLen(ctx, "h").Result()).must(t, "HLEN"); n != int64(len(want)) {
		t.Fatalf("after restart HLEN = %d, want %d", n, len(want))
	}
	if ttl := r(c.TTL(ctx, "h").Result()).must(t, "TTL"); ttl < 59*time.Minute {
		t.Fatalf("after restart TTL = %v", ttl)
	}
	if n := r(c.Exists(ctx, "gone").Result()).must(t, "EXISTS gone"); n != 0 {
		t.Fatal("an emptied hash came back after restart")
	}
	if n := r(c.DBSize(ctx).Result()).must(t, "DBSIZE"); n != 1 {
		t.Fatalf("after restart DBSIZE = %d, want 1", n)
	}
}
