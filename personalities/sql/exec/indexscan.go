package exec

import (
	"bytes"
	"sort"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/store"
	"hourglass/personalities/sql/types"
)

// IndexScan reads the rows of a table whose index key lies in the ranges
// its conditions give: equality on the index's leading columns (several
// values for an IN list), then at most one range on the next column.
// Its store reads are those ranges only (and a point read per row through
// a secondary index), so an optimistic transaction's read set holds
// exactly what the conditions select. The primary key's index is the
// table's own key space.
type IndexScan struct {
	Table *Table
	Index *catalog.Object
	Alias string
	// Eq holds the values of the leading columns (a row matches one of
	// each column's values); a NULL value matches nothing.
	Eq [][]Expr
	// Lo and Hi bound the next column (nil: unbounded), inclusive when
	// LoIncl, HiIncl.
	Lo, Hi         Expr
	LoIncl, HiIncl bool
	// Reverse reads in descending key order.
	Reverse bool
	// Filter is the rest of the condition, on the scan's rows.
	Filter Expr
	// Conds render the index condition for EXPLAIN.
	Conds func(e *Explainer) []string

	applied []Expr
	lookup  bool
}

// Lookup reports whether the scan's values come from an outer row (an
// index nested loop's inner side).
func (s *IndexScan) Lookup() bool { return s.lookup }

// condExpr is the scan's whole condition (index and filter).
func (s *IndexScan) condExpr() Expr {
	all := append([]Expr(nil), s.applied...)
	if s.Filter != nil {
		all = append(all, conjuncts(s.Filter)...)
	}
	if len(all) == 0 {
		return nil
	}
	return andOf(all)
}

func (s *IndexScan) Columns() []Column {
	return (&SeqScan{Table: s.Table, Alias: s.Alias}).Columns()
}

func (s *IndexScan) Explain(e *Explainer) {
	name := scanName(s.Table.Obj.Name, s.Alias)
	kind := "Index Scan"
	if s.Reverse {
		kind = "Index Scan Backward"
	}
	e.Node("%s using %s on %s", kind, s.Index.Name, name)
	if s.Conds != nil {
		if conds := s.Conds(e); len(conds) > 0 {
			text := conds[0]
			if len(conds) > 1 {
				text = "(" + joinAnd(conds) + ")"
			}
			e.Detail("Index Cond: %s", text)
		}
	}
	if s.Filter != nil {
		e.Detail("Filter: %s", e.ExprString(s.Filter, s.Columns()))
	}
}

func joinAnd(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " AND "
		}
		out += x
	}
	return out
}

// keyRange is a span of index keys [lo, hi); nil hi: to the index's end.
// keyRange is a range of index keys; point marks a whole key of a
// unique index (every column fixed by an equality), read with one Get.
type keyRange struct {
	lo, hi []byte
	point  bool
}

// ranges evaluates the conditions into sorted, disjoint key ranges,
// relative to the index's key space.
func (s *IndexScan) ranges(ctx *EvalCtx) ([]keyRange, error) {
	idx := s.Index.Index
	bases := [][]byte{{}}
	for i, vals := range s.Eq {
		t := s.keyType(i)
		desc := i < len(idx.Desc) && idx.Desc[i]
		var next [][]byte
		for _, b := range bases {
			for _, e := range vals {
				v, err := e.Eval(ctx, nil)
				if err != nil {
					return nil, err
				}
				if v == nil {
					continue
				}
				if v, ok := keyValue(t, v); ok {
					k, err := types.AppendKey(bytes.Clone(b), t, v, desc)
					if err != nil {
						return nil, err
					}
					next = append(next, k)
				}
			}
		}
		bases = next
	}
	sort.Slice(bases, func(i, j int) bool { return bytes.Compare(bases[i], bases[j]) < 0 })
	point := (idx.Primary || idx.Unique) && len(s.Eq) == len(idx.Columns) && s.Lo == nil && s.Hi == nil
	var out []keyRange
	for i, b := range bases {
		if i > 0 && bytes.Equal(b, bases[i-1]) {
			continue
		}
		r, ok, err := s.bound(ctx, b)
		if err != nil {
			return nil, err
		}
		if ok {
			r.point = point && len(b) > 0
			out = append(out, r)
		}
	}
	return out, nil
}

// keyType is the key encoding type of the index's i'th column.
func (s *IndexScan) keyType(i int) types.Oid {
	pos := s.Table.columnIndex(s.Index.Index.Columns[i])
	return s.Table.Obj.Columns[pos].Type.Oid
}

// keyValue converts a condition's value to the index column's type t
// when that is exact (integers of any width); ok is false when no value
// of t can equal it.
func keyValue(t types.Oid, v any) (any, bool) {
	if n, isInt := v.(int64); isInt && isIntType(t) {
		switch t {
		case types.OidInt2:
			return n, n >= -1<<15 && n < 1<<15
		case types.OidInt4:
			return n, n >= -1<<31 && n < 1<<31
		}
	}
	return v, true
}

// bound adds the range condition on the column after the equalities to
// the key prefix b.
func (s *IndexScan) bound(ctx *EvalCtx, b []byte) (keyRange, bool, error) {
	r := keyRange{lo: b, hi: prefixEnd(b)}
	if len(b) == 0 {
		r.lo, r.hi = nil, nil
	}
	if s.Lo == nil && s.Hi == nil {
		return r, true, nil
	}
	t := s.keyType(len(s.Eq))
	// Values sort before NULLs (ascending columns only are ranged).
	r.hi = append(bytes.Clone(b), 0x02)
	if s.Lo != nil {
		v, err := s.Lo.Eval(ctx, nil)
		if err != nil || v == nil {
			return r, false, err
		}
		k, err := types.AppendKey(bytes.Clone(b), t, v, false)
		if err != nil {
			return r, false, err
		}
		if s.LoIncl {
			r.lo = k
		} else {
			r.lo = prefixEnd(k)
		}
	}
	if s.Hi != nil {
		v, err := s.Hi.Eval(ctx, nil)
		if err != nil || v == nil {
			return r, false, err
		}
		k, err := types.AppendKey(bytes.Clone(b), t, v, false)
		if err != nil {
			return r, false, err
		}
		if s.HiIncl {
			r.hi = prefixEnd(k)
		} else {
			r.hi = k
		}
	}
	if r.lo != nil && bytes.Compare(r.lo, r.hi) >= 0 {
		return r, false, nil
	}
	return r, true, nil
}

func (s *IndexScan) Open(ctx *EvalCtx) (Iter, error) {
	rs, err := s.ranges(ctx)
	if err != nil {
		return nil, err
	}
	if s.Reverse {
		for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
			rs[i], rs[j] = rs[j], rs[i]
		}
	}
	return &indexIter{s: s, ctx: ctx, st: ctx.Env.Store, ranges: rs}, nil
}

type indexIter struct {
	s      *IndexScan
	ctx    *EvalCtx
	st     store.Store
	ranges []keyRange
	cur    Iter       // primary key: the table's rows
	idx    store.Iter // secondary index: its entries
}

// point reads the row of a whole unique key: one Get of the row (and,
// through a secondary index, one of the index entry), so a transaction's
// read set holds point reads rather than ranges.
func (it *indexIter) point(key []byte) (Row, error) {
	if it.s.Index.Index.Primary {
		return it.s.Table.Get(it.st, key)
	}
	rowKey, ok, err := it.st.Get(append(indexPrefix(it.s.Index.Oid), key...))
	if err != nil || !ok {
		return nil, err
	}
	return it.s.Table.Get(it.st, bytes.Clone(rowKey))
}

func (it *indexIter) open() error {
	r := it.ranges[0]
	it.ranges = it.ranges[1:]
	if r.point {
		row, err := it.point(r.lo)
		if err != nil {
			return err
		}
		var rows []Row
		if row != nil {
			rows = []Row{row}
		}
		it.cur = &sliceIter{rows: rows}
		return nil
	}
	if it.s.Index.Index.Primary {
		var err error
		it.cur, err = it.s.Table.Scan(it.st, r.lo, r.hi, it.s.Reverse)
		return err
	}
	p := indexPrefix(it.s.Index.Oid)
	lo := append(bytes.Clone(p), r.lo...)
	hi := prefixEnd(p)
	if r.hi != nil {
		hi = append(bytes.Clone(p), r.hi...)
	}
	var err error
	it.idx, err = it.st.Scan(lo, hi, it.s.Reverse)
	return err
}

func (it *indexIter) next() (Row, error) {
	for {
		if it.cur == nil && it.idx == nil {
			if len(it.ranges) == 0 {
				return nil, nil
			}
			if err := it.open(); err != nil {
				return nil, err
			}
		}
		if it.cur != nil {
			r, err := it.cur.Next()
			if r != nil || err != nil {
				return r, err
			}
			if err := it.cur.Close(); err != nil {
				return nil, err
			}
			it.cur = nil
			continue
		}
		if it.idx.Next() {
			r, err := it.s.Table.Get(it.st, bytes.Clone(it.idx.Value()))
			if r != nil || err != nil {
				return r, err
			}
			continue
		}
		if err := it.idx.Close(); err != nil {
			return nil, err
		}
		it.idx = nil
	}
}

func (it *indexIter) Next() (Row, error) {
	for {
		r, err := it.next()
		if r == nil || err != nil || it.s.Filter == nil {
			return r, err
		}
		ok, err := Truth(it.ctx, it.s.Filter, r)
		if err != nil {
			return nil, err
		}
		if ok {
			return r, nil
		}
	}
}

func (it *indexIter) Close() error {
	if it.cur != nil {
		it.cur.Close()
	}
	if it.idx != nil {
		it.idx.Close()
	}
	return nil
}

// IndexLookup reads a join's inner side through an index for each outer
// row: Scan's values are expressions of the outer row (level 1). Scan is
// an *IndexScan, or a *ForeignScan whose bounds take them.
type IndexLookup struct {
	Scan Plan
}

func (l *IndexLookup) rows(ctx *EvalCtx, _ Row) ([]Row, error) {
	it, err := l.Scan.Open(ctx)
	if err != nil {
		return nil, err
	}
	return drain(it)
}
