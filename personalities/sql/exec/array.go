package exec

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// Arrays: ARRAY[...] constructors, subscripts and slices, x op ANY/ALL
// (array), and the array operators and functions.

// ArrayExpr is ARRAY[e1, e2, ...]; with Nested, each element is itself
// an array (ARRAY[[1,2],[3,4]]) and the result has one more dimension.
type ArrayExpr struct {
	Elems  []Expr
	T      types.Type
	Nested bool
}

func (x *ArrayExpr) Type() types.Type { return x.T }
func (x *ArrayExpr) Eval(ctx *EvalCtx, row Row) (any, error) {
	vals := make([]any, len(x.Elems))
	for i, e := range x.Elems {
		v, err := e.Eval(ctx, row)
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	elem := types.ElemOf(x.T.Oid)
	if !x.Nested {
		return types.NewArray(elem, vals), nil
	}
	out := &types.Array{Elem: elem}
	var sub *types.Array
	for _, v := range vals {
		a, _ := v.(*types.Array)
		if a == nil || len(a.Dims) == 0 {
			if sub != nil && len(sub.Dims) > 0 {
				return nil, errArrayDims
			}
			sub = &types.Array{}
			continue
		}
		if sub != nil && !sameShape(sub, a) {
			return nil, errArrayDims
		}
		sub = a
		out.Elems = append(out.Elems, a.Elems...)
	}
	if sub == nil || len(sub.Dims) == 0 {
		return out, nil
	}
	out.Dims = append([]int32{int32(len(vals))}, sub.Dims...)
	out.Lbounds = append([]int32{1}, sub.Lbounds...)
	return out, nil
}

var errArrayDims = pgerror.New(pgerror.ArraySubscriptError, "multidimensional arrays must have array expressions with matching dimensions")

func sameShape(a, b *types.Array) bool {
	if len(a.Dims) != len(b.Dims) {
		return false
	}
	for i := range a.Dims {
		if a.Dims[i] != b.Dims[i] || a.Lbounds[i] != b.Lbounds[i] {
			return false
		}
	}
	return true
}

// arrayExpr analyzes ARRAY[...]; want is the array type a cast around it
// asks for (its elements are coerced to want's element), or 0.
func (a *analyzer) arrayExpr(x *pg.A_ArrayExpr, s *Scope, want types.Type) (Expr, error) {
	if len(x.Elements) == 0 {
		if want.Oid == 0 {
			return nil, pgerror.New(pgerror.IndeterminateDatatype, "cannot determine type of empty array").WithPosition(x.Location + 1).
				WithHint("Explicitly cast to the desired type, for example ARRAY[]::integer[].")
		}
		return &Const{T: want, Value: &types.Array{Elem: types.ElemOf(want.Oid)}}, nil
	}
	out := &ArrayExpr{}
	for _, n := range x.Elements {
		var e Expr
		var err error
		if inner := n.GetAArrayExpr(); inner != nil {
			out.Nested = true
			e, err = a.arrayExpr(inner, s, want)
		} else {
			e, err = a.expr(n, s)
		}
		if err != nil {
			return nil, err
		}
		out.Elems = append(out.Elems, e)
	}
	var t types.Type
	var err error
	if want.Oid == 0 {
		if t, err = a.coerceCommon("ARRAY", out.Elems, x.Elements); err != nil {
			return nil, err
		}
		if t.Oid == types.OidUnknown {
			t = types.TextType
			for i := range out.Elems {
				out.Elems[i], _ = a.coerce(out.Elems[i], t, false)
			}
		}
	} else {
		t = types.T(types.ElemOf(want.Oid))
		if out.Nested {
			t = types.T(want.Oid)
		}
		for i := range out.Elems {
			if out.Elems[i], err = a.coerce(out.Elems[i], t, true); err != nil {
				return nil, err
			}
		}
	}
	if out.Nested {
		if types.ElemOf(t.Oid) == 0 {
			return nil, pgerror.New(pgerror.DatatypeMismatch, "multidimensional array elements must be arrays")
		}
		out.T = types.T(t.Oid)
		return out, nil
	}
	arr := types.ArrayOf(t.Oid)
	if arr == 0 {
		return nil, pgerror.New(pgerror.UndefinedObject, "could not find array type for data type %s", t).WithPosition(x.Location + 1)
	}
	out.T = types.T(arr)
	return out, nil
}

// Subscript is a[i], a[i][j] or a slice a[i:j].
type Subscript struct {
	Arg     Expr
	Lower   []Expr // nil entries: an omitted bound, or no lower bound (a[i])
	Upper   []Expr
	IsSlice bool
	T       types.Type
}

func (x *Subscript) Type() types.Type { return x.T }
func (x *Subscript) Eval(ctx *EvalCtx, row Row) (any, error) {
	v, err := x.Arg.Eval(ctx, row)
	if err != nil || v == nil {
		return nil, err
	}
	arr := v.(*types.Array)
	idx := func(e Expr) (int64, bool, error) {
		if e == nil {
			return 0, false, nil
		}
		v, err := e.Eval(ctx, row)
		if err != nil || v == nil {
			return 0, v != nil, err
		}
		return v.(int64), true, nil
	}
	n := len(x.Upper)
	lo, hi := make([]int64, n), make([]int64, n)
	for i := 0; i < n; i++ {
		u, ok, err := idx(x.Upper[i])
		if err != nil {
			return nil, err
		}
		if !ok && x.Upper[i] != nil {
			return nil, nil // a NULL subscript
		}
		l, lok, err := idx(x.Lower[i])
		if err != nil {
			return nil, err
		}
		if !lok && x.Lower[i] != nil {
			return nil, nil
		}
		if i < len(arr.Dims) {
			if x.Lower[i] == nil {
				l = int64(arr.Lbounds[i])
				if !x.IsSlice {
					l = u
				}
			}
			if x.Upper[i] == nil {
				u = int64(arr.Lbounds[i]) + int64(arr.Dims[i]) - 1
			}
		}
		if !x.IsSlice {
			l = u
		}
		lo[i], hi[i] = l, u
	}
	if !x.IsSlice {
		if n != len(arr.Dims) {
			return nil, nil
		}
		off := int64(0)
		for i := 0; i < n; i++ {
			p := lo[i] - int64(arr.Lbounds[i])
			if p < 0 || p >= int64(arr.Dims[i]) {
				return nil, nil
			}
			off = off*int64(arr.Dims[i]) + p
		}
		return arr.Elems[off], nil
	}
	// A slice: clamp each dimension's bounds to the array's; an empty
	// range gives an empty array.
	if n > len(arr.Dims) || len(arr.Dims) == 0 {
		return &types.Array{Elem: arr.Elem}, nil
	}
	nd := len(arr.Dims)
	from, to := make([]int64, nd), make([]int64, nd)
	for i := 0; i < nd; i++ {
		lb, ub := int64(arr.Lbounds[i]), int64(arr.Lbounds[i])+int64(arr.Dims[i])-1
		from[i], to[i] = lb, ub
		if i < n {
			from[i], to[i] = max(lo[i], lb), min(hi[i], ub)
		}
		if from[i] > to[i] {
			return &types.Array{Elem: arr.Elem}, nil
		}
	}
	out := &types.Array{Elem: arr.Elem}
	for i := 0; i < nd; i++ {
		out.Dims = append(out.Dims, int32(to[i]-from[i]+1))
		out.Lbounds = append(out.Lbounds, 1)
	}
	pos := append([]int64(nil), from...)
	for {
		off := int64(0)
		for i := 0; i < nd; i++ {
			off = off*int64(arr.Dims[i]) + pos[i] - int64(arr.Lbounds[i])
		}
		out.Elems = append(out.Elems, arr.Elems[off])
		i := nd - 1
		for i >= 0 {
			pos[i]++
			if pos[i] <= to[i] {
				break
			}
			pos[i] = from[i]
			i--
		}
		if i < 0 {
			break
		}
	}
	return out, nil
}

// indirection analyzes subscripts on an expression.
func (a *analyzer) indirection(x *pg.A_Indirection, s *Scope) (Expr, error) {
	arg, err := a.expr(x.Arg, s)
	if err != nil {
		return nil, err
	}
	sub := &Subscript{Arg: arg}
	for _, n := range x.Indirection {
		ind := n.GetAIndices()
		if ind == nil {
			return nil, a.unsupported(n)
		}
		if ind.IsSlice {
			sub.IsSlice = true
		}
		var lo, hi Expr
		for _, p := range []struct {
			n   *pg.Node
			dst *Expr
		}{{ind.Lidx, &lo}, {ind.Uidx, &hi}} {
			if p.n == nil {
				continue
			}
			e, err := a.expr(p.n, s)
			if err != nil {
				return nil, err
			}
			if e, err = a.coerce(e, types.Int4Type, false); err != nil {
				return nil, pgerror.New(pgerror.DatatypeMismatch, "array subscript must have type integer")
			}
			*p.dst = e
		}
		sub.Lower, sub.Upper = append(sub.Lower, lo), append(sub.Upper, hi)
	}
	t := arg.Type()
	if t.Oid == types.OidUnknown {
		return nil, pgerror.New(pgerror.DatatypeMismatch, "cannot subscript type unknown because it does not support subscripting")
	}
	elem := types.ElemOf(t.Oid)
	if elem == 0 {
		return nil, pgerror.New(pgerror.DatatypeMismatch, "cannot subscript type %s because it does not support subscripting", t).WithPosition(nodeLocation(x.Arg))
	}
	sub.T = types.Type{Oid: elem, Mod: t.Mod}
	if sub.IsSlice {
		sub.T = t
	}
	return sub, nil
}

// elemRef is the current element in x op ANY/ALL (array).
type elemRef struct {
	T   types.Type
	cur *any
}

func (e *elemRef) Type() types.Type                { return e.T }
func (e *elemRef) Eval(*EvalCtx, Row) (any, error) { return *e.cur, nil }

// ScalarArrayOp is x op ANY (array) or x op ALL (array).
type ScalarArrayOp struct {
	Left, Array Expr
	Op          Expr // the operator applied to Left and the current element
	All         bool
	cur         any
}

func (x *ScalarArrayOp) Type() types.Type { return types.BoolType }
func (x *ScalarArrayOp) Eval(ctx *EvalCtx, row Row) (any, error) {
	av, err := x.Array.Eval(ctx, row)
	if err != nil || av == nil {
		return nil, err
	}
	arr := av.(*types.Array)
	if len(arr.Elems) == 0 {
		return x.All, nil
	}
	sawNull := false
	for _, e := range arr.Elems {
		x.cur = e
		v, err := x.Op.Eval(ctx, row)
		if err != nil {
			return nil, err
		}
		switch {
		case v == nil:
			sawNull = true
		case v.(bool) != x.All:
			return !x.All, nil
		}
	}
	if sawNull {
		return nil, nil
	}
	return x.All, nil
}

// scalarArrayOp analyzes x op ANY/ALL (array).
func (a *analyzer) scalarArrayOp(x *pg.A_Expr, s *Scope, all bool) (Expr, error) {
	name := strVal(x.Name[len(x.Name)-1])
	left, err := a.expr(x.Lexpr, s)
	if err != nil {
		return nil, err
	}
	arr, err := a.expr(x.Rexpr, s)
	if err != nil {
		return nil, err
	}
	if arr.Type().Oid == types.OidUnknown {
		lt := left.Type().Oid
		if lt == types.OidUnknown {
			lt = types.OidText
		}
		if arr, err = a.coerce(arr, types.T(types.ArrayOf(lt)), false); err != nil {
			return nil, err
		}
	}
	elem := types.ElemOf(arr.Type().Oid)
	if elem == 0 {
		return nil, pgerror.New(pgerror.WrongObjectType, "op ANY/ALL (array) requires array on right side").WithPosition(x.Location + 1)
	}
	out := &ScalarArrayOp{Left: left, Array: arr, All: all}
	ref := &elemRef{T: types.T(elem), cur: &out.cur}
	op, err := a.operator(name, []Expr{left, ref}, x.Location+1)
	if err != nil {
		return nil, err
	}
	if op.Type().Oid != types.OidBool {
		return nil, pgerror.New(pgerror.WrongObjectType, "op ANY/ALL (array) requires operator to yield boolean").WithPosition(x.Location + 1)
	}
	out.Op = op
	return out, nil
}

// arrayContains reports whether every element of b equals some element
// of a (NULLs never match).
func arrayContains(a, b *types.Array) bool {
	for _, y := range b.Elems {
		found := false
		for _, x := range a.Elems {
			if x != nil && y != nil && types.Compare(a.Elem, x, y) == 0 {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func arr(v any) *types.Array { return v.(*types.Array) }

// catArrays is array_cat: a and b of the same dimensions (or b one less:
// appended as an element) joined along the first dimension.
func catArrays(a, b *types.Array) (any, error) {
	if a == nil {
		return b, nil
	}
	if b == nil {
		return a, nil
	}
	if len(a.Dims) == 0 {
		return b, nil
	}
	if len(b.Dims) == 0 {
		return a, nil
	}
	if len(a.Dims) != len(b.Dims) {
		return nil, pgerror.New(pgerror.ArraySubscriptError, "cannot concatenate incompatible arrays").
			WithDetail("Arrays of %d and %d dimensions are not compatible for concatenation.", len(a.Dims), len(b.Dims))
	}
	for i := 1; i < len(a.Dims); i++ {
		if a.Dims[i] != b.Dims[i] {
			return nil, pgerror.New(pgerror.ArraySubscriptError, "cannot concatenate incompatible arrays").
				WithDetail("Arrays with differing element dimensions are not compatible for concatenation.")
		}
	}
	out := &types.Array{Elem: a.Elem, Dims: append([]int32(nil), a.Dims...), Lbounds: append([]int32(nil), a.Lbounds...)}
	out.Dims[0] += b.Dims[0]
	out.Elems = append(append([]any(nil), a.Elems...), b.Elems...)
	return out, nil
}

// appendElem adds e at the end (or, front, the start) of a
// one-dimensional array.
func appendElem(a *types.Array, e any, elem types.Oid, front bool) (any, error) {
	if a == nil || len(a.Dims) == 0 {
		return types.NewArray(elem, []any{e}), nil
	}
	if len(a.Dims) != 1 {
		return nil, pgerror.New(pgerror.DataException, "argument must be empty or one-dimensional array")
	}
	out := &types.Array{Elem: a.Elem, Dims: []int32{a.Dims[0] + 1}, Lbounds: append([]int32(nil), a.Lbounds...)}
	if front {
		out.Elems = append([]any{e}, a.Elems...)
	} else {
		out.Elems = append(append([]any(nil), a.Elems...), e)
	}
	return out, nil
}

func init() {
	AA, AE, I4, TX := types.OidAnyArray, types.OidAnyElement, types.OidInt4, types.OidText
	for op, verdict := range cmpOps {
		verdict := verdict
		RegisterOp(op, &Func{Args: []types.Oid{AA, AA}, Ret: types.OidBool, Strict: true,
			Fn: func(_ *EvalCtx, a []any) (any, error) { return verdict(types.CompareArray(arr(a[0]), arr(a[1]))), nil }})
	}
	RegisterOp("@>", &Func{Args: []types.Oid{AA, AA}, Ret: types.OidBool, Strict: true,
		Fn: func(_ *EvalCtx, a []any) (any, error) { return arrayContains(arr(a[0]), arr(a[1])), nil }})
	RegisterOp("<@", &Func{Args: []types.Oid{AA, AA}, Ret: types.OidBool, Strict: true,
		Fn: func(_ *EvalCtx, a []any) (any, error) { return arrayContains(arr(a[1]), arr(a[0])), nil }})
	RegisterOp("&&", &Func{Args: []types.Oid{AA, AA}, Ret: types.OidBool, Strict: true,
		Fn: func(_ *EvalCtx, a []any) (any, error) {
			x, y := arr(a[0]), arr(a[1])
			for _, e := range y.Elems {
				if e != nil && arrayContains(x, types.NewArray(y.Elem, []any{e})) {
					return true, nil
				}
			}
			return false, nil
		}})
	optArr := func(v any) *types.Array {
		if v == nil {
			return nil
		}
		return arr(v)
	}
	cat := &Func{Name: "array_cat", Args: []types.Oid{AA, AA}, Ret: AA,
		Fn: func(_ *EvalCtx, a []any) (any, error) {
			if a[0] == nil && a[1] == nil {
				return nil, nil
			}
			return catArrays(optArr(a[0]), optArr(a[1]))
		}}
	RegisterFunc(cat)
	RegisterOp("||", &Func{Args: cat.Args, Ret: AA, Fn: cat.Fn})
	appendFn := &Func{Name: "array_append", Args: []types.Oid{AA, AE}, Ret: AA, CallExpr: func(_ *EvalCtx, fe *FuncExpr, a []any) (any, error) {
		return appendElem(optArr(a[0]), a[1], types.ElemOf(fe.T.Oid), false)
	}}
	prependFn := &Func{Name: "array_prepend", Args: []types.Oid{AE, AA}, Ret: AA, CallExpr: func(_ *EvalCtx, fe *FuncExpr, a []any) (any, error) {
		return appendElem(optArr(a[1]), a[0], types.ElemOf(fe.T.Oid), true)
	}}
	RegisterFunc(appendFn)
	RegisterFunc(prependFn)
	RegisterOp("||", &Func{Args: appendFn.Args, Ret: AA, CallExpr: appendFn.CallExpr})
	RegisterOp("||", &Func{Args: prependFn.Args, Ret: AA, CallExpr: prependFn.CallExpr})

	dimFn := func(name string, f func(a *types.Array, d int) any) {
		RegisterFunc(&Func{Name: name, Args: []types.Oid{AA, I4}, Ret: I4, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) {
			x, d := arr(a[0]), a[1].(int64)
			if d < 1 || d > int64(len(x.Dims)) {
				return nil, nil
			}
			return f(x, int(d-1)), nil
		}})
	}
	dimFn("array_length", func(a *types.Array, d int) any { return int64(a.Dims[d]) })
	dimFn("array_lower", func(a *types.Array, d int) any { return int64(a.Lbounds[d]) })
	dimFn("array_upper", func(a *types.Array, d int) any { return int64(a.Lbounds[d] + a.Dims[d] - 1) })
	RegisterFunc(&Func{Name: "cardinality", Args: []types.Oid{AA}, Ret: I4, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) {
		return int64(len(arr(a[0]).Elems)), nil
	}})
	RegisterFunc(&Func{Name: "array_ndims", Args: []types.Oid{AA}, Ret: I4, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) {
		if len(arr(a[0]).Dims) == 0 {
			return nil, nil
		}
		return int64(len(arr(a[0]).Dims)), nil
	}})
	RegisterFunc(&Func{Name: "array_dims", Args: []types.Oid{AA}, Ret: TX, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) {
		x := arr(a[0])
		if len(x.Dims) == 0 {
			return nil, nil
		}
		var b strings.Builder
		for i := range x.Dims {
			b.WriteString("[" + itoa(int(x.Lbounds[i])) + ":" + itoa(int(x.Lbounds[i]+x.Dims[i]-1)) + "]")
		}
		return b.String(), nil
	}})
	RegisterFunc(&Func{Name: "array_position", Args: []types.Oid{AA, AE}, Ret: I4, Fn: func(_ *EvalCtx, a []any) (any, error) {
		if a[0] == nil {
			return nil, nil
		}
		x := arr(a[0])
		if len(x.Dims) > 1 {
			return nil, pgerror.New(pgerror.FeatureNotSupported, "searching for elements in multidimensional arrays is not supported")
		}
		for i, e := range x.Elems {
			if (e == nil && a[1] == nil) || (e != nil && a[1] != nil && types.Compare(x.Elem, e, a[1]) == 0) {
				return int64(i) + int64(x.Lbounds[0]), nil
			}
		}
		return nil, nil
	}})
	RegisterFunc(&Func{Name: "array_remove", Args: []types.Oid{AA, AE}, Ret: AA, Fn: func(_ *EvalCtx, a []any) (any, error) {
		if a[0] == nil {
			return nil, nil
		}
		x := arr(a[0])
		if len(x.Dims) > 1 {
			return nil, pgerror.New(pgerror.FeatureNotSupported, "removing elements from multidimensional arrays is not supported")
		}
		var keep []any
		for _, e := range x.Elems {
			if (e == nil && a[1] == nil) || (e != nil && a[1] != nil && types.Compare(x.Elem, e, a[1]) == 0) {
				continue
			}
			keep = append(keep, e)
		}
		return types.NewArray(x.Elem, keep), nil
	}})
	toString := func(ctx *EvalCtx, fe *FuncExpr, a []any) (any, error) {
		if a[0] == nil || a[1] == nil {
			return nil, nil
		}
		x, sep := arr(a[0]), a[1].(string)
		var nullStr *string
		if len(a) == 3 && a[2] != nil {
			s := a[2].(string)
			nullStr = &s
		}
		var parts []string
		for _, e := range x.Elems {
			if e == nil {
				if nullStr != nil {
					parts = append(parts, *nullStr)
				}
				continue
			}
			parts = append(parts, types.Format(types.T(x.Elem), e, settings(ctx)))
		}
		return strings.Join(parts, sep), nil
	}
	RegisterFunc(&Func{Name: "array_to_string", Args: []types.Oid{AA, TX}, Ret: TX, CallExpr: toString})
	RegisterFunc(&Func{Name: "array_to_string", Args: []types.Oid{AA, TX, TX}, Ret: TX, CallExpr: toString})
	fromString := func(_ *EvalCtx, a []any) (any, error) {
		if a[0] == nil {
			return nil, nil
		}
		s := a[0].(string)
		var parts []string
		switch {
		case s == "":
			return &types.Array{Elem: TX}, nil
		case a[1] == nil:
			for _, r := range s {
				parts = append(parts, string(r))
			}
		case a[1].(string) == "":
			parts = []string{s}
		default:
			parts = strings.Split(s, a[1].(string))
		}
		elems := make([]any, len(parts))
		for i, p := range parts {
			elems[i] = p
			if len(a) == 3 && a[2] != nil && p == a[2].(string) {
				elems[i] = nil
			}
		}
		return types.NewArray(TX, elems), nil
	}
	RegisterFunc(&Func{Name: "string_to_array", Args: []types.Oid{TX, TX}, Ret: types.ArrayOf(TX), Fn: fromString})
	RegisterFunc(&Func{Name: "string_to_array", Args: []types.Oid{TX, TX, TX}, Ret: types.ArrayOf(TX), Fn: fromString})
}
