package loglet_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hourglass/internal/zkserver"
	"hourglass/loglet"
	"hourglass/loglet/native"
	"hourglass/loglet/native/nativetest"
	"hourglass/loglet/striped"
	"hourglass/loglet/zk"
)

// BenchmarkKinds measures durable appends of 100-byte entries with 1 and
// 64 concurrent appenders to each loglet kind: native (one LogServer on
// the real filesystem, fsync per group commit), striped over 2 and 3
// native stripes (a LogServer each), and zookeeper (a real Apache
// ZooKeeper 3.8 standalone, which fsyncs its transaction log). It reports
// appends/s and the p50 and p99 latency of one append.
//
//	go test -run '^$' -bench Kinds -benchtime 3000x ./loglet/
func BenchmarkKinds(b *testing.B) {
	var zkAddr string
	kinds := []struct {
		name string
		open func(b *testing.B) loglet.Loglet
	}{
		{"native", func(b *testing.B) loglet.Loglet { return nativeLoglet(b, 1) }},
		{"striped2", func(b *testing.B) loglet.Loglet { return stripedLoglet(b, 2) }},
		{"striped3", func(b *testing.B) loglet.Loglet { return stripedLoglet(b, 3) }},
		{"zookeeper", func(sb *testing.B) loglet.Loglet {
			if zkAddr == "" { // one server for every run, stopped at the end
				s, err := zkserver.Start(b.TempDir(), time.Minute)
				if err != nil {
					sb.Fatal(err)
				}
				b.Cleanup(s.Stop)
				zkAddr = s.Addr
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			l, err := zk.Open(ctx, zk.Config{Servers: []string{zkAddr}, Root: fmt.Sprintf("/bench/%d", time.Now().UnixNano())})
			if err != nil {
				sb.Fatal(err)
			}
			return l
		}},
	}
	for _, k := range kinds {
		for _, appenders := range []int{1, 64} {
			b.Run(fmt.Sprintf("%s/appenders=%d", k.name, appenders), func(b *testing.B) {
				l := k.open(b)
				defer l.Close()
				benchAppends(b, l, appenders)
			})
		}
	}
}

// benchAppends runs b.N appends from appenders goroutines and reports
// throughput and latency percentiles.
func benchAppends(b *testing.B, l loglet.Loglet, appenders int) {
	entry := make([]byte, 100)
	ctx := context.Background()
	var next atomic.Int64
	lat := make([][]time.Duration, appenders)
	b.ResetTimer()
	var wg sync.WaitGroup
	for a := range appenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				began := time.Now()
				if _, err := l.Append(ctx, loglet.AppendID{}, [][]byte{entry}); err != nil {
					b.Error(err)
					return
				}
				lat[a] = append(lat[a], time.Since(began))
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		return
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
	b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-us")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-us")
	b.ReportMetric(0, "ns/op")
}

// nativeLoglet opens native loglet id on a LogServer of its own.
func nativeLoglet(b *testing.B, id native.LogletID) *native.Loglet {
	server := nativetest.OpenOnDisk(b, b.TempDir())
	l, err := native.Open(context.Background(), native.Config{ID: id, Servers: []native.Server{server}, Fresh: true})
	if err != nil {
		b.Fatal(err)
	}
	return l
}

func stripedLoglet(b *testing.B, n int) *striped.Loglet {
	var stripes []loglet.Loglet
	for k := range n {
		stripes = append(stripes, nativeLoglet(b, native.LogletID(k+1)))
	}
	l, err := striped.Open(striped.Config{Stripes: stripes, Fresh: true})
	if err != nil {
		b.Fatal(err)
	}
	return l
}
