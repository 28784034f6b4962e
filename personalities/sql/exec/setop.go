package exec

import (
	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// UNION, INTERSECT and EXCEPT, with ALL, nested; ORDER BY and LIMIT on
// the result. Column types are resolved per set operation as Postgres's
// transformSetOperationTree does, a branch's string literals staying of
// unknown type until then.

// SetOpKind is UNION, INTERSECT or EXCEPT.
type SetOpKind int

// The set operations.
const (
	Union SetOpKind = iota
	Intersect
	Except
)

func (k SetOpKind) String() string { return [...]string{"UNION", "INTERSECT", "EXCEPT"}[k] }

// SetOp combines the rows of two plans with the same columns. Without
// All, duplicate rows (NULLs equal) are dropped. Rows come in the order
// they are first seen: the left's, then the right's.
type SetOp struct {
	Op          SetOpKind
	All         bool
	Left, Right Plan
	Cols        []Column
}

func (s *SetOp) Columns() []Column { return s.Cols }

// rowKey encodes a row's values so equal rows (NULLs equal) have equal
// keys.
func rowKey(cols []Column, r Row) string {
	var b []byte
	for i, c := range cols {
		t := c.Type.Oid
		if isIntType(t) {
			t = types.OidInt8
		}
		var err error
		if b, err = types.AppendKey(b, t, r[i], false); err != nil {
			// A type without a key encoding: its text stands in.
			b = append(b, []byte(types.Format(c.Type, r[i], nil))...)
		}
	}
	return string(b)
}

func (s *SetOp) Open(ctx *EvalCtx) (Iter, error) {
	left, err := s.Left.Open(ctx)
	if err != nil {
		return nil, err
	}
	it := &setOpIter{s: s, ctx: ctx, left: left, seen: map[string]int{}}
	if s.Op != Union {
		right, err := s.Right.Open(ctx)
		if err != nil {
			left.Close()
			return nil, err
		}
		rows, err := drain(right)
		if err != nil {
			left.Close()
			return nil, err
		}
		it.counts = map[string]int{}
		for _, r := range rows {
			it.counts[rowKey(s.Cols, r)]++
		}
	}
	return it, nil
}

type setOpIter struct {
	s      *SetOp
	ctx    *EvalCtx
	left   Iter
	right  Iter // UNION's, once the left is done
	seen   map[string]int
	counts map[string]int
}

func (it *setOpIter) Next() (Row, error) {
	for {
		var r Row
		var err error
		if it.right != nil {
			r, err = it.right.Next()
		} else {
			r, err = it.left.Next()
			if r == nil && err == nil && it.s.Op == Union {
				if it.right, err = it.s.Right.Open(it.ctx); err != nil {
					return nil, err
				}
				continue
			}
		}
		if r == nil || err != nil {
			return nil, err
		}
		if it.s.Op == Union && it.s.All {
			return r, nil
		}
		k := rowKey(it.s.Cols, r)
		switch it.s.Op {
		case Union:
			if it.seen[k] == 0 {
				it.seen[k]++
				return r, nil
			}
		case Intersect:
			if it.counts[k] > 0 && (it.s.All || it.seen[k] == 0) {
				it.counts[k]--
				it.seen[k]++
				return r, nil
			}
		case Except:
			if it.s.All {
				if it.counts[k] > 0 {
					it.counts[k]--
					continue
				}
				return r, nil
			}
			if it.counts[k] == 0 && it.seen[k] == 0 {
				it.seen[k]++
				return r, nil
			}
		}
	}
}

func (it *setOpIter) Close() error {
	if it.right != nil {
		it.right.Close()
	}
	return it.left.Close()
}

// setOpStmt plans a SELECT that is a set operation, with its ORDER BY
// and LIMIT.
func (a *analyzer) setOpStmt(sel *pg.SelectStmt, outer *Scope) (Plan, error) {
	p, err := a.setOpTree(sel, outer, true)
	if err != nil {
		return nil, err
	}
	return a.resultOrderLimit(sel, p)
}

// resultOrderLimit adds a set operation's ORDER BY (result columns by
// name or number only) and LIMIT/OFFSET.
func (a *analyzer) resultOrderLimit(sel *pg.SelectStmt, p Plan) (Plan, error) {
	cols := p.Columns()
	var keys []SortKey
	for _, n := range sel.SortClause {
		sb := n.GetSortBy()
		idx := -1
		if c := sb.Node.GetAConst(); c != nil && c.GetIval() != nil {
			k := int(c.GetIval().Ival)
			if k < 1 || k > len(cols) {
				return nil, pgerror.New(pgerror.InvalidColumnReference, "ORDER BY position %d is not in select list", k).WithPosition(c.Location + 1)
			}
			idx = k - 1
		} else if cr := sb.Node.GetColumnRef(); cr != nil && len(cr.Fields) == 1 && cr.Fields[0].GetString_() != nil {
			s := &Scope{Cols: cols}
			i, _, _, err := s.resolve([]string{strVal(cr.Fields[0])}, cr.Location+1)
			if err != nil {
				return nil, err
			}
			idx = i
		} else {
			e := pgerror.New(pgerror.FeatureNotSupported, "invalid UNION/INTERSECT/EXCEPT ORDER BY clause")
			e.Detail = "Only result column names can be used, not expressions or functions."
			e.Hint = "Add the expression/function to every SELECT, or move the UNION into a FROM clause."
			return nil, e.WithPosition(nodeLocation(sb.Node))
		}
		keys = append(keys, SortKey{Index: idx, Desc: sb.SortbyDir == pg.SortByDir_SORTBY_DESC, NullsFirst: nullsFirst(sb)})
	}
	if len(keys) > 0 {
		p = &Sort{Input: p, Keys: keys}
	}
	return a.limit(sel, p)
}

// limit adds sel's LIMIT and OFFSET over p.
func (a *analyzer) limit(sel *pg.SelectStmt, p Plan) (Plan, error) {
	if sel.LimitCount == nil && sel.LimitOffset == nil {
		return p, nil
	}
	l := &Limit{Input: p}
	var err error
	if sel.LimitCount != nil {
		if l.Count, err = a.limitExpr(sel.LimitCount); err != nil {
			return nil, err
		}
	}
	if sel.LimitOffset != nil {
		if l.Offset, err = a.limitExpr(sel.LimitOffset); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// setOpTree plans one node of a set operation tree; a leaf (or a
// parenthesized SELECT with its own ORDER BY or LIMIT) is a SELECT.
func (a *analyzer) setOpTree(sel *pg.SelectStmt, outer *Scope, top bool) (Plan, error) {
	if sel.Op == pg.SetOperation_SETOP_NONE || !top && (len(sel.SortClause) > 0 || sel.LimitCount != nil || sel.LimitOffset != nil || sel.WithClause != nil) {
		if a.unknownLeaves == nil {
			a.unknownLeaves = map[*pg.SelectStmt]bool{}
		}
		a.unknownLeaves[sel] = true
		return a.selectStmt(sel, outer)
	}
	left, err := a.setOpTree(sel.Larg, outer, false)
	if err != nil {
		return nil, err
	}
	right, err := a.setOpTree(sel.Rarg, outer, false)
	if err != nil {
		return nil, err
	}
	op := Union
	switch sel.Op {
	case pg.SetOperation_SETOP_INTERSECT:
		op = Intersect
	case pg.SetOperation_SETOP_EXCEPT:
		op = Except
	}
	lcols, rcols := visible(left.Columns()), visible(right.Columns())
	if len(lcols) != len(rcols) {
		return nil, pgerror.New(pgerror.SyntaxError, "each %s query must have the same number of columns", op).WithPosition(targetLocation(sel.Rarg))
	}
	cols := make([]Column, len(lcols))
	ts := make([]types.Type, len(lcols))
	for i := range lcols {
		t, err := a.commonTypeAt(op.String(), []types.Type{lcols[i].Type, rcols[i].Type}, []int32{columnLocation(sel.Larg, i), columnLocation(sel.Rarg, i)})
		if err != nil {
			return nil, err
		}
		ts[i] = t
		cols[i] = Column{Name: lcols[i].Name, Type: t}
	}
	if err := a.coerceLiterals(left, ts, sel.Larg); err != nil {
		return nil, err
	}
	if err := a.coerceLiterals(right, ts, sel.Rarg); err != nil {
		return nil, err
	}
	if left, err = a.coerceColumns(left, ts, cols); err != nil {
		return nil, err
	}
	if right, err = a.coerceColumns(right, ts, cols); err != nil {
		return nil, err
	}
	return &SetOp{Op: op, All: sel.All, Left: left, Right: right, Cols: cols}, nil
}

// targetLocation is the 1-based position of a set operation branch's
// first output expression (0 if unknown).
func targetLocation(sel *pg.SelectStmt) int32 {
	for sel.Op != pg.SetOperation_SETOP_NONE {
		sel = sel.Larg
	}
	if len(sel.TargetList) == 0 {
		return 0
	}
	return sel.TargetList[0].GetResTarget().Location + 1
}

// columnLocation is the position of a branch's i'th output expression.
func columnLocation(sel *pg.SelectStmt, i int) int32 {
	for sel.Op != pg.SetOperation_SETOP_NONE {
		sel = sel.Larg
	}
	if i >= len(sel.TargetList) {
		return 0
	}
	rt := sel.TargetList[i].GetResTarget()
	if l := nodeLocation(rt.Val); l > 0 {
		return l
	}
	return rt.Location + 1
}

// coerceLiterals reads a branch's string literals (of unknown type) as
// the set operation's column types, when the plan is analyzed, as
// Postgres does (a bad literal is an error at its position).
func (a *analyzer) coerceLiterals(p Plan, ts []types.Type, sel *pg.SelectStmt) error {
	proj, ok := p.(*Project)
	if !ok {
		return nil
	}
	k := 0
	for i, c := range proj.Cols {
		if c.Hidden {
			continue
		}
		if k >= len(ts) {
			break
		}
		if cst, ok := proj.Exprs[i].(*Const); ok && cst.T.Oid == types.OidUnknown {
			e, err := a.coerce(cst, ts[k], false)
			if err != nil {
				if pe, ok := err.(*pgerror.Error); ok && pe.Position == 0 {
					pe.Position = columnLocation(sel, k)
				}
				return err
			}
			proj.Exprs[i] = e
			proj.Cols[i].Type = e.Type()
		}
		k++
	}
	return nil
}

// coerceColumns makes p's visible columns of types ts, named as cols.
func (a *analyzer) coerceColumns(p Plan, ts []types.Type, cols []Column) (Plan, error) {
	in := p.Columns()
	same := len(in) == len(ts)
	var exprs []Expr
	k := 0
	for i, c := range in {
		if c.Hidden {
			same = false
			continue
		}
		e, err := a.coerce(&ColRef{Index: i, T: c.Type}, ts[k], false)
		if err != nil {
			return nil, err
		}
		if _, ok := e.(*ColRef); !ok {
			same = false
		}
		exprs = append(exprs, e)
		k++
	}
	if same {
		return p, nil
	}
	return &Project{Input: p, Exprs: exprs, Cols: cols}, nil
}

// commonTypeOf resolves the type values of types ts are all converted
// to, as Postgres's select_common_type does for context (UNION,
// JOIN/USING ...).
func (a *analyzer) commonTypeOf(context string, ts []types.Type) (types.Type, error) {
	return a.commonTypeAt(context, ts, nil)
}

func (a *analyzer) commonTypeAt(context string, ts []types.Type, pos []int32) (types.Type, error) {
	p := ts[0]
	allSame := true
	for _, t := range ts[1:] {
		if t.Oid != p.Oid {
			allSame = false
		}
	}
	if allSame && p.Oid != types.OidUnknown {
		mod := p.Mod
		for _, t := range ts[1:] {
			if t.Mod != mod {
				mod = -1
			}
		}
		return types.Type{Oid: p.Oid, Mod: mod}, nil
	}
	ptype := types.Oid(types.OidUnknown)
	var pcat byte
	ppref := false
	for i, t := range ts {
		if t.Oid == types.OidUnknown || t.Oid == ptype {
			continue
		}
		info := types.Lookup(t.Oid)
		var ncat byte
		npref := false
		if info != nil {
			ncat, npref = info.Category, info.Preferred
		}
		switch {
		case ptype == types.OidUnknown:
			ptype, pcat, ppref = t.Oid, ncat, npref
		case ncat != pcat:
			e := pgerror.New(pgerror.DatatypeMismatch, "%s types %s and %s cannot be matched", context, types.T(ptype), types.T(t.Oid))
			if i < len(pos) {
				e = e.WithPosition(pos[i])
			}
			return types.Type{}, e
		case !ppref && CanImplicit(ptype, t.Oid) && !CanImplicit(t.Oid, ptype):
			ptype, pcat, ppref = t.Oid, ncat, npref
		}
	}
	if ptype == types.OidUnknown {
		return types.TextType, nil
	}
	return types.T(ptype), nil
}
