package conformance

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// chromium runs headless Chromium on url with args (--dump-dom or
// --screenshot=...), letting the page's scripts run for budget of
// virtual time, and returns what it printed.
func chromium(t *testing.T, url string, budget time.Duration, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	all := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--user-data-dir=" + t.TempDir(), "--window-size=1280,800",
		"--virtual-time-budget=" + strconv.Itoa(int(budget.Milliseconds())),
	}, args...)
	cmd := exec.CommandContext(ctx, bin, append(all, url)...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return out.String()
}

// tableRows returns the text of each cell of each body row of the table
// with the given id in a dumped DOM.
func tableRows(t *testing.T, dom, id string) [][]string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<table id="` + id + `">.*?<tbody>(.*?)</tbody>`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("no table %q in the page:\n%s", id, dom)
	}
	var rows [][]string
	for _, tr := range regexp.MustCompile(`(?s)<tr>(.*?)</tr>`).FindAllStringSubmatch(m[1], -1) {
		var cells []string
		for _, td := range regexp.MustCompile(`(?s)<td[^>]*>(.*?)</td>`).FindAllStringSubmatch(tr[1], -1) {
			cells = append(cells, td[1])
		}
		rows = append(rows, cells)
	}
	return rows
}

// TestStatusPageInChromium loads a 3-node ensemble's status page in
// headless Chromium while a client writes: the members, the trim policy,
// the chain and the live charts are drawn; a dead member shows as
// unreachable; and a screenshot is taken.
func TestStatusPageInChromium(t *testing.T) {
	if _, err := exec.LookPath("chromium"); err != nil {
		t.Skip("chromium is not installed")
	}
	e := startEnsemble(t, 3, "--http-addr", "127.0.0.1:0")
	rdb := e.nodes[0].redisClient(2)
	ctx, stop := context.WithCancel(testCtx(t))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 20000 && ctx.Err() == nil; i++ {
			rdb.Set(ctx, "page", i, 0)
		}
	}()
	defer func() {
		stop()
		wg.Wait()
	}()
	url := "http://" + e.nodes[0].addr("http") + "/"

	dom := chromium(t, url, 7*time.Second, "--dump-dom")
	members := tableRows(t, dom, "members")
	if len(members) != 3 {
		t.Fatalf("members table: %q", members)
	}
	for i, r := range members {
		if len(r) != 5 || r[0] != nodeID(i) || !strings.HasPrefix(r[4], "up") {
			t.Errorf("member row %d: %q", i, r)
		}
		if applied, err := strconv.Atoi(r[2]); err != nil || applied <= 0 {
			t.Errorf("member %s applied %q", r[0], r[2])
		}
	}
	trim := tableRows(t, dom, "trim")
	if len(trim) != 3 {
		t.Fatalf("trim table: %q", trim)
	}
	for i, r := range trim {
		if len(r) != 6 || r[0] != nodeID(i) || r[5] != "holds the trim" {
			t.Errorf("trim row %d: %q", i, r)
		}
	}
	chain := tableRows(t, dom, "chain")
	if len(chain) == 0 || chain[len(chain)-1][2] != "native" || chain[len(chain)-1][5] != "active" {
		t.Errorf("chain table: %q", chain)
	}
	if s := len(strings.Split(chain[len(chain)-1][3], ", ")); s != 3 {
		t.Errorf("active loglet's LogServers: %q", chain[len(chain)-1][3])
	}
	for _, chart := range []string{"throughput", "latency"} {
		m := regexp.MustCompile(`<canvas id="` + chart + `"[^>]*data-samples="(\d+)"`).FindStringSubmatch(dom)
		if m == nil || m[1] == "0" {
			t.Errorf("chart %s has no samples: %q", chart, m)
		}
	}
	m := regexp.MustCompile(`redis ([0-9.]+)</span>`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("no redis legend in the throughput chart")
	}
	if v, _ := strconv.ParseFloat(m[1], 64); v <= 0 {
		t.Errorf("throughput chart shows no Redis requests while a client writes: %q", m[1])
	}

	dead := 2
	if e.sequencer(0) == dead {
		dead = 1
	}
	e.nodes[dead].kill()
	dom = chromium(t, url, 5*time.Second, "--dump-dom")
	members = tableRows(t, dom, "members")
	if len(members) != 3 || !strings.HasPrefix(members[dead][4], "unreachable") {
		t.Errorf("members after %s died: %q", nodeID(dead), members)
	}

	shot := filepath.Join(t.TempDir(), "status.png")
	if dir := os.Getenv("HOURGLASS_SCREENSHOT_DIR"); dir != "" {
		shot = filepath.Join(dir, "status.png")
	}
	chromium(t, url, 5*time.Second, "--screenshot="+shot)
	png, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || len(png) < 20<<10 {
		t.Errorf("screenshot %s: %d bytes, not a drawn PNG page", shot, len(png))
	}
	t.Logf("screenshot: %s (%d bytes)", shot, len(png))
}
