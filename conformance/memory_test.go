package conformance

import (
	"fmt"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// memoryScript diffs MEMORY's help, doctor (on a small dataset both
// decline), purge, missing keys and errors against redis-server.
var memoryScript = strings.Join([]string{
	"MEMORY HELP", "MEMORY DOCTOR", "MEMORY PURGE", "MEMORY USAGE nokey", "MEMORY USAGE nokey SAMPLES 0",
	"MEMORY USAGE", "MEMORY USAGE a b", "MEMORY USAGE a samples", "MEMORY USAGE a SAMPLES -1",
	"MEMORY USAGE a SAMPLES x", "MEMORY USAGE a SAMPLES 1 SAMPLES 2", "MEMORY FOO", "MEMORY", "MEMORY STATS x",
	"MEMORY DOCTOR x", "MEMORY HELP x", "MEMORY MALLOC-STATS x", "MEMORY PURGE x",
}, "\n") + "\n"

func TestRedisMemoryMatchesRedisServer(t *testing.T) {
	diffScriptsWithRedis(t, startGateway(t), memoryScript)
}

// memoryUsageFactor is how far the gateway's MEMORY USAGE may be from
// redis-server's for the same value, either way: the gateway's figure is
// its own estimate (bytes stored plus fixed overheads), not Redis's
// allocations under its compact encodings.
const memoryUsageFactor = 4.0

// TestRedisMemoryUsageNearRedisServer builds the same values of every
// type, encoding and several sizes in the gateway and in redis-server,
// and requires MEMORY USAGE (SAMPLES 0, and the default sampling) to be
// within memoryUsageFactor of redis-server's; and MEMORY STATS to have
// redis-server's fields, in its order, with its value types.
func TestRedisMemoryUsageNearRedisServer(t *testing.T) {
	g := startGateway(t)
	ctx := testCtx(t)
	gw := g.redisClient(2)
	rs := redis.NewClient(&redis.Options{Network: "unix", Addr: startRedisServer(t), Protocol: 2, MaxRetries: -1})
	defer rs.Close()
	type value struct {
		name  string
		build func(c *redis.Client, key string) error
	}
	text := func(n int) string { return strings.Repeat("x", n) }
	pipe := func(c *redis.Client, f func(p redis.Pipeliner)) error {
		_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error { f(p); return nil })
		return err
	}
	// each builds a value of n elements, adding element i with add.
	each := func(name string, n int, add func(p redis.Pipeliner, k string, i int)) value {
		return value{name, func(c *redis.Client, k string) error {
			return pipe(c, func(p redis.Pipeliner) {
				for i := range n {
					add(p, k, i)
				}
			})
		}}
	}
	var values []value
	for _, n := range []int{1, 40, 100, 10000} {
		values = append(values, value{fmt.Sprintf("string-%d", n), func(c *redis.Client, k string) error { return c.Set(ctx, k, text(n), 0).Err() }})
	}
	values = append(values, value{"string-int", func(c *redis.Client, k string) error { return c.Set(ctx, k, "12345", 0).Err() }})
	for _, sz := range [][2]int{{3, 5}, {1000, 10}, {100, 1000}} {
		n, size := sz[0], sz[1]
		elem := func(i int) string { return fmt.Sprintf("%0*d", size, i) }
		suffix := fmt.Sprintf("-%dx%d", n, size)
		values = append(values,
			each("list"+suffix, n, func(p redis.Pipeliner, k string, i int) { p.RPush(ctx, k, elem(i)) }),
			each("hash"+suffix, n, func(p redis.Pipeliner, k string, i int) { p.HSet(ctx, k, fmt.Sprintf("field:%d", i), elem(i)) }),
			each("set"+suffix, n, func(p redis.Pipeliner, k string, i int) { p.SAdd(ctx, k, "m"+elem(i)) }),
			each("zset"+suffix, n, func(p redis.Pipeliner, k string, i int) { p.ZAdd(ctx, k, redis.Z{Score: float64(i), Member: elem(i)}) }),
			each("stream"+suffix, n, func(p redis.Pipeliner, k string, i int) {
				p.XAdd(ctx, &redis.XAddArgs{Stream: k, ID: fmt.Sprintf("%d-1", i+1), Values: []string{"f", text(size)}})
			}),
		)
	}
	for _, n := range []int{5, 1000} {
		values = append(values, each(fmt.Sprintf("intset-%d", n), n, func(p redis.Pipeliner, k string, i int) { p.SAdd(ctx, k, i) }))
	}
	for _, v := range values {
		key := "mem:" + v.name
		for _, c := range []*redis.Client{gw, rs} {
			if err := v.build(c, key); err != nil {
				t.Fatalf("%s: %v", v.name, err)
			}
		}
		for _, samples := range []int{0, 5} {
			got, err := gw.MemoryUsage(ctx, key, samples).Result()
			if err != nil {
				t.Fatal(err)
			}
			want, err := rs.MemoryUsage(ctx, key, samples).Result()
			if err != nil {
				t.Fatal(err)
			}
			r := float64(got) / float64(want)
			t.Logf("%-20s SAMPLES %d: gateway %8d, redis-server %8d (%.2f)", v.name, samples, got, want, r)
			if r > memoryUsageFactor || r < 1/memoryUsageFactor {
				t.Errorf("%s SAMPLES %d: gateway %d, redis-server %d: more than %gx apart", v.name, samples, got, want, memoryUsageFactor)
			}
		}
	}
	shape := func(c *redis.Client) []string {
		r, err := c.Do(ctx, "MEMORY", "STATS").Slice()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for i := 0; i+1 < len(r); i += 2 {
			out = append(out, fmt.Sprintf("%v:%T", r[i], r[i+1]))
		}
		return out
	}
	if got, want := shape(gw), shape(rs); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("MEMORY STATS fields:\ngateway      %v\nredis-server %v", got, want)
	}
	if s, err := gw.Do(ctx, "MEMORY", "MALLOC-STATS").Text(); err != nil || s == "" {
		t.Errorf("MEMORY MALLOC-STATS: %q, %v", s, err)
	}
}
