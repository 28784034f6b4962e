// Package conformance holds black-box tests: real gateway processes, real
// clients (go-redis, redis-cli) over loopback.
package conformance

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// gatewayBin is the gateway binary built once for the whole test run.
var gatewayBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hourglass-conformance")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	gatewayBin = filepath.Join(dir, "gateway")
	build := exec.Command("go", "build", "-o", gatewayBin, "hourglass/cmd/gateway")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the gateway:", err)
		os.Exit(1)
	}
	code := m.Run()
	stopPostgres()
	os.RemoveAll(dir)
	os.Exit(code)
}

// gateway is one `gateway serve` process.
type gateway struct {
	t       testing.TB
	dataDir string
	args    []string // extra serve flags
	// bin is the gateway binary the process runs; "" means gatewayBin.
	bin     string
	env     []string // extra environment variables, "NAME=value"
	cmd     *exec.Cmd
	addrs   map[string]string
	exited  chan struct{}
	waitErr error
	// onListen, if set, hears every address the gateway reports it
	// listens on, as soon as it does (before it is ready).
	onListen func(api, addr string)
	// onLog, if set, hears the message of every structured log line;
	// set it with setOnLog (under mu) once the process runs.
	onLog func(msg string)

	// logServer makes this a `gateway logserver` process.
	logServer bool
	// zooCfg, if set, is a zoo.cfg the node is started with: its data
	// directory and ZooKeeper port come from the file.
	zooCfg string

	// mu guards addrs, running and logged for readers on other
	// goroutines.
	mu      sync.Mutex
	running bool
	// logged counts the process's log lines by message, over restarts.
	logged map[string]int
}

// startGateway starts a gateway on a fresh data directory with every API on
// a free loopback port.
func startGateway(t testing.TB, extra ...string) *gateway {
	t.Helper()
	g := &gateway{t: t, dataDir: t.TempDir(), args: extra}
	g.start()
	t.Cleanup(func() { g.kill() })
	return g
}

// setOnLog makes f hear the message of every structured log line.
func (g *gateway) setOnLog(f func(msg string)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.onLog = f
}

// start launches the process and waits until it reports ready.
func (g *gateway) start() {
	g.t.Helper()
	bin := gatewayBin
	if g.bin != "" {
		bin = g.bin
	}
	cmd := exec.Command(bin, g.commandArgs()...)
	if len(g.env) > 0 {
		cmd.Env = append(os.Environ(), g.env...)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		g.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		g.t.Fatal(err)
	}
	g.cmd = cmd
	g.mu.Lock()
	g.addrs = map[string]string{}
	g.running = true
	g.mu.Unlock()
	g.exited = make(chan struct{})
	ready := make(chan struct{})
	go g.readLogs(stderr, ready)
	go func() {
		g.waitErr = cmd.Wait()
		close(g.exited)
	}()
	select {
	case <-ready:
	case <-g.exited:
		g.t.Fatalf("gateway exited before it was ready: %v", g.waitErr)
	case <-time.After(60 * time.Second):
		g.t.Fatal("gateway not ready after 60s")
	}
}

// commandArgs are the process's command line, after the binary.
func (g *gateway) commandArgs() []string {
	args := append([]string{"serve",
		"--data-dir", g.dataDir,
		"--redis-addr", "127.0.0.1:0",
		"--zk-addr", "127.0.0.1:0",
		"--pg-addr", "127.0.0.1:0",
		"--admin-addr", "127.0.0.1:0",
		"--log-format", "json",
	}, g.args...)
	if g.zooCfg != "" {
		args = append([]string{"serve", "--zoo-cfg", g.zooCfg,
			"--redis-addr", "127.0.0.1:0",
			"--pg-addr", "127.0.0.1:0",
			"--admin-addr", "127.0.0.1:0",
			"--log-format", "json",
		}, g.args...)
	}
	if g.logServer {
		args = append([]string{"logserver", "--data-dir", g.dataDir, "--peer-addr", "127.0.0.1:0", "--log-format", "json"}, g.args...)
	}
	return args
}

// readLogs forwards the gateway's structured log to the test log and picks
// out the addresses it listens on.
func (g *gateway) readLogs(r io.Reader, ready chan struct{}) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	signalled := false
	for sc.Scan() {
		line := sc.Text()
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil {
			g.logf("gateway: %s", line)
			continue
		}
		msg, _ := rec["msg"].(string)
		g.mu.Lock()
		if g.logged == nil {
			g.logged = map[string]int{}
		}
		g.logged[msg]++
		onLog := g.onLog
		g.mu.Unlock()
		if onLog != nil && msg != "" {
			onLog(msg)
		}
		switch msg {
		case "listening":
			api, addr := rec["api"].(string), rec["addr"].(string)
			g.mu.Lock()
			g.addrs[api] = addr
			g.mu.Unlock()
			if g.onListen != nil {
				g.onListen(api, addr)
			}
		case "node ready", "logserver ready":
			if !signalled {
				signalled = true
				close(ready)
			}
		}
		// Benchmarks print their log, so they get warnings only.
		lvl, _ := rec["level"].(string)
		_, bench := g.t.(*testing.B)
		if lvl == "WARN" || lvl == "ERROR" || (!bench && lvl == "INFO") {
			g.logf("gateway: %s", line)
		}
	}
}

// logf logs unless the test has already finished (the log reader outlives
// it during cleanup).
func (g *gateway) logf(format string, args ...any) {
	defer func() { recover() }()
	g.t.Logf(format, args...)
}

func (g *gateway) addr(api string) string {
	a := g.liveAddr(api)
	if a == "" {
		g.t.Fatalf("gateway has no %s listener", api)
	}
	return a
}

// liveAddr returns the address of api while the process runs, else "".
// Safe to call from any goroutine.
func (g *gateway) liveAddr(api string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.running {
		return ""
	}
	return g.addrs[api]
}

// loggedCount returns how many log lines with message msg the gateway
// wrote, over all its runs.
func (g *gateway) loggedCount(msg string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.logged[msg]
}

func (g *gateway) setStopped() {
	g.mu.Lock()
	g.running = false
	g.mu.Unlock()
}

func (g *gateway) port(api string) string {
	a := g.addr(api)
	return a[strings.LastIndexByte(a, ':')+1:]
}

// kill sends SIGKILL and waits for the process to go.
func (g *gateway) kill() {
	if g.cmd == nil {
		return
	}
	g.setStopped()
	g.cmd.Process.Signal(syscall.SIGKILL)
	<-g.exited
	g.cmd = nil
}

// stop sends SIGTERM and returns the process's exit error.
func (g *gateway) stop() error {
	g.setStopped()
	g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.exited:
	case <-time.After(30 * time.Second):
		g.t.Fatal("gateway did not stop within 30s of SIGTERM")
	}
	g.cmd = nil
	return g.waitErr
}

// restart starts the process again on the same data directory.
func (g *gateway) restart() {
	g.t.Helper()
	g.start()
}

// rssBytes returns the process's resident set size.
func (g *gateway) rssBytes() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", g.cmd.Process.Pid))
	if err != nil {
		g.t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	g.t.Fatal("no VmRSS in /proc status")
	return 0
}

// gatewayCLI runs a gateway admin sub-command and returns its output.
func (g *gateway) gatewayCLI(args ...string) string {
	g.t.Helper()
	out, err := exec.Command(gatewayBin, append(args, "--admin-addr", g.addr("admin"))...).CombinedOutput()
	if err != nil {
		g.t.Fatalf("gateway %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// redisTarget is what a go-redis conformance test runs against: one
// gateway, or an ensemble whose clients spread their commands over the
// nodes.
type redisTarget interface {
	redisClient(protocol int) *redis.Client
}

// redisClient returns a go-redis client for the gateway speaking the given
// protocol version.
func (g *gateway) redisClient(protocol int) *redis.Client {
	c := redis.NewClient(&redis.Options{
		Addr:         g.addr("redis"),
		Protocol:     protocol,
		MaxRetries:   -1, // a retried write would hide outcome-unknown cases
		DialTimeout:  5 * time.Second,
		ReadTimeout:  30 * time.Second,
		WriteTimeout: 30 * time.Second,
	})
	g.t.Cleanup(func() { c.Close() })
	return c
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
