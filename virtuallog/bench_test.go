package virtuallog_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"hourglass/internal/pebbledb"
	"hourglass/loglet"
	"hourglass/loglet/mem"
	"hourglass/loglet/native"
	"hourglass/virtuallog"
	"hourglass/virtuallog/metastore"
	"hourglass/virtuallog/vlogpb"
)

// BenchmarkVirtualLogOverhead compares one appender's append latency
// through the VirtualLog with calling the loglet directly, for a native
// loglet on disk (fsync per append) and an in-memory one (pure overhead).
// It reports p50 and p99 in microseconds.
//
//	go test -run '^$' -bench VirtualLogOverhead -benchtime 20000x ./virtuallog/
func BenchmarkVirtualLogOverhead(b *testing.B) {
	for _, kind := range []string{"native", "mem"} {
		for _, via := range []string{"loglet", "virtuallog"} {
			b.Run(kind+"/"+via, func(b *testing.B) {
				ctx := context.Background()
				dir := b.TempDir()
				logDB, err := pebbledb.Open(dir+"/log", pebbledb.Options{})
				if err != nil {
					b.Fatal(err)
				}
				server, err := native.OpenLogServer(logDB, true, nil)
				if err != nil {
					b.Fatal(err)
				}
				defer server.Close()
				metaDB, err := pebbledb.Open(dir+"/meta", pebbledb.Options{})
				if err != nil {
					b.Fatal(err)
				}
				defer metaDB.Close()
				provider, err := virtuallog.NewKinds(kind, map[string]virtuallog.Kind{
					"native": {Open: func(ctx context.Context, cfg *vlogpb.LogletConfig, fresh bool) (loglet.Loglet, error) {
						return native.Open(ctx, native.Config{ID: native.LogletID(cfg.Id), Servers: []native.Server{server}, Fresh: fresh})
					}},
					"mem": {Open: func(ctx context.Context, cfg *vlogpb.LogletConfig, fresh bool) (loglet.Loglet, error) {
						return mem.New(), nil
					}},
				})
				if err != nil {
					b.Fatal(err)
				}
				defer provider.Close()
				vl, err := virtuallog.Open(ctx, virtuallog.Config{Meta: metastore.NewLocal(metaDB), Provider: provider})
				if err != nil {
					b.Fatal(err)
				}
				chain, _ := vl.Chain()
				l, err := provider.Open(ctx, chain.Segments[0].Loglet)
				if err != nil {
					b.Fatal(err)
				}
				entry := [][]byte{make([]byte, 100)}
				lat := make([]time.Duration, 0, b.N)
				b.ResetTimer()
				for i := range b.N {
					id := loglet.AppendID{Client: 1, Seq: uint64(i + 1)}
					start := time.Now()
					if via == "loglet" {
						_, err = l.Append(ctx, id, entry)
					} else {
						_, err = vl.Append(ctx, id, entry)
					}
					if err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(start))
				}
				b.StopTimer()
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1000, "p50-us")
				b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1000, "p99-us")
			})
		}
	}
}
