package conformance

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"hourglass/internal/zkserver"
)

// zkStatsWorkload gives a server something to report: a session with
// a znode, an ephemeral, a data watch, a child watch and an exists watch.
func zkStatsWorkload(t *testing.T, addr string) *zk.Conn {
	c, _ := zkConnect(t, []string{addr}, 10*time.Second)
	mustZK[string](t, "create")(c.Create("/w", []byte("x"), 0, openACL))
	mustZK[string](t, "ephemeral")(c.Create("/w/e", nil, zk.FlagEphemeral, openACL))
	if _, _, _, err := c.GetW("/w"); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := c.ChildrenW("/w"); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := c.ExistsW("/nope"); err != nil {
		t.Fatal(err)
	}
	return c
}

// fourLetter asks addr a four-letter word.
func fourLetter(t *testing.T, addr, word string) string {
	t.Helper()
	return string(mustZK[[]byte](t, word)(zkserver.FourLetter(addr, word)))
}

var (
	shapeAddr = regexp.MustCompile(`/127\.0\.0\.1:\d+`)
	shapeHex  = regexp.MustCompile(`0x[0-9a-f]+`)
	shapeNum  = regexp.MustCompile(`-?\d+\.\d+(E-?\d+)?`)
	shapeInt  = regexp.MustCompile(`-?\d+`)
	shapeDate = regexp.MustCompile(`[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d [A-Z]+ \d{4}`)
)

// shape is a line with its addresses, dates and numbers replaced by what
// they are: two servers' outputs of the same state have the same shapes.
func shape(line string) string {
	line = shapeAddr.ReplaceAllString(line, "ADDR")
	line = shapeDate.ReplaceAllString(line, "DATE")
	line = shapeHex.ReplaceAllString(line, "HEX")
	line = shapeNum.ReplaceAllString(line, "FLOAT")
	return shapeInt.ReplaceAllString(line, "INT")
}

// shapes are the shapes of text's lines, sorted (ZooKeeper lists
// connections, watches and sessions in hash order), leaving out the
// lines of the connection that asks.
func shapes(text string) []string {
	var out []string
	for l := range strings.SplitSeq(text, "\n") {
		if strings.Contains(l, "(queued=0,recved=1,sent=0)") || strings.HasPrefix(l, "Zookeeper version:") {
			continue // the asking connection; the version differs
		}
		out = append(out, shape(l))
	}
	slices.Sort(out)
	return out
}

// mntrValues parses mntr's lines.
func mntrValues(t *testing.T, text string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for l := range strings.SplitSeq(strings.TrimSuffix(text, "\n"), "\n") {
		k, v, ok := strings.Cut(l, "\t")
		if !ok {
			t.Fatalf("mntr line %q", l)
		}
		m[k] = v
	}
	return m
}

// TestZKStatsAgainstZooKeeper runs the same session on Apache ZooKeeper
// 3.8 and the gateway, and compares their statistics: mntr's keys and
// the kind of each value, and the lines of stat, srvr, cons, wchc, wchp
// and dump, numbers aside; then crst and srst on both.
func TestZKStatsAgainstZooKeeper(t *testing.T) {
	real, err := zkserver.Start(t.TempDir(), 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(real.Stop)
	g := startGateway(t)
	addrs := map[string]string{"zookeeper": real.Addr, "gateway": g.addr("zookeeper")}
	for _, a := range addrs {
		zkStatsWorkload(t, a)
	}

	want := mntrValues(t, fourLetter(t, real.Addr, "mntr"))
	got := mntrValues(t, fourLetter(t, addrs["gateway"], "mntr"))
	for k, v := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("mntr: the gateway has no %s (ZooKeeper: %s)", k, v)
		} else if k != "zk_version" && shape(g) != shape(v) {
			t.Errorf("mntr %s: gateway %q, ZooKeeper %q", k, g, v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("mntr: the gateway has %s, ZooKeeper does not", k)
		}
	}
	for k, v := range map[string]string{"zk_ephemerals_count": "1", "zk_num_alive_connections": "2", "zk_server_state": "standalone"} {
		if got[k] != v || want[k] != v {
			t.Errorf("mntr %s: gateway %q, ZooKeeper %q, want %q", k, got[k], want[k], v)
		}
	}
	for _, k := range []string{"zk_cnt_readlatency", "zk_cnt_updatelatency", "zk_global_sessions", "zk_watch_count",
		"zk_approximate_data_size", "zk_open_file_descriptor_count", "zk_packets_received", "zk_bytes_received_count"} {
		if got[k] == "0" || strings.HasPrefix(got[k], "-") {
			t.Errorf("mntr %s: gateway %q, want a count", k, got[k])
		}
	}

	for _, word := range []string{"stat", "srvr", "cons", "wchc", "wchp", "dump"} {
		w, g := fourLetter(t, real.Addr, word), fourLetter(t, addrs["gateway"], word)
		if word == "dump" {
			// The connections part is about ZooKeeper's NIO connection
			// expiry queues, which have no counterpart here.
			w, _, _ = strings.Cut(w, "Connections dump:")
		}
		if ws, gs := shapes(w), shapes(g); !slices.Equal(ws, gs) {
			t.Errorf("%s:\ngateway   %q\nZooKeeper %q", word, gs, ws)
		}
	}

	for word, text := range map[string]string{"crst": "Connection stats reset.\n", "srst": "Server stats reset.\n"} {
		for name, a := range addrs {
			if out := fourLetter(t, a, word); out != text {
				t.Fatalf("%s on %s: %q", word, name, out)
			}
		}
	}
	for _, word := range []string{"cons", "srvr"} {
		w, g := fourLetter(t, real.Addr, word), fourLetter(t, addrs["gateway"], word)
		if ws, gs := shapes(w), shapes(g); !slices.Equal(ws, gs) {
			t.Errorf("%s after a reset:\ngateway   %q\nZooKeeper %q", word, gs, ws)
		}
		if word == "cons" && !strings.Contains(g, "recved=0,sent=0,") || !strings.Contains(g, "lop=NA") && word == "cons" {
			t.Errorf("cons after crst: %q", g)
		}
	}
}
