package conformance

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// listScript is a redis-cli script (one command per line) of the list commands: replies, edge cases, and every error text;
// it is diffed against redis-server on one gateway and on an ensemble.
var listScript = strings.Join([]string{
	// Pushes and reads.
	"RPUSH l a b c", "LPUSH l z y x", "LRANGE l 0 -1", "LLEN l", "LLEN nokey", "TYPE l",
	"LPUSHX nokey a", "RPUSHX nokey a b", "EXISTS nokey", "LPUSHX l w", "RPUSHX l d e", "LRANGE l 0 -1",
	"LRANGE l 1 2", "LRANGE l -3 -1", "LRANGE l -100 100", "LRANGE l 5 1", "LRANGE l 100 200", "LRANGE l -1 -2",
	"LRANGE l 0 0", "LRANGE l -9223372036854775808 9223372036854775807", "LRANGE l x 1", "LRANGE l 0 1.5", "LRANGE nokey 0 -1",
	"LINDEX l 0", "LINDEX l -1", "LINDEX l 9", "LINDEX l 10", "LINDEX l -10", "LINDEX l -11", "LINDEX l x", "LINDEX nokey x",
	"LINDEX l 9223372036854775807", "LINDEX l -9223372036854775808",
	// LSET.
	"LSET l 0 W", "LSET l -1 E", "LSET l 10 v", "LSET l -11 v", "LSET l x v", "LSET nokey 0 v", "LSET nokey x v", "LRANGE l 0 -1",
	// Pops, with and without count.
	"LPOP l", "RPOP l", "LPOP l 2", "RPOP l 2", "LRANGE l 0 -1", "LPOP l 0", "RPOP l 0", "LPOP l -1", "LPOP l x", "LPOP l 1 2",
	"LPOP nokey", "RPOP nokey", "LPOP nokey 1", "RPOP nokey 0", "LPOP nokey -1", "LPOP l 100", "EXISTS l", "LLEN l",
	"RPUSH l a b c", "RPOP l 9223372036854775807", "EXISTS l",
	// LINSERT.
	"RPUSH i a b c b", "LINSERT i BEFORE b x", "LINSERT i after b y", "LINSERT i AFTER c z", "LINSERT i before a first",
	"LINSERT i AFTER b last", "LRANGE i 0 -1", "LINSERT i BEFORE nopivot v", "LINSERT nokey BEFORE a v", "EXISTS nokey",
	"LINSERT i MIDDLE a v", "LINSERT nokey MIDDLE a v",
	// LREM.
	"DEL r", "RPUSH r a b a c a d a", "LREM r 2 a", "LRANGE r 0 -1", "LREM r -1 a", "LRANGE r 0 -1", "LREM r 0 a", "LRANGE r 0 -1",
	"LREM r 0 nothing", "LREM r x a", "LREM nokey 1 a", "RPUSH r2 q q q", "LREM r2 0 q", "EXISTS r2",
	"RPUSH r3 a b a b a", "LREM r3 -9223372036854775808 a", "LRANGE r3 0 -1", "LREM r3 9223372036854775807 b", "EXISTS r3",
	// LTRIM.
	"RPUSH t 0 1 2 3 4 5 6 7 8 9", "LTRIM t 1 -2", "LRANGE t 0 -1", "LTRIM t -3 100", "LRANGE t 0 -1", "LTRIM t 0 -1", "LRANGE t 0 -1",
	"LTRIM t 5 1", "EXISTS t", "LTRIM nokey 0 1", "LTRIM t x 1", "RPUSH t a b", "LTRIM t -100 -3", "EXISTS t",
	"RPUSH t a b c", "LTRIM t 1 1", "LRANGE t 0 -1", "LPUSH t z", "RPUSH t y", "LRANGE t 0 -1",
	// LPOS.
	"RPUSH p a b c a b c a", "LPOS p a", "LPOS p c", "LPOS p z", "LPOS p a RANK 2", "LPOS p a RANK -1", "LPOS p a RANK -2",
	"LPOS p a RANK 4", "LPOS p a RANK -4", "LPOS p a COUNT 0", "LPOS p a COUNT 2", "LPOS p a RANK 2 COUNT 0", "LPOS p a RANK -1 COUNT 2",
	"LPOS p a COUNT 0 RANK -2", "LPOS p c MAXLEN 2", "LPOS p c MAXLEN 3", "LPOS p a MAXLEN 4 COUNT 0", "LPOS p a RANK -1 MAXLEN 1",
	"LPOS p a RANK -1 MAXLEN 1 COUNT 0", "LPOS p z COUNT 0", "LPOS p a rank 1 count 1 maxlen 0", "LPOS p a RANK 1 RANK 3",
	"LPOS p a RANK 9223372036854775807", "LPOS p a RANK -9223372036854775807 COUNT 0",
	"LPOS p a RANK -9223372036854775808", "LPOS p a RANK -9223372036854775808 COUNT 0", "LPOS p a RANK -9223372036854775808 COUNT 1",
	"LPOS p a RANK 0", "LPOS p a COUNT -1", "LPOS p a MAXLEN -1", "LPOS p a RANK", "LPOS p a FOO 1", "LPOS p a RANK x",
	"LPOS nokey a", "LPOS nokey a COUNT 1", "LPOS nokey a RANK 0",
	// LMOVE and RPOPLPUSH.
	"RPUSH m1 a b c", "RPUSH m2 x", "LMOVE m1 m2 LEFT LEFT", "LMOVE m1 m2 right RIGHT", "LRANGE m1 0 -1", "LRANGE m2 0 -1",
	"LMOVE m2 m1 LEFT RIGHT", "LMOVE m2 m1 RIGHT LEFT", "LRANGE m1 0 -1", "LRANGE m2 0 -1",
	"LMOVE m1 m1 LEFT RIGHT", "LRANGE m1 0 -1", "LMOVE m1 m1 RIGHT LEFT", "LRANGE m1 0 -1", "LMOVE m1 m1 LEFT LEFT", "LMOVE m1 m1 RIGHT RIGHT",
	"LRANGE m1 0 -1", "LMOVE nokey m1 LEFT LEFT", "LMOVE m1 new LEFT LEFT", "LRANGE new 0 -1", "TYPE new",
	"LMOVE m1 m1 UP LEFT", "LMOVE m1 m1 LEFT DOWN", "LMOVE nokey m1 UP LEFT",
	"RPUSH one only", "LMOVE one one LEFT RIGHT", "LRANGE one 0 -1", "LMOVE one other RIGHT LEFT", "EXISTS one", "LRANGE other 0 -1",
	"RPOPLPUSH m1 m2", "LRANGE m2 0 -1", "RPOPLPUSH nokey m2", "RPOPLPUSH m2 m2", "LRANGE m2 0 -1",
	// Generic key commands on lists: copies are independent.
	"COPY m2 m2copy", "LRANGE m2copy 0 -1", "RENAME m2copy m3", "LPUSH m3 n", "RPOP m2", "LRANGE m3 0 -1", "LRANGE m2 0 -1",
	"MOVE m3 1", "SELECT 1", "LRANGE m3 0 -1", "RPUSH m3 o", "LLEN m3", "SELECT 0", "EXISTS m3", "TYPE m2",
	// LMPOP.
	"RPUSH q1 a b c d", "RPUSH q2 x y", "LMPOP 2 nokey q1 LEFT", "LMPOP 2 q1 q2 RIGHT COUNT 2", "LMPOP 1 q2 left count 10",
	"EXISTS q2", "LMPOP 2 q2 q1 LEFT COUNT 100", "EXISTS q1", "LMPOP 2 q1 q2 LEFT", "LMPOP 1 nokey LEFT COUNT 1",
	"LMPOP 0 q1 LEFT", "LMPOP -1 q1 LEFT", "LMPOP x q1 LEFT", "LMPOP 2 q1 LEFT", "LMPOP 9223372036854775807 q1 LEFT",
	"LMPOP 1 q1 MIDDLE", "LMPOP 1 q1 LEFT COUNT", "LMPOP 1 q1 LEFT COUNT 0", "LMPOP 1 q1 LEFT COUNT -1", "LMPOP 1 q1 LEFT COUNT x",
	"LMPOP 1 q1 LEFT COUNT 1 COUNT 1", "LMPOP 1 q1 LEFT FOO",
	// Wrong types, both ways.
	"SET s str", "LPUSH s a", "RPUSH s a", "LPUSHX s a", "RPUSHX s a", "LPOP s", "RPOP s 2", "LPOP s 0", "LPOP s -1", "LLEN s",
	"LRANGE s 0 -1", "LRANGE s x 0", "LINDEX s 0", "LINDEX s x", "LSET s 0 v", "LSET s x v", "LINSERT s BEFORE a b", "LINSERT s MIDDLE a b",
	"LREM s 0 a", "LREM s x a", "LTRIM s 0 1", "LPOS s a", "LPOS s a RANK 0",
	"RPUSH w a b", "LMOVE s w LEFT LEFT", "LMOVE w s LEFT LEFT", "LRANGE w 0 -1", "RPOPLPUSH w s", "RPOPLPUSH s w", "LMOVE nokey s LEFT LEFT",
	"LMPOP 2 s w LEFT", "LMPOP 2 w s LEFT", "LMPOP 2 nokey s LEFT",
	"GET w", "INCR w", "APPEND w x", "STRLEN w", "SET w v", "TYPE w", "LLEN w",
	// TTLs: kept by pushes and pops, gone with the key.
	"RPUSH e a b c", "EXPIRE e 100", "LPUSH e z", "RPOP e", "LSET e 0 y", "LINSERT e BEFORE a x", "LREM e 1 x", "LTRIM e 0 1",
	"LMOVE e e LEFT RIGHT", "TTL e", "LMOVE e other2 LEFT LEFT", "TTL other2", "TTL e", "LPOP e 5", "TTL e", "RPUSH e a", "TTL e",
	// Arity.
	"LPUSH l", "RPUSH", "LPUSHX l", "RPUSHX l", "LPOP", "RPOP", "LLEN", "LLEN a b", "LRANGE l 0", "LINDEX l", "LSET l 0",
	"LINSERT l BEFORE a", "LREM l 0", "LTRIM l 0", "LPOS l", "LMOVE a b LEFT", "RPOPLPUSH a", "LMPOP 1 a",
	"DBSIZE",
}, "\n") + "\n"

// TestRedisListsMatchRedisServer diffs the list commands against
// redis-server: replies, edge cases, and every error text.
func TestRedisListsMatchRedisServer(t *testing.T) {
	g := startGateway(t)
	diffWithRedis(t, g, listScript)
}

// TestRedisListsClients drives the list commands through go-redis over
// RESP2 and RESP3, checks the null-array replies on the wire, and reads
// the lists back after a restart (the applied state is replayed from the
// log).
func TestRedisListsClients(t *testing.T) {
	g := startGateway(t)
	testRedisListsClients(t, g)
	testRedisListsWireAndRestart(t, g)
}

func testRedisListsClients(t *testing.T, g redisTarget) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			ctx := testCtx(t)
			c := g.redisClient(proto)
			p := func(k string) string { return fmt.Sprintf("lp%d:%s", proto, k) }
			want := func(what string, got, want []string) {
				t.Helper()
				if !slices.Equal(got, want) {
					t.Fatalf("%s = %q, want %q", what, got, want)
				}
			}
			if n := r(c.RPush(ctx, p("l"), "a", "b", "c").Result()).must(t, "RPUSH"); n != 3 {
				t.Fatalf("RPUSH = %d", n)
			}
			if n := r(c.LPush(ctx, p("l"), "y", "z").Result()).must(t, "LPUSH"); n != 5 {
				t.Fatalf("LPUSH = %d", n)
			}
			want("LRANGE", r(c.LRange(ctx, p("l"), 0, -1).Result()).must(t, "LRANGE"), []string{"z", "y", "a", "b", "c"})
			want("LRANGE empty", r(c.LRange(ctx, p("nokey"), 0, -1).Result()).must(t, "LRANGE nokey"), []string{})
			if v := r(c.LIndex(ctx, p("l"), -2).Result()).must(t, "LINDEX"); v != "b" {
				t.Fatalf("LINDEX -2 = %q", v)
			}
			if _, err := c.LIndex(ctx, p("l"), 5).Result(); err != redis.Nil {
				t.Fatalf("LINDEX out of range: %v, want nil", err)
			}
			want("LPOP count", r(c.LPopCount(ctx, p("l"), 2).Result()).must(t, "LPOP count"), []string{"z", "y"})
			want("RPOP count", r(c.RPopCount(ctx, p("l"), 2).Result()).must(t, "RPOP count"), []string{"c", "b"})
			if _, err := c.LPopCount(ctx, p("nokey"), 2).Result(); err != redis.Nil {
				t.Fatalf("LPOP missing count: %v, want nil", err)
			}
			if _, err := c.RPop(ctx, p("nokey")).Result(); err != redis.Nil {
				t.Fatalf("RPOP missing: %v, want nil", err)
			}
			_, err := c.LPopCount(ctx, p("l"), -1).Result()
			expectErr(t, "LPOP -1", err, "ERR value is out of range, must be positive")

			// LPOS with and without COUNT.
			r(c.RPush(ctx, p("p"), "a", "b", "a", "c", "a").Result()).must(t, "RPUSH p")
			if i := r(c.LPos(ctx, p("p"), "a", redis.LPosArgs{Rank: -1}).Result()).must(t, "LPOS"); i != 4 {
				t.Fatalf("LPOS RANK -1 = %d", i)
			}
			if got := r(c.LPosCount(ctx, p("p"), "a", 0, redis.LPosArgs{Rank: 2}).Result()).must(t, "LPOS COUNT"); !slices.Equal(got, []int64{2, 4}) {
				t.Fatalf("LPOS RANK 2 COUNT 0 = %v", got)
			}
			if _, err := c.LPos(ctx, p("p"), "zz", redis.LPosArgs{}).Result(); err != redis.Nil {
				t.Fatalf("LPOS no match: %v, want nil", err)
			}
			_, err = c.LPos(ctx, p("p"), "a", redis.LPosArgs{Rank: 0, MaxLen: -1}).Result()
			expectErr(t, "LPOS MAXLEN -1", err, "ERR MAXLEN can't be negative")

			// LINSERT, LREM, LTRIM, LSET.
			if n := r(c.LInsertBefore(ctx, p("p"), "c", "x").Result()).must(t, "LINSERT"); n != 6 {
				t.Fatalf("LINSERT = %d", n)
			}
			if n := r(c.LInsertAfter(ctx, p("p"), "nope", "x").Result()).must(t, "LINSERT"); n != -1 {
				t.Fatalf("LINSERT missing pivot = %d", n)
			}
			if n := r(c.LRem(ctx, p("p"), -2, "a").Result()).must(t, "LREM"); n != 2 {
				t.Fatalf("LREM -2 = %d", n)
			}
			want("after LREM", r(c.LRange(ctx, p("p"), 0, -1).Result()).must(t, "LRANGE"), []string{"a", "b", "x", "c"})
			r(c.LSet(ctx, p("p"), -1, "C").Result()).must(t, "LSET")
			r(c.LTrim(ctx, p("p"), 1, -1).Result()).must(t, "LTRIM")
			want("after LTRIM", r(c.LRange(ctx, p("p"), 0, -1).Result()).must(t, "LRANGE"), []string{"b", "x", "C"})
			_, err = c.LSet(ctx, p("nokey"), 0, "v").Result()
			expectErr(t, "LSET missing", err, "ERR no such key")
			_, err = c.LSet(ctx, p("p"), 3, "v").Result()
			expectErr(t, "LSET out of range", err, "ERR index out of range")

			// LMOVE, RPOPLPUSH, LMPOP.
			if v := r(c.LMove(ctx, p("p"), p("q"), "LEFT", "RIGHT").Result()).must(t, "LMOVE"); v != "b" {
				t.Fatalf("LMOVE = %q", v)
			}
			if v := r(c.Do(ctx, "RPOPLPUSH", p("p"), p("q")).Text()).must(t, "RPOPLPUSH"); v != "C" {
				t.Fatalf("RPOPLPUSH = %q", v)
			}
			want("LMOVE target", r(c.LRange(ctx, p("q"), 0, -1).Result()).must(t, "LRANGE q"), []string{"C", "b"})
			if _, err := c.LMove(ctx, p("nokey"), p("q"), "LEFT", "LEFT").Result(); err != redis.Nil {
				t.Fatalf("LMOVE missing: %v, want nil", err)
			}
			key, vals, err := c.LMPop(ctx, "right", 5, p("nokey"), p("q")).Result()
			if err != nil || key != p("q") || !slices.Equal(vals, []string{"b", "C"}) {
				t.Fatalf("LMPOP = %q, %q", key, vals)
			}
			if _, _, err := c.LMPop(ctx, "left", 1, p("nokey"), p("q")).Result(); err != redis.Nil {
				t.Fatalf("LMPOP of missing keys: %v, want nil", err)
			}
			if n := r(c.Exists(ctx, p("q")).Result()).must(t, "EXISTS"); n != 0 {
				t.Fatal("emptied list still exists")
			}

			// Wrong types both ways.
			r(c.Set(ctx, p("s"), "v", 0).Result()).must(t, "SET")
			_, err = c.LPush(ctx, p("s"), "a").Result()
			expectErr(t, "LPUSH string", err, "WRONGTYPE Operation against a key holding the wrong kind of value")
			_, err = c.Get(ctx, p("l")).Result()
			expectErr(t, "GET list", err, "WRONGTYPE Operation against a key holding the wrong kind of value")

			// TTL kept by a push, gone with the key.
			r(c.Expire(ctx, p("l"), 100*time.Second).Result()).must(t, "EXPIRE")
			r(c.RPush(ctx, p("l"), "n").Result()).must(t, "RPUSH")
			if ttl := r(c.TTL(ctx, p("l")).Result()).must(t, "TTL"); ttl < 98*time.Second {
				t.Fatalf("TTL after RPUSH = %v", ttl)
			}
			r(c.Del(ctx, p("l")).Result()).must(t, "DEL")
			r(c.RPush(ctx, p("l"), "n").Result()).must(t, "RPUSH")
			if ttl := r(c.TTL(ctx, p("l")).Result()).must(t, "TTL"); ttl != -1 {
				t.Fatalf("TTL of a recreated list = %v, want -1", ttl)
			}
		})
	}
}

func testRedisListsWireAndRestart(t *testing.T, g *gateway) {
	// A null array on the wire in RESP2, a null in RESP3.
	addr := g.addr("redis")
	if got := rawExchange(t, addr, []byte("LPOP nokey 1\r\nLMPOP 1 nokey LEFT\r\nRPOP nokey\r\nQUIT\r\n")); got != "*-1\r\n*-1\r\n$-1\r\n+OK\r\n" {
		t.Fatalf("RESP2 nulls = %q", got)
	}
	if got := rawExchange(t, addr, []byte("HELLO 3\r\nLPOP nokey 1\r\nLMPOP 1 nokey LEFT\r\nQUIT\r\n")); !strings.HasSuffix(got, "_\r\n_\r\n+OK\r\n") {
		t.Fatalf("RESP3 nulls = %q", got)
	}

	// A long list built at both ends, then restarted from the log.
	ctx := testCtx(t)
	c := g.redisClient(2)
	// One command at a time: the gateway may reorder a pipeline's writes
	// (they are proposed concurrently).
	var model []string
	for i := range 200 {
		v := fmt.Sprint(i)
		if i%2 == 0 {
			r(c.RPush(ctx, "long", v).Result()).must(t, "RPUSH")
			model = append(model, v)
		} else {
			r(c.LPush(ctx, "long", v).Result()).must(t, "LPUSH")
			model = append([]string{v}, model...)
		}
	}
	r(c.LInsertAfter(ctx, "long", "100", "mid").Result()).must(t, "LINSERT")
	r(c.LRem(ctx, "long", 0, "3").Result()).must(t, "LREM")
	r(c.LTrim(ctx, "long", 2, -3).Result()).must(t, "LTRIM")
	r(c.LMove(ctx, "long", "long", "RIGHT", "LEFT").Result()).must(t, "LMOVE")
	model = slices.Insert(model, slices.Index(model, "100")+1, "mid")
	model = slices.DeleteFunc(model, func(s string) bool { return s == "3" })
	model = model[2 : len(model)-2]
	model = append([]string{model[len(model)-1]}, model[:len(model)-1]...)
	before := r(c.LRange(ctx, "long", 0, -1).Result()).must(t, "LRANGE")
	if !slices.Equal(before, model) {
		t.Fatalf("long list = %q\nwant %q", before, model)
	}
	g.kill()
	g.restart()
	c = g.redisClient(3)
	after := r(c.LRange(ctx, "long", 0, -1).Result()).must(t, "LRANGE after restart")
	if !slices.Equal(after, model) {
		t.Fatalf("after restart: %q\nwant %q", after, model)
	}
	if n := r(c.LLen(ctx, "long").Result()).must(t, "LLEN"); n != int64(len(model)) {
		t.Fatalf("LLEN after restart = %d, want %d", n, len(model))
	}
	if v := r(c.LIndex(ctx, "long", 0).Result()).must(t, "LINDEX"); v != model[0] {
		t.Fatalf("LINDEX 0 after restart = %q", v)
	}
}
