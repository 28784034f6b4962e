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

// setScript exercises every set command against redis-server, edge cases
// and errors included. Every reply it asks for has one possible order: a
// set reply holds at most one member, random picks come from one-member
// sets.
var setScript = strings.Join([]string{
	// SADD, SREM, membership; the key goes with its last member.
	"SADD s a", "SADD s a b c", "SADD s c d d e", "SADD s", "SCARD s", "SCARD nokey",
	"SISMEMBER s a", "SISMEMBER s z", "SISMEMBER nokey a", "SISMEMBER s",
	"SMISMEMBER s a z b a", "SMISMEMBER nokey a b", "SMISMEMBER s",
	"SREM s a z a", "SREM s z", "SREM nokey a", "SREM s", "SCARD s",
	"SADD one x", "SMEMBERS one", "SMEMBERS nokey", "SMEMBERS",
	// SRANDMEMBER and SPOP on one member, and their argument errors.
	"SRANDMEMBER one", "SRANDMEMBER one 1", "SRANDMEMBER one 5", "SRANDMEMBER one -3", "SRANDMEMBER one 0",
	"SRANDMEMBER one x", "SRANDMEMBER one 1 2", "SRANDMEMBER one -9223372036854775808",
	"SRANDMEMBER nokey", "SRANDMEMBER nokey 3", "SRANDMEMBER nokey -3", "SRANDMEMBER nokey 0", "SRANDMEMBER",
	"SPOP one 0", "SCARD one", "SPOP one", "EXISTS one", "SPOP one", "SPOP nokey", "SPOP nokey 2", "SPOP nokey 0",
	"SPOP s -1", "SPOP s x", "SPOP s 1 2", "SPOP s 9223372036854775808", "SPOP",
	"SADD p1 q", "SPOP p1 5", "EXISTS p1", "SADD p2 q", "SPOP p2 1", "EXISTS p2",
	// Wrong type, for every command and every key position.
	"SET str x", "SADD str a", "SREM str a", "SMEMBERS str", "SISMEMBER str a", "SMISMEMBER str a", "SCARD str",
	"SPOP str", "SPOP str 0", "SPOP str 2", "SRANDMEMBER str", "SRANDMEMBER str 0", "SRANDMEMBER str -2", "SSCAN str 0",
	"SINTER str", "SINTER s str", "SINTER nokey str", "SINTER str nokey", "SUNION s str", "SUNION nokey str",
	"SDIFF s str", "SDIFF nokey str", "SDIFF str nokey", "SINTERSTORE dst s str", "SUNIONSTORE dst s str",
	"SDIFFSTORE dst s str", "SINTERCARD 1 str", "SINTERCARD 2 nokey str",
	"SMOVE str s a", "SMOVE s str b", "SMOVE nokey str b", "SMOVE nokey s b", "DEL s",
	// Set algebra with one-member results.
	"SADD s1 a b c d", "SADD s2 c d e", "SADD s3 d e f", "SADD only1 m",
	"SINTER s1 s2 s3", "SINTER s1 nokey", "SINTER nokey", "SINTER s1 only1", "SINTER",
	"SDIFF s2 s1 s3", "SDIFF s1 s1", "SDIFF nokey s1", "SDIFF only1 nokey",
	"SUNION nokey", "SUNION only1 nokey", "SUNION nokey nokey2",
	// The STORE forms replace any type, drop the time to live, delete
	// the destination for an empty result.
	"SINTERSTORE d1 s1 s2 s3", "SMEMBERS d1", "TYPE d1", "SINTERSTORE d1 s1 only1", "EXISTS d1",
	"SET d2 string", "EXPIRE d2 100", "SUNIONSTORE d2 only1 nokey", "TYPE d2", "TTL d2", "SMEMBERS d2",
	"SDIFFSTORE d2 nokey", "EXISTS d2", "SDIFFSTORE d3 s1 s2 s3", "SCARD d3", "SUNIONSTORE d4 s1 s2 s3", "SCARD d4",
	"SINTERSTORE d4 nokey s1", "EXISTS d4", "SINTERSTORE s1 s1 s2", "SCARD s1", "SUNIONSTORE", "SUNIONSTORE d5",
	// SINTERCARD.
	"SADD s1 a b c d", "SINTERCARD 3 s1 s2 s3", "SINTERCARD 2 s1 s2", "SINTERCARD 2 s1 s2 LIMIT 1",
	"SINTERCARD 2 s1 s2 LIMIT 0", "SINTERCARD 2 s1 s2 LIMIT 5", "SINTERCARD 2 s1 s2 limit 1 LIMIT 0",
	"SINTERCARD 2 s1 nokey", "SINTERCARD 1 s1", "SINTERCARD 0 s1", "SINTERCARD -1 s1", "SINTERCARD x s1",
	"SINTERCARD 3 s1 s2", "SINTERCARD 2 s1 s2 LIMIT", "SINTERCARD 2 s1 s2 LIMIT -1", "SINTERCARD 2 s1 s2 LIMIT x",
	"SINTERCARD 2 s1 s2 FOO", "SINTERCARD 1 s1 s2", "SINTERCARD", "SINTERCARD 1",
	// SMOVE.
	"SMOVE s1 s2 a", "SISMEMBER s1 a", "SISMEMBER s2 a", "SMOVE s1 s2 a", "SMOVE s1 s2 c", "SCARD s1", "SCARD s2",
	"SMOVE s1 s1 b", "SMOVE s1 s1 z", "SMOVE s1 newset b", "SMEMBERS newset", "SMOVE newset s1 b", "EXISTS newset",
	"SMOVE s1 str a", "SMOVE s1 str zz", "SMOVE nokey s1 a", "SMOVE s1 s2",
	// The time to live stays through changes and goes with the key.
	"SADD t a b", "EXPIRE t 100", "SADD t c", "SREM t a", "SMOVE t s2 b", "SPOP t 0", "TTL t", "SMOVE s2 t b", "TTL t",
	"SREM t c", "SPOP t 10", "EXISTS t", "TTL t",
	"SADD sd q", "SUNIONSTORE sd nokey nokey2", "EXISTS sd", "SADD sd a b", "SDIFFSTORE sd sd nokey", "SCARD sd",
	"SINTERSTORE sd sd nokey", "EXISTS sd", "SINTERSTORE str str", "SMISMEMBER nokey",
	// Empty members; SSCAN.
	`SADD e ""`, `SISMEMBER e ""`, "SMEMBERS e", "SSCAN e 0",
	"SADD sc mem", "SSCAN sc 0", "SSCAN sc 0 MATCH m*", "SSCAN sc 0 MATCH x*", "SSCAN sc 0 COUNT 100",
	"SSCAN sc 0 COUNT 0", "SSCAN sc 0 COUNT x", "SSCAN sc 0 TYPE set", "SSCAN sc 0 MATCH", "SSCAN sc abc",
	"SSCAN nokey 0", "SSCAN sc", "DEL s1 s2 s3 sc", "DBSIZE",
}, "\n") + "\n"

// TestRedisSetsMatchRedisServer diffs the set commands against
// redis-server, in RESP2 (raw and formatted) and RESP3.
func TestRedisSetsMatchRedisServer(t *testing.T) {
	g := startGateway(t)
	diffWithRedis(t, g, setScript)
	diffWithRedisRESP3(t, g, setScript)
}

// numberedMembers returns p+lo .. p+(hi-1), numbers in three digits.
func numberedMembers(p string, lo, hi int) []string {
	var out []string
	for i := lo; i < hi; i++ {
		out = append(out, fmt.Sprintf("%s%03d", p, i))
	}
	return out
}

func asAnys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// TestRedisSetsClients checks the set replies whose order Redis leaves
// open, through go-redis over RESP2 and RESP3.
func TestRedisSetsClients(t *testing.T) { testRedisSetsClients(t, startGateway(t)) }

func testRedisSetsClients(t *testing.T, g redisTarget) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			ctx := testCtx(t)
			c := g.redisClient(proto)
			p := func(k string) string { return fmt.Sprintf("p%d:%s", proto, k) }
			a, b, cc := p("a"), p("b"), p("c")
			// a = m000..m059 plus two odd members, b = m040..m099, c = m050..m069.
			am := append(numberedMembers("m", 0, 60), "", "\x00\xff\r\n")
			bm, cm := numberedMembers("m", 40, 100), numberedMembers("m", 50, 70)
			if n := r(c.SAdd(ctx, a, asAnys(am)...).Result()).must(t, "SADD a"); n != int64(len(am)) {
				t.Fatalf("SADD a = %d", n)
			}
			r(c.SAdd(ctx, b, asAnys(bm)...).Result()).must(t, "SADD b")
			r(c.SAdd(ctx, cc, asAnys(cm)...).Result()).must(t, "SADD c")

			sameMembers(t, "SMEMBERS", r(c.SMembers(ctx, a).Result()).must(t, "SMEMBERS"), am)
			sameMembers(t, "SINTER a b", r(c.SInter(ctx, a, b).Result()).must(t, "SINTER"), numberedMembers("m", 40, 60))
			sameMembers(t, "SINTER a b c", r(c.SInter(ctx, a, b, cc).Result()).must(t, "SINTER"), numberedMembers("m", 50, 60))
			sameMembers(t, "SUNION a b", r(c.SUnion(ctx, a, b, p("nokey")).Result()).must(t, "SUNION"), append(numberedMembers("m", 0, 100), "", "\x00\xff\r\n"))
			sameMembers(t, "SDIFF a b", r(c.SDiff(ctx, a, b).Result()).must(t, "SDIFF"), append(numberedMembers("m", 0, 40), "", "\x00\xff\r\n"))
			sameMembers(t, "SDIFF b a c", r(c.SDiff(ctx, b, a, cc).Result()).must(t, "SDIFF"), numberedMembers("m", 70, 100))
			if n := r(c.SInterCard(ctx, 0, a, b).Result()).must(t, "SINTERCARD"); n != 20 {
				t.Fatalf("SINTERCARD a b = %d", n)
			}
			if n := r(c.SInterCard(ctx, 7, a, b).Result()).must(t, "SINTERCARD LIMIT"); n != 7 {
				t.Fatalf("SINTERCARD LIMIT 7 = %d", n)
			}

			// The STORE forms.
			d := p("d")
			if n := r(c.SUnionStore(ctx, d, a, b).Result()).must(t, "SUNIONSTORE"); n != 102 {
				t.Fatalf("SUNIONSTORE = %d", n)
			}
			if n := r(c.SInterStore(ctx, d, d, cc).Result()).must(t, "SINTERSTORE"); n != 20 {
				t.Fatalf("SINTERSTORE d d c = %d", n)
			}
			sameMembers(t, "SMEMBERS after SINTERSTORE", r(c.SMembers(ctx, d).Result()).must(t, "SMEMBERS"), cm)
			if n := r(c.SDiffStore(ctx, d, b, cc).Result()).must(t, "SDIFFSTORE"); n != 40 {
				t.Fatalf("SDIFFSTORE = %d", n)
			}
			if n := r(c.SCard(ctx, d).Result()).must(t, "SCARD"); n != 40 {
				t.Fatalf("SCARD after SDIFFSTORE = %d", n)
			}

			// SSCAN in small steps sees every member once.
			var seen []string
			var cursor uint64
			steps := 0
			for {
				page, next, err := c.SScan(ctx, a, cursor, "", 9).Result()
				if err != nil {
					t.Fatalf("SSCAN: %v", err)
				}
				seen = append(seen, page...)
				steps++
				if cursor = next; cursor == 0 {
					break
				}
			}
			if steps < 2 {
				t.Fatalf("SSCAN COUNT 9 over %d members took %d steps", len(am), steps)
			}
			sameMembers(t, "SSCAN", seen, am)
			page, next, err := c.SScan(ctx, a, 0, "m01*", 1000).Result()
			if err != nil || next != 0 {
				t.Fatalf("SSCAN MATCH: %v, cursor %d", err, next)
			}
			sameMembers(t, "SSCAN MATCH m01*", page, numberedMembers("m", 10, 20))

			// Random reads.
			isMember := map[string]bool{}
			for _, m := range am {
				isMember[m] = true
			}
			check := func(what string, got []string, n int, distinct bool) {
				t.Helper()
				if len(got) != n {
					t.Fatalf("%s: %d members, want %d", what, len(got), n)
				}
				set := map[string]bool{}
				for _, m := range got {
					if !isMember[m] {
						t.Fatalf("%s: %q is not a member", what, m)
					}
					set[m] = true
				}
				if distinct && len(set) != n {
					t.Fatalf("%s: repeats in %q", what, got)
				}
			}
			one := r(c.SRandMember(ctx, a).Result()).must(t, "SRANDMEMBER")
			check("SRANDMEMBER", []string{one}, 1, true)
			check("SRANDMEMBER 10", r(c.SRandMemberN(ctx, a, 10).Result()).must(t, "SRANDMEMBER 10"), 10, true)
			check("SRANDMEMBER 61", r(c.SRandMemberN(ctx, a, 61).Result()).must(t, "SRANDMEMBER 61"), 61, true)
			check("SRANDMEMBER 500", r(c.SRandMemberN(ctx, a, 500).Result()).must(t, "SRANDMEMBER 500"), len(am), true)
			check("SRANDMEMBER -500", r(c.SRandMemberN(ctx, a, -500).Result()).must(t, "SRANDMEMBER -500"), 500, false)
			if _, err := c.SRandMember(ctx, p("nokey")).Result(); err != redis.Nil {
				t.Fatalf("SRANDMEMBER nokey: %v, want nil", err)
			}
			in := r(c.SMIsMember(ctx, a, "m000", "zzz", "").Result()).must(t, "SMISMEMBER")
			if !slices.Equal(in, []bool{true, false, true}) {
				t.Fatalf("SMISMEMBER = %v", in)
			}

			// SPOP takes distinct members out; the last one takes the key.
			popped := map[string]bool{}
			for _, n := range []int64{1, 5, 30} {
				got := r(c.SPopN(ctx, a, n).Result()).must(t, "SPOP count")
				check(fmt.Sprint("SPOP ", n), got, int(n), true)
				for _, m := range got {
					if popped[m] {
						t.Fatalf("SPOP returned %q again", m)
					}
					popped[m] = true
				}
			}
			m := r(c.SPop(ctx, a).Result()).must(t, "SPOP")
			if popped[m] || !isMember[m] {
				t.Fatalf("SPOP = %q", m)
			}
			popped[m] = true
			left := r(c.SMembers(ctx, a).Result()).must(t, "SMEMBERS")
			if len(left) != len(am)-len(popped) {
				t.Fatalf("%d members left after popping %d of %d", len(left), len(popped), len(am))
			}
			for _, m := range left {
				if popped[m] {
					t.Fatalf("popped %q is still a member", m)
				}
			}
			if n := r(c.SCard(ctx, a).Result()).must(t, "SCARD"); n != int64(len(left)) {
				t.Fatalf("SCARD = %d, want %d", n, len(left))
			}
			check("SPOP rest", r(c.SPopN(ctx, a, 1000).Result()).must(t, "SPOP rest"), len(left), true)
			if n := r(c.Exists(ctx, a).Result()).must(t, "EXISTS"); n != 0 {
				t.Fatal("an emptied set still exists")
			}
			if _, err := c.SPop(ctx, a).Result(); err != redis.Nil {
				t.Fatalf("SPOP on a missing key: %v, want nil", err)
			}

			// Wrong types both ways.
			r(c.Set(ctx, p("str"), "x", 0).Result()).must(t, "SET")
			_, err = c.SAdd(ctx, p("str"), "m").Result()
			expectErr(t, "SADD string", err, "WRONGTYPE Operation against a key holding the wrong kind of value")
			_, err = c.Get(ctx, b).Result()
			expectErr(t, "GET set", err, "WRONGTYPE Operation against a key holding the wrong kind of value")
			_, err = c.SUnion(ctx, b, p("str")).Result()
			expectErr(t, "SUNION set string", err, "WRONGTYPE Operation against a key holding the wrong kind of value")
		})
	}
}

// TestRedisSetsRestart: sets, their counts and times to live are the same
// after the node is killed and restarted.
func TestRedisSetsRestart(t *testing.T) {
	g := startGateway(t)
	ctx := testCtx(t)
	c := g.redisClient(3)
	all := numberedMembers("m", 0, 40)
	r(c.SAdd(ctx, "s", asAnys(all)...).Result()).must(t, "SADD")
	popped := r(c.SPopN(ctx, "s", 7).Result()).must(t, "SPOP")
	// SPOP picked at random, so SREM and SMOVE take members it left.
	left := slices.DeleteFunc(slices.Clone(all), func(m string) bool { return slices.Contains(popped, m) })
	if n := r(c.SRem(ctx, "s", left[0], left[1]).Result()).must(t, "SREM"); n != 2 {
		t.Fatalf("SREM of two members = %d", n)
	}
	if !r(c.SMove(ctx, "s", "moved", left[2]).Result()).must(t, "SMOVE") {
		t.Fatal("SMOVE of a member = false")
	}
	r(c.SInterStore(ctx, "inter", "s", "s").Result()).must(t, "SINTERSTORE")
	r(c.Expire(ctx, "s", time.Hour).Result()).must(t, "EXPIRE")
	before := r(c.SMembers(ctx, "s").Result()).must(t, "SMEMBERS")
	want := map[string]bool{}
	for _, m := range all {
		want[m] = true
	}
	for _, m := range append(popped, left[:3]...) {
		delete(want, m)
	}
	sameMembers(t, "SMEMBERS before restart", before, slices.Collect(maps.Keys(want)))

	g.kill()
	g.restart()
	c = g.redisClient(3)
	sameMembers(t, "SMEMBERS after restart", r(c.SMembers(ctx, "s").Result()).must(t, "SMEMBERS"), before)
	sameMembers(t, "SINTERSTORE result after restart", r(c.SMembers(ctx, "inter").Result()).must(t, "SMEMBERS"), before)
	sameMembers(t, "SMOVE target after restart", r(c.SMembers(ctx, "moved").Result()).must(t, "SMEMBERS"), []string{left[2]})
	if n := r(c.SCard(ctx, "s").Result()).must(t, "SCARD"); n != int64(len(before)) {
		t.Fatalf("after restart SCARD = %d, want %d", n, len(before))
	}
	if ttl := r(c.TTL(ctx, "s").Result()).must(t, "TTL"); ttl < 59*time.Minute {
		t.Fatalf("after restart TTL = %v", ttl)
	}
}

// TestRedisSetsReplicasPopAlike: SPOP picks at random at the proposer's
// seed, so every replica of an ensemble pops the same members.
func TestRedisSetsReplicasPopAlike(t *testing.T) {
	e := startEnsemble(t, 3)
	ctx := testCtx(t)
	var clients []*redis.Client
	for i := range e.nodes {
		clients = append(clients, e.nodes[i].redisClient(2))
	}
	r(clients[0].SAdd(ctx, "s", asAnys(numberedMembers("m", 0, 200))...).Result()).must(t, "SADD")
	for round := range 12 {
		c := clients[round%3]
		if round%2 == 0 {
			r(c.SPopN(ctx, "s", int64(round+1)).Result()).must(t, "SPOP count")
		} else {
			r(c.SPop(ctx, "s").Result()).must(t, "SPOP")
		}
	}
	want := r(clients[0].SMembers(ctx, "s").Result()).must(t, "SMEMBERS")
	if len(want) != 200-36-6 {
		t.Fatalf("%d members left, want %d", len(want), 200-36-6)
	}
	e.converge(0, 1, 2)
	for i, c := range clients[1:] {
		sameMembers(t, fmt.Sprint("SMEMBERS on node ", i+2), r(c.SMembers(ctx, "s").Result()).must(t, "SMEMBERS"), want)
	}
}
