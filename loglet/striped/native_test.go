package striped_test

import (
	"context"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"hourglass/loglet"
	"hourglass/loglet/loglettest"
	"hourglass/loglet/native"
	"hourglass/loglet/native/nativetest"
	"hourglass/loglet/striped"
)

// nativeStripes opens stripe k as native loglet k+1 on servers[k%len].
func nativeStripes(t testing.TB, servers []*nativetest.Server, n int, fresh bool) []loglet.Loglet {
	t.Helper()
	var out []loglet.Loglet
	for k := range n {
		l, err := native.Open(context.Background(), native.Config{
			ID:      native.LogletID(k + 1),
			Servers: []native.Server{servers[k%len(servers)].Server},
			Fresh:   fresh,
		})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, l)
	}
	return out
}

// onServers is a striped loglet with the LogServers its stripes are on,
// so that the suite's Reopen can crash them.
type onServers struct {
	*striped.Loglet
	servers []*nativetest.Server
}

// TestConformanceNative runs the suite over native stripes: three stripes
// sharing one LogServer (a single node's shape), and two stripes on a
// LogServer each, with crash recovery.
func TestConformanceNative(t *testing.T) {
	for _, shape := range []struct {
		name             string
		servers, stripes int
	}{{"3on1", 1, 3}, {"2on2", 2, 2}} {
		t.Run(shape.name, func(t *testing.T) {
			loglettest.Run(t, loglettest.Harness{
				New: func(t *testing.T) loglet.Loglet {
					var ss []*nativetest.Server
					for range shape.servers {
						ss = append(ss, nativetest.Open(t, vfs.NewCrashableMem()))
					}
					return onServers{openStriped(t, nativeStripes(t, ss, shape.stripes, true)), ss}
				},
				Reopen: func(t *testing.T, l loglet.Loglet) loglet.Loglet {
					l.Close()
					var crashed []*nativetest.Server
					for _, s := range l.(onServers).servers {
						crashed = append(crashed, s.Crash(t))
					}
					// A reopened handle is not the writer.
					l2, err := striped.Open(striped.Config{Stripes: nativeStripes(t, crashed, shape.stripes, false)})
					if err != nil {
						t.Fatal(err)
					}
					return onServers{l2, crashed}
				},
			})
		})
	}
}
