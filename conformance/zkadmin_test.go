package conformance

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"hourglass/internal/zkserver"
)

// adminGet fetches an AdminServer path and returns its status and body.
func adminGet(t *testing.T, c *http.Client, url string) (int, []byte) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, b
}

// idKey matches the object keys that are data (session ids, expiry
// times, paths), not field names.
var idKey = regexp.MustCompile(`^(-?\d+|/.*)$`)

// jsonShape is a decoded JSON value with its data replaced by its kind:
// objects keep their field names (data keys become "KEY"), arrays the
// shape of their first element.
func jsonShape(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			if idKey.MatchString(k) {
				k = "KEY"
				if _, ok := out[k]; ok && jsonShape(x) == "[]" {
					continue // the keys' values are alike: keep the most telling
				}
			}
			out[k] = jsonShape(x)
		}
		return out
	case []any:
		if len(v) == 0 {
			return "[]"
		}
		return []any{jsonShape(v[0])}
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// sameShape compares two jsonShapes, an empty array matching any array.
func sameShape(a, b any) bool {
	switch a := a.(type) {
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok || len(a) != len(bm) {
			return false
		}
		for k, v := range a {
			if w, ok := bm[k]; !ok || !sameShape(v, w) {
				return false
			}
		}
		return true
	case []any:
		if b == "[]" {
			return true
		}
		bs, ok := b.([]any)
		return ok && sameShape(a[0], bs[0])
	case string:
		if _, ok := b.([]any); ok && a == "[]" {
			return true
		}
	}
	return reflect.DeepEqual(a, b)
}

// adminCommandNames are ZooKeeper 3.8's AdminServer commands and their
// aliases.
var adminCommandNames = []string{
	"configuration", "conf", "config", "connection_stat_reset", "crst", "connections", "cons", "dirs",
	"dump", "environment", "env", "envi", "get_trace_mask", "gtmk", "hash", "initial_configuration",
	"icfg", "is_read_only", "isro", "last_snapshot", "lsnp", "leader", "lead", "monitor", "mntr",
	"observer_connection_stat_reset", "orst", "observers", "obsr", "ruok", "server_stats", "srvr",
	"set_trace_mask", "set_trace_mask?traceMask=306", "stmk", "stat_reset", "srst", "stats", "stat",
	"system_properties", "sysp", "voting_view", "watch_summary", "wchs", "watches", "wchc",
	"watches_by_path", "wchp", "zabstate", "no_such_command",
}

// TestZKAdminServerAgainstZooKeeper runs the same session on Apache
// ZooKeeper 3.8 with its AdminServer and on the gateway with
// --zk-admin-addr, and compares the command list and every command's
// JSON (names, aliases, field names and kinds, "command" and "error").
func TestZKAdminServerAgainstZooKeeper(t *testing.T) {
	real, err := zkserver.StartWithAdmin(t.TempDir(), 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(real.Stop)
	g := startGateway(t, "--zk-admin-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0")
	servers := map[string]string{"zookeeper": real.AdminAddr, "gateway": g.addr("zookeeper-admin")}
	zkStatsWorkload(t, real.Addr)
	zkStatsWorkload(t, g.addr("zookeeper"))
	hc := &http.Client{Timeout: 10 * time.Second}
	waitFor(t, "ZooKeeper's AdminServer", 30*time.Second, func() bool {
		resp, err := hc.Get("http://" + real.AdminAddr + "/commands/ruok")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})

	_, want := adminGet(t, hc, "http://"+real.AdminAddr+"/commands")
	_, got := adminGet(t, hc, "http://"+servers["gateway"]+"/commands")
	if string(got) != string(want) {
		t.Errorf("/commands:\ngateway   %q\nZooKeeper %q", got, want)
	}

	for _, name := range adminCommandNames {
		answers := map[string]map[string]any{}
		for server, addr := range servers {
			status, body := adminGet(t, hc, "http://"+addr+"/commands/"+name)
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil || status != http.StatusOK {
				t.Fatalf("%s on %s: status %d, %v: %s", name, server, status, err, body)
			}
			answers[server] = m
		}
		w, g := answers["zookeeper"], answers["gateway"]
		if w["command"] != g["command"] || w["error"] != g["error"] {
			t.Errorf("%s: gateway command %v error %v, ZooKeeper command %v error %v", name, g["command"], g["error"], w["command"], w["error"])
		}
		if cmd := w["command"]; cmd == "system_properties" {
			continue // the JVM's properties; the gateway reports its environment
		}
		if ws, gs := jsonShape(w), jsonShape(g); !sameShape(ws, gs) {
			t.Errorf("%s:\ngateway   %v\nZooKeeper %v", name, gs, ws)
		}
	}

	// The gateway's answers hold its state.
	_, body := adminGet(t, hc, "http://"+servers["gateway"]+"/commands/watches_by_path")
	if !strings.Contains(string(body), `"/w"`) || !strings.Contains(string(body), `"/nope"`) {
		t.Errorf("watches_by_path: %s", body)
	}
	_, body = adminGet(t, hc, "http://"+servers["gateway"]+"/commands/dump")
	if !strings.Contains(string(body), `"/w/e"`) {
		t.Errorf("dump: %s", body)
	}
	_, body = adminGet(t, hc, "http://"+servers["gateway"]+"/commands/mntr")
	var m map[string]any
	if json.Unmarshal(body, &m) != nil || m["ephemerals_count"] != 1.0 || m["server_state"] != "standalone" {
		t.Errorf("monitor: %s", body)
	}
	// The node's HTTP listener serves the AdminServer too.
	if _, body := adminGet(t, hc, "http://"+g.addr("http")+"/commands/stat"); !strings.Contains(string(body), `"command": "stats"`) {
		t.Errorf("stat on the HTTP listener: %s", body)
	}
	if resp, err := hc.Post("http://"+servers["gateway"]+"/commands/ruok", "text/plain", nil); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST ruok: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}
