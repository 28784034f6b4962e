package conformance

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// notifyScript runs every write command of the strings, keys, lists,
// hashes, sets, sorted sets and streams families, scripts and
// transactions, in the cases that notify (a key created, changed,
// emptied, renamed, moved, copied, expired by a past time) and the cases
// that do not (no change, a failed condition, an error), with a few
// reads that miss keys. Its replies are deterministic (SPOP pops from
// one-member sets, stream IDs are explicit), and no key expires while it
// runs, so both servers notify the same events in the same order.
var notifyScript = strings.Join([]string{
	// Strings.
	"SET s 1", "SET s 2 GET", "SET s 3 NX", "SET s 4 XX EX 100", "SET s 5 KEEPTTL", "SET nx 1 XX",
	"SETNX s2 1", "SETNX s2 2", "SETEX s3 100 v", "PSETEX s4 100000 v", "GETSET s 6",
	"GETDEL s", "GETDEL nokey", "GETEX s3 EX 200", "GETEX s3 PERSIST", "GETEX s3 PERSIST", "GETEX s3", "GETEX nokey",
	"MSET m1 1 m2 2", "MSETNX m3 1 m4 2", "MSETNX m3 1 m5 2",
	"APPEND m1 x", "APPEND ap x", `SETRANGE m1 5 y`, "SETRANGE sr 0 y", `SETRANGE sr2 0 ""`,
	"INCR n", "INCRBY n 5", "DECR n", "DECRBY n 2", "INCRBYFLOAT n 1.5", "INCR m1", "SET s 1 FOO",
	// Keys.
	"DEL m1 m2 nokey", "UNLINK m3", "UNLINK nokey", "RENAME m4 m4", "RENAME m4 r1", "RENAME nokey x",
	"SET r2 x", "RENAME r1 r2", "SET r3 x", "RENAMENX r2 r3", "RENAMENX r2 r4",
	"COPY r4 c1", "COPY r4 c1", "COPY r4 c1 REPLACE", "COPY r4 c1 DB 1", "COPY nokey c2",
	"MOVE c1 2", "MOVE c1 2", "SET c1 x", "MOVE c1 1", "MOVE nokey 1",
	"SET e 1", "EXPIRE e 100", "PEXPIRE e 100000", "EXPIREAT e 99999999999", "PEXPIREAT e 99999999999000",
	"EXPIRE e 100 NX", "EXPIRE e 50 GT", "PERSIST e", "PERSIST e", "EXPIRE e -1", "EXPIRE nokey 10",
	"SET e2 1", "PEXPIREAT e2 1000", "SET e3 1", "EXPIRE e3 0", "SET e4 1", "EXPIREAT e4 1",
	"SET gx 1", "GETEX gx EXAT 1", "SET gy 1", "GETEX gy PXAT 1", "GETEX gy PXAT 1", "EXISTS gx gy",
	"SET t 1", "SETEX t 100 x", "SET t 2",
	"SWAPDB 0 1", "SWAPDB 0 1", "SELECT 1", "SET db1 x", "DEL db1", "SELECT 0",
	// Lists.
	"LPUSH l a b", "RPUSH l c", "LPUSHX l d", "RPUSHX l e", "LPUSHX nol d", "RPUSHX nol d",
	"LPOP l", "RPOP l", "LPOP l 2", "RPOP l 5", "LPOP l", "RPOP nokey 2",
	"RPUSH l a b c d e", "LINSERT l BEFORE c x", "LINSERT l AFTER zz y", "LINSERT nokey AFTER a b",
	"LSET l 0 z", "LSET nokey 0 z", "LREM l 1 x", "LREM l 1 nothere", "LTRIM l 0 2", "LTRIM l 5 10",
	"RPUSH l a b c", "RPOPLPUSH l l2", "LMOVE l l2 LEFT RIGHT", "LMOVE l2 l2 LEFT RIGHT", "LMOVE nokey l2 LEFT LEFT",
	"LMPOP 2 nokey l LEFT COUNT 5", "RPUSH l a", "BLPOP l 1", "RPUSH l a b", "BRPOP l 1",
	"RPUSH l a", "BRPOPLPUSH l l3 1", "BLMOVE l3 l4 LEFT LEFT 1", "BLMPOP 1 1 l4 RIGHT",
	"RPUSH l a", "LPOP l 0", "LPOP l 1", "RPUSH lr a a b a", "LREM lr 0 a", "LREM lr 0 b",
	// Hashes.
	"HSET h a 1 b 2", "HSET h a 1", "HMSET h c 3", "HSETNX h c 4", "HSETNX h d 4",
	"HINCRBY h n 5", "HINCRBYFLOAT h f 1.5", "HINCRBY h a x", "HDEL h a zz", "HDEL h nope", "HDEL h b c d n f",
	"HSETNX hn f v", "HINCRBY hi f 1", "HINCRBYFLOAT hf f 1",
	// Sets.
	"SADD s5 a b", "SADD s5 a", "SREM s5 a", "SREM s5 zz", "SREM s5 b",
	"SADD s6 a", "SPOP s6", "SPOP s6", "SADD s6 a", "SPOP s6 0", "SPOP s6 5",
	"SADD s7 a b c", "SMOVE s7 s8 a", "SMOVE s7 s8 zz", "SADD s8 b", "SMOVE s7 s8 b", "SMOVE s7 s9 c", "SMOVE s9 s9 c",
	"SADD s1 a b c", "SADD s2 b c d", "SINTERSTORE d1 s1 s2", "SUNIONSTORE d2 s1 s2", "SDIFFSTORE d3 s1 s2",
	"SINTERSTORE d1 s1 nokey", "SDIFFSTORE d4 s1 s1", "SUNIONSTORE d2 d2 s1", "SDIFFSTORE s1 s1 nokey",
	// Sorted sets.
	"ZADD z 1 a 2 b", "ZADD z 1 a", "ZADD z INCR 5 a", "ZADD z NX 1 a", "ZADD z XX CH 3 b", "ZADD z NX INCR 1 a",
	"ZADD z GT 1 a", "ZINCRBY z 2 c", "ZINCRBY z 0 c", "ZREM z c nope", "ZREM z nope",
	"ZPOPMIN z", "ZPOPMAX z 5", "ZPOPMIN nokey",
	"ZADD z 1 a 2 b 3 c 4 d 5 e", "ZREMRANGEBYSCORE z 0 1", "ZREMRANGEBYSCORE z 10 20", "ZREMRANGEBYRANK z 0 0",
	"ZREMRANGEBYLEX z - +", "ZADD z 0 a 0 b 0 c", "ZREMRANGEBYLEX z [a [a", "ZMPOP 1 z MIN", "BZPOPMIN z 1",
	"ZADD z 1 a", "BZPOPMAX z 1", "ZADD z 1 a 2 b", "BZMPOP 1 1 z MAX COUNT 5",
	"ZADD z1 1 a 2 b", "ZADD z2 1 b 2 c", "ZUNIONSTORE u 2 z1 z2", "ZINTERSTORE i 2 z1 z2", "ZDIFFSTORE df 2 z1 z2",
	"ZRANGESTORE rs z1 0 -1", "ZINTERSTORE i 2 z1 nokey", "ZRANGESTORE rs z1 5 6", "ZUNIONSTORE z1 1 z1",
	"ZUNIONSTORE zs 1 s2", "ZRANGESTORE rs2 nokey 0 1",
	// Type errors notify nothing.
	"LPUSH s2 x", "HSET s2 f v", "ZADD s2 1 m", "SADD z1 m", "INCR z1", "APPEND l2 x",
	// Transactions and scripts notify as their commands run; PUBLISH's
	// messages fall in between.
	"MULTI", "SET tx 1", "LPUSH txl a", "PUBLISH __keyspace@0__:mid x", "DEL tx", "INCR txl", "EXEC",
	`EVAL "redis.call('SET', KEYS[1], 'v'); redis.call('PUBLISH', '__keyevent@0__:x', 'y'); redis.call('RPUSH', KEYS[2], 'a'); return redis.call('DEL', KEYS[1])" 2 ev evl`,
	`EVAL "return redis.pcall('HSET', KEYS[1], 'f')" 1 evh`,
	"MULTI", "GET nokey", "SINTER nokey s1", "SINTERSTORE d9 nokey s1", "HSCAN nokey 0", "ZSCORE nokey m", "EXEC",
	`EVAL "redis.call('GET', KEYS[1]); redis.call('SUNION', KEYS[1], KEYS[2]); return redis.call('EXISTS', KEYS[2])" 2 nokey s1`,
	// Bitmaps, HyperLogLog and geo.
	"SETBIT bm 7 1", "SETBIT bm 7 1", "BITFIELD bm SET u8 8 255 GET u4 0", "BITFIELD bm GET u8 0",
	"BITFIELD bm OVERFLOW FAIL INCRBY u2 0 9", "BITOP OR bo bm nokey", "BITOP AND bo nokey nokey2", "BITOP NOT bo2 nokey",
	"PFADD hll a b c", "PFADD hll a", "PFADD hll2", "PFMERGE hll3 hll hll2", "PFCOUNT hll", "GETBIT nokey 1", "BITCOUNT nokey",
	"GEOADD geo 13.361389 38.115556 Palermo 15.087269 37.502669 Catania", "GEOADD geo XX 13.361389 38.115556 Palermo",
	"GEOSEARCHSTORE gs geo FROMLONLAT 15 37 BYRADIUS 200 km ASC", "GEOSEARCHSTORE gs geo FROMLONLAT 0 0 BYRADIUS 1 km",
	"GEORADIUS geo 15 37 200 km STORE gr", "GEORADIUS nokey 15 37 200 km STORE gr", "GEOPOS nokey a",
	// Streams (explicit IDs): a trim, a deletion or a consumer only when
	// something is trimmed, deleted or created; XREADGROUP creates its
	// consumer only when it serves the key, XCLAIM and XAUTOCLAIM when
	// they claim; XREADGROUP, XACK, XCLAIM and XAUTOCLAIM miss keys.
	"XADD st 1-1 f v", "XADD st 1-2 f v", "XADD st 1-1 f v", "XADD st NOMKSTREAM 2-0 f v", "XADD nost NOMKSTREAM 1-1 f v",
	"XADD st MAXLEN 2 3-0 f v", "XADD st MAXLEN 5 4-0 f v", "XADD st MINID 3-0 5-0 f v", "XADD st 0-0 f v", "XADD st2 0-1 f v",
	"XTRIM st MAXLEN 10", "XTRIM st MAXLEN 2", "XTRIM nokey MAXLEN 0", "XDEL st 9-9", "XDEL st 5-0 4-0", "XDEL nokey 1-1",
	"XSETID st 10-0", "XSETID nokey 1-1", "XSETID st 1-0", "XADD st 11-0 f v", "XADD st 12-0 f v", "XSETID st 1-0",
	"XGROUP CREATE st g 0", "XGROUP CREATE st g 0", "XGROUP CREATE nost g 0", "XGROUP CREATE stm g $ MKSTREAM",
	"XGROUP CREATE stm g2 0 MKSTREAM", "XGROUP CREATE stm2 g bad MKSTREAM", "XGROUP SETID st g 0", "XGROUP SETID st nog 0",
	"XGROUP SETID nokey g 0", "XGROUP CREATECONSUMER st g c1", "XGROUP CREATECONSUMER st g c1", "XGROUP CREATECONSUMER st nog c1",
	"XREADGROUP GROUP g c2 COUNT 1 STREAMS st >", "XREADGROUP GROUP g c2 STREAMS st 0", "XREADGROUP GROUP g c3 STREAMS st 0",
	"XREADGROUP GROUP g c4 STREAMS st >", "XREADGROUP GROUP g c5 STREAMS st >", "XREADGROUP GROUP g c6 BLOCK 10 STREAMS st >",
	"XREADGROUP GROUP g c1 STREAMS nokey >", "XREADGROUP GROUP nog c1 STREAMS st >", "XREADGROUP GROUP g c7 STREAMS st nokey > >",
	"XACK st g 11-0", "XACK nokey g 1-1", "XACK st nog 1-1",
	"XCLAIM st g c8 0 12-0", "XCLAIM st g c9 0 99-0", "XCLAIM st g c9 100000000 12-0", "XCLAIM nokey g c 0 1-1", "XCLAIM st nog c 0 1-1",
	"XADD st 13-0 f v", "XREADGROUP GROUP g c2 NOACK STREAMS st >", "XADD st 14-0 f v", "XREADGROUP GROUP g c2 STREAMS st >",
	"XDEL st 14-0", "XCLAIM st g c10 0 14-0", "XCLAIM st g c11 0 1-0 FORCE", "XCLAIM st g c11 0 12-0 JUSTID",
	"XAUTOCLAIM st g c12 0 0-0", "XAUTOCLAIM st g c13 0 99-0", "XAUTOCLAIM st g c14 100000000 0-0", "XAUTOCLAIM nokey g c 0 0-0",
	"XGROUP DELCONSUMER st g c1", "XGROUP DELCONSUMER st g nobody", "XGROUP DELCONSUMER st nog c1",
	"XGROUP CREATE stm g3 $ ENTRIESREAD 1", "XGROUP SETID stm g3 0 ENTRIESREAD 0", "XREADGROUP GROUP g3 c1 STREAMS stm stm > >",
	"XGROUP DESTROY st g", "XGROUP DESTROY st g", "XGROUP DESTROY nokey g", "XSETID st 20-0 ENTRIESADDED 50 MAXDELETEDID 15-0",
	"XADD s2 1-1 f v", "XGROUP CREATE s2 g 0 MKSTREAM", "XTRIM s2 MAXLEN 0", "XREADGROUP GROUP g c STREAMS s2 >",
	"MULTI", "XADD stx 1-0 f v", "XREAD STREAMS nokey 0", "XGROUP CREATE stx g 0", "XREADGROUP GROUP g c STREAMS stx >", "EXEC",
	"XADD st MAXLEN 0 30-0 f v", "XLEN st", "DEL st stm",
	// Reads that miss keys.
	"XLEN nokey", "XRANGE nokey - +", "XREVRANGE nokey + -", "XREAD STREAMS nokey nokey2 0 0", "XREAD COUNT 1 STREAMS st2 nokey 0 0",
	"XINFO STREAM nokey", "XPENDING nokey g",
	"GET nokey", "MGET nokey s2 nokey2", "EXISTS nokey", "TYPE nokey", "TTL nokey", "HGET nokey f",
	"LRANGE nokey 0 1", "SMEMBERS nokey", "ZRANGE nokey 0 1", "SINTER s1 nokey", "ZUNION 2 z2 nokey",
	"LLEN nokey", "SCARD nokey", "ZSCORE nokey m", "KEYS nokey*", "GET s2",
}, "\n") + "\n"

// notifySettings are the notify-keyspace-events values the tests run
// with: every class, alone or together, with K, E or both.
var notifySettings = []string{"KEA", "AKEn", "Eg$", "Kl", "Ex", "Kshzn", "KEA$lgm", "Ed", "Ktem", "KEn"}

// TestRedisKeyspaceNotificationsMatchRedisServer runs notifyScript on a
// gateway and on redis-server, each with a subscriber to every
// keyspace and keyevent channel, for each setting, and requires the same
// replies and the same messages in the same order.
func TestRedisKeyspaceNotificationsMatchRedisServer(t *testing.T) {
	g := startGateway(t, "--notify-keyspace-events", "KEA")
	want := redisServerClient(t)
	ctx := testCtx(t)
	gc := g.redisClient(2)
	gc3 := g.redisClient(3) // its subscriber receives RESP3 pushes
	if v := gc.ConfigGet(ctx, "notify-keyspace-events").Val()["notify-keyspace-events"]; v != "AKE" {
		t.Fatalf("--notify-keyspace-events KEA: CONFIG GET answers %q, want AKE", v)
	}

	// CONFIG SET and GET answer as redis-server does, errors included.
	var cfg []string
	for _, v := range append(notifySettings, "", "K", "A", "KA", "An", "mA", "g$lshzxetd", "g$lshzxetdn", "nd", "EKxe", "Q", "KEAQ", "*") {
		cfg = append(cfg, fmt.Sprintf("CONFIG SET notify-keyspace-events %q", v), "CONFIG GET notify-keyspace-events")
	}
	diffSpread(t, ctx, strings.Join(cfg, "\n"), want, []*redis.Client{gc})

	for _, setting := range notifySettings {
		t.Run(setting, func(t *testing.T) {
			for _, c := range []*redis.Client{want, gc} {
				if err := c.ConfigSet(ctx, "notify-keyspace-events", setting).Err(); err != nil {
					t.Fatal(err)
				}
			}
			diffNotifications(t, ctx, notifyScript, want, 2, []*redis.Client{gc}, []*redis.Client{gc, gc3})
		})
	}
}

// TestEnsembleKeyspaceNotifications runs notifyScript on a 3-node
// ensemble, each command on the next node in turn, with a subscriber on
// every node, and requires every subscriber to receive what
// redis-server's does. Key misses are left out: a read notifies only the
// subscribers of the node that serves it.
func TestEnsembleKeyspaceNotifications(t *testing.T) {
	nodes := ensembleClients(t)
	want := redisServerClient(t)
	ctx := testCtx(t)
	for _, setting := range []string{"KEA", "Eg$n", "Klshz"} {
		t.Run(setting, func(t *testing.T) {
			for _, c := range append([]*redis.Client{want}, nodes...) {
				if err := c.ConfigSet(ctx, "notify-keyspace-events", setting).Err(); err != nil {
					t.Fatal(err)
				}
			}
			diffNotifications(t, ctx, notifyScript, want, 1, nodes, nodes)
		})
	}
	t.Run("random", func(t *testing.T) {
		for _, c := range append([]*redis.Client{want}, nodes...) {
			if err := c.ConfigSet(ctx, "notify-keyspace-events", "KEAn").Err(); err != nil {
				t.Fatal(err)
			}
		}
		diffNotifications(t, ctx, randomNotifyScript(99, 300), want, 1, nodes, nodes)
	})
}

// diffNotifications empties both sides, subscribes to '__key*__:*'
// wantSubs times on want (as many as a node of nodes has, so that
// PUBLISH counts alike) and on each of subs, runs script with diffSpread
// (replies compared, commands spread over nodes), and requires every
// subscriber of subs to receive exactly the messages want's receive.
func diffNotifications(t *testing.T, ctx context.Context, script string, want *redis.Client, wantSubs int, nodes, subs []*redis.Client) {
	t.Helper()
	for _, c := range []*redis.Client{want, nodes[0]} {
		if err := c.FlushAll(ctx).Err(); err != nil {
			t.Fatal(err)
		}
	}
	var wantStreams, got []*eventStream
	for range wantSubs {
		wantStreams = append(wantStreams, subscribeEvents(t, ctx, want))
	}
	for _, c := range subs {
		got = append(got, subscribeEvents(t, ctx, c))
	}
	diffSpread(t, ctx, script, want, nodes)
	expected := wantStreams[0].until(t, ctx, want)
	for _, s := range wantStreams[1:] {
		if msgs := s.until(t, ctx, want); !slices.Equal(msgs, expected) {
			t.Fatalf("redis-server's subscribers disagree:\n%s", streamDiff(msgs, expected))
		}
	}
	for i, s := range got {
		if msgs := s.until(t, ctx, nodes[0]); !slices.Equal(msgs, expected) {
			t.Fatalf("subscriber on node %d:\n%s", i+1, streamDiff(msgs, expected))
		}
	}
}

// eventStream is a subscription to every keyspace and keyevent channel,
// received in the background.
type eventStream struct {
	mu   sync.Mutex
	msgs []string // "channel payload"
	err  error
}

func subscribeEvents(t *testing.T, ctx context.Context, c *redis.Client) *eventStream {
	t.Helper()
	ps := c.PSubscribe(ctx, "__key*__:*")
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ps.Close() })
	s := &eventStream{}
	go func() {
		for {
			m, err := ps.ReceiveMessage(ctx)
			s.mu.Lock()
			if err != nil {
				s.err = err
				s.mu.Unlock()
				return
			}
			s.msgs = append(s.msgs, m.Channel+" "+m.Payload)
			s.mu.Unlock()
		}
	}()
	return s
}

// count returns how many messages received so far contain sub.
func (s *eventStream) count(sub string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, m := range s.msgs {
		if strings.Contains(m, sub) {
			n++
		}
	}
	return n
}

// until publishes an end marker through pub and returns the messages
// received before it.
func (s *eventStream) until(t *testing.T, ctx context.Context, pub *redis.Client) []string {
	t.Helper()
	const end = "__keyspace@0__:end-of-script end"
	if err := pub.Publish(ctx, "__keyspace@0__:end-of-script", "end").Err(); err != nil {
		t.Fatal(err)
	}
	var out []string
	waitFor(t, "the end marker", 10*time.Second, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.err != nil {
			t.Fatalf("after %d messages %q: %v", len(s.msgs), s.msgs, s.err)
		}
		if i := slices.Index(s.msgs, end); i >= 0 {
			out = slices.Clone(s.msgs[:i])
			s.msgs = s.msgs[i+1:]
			return true
		}
		return false
	})
	return out
}

// redisServerClient starts redis-server and returns a RESP2 client of it.
func redisServerClient(t *testing.T) *redis.Client {
	c := redis.NewClient(&redis.Options{Network: "unix", Addr: startRedisServer(t), Protocol: 2, MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	return c
}

// ensembleClients starts a 3-node ensemble and returns a RESP2 client of
// each node.
func ensembleClients(t *testing.T) []*redis.Client {
	var out []*redis.Client
	for _, g := range startEnsemble(t, 3).nodes {
		out = append(out, g.redisClient(2))
	}
	return out
}

// streamDiff shows where two message streams part.
func streamDiff(got, want []string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	lo := max(i-5, 0)
	return fmt.Sprintf("first difference at message %d of %d (redis-server: %d)\n gateway:      %q\n redis-server: %q",
		i, len(got), len(want), got[lo:min(i+5, len(got))], want[lo:min(i+5, len(want))])
}

// TestEnsembleKeyspaceExpiredEvents: keys that expire notify "expired"
// from the apply-time expiry on every node, the active cycle's and the
// one a write meets; each node's subscribers get the same stream, in the
// same order, and the same messages as redis-server's.
func TestEnsembleKeyspaceExpiredEvents(t *testing.T) {
	nodes := ensembleClients(t)
	want := redisServerClient(t)
	ctx := testCtx(t)
	all := append([]*redis.Client{want}, nodes...)
	var streams []*eventStream
	for _, c := range all {
		if err := c.ConfigSet(ctx, "notify-keyspace-events", "Ex$").Err(); err != nil {
			t.Fatal(err)
		}
		streams = append(streams, subscribeEvents(t, ctx, c))
	}
	for _, c := range []*redis.Client{want, nodes[0]} {
		for i, k := range []string{"x1", "x2", "x3"} {
			c.Set(ctx, k, "v", time.Duration(100*(i+1))*time.Millisecond)
		}
		c.Set(ctx, "lazy", "v", 50*time.Millisecond)
		c.Set(ctx, "kept", "v", time.Hour)
	}
	waitFor(t, "the keys to expire", 10*time.Second, func() bool {
		for _, s := range streams {
			if s.count("expired") < 4 {
				return false
			}
		}
		return true
	})
	for _, c := range []*redis.Client{want, nodes[2]} {
		if err := c.Append(ctx, "lazy", "x").Err(); err != nil {
			t.Fatal(err)
		}
	}
	var got [][]string
	for i, s := range streams {
		got = append(got, s.until(t, ctx, all[min(i, 1)]))
	}
	expected := got[0]
	for i, g := range got[1:] {
		if !slices.Equal(g, got[1]) {
			t.Fatalf("node %d's subscriber:\n%s", i+1, streamDiff(g, got[1]))
		}
	}
	// Which key the active cycles take first may differ; the events may
	// not, and a write that meets an expired key follows its "expired".
	tail := []string{"__keyevent@0__:append lazy"}
	if !slices.Equal(got[1][len(got[1])-1:], tail) || !slices.Equal(expected[len(expected)-1:], tail) {
		t.Fatalf("the write after the expiries is not last:\n gateway:      %q\n redis-server: %q", got[1], expected)
	}
	slices.Sort(expected)
	slices.Sort(got[1])
	if !slices.Equal(got[1], expected) || len(expected) != 10 {
		t.Fatalf("gateway %q, redis-server %q", got[1], expected)
	}
}

// TestEnsembleCacheInvalidation: a client caches values read from node
// 1 and drops a key from its cache when node 1 notifies a change to it,
// while another client writes through node 2; after each write's
// notification the cache answers what the store holds. Node 3, whose
// notify-keyspace-events stays empty, notifies nothing.
func TestEnsembleCacheInvalidation(t *testing.T) {
	nodes := ensembleClients(t)
	ctx := testCtx(t)
	reader, writer, other := nodes[0], nodes[1], nodes[2]
	if err := reader.ConfigSet(ctx, "notify-keyspace-events", "Kg$").Err(); err != nil {
		t.Fatal(err)
	}
	c := newInvalidatedCache(t, ctx, reader)
	quiet := subscribeEvents(t, ctx, other)

	keys := []string{"a", "b", "c"}
	ops := [][]any{
		{"SET", "a", "1"}, {"SET", "b", "x"}, {"INCR", "a"}, {"APPEND", "b", "y"}, {"SET", "c", "z", "EX", "100"},
		{"RENAME", "c", "a"}, {"DEL", "b"}, {"SET", "b", "new"}, {"EXPIRE", "b", "-1"}, {"SET", "a", "7"}, {"INCRBY", "a", "5"},
		{"MSET", "a", "m", "c", "n"}, {"GETDEL", "c"}, {"SETRANGE", "a", "0", "Q"}, {"COPY", "a", "b"},
	}
	for _, k := range keys {
		c.get(k)
	}
	for _, op := range ops {
		before := c.invalidations()
		if err := writer.Do(ctx, op...).Err(); err != nil {
			t.Fatalf("%v: %v", op, err)
		}
		waitFor(t, fmt.Sprintf("the notification of %v", op), 10*time.Second, func() bool { return c.invalidations() > before })
		for _, k := range keys {
			truth, err := other.Get(ctx, k).Result()
			if err == redis.Nil {
				truth = "(nil)"
			}
			if got := c.get(k); got != truth {
				t.Fatalf("after %v the cache answers %s=%q, the store holds %q", op, k, got, truth)
			}
		}
	}
	if msgs := quiet.until(t, ctx, other); len(msgs) != 0 {
		t.Fatalf("node 3 notified %q with notify-keyspace-events empty", msgs)
	}
}

// invalidatedCache is a client-side cache of string values kept fresh
// by keyspace notifications.
type invalidatedCache struct {
	t      *testing.T
	ctx    context.Context
	client *redis.Client
	mu     sync.Mutex
	values map[string]string
	n      int
}

func newInvalidatedCache(t *testing.T, ctx context.Context, client *redis.Client) *invalidatedCache {
	c := &invalidatedCache{t: t, ctx: ctx, client: client, values: map[string]string{}}
	ps := client.PSubscribe(ctx, "__keyspace@0__:*")
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ps.Close() })
	go func() {
		for m := range ps.Channel() {
			key := strings.TrimPrefix(m.Channel, "__keyspace@0__:")
			c.mu.Lock()
			delete(c.values, key)
			c.n++
			c.mu.Unlock()
		}
	}()
	return c
}

// invalidations counts the notifications received.
func (c *invalidatedCache) invalidations() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// get answers from the cache, or reads the key and caches it.
func (c *invalidatedCache) get(key string) string {
	c.mu.Lock()
	v, ok := c.values[key]
	c.mu.Unlock()
	if ok {
		return v
	}
	v, err := c.client.Get(c.ctx, key).Result()
	switch {
	case err == redis.Nil:
		v = "(nil)"
	case err != nil:
		c.t.Fatal(err)
	}
	c.mu.Lock()
	c.values[key] = v
	c.mu.Unlock()
	return v
}

// TestEnsembleKeyspaceEventsOfBlockedPops: a pop that waited notifies
// when it is served, after the push that served it, as in Redis, though
// the client waits on one node and the push comes through another.
func TestEnsembleKeyspaceEventsOfBlockedPops(t *testing.T) {
	nodes := ensembleClients(t)
	want := redisServerClient(t)
	ctx := testCtx(t)
	waiter, pusher, sub := nodes[0], nodes[1], nodes[2]
	var streams []*eventStream
	for _, c := range []*redis.Client{want, sub} {
		if err := c.ConfigSet(ctx, "notify-keyspace-events", "KEA").Err(); err != nil {
			t.Fatal(err)
		}
		streams = append(streams, subscribeEvents(t, ctx, c))
	}
	for _, side := range []struct{ wait, push *redis.Client }{{want, want}, {waiter, pusher}} {
		for _, blocked := range [][]any{
			{"BLPOP", "bl", "0"}, {"BLMOVE", "bl", "dst", "RIGHT", "LEFT", "0"}, {"BZPOPMIN", "bz", "0"}, {"BLMPOP", "0", "1", "bl", "LEFT", "COUNT", "3"},
		} {
			done := make(chan error, 1)
			go func() { done <- side.wait.Do(ctx, blocked...).Err() }()
			waitBlocked(t, side.wait, 1)
			push := []any{"RPUSH", "bl", "a"}
			if blocked[0] == "BZPOPMIN" {
				push = []any{"ZADD", "bz", "1", "m"}
			}
			if err := side.push.Do(ctx, push...).Err(); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatalf("%v: %v", blocked, err)
			}
		}
	}
	got, expected := streams[1].until(t, ctx, sub), streams[0].until(t, ctx, want)
	if !slices.Equal(got, expected) || len(expected) == 0 {
		t.Fatalf("subscriber on node 3:\n%s", streamDiff(got, expected))
	}
}

// notifyTemplates are the write (and a few read) commands the random
// diff draws from: K is a key, M a member, N a small number, I a stream
// ID. Their replies do not depend on hash order or randomness.
var notifyTemplates = []string{
	"SET K N", "SET K N NX", "SET K N XX GET", "SET K N EX 100", "GETSET K N", "GETDEL K", "APPEND K M",
	"INCR K", "INCRBY K N", "INCRBYFLOAT K 1.5", "SETRANGE K 1 M", "MSET K N K N", "MSETNX K N K N",
	"DEL K K", "UNLINK K", "RENAME K K", "RENAMENX K K", "COPY K K", "COPY K K REPLACE", "MOVE K 1",
	"EXPIRE K 100", "EXPIRE K -1", "PEXPIRE K 100000 GT", "PERSIST K", "GETEX K PERSIST", "GETEX K EX 50",
	"LPUSH K M M", "RPUSH K M", "LPUSHX K M", "RPUSHX K M", "RPOP K", "LPOP K 2", "LREM K 0 M", "LTRIM K 1 -1",
	"LSET K 0 M", "LINSERT K BEFORE M M", "LMOVE K K LEFT RIGHT", "RPOPLPUSH K K", "LMPOP 2 K K RIGHT COUNT 2",
	"HSET K M N", "HSETNX K M N", "HDEL K M M", "HINCRBY K M N", "HINCRBYFLOAT K M 1.5",
	"SADD K M M", "SREM K M", "SMOVE K K M", "SINTERSTORE K K K", "SUNIONSTORE K K K", "SDIFFSTORE K K K",
	"ZADD K N M", "ZADD K INCR N M", "ZADD K XX CH N M", "ZADD K GT N M", "ZINCRBY K N M", "ZREM K M",
	"ZPOPMIN K", "ZPOPMAX K 2", "ZREMRANGEBYSCORE K 0 2", "ZREMRANGEBYRANK K 0 0", "ZREMRANGEBYLEX K - [y",
	"ZUNIONSTORE K 2 K K", "ZINTERSTORE K 2 K K", "ZDIFFSTORE K 2 K K", "ZRANGESTORE K K 0 -1", "ZMPOP 1 K MIN",
	"SETEX K 100 N", "PSETEX K 100000 N", "SETNX K N", "DECR K", "DECRBY K N", "GETEX K PXAT 1", "EXPIREAT K 1",
	"LPOP K 0", "RPOP K 5", "BRPOPLPUSH K K 0.01", "BLMOVE K K RIGHT LEFT 0.01", "BZPOPMIN K 0.01", "BLPOP K K 0.01",
	"BZMPOP 0.01 2 K K MAX COUNT 2", "BLMPOP 0.01 2 K K LEFT", "SWAPDB 0 1", "COPY K K DB 1 REPLACE",
	"EXPIRE K 100 XX", "EXPIRE K 1000 LT", "PEXPIREAT K 1", "SET K N PX 100000 GET", "SET K N KEEPTTL",
	"ZADD K NX N M", "ZADD K LT CH N M", "ZRANGESTORE K K 0 0 REV", "ZRANGESTORE K K (1 +inf BYSCORE",
	"LINSERT K AFTER M M", "LREM K -1 M", "LREM K 1 M", "LTRIM K 0 0", "LTRIM K 3 2",
	`EVAL "return redis.call('INCR', KEYS[1])" 1 K`, `EVAL "redis.call('GET', KEYS[1]); return redis.pcall('LPUSH', KEYS[2], 'q')" 2 K K`,
	"GET K", "EXISTS K K", "TYPE K", "LLEN K", "SCARD K", "ZCARD K", "HLEN K", "ZSCORE K M", "SISMEMBER K M",
	"SINTERCARD 2 K K", "ZINTERCARD 2 K K", "SMISMEMBER K M M", "LPOS K M", "LINDEX K 0", "HGET K M", "HMGET K M M",
	"ZRANK K M", "ZCOUNT K 0 5", "GETRANGE K 0 1", "STRLEN K", "MGET K K", "TOUCH K", "ZMSCORE K M M", "LRANGE K 0 -1",
	"XADD K I M N", "XADD K MAXLEN 1 I M N", "XADD K NOMKSTREAM I M N", "XDEL K I I", "XTRIM K MAXLEN N",
	"XTRIM K MINID I", "XSETID K I", "XGROUP CREATE K M 0 MKSTREAM", "XGROUP CREATE K M $", "XGROUP SETID K M 0",
	"XGROUP DESTROY K M", "XGROUP CREATECONSUMER K M M", "XGROUP DELCONSUMER K M M", "XREADGROUP GROUP M M COUNT 2 STREAMS K >",
	"XREADGROUP GROUP M M STREAMS K 0", "XACK K M I", "XCLAIM K M M 0 I I", "XAUTOCLAIM K M M 0 0 COUNT 2", "XLEN K", "XRANGE K - +",
}

// TestRedisKeyspaceNotificationsRandomMatchRedisServer diffs the
// notifications of random command sequences over a few keys, so that
// every command meets every type, empty and missing keys.
func TestRedisKeyspaceNotificationsRandomMatchRedisServer(t *testing.T) {
	g := startGateway(t)
	want := redisServerClient(t)
	ctx := testCtx(t)
	gc := g.redisClient(2)
	for _, c := range []*redis.Client{want, gc} {
		if err := c.ConfigSet(ctx, "notify-keyspace-events", "KEAnm").Err(); err != nil {
			t.Fatal(err)
		}
	}
	for round := range 3 {
		script := randomNotifyScript(uint64(round), 300)
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			diffNotifications(t, ctx, script, want, 1, []*redis.Client{gc}, []*redis.Client{gc})
		})
	}
}

// randomNotifyScript returns n lines drawn from notifyTemplates with
// keys a to d, members x to z, numbers 0 to 3 and stream IDs 1-1 to 3-1,
// the same for a seed.
func randomNotifyScript(seed uint64, n int) string {
	rng := rand.New(rand.NewPCG(seed, seed))
	pick := func(from ...string) string { return from[rng.IntN(len(from))] }
	var lines []string
	for range n {
		words := strings.Split(pick(notifyTemplates...), " ")
		for i, w := range words {
			switch w {
			case "K":
				words[i] = pick("a", "b", "c", "d")
			case "M":
				words[i] = pick("x", "y", "z")
			case "N":
				words[i] = pick("0", "1", "2", "3")
			case "I":
				words[i] = pick("1-1", "1-2", "2-1", "3-1")
			}
		}
		lines = append(lines, strings.Join(words, " "))
	}
	return strings.Join(lines, "\n")
}
