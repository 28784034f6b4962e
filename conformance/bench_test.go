package conformance

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"
)

// BenchmarkRedisSET measures end-to-end SETs through go-redis against a
// real gateway process: RESP parsing, a proposal through the engine stack,
// a durable (fsynced) append to the log, apply, and the reply. It reports
// SETs per second for 1 and 64 concurrent clients.
//
//	go test -run '^$' -bench RedisSET -benchtime 5000x ./conformance/
func BenchmarkRedisSET(b *testing.B) {
	for _, clients := range []int{1, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			g := startGateway(b)
			ctx := context.Background()
			c := redis.NewClient(&redis.Options{Addr: g.addr("redis"), PoolSize: clients, Protocol: 2})
			defer c.Close()
			value := make([]byte, 100)
			var next atomic.Int64
			b.ResetTimer()
			var wg sync.WaitGroup
			for w := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := next.Add(1)
						if i > int64(b.N) {
							return
						}
						if err := c.Set(ctx, fmt.Sprintf("key:%d:%d", w, i%1000), value, 0).Err(); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sets/s")
		})
	}
}
