package conformance

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"hourglass/node/adminpb"
)

// The soak: all three APIs under load at once on a 3-node ensemble, while
// a schedule of faults runs, for HOURGLASS_SOAK (25s unless set). Redis and
// ZooKeeper histories must be linearizable, the bank's money constant, and
// the replicas equal at one position at the end.

// soakDuration is how long the soak's rounds of faults go on; set
// HOURGLASS_SOAK (a Go duration) for a long run. A round starts only if
// one as long as the last fits in what is left, but every run does at
// least one, and the final steps after the rounds.
func soakDuration(t testing.TB) time.Duration {
	s := os.Getenv("HOURGLASS_SOAK")
	if s == "" {
		return 25 * time.Second
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		t.Fatalf("HOURGLASS_SOAK: %q is not a positive duration", s)
	}
	return d
}

// soakMaxRounds bounds the rounds of a run, however long it is.
const soakMaxRounds = 1000

// soakPhase is how long the soak's load runs before a fault and before
// its repair: HOURGLASS_FAULT_PHASE if set, as for the fault tests, else
// half a second, to keep the default run short.
func soakPhase(t testing.TB) time.Duration {
	if os.Getenv("HOURGLASS_FAULT_PHASE") == "" {
		return 500 * time.Millisecond
	}
	return faultPhase(t)
}

// soakStep is one named step of the fault schedule. A step starts and
// ends with every node up and every link healed; in between it must see
// every workload make progress.
type soakStep struct {
	name string
	run  func(s *soak)
}

// soakRound are the steps of one round, run again and again until the
// soak's duration has passed.
var soakRound = []soakStep{
	{"kill -9 the sequencer's node", (*soak).killSequencer},
	{"kill -9 another node", (*soak).killOther},
	{"partition a node", (*soak).partition},
	{"reconfigure", (*soak).reconfigure},
}

// soakFinale are the steps run once, after the rounds: two members are
// replaced by fresh nodes, one after the other, so that two of the three
// founders (and their MetaStore acceptors) are gone for good and the
// ensemble runs on acceptors it acquired. The new nodes catch up from a
// peer's checkpoint, the log being trimmed (see --log-retain below).
var soakFinale = []soakStep{
	{"take a backup under load", (*soak).takeBackup},
	{"replace a member (and its acceptor) with a fresh node", (*soak).replaceMember},
	{"reconfigure", (*soak).reconfigure},
	{"replace another member (and its acceptor) with a fresh node", (*soak).replaceMember},
	{"reconfigure", (*soak).reconfigure},
}

// soak is a running soak test: the ensemble, its three workloads, and the
// schedule's state.
type soak struct {
	t     *testing.T
	e     *ensemble
	kv    *workload
	zk    *zkWorkload
	bank  *bankWorkload
	phase time.Duration
	rng   *rand.Rand
	// audited is how much of the bank's history progress has checked.
	audited int
	// backupDir holds the backup takeBackup took, at backupPos with the
	// source's state checksum backupSum there.
	backupDir, backupPos, backupSum string
}

// TestSoak runs Redis, ZooKeeper and SQL clients on every node of a
// 3-node ensemble at once through rounds of kill -9 (the sequencer's node
// and another), a partition and reconfigurations, then replaces a member
// with a fresh node whose predecessor's data is discarded; it checks the
// histories, the bank's invariant and that the replicas converge.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("the soak runs real ensembles under faults for 25s or more")
	}
	duration := soakDuration(t)
	// A long run says at once if go test would kill it before the end
	// (the rounds, the final steps and the checks).
	if need := duration + duration/2 + 3*time.Minute; os.Getenv("HOURGLASS_SOAK") != "" {
		if dl, ok := t.Deadline(); ok && time.Until(dl) < need {
			t.Fatalf("HOURGLASS_SOAK=%v needs about %v more than go test's -timeout leaves", duration, (need - time.Until(dl)).Round(time.Second))
		}
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("soak of %v, victims drawn with seed %d", duration, seed)
	// A short log (500 entries kept) so that trims run through the soak
	// and a replacement node catches up from a checkpoint: once two of
	// three founders are replaced, the oldest segments' LogServers have
	// no majority left and could not be read.
	e := startEnsemble(t, 3, "--zk-tick-time", "100ms", "--log-retain", "500")
	createBank(t, e.nodes[0])
	s := &soak{
		t:     t,
		e:     e,
		kv:    startWorkload(t, e, 6),
		zk:    startZKWorkload(t, e, 6, time.Second),
		bank:  startBank(t, e, 3),
		phase: soakPhase(t),
		rng:   rand.New(rand.NewPCG(seed, 14)),
	}
	s.progress()
	start := time.Now()
	var last time.Duration
	for round := 0; round < soakMaxRounds && (round == 0 || time.Since(start)+last <= duration); round++ {
		began := time.Now()
		for _, step := range soakRound {
			s.runStep(fmt.Sprintf("round %d", round), step)
		}
		// Check the round's Redis and ZooKeeper histories now, on keys
		// of their own, and drop them: a whole soak's history is more
		// than porcupine can search.
		s.kv.rotate(t)
		s.zk.rotate(t)
		last = time.Since(began)
	}
	for _, step := range soakFinale {
		s.runStep("finale", step)
	}
	s.kv.finish(t)
	s.zk.finish(t)
	s.bank.finish(t)
	all := make([]int, len(e.nodes))
	for i := range all {
		all[i] = i
	}
	e.converge(all...)
	for i := range e.nodes {
		checkBankTotal(t, e.nodes[i])
	}
	s.restoreBackup()
	t.Logf("soak of %v done in %v", duration, time.Since(start).Round(time.Second))
}

// runStep runs one step and logs it with the workloads' counts.
func (s *soak) runStep(when string, step soakStep) {
	s.t.Helper()
	began := time.Now()
	step.run(s)
	s.t.Logf("soak %s: %s took %v; Redis %d ok %d uncertain, ZooKeeper %d ok %d uncertain, SQL %d ok %d uncertain", when, step.name,
		time.Since(began).Round(time.Millisecond), s.kv.h.ok.Load(), s.kv.h.unknown.Load(),
		s.zk.h.ok.Load(), s.zk.h.unknown.Load(), s.bank.h.ok.Load(), s.bank.h.unknown.Load())
}

// progress waits until every workload has made some more successful
// operations, and checks the bank's audits so far.
func (s *soak) progress() {
	s.t.Helper()
	s.kv.waitOps(s.t, 100, time.Minute)
	s.zk.waitOps(s.t, 100, time.Minute)
	s.bank.waitOps(s.t, 20, time.Minute)
	s.audited, _, _ = s.bank.checkAudits(s.t, s.audited)
}

// fault runs a fault: a phase of load, the fault, progress while it
// lasts, a phase, the repair, progress after it.
func (s *soak) fault(start, repair func()) {
	time.Sleep(s.phase)
	start()
	s.progress()
	time.Sleep(s.phase)
	repair()
	s.progress()
}

// killRestart kills node i with SIGKILL and, after a phase, starts it
// again on its data.
func (s *soak) killRestart(i int) {
	g := s.e.nodes[i]
	s.fault(g.kill, g.restart)
}

func (s *soak) killSequencer() {
	s.killRestart(s.e.sequencer(0))
}

func (s *soak) killOther() {
	n := len(s.e.nodes)
	s.killRestart((s.e.sequencer(0) + 1 + s.rng.IntN(n-1)) % n)
}

// partition black-holes every link to and from a random node, then heals
// them.
func (s *soak) partition() {
	victim := s.rng.IntN(len(s.e.nodes))
	s.fault(func() { s.e.isolate(victim, linkBlackhole) }, func() { s.e.isolate(victim, linkUp) })
}

// reconfigure runs gateway reconfigure on random nodes twice, each a new
// loglet under load.
func (s *soak) reconfigure() {
	for range 2 {
		s.e.nodes[s.rng.IntN(len(s.e.nodes))].gatewayCLI("reconfigure")
		s.progress()
	}
}

// replaceMember kills a random node for good, replaces it in the chain by
// a new member (gateway members replace), discards the old node's data,
// and starts the new node on an empty data directory in the old one's
// slot, where the workloads' clients find it. The new node lists the
// founders, whose acceptors hold the MetaStore; the replaced founder's
// stays unreachable.
func (s *soak) replaceMember() {
	t, e := s.t, s.e
	n := len(e.nodes)
	// A founder that is still one: the finale ends with one founder
	// left, the other acceptors acquired.
	var founders []int
	for i := range n {
		if e.id(i) == nodeID(i) {
			founders = append(founders, i)
		}
	}
	if len(founders) < 2 {
		t.Fatalf("only %d founders left to replace", len(founders))
	}
	victim := founders[s.rng.IntN(len(founders))]
	old, newID := e.id(victim), fmt.Sprintf("n%d", n+1)
	for i := range n {
		if e.id(i) == newID {
			newID = fmt.Sprintf("n%d", n+2)
		}
	}
	g := e.nodes[victim]
	time.Sleep(s.phase)
	g.kill()
	// The others reach the new node through one inbound proxy, by the
	// address the chain gives; it reaches each founder through its own.
	// The links to the old node stay down.
	in := newProxy(t)
	var peers []string
	for j := range n {
		out := newProxy(t)
		if j == victim || e.id(j) != nodeID(j) {
			out.set(linkDown)
		} else {
			out.setTarget(e.nodes[j].addr("peer"))
		}
		peers = append(peers, nodeID(j)+"="+out.addr())
		if j != victim {
			e.links[victim][j] = out
			e.links[j][victim].set(linkDown)
			e.links[j][victim] = in
		}
	}
	live := (victim + 1) % n
	out := e.nodes[live].gatewayCLI("members", "replace", "--id", old, "--new-id", newID, "--peer-addr", in.addr())
	if strings.Contains(out, old+" at") || !strings.Contains(out, newID+" at") {
		t.Fatalf("members replace %s with %s:\n%s", old, newID, out)
	}
	s.progress()
	if err := os.RemoveAll(g.dataDir); err != nil {
		t.Fatal(err)
	}
	if len(e.ids) < n {
		e.ids = append(e.ids, make([]string, n-len(e.ids))...)
	}
	e.ids[victim] = newID
	g.dataDir = t.TempDir()
	g.args = append([]string{"--node-id", newID, "--peer-addr", "127.0.0.1:0", "--peers", strings.Join(peers, ",")}, e.extra...)
	g.start()
	// It catches up: it replays the log, or restores a peer's checkpoint
	// if the log was trimmed past its start.
	began, tail := time.Now(), e.status(live).Tail
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := e.admin(victim).Checksum(ctx, &adminpb.ChecksumRequest{AtLeast: tail}); err != nil {
		t.Fatalf("new member %s did not apply up to %d: %v", newID, tail, err)
	}
	t.Logf("new member %s applied the log up to %d in %v", newID, tail, time.Since(began).Round(time.Millisecond))
	s.progress()
	// The new member serves writes, and the others see them.
	if err := g.redisClient(2).Set(ctx, "soak:"+newID, "serves", 0).Err(); err != nil {
		t.Fatalf("a write on the new member %s: %v", newID, err)
	}
	if got := e.nodes[live].redisClient(2).Get(ctx, "soak:"+newID).Val(); got != "serves" {
		t.Fatalf("%s reads the new member's write as %q", e.id(live), got)
	}
	for _, m := range e.status(live).Nodes {
		if m.Id == old {
			t.Fatalf("%s is still listed after its replacement", old)
		}
		if m.Id == newID && !m.Reachable {
			t.Fatalf("new member %s unreachable: %s", newID, m.Error)
		}
	}
	var acceptors []string
	for _, m := range e.status(live).Acceptors {
		acceptors = append(acceptors, m.Id)
	}
	if slices.Contains(acceptors, old) || !slices.Contains(acceptors, newID) {
		t.Fatalf("after replacing %s with %s the MetaStore's acceptors are %v", old, newID, acceptors)
	}
	t.Logf("replaced %s with %s; acceptors %v", old, newID, acceptors)
}

// takeBackup takes a backup of a random node's state (gateway backup
// create) while the workloads run, and keeps its position and checksum
// for restoreBackup.
func (s *soak) takeBackup() {
	t := s.t
	s.backupDir = t.TempDir()
	g := s.e.nodes[s.rng.IntN(len(s.e.nodes))]
	out := backupCLI(t, "create", "--to", s.backupDir, "--admin-addr", g.addr("admin"))
	m := createdRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("backup create printed no checkpoint line: %q", out)
	}
	s.backupPos, s.backupSum = m[1], m[2]
	t.Logf("backup at position %s, checksum %s", s.backupPos, s.backupSum)
	s.progress()
}

// restoreBackup restores the backup into three data directories (each
// restore must reproduce the source's checksum at the backup's
// position), starts a fresh ensemble on them, and checks that it serves
// the state of that position: the bank holds its opening total on every
// node, and the replicas converge.
func (s *soak) restoreBackup() {
	t := s.t
	var dirs []string
	for i := range 3 {
		dir := filepath.Join(t.TempDir(), fmt.Sprintf("r%d", i+1))
		out := backupCLI(t, "restore", "--from", s.backupDir, "--data-dir", dir, "--to-position", s.backupPos)
		if m := restoredRE.FindStringSubmatch(out); m == nil || m[1] != s.backupPos || m[3] != s.backupSum {
			t.Fatalf("restore of position %s into %s: %q; want checksum %s", s.backupPos, dir, out, s.backupSum)
		}
		dirs = append(dirs, dir)
	}
	r := startEnsembleIn(t, dirs, nil, "--zk-tick-time", "100ms")
	for i := range r.nodes {
		checkBankTotal(t, r.nodes[i])
	}
	r.converge(0, 1, 2)
	t.Logf("the backup at %s restored into a fresh ensemble with checksum %s", s.backupPos, s.backupSum)
}

// checkBankTotal reads every balance on node g and checks the money is all
// there.
func checkBankTotal(t *testing.T, g *gateway) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgURL(g.addr("postgres")))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT bal FROM acct")
	if err != nil {
		t.Fatal(err)
	}
	var accounts, total int64
	for rows.Next() {
		var bal int64
		if err := rows.Scan(&bal); err != nil {
			t.Fatal(err)
		}
		accounts++
		total += bal
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if accounts != bankAccounts || total != bankAccounts*bankOpening {
		t.Fatalf("bank on %s: %d accounts holding %d, want %d holding %d", g.addr("postgres"), accounts, total, bankAccounts, bankAccounts*bankOpening)
	}

}
