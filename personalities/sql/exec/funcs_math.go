package exec

import (
	"math"

	"github.com/cockroachdb/apd/v3"

	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// The mathematical functions over the integer, float8 and numeric types.
// The numeric forms of sqrt, cbrt, exp, ln, log and power are not built:
// those calls resolve to the float8 forms (a numeric argument converts
// implicitly), so their results are float8 where Postgres's are numeric.
// setseed is refused: random() is seeded per statement from the log
// entry, so that every replica draws the same values.

func init() {
	F, N := types.OidFloat8, types.OidNumeric
	float1 := func(name string, f func(x float64) (float64, error)) {
		RegisterFunc(&Func{Name: name, Args: []types.Oid{F}, Ret: F, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) { return f(a[0].(float64)) }})
	}
	num1 := func(name string, f func(x *apd.Decimal) (any, error)) {
		RegisterFunc(&Func{Name: name, Args: []types.Oid{N}, Ret: N, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) { return f(a[0].(*apd.Decimal)) }})
	}
	for _, t := range []types.Oid{types.OidInt2, types.OidInt4, types.OidInt8} {
		t := t
		RegisterFunc(&Func{Name: "abs", Args: []types.Oid{t}, Ret: t, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) {
			x := a[0].(int64)
			if x < 0 {
				return checkInt(t, 0, x, subInt)
			}
			return x, nil
		}})
		RegisterFunc(&Func{Name: "mod", Args: []types.Oid{t, t}, Ret: t, Strict: true, Fn: intOp(t, modInt, true)})
	}
	RegisterFunc(&Func{Name: "abs", Args: []types.Oid{types.OidFloat4}, Ret: types.OidFloat4, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) { return math.Abs(a[0].(float64)), nil }})
	float1("abs", func(x float64) (float64, error) { return math.Abs(x), nil })
	num1("abs", func(x *apd.Decimal) (any, error) { return new(apd.Decimal).Abs(x), nil })
	float1("round", func(x float64) (float64, error) { return math.RoundToEven(x), nil })
	float1("trunc", func(x float64) (float64, error) { return math.Trunc(x), nil })
	float1("floor", func(x float64) (float64, error) { return math.Floor(x), nil })
	float1("ceil", func(x float64) (float64, error) { return math.Ceil(x), nil })
	float1("ceiling", func(x float64) (float64, error) { return math.Ceil(x), nil })
	float1("sign", func(x float64) (float64, error) {
		switch {
		case x > 0:
			return 1, nil
		case x < 0:
			return -1, nil
		}
		return 0, nil
	})
	float1("sqrt", func(x float64) (float64, error) {
		if x < 0 {
			return 0, pgerror.New(pgerror.InvalidArgumentForPowerFunction, "cannot take square root of a negative number")
		}
		return math.Sqrt(x), nil
	})
	float1("cbrt", func(x float64) (float64, error) { return math.Cbrt(x), nil })
	float1("exp", func(x float64) (float64, error) {
		r := math.Exp(x)
		if math.IsInf(r, 0) && !math.IsInf(x, 0) {
			return 0, pgerror.New(pgerror.NumericValueOutOfRange, "value out of range: overflow")
		}
		if r == 0 && !math.IsInf(x, 0) {
			return 0, pgerror.New(pgerror.NumericValueOutOfRange, "value out of range: underflow")
		}
		return r, nil
	})
	logf := func(base func(float64) float64) func(x float64) (float64, error) {
		return func(x float64) (float64, error) {
			if x == 0 {
				return 0, pgerror.New(pgerror.InvalidArgumentForLogarithm, "cannot take logarithm of zero")
			}
			if x < 0 {
				return 0, pgerror.New(pgerror.InvalidArgumentForLogarithm, "cannot take logarithm of a negative number")
			}
			return base(x), nil
		}
	}
	float1("ln", logf(math.Log))
	float1("log", logf(math.Log10))
	float1("log10", logf(math.Log10))
	for _, name := range []string{"power", "pow"} {
		RegisterFunc(&Func{Name: name, Args: []types.Oid{F, F}, Ret: F, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) {
			x, y := a[0].(float64), a[1].(float64)
			if x == 0 && y < 0 {
				return nil, pgerror.New(pgerror.InvalidArgumentForPowerFunction, "zero raised to a negative power is undefined")
			}
			if x < 0 && y != math.Trunc(y) {
				return nil, pgerror.New(pgerror.InvalidArgumentForPowerFunction, "a negative number raised to a non-integer power yields a complex result")
			}
			r := math.Pow(x, y)
			if math.IsInf(r, 0) && !math.IsInf(x, 0) && !math.IsInf(y, 0) {
				return nil, pgerror.New(pgerror.NumericValueOutOfRange, "value out of range: overflow")
			}
			return r, nil
		}})
	}
	RegisterFunc(&Func{Name: "pi", Ret: F, Fn: func(*EvalCtx, []any) (any, error) { return math.Pi, nil }})
	RegisterFunc(&Func{Name: "random", Ret: F, Fn: func(ctx *EvalCtx, _ []any) (any, error) { return ctx.Env.Rand().Float64(), nil }})
	RegisterFunc(&Func{Name: "setseed", Args: []types.Oid{F}, Ret: types.OidVoid, Fn: func(*EvalCtx, []any) (any, error) {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "setseed is not supported").
			WithDetail("random() is seeded per statement so that every replica computes the same values.")
	}})
	RegisterFunc(&Func{Name: "degrees", Args: []types.Oid{F}, Ret: F, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) { return a[0].(float64) * 180 / math.Pi, nil }})
	RegisterFunc(&Func{Name: "radians", Args: []types.Oid{F}, Ret: F, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) { return a[0].(float64) * math.Pi / 180, nil }})

	// numeric
	roundN := func(x *apd.Decimal, scale int64, mode apd.Rounder) (any, error) {
		scale = max(min(scale, 1000), -1000)
		r := new(apd.Decimal)
		c := *numCtx // a copy: numCtx is shared
		c.Rounding = mode
		if _, err := c.Quantize(r, x, int32(-scale)); err != nil {
			return nil, pgerror.New(pgerror.NumericValueOutOfRange, "value overflows numeric format")
		}
		if scale < 0 {
			// Postgres keeps no negative scale: 1234 rounded to -2 prints 1200.
			if _, err := c.Quantize(r, r, 0); err != nil {
				return nil, pgerror.New(pgerror.NumericValueOutOfRange, "value overflows numeric format")
			}
		}
		return r, nil
	}
	num1("round", func(x *apd.Decimal) (any, error) { return roundN(x, 0, apd.RoundHalfUp) })
	num1("trunc", func(x *apd.Decimal) (any, error) { return roundN(x, 0, apd.RoundDown) })
	RegisterFunc(&Func{Name: "round", Args: []types.Oid{N, types.OidInt4}, Ret: N, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) {
		return roundN(a[0].(*apd.Decimal), a[1].(int64), apd.RoundHalfUp)
	}})
	RegisterFunc(&Func{Name: "trunc", Args: []types.Oid{N, types.OidInt4}, Ret: N, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) {
		return roundN(a[0].(*apd.Decimal), a[1].(int64), apd.RoundDown)
	}})
	num1("floor", func(x *apd.Decimal) (any, error) { return roundN(x, 0, apd.RoundFloor) })
	num1("ceil", func(x *apd.Decimal) (any, error) { return roundN(x, 0, apd.RoundCeiling) })
	num1("ceiling", func(x *apd.Decimal) (any, error) { return roundN(x, 0, apd.RoundCeiling) })
	num1("sign", func(x *apd.Decimal) (any, error) { return apd.New(int64(x.Sign()), 0), nil })
	RegisterFunc(&Func{Name: "mod", Args: []types.Oid{N, N}, Ret: N, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) {
		x, y := a[0].(*apd.Decimal), a[1].(*apd.Decimal)
		if y.IsZero() {
			return nil, errDivZero
		}
		r := new(apd.Decimal)
		_, err := numCtx.Rem(r, x, y)
		return r, err
	}})
	RegisterFunc(&Func{Name: "div", Args: []types.Oid{N, N}, Ret: N, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) {
		x, y := a[0].(*apd.Decimal), a[1].(*apd.Decimal)
		if y.IsZero() {
			return nil, errDivZero
		}
		r := new(apd.Decimal)
		_, err := numCtx.QuoInteger(r, x, y)
		return r, err
	}})
}
