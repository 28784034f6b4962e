package exec

import (
	"math"

	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// The comparison operators of every type with a btree order, and the
// arithmetic of the integer and float types.

var comparable = []types.Oid{
	types.OidBool, types.OidInt2, types.OidInt4, types.OidInt8, types.OidFloat4, types.OidFloat8,
	types.OidNumeric, types.OidText, types.OidVarchar, types.OidBpchar, types.OidName, types.OidChar,
	types.OidBytea, types.OidDate, types.OidTime, types.OidTimestamp, types.OidTimestamptz,
	types.OidInterval, types.OidUUID, types.OidJsonb, types.OidOid, types.OidRegclass, types.OidRegtype,
	types.OidRegproc, types.OidRegnamespace, types.OidRegrole,
}

// cmpOps maps a comparison operator to its verdict on Compare's result.
var cmpOps = map[string]func(int) bool{
	"=":  func(c int) bool { return c == 0 },
	"<>": func(c int) bool { return c != 0 },
	"<":  func(c int) bool { return c < 0 },
	"<=": func(c int) bool { return c <= 0 },
	">":  func(c int) bool { return c > 0 },
	">=": func(c int) bool { return c >= 0 },
}

func init() {
	for _, t := range comparable {
		for op, verdict := range cmpOps {
			t, verdict := t, verdict
			RegisterOp(op, &Func{Args: []types.Oid{t, t}, Ret: types.OidBool, Strict: true,
				Fn: func(_ *EvalCtx, a []any) (any, error) { return verdict(types.Compare(t, a[0], a[1])), nil }})
		}
	}
	// Integers of different widths compare directly, as Postgres's
	// cross-type operators do.
	ints := []types.Oid{types.OidInt2, types.OidInt4, types.OidInt8}
	for _, l := range ints {
		for _, r := range ints {
			if l == r {
				continue
			}
			for op, verdict := range cmpOps {
				verdict := verdict
				RegisterOp(op, &Func{Args: []types.Oid{l, r}, Ret: types.OidBool, Strict: true,
					Fn: func(_ *EvalCtx, a []any) (any, error) {
						return verdict(types.Compare(types.OidInt8, a[0], a[1])), nil
					}})
			}
		}
	}
	for _, t := range ints {
		t := t
		RegisterOp("+", &Func{Args: []types.Oid{t, t}, Ret: t, Strict: true, Fn: intOp(t, addInt, false)})
		RegisterOp("-", &Func{Args: []types.Oid{t, t}, Ret: t, Strict: true, Fn: intOp(t, subInt, false)})
		RegisterOp("*", &Func{Args: []types.Oid{t, t}, Ret: t, Strict: true, Fn: intOp(t, mulInt, false)})
		RegisterOp("/", &Func{Args: []types.Oid{t, t}, Ret: t, Strict: true, Fn: intOp(t, divInt, true)})
		RegisterOp("%", &Func{Args: []types.Oid{t, t}, Ret: t, Strict: true, Fn: intOp(t, modInt, true)})
		RegisterOp("-", &Func{Args: []types.Oid{t}, Ret: t, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) {
			return checkInt(t, 0, a[0].(int64), subInt)
		}})
		RegisterOp("+", &Func{Args: []types.Oid{t}, Ret: t, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) { return a[0], nil }})
	}
	for _, t := range []types.Oid{types.OidFloat4, types.OidFloat8} {
		t := t
		RegisterOp("+", &Func{Args: []types.Oid{t, t}, Ret: t, Strict: true, Fn: floatOp(t, func(x, y float64) float64 { return x + y })})
		RegisterOp("-", &Func{Args: []types.Oid{t, t}, Ret: t, Strict: true, Fn: floatOp(t, func(x, y float64) float64 { return x - y })})
		RegisterOp("*", &Func{Args: []types.Oid{t, t}, Ret: t, Strict: true, Fn: floatOp(t, func(x, y float64) float64 { return x * y })})
		RegisterOp("/", &Func{Args: []types.Oid{t, t}, Ret: t, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) {
			if a[1].(float64) == 0 {
				return nil, pgerror.New(pgerror.DivisionByZero, "division by zero")
			}
			return floatOp(t, func(x, y float64) float64 { return x / y })(nil, a)
		}})
		RegisterOp("-", &Func{Args: []types.Oid{t}, Ret: t, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) { return -a[0].(float64), nil }})
		RegisterOp("+", &Func{Args: []types.Oid{t}, Ret: t, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) { return a[0], nil }})
	}
	RegisterOp("||", &Func{Args: []types.Oid{types.OidText, types.OidText}, Ret: types.OidText, Strict: true,
		Fn: func(_ *EvalCtx, a []any) (any, error) { return a[0].(string) + a[1].(string), nil }})
}

// Integer operations report overflow of int64 itself; checkInt then
// range-checks the result for the operand type.

func addInt(x, y int64) (int64, bool) {
	s := x + y
	return s, (x > 0 && y > 0 && s < 0) || (x < 0 && y < 0 && s >= 0)
}

func subInt(x, y int64) (int64, bool) {
	d := x - y
	return d, (x >= 0 && y < 0 && d < 0) || (x < 0 && y > 0 && d >= 0)
}

func mulInt(x, y int64) (int64, bool) {
	if x == 0 || y == 0 {
		return 0, false
	}
	p := x * y
	return p, p/y != x || (x == -1 && y == math.MinInt64) || (y == -1 && x == math.MinInt64)
}

// divInt and modInt: REQUIRES y != 0 (intOp checks).
func divInt(x, y int64) (int64, bool) {
	if x == math.MinInt64 && y == -1 {
		return 0, true
	}
	return x / y, false
}

func modInt(x, y int64) (int64, bool) {
	if y == -1 {
		return 0, false
	}
	return x % y, false
}

var errDivZero = pgerror.New(pgerror.DivisionByZero, "division by zero")

// checkInt applies op and range-checks the result for type t.
func checkInt(t types.Oid, x, y int64, op func(x, y int64) (int64, bool)) (any, error) {
	r, overflow := op(x, y)
	if !overflow {
		var lo, hi int64 = math.MinInt64, math.MaxInt64
		switch t {
		case types.OidInt2:
			lo, hi = math.MinInt16, math.MaxInt16
		case types.OidInt4:
			lo, hi = math.MinInt32, math.MaxInt32
		}
		overflow = r < lo || r > hi
	}
	if overflow {
		return nil, pgerror.New(pgerror.NumericValueOutOfRange, "%s out of range", types.FormatType(t, -1))
	}
	return r, nil
}

// intOp is a binary integer operator; division-like ones (divides) fail
// on a zero divisor.
func intOp(t types.Oid, op func(x, y int64) (int64, bool), divides bool) func(*EvalCtx, []any) (any, error) {
	return func(_ *EvalCtx, a []any) (any, error) {
		x, y := a[0].(int64), a[1].(int64)
		if divides && y == 0 {
			return nil, errDivZero
		}
		return checkInt(t, x, y, op)
	}
}

func floatOp(t types.Oid, op func(x, y float64) float64) func(*EvalCtx, []any) (any, error) {
	return func(_ *EvalCtx, a []any) (any, error) {
		x, y := a[0].(float64), a[1].(float64)
		r := op(x, y)
		if math.IsInf(r, 0) && !math.IsInf(x, 0) && !math.IsInf(y, 0) {
			return nil, pgerror.New(pgerror.NumericValueOutOfRange, "value out of range: overflow")
		}
		if t == types.OidFloat4 {
			r32 := float32(r)
			if math.IsInf(float64(r32), 0) && !math.IsInf(r, 0) {
				return nil, pgerror.New(pgerror.NumericValueOutOfRange, "value out of range: overflow")
			}
			r = float64(r32)
		}
		return r, nil
	}
}
