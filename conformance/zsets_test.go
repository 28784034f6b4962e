package conformance

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The sorted-set scripts below run against the gateway and a real
// redis-server 7.0 (diffWithRedis); every reply and error must match
// byte for byte. Each starts with FLUSHALL: diffWithRedis runs a script
// twice (raw and formatted) on the same servers.

var zsetScripts = map[string]string{
	"add": `FLUSHALL
ZADD z 1 a 2 b 3 c 4 d 5 e
ZADD z nx 10 a 6 f
ZADD z xx 10 a 7 g
ZRANGE z 0 -1 WITHSCORES
ZADD z gt 5 a
ZADD z gt 15 a
ZADD z lt 20 a
ZADD z lt 1 a
ZADD z GT CH 2 a 3 b 100 new
ZADD z LT CH 0 a 0 b
ZADD z XX GT CH 50 b 60 nope
ZADD z INCR 5 a
ZADD z NX INCR 5 a
ZADD z XX INCR 5 nope
ZADD z GT INCR -1 a
ZADD z LT INCR -1 a
ZADD z 1 dup 2 dup
ZSCORE z dup
ZADD z CH 1 dup 3 dup
ZADD z INCR XX CH 1 a
ZADD newz XX 1 a
EXISTS newz
ZADD newz XX INCR 1 a
ZADD z 1
ZADD z ch
ZADD z a 1
ZADD z 1 a 2
ZADD z NX XX 1 a
ZADD z NX GT 1 a
ZADD z GT LT 1 a
ZADD z LT NX 1 a
ZADD z INCR 1 a 2 b
ZADD z x a
ZADD z nan a
ZADD z 1 a 2 b 3
ZADD z
ZADD z 1 a xx
ZCARD z
ZCARD nokey
ZINCRBY z 2.5 a
ZINCRBY z -1e3 b
ZINCRBY z abc a
ZINCRBY z nx a
ZINCRBY z 1 a x
ZINCRBY z inf c
ZINCRBY z -inf c
ZADD z INCR -inf c
ZINCRBY z 1e308 a
ZINCRBY z 1e308 a
ZSCORE z a
ZINCRBY z 0x10 hex
ZINCRBY z -0 negzero
ZSCORE z negzero
ZADD z -0 negzero2
ZSCORE z negzero2
ZINCRBY brandnew 3 m
ZRANGE brandnew 0 -1 WITHSCORES
ZADD z 0.1 tenth 3.14159265358979323846 pi 1e-320 tiny 123456789012345678901234567890 huge
ZMSCORE z tenth pi tiny huge nope
ZSCORE z nope
ZSCORE nokey a
ZMSCORE nokey a b
ZREM z a b nope
ZREM z nope
ZREM nokey a
ZREM z
ZRANGE z 0 -1 WITHSCORES
ZREM brandnew m
EXISTS brandnew
`,
	"floats": `FLUSHALL
ZADD f " 1" a
ZADD f "1 " a
ZADD f "" a
ZADD f "+1" a
ZADD f "1e" a
ZADD f "1e+" a
ZADD f "1e+2" a
ZADD f "1.e2" b
ZADD f "0x1.8p1" c
ZADD f "0x.8" d
ZADD f "-Infinity" e
ZADD f "infinit" e
ZADD f "nan(123)" e
ZADD f "1e-400" e
ZADD f "-1e-400" e
ZADD f "4.9e-324" e
ZADD f "1e308" g
ZADD f "1.7976931348623157e308" h
ZADD f "1.8e308" h
ZADD f "0000.5" i
ZADD f "1,5" i
ZADD f "1..5" i
ZADD f "." i
ZADD f "-" i
ZADD f "0x" i
ZADD f "0xg" i
ZADD f "0x1p" i
ZADD f "0x1p+" i
ZADD f "1_0" i
ZADD f "0X1A" j
ZADD f "-0x10" k
ZRANGE f 0 -1 WITHSCORES
ZCOUNT f " 1" "+inf"
ZCOUNT f "( 1" "+inf"
ZCOUNT f "(" "("
ZCOUNT f "" ""
ZCOUNT f "1e400" "inf"
ZCOUNT f "-1e400" "1e400"
ZCOUNT f "1e-400" "1"
ZCOUNT f "1 " 2
ZCOUNT f "0x10" 2
ZCOUNT f "((1" 2
ZCOUNT f "[1" 2
ZCOUNT f "1e" 2
ZCOUNT f nan 2
ZCOUNT f 1 "+nan"
ZCOUNT f -inf infinity
ZCOUNT f -Infinity +INF
ZCOUNT f (-inf (inf
ZCOUNT f 3 1
ZCOUNT f (1 1
ZCOUNT nokey 0 1
ZCOUNT nokey x 1
`,
	"range": `FLUSHALL
ZADD z 1 a 2 b 3 c 4 d 5 e 5 f 5 g 6 h
ZRANGE z 0 -1
ZRANGE z 0 -1 WITHSCORES
ZRANGE z 2 4
ZRANGE z -3 -1 WITHSCORES
ZRANGE z -100 100
ZRANGE z 5 2
ZRANGE z 8 10
ZRANGE z 7 100
ZRANGE z -1 -3
ZRANGE z 0 0 REV
ZRANGE z 0 -1 REV WITHSCORES
ZRANGE z 0 1 withscores rev
ZRANGE z 0 -1 LIMIT 0 1
ZRANGE z 0 -1 LIMIT 0 -1
ZRANGE z 0 x
ZRANGE z x 0
ZRANGE z 0 9223372036854775807
ZRANGE z -9223372036854775808 -1
ZRANGE z 0 -1 BYSCORE
ZRANGE z 1 5 BYSCORE
ZRANGE z (1 (5 BYSCORE WITHSCORES
ZRANGE z 5 1 BYSCORE REV
ZRANGE z (5 1 BYSCORE REV WITHSCORES
ZRANGE z 1 5 BYSCORE REV
ZRANGE z -inf +inf BYSCORE LIMIT 2 3
ZRANGE z -inf +inf BYSCORE LIMIT 2 3 REV
ZRANGE z -inf +inf BYSCORE LIMIT 8 3
ZRANGE z -inf +inf BYSCORE LIMIT 7 3
ZRANGE z -inf +inf BYSCORE LIMIT 0 0
ZRANGE z -inf +inf BYSCORE LIMIT -1 1
ZRANGE z -inf +inf BYSCORE LIMIT 1 -1
ZRANGE z -inf +inf BYSCORE LIMIT 1 -5 LIMIT 2 2
ZRANGE z -inf +inf BYSCORE LIMIT 1 x
ZRANGE z -inf +inf BYSCORE LIMIT 1
ZRANGE z -inf +inf BYSCORE LIMIT
ZRANGE z a b BYSCORE
ZRANGE z 1 5 BYSCORE BYSCORE
ZRANGE z 1 5 BYSCORE BYLEX
ZRANGE z 1 5 REV REV
ZRANGE z 1 5 FOO
ZRANGE z [a [c BYLEX
ZRANGE z [a [c BYLEX LIMIT 1 1
ZRANGE z [c [a BYLEX REV
ZRANGE z a c BYLEX
ZRANGE z [a c BYLEX
ZRANGE z [a [c BYLEX WITHSCORES
ZRANGE z 0 -1 WITHSCORES WITHSCORES
ZRANGEBYSCORE z 5 5
ZRANGEBYSCORE z 5 5 WITHSCORES LIMIT 1 1
ZRANGEBYSCORE z (5 5
ZRANGEBYSCORE z 5 (5
ZRANGEBYSCORE z -inf 2 WITHSCORES
ZRANGEBYSCORE z 1 2 REV
ZRANGEBYSCORE z 1 2 BYSCORE
ZRANGEBYSCORE z 1 2 BYLEX
ZRANGEBYSCORE z 1 2 LIMIT 0
ZREVRANGEBYSCORE z 5 1
ZREVRANGEBYSCORE z 1 5
ZREVRANGEBYSCORE z +inf -inf WITHSCORES LIMIT 1 2
ZREVRANGEBYSCORE z 5 (5
ZREVRANGEBYSCORE z x 1
ZREVRANGE z 0 2
ZREVRANGE z 0 2 WITHSCORES
ZREVRANGE z -2 -1
ZREVRANGE z 0 -1 REV
ZREVRANGE z 0 -1 BYSCORE
ZREVRANGE z 0 -1 LIMIT 0 1
ZREVRANGE z 0 x
ZRANGEBYSCORE nokey 0 1
ZRANGEBYSCORE nokey x 1
ZRANGE nokey 0 -1 FOO
ZREVRANGE nokey 0 -1
ZRANGE z
ZRANGE z 0
ZRANK z e
ZRANK z h
ZREVRANK z h
ZREVRANK z a
ZRANK z nope
ZRANK nokey a
ZRANK z
ZREVRANK z
`,
	"lex": `FLUSHALL
ZADD l 0 alpha 0 beta 0 gamma 0 delta 0 epsilon 0 zeta 0 ""
ZRANGEBYLEX l - +
ZRANGEBYLEX l - + WITHSCORES
ZRANGEBYLEX l - + LIMIT 2 2
ZRANGEBYLEX l - + LIMIT -1 2
ZRANGEBYLEX l - + LIMIT 2 -1
ZRANGEBYLEX l [b (g
ZRANGEBYLEX l (beta [gamma
ZRANGEBYLEX l [beta (beta
ZRANGEBYLEX l [beta [beta
ZRANGEBYLEX l (a (z
ZRANGEBYLEX l [ [b
ZRANGEBYLEX l ( (b
ZRANGEBYLEX l - (
ZRANGEBYLEX l + -
ZRANGEBYLEX l - -
ZRANGEBYLEX l + +
ZRANGEBYLEX l [z +
ZRANGEBYLEX l x +
ZRANGEBYLEX l -x +
ZRANGEBYLEX l "" +
ZRANGEBYLEX l - + REV
ZRANGEBYLEX l - + BYSCORE
ZREVRANGEBYLEX l + -
ZREVRANGEBYLEX l [gamma [beta
ZREVRANGEBYLEX l (gamma (beta
ZREVRANGEBYLEX l + - LIMIT 1 2
ZREVRANGEBYLEX l - +
ZREVRANGEBYLEX l [zz [a
ZREVRANGEBYLEX l [b -
ZREVRANGEBYLEX l [delta [delta
ZRANGE l (b + BYLEX REV
ZRANGE l + (b BYLEX REV LIMIT 0 2
ZRANGE l [b [e BYLEX LIMIT 1 10
ZLEXCOUNT l - +
ZLEXCOUNT l [b [e
ZLEXCOUNT l (b (e
ZLEXCOUNT l + -
ZLEXCOUNT l a b
ZLEXCOUNT l [a
ZLEXCOUNT nokey - +
ZLEXCOUNT nokey a b
ZRANK l alpha
ZRANK l ""
ZREVRANK l ""
ZADD n 0 a 0 aa 0 ab 0 b 0 ba 0 c
ZRANGEBYLEX n [a (b
ZRANGEBYLEX n (a [b
ZRANGEBYLEX n [aa [ba
ZREVRANGEBYLEX n (c (a
ZREMRANGEBYLEX n [aa (b
ZRANGE n 0 -1
`,
	"pop": `FLUSHALL
ZADD z 1 a 2 b 3 c 4 d 5 e
ZPOPMIN z
ZPOPMAX z
ZPOPMIN z 2
ZPOPMIN z 0
ZPOPMIN z -1
ZPOPMIN z x
ZPOPMIN z 1 2
ZPOPMAX z 10
EXISTS z
ZPOPMIN z
ZPOPMIN z 1
ZPOPMAX nokey 3
ZPOPMAX nokey 0
ZPOPMIN
ZADD z 1 a 2 b 3 c 4 d 5 e
ZADD y 10 x
ZMPOP 1 z MIN
ZMPOP 1 z MAX COUNT 2
ZMPOP 2 nokey z MIN COUNT 10
EXISTS z
ZMPOP 2 nokey z MIN
ZMPOP 3 nokey z y max
ZMPOP 1 y min count 1
ZMPOP 0 z MIN
ZMPOP -1 z MIN
ZMPOP x z MIN
ZMPOP 1 z
ZMPOP 2 z MIN
ZMPOP 1 z MIDDLE
ZMPOP 1 z MIN COUNT
ZMPOP 1 z MIN COUNT 0
ZMPOP 1 z MIN COUNT -1
ZMPOP 1 z MIN COUNT x
ZMPOP 1 z MIN FOO 1
ZMPOP 1 z MIN COUNT 1 COUNT 2
ZMPOP 9223372036854775807 z MIN
SET s v
ZMPOP 1 s MIN
ZMPOP 2 nokey s MIN
ZPOPMIN s
ZPOPMAX s 0
ZADD z 1 a
ZMPOP 2 z s MIN
ZADD t 1 a 2 b
EXPIRE t 100
ZPOPMIN t
TTL t
ZPOPMIN t
TTL t
`,
	"remrange": `FLUSHALL
ZADD z 1 a 2 b 3 c 4 d 5 e 6 f
ZREMRANGEBYRANK z 0 1
ZRANGE z 0 -1
ZREMRANGEBYRANK z -1 -1
ZREMRANGEBYRANK z 5 10
ZREMRANGEBYRANK z 2 1
ZREMRANGEBYRANK z x 1
ZREMRANGEBYRANK nokey 0 1
ZREMRANGEBYRANK nokey x 1
ZREMRANGEBYSCORE z (3 4
ZRANGE z 0 -1 WITHSCORES
ZREMRANGEBYSCORE z x 1
ZREMRANGEBYSCORE z 10 1
ZREMRANGEBYSCORE z -inf +inf
EXISTS z
ZADD l 0 a 0 b 0 c 0 d 0 e
ZREMRANGEBYLEX l [b (d
ZRANGE l 0 -1
ZREMRANGEBYLEX l x y
ZREMRANGEBYLEX l + -
ZREMRANGEBYLEX l - +
EXISTS l
ZREMRANGEBYLEX nokey - +
ZREMRANGEBYLEX nokey x +
SET s v
ZREMRANGEBYRANK s 0 1
ZREMRANGEBYSCORE s 0 1
ZREMRANGEBYLEX s - +
ZREMRANGEBYSCORE s x 1
ZREMRANGEBYRANK z 0
`,
	"store": `FLUSHALL
ZADD src 1 a 2 b 3 c 4 d
ZRANGESTORE dst src 0 -1
ZRANGE dst 0 -1 WITHSCORES
ZRANGESTORE dst src 1 2 REV
ZRANGE dst 0 -1 WITHSCORES
ZRANGESTORE dst src (1 3 BYSCORE LIMIT 1 5
ZRANGE dst 0 -1 WITHSCORES
ZRANGESTORE dst src [c - BYLEX REV
ZRANGE dst 0 -1 WITHSCORES
ZRANGESTORE dst src 5 10
EXISTS dst
ZRANGESTORE dst src 0 -1 WITHSCORES
ZRANGESTORE dst src 0 -1 LIMIT 0 1
ZRANGESTORE dst src x 1
ZRANGESTORE dst nokey 0 -1
SET dst x
ZRANGESTORE dst src 0 0
TYPE dst
ZRANGESTORE dst nokey 0 -1
EXISTS dst
SET dst x
EXPIRE dst 100
ZRANGESTORE dst src 0 1
TTL dst
ZRANGESTORE src src 1 2
ZRANGE src 0 -1 WITHSCORES
SET s v
ZRANGESTORE dst s 0 1
ZRANGESTORE dst src 0
`,
	"setops": `FLUSHALL
ZADD a 1 x 2 y 3 z
ZADD b 10 y 20 z 30 w
ZADD c 100 z
ZUNION 2 a b
ZUNION 2 a b WITHSCORES
ZUNION 3 a b c WITHSCORES AGGREGATE MIN
ZUNION 3 a b c WITHSCORES AGGREGATE MAX
ZUNION 3 a b c WITHSCORES AGGREGATE SUM
ZUNION 2 a b WEIGHTS 2 -1 WITHSCORES
ZUNION 2 a b WEIGHTS 2 WITHSCORES
ZUNION 2 a b WEIGHTS 2 x WITHSCORES
ZUNION 2 a b WEIGHTS 2 1 1 WITHSCORES
ZUNION 2 a b WITHSCORES WITHSCORES
ZUNION 2 a b AGGREGATE AVG
ZUNION 2 a b AGGREGATE
ZUNION 2 a b FOO
ZUNION 2 a nokey WITHSCORES
ZUNION 2 nokey nokey2
ZUNION 1 a LIMIT 1
ZUNION 0 a
ZUNION -1 a
ZUNION 3 a b
ZUNION x a
ZINTER 2 a b WITHSCORES
ZINTER 3 a b c WITHSCORES
ZINTER 2 a nokey WITHSCORES
ZINTER 2 a b WEIGHTS 1 0.5 AGGREGATE MAX WITHSCORES
ZINTER 2 a a WITHSCORES
ZINTER 2 a b
ZDIFF 2 a b WITHSCORES
ZDIFF 2 b a WITHSCORES
ZDIFF 1 a WITHSCORES
ZDIFF 3 a b c
ZDIFF 2 a b WEIGHTS 1 1
ZDIFF 2 a b AGGREGATE SUM
ZDIFF 2 nokey a
ZDIFF 2 a nokey WITHSCORES
ZUNIONSTORE d 2 a b
ZRANGE d 0 -1 WITHSCORES
ZUNIONSTORE d 2 a b WITHSCORES
ZUNIONSTORE d 2 a b WEIGHTS 1 2 AGGREGATE MIN
ZRANGE d 0 -1 WITHSCORES
ZINTERSTORE d 2 a b
ZRANGE d 0 -1 WITHSCORES
ZINTERSTORE d 2 a nokey
EXISTS d
ZDIFFSTORE d 2 b a
ZRANGE d 0 -1 WITHSCORES
ZDIFFSTORE d 2 a a
EXISTS d
ZUNIONSTORE a 2 a b
ZRANGE a 0 -1 WITHSCORES
SET s v
ZUNIONSTORE d 2 a s
ZUNIONSTORE d 1 s FOO
ZINTERSTORE s 1 b
TYPE s
ZRANGE s 0 -1 WITHSCORES
EXPIRE s 100
ZUNIONSTORE s 1 b
TTL s
ZUNIONSTORE d 0 a
ZUNIONSTORE d x a
ZUNIONSTORE d 3 a
ZINTERSTORE d 1 a WITHSCORES
ZINTERCARD 2 a b
ZINTERCARD 2 a b LIMIT 1
ZINTERCARD 2 a b LIMIT 0
ZINTERCARD 2 a b LIMIT -1
ZINTERCARD 2 a b LIMIT x
ZINTERCARD 2 a b LIMIT
ZINTERCARD 2 a b WEIGHTS 1 1
ZINTERCARD 2 a b WITHSCORES
ZINTERCARD 1 nokey
ZINTERCARD 0 a
ZINTERCARD 3 a b
SET str v
ZINTERCARD 2 a str
ZUNION 2 a str
ZDIFF 2 a str
ZADD inf inf m -inf n
ZADD ninf -inf m inf n
ZUNION 2 inf ninf WITHSCORES
ZINTER 2 inf ninf WITHSCORES
ZINTER 2 inf ninf WEIGHTS 0 1 WITHSCORES AGGREGATE MAX
ZINTER 2 inf inf WEIGHTS 1 0 WITHSCORES
ZINTER 2 inf inf WEIGHTS 1 0 AGGREGATE MIN WITHSCORES
ZUNION 2 inf inf WEIGHTS 0 0 WITHSCORES
ZUNION 2 inf ninf AGGREGATE MIN WITHSCORES
ZADD zero 0 m
ZUNION 1 zero WEIGHTS -1 WITHSCORES
ZUNIONSTORE d 1 zero WEIGHTS -1
ZSCORE d m
ZADD p 0.1 m
ZADD q 0.7 m 1 x 1 y
ZADD r 0.3 m 1 z
ZUNION 3 p q r WITHSCORES
ZINTER 3 q r p WITHSCORES
ZADD p2 0.1 m 1 a
ZADD q2 0.7 m 1 b
ZADD r2 0.3 m 1 c
ZUNION 3 p2 q2 r2 WITHSCORES
ZUNION 3 q2 r2 p2 WITHSCORES
`,
	"types": `FLUSHALL
SET str v
ZADD str 1 a
ZADD str x a
ZADD str NX XX 1 a
ZINCRBY str 1 a
ZREM str a
ZSCORE str a
ZMSCORE str a
ZCARD str
ZCOUNT str 0 1
ZCOUNT str x 1
ZLEXCOUNT str - +
ZRANGE str 0 1
ZRANGE str 0 1 FOO
ZRANGEBYSCORE str 0 1
ZRANGEBYLEX str - +
ZREVRANGE str 0 1
ZRANK str a
ZREVRANK str a
ZPOPMIN str
ZPOPMAX str 2
ZRANDMEMBER str
ZRANDMEMBER str 2
ZREMRANGEBYRANK str 0 1
ZRANGESTORE d str 0 1
ZUNIONSTORE d 2 str nokey
ZSCAN str 0
ZADD z 1 a
GET z
INCR z
APPEND z x
EXPIRE z 100
ZADD z 2 b
TTL z
ZINCRBY z 1 b
TTL z
ZREM z a
TTL z
ZREM z b
TTL z
EXISTS z
ZADD
ZREM z
ZSCORE z
ZMSCORE z
ZCARD
ZCOUNT z 0
ZLEXCOUNT z -
ZINCRBY z 1
ZRANGESTORE d z 0
ZREMRANGEBYSCORE z 0
ZUNIONSTORE d 1
ZUNION 1
ZMPOP 1 z
ZRANDMEMBER
ZSCAN z
`,
	"randscan": `FLUSHALL
ZADD z 1.5 a
ZRANDMEMBER z
ZRANDMEMBER z 1
ZRANDMEMBER z 1 WITHSCORES
ZRANDMEMBER z -1 WITHSCORES
ZRANDMEMBER z -3
ZRANDMEMBER z 5 WITHSCORES
ZRANDMEMBER z 0
ZRANDMEMBER z 0 WITHSCORES
ZRANDMEMBER nokey
ZRANDMEMBER nokey 5
ZRANDMEMBER nokey 5 WITHSCORES
ZRANDMEMBER nokey x
ZRANDMEMBER z x
ZRANDMEMBER z 1 FOO
ZRANDMEMBER z 1 WITHSCORES FOO
ZRANDMEMBER z -9223372036854775808
ZRANDMEMBER nokey -9223372036854775807 WITHSCORES
ZRANDMEMBER nokey 4611686018427387903 WITHSCORES
ZRANDMEMBER nokey 4611686018427387904 WITHSCORES
ZRANDMEMBER nokey -4611686018427387903 WITHSCORES
ZRANDMEMBER nokey -4611686018427387904 WITHSCORES
ZRANDMEMBER z 9223372036854775808
ZSCAN z 0
ZSCAN z 0 MATCH a*
ZSCAN z 0 MATCH b*
ZSCAN z 0 COUNT 5
ZSCAN z 0 COUNT 0
ZSCAN z 0 COUNT x
ZSCAN z 0 TYPE zset
ZSCAN z x
ZSCAN z -1
ZSCAN z 18446744073709551616
ZSCAN z " 0"
ZSCAN nokey 0
ZADD inf inf a -inf b
ZSCAN inf 0 MATCH a
ZSCAN inf 0 MATCH b
`,
}

func TestZSetMatchesRedisServer(t *testing.T) {
	g := startGateway(t)
	names := make([]string, 0, len(zsetScripts))
	for name := range zsetScripts {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) { diffWithRedis(t, g, zsetScripts[name]) })
	}
}

// zsetRESP3Script is a redis-cli script (one command per line) of sorted-set replies whose RESP3 shape differs (doubles, nested pairs, nulls);
// it is diffed against redis-server on one gateway and on an ensemble.
var zsetRESP3Script = `FLUSHALL
ZADD z 1 a 2.5 b 3 c inf d
ZADD z -inf e
ZSCORE z b
ZSCORE z d
ZSCORE z e
ZSCORE z nope
ZMSCORE z a nope d
ZINCRBY z 0.5 a
ZADD z INCR 1 a
ZADD z NX INCR 1 a
ZRANGE z 0 -1
ZRANGE z 0 -1 WITHSCORES
ZRANGE z 0 -1 REV WITHSCORES
ZRANGEBYSCORE z -inf +inf WITHSCORES LIMIT 1 2
ZREVRANGEBYSCORE z +inf -inf WITHSCORES
ZREVRANGE z 0 1 WITHSCORES
ZRANGE nokey 0 -1 WITHSCORES
ZRANK z b
ZRANK z nope
ZPOPMIN z
ZPOPMAX z 2
ZPOPMIN z 0
ZPOPMIN nokey
ZPOPMIN nokey 2
ZADD y 1 a 2 b 3 c
ZMPOP 2 nokey y MIN
ZMPOP 1 y MAX COUNT 5
ZMPOP 1 y MIN
ZADD a 1 x 2 y
ZADD b 3 y 4 w
ZUNION 2 a b WITHSCORES
ZINTER 2 a b WITHSCORES
ZDIFF 2 a b WITHSCORES
ZUNION 2 a b
ZADD one 7 m
ZRANDMEMBER one 1 WITHSCORES
ZRANDMEMBER one -2 WITHSCORES
ZRANDMEMBER one -2
ZRANDMEMBER one
ZRANDMEMBER nokey
ZRANDMEMBER nokey 3 WITHSCORES
ZSCAN one 0
ZSCAN nokey 0
ZADD neg -2.5 m
ZSCAN neg 0
ZRANGESTORE d a 0 -1
ZCARD d
`

// TestZSetMatchesRedisServerRESP3 diffs RESP3 replies (doubles, nested
// member-score pairs, nulls) through redis-cli -3.
func TestZSetMatchesRedisServerRESP3(t *testing.T) {
	g := startGateway(t)
	diffWithRedisRESP3(t, g, zsetRESP3Script)
}

// zmodel is a sorted set in memory, to check replies against.
type zmodel map[string]float64

func (m zmodel) sorted() []redis.Z {
	out := make([]redis.Z, 0, len(m))
	for k, v := range m {
		out = append(out, redis.Z{Member: k, Score: v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score < out[j].Score
		}
		return out[i].Member.(string) < out[j].Member.(string)
	})
	return out
}

func sameZ(t *testing.T, what string, got, want []redis.Z) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d elements, want %d\n got %v\nwant %v", what, len(got), len(want), got, want)
	}
	for i := range got {
		if fmt.Sprint(got[i].Member) != fmt.Sprint(want[i].Member) || got[i].Score != want[i].Score {
			t.Fatalf("%s: element %d = %v, want %v", what, i, got[i], want[i])
		}
	}
}

// TestZSetGoRedis drives the sorted-set commands through go-redis over
// RESP2 and RESP3, including the replies whose order Redis leaves open
// (random picks, ZSCAN), compared as sets.
func TestZSetGoRedis(t *testing.T) { testZSetGoRedis(t, startGateway(t)) }

func testZSetGoRedis(t *testing.T, g redisTarget) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			ctx := testCtx(t)
			c := g.redisClient(proto)
			p := func(k string) string { return fmt.Sprintf("p%d:%s", proto, k) }
			rng := rand.New(rand.NewPCG(uint64(proto), 7))

			// A few hundred members with random, partly equal scores.
			key := p("big")
			model := zmodel{}
			var zs []redis.Z
			for i := range 300 {
				m := fmt.Sprintf("m%03d", i)
				s := float64(rng.IntN(50)) / 4
				if i%37 == 0 {
					s = math.Inf(1 - 2*(i%2))
				}
				model[m] = s
				zs = append(zs, redis.Z{Score: s, Member: m})
			}
			if n := r(c.ZAdd(ctx, key, zs...).Result()).must(t, "ZADD"); n != 300 {
				t.Fatalf("ZADD = %d", n)
			}
			sameZ(t, "ZRANGE WITHSCORES", r(c.ZRangeWithScores(ctx, key, 0, -1).Result()).must(t, "ZRANGE"), model.sorted())
			want := model.sorted()
			slices.Reverse(want)
			sameZ(t, "ZREVRANGE WITHSCORES", r(c.ZRevRangeWithScores(ctx, key, 0, -1).Result()).must(t, "ZREVRANGE"), want)
			byScore := r(c.ZRangeByScoreWithScores(ctx, key, &redis.ZRangeBy{Min: "(2", Max: "5", Offset: 3, Count: 20}).Result()).must(t, "ZRANGEBYSCORE")
			var inRange []redis.Z
			for _, z := range model.sorted() {
				if z.Score > 2 && z.Score <= 5 {
					inRange = append(inRange, z)
				}
			}
			sameZ(t, "ZRANGEBYSCORE LIMIT", byScore, inRange[3:23])
			for _, m := range []string{"m000", "m150", "m299"} {
				rank := slices.IndexFunc(model.sorted(), func(z redis.Z) bool { return z.Member == m })
				if got := r(c.ZRank(ctx, key, m).Result()).must(t, "ZRANK"); got != int64(rank) {
					t.Fatalf("ZRANK %s = %d, want %d", m, got, rank)
				}
				if got := r(c.ZRevRank(ctx, key, m).Result()).must(t, "ZREVRANK"); got != int64(299-rank) {
					t.Fatalf("ZREVRANK %s = %d, want %d", m, got, 299-rank)
				}
				ws := r(c.ZRankWithScore(ctx, key, m).Result()).must(t, "ZRANK WITHSCORE")
				if ws.Rank != int64(rank) || ws.Score != model[m] {
					t.Fatalf("ZRANK %s WITHSCORE = %+v, want %d %v", m, ws, rank, model[m])
				}
			}
			if err := c.ZRankWithScore(ctx, key, "nope").Err(); err != redis.Nil {
				t.Fatalf("ZRANK nope WITHSCORE: %v, want nil", err)
			}
			if s := r(c.ZScore(ctx, key, "m001").Result()).must(t, "ZSCORE"); s != model["m001"] {
				t.Fatalf("ZSCORE = %v, want %v", s, model["m001"])
			}
			ms := r(c.ZMScore(ctx, key, "m000", "nope", "m037").Result()).must(t, "ZMSCORE")
			if len(ms) != 3 || ms[0] != model["m000"] || ms[1] != 0 || ms[2] != model["m037"] {
				t.Fatalf("ZMSCORE = %v", ms)
			}
			if s := r(c.ZIncrBy(ctx, key, 0.25, "m002").Result()).must(t, "ZINCRBY"); s != model["m002"]+0.25 {
				t.Fatalf("ZINCRBY = %v", s)
			}
			model["m002"] += 0.25
			if s := r(c.ZAddArgsIncr(ctx, key, redis.ZAddArgs{GT: true, Members: []redis.Z{{Score: -1, Member: "m003"}}}).Result()); s.err != redis.Nil {
				t.Fatalf("ZADD GT INCR -1 = %v, %v; want nil", s.v, s.err)
			}

			// ZSCAN: every member exactly as stored, at least once.
			seen := map[string]float64{}
			var cursor uint64
			for steps := 0; ; steps++ {
				keys, next := r2(c.ZScan(ctx, key, cursor, "", 17).Result()).must(t, "ZSCAN")
				for i := 0; i+1 < len(keys); i += 2 {
					var f float64
					fmt.Sscan(keys[i+1], &f)
					seen[keys[i]] = f
				}
				if cursor = next; cursor == 0 {
					break
				}
				if steps > 1000 {
					t.Fatal("ZSCAN does not end")
				}
			}
			if len(seen) != len(model) {
				t.Fatalf("ZSCAN saw %d members, want %d", len(seen), len(model))
			}
			for m, s := range model {
				if seen[m] != s {
					t.Fatalf("ZSCAN %s = %v, want %v", m, seen[m], s)
				}
			}
			matched, _ := r2(c.ZScan(ctx, key, 0, "m01*", 1000).Result()).must(t, "ZSCAN MATCH")
			if len(matched) != 20 {
				t.Fatalf("ZSCAN MATCH m01* = %d items, want 20 (10 pairs)", len(matched))
			}

			// ZRANDMEMBER: distinct members of the set for a positive
			// count, any number of repeats for a negative one.
			for _, n := range []int{1, 5, 299, 300, 1000} {
				picks := r(c.ZRandMember(ctx, key, n).Result()).must(t, "ZRANDMEMBER")
				if len(picks) != min(n, 300) {
					t.Fatalf("ZRANDMEMBER %d: %d picks", n, len(picks))
				}
				uniq := map[string]bool{}
				for _, m := range picks {
					if _, ok := model[m]; !ok || uniq[m] {
						t.Fatalf("ZRANDMEMBER %d: bad or repeated pick %q", n, m)
					}
					uniq[m] = true
				}
			}
			picks := r(c.ZRandMemberWithScores(ctx, key, -500).Result()).must(t, "ZRANDMEMBER -500 WITHSCORES")
			if len(picks) != 500 {
				t.Fatalf("ZRANDMEMBER -500: %d picks", len(picks))
			}
			for _, z := range picks {
				if s, ok := model[z.Member.(string)]; !ok || s != z.Score {
					t.Fatalf("ZRANDMEMBER WITHSCORES pick %v not in the set", z)
				}
			}
			if m := r(c.Do(ctx, "ZRANDMEMBER", key).Text()).must(t, "ZRANDMEMBER"); !hasMember(model, m) {
				t.Fatalf("ZRANDMEMBER = %q, not a member", m)
			}

			// Set operations against a model.
			other := p("other")
			om := zmodel{}
			for i := 0; i < 300; i += 3 {
				m := fmt.Sprintf("m%03d", i)
				om[m] = float64(i)
				c.ZAdd(ctx, other, redis.Z{Score: float64(i), Member: m})
			}
			for i := range 20 {
				m := fmt.Sprintf("x%02d", i)
				om[m] = -float64(i)
				c.ZAdd(ctx, other, redis.Z{Score: -float64(i), Member: m})
			}
			union, inter, diff := zmodel{}, zmodel{}, zmodel{}
			for m, s := range model {
				union[m] = 2 * s
				if os, ok := om[m]; ok {
					inter[m] = max(2*s, os)
				} else {
					diff[m] = s
				}
			}
			for m, s := range om {
				if _, ok := union[m]; ok {
					union[m] = max(union[m], s)
				} else {
					union[m] = s
				}
			}
			store := redis.ZStore{Keys: []string{key, other}, Weights: []float64{2, 1}, Aggregate: "MAX"}
			sameZ(t, "ZUNION", r(c.ZUnionWithScores(ctx, store).Result()).must(t, "ZUNION"), union.sorted())
			sameZ(t, "ZINTER", r(c.ZInterWithScores(ctx, &store).Result()).must(t, "ZINTER"), inter.sorted())
			sameZ(t, "ZDIFF", r(c.ZDiffWithScores(ctx, key, other).Result()).must(t, "ZDIFF"), diff.sorted())
			if n := r(c.ZUnionStore(ctx, p("u"), &store).Result()).must(t, "ZUNIONSTORE"); n != int64(len(union)) {
				t.Fatalf("ZUNIONSTORE = %d, want %d", n, len(union))
			}
			sameZ(t, "ZUNIONSTORE result", r(c.ZRangeWithScores(ctx, p("u"), 0, -1).Result()).must(t, "ZRANGE"), union.sorted())
			if n := r(c.ZInterCard(ctx, 10, key, other).Result()).must(t, "ZINTERCARD"); n != 10 {
				t.Fatalf("ZINTERCARD LIMIT 10 = %d", n)
			}

			// Pops, in order, emptying the key.
			pk := p("pop")
			c.ZAdd(ctx, pk, redis.Z{Score: 1, Member: "a"}, redis.Z{Score: 2, Member: "b"}, redis.Z{Score: 3, Member: "c"}, redis.Z{Score: 4, Member: "d"})
			sameZ(t, "ZPOPMIN 2", r(c.ZPopMin(ctx, pk, 2).Result()).must(t, "ZPOPMIN"), []redis.Z{{Member: "a", Score: 1}, {Member: "b", Score: 2}})
			sameZ(t, "ZPOPMAX", r(c.ZPopMax(ctx, pk).Result()).must(t, "ZPOPMAX"), []redis.Z{{Member: "d", Score: 4}})
			k, popped := r2(c.ZMPop(ctx, "min", 5, p("none"), pk).Result()).must(t, "ZMPOP")
			if k != pk {
				t.Fatalf("ZMPOP key = %q", k)
			}
			sameZ(t, "ZMPOP", popped, []redis.Z{{Member: "c", Score: 3}})
			if n := r(c.Exists(ctx, pk).Result()).must(t, "EXISTS"); n != 0 {
				t.Fatal("emptied sorted set still exists")
			}
			if err := c.ZMPop(ctx, "max", 1, pk).Err(); err != redis.Nil {
				t.Fatalf("ZMPOP of nothing: %v, want nil", err)
			}
			if got := r(c.ZPopMin(ctx, pk, 3).Result()).must(t, "ZPOPMIN missing"); len(got) != 0 {
				t.Fatalf("ZPOPMIN missing = %v", got)
			}

			// Errors come through as Redis words them.
			expectErr(t, "ZADD NX XX", c.Do(ctx, "ZADD", key, "NX", "XX", 1, "a").Err(), "ERR XX and NX options at the same time are not compatible")
			expectErr(t, "ZADD GT LT", c.Do(ctx, "ZADD", key, "GT", "LT", 1, "a").Err(), "ERR GT, LT, and/or NX options at the same time are not compatible")
			expectErr(t, "ZRANGEBYLEX", c.Do(ctx, "ZRANGEBYLEX", key, "a", "b").Err(), "ERR min or max not valid string range item")
			expectErr(t, "ZCOUNT", c.ZCount(ctx, key, "x", "1").Err(), "ERR min or max is not a float")
			c.Set(ctx, p("str"), "v", 0)
			expectErr(t, "ZADD on a string", c.ZAdd(ctx, p("str"), redis.Z{Score: 1, Member: "a"}).Err(), "WRONGTYPE Operation against a key holding the wrong kind of value")
		})
	}
}

func hasMember(m zmodel, member string) bool {
	_, ok := m[member]
	return ok
}

// r2 is r for two results and an error.
func r2[A, B any](a A, b B, err error) res2[A, B] { return res2[A, B]{a, b, err} }

type res2[A, B any] struct {
	a   A
	b   B
	err error
}

func (x res2[A, B]) must(t *testing.T, what string) (A, B) {
	t.Helper()
	if x.err != nil {
		t.Fatalf("%s: %v", what, x.err)
	}
	return x.a, x.b
}

// TestZSetRestart checks that sorted sets come back identical from the
// log after a crash, and keep working.
func TestZSetRestart(t *testing.T) {
	g := startGateway(t)
	ctx := testCtx(t)
	c := g.redisClient(3)
	rng := rand.New(rand.NewPCG(1, 2))
	keys := []string{"r:a", "r:b", "r:c"}
	for i := range 400 {
		k := keys[rng.IntN(len(keys))]
		m := fmt.Sprintf("m%d", rng.IntN(60))
		switch rng.IntN(6) {
		case 0:
			c.ZRem(ctx, k, m)
		case 1:
			c.ZIncrBy(ctx, k, rng.Float64()*10-5, m)
		case 2:
			c.ZPopMin(ctx, k, int64(rng.IntN(3)))
		case 3:
			c.ZUnionStore(ctx, "r:u", &redis.ZStore{Keys: keys[:2], Aggregate: "MIN"})
		default:
			c.ZAdd(ctx, k, redis.Z{Score: float64(rng.IntN(20)) - 10, Member: m})
		}
		if i == 200 {
			c.Expire(ctx, "r:c", time.Hour)
		}
	}
	dump := func() string {
		var b bytes.Buffer
		for _, k := range append(keys, "r:u") {
			fmt.Fprintf(&b, "%s %v %v\n", k, r(c.ZRangeWithScores(ctx, k, 0, -1).Result()).must(t, "ZRANGE"), r(c.ZCard(ctx, k).Result()).must(t, "ZCARD"))
			fmt.Fprintf(&b, "ttl>0 %v\n", r(c.TTL(ctx, k).Result()).must(t, "TTL") > 0)
		}
		fmt.Fprintf(&b, "dbsize %d\n", r(c.DBSize(ctx).Result()).must(t, "DBSIZE"))
		return b.String()
	}
	before := dump()
	g.kill()
	g.restart()
	c = g.redisClient(3)
	if after := dump(); after != before {
		t.Fatalf("state differs after restart\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if n := r(c.ZAdd(ctx, "r:new", redis.Z{Score: 1, Member: "x"}).Result()).must(t, "ZADD after restart"); n != 1 {
		t.Fatalf("ZADD after restart = %d", n)
	}
	sameZ(t, "r:new", r(c.ZRangeWithScores(ctx, "r:new", 0, -1).Result()).must(t, "ZRANGE"), []redis.Z{{Member: "x", Score: 1}})
}
