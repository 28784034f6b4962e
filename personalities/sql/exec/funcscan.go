package exec

import (
	"github.com/cockroachdb/apd/v3"
	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// Functions in FROM: set-returning functions (generate_series over
// integers, numerics and timestamps, unnest of an array), WITH ORDINALITY. A function
// whose arguments reference earlier FROM items runs for each of their
// rows (implicitly LATERAL, as in Postgres).
//
// Not done: several functions in one item (ROWS FROM), column definition
// lists, scalar functions in FROM.

// setFuncs are the set-returning functions, by name. A set-returning
// Func's Fn returns a rowsFunc.
var setFuncs = map[string][]*Func{}

// rowsFunc produces a set-returning function's values one by one; ok is
// false at the end.
type rowsFunc func() (v any, ok bool, err error)

func init() {
	for _, t := range []types.Oid{types.OidInt4, types.OidInt8} {
		t := t
		gen := func(_ *EvalCtx, a []any) (any, error) {
			start, stop, step := a[0].(int64), a[1].(int64), int64(1)
			if len(a) > 2 {
				step = a[2].(int64)
			}
			if step == 0 {
				return nil, pgerror.New(pgerror.InvalidParameterValue, "step size cannot equal zero")
			}
			cur, done := start, false
			return rowsFunc(func() (any, bool, error) {
				if done || step > 0 && cur > stop || step < 0 && cur < stop {
					return nil, false, nil
				}
				v := cur
				next := cur + step
				if (step > 0) != (next > cur) || t == types.OidInt4 && (next > 1<<31-1 || next < -1<<31) {
					done = true // the next value would overflow: v is the last
				}
				cur = next
				return v, true, nil
			}), nil
		}
		setFuncs["generate_series"] = append(setFuncs["generate_series"],
			&Func{Name: "generate_series", Args: []types.Oid{t, t}, Ret: t, Strict: true, Fn: gen},
			&Func{Name: "generate_series", Args: []types.Oid{t, t, t}, Ret: t, Strict: true, Fn: gen})
	}
	genNum := func(_ *EvalCtx, a []any) (any, error) {
		start, stop := a[0].(*apd.Decimal), a[1].(*apd.Decimal)
		step := apd.New(1, 0)
		if len(a) > 2 {
			step = a[2].(*apd.Decimal)
		}
		for _, d := range []*apd.Decimal{start, stop, step} {
			if d.Form == apd.NaN {
				return nil, pgerror.New(pgerror.InvalidParameterValue, "start value cannot be NaN")
			}
			if d.Form == apd.Infinite {
				return nil, pgerror.New(pgerror.InvalidParameterValue, "start value cannot be infinity")
			}
		}
		if step.IsZero() {
			return nil, pgerror.New(pgerror.InvalidParameterValue, "step size cannot equal zero")
		}
		cur := new(apd.Decimal).Set(start)
		return rowsFunc(func() (any, bool, error) {
			c := cur.Cmp(stop)
			if step.Negative && c < 0 || !step.Negative && c > 0 {
				return nil, false, nil
			}
			v := new(apd.Decimal).Set(cur)
			next := new(apd.Decimal)
			if _, err := apd.BaseContext.WithPrecision(1000).Add(next, cur, step); err != nil {
				return nil, false, err
			}
			cur = next
			return v, true, nil
		}), nil
	}
	setFuncs["generate_series"] = append(setFuncs["generate_series"],
		&Func{Name: "generate_series", Args: []types.Oid{types.OidNumeric, types.OidNumeric}, Ret: types.OidNumeric, Strict: true, Fn: genNum},
		&Func{Name: "generate_series", Args: []types.Oid{types.OidNumeric, types.OidNumeric, types.OidNumeric}, Ret: types.OidNumeric, Strict: true, Fn: genNum})
	for _, t := range []types.Oid{types.OidTimestamp, types.OidTimestamptz} {
		tz := t == types.OidTimestamptz
		setFuncs["generate_series"] = append(setFuncs["generate_series"], &Func{Name: "generate_series", Args: []types.Oid{t, t, types.OidInterval}, Ret: t, Strict: true,
			Fn: func(ctx *EvalCtx, a []any) (any, error) {
				return genTimestamps(ctx, a[0].(types.Timestamp), a[1].(types.Timestamp), a[2].(types.Interval), tz)
			}})
	}
	setFuncs["unnest"] = append(setFuncs["unnest"], &Func{Name: "unnest", Args: []types.Oid{types.OidAnyArray}, Ret: types.OidAnyElement, Strict: true,
		Fn: func(_ *EvalCtx, a []any) (any, error) {
			arr, ok := a[0].(*types.Array)
			if !ok {
				return nil, pgerror.New(pgerror.FeatureNotSupported, "unnest of this value is not supported")
			}
			i := 0
			return rowsFunc(func() (any, bool, error) {
				if i >= len(arr.Elems) {
					return nil, false, nil
				}
				i++
				return arr.Elems[i-1], true, nil
			}), nil
		}})
}

// genTimestamps is generate_series over timestamps: start, start+step,
// ... up to stop, the step added on the calendar (in the session's zone
// for timestamptz).
func genTimestamps(ctx *EvalCtx, start, stop types.Timestamp, step types.Interval, tz bool) (any, error) {
	sign := types.Compare(types.OidInterval, step, types.Interval{})
	if sign == 0 {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "step size cannot equal zero")
	}
	cur, done := start, false
	return rowsFunc(func() (any, bool, error) {
		if done || sign > 0 && cur > stop || sign < 0 && cur < stop {
			return nil, false, nil
		}
		v := cur
		next, err := tsPlusInterval(cur, step, tz, loc(ctx))
		if err != nil {
			done = true // the next value is out of range: v is the last
		} else {
			cur = next.(types.Timestamp)
		}
		return v, true, nil
	}), nil
}

// rangeFunction plans a function in FROM.
func (a *analyzer) rangeFunction(rf *pg.RangeFunction, scope *Scope) (Plan, error) {
	if len(rf.Functions) != 1 || len(rf.Coldeflist) > 0 {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "ROWS FROM and column definition lists are not supported")
	}
	items := rf.Functions[0].GetList().Items
	fc := items[0].GetFuncCall()
	if fc == nil {
		return nil, a.unsupported(items[0])
	}
	name := strVal(fc.Funcname[len(fc.Funcname)-1])
	fs := setFuncs[name]
	if len(fs) == 0 {
		if len(functions[name]) > 0 {
			return nil, pgerror.New(pgerror.FeatureNotSupported, "function %s in FROM is not supported", name).WithPosition(fc.Location + 1)
		}
		return nil, pgerror.New(pgerror.UndefinedFunction, "function %s() does not exist", name).WithPosition(fc.Location + 1)
	}
	// The arguments see the items before this one as an outer query.
	argScope := &Scope{Parent: itemParent(scope)}
	var args []Expr
	for _, n := range fc.Args {
		e, err := a.expr(n, argScope)
		if err != nil {
			return nil, err
		}
		args = append(args, e)
	}
	call, err := a.call("function", name, fs, args, fc.Location+1)
	if err != nil {
		return nil, err
	}
	f := call.(*FuncExpr)
	alias := name
	colName := name
	if rf.Alias != nil {
		alias, colName = rf.Alias.Aliasname, rf.Alias.Aliasname
	}
	p := &FunctionScan{Call: f, Name: name, Ordinality: rf.Ordinality,
		Cols: []Column{{Name: colName, Type: f.T}}}
	if rf.Ordinality {
		p.Cols = append(p.Cols, Column{Name: "ordinality", Type: types.Int8Type})
	}
	return p, addItem(scope, alias, p.Cols, rf.Alias)
}

// FunctionScan produces the rows of a set-returning function (its
// arguments evaluated when it opens), numbered when Ordinality.
type FunctionScan struct {
	Call       *FuncExpr
	Name       string
	Ordinality bool
	Cols       []Column
}

func (f *FunctionScan) Columns() []Column { return f.Cols }

func (f *FunctionScan) Open(ctx *EvalCtx) (Iter, error) {
	v, err := f.Call.Eval(ctx, nil)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return &sliceIter{}, nil
	}
	return &funcIter{next: v.(rowsFunc), ord: f.Ordinality}, nil
}

func (f *FunctionScan) Explain(e *Explainer) { e.Node("Function Scan on %s", f.Name) }

type funcIter struct {
	next rowsFunc
	ord  bool
	n    int64
}

func (f *funcIter) Next() (Row, error) {
	v, ok, err := f.next()
	if !ok || err != nil {
		return nil, err
	}
	f.n++
	if f.ord {
		return Row{v, f.n}, nil
	}
	return Row{v}, nil
}

func (f *funcIter) Close() error { return nil }
