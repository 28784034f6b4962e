package conformance

import (
	"bufio"
	"context"
	"errors"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// blockingScript is a redis-cli script (one command per line) of the blocking commands where they do not wait (or wait 10ms);
// it is diffed against redis-server on one gateway and on an ensemble.
var blockingScript = strings.Join([]string{
	"RPUSH l1 a b c d e f g h", "RPUSH l2 x", "BLPOP l1 l2 0", "BRPOP l1 l2 0", "BLPOP nokey l2 1", "EXISTS l2",
	"BLPOP nokey 0.01", "BRPOP nokey other 0.01", "BLPOP l1 0.0001",
	// Timeouts: parsed before anything else.
	"BLPOP l1 abc", "BLPOP l1 -1", "BLPOP l1 -0.5", "BLPOP l1 inf", "BLPOP l1 -inf", "BLPOP l1 1e30", "BLPOP l1 nan",
	"BLPOP l1 92233720368547", "BLPOP l1 9223372036854775807", `BLPOP l1 ""`, "BLPOP l1 0x10", "BLPOP l1 1.5e-3",
	"BLPOP l1 ' 1'", "BRPOP nokey abc",
	// Types.
	"SET s str", "BLPOP s 0", "BLPOP nokey s 0", "BLPOP l1 s 0", "BRPOP s l1 0", "LRANGE l1 0 -1",
	// BRPOPLPUSH and BLMOVE.
	"DEL l1", "RPUSH l1 a b c d e f g h",
	"BRPOPLPUSH l1 dst 0", "BRPOPLPUSH nokey dst 0.01", "BRPOPLPUSH s dst 0", "BRPOPLPUSH l1 s 0", "BRPOPLPUSH l1 dst x",
	"LRANGE dst 0 -1", "BLMOVE l1 dst LEFT RIGHT 0", "BLMOVE dst dst RIGHT LEFT 0", "LRANGE dst 0 -1",
	"BLMOVE l1 d UP LEFT x", "BLMOVE l1 d LEFT DOWN -1", "BLMOVE l1 d LEFT LEFT x", "BLMOVE nokey d LEFT LEFT 0.01",
	"BLMOVE s d LEFT LEFT 0", "BLMOVE l1 s LEFT LEFT 0", "LRANGE l1 0 -1",
	// BLMPOP.
	"BLMPOP 0 1 l1 LEFT", "BLMPOP 0 2 nokey l1 RIGHT COUNT 2", "BLMPOP 0.01 1 nokey LEFT", "BLMPOP 0 1 l1 left count 100",
	"EXISTS l1", "RPUSH l1 a b", "BLMPOP x 1 l1 LEFT", "BLMPOP -1 1 l1 LEFT", "BLMPOP 0 0 l1 LEFT", "BLMPOP 0 1 l1 MIDDLE", "BLMPOP 0 5 l1 LEFT",
	"BLMPOP 0 1 l1 LEFT COUNT 0", "BLMPOP 0 1 l1 LEFT COUNT 1 COUNT 2", "BLMPOP 0 1 l1 LEFT COUNT", "BLMPOP 0 1 s LEFT",
	"BLMPOP 0 x l1 LEFT", "BLMPOP 0 -1 l1 LEFT", "LRANGE l1 0 -1",
	// Sorted sets.
	"ZADD z1 1 a 2 b 3 c 4 d 5 e 6 f", "ZADD z2 5 x", "BZPOPMIN z1 z2 0", "BZPOPMAX z1 z2 0", "BZPOPMIN nokey z2 0", "EXISTS z2",
	"BZPOPMIN nokey 0.01", "BZPOPMAX nokey other 0.01", "BZPOPMIN z1 abc", "BZPOPMAX z1 -1", "BZPOPMIN s 0", "BZPOPMIN l1 0",
	"BZPOPMAX nokey s 0", "BZPOPMIN z1 s 0",
	"BZMPOP 0 1 z1 MIN", "BZMPOP 0 2 nokey z1 MAX COUNT 5", "EXISTS z1", "BZMPOP 0.01 1 z1 MIN", "ZADD z1 1 a 2 b",
	"BZMPOP x 1 z1 MIN", "BZMPOP -1 1 z1 MIN", "BZMPOP 0 0 z1 MIN", "BZMPOP 0 1 z1 MIDDLE", "BZMPOP 0 5 z1 MIN",
	"BZMPOP 0 1 z1 MIN COUNT 0", "BZMPOP 0 1 z1 MIN COUNT 1 COUNT 2", "BZMPOP 0 1 s MIN", "BZMPOP 0 1 z1 max count 1",
	"BZPOPMIN", "BZPOPMIN z1", "BZMPOP 0 1 z1",
	// Arity.
	"BLPOP", "BLPOP k", "BRPOP k", "BRPOPLPUSH a b", "BLMOVE a b LEFT LEFT", "BLMPOP 0 1",
	// Inside MULTI nothing waits.
	"MULTI", "BLPOP nokey 0", "BRPOPLPUSH nokey d 0", "BLMOVE nokey d LEFT LEFT 0", "BLMPOP 0 1 nokey LEFT",
	"RPUSH m 1 2", "BLPOP m 0", "BLPOP m abc", "BRPOP m 0", "BZPOPMIN nokey 0", "BZMPOP 0 1 nokey MIN", "EXEC",
}, "\n")

// TestRedisBlockingMatchRedisServer diffs the blocking list commands
// against redis-server where they do not wait (or wait 10ms): served at
// once, timeouts, argument errors in Redis's order, WRONGTYPE, MULTI.
func TestRedisBlockingMatchRedisServer(t *testing.T) {
	g := startGateway(t)
	diffWithRedis(t, g, blockingScript)
	diffWithRedisRESP3(t, g, blockingScript)
}

// blockedClients reads blocked_clients from INFO clients.
func blockedClients(t testing.TB, c *redis.Client) int {
	t.Helper()
	info, err := c.Info(context.Background(), "clients").Result()
	if err != nil {
		t.Fatalf("INFO clients: %v", err)
	}
	m := regexp.MustCompile(`blocked_clients:(\d+)`).FindStringSubmatch(info)
	if m == nil {
		t.Fatalf("no blocked_clients in %q", info)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// waitBlocked waits until n clients of the node behind c are blocked.
func waitBlocked(t testing.TB, c *redis.Client, n int) {
	t.Helper()
	waitFor(t, "blocked clients = "+strconv.Itoa(n), 20*time.Second, func() bool { return blockedClients(t, c) == n })
}

type blockResult struct {
	vals []string
	err  error
}

// goBlock runs f in a goroutine and returns a channel for its result.
func goBlock(f func() ([]string, error)) <-chan blockResult {
	ch := make(chan blockResult, 1)
	go func() {
		v, err := f()
		ch <- blockResult{v, err}
	}()
	return ch
}

func mustResult(t *testing.T, what string, ch <-chan blockResult, want ...string) {
	t.Helper()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("%s: %v", what, r.err)
		}
		if !slices.Equal(r.vals, want) {
			t.Fatalf("%s = %q, want %q", what, r.vals, want)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: still blocked", what)
	}
}

// TestRedisBlockingWakeUp checks that blocked clients are served by the
// writes that make their keys ready, in every way a key becomes ready.
func TestRedisBlockingWakeUp(t *testing.T) {
	g := startGateway(t)
	ctx := testCtx(t)
	admin := g.redisClient(2)
	c1, c2 := g.redisClient(2), g.redisClient(3)

	// BLPOP over two keys, woken by a push to the second.
	ch := goBlock(func() ([]string, error) { return c1.BLPop(ctx, 0, "q1", "q2").Result() })
	waitBlocked(t, admin, 1)
	if got := r(admin.Do(ctx, "CLIENT", "LIST").Text()).must(t, "CLIENT LIST"); !strings.Contains(got, "flags=b") || !strings.Contains(got, "cmd=blpop") {
		t.Fatalf("CLIENT LIST shows no blocked client:\n%s", got)
	}
	r(admin.RPush(ctx, "q2", "v1", "v2").Result()).must(t, "RPUSH")
	mustResult(t, "BLPOP q1 q2", ch, "q2", "v1")
	if got := admin.LRange(ctx, "q2", 0, -1).Val(); !slices.Equal(got, []string{"v2"}) {
		t.Fatalf("q2 after BLPOP = %q", got)
	}
	waitBlocked(t, admin, 0)

	// BRPOP over RESP3, woken by a transaction.
	ch = goBlock(func() ([]string, error) { return c2.BRPop(ctx, 0, "t1").Result() })
	waitBlocked(t, admin, 1)
	r(admin.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.RPush(ctx, "t1", "a", "b")
		p.Set(ctx, "other", "x", 0)
		return nil
	})).must(t, "MULTI/EXEC")
	mustResult(t, "BRPOP t1", ch, "t1", "b")

	// BLMOVE, woken by LMOVE into its source.
	chm := make(chan blockResult, 1)
	go func() {
		v, err := c1.BLMove(ctx, "src", "dst", "LEFT", "RIGHT", 0).Result()
		chm <- blockResult{[]string{v}, err}
	}()
	waitBlocked(t, admin, 1)
	r(admin.RPush(ctx, "stage", "moved").Result()).must(t, "RPUSH stage")
	r(admin.LMove(ctx, "stage", "src", "LEFT", "LEFT").Result()).must(t, "LMOVE")
	mustResult(t, "BLMOVE", chm, "moved")
	if got := admin.LRange(ctx, "dst", 0, -1).Val(); !slices.Equal(got, []string{"moved"}) {
		t.Fatalf("dst = %q", got)
	}
	if n := admin.Exists(ctx, "src", "stage").Val(); n != 0 {
		t.Fatalf("%d of src, stage still exist", n)
	}

	// BLMPOP with COUNT takes what it can.
	chp := make(chan blockResult, 1)
	go func() {
		k, v, err := c2.BLMPop(ctx, 0, "right", 2, "mp1", "mp2").Result()
		chp <- blockResult{append([]string{k}, v...), err}
	}()
	waitBlocked(t, admin, 1)
	r(admin.RPush(ctx, "mp2", "1", "2", "3").Result()).must(t, "RPUSH mp2")
	mustResult(t, "BLMPOP", chp, "mp2", "3", "2")

	// Two waiters, one item: one is served, the other waits for the next.
	a := goBlock(func() ([]string, error) { return c1.BLPop(ctx, 0, "shared").Result() })
	b := goBlock(func() ([]string, error) { return c2.BLPop(ctx, 0, "shared").Result() })
	waitBlocked(t, admin, 2)
	r(admin.RPush(ctx, "shared", "first").Result()).must(t, "RPUSH shared")
	var first blockResult
	select {
	case first = <-a:
		a = b
	case first = <-b:
		b = a
	case <-time.After(30 * time.Second):
		t.Fatal("nobody served by the first push")
	}
	if first.err != nil || !slices.Equal(first.vals, []string{"shared", "first"}) {
		t.Fatalf("first waiter got %q, %v", first.vals, first.err)
	}
	waitBlocked(t, admin, 1)
	r(admin.RPush(ctx, "shared", "second").Result()).must(t, "RPUSH shared")
	mustResult(t, "second waiter", a, "shared", "second")

	// Sorted sets: BZPOPMIN woken by ZADD, BZMPOP by ZUNIONSTORE.
	ch = goBlock(func() ([]string, error) {
		z, err := c2.BZPopMin(ctx, 0, "zq").Result()
		if err != nil {
			return nil, err
		}
		return []string{z.Key, z.Member.(string), strconv.FormatFloat(z.Score, 'g', -1, 64)}, nil
	})
	waitBlocked(t, admin, 1)
	r(admin.ZAdd(ctx, "zq", redis.Z{Score: 2.5, Member: "m"}, redis.Z{Score: 7, Member: "n"}).Result()).must(t, "ZADD")
	mustResult(t, "BZPOPMIN", ch, "zq", "m", "2.5")
	ch = goBlock(func() ([]string, error) {
		k, zs, err := c1.BZMPop(ctx, 0, "max", 5, "zu").Result()
		var out []string
		for _, z := range zs {
			out = append(out, z.Member.(string))
		}
		return append([]string{k}, out...), err
	})
	waitBlocked(t, admin, 1)
	r(admin.ZAdd(ctx, "za", redis.Z{Score: 1, Member: "p"}).Result()).must(t, "ZADD za")
	r(admin.SAdd(ctx, "sa", "q").Result()).must(t, "SADD sa")
	r(admin.ZUnionStore(ctx, "zu", &redis.ZStore{Keys: []string{"za", "sa"}, Weights: []float64{1, 3}}).Result()).must(t, "ZUNIONSTORE")
	mustResult(t, "BZMPOP", ch, "zu", "q", "p")

	// A timeout gives a null, in both protocols.
	for _, c := range []*redis.Client{c1, c2} {
		if v, err := c.BLPop(ctx, 50*time.Millisecond, "never").Result(); err != redis.Nil {
			t.Fatalf("BLPOP never 0.05 = %q, %v; want nil", v, err)
		}
		if v, err := c.BLMove(ctx, "never", "d", "LEFT", "LEFT", 50*time.Millisecond).Result(); err != redis.Nil {
			t.Fatalf("BLMOVE never = %q, %v; want nil", v, err)
		}
	}

	// Databases are separate; SWAPDB makes the other database's list
	// ready for a client waiting in this one.
	db1 := redis.NewClient(&redis.Options{Addr: g.addr("redis"), DB: 1, ReadTimeout: 30 * time.Second})
	defer db1.Close()
	ch = goBlock(func() ([]string, error) { return db1.BLPop(ctx, 0, "swapped").Result() })
	waitBlocked(t, admin, 1)
	r(admin.RPush(ctx, "swapped", "db0").Result()).must(t, "RPUSH swapped in db 0")
	if n := blockedClients(t, admin); n != 1 {
		t.Fatalf("a push in db 0 served a client blocked in db 1")
	}
	r(admin.Do(ctx, "SWAPDB", 0, 1).Result()).must(t, "SWAPDB")
	mustResult(t, "BLPOP after SWAPDB", ch, "swapped", "db0")

	// A pipeline: replies stay in order around the blocking command.
	pipe := c1.Pipeline()
	push := pipe.RPush(ctx, "pl", "x")
	pop := pipe.BLPop(ctx, 0, "pl")
	miss := pipe.BLPop(ctx, 20*time.Millisecond, "pl")
	after := pipe.Incr(ctx, "pl-after")
	pipe.Exec(ctx)
	if push.Val() != 1 || !slices.Equal(pop.Val(), []string{"pl", "x"}) || miss.Err() != redis.Nil || after.Val() != 1 {
		t.Fatalf("pipeline: RPUSH %d, BLPOP %q, BLPOP %v, INCR %d", push.Val(), pop.Val(), miss.Err(), after.Val())
	}
}

// TestRedisBlockingClientGone: a client that disconnects, is killed or is
// unblocked stops waiting, and never takes an item afterwards.
func TestRedisBlockingClientGone(t *testing.T) {
	g := startGateway(t)
	ctx := testCtx(t)
	admin := g.redisClient(2)

	nc, err := net.Dial("tcp", g.addr("redis"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nc.Write([]byte("*3\r\n$5\r\nBLPOP\r\n$4\r\ngone\r\n$1\r\n0\r\n")); err != nil {
		t.Fatal(err)
	}
	waitBlocked(t, admin, 1)
	nc.Close()
	waitBlocked(t, admin, 0)
	r(admin.RPush(ctx, "gone", "kept").Result()).must(t, "RPUSH gone")
	if n := admin.LLen(ctx, "gone").Val(); n != 1 {
		t.Fatalf("LLEN gone = %d after its blocked client left", n)
	}

	// CLIENT KILL.
	victim := g.redisClient(2)
	id := r(victim.ClientID(ctx).Result()).must(t, "CLIENT ID")
	ch := goBlock(func() ([]string, error) { return victim.BLPop(ctx, 0, "killed").Result() })
	waitBlocked(t, admin, 1)
	r(admin.ClientKillByFilter(ctx, "ID", strconv.FormatInt(id, 10)).Result()).must(t, "CLIENT KILL")
	if res := <-ch; res.err == nil {
		t.Fatalf("killed client got %q", res.vals)
	}
	waitBlocked(t, admin, 0)

	// CLIENT UNBLOCK, both ways.
	c := g.redisClient(2)
	id = r(c.ClientID(ctx).Result()).must(t, "CLIENT ID")
	if n := r(admin.ClientUnblock(ctx, id).Result()).must(t, "CLIENT UNBLOCK"); n != 0 {
		t.Fatalf("CLIENT UNBLOCK of an idle client = %d", n)
	}
	ch = goBlock(func() ([]string, error) { return c.BRPop(ctx, 0, "ub").Result() })
	waitBlocked(t, admin, 1)
	if n := r(admin.ClientUnblock(ctx, id).Result()).must(t, "CLIENT UNBLOCK"); n != 1 {
		t.Fatalf("CLIENT UNBLOCK = %d", n)
	}
	if res := <-ch; res.err != redis.Nil {
		t.Fatalf("unblocked (TIMEOUT) BRPOP = %q, %v", res.vals, res.err)
	}
	ch = goBlock(func() ([]string, error) { return c.BRPop(ctx, 0, "ub").Result() })
	waitBlocked(t, admin, 1)
	if n := r(admin.ClientUnblockWithError(ctx, id).Result()).must(t, "CLIENT UNBLOCK ERROR"); n != 1 {
		t.Fatalf("CLIENT UNBLOCK ERROR = %d", n)
	}
	if res := <-ch; res.err == nil || !strings.HasPrefix(res.err.Error(), "UNBLOCKED") {
		t.Fatalf("unblocked (ERROR) BRPOP = %q, %v", res.vals, res.err)
	}
	if n := admin.Exists(ctx, "ub").Val(); n != 0 {
		t.Fatal("ub exists")
	}

	// A client that pipelines a command behind a blocking one gets both
	// replies once it is served.
	nc, err = net.Dial("tcp", g.addr("redis"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Write([]byte("BLPOP behind 0\r\nPING\r\n")); err != nil {
		t.Fatal(err)
	}
	waitBlocked(t, admin, 1)
	r(admin.RPush(ctx, "behind", "v").Result()).must(t, "RPUSH behind")
	nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(nc)
	var lines []string
	for len(lines) < 6 {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("reading replies: %v (have %q)", err, lines)
		}
		lines = append(lines, strings.TrimRight(line, "\r\n"))
	}
	if want := []string{"*2", "$6", "behind", "$1", "v", "+PONG"}; !slices.Equal(lines, want) {
		t.Fatalf("replies %q, want %q", lines, want)
	}
}

// TestEnsembleBlockingAcrossNodes: clients blocked on one node are served
// by pushes on another, each item to exactly one of them.
func TestEnsembleBlockingAcrossNodes(t *testing.T) {
	e := startEnsemble(t, 3)
	ctx := testCtx(t)
	w0, w1 := e.nodes[0].redisClient(2), e.nodes[1].redisClient(3)
	pusher := e.nodes[2].redisClient(2)

	ch := goBlock(func() ([]string, error) { return w0.BLPop(ctx, 0, "xq").Result() })
	waitBlocked(t, w0, 1)
	r(pusher.RPush(ctx, "xq", "from-n3").Result()).must(t, "RPUSH on n3")
	mustResult(t, "BLPOP on n1", ch, "xq", "from-n3")

	const items = 20
	results := make(chan blockResult, 2*items)
	for _, c := range []*redis.Client{w0, w1} {
		go func() {
			for {
				v, err := c.BLPop(ctx, 3*time.Second, "work").Result()
				if errors.Is(err, redis.Nil) {
					return
				}
				results <- blockResult{v, err}
				if err != nil {
					return
				}
			}
		}()
	}
	waitBlocked(t, w0, 1)
	waitBlocked(t, w1, 1)
	for i := range items {
		r(pusher.RPush(ctx, "work", strconv.Itoa(i)).Result()).must(t, "RPUSH work")
	}
	seen := map[string]bool{}
	for range items {
		select {
		case res := <-results:
			if res.err != nil {
				t.Fatalf("BLPOP work: %v", res.err)
			}
			if seen[res.vals[1]] {
				t.Fatalf("item %s served twice", res.vals[1])
			}
			seen[res.vals[1]] = true
		case <-time.After(30 * time.Second):
			t.Fatalf("only %d of %d items served", len(seen), items)
		}
	}
	if n := pusher.LLen(ctx, "work").Val(); n != 0 {
		t.Fatalf("%d items left in work", n)
	}
}
