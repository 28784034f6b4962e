package exec

import (
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// EXPLAIN prints the plan the executor runs, in Postgres's tree shape and
// node names. Costs and row estimates are not printed, with COSTS OFF or
// not: this planner has none that would match Postgres's. ANALYZE is not
// supported.

// explainStmt plans EXPLAIN [(options)] query.
func (a *analyzer) explainStmt(x *pg.ExplainStmt) (*planned, error) {
	for _, o := range x.Options {
		d := o.GetDefElem()
		switch d.Defname {
		case "analyze":
			if d.Arg == nil || defBool(d.Arg) {
				return nil, pgerror.New(pgerror.FeatureNotSupported, "EXPLAIN ANALYZE is not supported")
			}
		case "costs", "verbose", "summary", "timing", "buffers", "settings", "wal":
		case "format":
			if v := strings.ToLower(defString(d.Arg)); v != "text" {
				return nil, pgerror.New(pgerror.FeatureNotSupported, "EXPLAIN format %s is not supported", v)
			}
		default:
			return nil, pgerror.New(pgerror.SyntaxError, "unrecognized EXPLAIN option \"%s\"", d.Defname).WithPosition(d.Location + 1)
		}
	}
	sel := x.Query.GetSelectStmt()
	if sel == nil {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "EXPLAIN of this statement is not supported")
	}
	p, err := a.selectStmt(sel, nil)
	if err != nil {
		return nil, err
	}
	lines := ExplainPlan(p)
	col := Column{Name: "QUERY PLAN", Type: types.TextType}
	return &planned{rows: &Values{Cols: []Column{col}}, run: func(ctx *EvalCtx) (*Result, error) {
		res := &Result{Columns: []Column{col}, Tag: "EXPLAIN"}
		for _, l := range lines {
			res.Rows = append(res.Rows, Row{l})
		}
		return res, nil
	}}, nil
}

func defBool(n *pg.Node) bool {
	switch s := strings.ToLower(defString(n)); s {
	case "false", "off", "0", "no":
		return false
	}
	return true
}

func defString(n *pg.Node) string {
	if n == nil {
		return ""
	}
	if c := n.GetAConst(); c != nil {
		if c.GetIval() != nil {
			return strconv.Itoa(int(c.GetIval().Ival))
		}
		if c.GetBoolval() != nil {
			return strconv.FormatBool(c.GetBoolval().Boolval)
		}
		return c.GetSval().GetSval()
	}
	return strVal(n)
}

// ExplainPlan renders p as EXPLAIN (COSTS OFF) does.
func ExplainPlan(p Plan) []string {
	e := &Explainer{Prefix: countRelations(p) > 1}
	p.Explain(e)
	return e.Lines()
}

// countRelations counts the scans of a plan (column names are qualified
// in EXPLAIN when there is more than one).
func countRelations(p Plan) int {
	switch x := p.(type) {
	case *SeqScan, *IndexScan, *CTEScan, *WorkTableScan, *FunctionScan:
		return 1
	case *Join:
		n := countRelations(x.Left) + countRelations(x.Right)
		return n
	case *Filter:
		return countRelations(x.Input)
	case *Project:
		return countRelations(x.Input)
	case *Sort:
		return countRelations(x.Input)
	case *Limit:
		return countRelations(x.Input)
	case *SetOp:
		return countRelations(x.Left) + countRelations(x.Right)
	case *RecursiveUnion:
		return countRelations(x.NonRec) + countRelations(x.Rec)
	case interface{ input() Plan }:
		return countRelations(x.input())
	}
	return 2
}

// ExprString renders an expression as EXPLAIN does; cols are the columns
// of the row it is evaluated on.
func (e *Explainer) ExprString(x Expr, cols []Column) string {
	return deparse(x, cols, e.Prefix, true)
}

func deparse(x Expr, cols []Column, prefix, top bool) string {
	switch v := x.(type) {
	case *ColRef:
		if v.Level > 0 || v.Index >= len(cols) {
			return "?"
		}
		c := cols[v.Index]
		if prefix && c.Qualifier != "" {
			return c.Qualifier + "." + c.Name
		}
		return c.Name
	case *Const:
		return constString(v)
	case *Param:
		return "$" + strconv.Itoa(v.Index+1)
	case *slotExpr:
		return "?"
	case *outerRef:
		return deparse(&ColRef{Index: v.Index, T: v.T}, v.cols, prefix, top)
	case *CastExpr:
		return "(" + deparse(v.Arg, cols, prefix, false) + ")::" + v.T.String()
	case *NullTest:
		s := deparse(v.Arg, cols, prefix, false) + " IS NULL"
		if v.Not {
			s = deparse(v.Arg, cols, prefix, false) + " IS NOT NULL"
		}
		return "(" + s + ")"
	case *BoolOp:
		if v.Op == Not {
			return "(NOT " + deparse(v.Args[0], cols, prefix, false) + ")"
		}
		parts := make([]string, len(v.Args))
		for i, a := range v.Args {
			parts[i] = deparse(a, cols, prefix, false)
		}
		return "(" + strings.Join(parts, [...]string{" AND ", " OR "}[v.Op]) + ")"
	case *FuncExpr:
		if _, isOp := operators[v.Fn.Name]; isOp && len(v.Args) == 2 {
			return "(" + deparse(v.Args[0], cols, prefix, false) + " " + v.Fn.Name + " " + deparse(v.Args[1], cols, prefix, false) + ")"
		}
		parts := make([]string, len(v.Args))
		for i, a := range v.Args {
			parts[i] = deparse(a, cols, prefix, false)
		}
		return v.Fn.Name + "(" + strings.Join(parts, ", ") + ")"
	case *SubqueryExpr:
		return "(SubPlan)"
	}
	return "?"
}

// constString renders a constant as Postgres's deparser does.
func constString(c *Const) string {
	if c.Value == nil {
		return "NULL::" + c.T.String()
	}
	s := types.Format(c.T, c.Value, types.DefaultSettings())
	switch c.T.Oid {
	case types.OidInt4:
		if !strings.HasPrefix(s, "-") {
			return s
		}
	case types.OidNumeric:
		if !strings.HasPrefix(s, "-") && !strings.Contains(s, "N") {
			return s
		}
	case types.OidBool:
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'::" + c.T.String()
}

func (j *Join) Explain(e *Explainer) {
	kind := [...]string{"", " Left Join", " Right Join", " Full Join"}[j.Kind]
	cols := j.Columns()
	var filter []Expr
	if j.Cond != nil {
		filter = conjuncts(j.Cond)
	}
	if len(j.HashKeys) > 0 {
		var keys []string
		var rest []Expr
		for _, c := range filter {
			if l, r, ok := equiColumns(c); ok && j.isHashKey(l, r) {
				keys = append(keys, e.ExprString(c, cols))
				continue
			}
			rest = append(rest, c)
		}
		e.Node("Hash%s", strings.TrimPrefix(kind, " Inner"))
		if kind == "" {
			e.lines[len(e.lines)-1] += " Join"
		}
		e.Detail("Hash Cond: %s", joinConds(keys))
		if len(rest) > 0 {
			e.Detail("Join Filter: %s", e.ExprString(andOf(rest), cols))
		}
		e.Child(j.Left)
		e.Child(&hashNode{Input: j.Right})
		return
	}
	e.Node("Nested Loop%s", kind)
	if j.IndexLookup == nil && len(filter) > 0 {
		e.Detail("Join Filter: %s", e.ExprString(j.Cond, cols))
	}
	e.Child(j.Left)
	if j.IndexLookup != nil {
		e.Child(j.IndexLookup.Scan)
		return
	}
	e.Child(j.Right)
}

func (j *Join) isHashKey(l, r int) bool {
	for _, k := range j.HashKeys {
		if k[0] == l && k[1]+j.nl == r || k[0] == r && k[1]+j.nl == l {
			return true
		}
	}
	return false
}

func joinConds(keys []string) string {
	if len(keys) == 1 {
		return keys[0]
	}
	return "(" + strings.Join(keys, " AND ") + ")"
}

func andOf(es []Expr) Expr {
	if len(es) == 1 {
		return es[0]
	}
	return &BoolOp{Op: And, Args: es}
}

// hashNode is the Hash node EXPLAIN shows under a hash join's inner side.
type hashNode struct{ Input Plan }

func (h *hashNode) Columns() []Column               { return h.Input.Columns() }
func (h *hashNode) Open(ctx *EvalCtx) (Iter, error) { return h.Input.Open(ctx) }
func (h *hashNode) Explain(e *Explainer) {
	e.Node("Hash")
	e.Child(h.Input)
}

func (s *SetOp) Explain(e *Explainer) {
	switch {
	case s.Op == Union && s.All:
		e.Node("Append")
	case s.Op == Union:
		e.Node("HashAggregate")
		e.Detail("Group Key: %s", columnNames(s.Cols))
		e.depth++
		e.Node("Append")
		e.Child(s.Left)
		e.Child(s.Right)
		e.depth--
		return
	default:
		name := [...]string{"", "Intersect", "Except"}[s.Op]
		if s.All {
			name += " All"
		}
		e.Node("HashSetOp %s", name)
		e.depth++
		e.Node("Append")
		e.Child(&subqueryScan{Input: s.Left, Name: "*SELECT* 1"})
		e.Child(&subqueryScan{Input: s.Right, Name: "*SELECT* 2"})
		e.depth--
		return
	}
	e.Child(s.Left)
	e.Child(s.Right)
}

func columnNames(cols []Column) string {
	var names []string
	for _, c := range cols {
		if !c.Hidden {
			names = append(names, c.Name)
		}
	}
	return strings.Join(names, ", ")
}

// subqueryScan is the Subquery Scan node EXPLAIN shows over a set
// operation's branch.
type subqueryScan struct {
	Input Plan
	Name  string
}

func (s *subqueryScan) Columns() []Column               { return s.Input.Columns() }
func (s *subqueryScan) Open(ctx *EvalCtx) (Iter, error) { return s.Input.Open(ctx) }
func (s *subqueryScan) Explain(e *Explainer) {
	e.Node("Subquery Scan on \"%s\"", s.Name)
	e.Child(s.Input)
}
