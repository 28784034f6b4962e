package conformance

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// evictionScript sets and reads the eviction settings and meets the OOM
// error, as redis-server answers them. With maxmemory 1 both servers are
// over the limit whatever they hold (redis-server counts its own
// overhead; the gateway holds key a).
var evictionScript = strings.Join([]string{
	"CONFIG GET maxmemory", "CONFIG GET maxmemory-policy", "CONFIG GET maxmemory-samples",
	"CONFIG GET maxmemory-eviction-tenacity", "CONFIG GET lfu-log-factor", "CONFIG GET lfu-decay-time",
	"CONFIG SET maxmemory 10mb", "CONFIG GET maxmemory", "CONFIG SET maxmemory 1gb maxmemory-policy allkeys-lfu",
	"CONFIG GET maxmemory", "CONFIG GET maxmemory-policy", "CONFIG SET maxmemory abc", "CONFIG SET maxmemory -1",
	"CONFIG SET maxmemory-policy lru", "CONFIG SET maxmemory-policy VOLATILE-TTL", "CONFIG GET maxmemory-policy",
	"CONFIG SET maxmemory-samples 0", "CONFIG SET maxmemory-samples 10", "CONFIG GET maxmemory-samples",
	"CONFIG SET maxmemory-eviction-tenacity 101", "CONFIG SET maxmemory-eviction-tenacity 50",
	"CONFIG GET maxmemory-eviction-tenacity", "CONFIG SET lfu-log-factor -1", "CONFIG SET lfu-log-factor 20",
	"CONFIG SET lfu-decay-time 5", "CONFIG GET lfu-log-factor", "CONFIG GET lfu-decay-time",
	"CONFIG SET maxmemory 2000000 hz 0", "CONFIG GET maxmemory", "CONFIG SET hz 11 maxmemory 3mb", "CONFIG GET maxmemory",
	"CONFIG SET maxmemory-policy noeviction", "SET a b", "CONFIG SET maxmemory 1",
	"SET x y", "LPUSH l a", "INCR n", "HSET h f v", "GET a", "EXISTS a", "EXPIRE a 100", "OBJECT FREQ a",
	"DEL a", "CONFIG SET maxmemory 0", "SET x y", "GET x", "DEL x",
	"CONFIG SET maxmemory-samples 5 maxmemory-eviction-tenacity 10 lfu-log-factor 10 lfu-decay-time 1 hz 10",
}, "\n") + "\n"

// TestRedisEvictionMatchesRedisServer diffs the eviction settings and
// the OOM error against redis-server.
func TestRedisEvictionMatchesRedisServer(t *testing.T) {
	diffScriptsWithRedis(t, startGateway(t), evictionScript)
}

// infoInt reads an integer field of INFO from c.
func infoInt(t *testing.T, ctx context.Context, c *redis.Client, section, field string) int64 {
	t.Helper()
	info, err := c.Info(ctx, section).Result()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatalf("INFO %s: %q", field, line)
			}
			return n
		}
	}
	t.Fatalf("INFO %s without %s:\n%s", section, field, info)
	return 0
}

// TestEnsembleEviction fills a 3-node ensemble past maxmemory under each
// policy, with writes and reads spread over the nodes, and checks that
// the replicas stay identical, the used memory stays under the limit,
// the evicted keys are those the policy picks, and every node counts the
// same evictions.
func TestEnsembleEviction(t *testing.T) {
	e := startEnsemble(t, 3)
	ctx := testCtx(t)
	nodes := make([]*redis.Client, 3)
	for i, g := range e.nodes {
		nodes[i] = g.redisClient(2)
	}
	const keys = 200
	value := strings.Repeat("v", 400)
	key := func(i int) string { return fmt.Sprintf("key:%d", i) }
	hot := func(i int) bool { return i%4 == 0 } // and so with a TTL
	run := func(t *testing.T, policy string) {
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(nodes[0].ConfigSet(ctx, "maxmemory", "0").Err())
		must(nodes[1].FlushAll(ctx).Err())
		must(nodes[2].ConfigSet(ctx, "maxmemory-policy", policy).Err())
		must(nodes[0].ConfigSet(ctx, "maxmemory-samples", "10").Err())
		// spread runs f for every key, each in a pipeline to node i%3.
		spread := func(f func(p redis.Pipeliner, i int)) {
			t.Helper()
			for n, c := range nodes {
				_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
					for i := n; i < keys; i += len(nodes) {
						f(p, i)
					}
					return nil
				})
				must(err)
			}
		}
		spread(func(p redis.Pipeliner, i int) {
			ttl := time.Duration(0)
			if i%2 == 0 {
				ttl = time.Duration(1000+i) * time.Second // later keys expire later
			}
			p.Set(ctx, key(i), value, ttl)
		})
		if strings.HasSuffix(policy, "-lru") {
			// Reads on every node make the hot keys the recently used:
			// wait until every key is idle for a second (the last
			// written too), read, and wait for the touches to reach
			// the log.
			waitFor(t, "idle keys", 5*time.Second, func() bool {
				return nodes[0].ObjectIdleTime(ctx, key(keys-1)).Val() >= time.Second
			})
		}
		if strings.HasSuffix(policy, "-lru") || strings.HasSuffix(policy, "-lfu") {
			spread(func(p redis.Pipeliner, i int) {
				if hot(i) {
					p.Get(ctx, key(i))
				}
			})
		}
		waitFor(t, "touches applied", 5*time.Second, func() bool {
			for i := 0; i < keys; i += 4 {
				switch {
				case strings.HasSuffix(policy, "-lru"):
					if nodes[(i+1)%3].ObjectIdleTime(ctx, key(i)).Val() >= time.Second {
						return false
					}
				case strings.HasSuffix(policy, "-lfu"):
					if nodes[(i+1)%3].ObjectFreq(ctx, key(i)).Val() < 6 {
						return false
					}
				}
			}
			return true
		})
		used := infoInt(t, ctx, nodes[0], "memory", "used_memory")
		limit := used * 85 / 100
		must(nodes[1].ConfigSet(ctx, "maxmemory", strconv.FormatInt(limit, 10)).Err())
		for i := range 9 { // more writes on every node, evicting more
			must(nodes[i%3].Set(ctx, fmt.Sprintf("new:%d", i), value, time.Hour).Err())
		}
		must(nodes[2].Del(ctx, "nosuchkey").Err()) // evicts for the last write
		e.converge(0, 1, 2)
		var evicted int64 = -1
		for i, c := range nodes {
			if u := infoInt(t, ctx, c, "memory", "used_memory"); u > limit {
				t.Fatalf("node %d: used_memory %d over maxmemory %d", i+1, u, limit)
			}
			n := infoInt(t, ctx, c, "stats", "evicted_keys")
			if evicted >= 0 && n != evicted {
				t.Fatalf("node %d counts %d evictions, node 1 %d", i+1, n, evicted)
			}
			evicted = n
		}
		// kept counts the keys kept by whether they are hot; under a
		// volatile policy, of the keys with a TTL only.
		kept, total := map[bool]int{}, map[bool]int{}
		var firstKeptTTL = -1
		exists := make([]*redis.IntCmd, keys)
		spread(func(p redis.Pipeliner, i int) { exists[i] = p.Exists(ctx, key(i)) })
		for i := range keys {
			n := exists[i].Val()
			counted := !strings.HasPrefix(policy, "volatile-") || i%2 == 0
			if counted {
				total[hot(i)]++
			}
			if n == 0 {
				if strings.HasPrefix(policy, "volatile-") && i%2 == 1 {
					t.Fatalf("%s evicted %s, which has no TTL", policy, key(i))
				}
				if policy == "volatile-ttl" && firstKeptTTL >= 0 && i%2 == 0 {
					t.Fatalf("volatile-ttl evicted %s but kept %s, which expires sooner", key(i), key(firstKeptTTL))
				}
				continue
			}
			if i%2 == 0 && firstKeptTTL < 0 {
				firstKeptTTL = i
			}
			if counted {
				kept[hot(i)]++
			}
		}
		t.Logf("%s: limit %d, %d evicted in all; kept %d of %d hot keys, %d of %d others", policy, limit, evicted, kept[true], total[true], kept[false], total[false])
		if kept[true]+kept[false] == total[true]+total[false] {
			t.Fatal("nothing evicted")
		}
		if strings.HasSuffix(policy, "-lru") || strings.HasSuffix(policy, "-lfu") {
			// The hot keys, read on every node, survive much more often
			// (sampling makes LRU and LFU approximate, as in Redis).
			hotRate, coldRate := float64(kept[true])/float64(total[true]), float64(kept[false])/float64(total[false])
			if hotRate < 0.85 || hotRate < coldRate+0.2 {
				t.Fatalf("hot keys kept at rate %.2f, others at %.2f", hotRate, coldRate)
			}
		}
	}
	for _, policy := range []string{"allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"} {
		t.Run(policy, func(t *testing.T) { run(t, policy) })
	}
	t.Run("noeviction", func(t *testing.T) {
		if err := nodes[0].ConfigSet(ctx, "maxmemory-policy", "noeviction").Err(); err != nil {
			t.Fatal(err)
		}
		if err := nodes[1].ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
			t.Fatal(err)
		}
		for i, c := range nodes {
			err := c.Set(ctx, "more", "x", 0).Err()
			if err == nil || err.Error() != "OOM command not allowed when used memory > 'maxmemory'." {
				t.Fatalf("SET on node %d over maxmemory: %v", i+1, err)
			}
			if err := c.Get(ctx, key(1)).Err(); err != nil && err != redis.Nil {
				t.Fatalf("GET on node %d over maxmemory: %v", i+1, err)
			}
		}
		if err := nodes[2].ConfigSet(ctx, "maxmemory", "0").Err(); err != nil {
			t.Fatal(err)
		}
		e.converge(0, 1, 2)
	})
	// MIGRATE on one node deletes the keys through the log: gone on
	// every node, the replicas identical.
	t.Run("migrate", func(t *testing.T) {
		port := freePort(t)
		startRedisServer(t, "--port", port, "--bind", "127.0.0.1")
		if err := nodes[0].MSet(ctx, "m1", "a", "m2", "b").Err(); err != nil {
			t.Fatal(err)
		}
		if r, err := nodes[1].Do(ctx, "MIGRATE", "127.0.0.1", port, "", 0, 5000, "KEYS", "m1", "m2").Text(); r != "OK" || err != nil {
			t.Fatalf("MIGRATE: %q, %v", r, err)
		}
		for i, c := range nodes {
			if n := c.Exists(ctx, "m1", "m2").Val(); n != 0 {
				t.Fatalf("node %d still holds %d migrated keys", i+1, n)
			}
		}
		e.converge(0, 1, 2)
	})
}
