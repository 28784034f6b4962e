package exec

import (
	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// WITH queries (common table expressions), WITH RECURSIVE among them.
//
// A CTE runs at most once per statement, the first time one of its
// references reads it, and only as far as its readers read: its rows are
// kept and shared by every reference. So an unbounded recursive query
// under a LIMIT stops when the LIMIT is met. A recursive query that never
// ends is stopped by a cancel request or the connection closing (the
// statement's Env.Context, checked at each iteration and every 1024 rows:
// 57014) and, where there is no client (at apply), by a budget of
// MaxRecursiveRows rows from its recursive term (then error 54001, which
// Postgres does not have).

// MaxRecursiveRows bounds the rows a recursive query's recursive term
// may produce in one statement.
const MaxRecursiveRows = 10_000_000

// cteDef is one WITH query of the statement being analyzed.
type cteDef struct {
	name string
	cols []Column
	plan Plan
	// work is the working table a recursive reference reads (nil when
	// the query is not being planned as recursive).
	work      *workTable
	workRefs  int
	recursing bool // its recursive term is being planned
	data      *cteData
}

// cteData is a CTE's rows, read from its plan on demand and kept.
type cteData struct {
	it   Iter
	rows []Row
	done bool
}

// withClause adds the WITH queries to the analyzer's names; pop removes
// them.
func (a *analyzer) withClause(w *pg.WithClause, outer *Scope) (func(), error) {
	level := map[string]*cteDef{}
	a.ctes = append(a.ctes, level)
	pop := func() { a.ctes = a.ctes[:len(a.ctes)-1] }
	for _, n := range w.Ctes {
		c := n.GetCommonTableExpr()
		if _, dup := level[c.Ctename]; dup {
			pop()
			return nil, pgerror.New(pgerror.DuplicateAlias, "WITH query name \"%s\" specified more than once", c.Ctename).WithPosition(c.Location + 1)
		}
		sel := c.Ctequery.GetSelectStmt()
		if sel == nil {
			pop()
			return nil, pgerror.New(pgerror.FeatureNotSupported, "data-modifying statements in WITH are not supported").WithPosition(c.Location + 1)
		}
		def := &cteDef{name: c.Ctename, data: &cteData{}}
		var err error
		if w.Recursive && sel.Op == pg.SetOperation_SETOP_UNION {
			err = a.recursiveCTE(def, c, sel, outer, level)
		} else {
			def.plan, err = a.selectStmt(sel, outer)
			if err == nil {
				def.cols, err = cteColumns(c, visible(def.plan.Columns()))
			}
		}
		if err != nil {
			pop()
			return nil, err
		}
		level[c.Ctename] = def
	}
	return pop, nil
}

// cteColumns names a CTE's columns by its column list.
func cteColumns(c *pg.CommonTableExpr, cols []Column) ([]Column, error) {
	names := strVals(c.Aliascolnames)
	if len(names) > len(cols) {
		return nil, pgerror.New(pgerror.InvalidColumnReference, "WITH query \"%s\" has %d columns available but %d columns specified", c.Ctename, len(cols), len(names)).WithPosition(c.Location + 1)
	}
	out := make([]Column, len(cols))
	for i, col := range cols {
		out[i] = Column{Name: col.Name, Type: col.Type}
		if i < len(names) {
			out[i].Name = names[i]
		}
	}
	return out, nil
}

// recursiveCTE plans "non-recursive term UNION [ALL] recursive term".
// A query that turns out not to reference itself is planned as a plain
// one.
func (a *analyzer) recursiveCTE(def *cteDef, c *pg.CommonTableExpr, sel *pg.SelectStmt, outer *Scope, level map[string]*cteDef) error {
	nonRec, err := a.selectStmt(sel.Larg, outer)
	if err != nil {
		return err
	}
	if def.cols, err = cteColumns(c, visible(nonRec.Columns())); err != nil {
		return err
	}
	def.work = &workTable{}
	def.recursing = true
	level[c.Ctename] = def
	rec, err := a.selectStmt(sel.Rarg, outer)
	delete(level, c.Ctename)
	def.recursing = false
	if err != nil {
		return err
	}
	if def.workRefs == 0 {
		def.work = nil
		def.plan, err = a.selectStmt(sel, outer)
		if err == nil {
			def.cols, err = cteColumns(c, visible(def.plan.Columns()))
		}
		return err
	}
	rcols := visible(rec.Columns())
	if len(rcols) != len(def.cols) {
		return pgerror.New(pgerror.SyntaxError, "each UNION query must have the same number of columns").WithPosition(targetLocation(sel.Rarg))
	}
	ts := make([]types.Type, len(def.cols))
	for i, col := range def.cols {
		if rcols[i].Type.Oid != col.Type.Oid {
			e := pgerror.New(pgerror.DatatypeMismatch, "recursive query \"%s\" column %d has type %s in non-recursive term but type %s overall", c.Ctename, i+1, col.Type, types.T(rcols[i].Type.Oid))
			e.Hint = "Cast the output of the non-recursive term to the correct type."
			return e.WithPosition(columnLocation(sel.Larg, i))
		}
		ts[i] = col.Type
	}
	if rec, err = a.coerceColumns(rec, ts, def.cols); err != nil {
		return err
	}
	if nonRec, err = a.coerceColumns(nonRec, ts, def.cols); err != nil {
		return err
	}
	def.plan = &RecursiveUnion{Name: c.Ctename, NonRec: nonRec, Rec: rec, Work: def.work, All: sel.All, Cols: def.cols}
	return nil
}

// lookupCTE finds a WITH query by name, innermost first.
func (a *analyzer) lookupCTE(name string) *cteDef {
	for i := len(a.ctes) - 1; i >= 0; i-- {
		if d, ok := a.ctes[i][name]; ok {
			return d
		}
	}
	return nil
}

// cteScan plans a reference to a WITH query.
func (a *analyzer) cteScan(def *cteDef, alias string) Plan {
	if def.recursing {
		def.workRefs++
		return &WorkTableScan{Name: def.name, Alias: alias, Work: def.work, Cols: def.cols}
	}
	return &CTEScan{Name: def.name, Alias: alias, Def: def}
}

// CTEScan reads a WITH query's rows.
type CTEScan struct {
	Name, Alias string
	Def         *cteDef
}

func (c *CTEScan) Columns() []Column { return c.Def.cols }

func (c *CTEScan) Open(ctx *EvalCtx) (Iter, error) {
	d := c.Def.data
	if d.it == nil && !d.done {
		it, err := c.Def.plan.Open(ctx)
		if err != nil {
			return nil, err
		}
		d.it = it
	}
	return &cteIter{d: d, planCols: c.Def.plan.Columns()}, nil
}

func (c *CTEScan) Explain(e *Explainer) { e.Node("CTE Scan on %s", scanName(c.Name, c.Alias)) }

// scanName is how EXPLAIN names a scanned relation: its name, and its
// alias if that differs.
func scanName(name, alias string) string {
	if alias != name {
		return name + " " + alias
	}
	return name
}

type cteIter struct {
	d        *cteData
	pos      int
	planCols []Column
}

func (c *cteIter) Next() (Row, error) {
	d := c.d
	if c.pos == len(d.rows) {
		if d.done {
			return nil, nil
		}
		r, err := d.it.Next()
		if err != nil {
			return nil, err
		}
		if r == nil {
			d.done = true
			return nil, d.it.Close()
		}
		d.rows = append(d.rows, visibleValues(c.planCols, r))
	}
	c.pos++
	return d.rows[c.pos-1], nil
}

func (c *cteIter) Close() error { return nil }

// workTable is the rows of a recursive query's previous iteration.
type workTable struct{ rows []Row }

// WorkTableScan is a recursive query's reference to itself.
type WorkTableScan struct {
	Name, Alias string
	Work        *workTable
	Cols        []Column
}

func (w *WorkTableScan) Columns() []Column { return w.Cols }

func (w *WorkTableScan) Open(*EvalCtx) (Iter, error) { return &sliceIter{rows: w.Work.rows}, nil }

func (w *WorkTableScan) Explain(e *Explainer) {
	e.Node("WorkTable Scan on %s", scanName(w.Name, w.Alias))
}

// RecursiveUnion runs a recursive query: the non-recursive term's rows,
// then the recursive term run over the previous iteration's rows until
// one produces none. Without All, rows already produced are dropped.
type RecursiveUnion struct {
	Name        string
	NonRec, Rec Plan
	Work        *workTable
	All         bool
	Cols        []Column
}

func (r *RecursiveUnion) Columns() []Column { return r.Cols }

func (r *RecursiveUnion) Open(ctx *EvalCtx) (Iter, error) {
	it, err := r.NonRec.Open(ctx)
	if err != nil {
		return nil, err
	}
	return &recursiveIter{r: r, ctx: ctx, cur: it, seen: map[string]bool{}}, nil
}

func (r *RecursiveUnion) Explain(e *Explainer) {
	e.Node("Recursive Union")
	e.Child(r.NonRec)
	e.Child(r.Rec)
}

type recursiveIter struct {
	r        *RecursiveUnion
	ctx      *EvalCtx
	cur      Iter
	next     []Row
	seen     map[string]bool
	produced int
	rec      bool
}

func (it *recursiveIter) Next() (Row, error) {
	for {
		if it.cur == nil {
			return nil, nil
		}
		row, err := it.cur.Next()
		if err != nil {
			return nil, err
		}
		if row == nil {
			it.cur.Close()
			it.cur = nil
			if len(it.next) == 0 {
				return nil, nil
			}
			it.r.Work.rows, it.next = it.next, nil
			if err := canceled(it.ctx); err != nil {
				return nil, err
			}
			if it.cur, err = it.r.Rec.Open(it.ctx); err != nil {
				return nil, err
			}
			it.rec = true
			continue
		}
		if it.rec {
			it.produced++
			if it.produced%1024 == 0 {
				if err := canceled(it.ctx); err != nil {
					return nil, err
				}
			}
			if it.produced > MaxRecursiveRows {
				return nil, pgerror.New(pgerror.StatementTooComplex, "recursive query \"%s\" produced more than %d rows", it.r.Name, MaxRecursiveRows)
			}
		}
		if !it.r.All {
			k := rowKey(it.r.Cols, row)
			if it.seen[k] {
				continue
			}
			it.seen[k] = true
		}
		it.next = append(it.next, row)
		return row, nil
	}
}

// canceled is 57014 once the client's statement is canceled.
func canceled(ctx *EvalCtx) error {
	if c := ctx.Env.Context; c != nil && c.Err() != nil {
		return pgerror.New(pgerror.QueryCanceled, "canceling statement due to user request")
	}
	return nil
}

func (it *recursiveIter) Close() error {
	if it.cur != nil {
		return it.cur.Close()
	}
	return nil
}
