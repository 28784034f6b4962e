package exec

import (
	"math"

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

// numRound rounds (or with trunc, truncates) to scale digits after the
// point; a negative scale rounds to the left of the point.
func numRound(x *apd.Decimal, scale int64, trunc bool) (any, error) {
	if x.Form != apd.Finite {
		return new(apd.Decimal).Set(x), nil
	}
	scale = max(min(scale, 1000), -1000)
	c := *numCtx
	if trunc {
		c.Rounding = apd.RoundDown
	}
	r := new(apd.Decimal)
	if _, err := c.Quantize(r, x, int32(-scale)); err != nil {
		return nil, pgerror.New(pgerror.NumericValueOutOfRange, "value overflows numeric format")
	}
	if scale < 0 {
		// Keep scale 0: 1234 rounded to -2 prints 1200.
		numCtx.Quantize(r, r, 0)
	}
	if r.IsZero() {
		r.Negative = false
	}
	return r, nil
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

	one := func(name string, f func(x *apd.Decimal) (any, error)) {
		RegisterFunc(&Func{Name: name, Args: []types.Oid{n}, Ret: n, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) { return f(num(a[0])) }})
	}
	one("round", func(x *apd.Decimal) (any, error) { return numRound(x, 0, false) })
	one("trunc", func(x *apd.Decimal) (any, error) { return numRound(x, 0, true) })
	one("abs", func(x *apd.Decimal) (any, error) { return new(apd.Decimal).Abs(x), nil })
	RegisterFunc(&Func{Name: "scale", Args: []types.Oid{n}, Ret: types.OidInt4, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) {
		if num(a[0]).Form != apd.Finite {
			return nil, nil
		}
		return int64(types.NumericScale(num(a[0]))), nil
	}})
	for _, name := range []string{"ceil", "ceiling", "floor"} {
		floor := name == "floor"
		one(name, func(x *apd.Decimal) (any, error) {
			if x.Form != apd.Finite {
				return new(apd.Decimal).Set(x), nil
			}
			r := new(apd.Decimal)
			if floor {
				numCtx.Floor(r, x)
			} else {
				numCtx.Ceil(r, x)
			}
			numCtx.Quantize(r, r, 0)
			if r.IsZero() {
				r.Negative = false
			}
			return r, nil
		})
	}
	one("sign", func(x *apd.Decimal) (any, error) {
		if isNaN(x) {
			return newNaN(), nil
		}
		return apd.New(int64(x.Sign()), 0), nil
	})
	one("sqrt", func(x *apd.Decimal) (any, error) {
		if isNaN(x) {
			return newNaN(), nil
		}
		if x.Sign() < 0 {
			return nil, pgerror.New(pgerror.InvalidArgumentForPowerFunction, "cannot take square root of a negative number")
		}
		if x.Form == apd.Infinite {
			return new(apd.Decimal).Set(x), nil
		}
		// Postgres: at least 16 significant digits, no less than the
		// input's scale.
		e := int32(x.NumDigits()) + x.Exponent - 1 // decimal exponent
		scale := max(int32(16)-(e/2+1), types.NumericScale(x), 0)
		r := new(apd.Decimal)
		c := numCtx.WithPrecision(uint32(max(e/2+1, 1) + scale + 5))
		if _, err := c.Sqrt(r, x); err != nil {
			return nil, err
		}
		return numResult(r, min(scale, 1000))
	})
	RegisterFunc(&Func{Name: "round", Args: []types.Oid{n, types.OidInt4}, Ret: n, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) {
		return numRound(num(a[0]), a[1].(int64), false)
	}})
	RegisterFunc(&Func{Name: "trunc", Args: []types.Oid{n, types.OidInt4}, Ret: n, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) {
		return numRound(num(a[0]), a[1].(int64), true)
	}})
	RegisterFunc(&Func{Name: "mod", Args: nn, Ret: n, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) { return numMod(num(a[0]), num(a[1])) }})
	RegisterFunc(&Func{Name: "div", Args: nn, Ret: n, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) {
		x, y := num(a[0]), num(a[1])
		if isNaN(x) || isNaN(y) {
			return newNaN(), nil
		}
		if y.Form == apd.Finite && y.IsZero() {
			return nil, errDivZero
		}
		r := new(apd.Decimal)
		if _, err := numCtx.QuoInteger(r, x, y); err != nil {
			return nil, pgerror.New(pgerror.NumericValueOutOfRange, "value overflows numeric format")
		}
		return numResult(r, 0)
	}})

	// The float versions of the rounding functions, and abs of every
	// numeric type.
	f8 := types.OidFloat8
	fone := func(name string, f func(float64) float64) {
		RegisterFunc(&Func{Name: name, Args: []types.Oid{f8}, Ret: f8, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) { return f(a[0].(float64)), nil }})
	}
	fone("round", math.RoundToEven)
	fone("trunc", math.Trunc)
	fone("ceil", math.Ceil)
	fone("ceiling", math.Ceil)
	fone("floor", math.Floor)
	fone("abs", math.Abs)
	fone("sign", func(f float64) float64 {
		switch {
		case f > 0:
			return 1
		case f < 0:
			return -1
		}
		return 0
	})
	for _, t := range []types.Oid{types.OidInt2, types.OidInt4, types.OidInt8} {
		t := t
		RegisterFunc(&Func{Name: "abs", Args: []types.Oid{t}, Ret: t, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) {
			v := a[0].(int64)
			if v < 0 {
				return checkInt(t, 0, v, subInt)
			}
			return v, nil
		}})
		RegisterFunc(&Func{Name: "mod", Args: []types.Oid{t, t}, Ret: t, Strict: true, Fn: intOp(t, modInt, true)})
	}
	RegisterFunc(&Func{Name: "abs", Args: []types.Oid{types.OidFloat4}, Ret: types.OidFloat4, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) { return math.Abs(a[0].(float64)), nil }})
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
