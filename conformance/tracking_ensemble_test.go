package conformance

import (
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestEnsembleTrackingGoRedisCache: go-redis's client-side cache
// (RESP3, CLIENT TRACKING in the default mode) reads through node 1
// while another client writes through node 2. Once node 1 has applied a
// write (a read through it follows the write), the cache, after one
// round trip on its connection, answers what the store holds: node 1
// sent the invalidation before that round trip's reply.
func TestEnsembleTrackingGoRedisCache(t *testing.T) {
	e := startEnsemble(t, 3)
	ctx := testCtx(t)
	cache := redis.NewLocalCache(redis.CacheConfig{MaxEntries: 1024})
	reader := redis.NewClient(&redis.Options{Addr: e.nodes[0].addr("redis"), Protocol: 3, PoolSize: 1, MaxRetries: -1, ClientSideCache: cache})
	t.Cleanup(func() { reader.Close() })
	node1 := e.nodes[0].redisClient(2)
	writer := e.nodes[1].redisClient(2)
	truth := e.nodes[2].redisClient(2)

	keys := []string{"a", "b", "c"}
	ops := [][]any{
		{"SET", "a", "1"}, {"SET", "b", "x"}, {"INCR", "a"}, {"APPEND", "b", "y"}, {"SET", "c", "z", "EX", "100"},
		{"RENAME", "c", "a"}, {"DEL", "b"}, {"SET", "b", "new"}, {"EXPIRE", "b", "-1"}, {"SET", "a", "7"},
		{"MSET", "a", "m", "c", "n"}, {"GETDEL", "c"}, {"SETRANGE", "a", "0", "Q"}, {"COPY", "a", "b"},
		{"FLUSHALL"}, {"SET", "c", "again"},
	}
	get := func(c *redis.Client, k string) string {
		v, err := c.Get(ctx, k).Result()
		if err == redis.Nil {
			return "(nil)"
		} else if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, op := range ops {
		for _, k := range keys {
			get(reader, k)
		}
		if err := writer.Do(ctx, op...).Err(); err != nil {
			t.Fatalf("%v: %v", op, err)
		}
		node1.Get(ctx, "sync") // node 1 has applied the write
		if err := reader.Ping(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if got, want := get(reader, k), get(truth, k); got != want {
				t.Fatalf("after %v the cache answers %s=%q, the store holds %q", op, k, got, want)
			}
		}
	}
	if st := reader.CSCStats(); st.Hits == 0 {
		t.Fatalf("the cache never answered: %+v", st)
	}
}

// TestEnsembleTrackingRedisPy drives redis-py (Debian's python3-redis,
// RESP2) against node 1: client-side caches kept by invalidations
// redirected to a subscribed connection, in the default mode, BCAST with
// prefixes, OPTIN and NOLOOP, while another client writes through node 2.
func TestEnsembleTrackingRedisPy(t *testing.T) {
	e := startEnsemble(t, 3)
	runRedisPy(t, trackingPy, e.nodes[0].port("redis")+","+e.nodes[1].port("redis"))
}

// trackingPy is TestEnsembleTrackingRedisPy's program: after each
// scenario a write of a tracked sentinel key marks the end of the
// invalidations it must have caused, which must be exactly those
// listed.
const trackingPy = `
import sys, time, redis
p1, p2 = [int(p) for p in sys.argv[1].split(",")]
admin = redis.Redis(host="127.0.0.1", port=p1)
writer = redis.Redis(host="127.0.0.1", port=p2)
truth = redis.Redis(host="127.0.0.1", port=p1)
ps = redis.Redis(host="127.0.0.1", port=p1).pubsub()
ps.subscribe("__redis__:invalidate")
m = ps.get_message(timeout=5)
assert m and m["type"] == "subscribe", m
subs = admin.client_list(_type="pubsub")
assert len(subs) == 1, subs
redir = int(subs[0]["id"])
t = redis.Redis(host="127.0.0.1", port=p1, single_connection_client=True)

cache = {}
def cached(k):
    drain()
    if k not in cache:
        cache[k] = t.get(k)
    return cache[k]

seen = []
def drain(timeout=0):
    while True:
        m = ps.get_message(timeout=timeout)
        if m is None:
            return
        assert m["type"] == "message" and m["channel"] == b"__redis__:invalidate", m
        keys = m["data"]
        seen.append(None if keys is None else [k.decode() for k in keys])
        if keys is None:
            cache.clear()
        else:
            for k in keys:
                cache.pop(k.decode(), None)
        if keys is not None and keys[-1].startswith(b"sentinel"):
            return

n = 0
def expect(what, want, bcast=False, caching=False):
    global n
    n += 1
    s = "sentinel%d" % n
    if not bcast:
        if caching:
            t.execute_command("CLIENT CACHING", "YES")
        t.get(s)
    writer.set(s, 1)
    deadline = time.time() + 10
    while not (seen and seen[-1] == [s]) and time.time() < deadline:
        drain(0.2)
    got = seen[:-1]
    seen.clear()
    assert got == want, "%s: invalidations %r, want %r" % (what, got, want)
    for k in list(cache):
        assert cache[k] == truth.get(k), "%s: cache %s=%r, store %r" % (what, k, cache[k], truth.get(k))

# Default mode: a read key is invalidated once, at its next write.
t.client_tracking_on(clientid=redir)
cached("a"); cached("b"); cached("c")
writer.set("a", 1)
writer.mset({"b": 1, "c": 2})
writer.set("a", 2)
expect("default", [["a"], ["b"], ["c"]])
cached("a"); writer.delete("a", "nokey"); expect("del", [["a"]])
cached("a"); writer.flushall(); expect("flushall", [None])

# NOLOOP: the client's own writes do not invalidate its cache (it
# drops what it wrote itself; the key, as in Redis, is tracked again
# when it reads it again).
t.client_tracking_on(clientid=redir, noloop=True)
cached("m"); t.set("m", "own"); cache.pop("m"); cached("m"); writer.set("m", "theirs")
expect("noloop", [["m"]])

# OPTIN: only the reads after CLIENT CACHING yes are tracked.
t.client_tracking_off()
t.client_tracking_on(clientid=redir, optin=True)
t.get("o1")
t.execute_command("CLIENT CACHING", "YES"); t.get("o2")
writer.mset({"o1": 1, "o2": 2})
expect("optin", [["o2"]], caching=True)

# BCAST with prefixes: every key under them, read or not.
t.client_tracking_off()
t.client_tracking_on(clientid=redir, bcast=True, prefix=["user:", "obj:", "sentinel"])
writer.set("user:1", "a")
writer.mset({"user:2": "x", "obj:1": "y", "other": "z"})
writer.delete("other")
expect("bcast", [["user:1"], ["obj:1"], ["user:2"]], bcast=True)
print("ok")
`
