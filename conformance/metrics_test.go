package conformance

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/jackc/pgx/v5"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape is one read of a gateway's /metrics.
type scrape map[string]*dto.MetricFamily

func scrapeMetrics(t testing.TB, g *gateway) scrape {
	t.Helper()
	resp, err := http.Get("http://" + g.addr("http") + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	return scrape(fams)
}

// value sums a family's samples whose labels include match (a counter's
// or gauge's value, a histogram's count); -1 if the family is missing.
func (s scrape) value(name string, match map[string]string) float64 {
	f := s[name]
	if f == nil {
		return -1
	}
	sum := 0.0
outer:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range match {
			if have[k] != v {
				continue outer
			}
		}
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		case m.Untyped != nil:
			sum += m.Untyped.GetValue()
		}
	}
	return sum
}

// httpStatus GETs path on g's HTTP listener and returns the status code.
func httpStatus(t testing.TB, g *gateway, path string) int {
	t.Helper()
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + g.addr("http") + path)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestMetricsMoveUnderLoad scrapes /metrics while clients of all three
// APIs work, and finds every metric family the node exports moving.
func TestMetricsMoveUnderLoad(t *testing.T) {
	g := startGateway(t, "--http-addr", "127.0.0.1:0")
	ctx := testCtx(t)
	if c := httpStatus(t, g, "/healthz"); c != http.StatusOK {
		t.Fatalf("/healthz: %d", c)
	}
	if c := httpStatus(t, g, "/readyz"); c != http.StatusOK {
		t.Fatalf("/readyz: %d", c)
	}
	before := scrapeMetrics(t, g)

	rdb := g.redisClient(2)
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	zc, _ := zkConnect(t, []string{g.addr("zookeeper")}, 5*time.Second)
	pc, err := pgx.Connect(ctx, fmt.Sprintf("postgres://postgres@%s/postgres?sslmode=disable", g.addr("postgres")))
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close(ctx)
	if _, err := pc.Exec(ctx, "CREATE TABLE m (k int PRIMARY KEY, v text)"); err != nil {
		t.Fatal(err)
	}

	// Each client runs a bounded loop of writes, reads and one command
	// that fails.
	const rounds = 150
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	started := make(chan struct{}, 3)
	wg.Add(3)
	go func() {
		defer wg.Done()
		started <- struct{}{}
		for i := range rounds {
			if err := rdb.Set(ctx, fmt.Sprint("k", i), i, 0).Err(); err != nil {
				errs <- err
				return
			}
			if err := rdb.Get(ctx, fmt.Sprint("k", i)).Err(); err != nil {
				errs <- err
				return
			}
		}
		if rdb.Do(ctx, "incr", "k1", "extra").Err() == nil {
			errs <- fmt.Errorf("INCR with two arguments succeeded")
		}
	}()
	go func() {
		defer wg.Done()
		started <- struct{}{}
		for i := range rounds {
			p := fmt.Sprintf("/m%d", i)
			if _, err := zc.Create(p, []byte("x"), 0, zk.WorldACL(zk.PermAll)); err != nil {
				errs <- err
				return
			}
			if _, _, err := zc.Get(p); err != nil {
				errs <- err
				return
			}
		}
		if _, _, err := zc.Get("/missing"); err != zk.ErrNoNode {
			errs <- fmt.Errorf("get of a missing znode: %v", err)
		}
	}()
	go func() {
		defer wg.Done()
		started <- struct{}{}
		for i := range rounds {
			if _, err := pc.Exec(ctx, "INSERT INTO m VALUES ($1, 'v')", i); err != nil {
				errs <- err
				return
			}
			var v string
			if err := pc.QueryRow(ctx, "SELECT v FROM m WHERE k = $1", i).Scan(&v); err != nil {
				errs <- err
				return
			}
		}
		if _, err := pc.Exec(ctx, "SELECT nosuch FROM m"); err == nil {
			errs <- fmt.Errorf("a bad column was accepted")
		}
	}()
	for range 3 {
		<-started
	}
	during := scrapeMetrics(t, g)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Reads under the node's lease skip the log's tail; /readyz syncs
	// with it.
	if code := httpStatus(t, g, "/readyz"); code != 200 {
		t.Fatalf("/readyz: %d", code)
	}
	after := scrapeMetrics(t, g)

	for _, api := range []string{"redis", "zookeeper", "postgres"} {
		if v := during.value("hourglass_connections", map[string]string{"api": api}); v < 1 {
			t.Errorf("hourglass_connections{api=%q} = %v under load", api, v)
		}
		l := map[string]string{"api": api}
		for _, name := range []string{"hourglass_requests_total", "hourglass_request_duration_seconds"} {
			if b, a := before.value(name, l), after.value(name, l); a < b+2*rounds {
				t.Errorf("%s{api=%q}: %v before, %v after %d rounds", name, api, b, a, rounds)
			}
		}
		if b, a := before.value("hourglass_request_errors_total", l), after.value("hourglass_request_errors_total", l); a < b+1 {
			t.Errorf("hourglass_request_errors_total{api=%q}: %v before, %v after a failed request", api, b, a)
		}
	}
	if v := after.value("hourglass_requests_total", map[string]string{"api": "redis", "command": "set"}); v < rounds {
		t.Errorf("redis set requests: %v", v)
	}
	if v := after.value("hourglass_request_errors_total", map[string]string{"api": "redis", "command": "incr"}); v != 1 {
		t.Errorf("redis incr errors: %v, want 1", v)
	}
	// The writes above went through the log, the reads were answered
	// under the read lease: every family moved.
	for _, name := range []string{
		"hourglass_reads_total",
		"hourglass_log_append_duration_seconds",
		"hourglass_log_check_tail_duration_seconds",
		"hourglass_logserver_fsync_duration_seconds",
		"hourglass_applied_position",
		"hourglass_log_tail_position",
	} {
		if b, a := before.value(name, nil), after.value(name, nil); a <= b {
			t.Errorf("%s did not move: %v before, %v after", name, b, a)
		}
	}
	for _, name := range []string{"hourglass_store_size_bytes", "process_resident_memory_bytes", "go_goroutines"} {
		if v := after.value(name, nil); v <= 0 {
			t.Errorf("%s = %v", name, v)
		}
	}
	for _, name := range []string{"hourglass_apply_lag_entries", "hourglass_log_trimmed_position", "hourglass_log_failovers_total", "hourglass_log_reconfigurations_total", "hourglass_log_append_errors_total"} {
		if v := after.value(name, nil); v < 0 {
			t.Errorf("%s missing", name)
		}
	}
	if v := after.value("hourglass_log_segments", nil); v != 1 {
		t.Errorf("hourglass_log_segments = %v, want 1", v)
	}
	checkDashboard(t, after)
}

// checkDashboard finds every metric the Grafana dashboard in docs/
// queries among those a node exports.
func checkDashboard(t *testing.T, s scrape) {
	b, err := os.ReadFile("../docs/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile(`\b(hourglass|process|go)_[a-z_]+`)
	queried := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, m := range name.FindAllString(tg.Expr, -1) {
				queried++
				base := m
				for _, suffix := range []string{"_bucket", "_count", "_sum"} {
					if f := s[strings.TrimSuffix(m, suffix)]; f != nil && f.GetType() == dto.MetricType_HISTOGRAM {
						base = strings.TrimSuffix(m, suffix)
					}
				}
				if s[base] == nil {
					t.Errorf("dashboard panel %q queries %s, which the node does not export", p.Title, m)
				}
			}
		}
	}
	if queried < len(dash.Panels) {
		t.Errorf("the dashboard's %d panels query only %d metrics", len(dash.Panels), queried)
	}
}

// TestMetricsEnsembleFailoverAndReadiness kills the sequencer's node of a
// 3-node ensemble: the survivors count the failover and the new loglet,
// and stay ready; once a second node dies, the last one, without a
// majority, is no longer ready but still healthy.
func TestMetricsEnsembleFailoverAndReadiness(t *testing.T) {
	e := startEnsemble(t, 3, "--http-addr", "127.0.0.1:0")
	for i, g := range e.nodes {
		if c := httpStatus(t, g, "/readyz"); c != http.StatusOK {
			t.Fatalf("node %d /readyz: %d", i, c)
		}
	}
	seq := e.sequencer(0)
	var live []int
	for i := range e.nodes {
		if i != seq {
			live = append(live, i)
		}
	}
	e.nodes[seq].kill()
	rdb := e.nodes[live[0]].redisClient(2)
	ctx := testCtx(t)
	// The first write may find the dead sequencer and be answered as
	// uncertain; the ensemble fails over and a retry succeeds.
	waitFor(t, "a write after the sequencer died", 60*time.Second, func() bool {
		return rdb.Set(ctx, "after-failover", "1", 0).Err() == nil
	})
	failovers, reconfigs := 0.0, 0.0
	for _, i := range live {
		s := scrapeMetrics(t, e.nodes[i])
		failovers += s.value("hourglass_log_failovers_total", nil)
		reconfigs = max(reconfigs, s.value("hourglass_log_reconfigurations_total", nil))
	}
	if failovers < 1 || reconfigs < 1 {
		t.Errorf("after the sequencer died: %v failovers, %v reconfigurations", failovers, reconfigs)
	}
	for _, i := range live {
		if c := httpStatus(t, e.nodes[i], "/readyz"); c != http.StatusOK {
			t.Errorf("node %d /readyz after failover: %d", i, c)
		}
	}

	e.nodes[live[1]].kill()
	last := e.nodes[live[0]]
	waitFor(t, "the last node to report not ready", 30*time.Second, func() bool {
		return httpStatus(t, last, "/readyz") == http.StatusServiceUnavailable
	})
	if c := httpStatus(t, last, "/healthz"); c != http.StatusOK {
		t.Errorf("/healthz without a majority: %d", c)
	}
}
