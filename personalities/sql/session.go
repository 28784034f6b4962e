package sql

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"time"

	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/exec"
	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/sqlpb"
	"hourglass/personalities/sql/store"
	"hourglass/personalities/sql/types"
	"hourglass/platform"
)

// Transaction states, as ReadyForQuery reports them.
const (
	txIdle   = 'I'
	txOpen   = 'T'
	txFailed = 'E'
)

// session is a client session: its settings and its transaction. Only the
// connection's goroutine uses it.
type session struct {
	s    *Server
	sess *exec.Session

	state byte
	// tx is the open transaction block's state (nil when idle).
	tx *transaction
}

// transaction is an interactive transaction: its reads run at one view
// (taken at its first statement), its writes are buffered in an overlay
// that records what it read, and COMMIT proposes the writes with the
// read set for validation at their log position.
type transaction struct {
	view    platform.View
	overlay *store.Overlay
	now     types.Timestamp
	// readOnly refuses statements that write (START TRANSACTION READ
	// ONLY, SET TRANSACTION READ ONLY, default_transaction_read_only).
	readOnly bool
	// savepoints, innermost last.
	savepoints []savepoint
	// rowIDs numbers the rows the transaction adds to tables without a
	// primary key (exec.Env.RowIDs), across its statements.
	rowIDs uint32
	// replay records the statements for re-execution at apply should
	// the read set no longer hold there (replay.go).
	replay replayLog
	// txid names the staging area once the transaction spilled (stage.go);
	// stageView reads it; committed: a commit entry (which drops the
	// staging area, whatever its verdict) was proposed.
	txid      []byte
	stageView platform.View
	committed bool
	// stagedBytes is what the transaction staged.
	stagedBytes int
}

type savepoint struct {
	name string
	mark store.Mark
}

func newSession(s *Server, user, database string) *session {
	return &session{s: s, sess: exec.NewSession(user, database), state: txIdle}
}

// timestamp converts a wall-clock time to a SQL timestamp.
func timestamp(t time.Time) types.Timestamp {
	return types.Timestamp(t.Sub(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).Microseconds())
}

// end drops the transaction.
func (ss *session) end() {
	if ss.tx != nil && ss.tx.view != nil {
		ss.tx.view.Close()
	}
	if ss.tx != nil && ss.tx.stageView != nil {
		ss.tx.stageView.Close()
	}
	if ss.tx != nil && ss.tx.txid != nil && !ss.tx.committed {
		ss.unstage(ss.tx.txid)
	}
	ss.tx = nil
	ss.state = txIdle
}

// run executes one statement in the session's current state.
func (ss *session) run(ctx context.Context, st *exec.Statement, ptypes []types.Type, values []any) (*exec.Result, error) {
	if t := st.Node.GetTransactionStmt(); t != nil {
		return ss.transactionStmt(ctx, st, t)
	}
	if ss.state == txFailed {
		return nil, pgerror.New(pgerror.InFailedSQLTransaction, "current transaction is aborted, commands ignored until end of transaction block")
	}
	if v := st.Node.GetVariableSetStmt(); v != nil {
		return ss.set(v)
	}
	if v := st.Node.GetVariableShowStmt(); v != nil {
		return ss.show(v)
	}
	if st.Writes() && ss.readOnly() {
		if ss.state == txOpen {
			ss.state = txFailed
		}
		return nil, pgerror.New(pgerror.ReadOnlySQLTransaction, "cannot execute %s in a read-only transaction", st.Tag)
	}
	if ss.state == txOpen && exec.IsVacuum(st.Node) {
		ss.state = txFailed
		return nil, pgerror.New(pgerror.ActiveSQLTransaction, "VACUUM cannot run inside a transaction block")
	}
	if ss.state == txOpen {
		res, err := ss.inTransaction(ctx, st, ptypes, values)
		if err != nil {
			ss.state = txFailed
		}
		return res, err
	}
	if st.Writes() {
		return ss.proposeExec(ctx, st, ptypes, values)
	}
	return ss.read(ctx, st, ptypes, values)
}

// readOnly reports whether the current transaction (or, outside a
// block, every statement) may not write.
func (ss *session) readOnly() bool {
	if ss.tx != nil {
		return ss.tx.readOnly
	}
	return ss.defaultReadOnly()
}

func (ss *session) defaultReadOnly() bool {
	v, _ := ss.param("default_transaction_read_only")
	switch strings.ToLower(v) {
	case "on", "true", "yes", "1", "t", "y":
		return true
	}
	return false
}

// transactionModes applies the modes of BEGIN, START TRANSACTION and SET
// TRANSACTION to the open transaction. Every isolation level runs
// serializable, so only READ ONLY / READ WRITE changes anything.
func (ss *session) transactionModes(opts []*pg.Node) {
	for _, o := range opts {
		d := o.GetDefElem()
		if d == nil || d.Defname != "transaction_read_only" {
			continue
		}
		if c := d.Arg.GetAConst(); c != nil && c.GetIval() != nil {
			ss.tx.readOnly = c.GetIval().Ival != 0
		}
	}
}

// read runs a statement that does not write against a view synced with
// the log, so it sees every write acknowledged before it began.
func (ss *session) read(ctx context.Context, st *exec.Statement, ptypes []types.Type, values []any) (*exec.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, ss.s.cfg.ProposeTimeout)
	defer cancel()
	v, err := ss.s.engine.Sync(ctx)
	if err != nil {
		return nil, stackError(err)
	}
	defer v.Close()
	env := ss.env(ctx, store.FromView(v), timestamp(ss.s.cfg.Clock()))
	defer ss.countSystemKeys(env)
	return exec.Execute(env, st, ptypes, values)
}

// countSystemKeys records the keys of other APIs' state a statement read.
func (ss *session) countSystemKeys(env *exec.Env) {
	if m := ss.s.cfg.Metrics; m != nil && env.SystemKeysRead > 0 {
		m.SystemKeysRead.Add(float64(env.SystemKeysRead))
	}
}

func (ss *session) env(ctx context.Context, s store.Store, now types.Timestamp) *exec.Env {
	return &exec.Env{Store: s, Catalogs: ss.s.catalogs, Session: ss.sess, Now: now, Seed: rand.Uint64(), Context: ctx}
}

// proposeExec runs a statement that writes, outside a transaction block,
// at apply on every replica.
func (ss *session) proposeExec(ctx context.Context, st *exec.Statement, ptypes []types.Type, values []any) (*exec.Result, error) {
	oids, pv, err := encodeParams(ptypes, values)
	if err != nil {
		return nil, err
	}
	ent := &sqlpb.Entry{Kind: &sqlpb.Entry_Exec{Exec: &sqlpb.Exec{
		Sql: st.SQL, ParamTypes: oids, ParamValues: pv, Session: sessionProto(ss.sess),
		Now: int64(timestamp(ss.s.cfg.Clock())), Seed: rand.Uint64(),
	}}}
	r, err := ss.propose(ctx, ent)
	if err != nil {
		return nil, err
	}
	ss.sess.Sequences.Merge(r.seqs)
	return r.res, r.err
}

// propose appends an entry and returns what applying it gave. A cancel
// request does not interrupt a proposal (its outcome would be unknown):
// only the proposal timeout and the server's shutdown do.
func (ss *session) propose(ctx context.Context, ent *sqlpb.Entry) (*applied, error) {
	return ss.proposeWithin(ctx, ent, ss.s.cfg.ProposeTimeout)
}

// proposeWithin is propose waiting at most timeout for the result.
func (ss *session) proposeWithin(ctx context.Context, ent *sqlpb.Entry, timeout time.Duration) (*applied, error) {
	body, err := proto.Marshal(ent)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	stop := context.AfterFunc(ss.s.ctx, cancel)
	defer stop()
	defer cancel()
	r, err := ss.s.engine.Propose(ctx, &platform.Entry{Body: body})
	if err == nil {
		err = r.Err
	}
	if err != nil {
		return nil, stackError(err)
	}
	a, ok := r.Value.(*applied)
	if !ok {
		return nil, pgerror.New(pgerror.Internal, "unexpected apply result %T", r.Value)
	}
	return a, nil
}

// stackError reports a failure of the log or the engine stack to the
// client. A write whose outcome is unknown is reported as such: the
// client must not assume it did not happen.
func stackError(err error) error {
	var pe *pgerror.Error
	switch {
	case errors.As(err, &pe):
		return pe
	case errors.Is(err, context.Canceled):
		return exec.ErrCanceled()
	case errors.Is(err, platform.ErrStorageFailed):
		// disk_full, or io_error for a failed write or fsync.
		code, reason := "58030", "the log's storage failed"
		if errors.Is(err, platform.ErrDiskFull) {
			code, reason = "53100", "No space left on device"
		}
		if errors.Is(err, platform.ErrOutcomeUnknown) {
			return pgerror.New(code, "could not write to the log: %s; the statement may or may not have been applied", reason)
		}
		return pgerror.New(code, "could not write to the log: %s", reason)
	case errors.Is(err, platform.ErrOutcomeUnknown):
		return pgerror.New(pgerror.ConnectionFailure, "the outcome of the statement is unknown: %v", err)
	case errors.Is(err, platform.ErrUnavailable):
		return pgerror.New("57P03", "the log is unavailable: %v", err)
	}
	return pgerror.New(pgerror.Internal, "%v", err)
}

// transactionStmt runs BEGIN, COMMIT, ROLLBACK and savepoints.
func (ss *session) transactionStmt(ctx context.Context, st *exec.Statement, t *pg.TransactionStmt) (*exec.Result, error) {
	res := &exec.Result{Tag: st.Tag}
	switch t.Kind {
	case pg.TransactionStmtKind_TRANS_STMT_BEGIN, pg.TransactionStmtKind_TRANS_STMT_START:
		if ss.state != txIdle {
			res.Notices = append(res.Notices, warning(pgerror.ActiveSQLTransaction, "there is already a transaction in progress"))
			return res, nil
		}
		ss.state, ss.tx = txOpen, &transaction{now: timestamp(ss.s.cfg.Clock()), readOnly: ss.defaultReadOnly()}
		ss.transactionModes(t.Options)
		return res, nil
	case pg.TransactionStmtKind_TRANS_STMT_COMMIT:
		switch ss.state {
		case txIdle:
			res.Notices = append(res.Notices, warning(pgerror.NoActiveSQLTransaction, "there is no transaction in progress"))
			return res, nil
		case txFailed:
			ss.end()
			res.Tag = "ROLLBACK"
			return res, nil
		}
		err := ss.commit(ctx)
		ss.end()
		return res, err
	case pg.TransactionStmtKind_TRANS_STMT_ROLLBACK:
		if ss.state == txIdle {
			res.Notices = append(res.Notices, warning(pgerror.NoActiveSQLTransaction, "there is no transaction in progress"))
		}
		ss.end()
		return res, nil
	case pg.TransactionStmtKind_TRANS_STMT_SAVEPOINT:
		if ss.state == txIdle {
			return nil, pgerror.New(pgerror.NoActiveSQLTransaction, "SAVEPOINT can only be used in transaction blocks")
		}
		if ss.state == txFailed {
			return nil, pgerror.New(pgerror.InFailedSQLTransaction, "current transaction is aborted, commands ignored until end of transaction block")
		}
		o, err := ss.txOverlay(ctx)
		if err != nil {
			return nil, err
		}
		ss.tx.savepoints = append(ss.tx.savepoints, savepoint{name: t.SavepointName, mark: o.Mark()})
		ss.tx.replay.disable()
		return res, nil
	case pg.TransactionStmtKind_TRANS_STMT_RELEASE, pg.TransactionStmtKind_TRANS_STMT_ROLLBACK_TO:
		if ss.state == txIdle {
			verb := "RELEASE SAVEPOINT"
			if t.Kind == pg.TransactionStmtKind_TRANS_STMT_ROLLBACK_TO {
				verb = "ROLLBACK TO SAVEPOINT"
			}
			return nil, pgerror.New(pgerror.NoActiveSQLTransaction, "%s can only be used in transaction blocks", verb)
		}
		i := len(ss.tx.savepoints) - 1
		for i >= 0 && ss.tx.savepoints[i].name != t.SavepointName {
			i--
		}
		if i < 0 {
			ss.state = txFailed
			return nil, pgerror.New("3B001", "savepoint \"%s\" does not exist", t.SavepointName)
		}
		if t.Kind == pg.TransactionStmtKind_TRANS_STMT_RELEASE {
			if ss.state == txFailed {
				return nil, pgerror.New(pgerror.InFailedSQLTransaction, "current transaction is aborted, commands ignored until end of transaction block")
			}
			ss.tx.savepoints = ss.tx.savepoints[:i]
			return res, nil
		}
		ss.tx.overlay.Rollback(ss.tx.savepoints[i].mark)
		ss.tx.savepoints = ss.tx.savepoints[:i+1]
		ss.state = txOpen
		return res, nil
	}
	return nil, pgerror.New(pgerror.FeatureNotSupported, "%s is not supported", st.Tag)
}

// warning returns a WARNING-level notice.
func warning(code, msg string) *pgerror.Error {
	e := pgerror.New(code, "%s", msg)
	e.Severity = "WARNING"
	return e
}

// txOverlay returns the transaction's overlay, taking its view at its
// first use.
func (ss *session) txOverlay(ctx context.Context) (*store.Overlay, error) {
	if ss.tx.overlay != nil {
		return ss.tx.overlay, nil
	}
	ctx, cancel := context.WithTimeout(ctx, ss.s.cfg.ProposeTimeout)
	defer cancel()
	v, err := ss.s.engine.Sync(ctx)
	if err != nil {
		return nil, stackError(err)
	}
	ss.tx.view = v
	ss.tx.overlay = store.NewOverlay(store.FromReader(v), true)
	return ss.tx.overlay, nil
}

// inTransaction runs a statement inside the transaction block: against
// the transaction's overlay, undone by itself if it fails.
func (ss *session) inTransaction(ctx context.Context, st *exec.Statement, ptypes []types.Type, values []any) (*exec.Result, error) {
	env, err := ss.txEnv(ctx)
	if err != nil {
		return nil, err
	}
	o := ss.tx.overlay
	mark := o.Mark()
	res, err := exec.Execute(env, st, ptypes, values)
	ss.countSystemKeys(env)
	if err != nil {
		o.Rollback(mark)
		ss.tx.replay.disable()
		return nil, err
	}
	ss.tx.replay.add(st, ptypes, values, env, res)
	if err := ss.maybeSpill(ctx); err != nil {
		return nil, err
	}
	return res, nil
}

// txEnv returns an Env for a statement of the open transaction: its
// overlay, timestamp and row numbering; nextval through the log.
func (ss *session) txEnv(ctx context.Context) (*exec.Env, error) {
	o, err := ss.txOverlay(ctx)
	if err != nil {
		return nil, err
	}
	env := ss.env(ctx, o, ss.tx.now)
	env.RowIDs = &ss.tx.rowIDs
	env.Nextval = func(seq catalog.Oid) (int64, error) {
		r, err := ss.propose(ctx, &sqlpb.Entry{Kind: &sqlpb.Entry_Nextval{Nextval: &sqlpb.Nextval{Sequence: uint32(seq)}}})
		if err != nil {
			return 0, err
		}
		return r.value, r.err
	}
	return env, nil
}

// commit proposes the transaction's writes with its read set. A
// transaction that wrote nothing never goes through the log.
func (ss *session) commit(ctx context.Context) error {
	o := ss.tx.overlay
	if o == nil {
		return nil
	}
	txid, gens, dropped := o.Staged()
	if o.Len() == 0 && len(gens) == 0 {
		return nil
	}
	c := &sqlpb.Commit{}
	if txid != nil {
		// A staged transaction: its reads of keys it writes travel with
		// the writes; its staging area goes into place at apply.
		c.Txid, c.Gens, c.Dropped, c.Writes = txid, gens, dropped, writeProtos(o.StagedWrites())
	} else {
		c.Replay = ss.tx.replay.proto()
		o.Writes(func(k, v []byte, del bool) bool {
			c.Writes = append(c.Writes, &sqlpb.Write{Key: k, Value: v, Delete: del})
			return true
		})
	}
	rs := o.Reads()
	for _, p := range rs.Points {
		c.Points = append(c.Points, &sqlpb.PointRead{Key: p.Key, Hash: p.Hash})
	}
	for _, r := range rs.Ranges {
		c.Ranges = append(c.Ranges, &sqlpb.RangeRead{Lo: r.Lo, Hi: r.Hi, Unbounded: r.Hi == nil, Reverse: r.Reverse, Hash: r.Hash})
	}
	ss.tx.committed = true
	// A staged commit's apply reads its whole staging area: allow it a
	// second per MiB staged beyond the usual wait.
	timeout := ss.s.cfg.ProposeTimeout + time.Duration(ss.tx.stagedBytes>>20)*time.Second
	r, err := ss.proposeWithin(ctx, &sqlpb.Entry{Kind: &sqlpb.Entry_Commit{Commit: c}}, timeout)
	if err != nil {
		return err
	}
	return r.err
}

// set runs SET and RESET.
func (ss *session) set(v *pg.VariableSetStmt) (*exec.Result, error) {
	res := &exec.Result{Tag: "SET"}
	if v.Kind == pg.VariableSetKind_VAR_RESET || v.Kind == pg.VariableSetKind_VAR_RESET_ALL {
		res.Tag = "RESET"
	}
	name := strings.ToLower(v.Name)
	if v.Kind == pg.VariableSetKind_VAR_SET_MULTI {
		return ss.setTransaction(res, name, v.Args)
	}
	var args []string
	for _, n := range v.Args {
		if c := n.GetAConst(); c != nil {
			switch {
			case c.GetSval() != nil:
				args = append(args, c.GetSval().Sval)
			case c.GetIval() != nil:
				args = append(args, itoa(int(c.GetIval().Ival)))
			case c.GetFval() != nil:
				args = append(args, c.GetFval().Fval)
			}
		}
	}
	return res, ss.setParam(name, args, v.Kind)
}

// setTransaction runs SET TRANSACTION and SET SESSION CHARACTERISTICS AS
// TRANSACTION.
func (ss *session) setTransaction(res *exec.Result, name string, opts []*pg.Node) (*exec.Result, error) {
	if name == "session characteristics" {
		for _, o := range opts {
			if d := o.GetDefElem(); d != nil && d.Defname == "transaction_read_only" {
				if c := d.Arg.GetAConst(); c != nil && c.GetIval() != nil {
					ss.sess.Settings["default_transaction_read_only"] = onOff(c.GetIval().Ival != 0)
				}
			}
		}
		return res, nil
	}
	if ss.tx == nil {
		res.Notices = append(res.Notices, warning(pgerror.NoActiveSQLTransaction, "SET TRANSACTION can only be used in transaction blocks"))
		return res, nil
	}
	ss.transactionModes(opts)
	return res, nil
}

// show runs SHOW.
func (ss *session) show(v *pg.VariableShowStmt) (*exec.Result, error) {
	name := strings.ToLower(v.Name)
	val, ok := ss.param(name)
	if !ok {
		return nil, pgerror.New(pgerror.UndefinedObject, "unrecognized configuration parameter \"%s\"", v.Name)
	}
	return &exec.Result{Tag: "SHOW", Columns: showColumns(v), Rows: []exec.Row{{val}}}, nil
}

// showColumns describes SHOW's result: one text column named for the
// parameter.
func showColumns(v *pg.VariableShowStmt) []exec.Column {
	return []exec.Column{{Name: strings.ToLower(v.Name), Type: types.TextType}}
}

func itoa(i int) string {
	if i < 0 {
		return "-" + itoa(-i)
	}
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
