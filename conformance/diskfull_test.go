package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"hourglass/internal/faultfs"
	"hourglass/node/adminpb"
)

// TestDiskFullSingleNode fills the disk of a single gateway (the
// test-only hook: every write of its databases fails with ENOSPC while a
// file exists) under real Redis, ZooKeeper and Postgres clients. Writes
// then fail with each protocol's clear error (MISCONF, a ZooKeeper error
// code, SQLSTATE 53100) while reads go on; once space returns the node
// restarts in place by itself, holds every acknowledged write and takes
// writes again, and what it then acknowledges survives a crash.
func TestDiskFullSingleNode(t *testing.T) {
	ctx := testCtx(t)
	full := filepath.Join(t.TempDir(), "full")
	g := &gateway{t: t, dataDir: t.TempDir(), args: []string{"--http-addr", "127.0.0.1:0"}, env: []string{faultfs.EnvDiskFull + "=" + full}}
	g.start()
	t.Cleanup(g.kill)
	if c := httpStatus(t, g, "/readyz"); c != http.StatusOK {
		t.Fatalf("/readyz before the disk filled: %d", c)
	}

	rc := g.redisClient(2)
	pc := pgConnect(t, g)
	zc := g.zkClient(t)
	for i := range 10 {
		if err := rc.Set(ctx, fmt.Sprintf("k%d", i), fmt.Sprintf("v%d", i), 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pc.Exec(ctx, "CREATE TABLE t (id int PRIMARY KEY, v text)"); err != nil {
		t.Fatal(err)
	}
	if _, err := pc.Exec(ctx, "INSERT INTO t VALUES (1, 'one'), (2, 'two')"); err != nil {
		t.Fatal(err)
	}
	if _, err := zc.Create("/kept", []byte("z"), 0, openACL); err != nil {
		t.Fatal(err)
	}

	if err := os.WriteFile(full, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// Each API's write fails with its protocol's disk error.
	err := rc.Set(ctx, "lost", "x", 0).Err()
	if err == nil || !strings.HasPrefix(err.Error(), "MISCONF") || !strings.Contains(err.Error(), "No space left on device") {
		t.Fatalf("SET on a full disk: %v, want a MISCONF error naming the full disk", err)
	}
	err = rc.Set(ctx, "lost2", "x", 0).Err()
	if err == nil || !strings.HasPrefix(err.Error(), "MISCONF") {
		t.Fatalf("second SET on a full disk: %v, want MISCONF", err)
	}
	_, err = pc.Exec(ctx, "INSERT INTO t VALUES (3, 'three')")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "53100" {
		t.Fatalf("INSERT on a full disk: %v, want SQLSTATE 53100", err)
	}
	// The first write's outcome is unknown, which ZooKeeper clients
	// learn as a lost connection; later writes, refused before the log
	// took them, get an error code.
	if _, err := zc.Create("/lost", nil, 0, openACL); err == nil {
		t.Fatal("create on a full disk succeeded")
	}
	// go-zookeeper reports SystemError (-1) as an unknown code.
	if _, err := zc.Create("/lost2", nil, 0, openACL); err == nil || !strings.Contains(err.Error(), "-1") {
		t.Fatalf("create on a full disk: %v, want the error code SystemError (-1)", err)
	}
	if data, _, err := zc.Get("/kept"); err != nil || string(data) != "z" {
		t.Fatalf("read on a full disk: %q, %v", data, err)
	}
	// The node says why it takes no writes.
	if c := httpStatus(t, g, "/readyz"); c != http.StatusServiceUnavailable {
		t.Fatalf("/readyz with a full disk: %d, want 503", c)
	}
	out, err := exec.Command(gatewayBin, "status", "--admin-addr", g.addr("admin")).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "disk failed") || !strings.Contains(string(out), "no space left on device") {
		t.Fatalf("gateway status with a full disk: %v\n%s\nwant an error naming the full disk", err, out)
	}
	// Reads of what was acknowledged go on.
	if v, err := rc.Get(ctx, "k3").Result(); err != nil || v != "v3" {
		t.Fatalf("GET on a full disk = %q, %v; want v3", v, err)
	}
	if rows := pgRows(t, pc, "SELECT v FROM t ORDER BY id"); strings.Join(rows, ",") != "one,two" {
		t.Fatalf("SELECT on a full disk = %v", rows)
	}

	// Space returns. The node does not retry what failed: it restarts in
	// place (the same ports), recovering what it had synced, and takes
	// writes again with no operator.
	if err := os.Remove(full); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "writes once space returned", 60*time.Second, func() bool {
		return rc.Set(ctx, "after", "y", 0).Err() == nil
	})
	if c := httpStatus(t, g, "/readyz"); c != http.StatusOK {
		t.Fatalf("/readyz once the node recovered: %d", c)
	}
	if g.loggedCount("restarting the node in place") != 1 {
		t.Fatal("the node did not log its restart in place")
	}
	checkKept := func() {
		t.Helper()
		for i := range 10 {
			if v, err := rc.Get(ctx, fmt.Sprintf("k%d", i)).Result(); err != nil || v != fmt.Sprintf("v%d", i) {
				t.Fatalf("GET k%d = %q, %v", i, v, err)
			}
		}
		if v, err := rc.Get(ctx, "after").Result(); err != nil || v != "y" {
			t.Fatalf("GET after = %q, %v", v, err)
		}
	}
	checkKept()

	// What the recovered node acknowledged survives a crash.
	g.kill()
	g.restart()
	rc = g.redisClient(2)
	checkKept()
	pc = pgConnect(t, g)
	if _, err := pc.Exec(ctx, "INSERT INTO t VALUES (4, 'four')"); err != nil {
		t.Fatalf("INSERT after restart: %v", err)
	}
	rows := pgRows(t, pc, "SELECT id FROM t ORDER BY id")
	if len(rows) < 3 || rows[0] != "1" || rows[1] != "2" || rows[len(rows)-1] != "4" {
		t.Fatalf("rows after restart = %v; want 1, 2, perhaps 3 (its outcome was unknown), 4", rows)
	}
	zc = g.zkClient(t)
	if data, _, err := zc.Get("/kept"); err != nil || string(data) != "z" {
		t.Fatalf("after restart /kept = %q, %v", data, err)
	}
	if _, err := zc.Create("/after", nil, 0, openACL); err != nil {
		t.Fatalf("create after restart: %v", err)
	}
}

// TestDiskFullOneOfThree fills the disk of one node of three (not the
// sequencer's): writes through the others go on, on the majority of
// LogServers; the full node says why in its status; once space returns it
// restarts in place by itself, catches up, and every replica holds the
// same state.
func TestDiskFullOneOfThree(t *testing.T) {
	ctx := testCtx(t)
	e := startEnsemble(t, 3)
	seq := e.sequencer(0)
	victim := (seq + 1) % 3
	full := filepath.Join(t.TempDir(), "full")
	g := e.nodes[victim]
	g.kill()
	g.env = []string{faultfs.EnvDiskFull + "=" + full}
	g.restart()

	rc := e.nodes[seq].redisClient(2)
	for i := range 20 {
		if err := rc.Set(ctx, fmt.Sprintf("k%d", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(full, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for i := 20; i < 100; i++ {
		if err := rc.Set(ctx, fmt.Sprintf("k%d", i), i, 0).Err(); err != nil {
			t.Fatalf("SET k%d with one node's disk full: %v", i, err)
		}
	}
	waitFor(t, "the full node to report its disk failure", 30*time.Second, func() bool {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_, err := e.admin(victim).Status(sctx, &adminpb.StatusRequest{})
		return err != nil && strings.Contains(err.Error(), "disk failed")
	})

	if err := os.Remove(full); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the full node to recover once space returned", 60*time.Second, func() bool {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_, err := e.admin(victim).Status(sctx, &adminpb.StatusRequest{})
		return err == nil
	})
	e.converge(0, 1, 2)
	if g.loggedCount("restarting the node in place") != 1 {
		t.Fatal("the full node did not restart in place")
	}
	vc := g.redisClient(2)
	for i := range 100 {
		if v, err := vc.Get(ctx, fmt.Sprintf("k%d", i)).Int(); err != nil || v != i {
			t.Fatalf("restarted node: GET k%d = %d, %v", i, v, err)
		}
	}
}

// TestDiskFullTwoOfThree fills the disks of two nodes of three: with no
// majority of LogServers able to write, writes fail at once with MISCONF
// (not a timeout); once space returns the two restart in place by
// themselves, the log is moved to a fresh loglet and writes go on, with
// nothing acknowledged lost.
func TestDiskFullTwoOfThree(t *testing.T) {
	ctx := testCtx(t)
	e := startEnsemble(t, 3)
	seq := e.sequencer(0)
	full := filepath.Join(t.TempDir(), "full")
	var victims []*gateway
	for i, g := range e.nodes {
		if i == seq {
			continue
		}
		g.kill()
		g.env = []string{faultfs.EnvDiskFull + "=" + full}
		g.restart()
		victims = append(victims, g)
	}
	rc := e.nodes[seq].redisClient(2)
	for i := range 10 {
		if err := rc.Set(ctx, fmt.Sprintf("k%d", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(full, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	misconf := 0
	for i := 0; i < 20 && misconf < 3; i++ {
		err := rc.Set(ctx, "lost", i, 0).Err()
		switch {
		case err == nil:
			// Stores to the full disks had not failed yet.
		case strings.HasPrefix(err.Error(), "MISCONF"):
			misconf++
		case strings.HasPrefix(err.Error(), "UNCERTAIN"):
		default:
			t.Fatalf("SET with two disks of three full: %v, want MISCONF", err)
		}
	}
	if misconf < 3 {
		t.Fatal("writes with two disks of three full never failed with MISCONF")
	}

	var readyBefore []int
	for _, g := range victims {
		readyBefore = append(readyBefore, g.loggedCount("node ready"))
	}
	if err := os.Remove(full); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "writes to go on once the full nodes recovered", 60*time.Second, func() bool {
		return rc.Set(ctx, "after", 1, 0).Err() == nil
	})
	waitFor(t, "both full nodes to restart in place", 60*time.Second, func() bool {
		for i, g := range victims {
			if g.loggedCount("restarting the node in place") != 1 || g.loggedCount("node ready") != readyBefore[i]+1 {
				return false
			}
		}
		return true
	})
	e.converge(0, 1, 2)
	for _, g := range e.nodes {
		c := g.redisClient(2)
		for i := range 10 {
			if v, err := c.Get(ctx, fmt.Sprintf("k%d", i)).Int(); err != nil || v != i {
				t.Fatalf("GET k%d = %d, %v", i, v, err)
			}
		}
	}
}

// TestDiskFullLogServerOnly fills the disk of one of the three
// LogServer-only processes that hold the log: writes go on on the other
// two. Once space returns the process restarts in place (the same
// address) and is part of the majority again: with another of the three
// killed, writes still go on, and nothing acknowledged is lost.
func TestDiskFullLogServerOnly(t *testing.T) {
	ctx := testCtx(t)
	e := startEnsemble(t, 3)
	full := filepath.Join(t.TempDir(), "full")
	lss, spec := startLogServers(t, 3, []string{faultfs.EnvDiskFull + "=" + full})
	if out := e.nodes[0].gatewayCLI("reconfigure", "--logservers", spec); !strings.Contains(out, "on ls1,ls2,ls3") {
		t.Fatalf("reconfigure --logservers:\n%s", out)
	}
	rc := e.nodes[1].redisClient(2)
	set := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			if err := rc.Set(ctx, fmt.Sprintf("k%d", i), i, 0).Err(); err != nil {
				t.Fatalf("SET k%d: %v", i, err)
			}
		}
	}
	set(0, 20)
	if err := os.WriteFile(full, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	set(20, 60)
	waitFor(t, "ls1 to report its disk failure", 30*time.Second, func() bool {
		return lss[0].loggedCount("log server stopped writing: a write or fsync of its database failed; nothing in the failed batch was acknowledged; reopening it (a restart) recovers what was synced") > 0
	})
	if err := os.Remove(full); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "ls1 to restart in place", 30*time.Second, func() bool {
		return lss[0].loggedCount("restarting the LogServer in place") == 1
	})
	lss[1].kill() // ls1 and ls3 are the majority now
	waitFor(t, "writes on ls1 and ls3", 60*time.Second, func() bool {
		return rc.Set(ctx, "after", 1, 0).Err() == nil
	})
	set(60, 80)
	e.converge(0, 1, 2)
	for _, g := range e.nodes {
		c := g.redisClient(2)
		for i := range 80 {
			if v, err := c.Get(ctx, fmt.Sprintf("k%d", i)).Int(); err != nil || v != i {
				t.Fatalf("%s: GET k%d = %d, %v", g.dataDir, i, v, err)
			}
		}
	}
}
