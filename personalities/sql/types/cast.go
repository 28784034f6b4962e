package types

import (
	"math"

	"hourglass/personalities/sql/pgerror"
)

// Cast converts d, a non-NULL value of type from, to type to, with the
// semantics of a cast (explicit) or an assignment/implicit coercion
// (explicit false): numeric conversions round and range-check, text to
// any type runs its input function, any type to text its output function,
// and the target's modifier is applied. It fails with Postgres's error
// when no such cast exists (42846) or the value does not convert.
func Cast(d any, from, to Type, explicit bool, s *Settings) (any, error) {
	if d == nil {
		return nil, nil
	}
	if from.Oid == to.Oid {
		return Coerce(to, d, explicit)
	}
	fk, tk := Kind(from.Oid), Kind(to.Oid)
	// Anything from text (or unknown) goes through the input function;
	// anything to text through the output function.
	if fk == KindString && from.Oid != OidChar || from.Oid == OidUnknown {
		if tk == KindString {
			return Coerce(to, d, explicit)
		}
		return Parse(to, d.(string), s)
	}
	if tk == KindString && to.Oid != OidChar {
		return Coerce(to, Format(from, d, s), explicit)
	}
	switch {
	case fk == KindInt && tk == KindInt:
		return checkIntRange(to.Oid, d.(int64))
	case fk == KindInt && tk == KindFloat:
		return float64(d.(int64)), nil
	case fk == KindFloat && tk == KindInt:
		f := d.(float64)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			_, _, name := intRange(to.Oid)
			return nil, pgerror.New(pgerror.NumericValueOutOfRange, "%s out of range", name)
		}
		r := math.RoundToEven(f)
		if r < -9.223372036854776e18 || r >= 9.223372036854776e18 {
			_, _, name := intRange(to.Oid)
			return nil, pgerror.New(pgerror.NumericValueOutOfRange, "%s out of range", name)
		}
		return checkIntRange(to.Oid, int64(r))
	case fk == KindFloat && tk == KindFloat:
		f := d.(float64)
		if to.Oid == OidFloat4 {
			f32 := float32(f)
			if math.IsInf(float64(f32), 0) && !math.IsInf(f, 0) {
				return nil, pgerror.New(pgerror.NumericValueOutOfRange, "value out of range: overflow")
			}
			return float64(f32), nil
		}
		return f, nil
	case fk == KindBool && tk == KindInt && to.Oid == OidInt4 && explicit:
		if d.(bool) {
			return int64(1), nil
		}
		return int64(0), nil
	case fk == KindInt && tk == KindBool && from.Oid == OidInt4 && explicit:
		return d.(int64) != 0, nil
	}
	return castOther(d, from, to, explicit, s)
}

// checkIntRange range-checks an integer for its type.
func checkIntRange(t Oid, n int64) (any, error) {
	lo, hi, name := intRange(t)
	if n < lo || n > hi {
		if t == OidOid {
			return nil, pgerror.New(pgerror.NumericValueOutOfRange, "OID out of range")
		}
		return nil, pgerror.New(pgerror.NumericValueOutOfRange, "%s out of range", name)
	}
	return n, nil
}

// errNoCast is the error of a cast Postgres does not have.
func errNoCast(from, to Type) error {
	return pgerror.New(pgerror.CannotCoerce, "cannot cast type %s to %s", FormatType(from.Oid, from.Mod), FormatType(to.Oid, to.Mod))
}
