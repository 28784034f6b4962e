package native_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"hourglass/loglet"
	"hourglass/loglet/native"
	"hourglass/loglet/native/nativetest"
)

// BenchmarkAppend measures durable appends of 100-byte entries to a native
// loglet on the real filesystem (every acknowledged append is fsynced),
// with 1 and 64 concurrent appenders. It reports appends/s and fsyncs per
// append (group commit makes the latter fall as concurrency rises).
//
//	go test -run '^$' -bench Append -benchtime 5000x ./loglet/native/
func BenchmarkAppend(b *testing.B) {
	for _, appenders := range []int{1, 64} {
		b.Run(fmt.Sprintf("appenders=%d", appenders), func(b *testing.B) {
			server := nativetest.OpenOnDisk(b, b.TempDir())
			l, err := native.Open(context.Background(), native.Config{ID: 1, Servers: []native.Server{server}})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			entry := make([]byte, 100)
			ctx := context.Background()
			var next atomic.Int64
			before := server.Fsyncs()
			b.ResetTimer()
			var wg sync.WaitGroup
			for range appenders {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for next.Add(1) <= int64(b.N) {
						if _, err := l.Append(ctx, loglet.AppendID{}, [][]byte{entry}); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			fsyncs := server.Fsyncs() - before
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
			b.ReportMetric(float64(fsyncs)/float64(b.N), "fsyncs/append")
		})
	}
}
