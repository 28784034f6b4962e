package exec

import (
	"errors"
	"fmt"
	"sync"

	pg "github.com/pganalyze/pg_query_go/v6"
	pgparser "github.com/pganalyze/pg_query_go/v6/parser"

	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// Statement is one parsed statement, ready to plan and run.
type Statement struct {
	// SQL is the statement's own text (within the query string).
	SQL string
	// Node is its parse tree.
	Node *pg.Node
	// Tag is the command tag's verb ("SELECT", "INSERT", "CREATE TABLE").
	Tag string

	plans planCache // its last plan (plancache.go)
	// writes caches Writes (walking the tree costs a fifth of a point
	// SELECT's time).
	writes struct {
		once sync.Once
		v    bool
	}
}

// Parse splits a query string into statements, parsed by the Postgres
// grammar. A syntax error is Postgres's 42601 with its position.
func Parse(sql string) ([]*Statement, error) {
	tree, err := pg.Parse(sql)
	if err != nil {
		return nil, syntaxError(err)
	}
	var out []*Statement
	for _, raw := range tree.Stmts {
		text := sql
		if raw.StmtLen > 0 {
			text = sql[raw.StmtLocation : raw.StmtLocation+raw.StmtLen]
		} else if raw.StmtLocation > 0 {
			text = sql[raw.StmtLocation:]
		}
		out = append(out, &Statement{SQL: text, Node: raw.Stmt, Tag: commandTag(raw.Stmt)})
	}
	return out, nil
}

// syntaxError turns a pg_query parse error into Postgres's error. The
// grammar's messages are Postgres's own; a few (unterminated strings,
// bad escapes) carry other SQLSTATEs there, which the message tells.
func syntaxError(err error) error {
	var pe *pgparser.Error
	if !errors.As(err, &pe) {
		return pgerror.New(pgerror.SyntaxError, "%s", err)
	}
	return &pgerror.Error{Code: pgerror.SyntaxError, Severity: "ERROR", Message: pe.Message, Position: int32(pe.Cursorpos)}
}

// commandTag is the verb of a statement's CommandComplete tag.
func commandTag(n *pg.Node) string {
	switch x := n.Node.(type) {
	case *pg.Node_SelectStmt:
		return "SELECT"
	case *pg.Node_InsertStmt:
		return "INSERT"
	case *pg.Node_UpdateStmt:
		return "UPDATE"
	case *pg.Node_DeleteStmt:
		return "DELETE"
	case *pg.Node_TruncateStmt:
		return "TRUNCATE TABLE"
	case *pg.Node_CreateStmt:
		return "CREATE TABLE"
	case *pg.Node_DropStmt:
		return "DROP " + objectTypeName(x.DropStmt.RemoveType)
	case *pg.Node_TransactionStmt:
		return transactionTag(x.TransactionStmt)
	case *pg.Node_VariableSetStmt:
		if x.VariableSetStmt.Kind == pg.VariableSetKind_VAR_RESET || x.VariableSetStmt.Kind == pg.VariableSetKind_VAR_RESET_ALL {
			return "RESET"
		}
		return "SET"
	case *pg.Node_VariableShowStmt:
		return "SHOW"
	case *pg.Node_ExplainStmt:
		return "EXPLAIN"
	case *pg.Node_CopyStmt:
		return "COPY"
	case *pg.Node_DeallocateStmt:
		return "DEALLOCATE"
	case *pg.Node_VacuumStmt:
		if x.VacuumStmt.IsVacuumcmd {
			return "VACUUM"
		}
		return "ANALYZE"
	}
	if tag := ddlTag(n); tag != "" {
		return tag
	}
	return "UNKNOWN"
}

func transactionTag(t *pg.TransactionStmt) string {
	switch t.Kind {
	case pg.TransactionStmtKind_TRANS_STMT_BEGIN:
		return "BEGIN"
	case pg.TransactionStmtKind_TRANS_STMT_START:
		return "START TRANSACTION"
	case pg.TransactionStmtKind_TRANS_STMT_COMMIT:
		return "COMMIT"
	case pg.TransactionStmtKind_TRANS_STMT_ROLLBACK:
		return "ROLLBACK"
	case pg.TransactionStmtKind_TRANS_STMT_SAVEPOINT:
		return "SAVEPOINT"
	case pg.TransactionStmtKind_TRANS_STMT_RELEASE:
		return "RELEASE"
	case pg.TransactionStmtKind_TRANS_STMT_ROLLBACK_TO:
		return "ROLLBACK"
	}
	return "UNKNOWN"
}

// objectTypeName is the SQL name of an object type ("TABLE", "INDEX").
func objectTypeName(t pg.ObjectType) string {
	switch t {
	case pg.ObjectType_OBJECT_TABLE:
		return "TABLE"
	case pg.ObjectType_OBJECT_INDEX:
		return "INDEX"
	case pg.ObjectType_OBJECT_VIEW:
		return "VIEW"
	case pg.ObjectType_OBJECT_SEQUENCE:
		return "SEQUENCE"
	case pg.ObjectType_OBJECT_SCHEMA:
		return "SCHEMA"
	case pg.ObjectType_OBJECT_ROLE:
		return "ROLE"
	}
	return "OBJECT"
}

// Result is what a statement returned: its command tag, and for a
// statement that returns rows, their description and the rows.
type Result struct {
	// Tag is the CommandComplete tag ("INSERT 0 3", "SELECT 2").
	Tag string
	// Columns describes the rows; nil for a statement without rows.
	Columns []Column
	// Rows are the rows, materialized.
	Rows []Row
	// Notices are the statement's NOTICE messages, in order.
	Notices []*pgerror.Error
}

// Writes reports whether the statement may change the database (it then
// runs through the log). A SELECT that calls a function with side
// effects (nextval) writes too.
func (s *Statement) Writes() bool {
	s.writes.once.Do(func() { s.writes.v = s.writesUncached() })
	return s.writes.v
}

func (s *Statement) writesUncached() bool {
	switch s.Node.Node.(type) {
	case *pg.Node_SelectStmt:
		return changesSequences(s.Node)
	case *pg.Node_VariableShowStmt, *pg.Node_TransactionStmt, *pg.Node_VariableSetStmt, *pg.Node_ExplainStmt,
		*pg.Node_VacuumStmt:
		return false
	}
	return true
}

// Describe returns the columns the statement's rows will have (nil if it
// returns none) and its parameters' types, as far as they are known
// (params holds the types the client gave; the result has one entry per
// parameter used).
func Describe(env *Env, s *Statement, params []types.Type) ([]Column, []types.Type, error) {
	ps := append([]types.Type(nil), params...)
	p, err := plan(env, s, &ps)
	if err != nil {
		return nil, nil, err
	}
	for i, t := range ps {
		if t.Oid == types.OidUnknown {
			return nil, nil, pgerror.New(pgerror.IndeterminateDatatype, "could not determine data type of parameter $%d", i+1)
		}
	}
	var cols []Column
	if p.rows != nil {
		cols = visible(p.rows.Columns())
	}
	return cols, ps, nil
}

// visible drops hidden columns.
func visible(cols []Column) []Column {
	out := make([]Column, 0, len(cols))
	for _, c := range cols {
		if !c.Hidden {
			out = append(out, c)
		}
	}
	return out
}

// Execute plans and runs a statement with its parameters' values. A
// panic in planning or execution (a bug) is returned as an internal
// error, the same on every replica, rather than stopping the node.
func Execute(env *Env, s *Statement, params []types.Type, values []any) (res *Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, pgerror.New(pgerror.Internal, "internal error: %v", r)
		}
	}()
	p, err := s.cached(env, params)
	if err != nil {
		return nil, err
	}
	if p == nil {
		ps := append([]types.Type(nil), params...)
		if p, err = plan(env, s, &ps); err != nil {
			return nil, err
		}
		s.keep(env, params, p)
	}
	setRegOutput(env)
	ctx := &EvalCtx{Env: env, Params: values}
	return p.run(ctx)
}

// Runner is a statement planned once to run many times, with new
// parameter values each time, against one Env (COPY FROM's insert, run
// per row). Not safe for concurrent use.
type Runner struct {
	env *Env
	p   *planned
}

// PlanRunner analyzes and plans s against env for Runner.Run.
func PlanRunner(env *Env, s *Statement, params []types.Type) (r *Runner, err error) {
	defer func() {
		if x := recover(); x != nil {
			r, err = nil, pgerror.New(pgerror.Internal, "internal error: %v", x)
		}
	}()
	ps := append([]types.Type(nil), params...)
	p, err := plan(env, s, &ps)
	if err != nil {
		return nil, err
	}
	setRegOutput(env)
	return &Runner{env: env, p: p}, nil
}

// Run runs the planned statement with values for its parameters. A
// panic (a bug) is returned as an internal error.
func (r *Runner) Run(values []any) (res *Result, err error) {
	defer func() {
		if x := recover(); x != nil {
			res, err = nil, pgerror.New(pgerror.Internal, "internal error: %v", x)
		}
	}()
	return r.p.run(&EvalCtx{Env: r.env, Params: values})
}

// planned is a statement ready to run: rows, if it returns any, and run.
type planned struct {
	rows Plan
	run  func(ctx *EvalCtx) (*Result, error)
}

// plan analyzes and plans s.
func plan(env *Env, s *Statement, params *[]types.Type) (*planned, error) {
	a, err := newAnalyzer(env, params)
	if err != nil {
		return nil, err
	}
	switch x := s.Node.Node.(type) {
	case *pg.Node_SelectStmt:
		p, err := a.selectStmt(x.SelectStmt, nil)
		if err != nil {
			return nil, err
		}
		return &planned{rows: p, run: func(ctx *EvalCtx) (*Result, error) { return collect(ctx, p, "SELECT") }}, nil
	case *pg.Node_InsertStmt:
		return a.insertStmt(x.InsertStmt)
	case *pg.Node_UpdateStmt:
		return a.updateStmt(x.UpdateStmt)
	case *pg.Node_DeleteStmt:
		return a.deleteStmt(x.DeleteStmt)
	case *pg.Node_TruncateStmt:
		return a.truncateStmt(x.TruncateStmt)
	case *pg.Node_CreateStmt:
		return a.createTable(x.CreateStmt)
	case *pg.Node_DropStmt:
		return a.dropStmt(x.DropStmt)
	case *pg.Node_ExplainStmt:
		return a.explainStmt(x.ExplainStmt)
	case *pg.Node_VacuumStmt:
		return a.vacuumStmt(x.VacuumStmt)
	}
	if p, ok, err := a.ddlStmt(s.Node); ok {
		return p, err
	}
	return nil, pgerror.New(pgerror.FeatureNotSupported, "statement %s is not supported", s.Tag)
}

// collect runs p and materializes its rows, tagged "verb count".
func collect(ctx *EvalCtx, p Plan, verb string) (*Result, error) {
	it, err := p.Open(ctx)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	cols := p.Columns()
	res := &Result{Columns: visible(cols)}
	for {
		r, err := it.Next()
		if err != nil {
			return nil, err
		}
		if r == nil {
			break
		}
		res.Rows = append(res.Rows, visibleValues(cols, r))
	}
	res.Tag = fmt.Sprintf("%s %d", verb, len(res.Rows))
	return res, it.Close()
}

// visibleValues drops the values of hidden columns.
func visibleValues(cols []Column, r Row) Row {
	hidden := false
	for _, c := range cols {
		hidden = hidden || c.Hidden
	}
	if !hidden {
		return r
	}
	out := make(Row, 0, len(cols))
	for i, c := range cols {
		if !c.Hidden {
			out = append(out, r[i])
		}
	}
	return out
}

func errNegative(what string) error {
	return pgerror.New("2201W", "%s must not be negative", what)
}
