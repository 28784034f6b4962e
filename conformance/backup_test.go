package conformance

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"hourglass/loglet/backup"
	"hourglass/node/adminpb"
)

// backupCLI runs `gateway backup ...` and returns its output; it fails
// the test if the command fails.
func backupCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(gatewayBin, append([]string{"backup"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("gateway backup %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// adminOf dials a gateway's admin endpoint.
func adminOf(t *testing.T, g *gateway) adminpb.AdminClient {
	conn, err := grpc.NewClient(g.addr("admin"), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return adminpb.NewAdminClient(conn)
}

var (
	createdRE  = regexp.MustCompile(`checkpoint at position (\d+) from node \S+: checksum ([0-9a-f]+), \d+ files, (\d+) bytes copied, (\d+) bytes linked`)
	restoredRE = regexp.MustCompile(`restored position (\d+) \(checkpoint (\d+), then \d+ log entries\): checksum ([0-9a-f]+)`)
)

// A backup taken while the node serves writes of all three APIs, then a
// point-in-time restore to a position between that backup and later
// writes: a gateway started on the restored data directory holds exactly
// the state at that position, through Redis, ZooKeeper and Postgres, and
// the restore's checksum is the source's there. A second backup is
// incremental; verify passes, and fails once a file is corrupted.
func TestBackupRestorePointInTime(t *testing.T) {
	ctx := testCtx(t)
	bk := t.TempDir()
	g := startGateway(t, "--backup-dir", bk)
	rc := g.redisClient(2)
	zc, _ := zkConnect(t, []string{g.addr("zookeeper")}, 10*time.Second)
	pc := pgConnect(t, g)
	admin := adminOf(t, g)

	exec1 := func(sql string, args ...any) {
		t.Helper()
		if _, err := pc.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	// Values of random bytes, so that the store's table files are not
	// all compressed away; seeded by key, so they can be checked.
	value := func(name string, i int) string {
		r := rand.New(rand.NewPCG(uint64(i), uint64(name[0])))
		b := make([]byte, 3000)
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		return name + base64.StdEncoding.EncodeToString(b)
	}

	// Before the first backup.
	for i := range 40 {
		if err := rc.Set(ctx, fmt.Sprintf("a%d", i), value("a", i), 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := zc.Create("/a", []byte("a"), 0, openACL); err != nil {
		t.Fatal(err)
	}
	exec1("CREATE TABLE acct (id int PRIMARY KEY, balance int)")
	for i := range 10 {
		exec1("INSERT INTO acct VALUES ($1, 100)", i)
	}

	// The first backup, while writes continue.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var during int
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 2000; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := rc.Set(ctx, fmt.Sprintf("during%d", i), i, 0).Err(); err != nil {
				t.Error(err)
				return
			}
			during = i + 1
		}
	}()
	first := createdRE.FindStringSubmatch(backupCLI(t, "create", "--to", bk, "--admin-addr", g.addr("admin")))
	close(stop)
	wg.Wait()
	if first == nil {
		t.Fatal("backup create printed no checkpoint line")
	}
	firstPos, _ := strconv.ParseUint(first[1], 10, 64)

	// After it, up to the position restored to.
	for i := range 5 {
		if err := rc.Set(ctx, fmt.Sprintf("b%d", i), value("b", i), 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := zc.Create("/b", []byte("b"), 0, openACL); err != nil {
		t.Fatal(err)
	}
	exec1("INSERT INTO acct VALUES (10, 100)")
	exec1("UPDATE acct SET balance = balance - 30 WHERE id = 0")
	exec1("UPDATE acct SET balance = balance + 30 WHERE id = 1")
	sum, err := admin.Checksum(ctx, &adminpb.ChecksumRequest{})
	if err != nil {
		t.Fatal(err)
	}
	target := sum.Applied
	if target <= firstPos {
		t.Fatalf("position %d noted after writes is not past the backup's %d", target, firstPos)
	}

	// Past the position: none of this may be in the restored state.
	for i := range 5 {
		if err := rc.Set(ctx, fmt.Sprintf("c%d", i), value("c", i), 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := rc.Del(ctx, "a0").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := zc.Create("/c", []byte("c"), 0, openACL); err != nil {
		t.Fatal(err)
	}
	if _, err := zc.Set("/a", []byte("changed"), -1); err != nil {
		t.Fatal(err)
	}
	exec1("INSERT INTO acct VALUES (11, 100)")
	exec1("UPDATE acct SET balance = 0 WHERE id = 2")

	// The second backup shares the first's table files.
	second := createdRE.FindStringSubmatch(backupCLI(t, "create", "--to", bk, "--admin-addr", g.addr("admin")))
	if second == nil {
		t.Fatal("the second backup create printed no checkpoint line")
	}
	copied1, _ := strconv.ParseInt(first[3], 10, 64)
	copied2, _ := strconv.ParseInt(second[3], 10, 64)
	linked2, _ := strconv.ParseInt(second[4], 10, 64)
	if linked2 == 0 || copied2 >= copied1+linked2 {
		t.Fatalf("the second backup is not incremental: first copied %d bytes; second copied %d, linked %d\n%s", copied1, copied2, linked2, lsR(bk))
	}

	// The log backup reaches the target (it copies as the log commits).
	waitFor(t, "the backup's log to reach the target", 20*time.Second, func() bool {
		l, err := backup.Open(filepath.Join(bk, "log"))
		return err == nil && l.Covers(firstPos, target)
	})

	newDir := filepath.Join(t.TempDir(), "restored")
	out := backupCLI(t, "restore", "--from", bk, "--data-dir", newDir, "--to-position", strconv.FormatUint(target, 10))
	m := restoredRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("restore printed %q", out)
	}
	if m[1] != strconv.FormatUint(target, 10) || m[2] != first[1] {
		t.Fatalf("restore: %q; want position %d from checkpoint %s", out, target, first[1])
	}
	if m[3] != hex.EncodeToString(sum.Checksum) {
		t.Fatalf("restored checksum %s, the source had %x at position %d", m[3], sum.Checksum, target)
	}

	// A gateway on the restored directory serves exactly that state.
	r := &gateway{t: t, dataDir: newDir}
	r.start()
	t.Cleanup(func() { r.kill() })
	rr := r.redisClient(2)
	for _, k := range []string{"a0", "a39", "b0", "b4"} {
		want := value(k[:1], must(strconv.Atoi(k[1:])))
		if got, err := rr.Get(ctx, k).Result(); err != nil || got != want {
			t.Fatalf("restored %s: %.20q %v", k, got, err)
		}
	}
	if n, err := rr.Exists(ctx, "c0", "c4").Result(); err != nil || n != 0 {
		t.Fatalf("keys written after the position exist in the restored state: %d %v", n, err)
	}
	if during > 0 {
		if got, err := rr.Get(ctx, fmt.Sprintf("during%d", during-1)).Result(); err != nil || got != strconv.Itoa(during-1) {
			t.Fatalf("the last write during the backup: %q %v", got, err)
		}
	}
	rz, _ := zkConnect(t, []string{r.addr("zookeeper")}, 10*time.Second)
	if data, _, err := rz.Get("/a"); err != nil || string(data) != "a" {
		t.Fatalf("restored /a: %q %v", data, err)
	}
	if ok, _, err := rz.Exists("/b"); err != nil || !ok {
		t.Fatalf("restored /b exists: %v %v", ok, err)
	}
	if ok, _, err := rz.Exists("/c"); err != nil || ok {
		t.Fatalf("/c, created after the position, exists: %v %v", ok, err)
	}
	rp := pgConnect(t, r)
	rows := pgRows(t, rp, "SELECT id, balance FROM acct ORDER BY id")
	want := []string{"0|70", "1|130", "2|100", "3|100", "4|100", "5|100", "6|100", "7|100", "8|100", "9|100", "10|100"}
	if strings.Join(rows, " ") != strings.Join(want, " ") {
		t.Fatalf("restored acct: %v\nwant %v", rows, want)
	}
	// The restored node takes writes on its own log, from the position on.
	if err := rr.Set(ctx, "after-restore", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := rz.Create("/after", nil, 0, openACL); err != nil && err != zk.ErrNodeExists {
		t.Fatal(err)
	}

	// verify: good, then a corrupted table file and a corrupted log record
	// are found.
	if out := backupCLI(t, "verify", "--from", bk); !strings.Contains(out, "backup OK") || !strings.Contains(out, "reproduces its checksum") {
		t.Fatalf("verify: %s", out)
	}
	ssts, _ := filepath.Glob(filepath.Join(bk, "checkpoints", fmt.Sprintf("%020d", must(strconv.ParseUint(second[1], 10, 64))), "*.sst"))
	if len(ssts) == 0 {
		t.Fatal("the second checkpoint has no table file")
	}
	flipByte(t, ssts[0])
	out2, err := exec.Command(gatewayBin, "backup", "verify", "--from", bk).CombinedOutput()
	if err == nil || !strings.Contains(string(out2), "does not match its manifest") {
		t.Fatalf("verify of a corrupted table file: %v\n%s", err, out2)
	}
	flipByte(t, ssts[0]) // repaired
	segs, _ := filepath.Glob(filepath.Join(bk, "log", "*.seg"))
	if len(segs) == 0 {
		t.Fatal("the backup holds no log file")
	}
	flipByte(t, segs[0])
	out3, err := exec.Command(gatewayBin, "backup", "verify", "--from", bk).CombinedOutput()
	if err == nil || !strings.Contains(string(out3), "corrupt") {
		t.Fatalf("verify of a corrupted log record: %v\n%s", err, out3)
	}
}

// flipByte inverts a byte in the middle of the file at path.
func flipByte(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func lsR(dir string) string {
	out, _ := exec.Command("ls", "-lR", dir).CombinedOutput()
	return string(out)
}

// A backup restored, at one position, into three data directories seeds a
// new ensemble: every node starts from the restored state, the new log
// starts at that position, and the replicas stay identical as writes go
// on.
func TestBackupSeedsEnsemble(t *testing.T) {
	ctx := testCtx(t)
	bk := t.TempDir()
	g := startGateway(t, "--backup-dir", bk)
	rc := g.redisClient(2)
	for i := range 20 {
		if err := rc.Set(ctx, fmt.Sprintf("k%d", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	zc, _ := zkConnect(t, []string{g.addr("zookeeper")}, 10*time.Second)
	if _, err := zc.Create("/seeded", []byte("yes"), 0, openACL); err != nil {
		t.Fatal(err)
	}
	pc := pgConnect(t, g)
	if _, err := pc.Exec(ctx, "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (2)"); err != nil {
		t.Fatal(err)
	}
	created := createdRE.FindStringSubmatch(backupCLI(t, "create", "--to", bk, "--admin-addr", g.addr("admin")))
	if created == nil {
		t.Fatal("backup create printed no checkpoint line")
	}
	g.kill()

	var dirs []string
	for i := range 3 {
		dir := filepath.Join(t.TempDir(), fmt.Sprintf("n%d", i+1))
		out := backupCLI(t, "restore", "--from", bk, "--data-dir", dir, "--to-position", created[1])
		if m := restoredRE.FindStringSubmatch(out); m == nil || m[3] != created[2] {
			t.Fatalf("restore into %s: %q; want checksum %s", dir, out, created[2])
		}
		dirs = append(dirs, dir)
	}
	e := startEnsembleIn(t, dirs, nil)
	for i, n := range e.nodes {
		c := n.redisClient(2)
		if got, err := c.Get(ctx, "k19").Result(); err != nil || got != "19" {
			t.Fatalf("node %d: k19 = %q, %v", i, got, err)
		}
		if err := c.Set(ctx, fmt.Sprintf("new%d", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	st := e.status(0)
	if first := st.Chain.Segments[0].Start; first != must(strconv.ParseUint(created[1], 10, 64)) {
		t.Fatalf("the new ensemble's log starts at %d, not at the restored position %s", first, created[1])
	}
	rz, _ := zkConnect(t, []string{e.nodes[2].addr("zookeeper")}, 10*time.Second)
	if data, _, err := rz.Get("/seeded"); err != nil || string(data) != "yes" {
		t.Fatalf("/seeded on n3: %q %v", data, err)
	}
	if rows := pgRows(t, pgConnect(t, e.nodes[1]), "SELECT count(*) FROM t"); len(rows) != 1 || rows[0] != "2" {
		t.Fatalf("rows on n2: %v", rows)
	}
	e.converge(0, 1, 2)
}

// With a backup directory, the log is trimmed at segment boundaries and a
// trimmed sealed segment moves to the backup loglet: a node that was down
// while the others trimmed the LogServers catches up by reading that
// segment from the backup, not by restoring a peer's checkpoint.
func TestBackupLogletCatchUp(t *testing.T) {
	ctx := testCtx(t)
	var dirs []string
	for range 3 {
		dirs = append(dirs, t.TempDir())
	}
	bks := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	// The node that goes down is left behind after 3 s of log time, so
	// the others trim the log past it (within the retention they would
	// keep it for the node).
	e := startEnsembleIn(t, dirs, func(i int) []string { return []string{"--backup-dir", bks[i]} }, "--log-retain", "5", "--trim-retention", "3s")
	// The node that stays down is not the sequencer, so that the writes
	// meanwhile need no failover.
	writer := e.sequencer(0)
	down := (writer + 1) % 3
	var fromPeer atomic.Bool
	e.nodes[down].setOnLog(func(msg string) {
		if strings.Contains(msg, "from a peer's checkpoint") || strings.Contains(msg, "restoring from a replica") {
			fromPeer.Store(true)
		}
	})
	c0 := e.nodes[writer].redisClient(2)
	if err := c0.Set(ctx, "before", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	e.converge(0, 1, 2)
	e.nodes[down].kill()
	for i := range 30 {
		if err := c0.Set(ctx, fmt.Sprintf("k%d", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	e.nodes[writer].gatewayCLI("reconfigure")
	for i := range 30 {
		if err := c0.Set(ctx, fmt.Sprintf("m%d", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// The first segment leaves the LogServers for a backup loglet.
	waitFor(t, "the first segment to move to the backup", 30*time.Second, func() bool {
		st := e.status(writer)
		return len(st.Chain.Segments) > 0 && st.Chain.Segments[0].Loglet.Kind == "backup"
	})
	seg := e.status(writer).Chain.Segments[0]
	if !strings.HasPrefix(seg.Loglet.Path, bks[writer]) && !strings.HasPrefix(seg.Loglet.Path, bks[3-writer-down]) {
		t.Fatalf("backup segment at %q, not in a node's backup directory", seg.Loglet.Path)
	}
	e.nodes[down].restart()
	c2 := e.nodes[down].redisClient(2)
	waitFor(t, "the node that was down to catch up", 30*time.Second, func() bool {
		v, err := c2.Get(ctx, "m29").Result()
		return err == nil && v == "29"
	})
	if v, err := c2.Get(ctx, "k0").Result(); err != nil || v != "0" {
		t.Fatalf("k0 on %s: %q %v", nodeID(down), v, err)
	}
	e.converge(0, 1, 2)
	if fromPeer.Load() {
		t.Fatalf("%s restored a peer's checkpoint instead of reading the backup segment", nodeID(down))
	}
}

// A single node with a backup directory rolls its active segment once it
// holds more than --log-retain entries, so the trim moves the old
// segments to the backup loglet and the LogServer does not keep the log
// whole; a restart replays nothing it lost.
func TestBackupRollsSegments(t *testing.T) {
	ctx := testCtx(t)
	bk := t.TempDir()
	g := startGateway(t, "--backup-dir", bk, "--log-retain", "10")
	rc := g.redisClient(2)
	for i := range 60 {
		if err := rc.Set(ctx, fmt.Sprintf("k%d", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	admin := adminOf(t, g)
	waitFor(t, "segments on the backup loglet", 30*time.Second, func() bool {
		st, err := admin.Status(ctx, &adminpb.StatusRequest{})
		if err != nil {
			return false
		}
		segs := st.Chain.Segments
		return len(segs) >= 2 && segs[0].Loglet.Kind == "backup" && segs[len(segs)-1].Loglet.Kind == "native"
	})
	if err := g.stop(); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
	g.restart()
	rc = g.redisClient(2)
	if v, err := rc.Get(ctx, "k59").Result(); err != nil || v != "59" {
		t.Fatalf("k59 after a restart: %q %v", v, err)
	}
	if n, err := rc.DBSize(ctx).Result(); err != nil || n != 60 {
		t.Fatalf("DBSIZE after a restart: %d %v", n, err)
	}
}
