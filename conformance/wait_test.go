package conformance

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestRedisWaitMatchesRedisServer diffs WAIT's argument errors and a
// single node's answer (no other nodes: 0 at once, as a replica-less
// redis-server answers WAIT 0).
func TestRedisWaitMatchesRedisServer(t *testing.T) {
	g := startGateway(t)
	diffScriptsWithRedis(t, g, "SET k v\nWAIT 0 0\nWAIT 0 100\nWAIT x 0\nWAIT 0 x\nWAIT 0 -1\nWAIT 1\nWAIT 1 2 3\n")
	ctx := testCtx(t)
	c := g.redisClient(2)
	start := time.Now()
	if n := r(c.Do(ctx, "WAIT", 1, 0).Int()).must(t, "WAIT 1 0"); n != 0 || time.Since(start) > 5*time.Second {
		t.Fatalf("WAIT 1 0 on a single node = %d after %v", n, time.Since(start))
	}
	if v := r(c.Do(ctx, "WAITAOF", 1, 0, 0).Int64Slice()).must(t, "WAITAOF"); len(v) != 2 || v[0] != 1 || v[1] != 0 {
		t.Fatalf("WAITAOF 1 0 0 = %v", v)
	}
}

// TestEnsembleRedisWait: on a 3-node ensemble, WAIT after a write
// counts the two other nodes once they applied it, and waits out its
// timeout for more replicas than there are.
func TestEnsembleRedisWait(t *testing.T) {
	e := startEnsemble(t, 3)
	ctx := testCtx(t)
	c := redis.NewClient(&redis.Options{Addr: e.nodes[0].addr("redis")})
	defer c.Close()
	for i := range 3 {
		r(c.Set(ctx, "k", i, 0).Result()).must(t, "SET")
		if n := r(c.Do(ctx, "WAIT", 2, 5000).Int()).must(t, "WAIT 2 5000"); n != 2 {
			t.Fatalf("WAIT 2 5000 after a SET = %d", n)
		}
	}
	if v := r(c.Do(ctx, "WAITAOF", 1, 2, 5000).Int64Slice()).must(t, "WAITAOF"); len(v) != 2 || v[0] != 1 || v[1] != 2 {
		t.Fatalf("WAITAOF 1 2 5000 = %v", v)
	}
	start := time.Now()
	if n := r(c.Do(ctx, "WAIT", 3, 300).Int()).must(t, "WAIT 3 300"); n != 2 {
		t.Fatalf("WAIT 3 300 = %d", n)
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Fatalf("WAIT 3 300 answered after %v, before its timeout", d)
	}
	// A node cut off from the others has not applied a later write:
	// WAIT counts the one that has, after its timeout; once the links
	// are back, both.
	// (The victim is neither the client's node nor the sequencer, so
	// writes go on without a reconfiguration.)
	victim := 1
	if e.sequencer(0) == 1 {
		victim = 2
	}
	e.isolate(victim, linkDown)
	r(c.Set(ctx, "k", "3", 0).Result()).must(t, "SET with a node cut off")
	if n := r(c.Do(ctx, "WAIT", 2, 300).Int()).must(t, "WAIT 2 300"); n != 1 {
		t.Fatalf("WAIT 2 300 with a node cut off = %d", n)
	}
	e.isolate(victim, linkUp)
	if n := r(c.Do(ctx, "WAIT", 2, 30000).Int()).must(t, "WAIT 2 30000"); n != 2 {
		t.Fatalf("WAIT 2 30000 after the links came back = %d", n)
	}
	// What a node applied, the others read.
	other := redis.NewClient(&redis.Options{Addr: e.nodes[victim].addr("redis")})
	defer other.Close()
	if v := r(other.Get(ctx, "k").Result()).must(t, "GET on another node"); v != "3" {
		t.Fatalf("GET k on the node cut off before = %q", v)
	}
}
