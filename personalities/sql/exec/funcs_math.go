package exec

import (
	"math"

	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// The float8 mathematical functions beyond numeric.go's: sqrt, cbrt,
// exp, ln, log, power, pi, degrees, radians, random. The numeric forms of
// cbrt, exp, ln, log and power are not built: those calls resolve to the
// float8 forms (a numeric argument converts implicitly), so their results
// are float8 where Postgres's are numeric.
// setseed is refused: random() is seeded per statement from the log
// entry, so that every replica draws the same values.

func init() {
	F := types.OidFloat8
	float1 := func(name string, f func(x float64) (float64, error)) {
		RegisterFunc(&Func{Name: name, Args: []types.Oid{F}, Ret: F, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) { return f(a[0].(float64)) }})
	}
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

}
