package exec

import (
	"github.com/cockroachdb/apd/v3"

	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// numeric arithmetic and the numeric functions, with Postgres's result
// scales: + and - keep the larger scale, * the sum of the scales, / the
// scale select_div_scale picks, % the larger scale.

var numCtx = types.NumericCtx

func isNaN(d *apd.Decimal) bool { return d.Form == apd.NaN || d.Form == apd.NaNSignaling }

func newNaN() *apd.Decimal { return &apd.Decimal{Form: apd.NaN} }

// numResult rounds r to scale (half away from zero) and normalizes it.
func numResult(r *apd.Decimal, scale int32) (any, error) {
	if r.Form == apd.Finite {
		if _, err := numCtx.Quantize(r, r, -scale); err != nil {
			return nil, pgerror.New(pgerror.NumericValueOutOfRange, "value overflows numeric format")
		}
		if r.IsZero() {
			r.Negative = false
		}
	}
	return r, nil
}

func numAdd(x, y *apd.Decimal, sub bool) (any, error) {
	if isNaN(x) || isNaN(y) {
		return newNaN(), nil
	}
	if x.Form == apd.Infinite && y.Form == apd.Infinite && (x.Negative != y.Negative) != sub {
		return newNaN(), nil
	}
	r := new(apd.Decimal)
	var err error
	if sub {
		_, err = numCtx.Sub(r, x, y)
	} else {
		_, err = numCtx.Add(r, x, y)
	}
	if err != nil {
		return nil, pgerror.New(pgerror.NumericValueOutOfRange, "value overflows numeric format")
	}
	return numResult(r, max(types.NumericScale(x), types.NumericScale(y)))
}

func numMul(x, y *apd.Decimal) (any, error) {
	if isNaN(x) || isNaN(y) {
		return newNaN(), nil
	}
	if (x.Form == apd.Infinite && y.IsZero() && y.Form == apd.Finite) || (y.Form == apd.Infinite && x.IsZero() && x.Form == apd.Finite) {
		return newNaN(), nil
	}
	r := new(apd.Decimal)
	if _, err := numCtx.Mul(r, x, y); err != nil {
		return nil, pgerror.New(pgerror.NumericValueOutOfRange, "value overflows numeric format")
	}
	return numResult(r, min(types.NumericScale(x)+types.NumericScale(y), 1000))
}

// numQuo divides to scale digits, rounding half away from zero.
func numQuo(x, y *apd.Decimal, scale int32) (*apd.Decimal, error) {
	// Truncate at a few more digits than needed, then round: exact.
	intDigits := int64(x.NumDigits()) + int64(x.Exponent) - (int64(y.NumDigits()) + int64(y.Exponent)) + 2
	prec := max(intDigits, 0) + int64(scale) + 4
	c := numCtx.WithPrecision(uint32(prec))
	c.Rounding = apd.RoundDown
	r := new(apd.Decimal)
	if _, err := c.Quo(r, x, y); err != nil {
		return nil, pgerror.New(pgerror.NumericValueOutOfRange, "value overflows numeric format")
	}
	if _, err := numCtx.Quantize(r, r, -scale); err != nil {
		return nil, pgerror.New(pgerror.NumericValueOutOfRange, "value overflows numeric format")
	}
	if r.IsZero() {
		r.Negative = false
	}
	return r, nil
}

func numDiv(x, y *apd.Decimal) (any, error) {
	if isNaN(x) || isNaN(y) {
		return newNaN(), nil
	}
	if y.Form == apd.Finite && y.IsZero() {
		return nil, errDivZero
	}
	switch {
	case x.Form == apd.Infinite && y.Form == apd.Infinite:
		return newNaN(), nil
	case x.Form == apd.Infinite:
		return &apd.Decimal{Form: apd.Infinite, Negative: x.Negative != y.Negative}, nil
	case y.Form == apd.Infinite:
		return apd.New(0, 0), nil
	}
	return numQuo(x, y, types.NumericDivScale(x, y))
}

func numMod(x, y *apd.Decimal) (any, error) {
	if isNaN(x) || isNaN(y) {
		return newNaN(), nil
	}
	if y.Form == apd.Finite && y.IsZero() {
		return nil, errDivZero
	}
	if x.Form == apd.Infinite {
		return newNaN(), nil
	}
	if y.Form == apd.Infinite {
		return new(apd.Decimal).Set(x), nil
	}
	r := new(apd.Decimal)
	if _, err := numCtx.Rem(r, x, y); err != nil {
		return nil, pgerror.New(pgerror.NumericValueOutOfRange, "value overflows numeric format")
	}
	return numResult(r, max(types.NumericScale(x), types.NumericScale(y)))
}

func num(a any) *apd.Decimal { return a.(*apd.Decimal) }

func init() {
	n := types.OidNumeric
	nn := []types.Oid{n, n}
	RegisterOp("+", &Func{Args: nn, Ret: n, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) { return numAdd(num(a[0]), num(a[1]), false) }})
	RegisterOp("-", &Func{Args: nn, Ret: n, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) { return numAdd(num(a[0]), num(a[1]), true) }})
	RegisterOp("*", &Func{Args: nn, Ret: n, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) { return numMul(num(a[0]), num(a[1])) }})
	RegisterOp("/", &Func{Args: nn, Ret: n, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) { return numDiv(num(a[0]), num(a[1])) }})
	RegisterOp("%", &Func{Args: nn, Ret: n, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) { return numMod(num(a[0]), num(a[1])) }})
	RegisterOp("-", &Func{Args: []types.Oid{n}, Ret: n, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) {
		r := new(apd.Decimal).Neg(num(a[0]))
		if isNaN(r) || r.Form == apd.Finite && r.IsZero() {
			r.Negative = false
		}
		return r, nil
	}})
	RegisterOp("+", &Func{Args: []types.Oid{n}, Ret: n, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) { return a[0], nil }})

	// The rounding, sign and modulo functions are in funcs_math.go.
	RegisterFunc(&Func{Name: "scale", Args: []types.Oid{n}, Ret: types.OidInt4, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) {
		if num(a[0]).Form != apd.Finite {
			return nil, nil
		}
		return int64(types.NumericScale(num(a[0]))), nil
	}})
	RegisterFunc(&Func{Name: "sqrt", Args: []types.Oid{n}, Ret: n, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) { return numSqrt(num(a[0])) }})
}

// numSqrt is sqrt(numeric): at least 16 significant digits and no less
// than the argument's scale, as Postgres computes it.
func numSqrt(x *apd.Decimal) (any, error) {
	if isNaN(x) {
		return newNaN(), nil
	}
	if x.Sign() < 0 {
		return nil, pgerror.New(pgerror.InvalidArgumentForPowerFunction, "cannot take square root of a negative number")
	}
	if x.Form == apd.Infinite {
		return new(apd.Decimal).Set(x), nil
	}
	e := int32(x.NumDigits()) + x.Exponent - 1 // decimal exponent
	scale := max(int32(16)-(e/2+1), types.NumericScale(x), 0)
	r := new(apd.Decimal)
	c := numCtx.WithPrecision(uint32(max(e/2+1, 1) + scale + 5))
	if _, err := c.Sqrt(r, x); err != nil {
		return nil, err
	}
	return numResult(r, min(scale, 1000))
}

func init() {
	// float4 with float8: the float8 operators (float48 and float84 in
	// Postgres), so that float4 / 3 divides in double precision.
	f4, f8 := types.OidFloat4, types.OidFloat8
	arith := map[string]func(x, y float64) float64{
		"+": func(x, y float64) float64 { return x + y },
		"-": func(x, y float64) float64 { return x - y },
		"*": func(x, y float64) float64 { return x * y },
		"/": func(x, y float64) float64 { return x / y },
	}
	for _, pair := range [][]types.Oid{{f4, f8}, {f8, f4}} {
		for op, f := range arith {
			div := op == "/"
			calc := floatOp(f8, f)
			RegisterOp(op, &Func{Args: pair, Ret: f8, Strict: true, Fn: func(ctx *EvalCtx, a []any) (any, error) {
				if div && a[1].(float64) == 0 {
					return nil, errDivZero
				}
				return calc(ctx, a)
			}})
		}
		for op, verdict := range cmpOps {
			verdict := verdict
			RegisterOp(op, &Func{Args: pair, Ret: types.OidBool, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) {
				return verdict(types.Compare(f8, a[0], a[1])), nil
			}})
		}
	}
}
