package exec

import (
	"slices"
	"strings"

	"hourglass/personalities/sql/types"
	"hourglass/platform"
)

// ForeignScan reads a system schema's view: the conditions on the table's
// key columns (platform.Table.Keys) that it can turn into bounds (equality on an integer column; =, <, <=, >, >= and LIKE
// with a literal prefix on a text or bytea column) go to the table's
// scan, which narrows its key ranges by them; every condition is then
// checked on the rows the scan returns. EXPLAIN shows the pushed ones as
// "Index Cond" and the others as "Filter".
type ForeignScan struct {
	T     *sysTable
	Alias string
	// Pushed are the conditions handed to the scan as bounds.
	Pushed []pushedCond
	// Cond is every condition, checked on each row (nil: none).
	Cond Expr
	// Filter is the part of Cond not pushed, for EXPLAIN.
	Filter []Expr

	conds []Expr // every condition placed on the scan
}

// pushedCond is "column op value" (op one of =, <, <=, >, >=, ~~).
type pushedCond struct {
	col  int
	op   string
	val  Expr
	show Expr
}

// Columns implements Plan.
func (s *ForeignScan) Columns() []Column { return (&SysScan{T: s.T, Alias: s.Alias}).Columns() }

// Explain implements Plan.
func (s *ForeignScan) Explain(e *Explainer) {
	e.Node("Foreign Scan on %s", scanName(s.T.Name, s.Alias))
	cols := s.Columns()
	if len(s.Pushed) > 0 {
		parts := make([]string, len(s.Pushed))
		for i, p := range s.Pushed {
			parts[i] = e.ExprString(p.show, cols)
		}
		text := parts[0]
		if len(parts) > 1 {
			text = "(" + joinAnd(parts) + ")"
		}
		e.Detail("Index Cond: %s", text)
	}
	if len(s.Filter) > 0 {
		e.Detail("Filter: %s", e.ExprString(andOf(s.Filter), cols))
	}
}

// Open implements Plan: it evaluates the pushed values into bounds, runs
// the table's scan and filters its rows.
func (s *ForeignScan) Open(ctx *EvalCtx) (Iter, error) {
	var q platform.TableQuery
	for _, p := range s.Pushed {
		b, ok, err := p.bound(ctx, s.T.Cols[p.col])
		if err != nil {
			return nil, err
		}
		if !ok {
			// A NULL value, or a value of no key: no row can match.
			return &sliceIter{}, nil
		}
		if b != nil {
			q.Bounds = append(q.Bounds, *b)
		}
	}
	rows, err := foreignRows(ctx, s.T, q)
	if err != nil {
		return nil, err
	}
	var it Iter = &sliceIter{rows: rows}
	if s.Cond != nil {
		it = &filterIter{ctx: ctx, in: it, cond: s.Cond}
	}
	return it, nil
}

// bound evaluates the condition into a bound on its column (nil: none it
// can give); ok is false when no row can satisfy it.
func (p pushedCond) bound(ctx *EvalCtx, c sysCol) (*platform.TableBound, bool, error) {
	v, err := p.val.Eval(ctx, nil)
	if err != nil || v == nil {
		return nil, false, err
	}
	b := &platform.TableBound{Column: c.Name}
	if n, isInt := v.(int64); isInt {
		if p.op != "=" {
			return nil, true, nil
		}
		b.Eq = &n
		return b, true, nil
	}
	var val []byte
	switch x := v.(type) {
	case string:
		val = []byte(x)
	case []byte:
		val = x
	default:
		return nil, true, nil
	}
	next := append(append([]byte(nil), val...), 0) // the first value after val
	switch p.op {
	case "=":
		b.Lo, b.Hi = val, next
	case ">=":
		b.Lo = val
	case ">":
		b.Lo = next
	case "<":
		b.Hi = val
	case "<=":
		b.Hi = next
	case "~~":
		prefix, ok := likePrefix(string(val))
		if !ok || prefix == "" {
			return nil, true, nil
		}
		b.Lo, b.Hi = []byte(prefix), prefixEnd([]byte(prefix))
	}
	return b, true, nil
}

// likePrefix returns the literal text a LIKE pattern's matches all start
// with (backslash escapes); ok is false for a malformed pattern.
func likePrefix(pattern string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '%', '_':
			return b.String(), true
		case '\\':
			if i+1 == len(pattern) {
				return "", false
			}
			i++
			b.WriteByte(pattern[i])
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

// foreignScan plans a system schema's view under conditions: those it can
// push become bounds, and all are checked on its rows.
func foreignScan(scan *ForeignScan, conds []Expr) Plan {
	cols := scan.Columns()
	scan.conds = append(scan.conds, conds...)
	scan.Cond, scan.Pushed, scan.Filter = nil, nil, nil
	if len(scan.conds) > 0 {
		scan.Cond = andOf(scan.conds)
	}
	for _, c := range scan.conds {
		if p, ok := asPushedCond(c, cols); ok && slices.Contains(scan.T.Foreign.Keys, cols[p.col].Name) {
			scan.Pushed = append(scan.Pushed, p)
		} else {
			scan.Filter = append(scan.Filter, c)
		}
	}
	return scan
}

// asPushedCond recognizes the conditions a table's scan can narrow by.
func asPushedCond(e Expr, cols []Column) (pushedCond, bool) {
	if f, ok := e.(*FuncExpr); ok && f.Fn.Name == "~~" && len(f.Args) == 2 && isColumn(f.Args[0]) && rowIndependent(f.Args[1]) {
		col := columnOf(f.Args[0])
		if t := cols[col].Type.Oid; t == types.OidText && f.Args[1].Type().Oid == types.OidText {
			return pushedCond{col: col, op: "~~", val: f.Args[1], show: e}, true
		}
		return pushedCond{}, false
	}
	ic, ok := asIndexCond(e, cols)
	if !ok || len(ic.vals) != 1 {
		return pushedCond{}, false
	}
	switch t := cols[ic.col].Type.Oid; {
	case t == types.OidText || t == types.OidBytea:
	case isIntType(t) && ic.op == "=":
	default:
		return pushedCond{}, false
	}
	return pushedCond{col: ic.col, op: ic.op, val: ic.vals[0], show: ic.show}, true
}

// foreignLookup plans a join's inner system view read per outer row: the
// join's equalities (conds, with the outer row's columns as values) added
// to the scan's own conditions. It returns nil if none of them bounds a
// key column, so a lookup would read the whole view each time.
func foreignLookup(scan *ForeignScan, conds []Expr) *ForeignScan {
	l := foreignScan(&ForeignScan{T: scan.T, Alias: scan.Alias}, append(append([]Expr(nil), scan.conds...), conds...)).(*ForeignScan)
	for _, p := range l.Pushed {
		if !rowIndependentOfOuter(p.val) {
			return l
		}
	}
	return nil
}

// rowIndependentOfOuter reports whether a pushed value is a constant or a
// parameter, not a column of an outer row.
func rowIndependentOfOuter(e Expr) bool {
	switch x := e.(type) {
	case *Const, *Param:
		return true
	case *CastExpr:
		return rowIndependentOfOuter(x.Arg)
	}
	return false
}
