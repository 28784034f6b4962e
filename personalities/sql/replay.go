package sql

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"

	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/exec"
	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/sqlpb"
	"hourglass/personalities/sql/store"
	"hourglass/personalities/sql/types"
)

// An interactive transaction whose read set no longer holds at its log
// position is not necessarily lost. Its statements are recorded as they
// run (text, parameters, session, seed) with a hash of the results the
// client saw; COMMIT sends them along with the read set and the writes.
// At apply, when validation fails, the statements run again against the
// state at the entry's position: if every one gives the results the
// client saw, the transaction commits with the writes of that run (it
// is as if it had run there, at once: the client cannot tell), and
// otherwise it is refused with 40001. So transactions that only collide
// on rows whose values they never showed the client (pgbench's branch
// and teller balances, a counter's increment) commit without retries.
//
// The apply of a transaction whose reads still hold parses nothing: it
// writes the recorded writes. Only a replay parses and plans, the same
// way on every replica.

// Replay bounds: a transaction over either is not replayed (it validates
// or fails with 40001 as before).
const (
	maxReplayStatements = 64
	maxReplayBytes      = 256 << 10
)

// replayLog records a transaction's statements for replay.
type replayLog struct {
	stmts []*sqlpb.Exec
	h     hash.Hash
	size  int
	off   bool // not replayable
}

// replayable reports whether a statement may be re-executed at apply:
// queries and DML (DDL, COPY and the rest are not recorded, and make
// their transaction validate-only).
func replayable(n *pg.Node) bool {
	switch n.Node.(type) {
	case *pg.Node_SelectStmt, *pg.Node_InsertStmt, *pg.Node_UpdateStmt, *pg.Node_DeleteStmt:
		return true
	}
	return false
}

// disable makes the transaction validate-only.
func (r *replayLog) disable() {
	r.off, r.stmts, r.h = true, nil, nil
}

// add records a statement that ran in the transaction and its result.
func (r *replayLog) add(st *exec.Statement, ptypes []types.Type, values []any, env *exec.Env, res *exec.Result) {
	if r.off {
		return
	}
	if !replayable(st.Node) || len(r.stmts) == maxReplayStatements {
		r.disable()
		return
	}
	oids, pv, err := encodeParams(ptypes, values)
	if err != nil {
		r.disable()
		return
	}
	x := &sqlpb.Exec{Sql: st.SQL, ParamTypes: oids, ParamValues: pv, Session: sessionProto(env.Session), Now: int64(env.Now), Seed: env.Seed}
	if r.size += len(x.Sql) + len(pv) + 64; r.size > maxReplayBytes {
		r.disable()
		return
	}
	if r.h == nil {
		r.h = sha256.New()
	}
	if err := hashResult(r.h, res); err != nil {
		r.disable()
		return
	}
	r.stmts = append(r.stmts, x)
}

// proto is the Commit's replay, nil if the transaction is not
// replayable.
func (r *replayLog) proto() *sqlpb.Replay {
	if r.off || len(r.stmts) == 0 {
		return nil
	}
	return &sqlpb.Replay{Statements: r.stmts, Results: r.h.Sum(nil)}
}

// hashResult adds what a statement showed the client to h: its command
// tag, its rows' values (by their columns' types) and its notices.
func hashResult(h hash.Hash, res *exec.Result) error {
	b := fmt.Appendf(nil, "%d:%s|%d|%d|", len(res.Tag), res.Tag, len(res.Columns), len(res.Rows))
	for _, row := range res.Rows {
		for i, c := range res.Columns {
			var err error
			if b, err = types.AppendValue(b, c.Type.Oid, row[i]); err != nil {
				return err
			}
		}
		h.Write(b)
		b = b[:0]
	}
	for _, n := range res.Notices {
		b = fmt.Appendf(b, "%d:%s", len(n.Message), n.Message)
	}
	h.Write(b)
	return nil
}

// errReplayNextval refuses nextval in a replay: its value went to the
// client's session when the statement first ran.
var errReplayNextval = pgerror.New(pgerror.SerializationFailure, "nextval in a replayed transaction")

// replay re-executes a transaction's statements in an overlay of base
// and keeps their writes if every statement gives the results the
// client saw; else it refuses the transaction with 40001.
func (a *applicator) replay(base store.Store, rp *sqlpb.Replay) *applied {
	o := store.NewOverlay(base, false)
	h := sha256.New()
	var rowIDs uint32
	for _, x := range rp.Statements {
		st, env, ptypes, values, err := a.decodeExec(o, x)
		if err != nil {
			return &applied{err: errSerialization}
		}
		env.RowIDs = &rowIDs
		env.Nextval = func(catalog.Oid) (int64, error) { return 0, errReplayNextval }
		res, err := exec.Execute(env, st, ptypes, values)
		if err != nil {
			var sf *store.Failure
			if errors.As(err, &sf) {
				return &applied{err: fmt.Errorf("%w: %w", errFatal, err)}
			}
			return &applied{err: errSerialization}
		}
		if err := hashResult(h, res); err != nil {
			return &applied{err: errSerialization}
		}
	}
	if !bytes.Equal(h.Sum(nil), rp.Results) {
		return &applied{err: errSerialization}
	}
	if err := o.Flush(); err != nil {
		return &applied{err: fmt.Errorf("%w: %w", errFatal, err)}
	}
	return &applied{}
}
