package conformance

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// history records, per client, what it wrote and what was acknowledged.
// Each client writes its own keys in sequence, so after a crash the state
// of every key is predictable up to the one write in flight.
type history struct {
	mu sync.Mutex
	// setTried[c] is the highest i for which SET c:i was attempted (-1:
	// none); uncertain[c] holds the i whose SET failed, so that it may or
	// may not have been applied. Every other i <= setTried[c] was
	// acknowledged.
	setTried  []int
	uncertain []map[int]bool
	// incrAcked[c] is the value INCR ctr:c last returned; incrTried[c]
	// how many INCRs were attempted.
	incrAcked, incrTried []int64
}

func newHistory(clients int) *history {
	h := &history{
		setTried: make([]int, clients), uncertain: make([]map[int]bool, clients),
		incrAcked: make([]int64, clients), incrTried: make([]int64, clients),
	}
	for i := range clients {
		h.setTried[i] = -1
		h.uncertain[i] = map[int]bool{}
	}
	return h
}

func setKey(c, i int) string { return fmt.Sprintf("set:%d:%d", c, i) }
func setVal(c, i int) string { return fmt.Sprintf("value-%d-%d", c, i) }
func ctrKey(c int) string    { return fmt.Sprintf("ctr:%d", c) }

// load is a running drive: acked counts acknowledged writes; wait
// returns once every client has stopped.
type load struct {
	acked atomic.Int64
	wg    sync.WaitGroup
}

// drive runs clients until stop is closed or a client sees the server
// fail.
func drive(ctx context.Context, g *gateway, h *history, clients int, stop <-chan struct{}) *load {
	l := &load{}
	acked := &l.acked
	for c := range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			cl := redis.NewClient(&redis.Options{Addr: g.addr("redis"), MaxRetries: -1, Protocol: 2})
			defer cl.Close()
			for {
				select {
				case <-stop:
					return
				default:
				}
				h.mu.Lock()
				i := h.setTried[c] + 1
				h.setTried[c] = i
				h.mu.Unlock()
				if err := cl.Set(ctx, setKey(c, i), setVal(c, i), 0).Err(); err != nil {
					h.mu.Lock()
					h.uncertain[c][i] = true
					h.mu.Unlock()
					return
				}
				h.mu.Lock()
				h.incrTried[c]++
				h.mu.Unlock()
				acked.Add(1)
				n, err := cl.Incr(ctx, ctrKey(c)).Result()
				if err != nil {
					return
				}
				h.mu.Lock()
				h.incrAcked[c] = n
				h.mu.Unlock()
				acked.Add(1)
			}
		}()
	}
	return l
}

// verify checks the restarted gateway against the history: every
// acknowledged write is there, nothing never written is.
func verify(t *testing.T, ctx context.Context, g *gateway, h *history) {
	t.Helper()
	c := g.redisClient(2)
	h.mu.Lock()
	defer h.mu.Unlock()
	for cl := range h.setTried {
		for i := 0; i <= h.setTried[cl]+1; i++ {
			got, err := c.Get(ctx, setKey(cl, i)).Result()
			switch {
			case h.uncertain[cl][i]:
				// In flight at a crash: either outcome is fine, but
				// only the value that was sent.
				if err == nil && got != setVal(cl, i) {
					t.Fatalf("in-flight SET %s holds %q", setKey(cl, i), got)
				}
			case i <= h.setTried[cl]:
				if err != nil || got != setVal(cl, i) {
					t.Fatalf("acknowledged SET %s lost: got %q, %v", setKey(cl, i), got, err)
				}
			default:
				if !errors.Is(err, redis.Nil) {
					t.Fatalf("never-written key %s exists: %q, %v", setKey(cl, i), got, err)
				}
			}
		}
		n, err := c.Get(ctx, ctrKey(cl)).Int64()
		if errors.Is(err, redis.Nil) {
			n, err = 0, nil
		}
		if err != nil {
			t.Fatal(err)
		}
		if n < h.incrAcked[cl] || n > h.incrTried[cl] {
			t.Fatalf("counter %s = %d; acknowledged up to %d, %d attempted", ctrKey(cl), n, h.incrAcked[cl], h.incrTried[cl])
		}
		// The next INCR continues from the recovered value.
		h.incrTried[cl]++
		next, err := c.Incr(ctx, ctrKey(cl)).Result()
		if err != nil || next != n+1 {
			t.Fatalf("INCR after recovery = %d, %v; want %d", next, err, n+1)
		}
		h.incrAcked[cl] = next
	}
}

// TestCrashSafety kills the gateway with SIGKILL in the middle of a load of
// SET and INCR from several clients, restarts it, and checks that every
// acknowledged write survived and nothing that was never written appears.
// Three crash/restart rounds, with a reconfiguration and a small log
// retention so that trimming is crossed too.
func TestCrashSafety(t *testing.T) {
	ctx := testCtx(t)
	g := startGateway(t, "--log-retain", "200")
	const clients = 8
	h := newHistory(clients)
	for round := range 3 {
		stop := make(chan struct{})
		l := drive(ctx, g, h, clients, stop)
		waitFor(t, "load to run", time.Minute, func() bool { return l.acked.Load() >= 1500 })
		switch round {
		case 1:
			g.gatewayCLI("reconfigure")
		case 2:
			// Crash only once the log has been trimmed past the first
			// segment, so that recovery starts from a trimmed log.
			waitFor(t, "the log to be trimmed", time.Minute, func() bool {
				return !strings.Contains(g.gatewayCLI("status"), "[0, ")
			})
		}
		g.kill()
		// Every client now fails on its next call and stops; the one
		// write each had in flight is the only uncertain one.
		l.wg.Wait()
		close(stop)
		g.restart()
		verify(t, ctx, g, h)
		t.Logf("round %d: %d writes acknowledged before SIGKILL, all present after restart", round, l.acked.Load())
	}
}

// TestGracefulShutdown: SIGTERM stops the gateway cleanly (exit status 0)
// and a restart finds the data.
func TestGracefulShutdown(t *testing.T) {
	ctx := testCtx(t)
	g := startGateway(t)
	c := g.redisClient(2)
	for i := range 100 {
		if err := c.Set(ctx, fmt.Sprint("g", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	if err := g.stop(); err != nil {
		t.Fatalf("gateway exit after SIGTERM: %v", err)
	}
	g.restart()
	c = g.redisClient(2)
	if n := r(c.DBSize(ctx).Result()).must(t, "DBSIZE"); n != 100 {
		t.Fatalf("DBSIZE after restart = %d, want 100", n)
	}
}

// reconfigureWhileDriving runs go-redis clients against g and, each time
// they had between more writes acknowledged, runs `gateway reconfigure`
// with the next of swaps' arguments and hands its output to check. Then
// it stops the clients (none may have seen an error), checks that every
// acknowledged write is there and returns the clients' history.
func reconfigureWhileDriving(t *testing.T, g *gateway, clients int, between int64, swaps [][]string, check func(args []string, out string)) *history {
	t.Helper()
	ctx := testCtx(t)
	h := newHistory(clients)
	stop := make(chan struct{})
	l := drive(ctx, g, h, clients, stop)
	writes := func() {
		before := l.acked.Load()
		waitFor(t, "writes between reconfigurations", time.Minute, func() bool { return l.acked.Load() >= before+between })
	}
	for _, args := range swaps {
		writes()
		check(args, g.gatewayCLI(append([]string{"reconfigure"}, args...)...))
	}
	writes()
	close(stop)
	l.wg.Wait()
	verify(t, ctx, g, h)
	return h
}

// TestReconfigureWhileServing runs `gateway reconfigure` repeatedly while
// clients write and read; every acknowledged write stays readable across
// the segment boundaries, and `gateway status` shows the chain.
func TestReconfigureWhileServing(t *testing.T) {
	g := startGateway(t)
	reconfigureWhileDriving(t, g, 8, 50, make([][]string, 10), func(args []string, out string) {
		if !strings.Contains(out, "new segment starts at") {
			t.Fatalf("reconfigure %v printed %q", args, out)
		}
	})
	status := g.gatewayCLI("status")
	if !strings.Contains(status, "chain (11 segments)") || strings.Count(status, "sealed") != 10 {
		t.Fatalf("status after 10 reconfigurations:\n%s", status)
	}
}

// TestConfigFile: serve reads its settings from a JSON file, and flags on
// the command line override the file.
func TestConfigFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "gateway.json")
	cfg := fmt.Sprintf(`{"data-dir": %q, "redis-addr": "127.0.0.1:0", "zk-addr": "127.0.0.1:0", "admin-addr": "127.0.0.1:0", "proto-max-bulk-len": 100}`, filepath.Join(dir, "from-file"))
	if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	g := &gateway{t: t, dataDir: filepath.Join(dir, "from-flag"), args: []string{"--config", file}}
	g.start()
	t.Cleanup(g.kill)
	ctx := testCtx(t)
	c := g.redisClient(2)
	if err := c.Set(ctx, "k", strings.Repeat("x", 50), 0).Err(); err != nil {
		t.Fatal(err)
	}
	// The file's bulk limit applies.
	err := c.Set(ctx, "k", strings.Repeat("x", 200), 0).Err()
	if err == nil || !strings.Contains(err.Error(), "Protocol error: invalid bulk length") {
		t.Fatalf("SET of 200 bytes under a 100-byte limit: %v", err)
	}
	// The --data-dir flag (set by the harness) won over the file's.
	if _, err := os.Stat(filepath.Join(dir, "from-flag", "store")); err != nil {
		t.Fatalf("flag data dir not used: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "from-file")); err == nil {
		t.Fatal("file data dir used although the flag overrides it")
	}
}
