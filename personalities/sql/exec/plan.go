package exec

import (
	"fmt"
	"strings"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/types"
)

// Column describes one column of a plan's output (a RowDescription
// field).
type Column struct {
	Name string
	Type types.Type
	// Table and Attnum name the table column it comes straight from (0
	// otherwise), as RowDescription reports them.
	Table  catalog.Oid
	Attnum int16
	// Qualifier is the range-table name the column is reachable through
	// ("t" in t.a), "" for a computed column.
	Qualifier string
	// Hidden columns (sort keys, a table's row identity) are not output.
	Hidden bool
	// OnlyQualified columns (a USING join's inputs, merged into one
	// output column) resolve only by qualified name and are left out of
	// an unqualified "*".
	OnlyQualified bool
}

// Plan is a node of an executable plan.
type Plan interface {
	// Columns describes the rows the node produces.
	Columns() []Column
	// Open starts the node. The caller must Close the iterator.
	Open(ctx *EvalCtx) (Iter, error)
	// Explain writes the node's line and its children's for EXPLAIN.
	Explain(e *Explainer)
}

// Iter produces rows. Next returns nil at the end. A row returned is the
// caller's until the next call (nodes may reuse it only if documented).
type Iter interface {
	Next() (Row, error)
	Close() error
}

// Explainer renders a plan tree as Postgres's EXPLAIN text does.
type Explainer struct {
	// Prefix qualifies column names with their table's name (the plan
	// reads more than one relation).
	Prefix  bool
	lines   []string
	depth   int
	pending []string
}

// Node adds a node's line; its children follow, indented. Details added
// with Pending before it follow it.
func (e *Explainer) Node(format string, args ...any) {
	text := fmt.Sprintf(format, args...)
	if e.depth == 0 {
		e.lines = append(e.lines, text)
	} else {
		e.lines = append(e.lines, strings.Repeat("  ", 3*e.depth-2)+"->  "+text)
	}
	pending := e.pending
	e.pending = nil
	for _, d := range pending {
		e.Detail("%s", d)
	}
}

// Pending adds a detail line to the next node (a condition the node
// above it applies to its rows, as "Filter:").
func (e *Explainer) Pending(format string, args ...any) {
	e.pending = append(e.pending, fmt.Sprintf(format, args...))
}

// Detail adds a detail line ("Filter: ...") to the current node.
func (e *Explainer) Detail(format string, args ...any) {
	indent := 2
	if e.depth > 0 {
		indent = 6*e.depth + 2
	}
	e.lines = append(e.lines, strings.Repeat(" ", indent)+fmt.Sprintf(format, args...))
}

// Child explains a child node.
func (e *Explainer) Child(p Plan) {
	e.depth++
	p.Explain(e)
	e.depth--
}

// Lines returns the rendered plan.
func (e *Explainer) Lines() []string { return e.lines }

// sliceIter iterates over materialized rows.
type sliceIter struct {
	rows []Row
	i    int
}

func (s *sliceIter) Next() (Row, error) {
	if s.i >= len(s.rows) {
		return nil, nil
	}
	s.i++
	return s.rows[s.i-1], nil
}

func (s *sliceIter) Close() error { return nil }

// Values produces rows from lists of expressions (VALUES, or a SELECT
// without FROM: one empty row).
type Values struct {
	Cols []Column
	Rows [][]Expr
}

func (v *Values) Columns() []Column { return v.Cols }

func (v *Values) Open(ctx *EvalCtx) (Iter, error) {
	rows := make([]Row, 0, len(v.Rows))
	for _, exprs := range v.Rows {
		r := make(Row, len(exprs))
		for i, e := range exprs {
			x, err := e.Eval(ctx, nil)
			if err != nil {
				return nil, err
			}
			r[i] = x
		}
		rows = append(rows, r)
	}
	return &sliceIter{rows: rows}, nil
}

func (v *Values) Explain(e *Explainer) {
	if len(v.Cols) == 0 {
		e.Node("Result")
		return
	}
	e.Node("Values Scan on \"*VALUES*\"")
}

// Filter passes the rows of its input for which Cond is true.
type Filter struct {
	Input Plan
	Cond  Expr
}

func (f *Filter) Columns() []Column { return f.Input.Columns() }

func (f *Filter) Open(ctx *EvalCtx) (Iter, error) {
	in, err := f.Input.Open(ctx)
	if err != nil {
		return nil, err
	}
	return &filterIter{ctx: ctx, in: in, cond: f.Cond}, nil
}

func (f *Filter) Explain(e *Explainer) {
	cols := f.Input.Columns()
	if j, ok := f.Input.(*Join); ok {
		e.Pending("Join Filter: %s", e.ExprString(f.Cond, cols))
		if j.Kind == InnerJoin {
			// An inner join's filter joins its condition.
			e.pending[len(e.pending)-1] = "Filter: " + e.ExprString(f.Cond, cols)
		}
	} else {
		e.Pending("Filter: %s", e.ExprString(f.Cond, cols))
	}
	f.Input.Explain(e)
}

type filterIter struct {
	ctx  *EvalCtx
	in   Iter
	cond Expr
}

func (f *filterIter) Next() (Row, error) {
	for {
		r, err := f.in.Next()
		if r == nil || err != nil {
			return nil, err
		}
		ok, err := Truth(f.ctx, f.cond, r)
		if err != nil {
			return nil, err
		}
		if ok {
			return r, nil
		}
	}
}

func (f *filterIter) Close() error { return f.in.Close() }

// Project computes a row of expressions from each input row.
type Project struct {
	Input Plan
	Exprs []Expr
	Cols  []Column
}

func (p *Project) Columns() []Column { return p.Cols }

func (p *Project) Open(ctx *EvalCtx) (Iter, error) {
	in, err := p.Input.Open(ctx)
	if err != nil {
		return nil, err
	}
	return &projectIter{ctx: ctx, in: in, exprs: p.Exprs}, nil
}

func (p *Project) Explain(e *Explainer) { p.Input.Explain(e) }

type projectIter struct {
	ctx   *EvalCtx
	in    Iter
	exprs []Expr
}

func (p *projectIter) Next() (Row, error) {
	r, err := p.in.Next()
	if r == nil || err != nil {
		return nil, err
	}
	out := make(Row, len(p.exprs))
	for i, e := range p.exprs {
		if out[i], err = e.Eval(p.ctx, r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (p *projectIter) Close() error { return p.in.Close() }

// Limit passes at most Count rows after skipping Offset (nil: no limit,
// no offset); both are evaluated once at Open.
type Limit struct {
	Input         Plan
	Count, Offset Expr
}

func (l *Limit) Columns() []Column { return l.Input.Columns() }

func (l *Limit) Open(ctx *EvalCtx) (Iter, error) {
	count, offset := int64(-1), int64(0)
	if l.Count != nil {
		v, err := l.Count.Eval(ctx, nil)
		if err != nil {
			return nil, err
		}
		if v != nil {
			count = v.(int64)
			if count < 0 {
				return nil, errNegative("LIMIT")
			}
		}
	}
	if l.Offset != nil {
		v, err := l.Offset.Eval(ctx, nil)
		if err != nil {
			return nil, err
		}
		if v != nil {
			offset = v.(int64)
			if offset < 0 {
				return nil, errNegative("OFFSET")
			}
		}
	}
	in, err := l.Input.Open(ctx)
	if err != nil {
		return nil, err
	}
	return &limitIter{in: in, count: count, offset: offset}, nil
}

func (l *Limit) Explain(e *Explainer) {
	e.Node("Limit")
	e.Child(l.Input)
}

type limitIter struct {
	in            Iter
	count, offset int64
}

func (l *limitIter) Next() (Row, error) {
	for l.offset > 0 {
		r, err := l.in.Next()
		if r == nil || err != nil {
			return nil, err
		}
		l.offset--
	}
	if l.count == 0 {
		return nil, nil
	}
	r, err := l.in.Next()
	if r != nil && l.count > 0 {
		l.count--
	}
	return r, err
}

func (l *limitIter) Close() error { return l.in.Close() }
