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

// messageIDs returns the IDs of stream messages.
func messageIDs(ms []redis.XMessage) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

// readGroup reads up to count new entries of jobs for consumer, without
// blocking.
func readGroup(t *testing.T, c *redis.Client, consumer string, count int64) []redis.XMessage {
	t.Helper()
	res, err := c.XReadGroup(testCtx(t), &redis.XReadGroupArgs{Group: "workers", Consumer: consumer, Streams: []string{"jobs", ">"}, Count: count, Block: -1}).Result()
	if err != nil {
		t.Fatalf("XREADGROUP as %s: %v", consumer, err)
	}
	if len(res) != 1 || res[0].Stream != "jobs" {
		t.Fatalf("XREADGROUP as %s = %v", consumer, res)
	}
	return res[0].Messages
}

// TestEnsembleStreamConsumerGroup runs a consumer group over a 3-node
// ensemble with go-redis: the producer on node 3, alice on node 1 and bob
// on node 2. Alice reads and stops without acknowledging; bob takes her
// entries over with XAUTOCLAIM once they are idle long enough (idle times
// are log times) and acknowledges them. Then blocking reads on nodes 1
// and 2 are woken by XADDs on node 3.
func TestEnsembleStreamConsumerGroup(t *testing.T) {
	e := startEnsemble(t, 3)
	ctx := testCtx(t)
	alice, bob, producer := e.nodes[0].redisClient(2), e.nodes[1].redisClient(3), e.nodes[2].redisClient(2)

	r(producer.XGroupCreateMkStream(ctx, "jobs", "workers", "$").Result()).must(t, "XGROUP CREATE")
	var added []string
	for i := range 6 {
		id := r(producer.XAdd(ctx, &redis.XAddArgs{Stream: "jobs", Values: []string{"job", strings.Repeat("x", i)}}).Result()).must(t, "XADD *")
		if len(added) > 0 && !streamIDLess(added[len(added)-1], id) {
			t.Fatalf("XADD * gave %s after %s", id, added[len(added)-1])
		}
		added = append(added, id)
	}

	aliceGot, bobGot := messageIDs(readGroup(t, alice, "alice", 3)), messageIDs(readGroup(t, bob, "bob", 3))
	if !slices.Equal(aliceGot, added[:3]) || !slices.Equal(bobGot, added[3:]) {
		t.Fatalf("alice read %v, bob %v; added %v", aliceGot, bobGot, added)
	}
	if n := r(bob.XAck(ctx, "jobs", "workers", bobGot...).Result()).must(t, "XACK"); n != 3 {
		t.Fatalf("bob's XACK = %d", n)
	}
	p := r(producer.XPending(ctx, "jobs", "workers").Result()).must(t, "XPENDING")
	if p.Count != 3 || p.Lower != added[0] || p.Higher != added[2] || p.Consumers["alice"] != 3 || len(p.Consumers) != 1 {
		t.Fatalf("XPENDING = %+v", p)
	}

	// Alice is gone. Once her entries are 200 ms idle by the log's
	// clock, bob claims them.
	const minIdle = 200 * time.Millisecond
	if got, _, err := bob.XAutoClaimJustID(ctx, &redis.XAutoClaimArgs{Stream: "jobs", Group: "workers", Consumer: "bob", MinIdle: time.Hour, Start: "0"}).Result(); err != nil || len(got) != 0 {
		t.Fatalf("XAUTOCLAIM min-idle 1h = %v, %v", got, err)
	}
	waitFor(t, "alice's entries idle", 20*time.Second, func() bool {
		ext := r(producer.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: "jobs", Group: "workers", Idle: minIdle, Start: "-", End: "+", Count: 10}).Result()).must(t, "XPENDING IDLE")
		return len(ext) == 3
	})
	claimed, cursor, err := bob.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: "jobs", Group: "workers", Consumer: "bob", MinIdle: minIdle, Start: "0", Count: 10}).Result()
	if err != nil {
		t.Fatalf("XAUTOCLAIM: %v", err)
	}
	if cursor != "0-0" || !slices.Equal(messageIDs(claimed), added[:3]) || claimed[1].Values["job"] != "x" {
		t.Fatalf("XAUTOCLAIM = %v, %q", claimed, cursor)
	}
	ext := r(alice.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: "jobs", Group: "workers", Start: "-", End: "+", Count: 10}).Result()).must(t, "XPENDING -")
	for i, x := range ext {
		if x.ID != added[i] || x.Consumer != "bob" || x.RetryCount != 2 || x.Idle >= minIdle {
			t.Fatalf("after XAUTOCLAIM, XPENDING entry %d = %+v", i, x)
		}
	}
	consumers := r(producer.XInfoConsumers(ctx, "jobs", "workers").Result()).must(t, "XINFO CONSUMERS")
	if len(consumers) != 2 || consumers[0].Name != "alice" || consumers[0].Pending != 0 || consumers[0].Idle < minIdle ||
		consumers[1].Name != "bob" || consumers[1].Pending != 3 || consumers[1].Idle >= minIdle {
		t.Fatalf("XINFO CONSUMERS = %+v", consumers)
	}

	// XCLAIM hands one back to alice with a retry count and JUSTID.
	ids := r(alice.XClaimJustID(ctx, &redis.XClaimArgs{Stream: "jobs", Group: "workers", Consumer: "alice", Messages: []string{added[0]}}).Result()).must(t, "XCLAIM JUSTID")
	if !slices.Equal(ids, added[:1]) {
		t.Fatalf("XCLAIM JUSTID = %v", ids)
	}
	if n := r(bob.XAck(ctx, "jobs", "workers", added...).Result()).must(t, "XACK all"); n != 3 {
		t.Fatalf("XACK all = %d", n)
	}
	groups := r(producer.XInfoGroups(ctx, "jobs").Result()).must(t, "XINFO GROUPS")
	if len(groups) != 1 || groups[0].Pending != 0 || groups[0].Consumers != 2 || groups[0].LastDeliveredID != added[5] ||
		groups[0].EntriesRead != 6 || groups[0].Lag != 0 {
		t.Fatalf("XINFO GROUPS = %+v", groups)
	}

	// As in Redis 7.0, only changes to the entries abort a WATCH: group
	// changes, XSETID and XGROUP CREATE leave the key unmodified.
	for _, tc := range []struct {
		cmd   []any
		abort bool
	}{
		{[]any{"XGROUP", "CREATECONSUMER", "jobs", "workers", "dan"}, false},
		{[]any{"XCLAIM", "jobs", "workers", "dan", "0", added[1]}, false},
		{[]any{"XACK", "jobs", "workers", added[1]}, false},
		{[]any{"XSETID", "jobs", "99999999999999-0"}, false},
		{[]any{"XGROUP", "CREATE", "jobs", "watchers", "0"}, false},
		{[]any{"XDEL", "jobs", added[0]}, true},
	} {
		err := alice.Watch(ctx, func(tx *redis.Tx) error {
			r(producer.Do(ctx, tc.cmd...).Result()).must(t, fmt.Sprint(tc.cmd...))
			_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error { return p.Ping(ctx).Err() })
			return err
		}, "jobs")
		if aborted := err == redis.TxFailedErr; aborted != tc.abort || err != nil && !aborted {
			t.Fatalf("WATCH jobs, %v, EXEC: %v", tc.cmd, err)
		}
	}

	// Blocking reads on nodes 1 and 2, woken by XADDs on node 3. A node
	// counts a client blocked once its read found nothing at apply, so
	// that XREAD's $ stands for the ID before late.
	read := goBlock(func() ([]string, error) {
		res, err := alice.XRead(ctx, &redis.XReadArgs{Streams: []string{"jobs", "$"}, Block: 0}).Result()
		return streamsAsStrings(res), err
	})
	group := goBlock(func() ([]string, error) {
		res, err := bob.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "workers", Consumer: "bob", Streams: []string{"jobs", ">"}, Block: 0}).Result()
		return streamsAsStrings(res), err
	})
	waitBlocked(t, alice, 1)
	waitBlocked(t, bob, 1)
	// An entry for another stream leaves them waiting; a new group on
	// jobs wakes them to find nothing new, and they wait again.
	r(producer.XAdd(ctx, &redis.XAddArgs{Stream: "other", ID: "1-1", Values: []string{"f", "v"}}).Result()).must(t, "XADD other")
	r(producer.XGroupCreate(ctx, "jobs", "auditors", "$").Result()).must(t, "XGROUP CREATE auditors")
	id := r(producer.XAdd(ctx, &redis.XAddArgs{Stream: "jobs", Values: []string{"job", "late"}}).Result()).must(t, "XADD late")
	mustResult(t, "XREAD BLOCK on node 1", read, "jobs", id, "job", "late")
	mustResult(t, "XREADGROUP BLOCK on node 2", group, "jobs", id, "job", "late")
	if p := r(producer.XPending(ctx, "jobs", "workers").Result()).must(t, "XPENDING"); p.Count != 1 || p.Consumers["bob"] != 1 {
		t.Fatalf("XPENDING after the blocked XREADGROUP = %+v", p)
	}

	// A blocked XREADGROUP fails when its group or key goes away on
	// another node, as Redis unblocks it; a blocked XREAD keeps waiting.
	blockedGroupRead := func() <-chan blockResult {
		return goBlock(func() ([]string, error) {
			res, err := bob.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "workers", Consumer: "bob", Streams: []string{"jobs", ">"}, Block: 0}).Result()
			return streamsAsStrings(res), err
		})
	}
	mustFail := func(what string, ch <-chan blockResult, want string) {
		t.Helper()
		select {
		case res := <-ch:
			if res.err == nil || res.err.Error() != want {
				t.Fatalf("%s = %v, %v; want error %q", what, res.vals, res.err, want)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: still blocked", what)
		}
	}
	group = blockedGroupRead()
	waitBlocked(t, bob, 1)
	r(producer.XGroupDestroy(ctx, "jobs", "workers").Result()).must(t, "XGROUP DESTROY")
	mustFail("XREADGROUP BLOCK, group destroyed", group, "NOGROUP the consumer group this client was blocked on no longer exists")
	r(producer.XGroupCreate(ctx, "jobs", "workers", "$").Result()).must(t, "XGROUP CREATE again")
	group = blockedGroupRead()
	read = goBlock(func() ([]string, error) {
		res, err := alice.XRead(ctx, &redis.XReadArgs{Streams: []string{"jobs", "$"}, Block: 0}).Result()
		return streamsAsStrings(res), err
	})
	waitBlocked(t, bob, 1)
	waitBlocked(t, alice, 1)
	r(producer.Del(ctx, "jobs").Result()).must(t, "DEL jobs")
	mustFail("XREADGROUP BLOCK, key deleted", group, "UNBLOCKED the stream key no longer exists")
	r(producer.XAdd(ctx, &redis.XAddArgs{Stream: "jobs", ID: "1-1", Values: []string{"job", "old"}}).Result()).must(t, "XADD 1-1")
	// 1-1 is not past the ID $ stood for (XSETID above moved it to
	// 99999999999999-0, and late came after), so only the next is served.
	r(producer.XAdd(ctx, &redis.XAddArgs{Stream: "jobs", ID: "99999999999999-9", Values: []string{"job", "reborn"}}).Result()).must(t, "XADD 99999999999999-9")
	mustResult(t, "XREAD BLOCK across a DEL", read, "jobs", "99999999999999-9", "job", "reborn")

	// A blocked read times out on its own.
	start := time.Now()
	if _, err := alice.XRead(ctx, &redis.XReadArgs{Streams: []string{"jobs", "$"}, Block: 50 * time.Millisecond}).Result(); err != redis.Nil {
		t.Fatalf("XREAD BLOCK 50 = %v, want nil", err)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Fatalf("XREAD BLOCK 50 returned after %v", d)
	}
}

// streamIDLess reports whether stream ID a comes before b.
func streamIDLess(a, b string) bool {
	am, as, _ := strings.Cut(a, "-")
	bm, bs, _ := strings.Cut(b, "-")
	if len(am) != len(bm) {
		return len(am) < len(bm)
	}
	if am != bm {
		return am < bm
	}
	return len(as) < len(bs) || len(as) == len(bs) && as < bs
}

// streamsAsStrings flattens an XREAD reply: stream, then each entry's ID,
// fields and values.
func streamsAsStrings(res []redis.XStream) []string {
	var out []string
	for _, s := range res {
		out = append(out, s.Stream)
		for _, m := range s.Messages {
			out = append(out, m.ID)
			for _, k := range slices.Sorted(maps.Keys(m.Values)) {
				out = append(out, k, m.Values[k].(string))
			}
		}
	}
	return out
}

// TestRedisStreamsRestart: a stream's entries, metadata, groups,
// consumers and pending entries are the same after the node is killed
// and restarted, and auto IDs go on past the last one.
func TestRedisStreamsRestart(t *testing.T) {
	g := startGateway(t)
	ctx := testCtx(t)
	c := g.redisClient(2)
	for i := range 250 {
		r(c.XAdd(ctx, &redis.XAddArgs{Stream: "s", ID: fmt.Sprintf("%d-1", i+1), Values: []string{"f", fmt.Sprint(i)}}).Result()).must(t, "XADD")
	}
	r(c.XDel(ctx, "s", "5-1", "120-1").Result()).must(t, "XDEL")
	r(c.XTrimMaxLenApprox(ctx, "s", 120, 0).Result()).must(t, "XTRIM ~")
	r(c.XGroupCreate(ctx, "s", "g", "0").Result()).must(t, "XGROUP CREATE")
	r(c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "a", Streams: []string{"s", ">"}, Count: 7, Block: -1}).Result()).must(t, "XREADGROUP")
	r(c.XClaim(ctx, &redis.XClaimArgs{Stream: "s", Group: "g", Consumer: "b", Messages: []string{"203-1"}}).Result()).must(t, "XCLAIM")
	r(c.XAck(ctx, "s", "g", "202-1").Result()).must(t, "XACK")
	info := func() string {
		t.Helper()
		return renderReply(c.Do(ctx, "XINFO", "STREAM", "s", "FULL", "COUNT", "0").Result())
	}
	before := info()
	if !strings.Contains(before, "203-1") || strings.HasPrefix(before, "(error)") {
		t.Fatalf("XINFO STREAM FULL = %s", before)
	}

	g.kill()
	g.restart()
	c = g.redisClient(2)
	if after := info(); after != before {
		t.Fatalf("after restart XINFO STREAM FULL =\n%s\nwant\n%s", after, before)
	}
	id := r(c.XAdd(ctx, &redis.XAddArgs{Stream: "s", Values: []string{"f", "new"}}).Result()).must(t, "XADD *")
	if !streamIDLess("250-1", id) {
		t.Fatalf("XADD * after restart = %s", id)
	}
}
