package keyspace

import (
	"math"
	"math/big"
)

// Correctly rounded sine, cosine and arcsine for the geo distances.
// glibc's (which Redis calls) are correctly rounded in all but vanishingly
// rare cases, and Go's math package is not (it is off by one unit in the
// last place often enough to change a distance's last digits). These
// compute in 128-bit precision with math/big and round once to the
// nearest double: slow (tens of microseconds a call), so they are the
// fallback of the double-double versions in geomath_dd.go, taken only
// when those cannot tell which way a result rounds.

const trigPrec = 128

// piHalfBig is pi/2 to 160 bits.
var piHalfBig, _, _ = big.ParseFloat("1.57079632679489661923132169163975144209858469968755291048747229615390820314310449931401741267", 10, 160, big.ToNearestEven)

// reducePrec is the precision of pi/2 that reduces any double: its
// 1024-bit integer part, trigPrec bits after the point, and room.
const reducePrec = 1024 + trigPrec + 128

// piHalfWide is pi/2 to reducePrec bits (checked against Machin's
// formula by the tests).
var piHalfWide, _, _ = big.ParseFloat(
	"0x.c90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139"+
		"b22514a08798e3404ddef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c"+
		"245e485b576625e7ec6f44c42e9a637ed6b0bff5cb6f406b7edee386bfb5a899"+
		"fa5ae9f24117c4b1fe649286651ece45b3dc2007cb8a163bf0598da48361c55d"+
		"39a69163fa8fd24cf5f83655d23dca3ad961c62f356208552bb9ed5290770969"+
		"66dp+1", 0, reducePrec, big.ToNearestEven)

func newTrig() *big.Float { return new(big.Float).SetPrec(trigPrec).SetMode(big.ToNearestEven) }

// bigSin returns sin(x) correctly rounded.
func bigSin(x float64) float64 { return trig(x, 0) }

// bigCos returns cos(x) correctly rounded.
func bigCos(x float64) float64 { return trig(x, 1) }

// trig computes sin(x + shift*pi/2) by reducing x to r in [-pi/4, pi/4]
// (x = k*pi/2 + r) and summing r's Taylor series. Arguments beyond 2^20
// (a geo search's bounding box for an absurd radius) are reduced with
// pi/2 to as many bits as the largest double needs.
func trig(x float64, shift int64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return math.NaN()
	}
	if x == 0 && shift == 0 {
		return x
	}
	var r *big.Float
	var q int64
	if math.Abs(x) < 0x1p20 {
		k := int64(math.Round(x / (math.Pi / 2)))
		r = newTrig().SetFloat64(x)
		r.Sub(r, newTrig().Mul(newTrig().SetInt64(k), piHalfBig))
		q = k
	} else {
		r, q = reduceWide(x)
	}
	var v *big.Float
	switch ((q+shift)%4 + 4) % 4 {
	case 0:
		v = taylor(r, true)
	case 1:
		v = taylor(r, false)
	case 2:
		v = taylor(r, true)
		v.Neg(v)
	default:
		v = taylor(r, false)
		v.Neg(v)
	}
	f, _ := v.Float64()
	return f
}

// reduceWide returns r and k mod 4 with x = k*pi/2 + r, |r| <= pi/4,
// for any finite x.
func reduceWide(x float64) (*big.Float, int64) {
	ph := piHalfWide
	X := new(big.Float).SetPrec(reducePrec).SetFloat64(x)
	q := new(big.Float).SetPrec(reducePrec).Quo(X, ph)
	q.Add(q, big.NewFloat(math.Copysign(0.5, x)))
	k, _ := q.Int(nil) // x/(pi/2) rounded half away from zero
	r := new(big.Float).SetPrec(reducePrec).SetInt(k)
	r.Sub(X, r.Mul(r, ph))
	return newTrig().Set(r), new(big.Int).And(k, big.NewInt(3)).Int64()
}

// taylor sums sin(r)'s series (odd) or cos(r)'s, for small |r|.
func taylor(r *big.Float, odd bool) *big.Float {
	r2 := newTrig().Mul(r, r)
	term := newTrig().SetInt64(1)
	n := int64(0)
	if odd {
		term.Set(r)
		n = 1
	}
	sum := newTrig().Set(term)
	for term.Sign() != 0 {
		term.Mul(term, r2)
		term.Quo(term, newTrig().SetInt64(-(n+1)*(n+2)))
		n += 2
		sum.Add(sum, term)
		if sum.Sign() != 0 && term.MantExp(nil) < sum.MantExp(nil)-trigPrec-4 {
			break
		}
	}
	return sum
}

// bigAsin returns asin(x) correctly rounded, for x in [-1, 1]: Newton's
// method on sin from Go's estimate, in 128-bit precision.
func bigAsin(x float64) float64 {
	if math.IsNaN(x) || x < -1 || x > 1 {
		return math.NaN()
	}
	if x == 0 {
		return x
	}
	X := newTrig().SetFloat64(x)
	y := newTrig().SetFloat64(math.Asin(x))
	for range 3 {
		s, c := bigSinCos(y)
		if c.Sign() == 0 {
			break
		}
		s.Sub(s, X)
		s.Quo(s, c)
		y.Sub(y, s)
	}
	f, _ := y.Float64()
	return f
}

// bigSinCos returns sin(y) and cos(y) for |y| <= pi/2 + a little.
func bigSinCos(y *big.Float) (*big.Float, *big.Float) {
	yf, _ := y.Float64()
	k := int64(math.Round(yf / (math.Pi / 2)))
	r := newTrig().Sub(y, newTrig().Mul(newTrig().SetInt64(k), piHalfBig))
	s, c := taylor(r, true), taylor(r, false)
	switch ((k % 4) + 4) % 4 {
	case 1:
		s, c = c, s.Neg(s)
	case 2:
		s, c = s.Neg(s), c.Neg(c)
	case 3:
		s, c = c.Neg(c), s
	}
	return s, c
}
