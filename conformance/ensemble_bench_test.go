package conformance

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"hourglass/node/adminpb"
)

// percentile returns the p-th percentile (0..100) of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p / 100)
	return sorted[i]
}

// reportLatencies adds p50 and p99 (in microseconds) to b's metrics.
func reportLatencies(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	b.ReportMetric(float64(percentile(lat, 50).Microseconds()), "p50-us")
	b.ReportMetric(float64(percentile(lat, 99).Microseconds()), "p99-us")
}

// startDirectEnsemble starts n nodes that talk to each other directly, not
// through test proxies, for benchmarks. Their peer ports are picked free
// beforehand (a port could be taken in between; a benchmark may then have
// to be run again).
func startDirectEnsemble(b *testing.B, n int, extra ...string) *ensemble {
	b.Helper()
	var addrs []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		addrs = append(addrs, ln.Addr().String())
		ln.Close()
	}
	var peers []string
	for i, a := range addrs {
		peers = append(peers, nodeID(i)+"="+a)
	}
	e := &ensemble{t: b}
	for i := range n {
		g := &gateway{t: b, dataDir: b.TempDir(), args: append([]string{"--node-id", nodeID(i), "--peer-addr", addrs[i], "--peers", strings.Join(peers, ",")}, extra...)}
		e.nodes = append(e.nodes, g)
		b.Cleanup(g.kill)
	}
	startAll(e.nodes)
	return e
}

// BenchmarkEnsemble measures SET and GET on a three-node ensemble, clients
// spread over the nodes, with 1, 16 and 64 clients: throughput and p50/p99
// latency.
//
//	go test -run '^$' -bench Ensemble -benchtime 5000x ./conformance/
func BenchmarkEnsemble(b *testing.B) {
	e := startDirectEnsemble(b, 3)
	for _, op := range []string{"set", "get"} {
		for _, clients := range []int{1, 16, 64} {
			b.Run(fmt.Sprintf("%s/clients=%d", op, clients), func(b *testing.B) {
				var cls []*redis.Client
				for i := range clients {
					cl := redis.NewClient(&redis.Options{Addr: e.nodes[i%3].addr("redis"), Protocol: 2, PoolSize: 1})
					defer cl.Close()
					cls = append(cls, cl)
				}
				ctx := context.Background()
				value := make([]byte, 100)
				lat := make([][]time.Duration, clients)
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
							key := fmt.Sprintf("key:%d", i%1000)
							start := time.Now()
							var err error
							if op == "set" {
								err = cls[w].Set(ctx, key, value, 0).Err()
							} else {
								err = cls[w].Get(ctx, key).Err()
								if err == redis.Nil {
									err = nil
								}
							}
							if err != nil {
								b.Error(err)
								return
							}
							lat[w] = append(lat[w], time.Since(start))
						}
					}()
				}
				wg.Wait()
				b.StopTimer()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
				reportLatencies(b, slices.Concat(lat...))
			})
		}
	}
}

// BenchmarkFailover kills -9 the node running the sequencer, over and
// over, while a client on another node writes, and reports the
// unavailability window: from the client's last success before the kill
// to its first success after.
//
//	go test -run '^$' -bench Failover -benchtime 10x ./conformance/
func BenchmarkFailover(b *testing.B) {
	e := startDirectEnsemble(b, 3)
	var windows []time.Duration
	for range b.N {
		seq := e.sequencer(0)
		writer := (seq + 1) % 3
		cl := redis.NewClient(&redis.Options{Addr: e.nodes[writer].addr("redis"), Protocol: 2, MaxRetries: -1, ReadTimeout: 2 * time.Second, PoolSize: 1})
		var lastOK atomic.Int64
		stop := make(chan struct{})
		var killedAt atomic.Int64
		firstAfter := make(chan time.Time, 1)
		go func() {
			ctx := context.Background()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := cl.Set(ctx, "failover", i, 0).Err(); err == nil {
					now := time.Now()
					if k := killedAt.Load(); k != 0 && now.UnixNano() > k {
						select {
						case firstAfter <- now:
						default:
						}
					} else {
						lastOK.Store(now.UnixNano())
					}
				}
			}
		}()
		waitFor(b, "writes before the kill", 10*time.Second, func() bool { return lastOK.Load() != 0 })
		killedAt.Store(time.Now().UnixNano())
		e.nodes[seq].kill()
		var after time.Time
		select {
		case after = <-firstAfter:
		case <-time.After(30 * time.Second):
			b.Fatal("no write succeeded within 30s of killing the sequencer")
		}
		close(stop)
		cl.Close()
		windows = append(windows, after.Sub(time.Unix(0, lastOK.Load())))
		e.nodes[seq].restart()
	}
	slices.Sort(windows)
	b.ReportMetric(float64(percentile(windows, 50).Milliseconds()), "p50-ms")
	b.ReportMetric(float64(percentile(windows, 99).Milliseconds()), "p99-ms")
	b.ReportMetric(float64(windows[len(windows)-1].Milliseconds()), "max-ms")
}

// BenchmarkReconfigure times planned reconfigurations (as the node that
// runs them measures them) on a single node and on a three-node ensemble
// under a light write load.
//
//	go test -run '^$' -bench Reconfigure -benchtime 50x ./conformance/
func BenchmarkReconfigure(b *testing.B) {
	for _, size := range []int{1, 3} {
		b.Run(fmt.Sprintf("nodes=%d", size), func(b *testing.B) {
			var admin adminpb.AdminClient
			var redisAddr string
			if size == 1 {
				g := startGateway(b)
				e := &ensemble{t: b, nodes: []*gateway{g}}
				admin, redisAddr = e.admin(0), g.addr("redis")
			} else {
				e := startDirectEnsemble(b, 3)
				admin, redisAddr = e.admin(rand.IntN(3)), e.nodes[0].addr("redis")
			}
			cl := redis.NewClient(&redis.Options{Addr: redisAddr, Protocol: 2})
			defer cl.Close()
			stop := make(chan struct{})
			defer close(stop)
			go func() {
				for {
					select {
					case <-stop:
						return
					default:
						cl.Incr(context.Background(), "load")
					}
				}
			}()
			var took []time.Duration
			ctx := context.Background()
			for range b.N {
				r, err := admin.Reconfigure(ctx, &adminpb.ReconfigureRequest{})
				if err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Duration(r.Micros)*time.Microsecond)
			}
			reportLatencies(b, took)
		})
	}
}

// BenchmarkSwapLogletKinds moves a 3-node ensemble's log native ->
// striped (2 stripes) -> zookeeper (a real Apache ZooKeeper) -> native ...
// while a client on every node increments a counter: the time of each
// swap as the reconfiguring node reports it, and the client-visible pause
// (the longest time in which no client completed an operation, from the
// swap's start to 200ms after its end), p50 and p99 of each.
//
//	go test -run '^$' -bench SwapLogletKinds -benchtime 30x ./conformance/
func BenchmarkSwapLogletKinds(b *testing.B) {
	zk := startRealZK(b)
	e := startDirectEnsemble(b, 3, "--zk-log-servers", zk)
	var mu sync.Mutex
	var done []time.Time // completions of successful operations
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range e.nodes {
		cl := redis.NewClient(&redis.Options{Addr: e.nodes[i].addr("redis"), Protocol: 2, MaxRetries: -1})
		defer cl.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if cl.Incr(context.Background(), "load").Err() == nil {
					mu.Lock()
					done = append(done, time.Now())
					mu.Unlock()
				}
			}
		}()
	}
	defer func() {
		close(stop)
		wg.Wait()
	}()
	kinds := []*adminpb.ReconfigureRequest{{LogletKind: "striped", Stripes: 2}, {LogletKind: "zookeeper"}, {LogletKind: "native"}}
	var took, pauses []time.Duration
	ctx := context.Background()
	time.Sleep(200 * time.Millisecond)
	for i := range b.N {
		start := time.Now()
		r, err := e.admin(i%3).Reconfigure(ctx, kinds[i%len(kinds)])
		if err != nil {
			b.Fatal(err)
		}
		end := time.Now().Add(200 * time.Millisecond)
		time.Sleep(time.Until(end))
		took = append(took, time.Duration(r.Micros)*time.Microsecond)
		mu.Lock()
		last, longest := start, time.Duration(0)
		for _, t := range done {
			if t.Before(start) || t.After(end) {
				continue
			}
			longest = max(longest, t.Sub(last))
			last = t
		}
		longest = max(longest, end.Sub(last))
		done = done[:0]
		mu.Unlock()
		pauses = append(pauses, longest)
	}
	slices.Sort(took)
	slices.Sort(pauses)
	b.ReportMetric(float64(percentile(took, 50).Microseconds()), "swap-p50-us")
	b.ReportMetric(float64(percentile(took, 99).Microseconds()), "swap-p99-us")
	b.ReportMetric(float64(percentile(pauses, 50).Microseconds()), "pause-p50-us")
	b.ReportMetric(float64(percentile(pauses, 99).Microseconds()), "pause-p99-us")
}
