package conformance

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The bank: accounts whose balances only move between them, so their sum
// never changes. Transfers are serializable transactions from clients on
// every node; whole-bank reads check the sum, and porcupine checks the
// history against a serial bank. Each transfer also writes its id into a
// ledger, read at the end: every acknowledged transfer must be there, and
// it tells which transfers of unknown outcome took effect.
const (
	bankAccounts = 5
	bankOpening  = 100
)

// bankState is the balances of every account.
type bankState [bankAccounts]int64

// bankInput is a transfer of amount from account from to account to, or
// (audit) a read of every balance.
type bankInput struct {
	audit          bool
	from, to       int
	amount         int64
	client, number int
}

// id is the transfer's row in the ledger table, which every transfer
// inserts in its transaction, so that whether one of unknown outcome
// took effect can be read back.
func (in bankInput) id() int64 { return int64(in.client)<<32 | int64(in.number) }

// bankOutput is what an operation saw: a transfer's reads of its two
// balances before it moved the amount, or an audit's balances. unknown
// marks a transfer whose COMMIT's outcome the client could not learn.
type bankOutput struct {
	unknown  bool
	from, to int64
	balances bankState
}

// bankModel is a serial bank. A transfer of unknown outcome is in a
// history only if it took effect (see bankWorkload.settle), so it moves
// the money wherever the check places it, after its call.
var bankModel = porcupine.Model{
	Init: func() any {
		var s bankState
		for i := range s {
			s[i] = bankOpening
		}
		return s
	},
	Step: func(state, input, output any) (bool, any) {
		s, in, out := state.(bankState), input.(bankInput), output.(bankOutput)
		if in.audit {
			return s == out.balances, s
		}
		if !out.unknown && (s[in.from] != out.from || s[in.to] != out.to) {
			return false, s
		}
		s[in.from] -= in.amount
		s[in.to] += in.amount
		return true, s
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(bankInput), output.(bankOutput)
		if in.audit {
			return fmt.Sprintf("audit %v", out.balances)
		}
		if out.unknown {
			return fmt.Sprintf("c%d#%d move %d %d->%d (outcome unknown)", in.client, in.number, in.amount, in.from, in.to)
		}
		return fmt.Sprintf("c%d#%d move %d %d->%d (saw %d, %d)", in.client, in.number, in.amount, in.from, in.to, out.from, out.to)
	},
}

// bankWorkload runs transfers and audits from clients spread over an
// ensemble's nodes and records them.
type bankWorkload struct {
	e    *ensemble
	h    *opHistory
	wg   sync.WaitGroup
	stop chan struct{}
	// retries counts transfers that got 40001 and were retried; audits
	// counts the audits whose sum was checked.
	retries, audits sync.Map
}

func createBank(t *testing.T, g *gateway) {
	ctx := testCtx(t)
	conn, err := pgx.Connect(ctx, pgURL(g.addr("postgres")))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE TABLE acct (id int PRIMARY KEY, bal bigint NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE ledger (id bigint PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	for i := range bankAccounts {
		if _, err := conn.Exec(ctx, "INSERT INTO acct VALUES ($1, $2)", i, bankOpening); err != nil {
			t.Fatal(err)
		}
	}
	// Whatever level a client asks for, it gets serializable, and SHOW
	// says so.
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	var level string
	if err := tx.QueryRow(ctx, "SHOW transaction_isolation").Scan(&level); err != nil || level != "serializable" {
		t.Fatalf("SHOW transaction_isolation in a READ COMMITTED transaction: %q, %v; want serializable", level, err)
	}
}

// pgURL is a connection string for the gateway's Postgres API at addr.
func pgURL(addr string) string {
	return fmt.Sprintf("postgres://postgres@%s/postgres?sslmode=disable&connect_timeout=2", addr)
}

func startBank(t *testing.T, e *ensemble, workers int) *bankWorkload {
	w := &bankWorkload{e: e, h: newOpHistory(), stop: make(chan struct{})}
	for c := range workers {
		g := e.nodes[c%len(e.nodes)]
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 7))
			var conn *pgx.Conn
			var addr string
			defer func() {
				if conn != nil {
					conn.Close(context.Background())
				}
			}()
			for n := 0; ; n++ {
				select {
				case <-w.stop:
					return
				default:
				}
				if conn == nil || conn.IsClosed() || g.liveAddr("postgres") != addr {
					if conn != nil {
						conn.Close(context.Background())
						conn = nil
					}
					addr = g.liveAddr("postgres")
					if addr == "" {
						time.Sleep(20 * time.Millisecond)
						continue
					}
					ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
					cn, err := pgx.Connect(ctx, pgURL(addr))
					cancel()
					if err != nil {
						time.Sleep(20 * time.Millisecond)
						continue
					}
					conn = cn
				}
				if rng.IntN(5) == 0 {
					w.audit(conn, c)
					continue
				}
				from := rng.IntN(bankAccounts)
				to := (from + 1 + rng.IntN(bankAccounts-1)) % bankAccounts
				w.transfer(conn, bankInput{from: from, to: to, amount: 1 + rng.Int64N(20), client: c, number: n})
			}
		}()
	}
	return w
}

// transfer moves an amount in one serializable transaction, retrying it
// from the start on 40001 as an application would.
func (w *bankWorkload) transfer(conn *pgx.Conn, in bankInput) {
	for {
		call := w.h.now()
		out, err := w.tryTransfer(conn, in)
		var pe *pgconn.PgError
		switch {
		case err == nil:
			ret := w.h.now()
			w.h.ok.Add(1)
			w.h.lastOK.Store(ret)
			w.h.add(porcupine.Operation{ClientId: in.client, Input: in, Call: call, Output: out, Return: ret})
			return
		case errors.As(err, &pe) && pe.Code == "40001":
			n, _ := w.retries.LoadOrStore(in.client, new(int))
			*n.(*int)++
			continue
		case errors.Is(err, errCommitUnknown):
			// The COMMIT was sent and no answer came back: it may take
			// effect at any later time, or never.
			w.h.unknown.Add(1)
			w.h.add(porcupine.Operation{ClientId: in.client, Input: in, Call: call, Output: bankOutput{unknown: true}, Return: math.MaxInt64 / 2})
			return
		default:
			// Failed before COMMIT: nothing happened.
			time.Sleep(10 * time.Millisecond)
			return
		}
	}
}

// errCommitUnknown marks a COMMIT that failed without saying whether it
// took effect.
var errCommitUnknown = errors.New("commit outcome unknown")

func (w *bankWorkload) tryTransfer(conn *pgx.Conn, in bankInput) (bankOutput, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var out bankOutput
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable})
	if err != nil {
		return out, err
	}
	defer tx.Rollback(ctx)
	if err := tx.QueryRow(ctx, "SELECT bal FROM acct WHERE id = $1", in.from).Scan(&out.from); err != nil {
		return out, err
	}
	if err := tx.QueryRow(ctx, "SELECT bal FROM acct WHERE id = $1", in.to).Scan(&out.to); err != nil {
		return out, err
	}
	if _, err := tx.Exec(ctx, "UPDATE acct SET bal = bal - $2 WHERE id = $1", in.from, in.amount); err != nil {
		return out, err
	}
	if _, err := tx.Exec(ctx, "UPDATE acct SET bal = bal + $2 WHERE id = $1", in.to, in.amount); err != nil {
		return out, err
	}
	if _, err := tx.Exec(ctx, "INSERT INTO ledger VALUES ($1)", in.id()); err != nil {
		return out, err
	}
	if err := tx.Commit(ctx); err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "40001" {
			return out, err
		}
		return out, fmt.Errorf("%w: %v", errCommitUnknown, err)
	}
	return out, nil
}

// audit reads every balance in one statement (outside a transaction
// block: a linearizable read at a synced view) and checks their sum.
func (w *bankWorkload) audit(conn *pgx.Conn, client int) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	call := w.h.now()
	rows, err := conn.Query(ctx, "SELECT id, bal FROM acct ORDER BY id")
	if err != nil {
		return
	}
	var out bankOutput
	seen := 0
	for rows.Next() {
		var id int
		var bal int64
		if err := rows.Scan(&id, &bal); err != nil || id < 0 || id >= bankAccounts {
			rows.Close()
			return
		}
		out.balances[id] = bal
		seen++
	}
	if rows.Err() != nil || seen != bankAccounts {
		return
	}
	ret := w.h.now()
	w.h.ok.Add(1)
	w.h.lastOK.Store(ret)
	w.h.add(porcupine.Operation{ClientId: client, Input: bankInput{audit: true, client: client}, Call: call, Output: out, Return: ret})
}

// settle reads the ledger once the clients have stopped: every
// acknowledged transfer must be in it, and nothing else but transfers of
// unknown outcome. Those it holds took effect; the others are dropped
// from the history, since nothing recorded can observe them any more
// (one still under way would apply after every recorded operation).
// Without this, each transfer that never took effect would double the
// orders the check tries until the next audit.
func (w *bankWorkload) settle(t testing.TB) {
	t.Helper()
	ledger := map[int64]bool{}
	var err error
	for _, g := range w.e.nodes {
		if ledger, err = readLedger(g); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("reading the ledger: %v", err)
	}
	known := map[int64]bool{}
	kept := w.h.ops[:0]
	dropped := 0
	for _, op := range w.h.ops {
		in, out := op.Input.(bankInput), op.Output.(bankOutput)
		switch {
		case in.audit:
		case !out.unknown && !ledger[in.id()]:
			t.Fatalf("acknowledged transfer c%d#%d is not in the ledger", in.client, in.number)
		case out.unknown && !ledger[in.id()]:
			dropped++
			continue
		default:
			known[in.id()] = true
		}
		kept = append(kept, op)
	}
	w.h.ops = kept
	for id := range ledger {
		if !known[id] {
			t.Fatalf("the ledger holds transfer c%d#%d, which no client made", id>>32, id&(1<<32-1))
		}
	}
	t.Logf("ledger: %d transfers; of those of unknown outcome, %d took effect and %d did not", len(ledger), w.h.unknown.Load()-int64(dropped), dropped)
	w.h.unknown.Add(-int64(dropped))
}

// readLedger returns the ids in node g's ledger table.
func readLedger(g *gateway) (map[int64]bool, error) {
	addr := g.liveAddr("postgres")
	if addr == "" {
		return nil, errors.New("node down")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgURL(addr))
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT id FROM ledger")
	if err != nil {
		return nil, err
	}
	ids := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids[id] = true
	}
	return ids, rows.Err()
}

// checkAudits fails the test if an audit among the history's operations
// from index from on saw balances that do not sum to the opening total.
// It returns the history's length and how many transfers and audits it
// looked at. Safe while the clients run.
func (w *bankWorkload) checkAudits(t testing.TB, from int) (next, transfers, audits int) {
	t.Helper()
	w.h.mu.Lock()
	ops := w.h.ops[from:]
	w.h.mu.Unlock()
	for _, op := range ops {
		in, out := op.Input.(bankInput), op.Output.(bankOutput)
		if !in.audit {
			transfers++
			continue
		}
		audits++
		var sum int64
		for _, b := range out.balances {
			sum += b
		}
		if sum != bankAccounts*bankOpening {
			t.Fatalf("an audit saw balances %v summing to %d, not %d", out.balances, sum, bankAccounts*bankOpening)
		}
	}
	return from + len(ops), transfers, audits
}

func (w *bankWorkload) waitOps(t testing.TB, n int64, limit time.Duration) {
	t.Helper()
	target := w.h.ok.Load() + n
	waitFor(t, fmt.Sprintf("%d more committed transfers or audits", n), limit, func() bool { return w.h.ok.Load() >= target })
}

// finish stops the clients, checks every audit's sum and the history's
// serializability, and reports the retry rate.
func (w *bankWorkload) finish(t *testing.T) {
	t.Helper()
	close(w.stop)
	w.wg.Wait()
	retries := 0
	w.retries.Range(func(_, v any) bool { retries += *v.(*int); return true })
	w.settle(t)
	_, transfers, audits := w.checkAudits(t, 0)
	t.Logf("%d transfers (%d of unknown outcome that took effect), %d audits, %d serialization failures retried", transfers, w.h.unknown.Load(), audits, retries)
	if transfers == 0 || audits == 0 {
		t.Fatalf("the workload did not run: %d transfers, %d audits", transfers, audits)
	}
	check(t, w.h, bankModel)
}

// TestBankModel: the model accepts a transfer of unknown outcome that
// took effect late, and rejects one undone, or an acknowledged one lost.
func TestBankModel(t *testing.T) {
	opening := bankState{bankOpening, bankOpening, bankOpening, bankOpening, bankOpening}
	moved := opening
	moved[0], moved[1] = bankOpening-5, bankOpening+5
	move := bankInput{from: 0, to: 1, amount: 5}
	unknown := porcupine.Operation{ClientId: 0, Input: move, Call: 0, Output: bankOutput{unknown: true}, Return: math.MaxInt64 / 2}
	acked := porcupine.Operation{ClientId: 0, Input: move, Call: 0, Output: bankOutput{from: bankOpening, to: bankOpening}, Return: 1}
	audit := func(at int64, b bankState) porcupine.Operation {
		return porcupine.Operation{ClientId: 1, Input: bankInput{audit: true}, Call: at, Output: bankOutput{balances: b}, Return: at + 1}
	}
	for _, c := range []struct {
		name string
		ops  []porcupine.Operation
		want bool
	}{
		{"unknown, applied late", []porcupine.Operation{unknown, audit(2, opening), audit(4, moved)}, true},
		{"unknown, undone", []porcupine.Operation{unknown, audit(2, moved), audit(4, opening)}, false},
		{"acknowledged, lost", []porcupine.Operation{acked, audit(2, opening)}, false},
		{"acknowledged, seen", []porcupine.Operation{acked, audit(2, moved)}, true},
	} {
		if got := porcupine.CheckOperations(bankModel, c.ops); got != c.want {
			t.Errorf("%s: linearizable = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestSQLSerializableTransfers runs concurrent transfer transactions from
// clients on every node of a 3-node ensemble, without faults.
func TestSQLSerializableTransfers(t *testing.T) {
	e := startEnsemble(t, 3)
	createBank(t, e.nodes[0])
	w := startBank(t, e, 6)
	w.waitOps(t, 300, time.Minute)
	w.finish(t)
	e.converge(0, 1, 2)
}

// TestFaultSQLSerializable runs the transfers through the fault schedule:
// kill -9 of the sequencer's node and of another, and a partition.
func TestFaultSQLSerializable(t *testing.T) {
	e := startEnsemble(t, 3)
	createBank(t, e.nodes[0])
	w := startBank(t, e, 6)
	runFaultSchedule(t, e, w.waitOps)
	w.finish(t)
	e.converge(0, 1, 2)
}
