package keyspace

import (
	"math"
	"math/big"
)

// Fast correctly rounded sine, cosine and arcsine: each is computed in
// double-double arithmetic (about 106 bits) with a bound on its error,
// and returned when every value within that bound rounds to the same
// double (Ziv's test). Otherwise, which is rare, the 128-bit math/big
// versions in geomath.go decide. A call costs about a microsecond.

// dd is a double-double: the unevaluated sum hi+lo, with |lo| at most
// half a unit in the last place of hi.
type dd struct{ hi, lo float64 }

// twoSum returns a+b exactly, as a double-double.
func twoSum(a, b float64) dd {
	s := a + b
	bb := s - a
	return dd{s, (a - (s - bb)) + (b - bb)}
}

// fastTwoSum is twoSum for |a| >= |b| (or a == 0).
func fastTwoSum(a, b float64) dd {
	s := a + b
	return dd{s, b - (s - a)}
}

// twoProd returns a*b exactly, as a double-double.
func twoProd(a, b float64) dd {
	p := a * b
	return dd{p, math.FMA(a, b, -p)}
}

func (x dd) add(y dd) dd {
	s := twoSum(x.hi, y.hi)
	t := twoSum(x.lo, y.lo)
	s.lo += t.hi
	s = fastTwoSum(s.hi, s.lo)
	s.lo += t.lo
	return fastTwoSum(s.hi, s.lo)
}

func (x dd) mul(y dd) dd {
	p := twoProd(x.hi, y.hi)
	p.lo += float64(x.hi*y.lo) + float64(x.lo*y.hi)
	return fastTwoSum(p.hi, p.lo)
}

func (x dd) div(y dd) dd {
	q1 := x.hi / y.hi
	r := x.add(y.mul(dd{-q1, 0}))
	return fastTwoSum(q1, r.hi/y.hi)
}

func (x dd) neg() dd { return dd{-x.hi, -x.lo} }

// ddFromBig splits f into a double-double.
func ddFromBig(f *big.Float) dd {
	hi, _ := f.Float64()
	lo, _ := new(big.Float).SetPrec(f.Prec()).Sub(f, big.NewFloat(hi)).Float64()
	return dd{hi, lo}
}

var (
	// piHalf3 is pi/2 as the sum of three doubles (about 159 bits).
	piHalf3 [3]float64
	// taylorCoef[n] is (-1)^(n/2) / n!, the coefficient of r^n in the
	// series of sin(r) (n odd) and cos(r) (n even).
	taylorCoef [29]dd
)

func init() {
	const prec = 256
	rest, _, _ := big.ParseFloat("1.57079632679489661923132169163975144209858469968755291048747229615390820314310449931401741267", 10, prec, big.ToNearestEven)
	for i := range piHalf3 {
		piHalf3[i], _ = rest.Float64()
		rest.Sub(rest, big.NewFloat(piHalf3[i]))
	}
	f := new(big.Float).SetPrec(prec).SetInt64(1)
	for n := range taylorCoef {
		if n > 0 {
			f.Quo(f, new(big.Float).SetPrec(prec).SetInt64(int64(n)))
		}
		taylorCoef[n] = ddFromBig(f)
		if n/2%2 == 1 {
			taylorCoef[n] = taylorCoef[n].neg()
		}
	}
}

// ddSeries sums sin(r)'s Taylor series (odd) to r^27 or cos(r)'s to
// r^28, for |r| <= pi/4 (and a little): their next terms are below
// 2^-110.
func ddSeries(r, r2 dd, odd bool) dd {
	n := 28
	if odd {
		n = 27
	}
	v := taylorCoef[n]
	for n -= 2; n >= 0; n -= 2 {
		v = v.mul(r2).add(taylorCoef[n])
	}
	if odd {
		v = v.mul(r)
	}
	return v
}

// ddReduce returns r and k with y = k pi/2 + r, |r| <= pi/4 (and a
// little), for |y| <= 64, and the bound on r's error: pi/2's tail, |k|
// 2^-150, with room (the additions' own errors are within 2^-100 of r,
// which the callers' relative bound covers).
func ddReduce(y dd) (r dd, k int64, reduceErr float64) {
	kf := math.Round(y.hi * (2 / math.Pi))
	r = y.add(twoProd(-kf, piHalf3[0])).add(twoProd(-kf, piHalf3[1])).add(dd{-kf * piHalf3[2], 0})
	return r, int64(kf), math.Abs(kf) * 0x1p-140
}

// ddSinShifted returns sin(y + shift pi/2) (shift 1: cos(y)) for
// |y| <= 64, with the bound on its reduction's error; it is off by at
// most 2^-95 of itself besides.
func ddSinShifted(y dd, shift int64) (dd, float64) {
	r, k, e := ddReduce(y)
	q := (k + shift) & 3
	v := ddSeries(r, r.mul(r), q&1 == 0)
	if q >= 2 {
		v = v.neg()
	}
	return v, e
}

// roundDD returns x rounded to a double if every value within e of x
// rounds to the same double.
func roundDD(x dd, e float64) (float64, bool) {
	e *= 2 // room for the rounding of lo±e
	a, b := x.hi+(x.lo-e), x.hi+(x.lo+e)
	return a, a == b
}

// crSin returns sin(x) correctly rounded.
func crSin(x float64) float64 {
	if v, ok := ddSin(x); ok {
		return v
	}
	return bigSin(x)
}

// crCos returns cos(x) correctly rounded.
func crCos(x float64) float64 {
	if v, ok := ddCos(x); ok {
		return v
	}
	return bigCos(x)
}

// crAsin returns asin(x) correctly rounded, for x in [-1, 1].
func crAsin(x float64) float64 {
	if v, ok := ddAsin(math.Abs(x)); ok {
		return math.Copysign(v, x)
	}
	return bigAsin(x)
}

// ddSin returns sin(x) correctly rounded, or false if it cannot tell.
func ddSin(x float64) (float64, bool) {
	if math.Abs(x) > 64 || x == 0 || x != x {
		return 0, false
	}
	s, e := ddSinShifted(dd{x, 0}, 0)
	return roundDD(s, 0x1p-95*math.Abs(s.hi)+e)
}

// ddCos returns cos(x) correctly rounded, or false if it cannot tell.
func ddCos(x float64) (float64, bool) {
	if math.Abs(x) > 64 || x != x {
		return 0, false
	}
	c, e := ddSinShifted(dd{x, 0}, 1)
	return roundDD(c, 0x1p-95*math.Abs(c.hi)+e)
}

// ddAsin returns asin(x) correctly rounded for x in (0, 1), or false if
// it cannot tell: one Newton step on sin from Go's estimate, which is
// good to a few units in its last place, doubles its precision.
func ddAsin(x float64) (float64, bool) {
	if !(x > 0 && x < 1) {
		return 0, false
	}
	y := dd{math.Asin(x), 0}
	s, e := ddSinShifted(y, 0)
	c, _ := ddSinShifted(y, 1)
	if c.hi < 0x1p-20 {
		return 0, false
	}
	step := s.add(dd{-x, 0}).div(c)
	y = y.add(step.neg())
	// An error in sin(y) moves y by that over cos(y); Newton's own error
	// is below step^2 tan(y) / 2, and the division's is tiny.
	sinErr := 0x1p-95*x + e
	return roundDD(y, (2*sinErr+2*step.hi*step.hi)/c.hi+0x1p-100*y.hi)
}
