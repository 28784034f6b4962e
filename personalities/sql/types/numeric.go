package types

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/cockroachdb/apd/v3"

	"hourglass/personalities/sql/pgerror"
)

// numeric: exact decimals as *apd.Decimal. A value keeps its display scale
// (the number of digits after the point, Postgres's dscale) as the
// negative of its exponent; a value never has a positive exponent (1e3
// is held as 1000, scale 0), and zero is never negative, so that Format
// prints what numeric_out prints.

// NumericCtx is the context numeric arithmetic runs with: enough
// precision for every exact result Postgres's range allows.
var NumericCtx = &apd.Context{
	Precision:   4000,
	MaxExponent: 200000,
	MinExponent: -200000,
	Traps:       apd.DefaultTraps &^ apd.Inexact &^ apd.Rounded,
	Rounding:    apd.RoundHalfUp,
}

// The numeric limits Postgres has (numeric.c).
const (
	numericMaxDisplayScale = 1000
	numericMinSigDigits    = 16
)

// normalizeNumeric gives d Postgres's form: no positive exponent, no
// negative zero. It modifies and returns d.
func normalizeNumeric(d *apd.Decimal) *apd.Decimal {
	if d.Form != apd.Finite {
		if d.Form == apd.NaN || d.Form == apd.NaNSignaling {
			d.Form, d.Negative = apd.NaN, false
		}
		return d
	}
	if d.Exponent > 0 {
		NumericCtx.Quantize(d, d, 0)
	}
	if d.IsZero() {
		d.Negative = false
	}
	return d
}

// NumericScale is a finite value's display scale.
func NumericScale(d *apd.Decimal) int32 {
	if d.Form != apd.Finite || d.Exponent > 0 {
		return 0
	}
	return -d.Exponent
}

func formatNumeric(d *apd.Decimal) string {
	switch d.Form {
	case apd.NaN, apd.NaNSignaling:
		return "NaN"
	case apd.Infinite:
		if d.Negative {
			return "-Infinity"
		}
		return "Infinity"
	}
	s := d.Text('f')
	if s == "-0" || strings.HasPrefix(s, "-0") && strings.Trim(s[1:], "0.") == "" {
		s = s[1:]
	}
	return s
}

func errNumericSyntax(text string) error {
	return pgerror.New(pgerror.InvalidTextRepresentation, "invalid input syntax for type numeric: \"%s\"", text)
}

// ParseNumeric reads numeric_in's syntax: an optionally signed decimal
// with an optional exponent, NaN, Infinity (inf), surrounded by spaces.
func ParseNumeric(text string) (*apd.Decimal, error) {
	s := strings.TrimSpace(text)
	switch strings.ToLower(s) {
	case "nan":
		return &apd.Decimal{Form: apd.NaN}, nil
	case "infinity", "+infinity", "inf", "+inf":
		return &apd.Decimal{Form: apd.Infinite}, nil
	case "-infinity", "-inf":
		return &apd.Decimal{Form: apd.Infinite, Negative: true}, nil
	}
	if s == "" || strings.ContainsAny(s, "_xXnNiI ") {
		return nil, errNumericSyntax(text)
	}
	digits := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' {
			digits = true
		} else if c == 'e' || c == 'E' {
			break
		}
	}
	if !digits {
		return nil, errNumericSyntax(text)
	}
	d, _, err := apd.NewFromString(s)
	if err != nil {
		return nil, errNumericSyntax(text)
	}
	if d.Exponent < -numericMaxDisplayScale*2 || d.Exponent+int32(d.NumDigits()) > 131072 {
		return nil, pgerror.New(pgerror.NumericValueOutOfRange, "value overflows numeric format")
	}
	return normalizeNumeric(d), nil
}

// NumericTypmod returns the precision and scale of a numeric modifier.
func NumericTypmod(mod int32) (prec, scale int32) {
	m := mod - 4
	return (m >> 16) & 0xffff, int32(int16(m & 0xffff))
}

// coerceNumeric rounds d to a numeric(p,s) modifier and checks that it
// fits, as apply_typmod does.
func coerceNumeric(d *apd.Decimal, mod int32) (*apd.Decimal, error) {
	prec, scale := NumericTypmod(mod)
	if d.Form == apd.Infinite {
		return nil, pgerror.New(pgerror.NumericValueOutOfRange, "numeric field overflow").
			WithDetail("A field with precision %d, scale %d cannot hold an infinite value.", prec, scale)
	}
	if d.Form != apd.Finite {
		return d, nil
	}
	r := new(apd.Decimal)
	NumericCtx.Quantize(r, d, -scale)
	normalizeNumeric(r)
	if !r.IsZero() {
		// Digits before the point: the adjusted exponent + 1.
		intDigits := int32(r.NumDigits()) + r.Exponent
		if intDigits > prec-scale {
			if prec == scale {
				return nil, pgerror.New(pgerror.NumericValueOutOfRange, "numeric field overflow").
					WithDetail("A field with precision %d, scale %d must round to an absolute value less than 1.", prec, scale)
			}
			return nil, pgerror.New(pgerror.NumericValueOutOfRange, "numeric field overflow").
				WithDetail("A field with precision %d, scale %d must round to an absolute value less than 10^%d.", prec, scale, prec-scale)
		}
	}
	return r, nil
}

// compareNumeric orders numerics: NaN after everything (and equal to
// itself), the infinities at the ends.
func compareNumeric(x, y *apd.Decimal) int {
	if c, ok := compareNaN(x.Form == apd.NaN || x.Form == apd.NaNSignaling, y.Form == apd.NaN || y.Form == apd.NaNSignaling); ok {
		return c
	}
	return x.Cmp(y)
}

// appendKeyNumeric: a class byte (-inf, negative, zero, positive, +inf,
// NaN), then for a finite non-zero value its adjusted exponent and its
// significant digits, both inverted for a negative value.
func appendKeyNumeric(b []byte, d *apd.Decimal) []byte {
	switch {
	case d.Form == apd.NaN || d.Form == apd.NaNSignaling:
		return append(b, 6)
	case d.Form == apd.Infinite && d.Negative:
		return append(b, 1)
	case d.Form == apd.Infinite:
		return append(b, 5)
	case d.IsZero():
		return append(b, 3)
	}
	digits := strings.TrimRight(d.Coeff.String(), "0")
	exp := d.Exponent + int32(d.NumDigits()) - 1
	neg := d.Negative
	if neg {
		b = append(b, 2)
		b = binary.BigEndian.AppendUint32(b, ^(uint32(exp) ^ 1<<31))
		for i := 0; i < len(digits); i++ {
			b = append(b, ^digits[i])
		}
		return append(b, 0xff)
	}
	b = append(b, 4)
	b = binary.BigEndian.AppendUint32(b, uint32(exp)^1<<31)
	b = append(b, digits...)
	return append(b, 0)
}

// Binary numeric: ndigits, weight, sign, dscale (int16 each), then the
// base-10000 digits.
const (
	numericPos  = 0x0000
	numericNeg  = 0x4000
	numericNaN  = 0xC000
	numericPinf = 0xD000
	numericNinf = 0xF000
)

func encodeNumericBinary(d *apd.Decimal) []byte {
	var sign uint16
	switch {
	case d.Form == apd.NaN || d.Form == apd.NaNSignaling:
		sign = numericNaN
	case d.Form == apd.Infinite && d.Negative:
		sign = numericNinf
	case d.Form == apd.Infinite:
		sign = numericPinf
	case d.Negative:
		sign = numericNeg
	}
	var groups []uint16
	var weight int16
	dscale := NumericScale(d)
	if sign == numericPos || sign == numericNeg {
		// Align the digits on groups of four around the point.
		digits := d.Coeff.String()
		if digits == "0" {
			digits = ""
		}
		intLen := len(digits) - int(dscale)
		if intLen < 0 {
			digits = strings.Repeat("0", -intLen) + digits
			intLen = 0
		}
		intPart, frac := digits[:intLen], digits[intLen:]
		if pad := (4 - len(intPart)%4) % 4; pad > 0 {
			intPart = strings.Repeat("0", pad) + intPart
		}
		if pad := (4 - len(frac)%4) % 4; pad > 0 {
			frac += strings.Repeat("0", pad)
		}
		all := intPart + frac
		weight = int16(len(intPart)/4 - 1)
		for i := 0; i < len(all); i += 4 {
			n, _ := strconv.Atoi(all[i : i+4])
			groups = append(groups, uint16(n))
		}
		for len(groups) > 0 && groups[0] == 0 {
			groups = groups[1:]
			weight--
		}
		for len(groups) > 0 && groups[len(groups)-1] == 0 {
			groups = groups[:len(groups)-1]
		}
		if len(groups) == 0 {
			weight = 0
		}
	}
	b := make([]byte, 0, 8+2*len(groups))
	b = binary.BigEndian.AppendUint16(b, uint16(len(groups)))
	b = binary.BigEndian.AppendUint16(b, uint16(weight))
	b = binary.BigEndian.AppendUint16(b, sign)
	b = binary.BigEndian.AppendUint16(b, uint16(dscale))
	for _, g := range groups {
		b = binary.BigEndian.AppendUint16(b, g)
	}
	return b
}

func decodeNumericBinary(b []byte) (*apd.Decimal, error) {
	bad := pgerror.New(pgerror.InvalidBinaryRepresentation, "invalid length in external \"numeric\" value")
	if len(b) < 8 {
		return nil, bad
	}
	n := int(binary.BigEndian.Uint16(b))
	weight := int(int16(binary.BigEndian.Uint16(b[2:])))
	sign := binary.BigEndian.Uint16(b[4:])
	dscale := int(binary.BigEndian.Uint16(b[6:]))
	if len(b) != 8+2*n {
		return nil, bad
	}
	switch sign {
	case numericNaN:
		return &apd.Decimal{Form: apd.NaN}, nil
	case numericPinf:
		return &apd.Decimal{Form: apd.Infinite}, nil
	case numericNinf:
		return &apd.Decimal{Form: apd.Infinite, Negative: true}, nil
	case numericPos, numericNeg:
	default:
		return nil, pgerror.New(pgerror.InvalidBinaryRepresentation, "invalid sign in external \"numeric\" value")
	}
	if dscale > numericMaxDisplayScale {
		return nil, pgerror.New(pgerror.InvalidBinaryRepresentation, "invalid scale in external \"numeric\" value")
	}
	var sb strings.Builder
	for i := 0; i < n; i++ {
		g := binary.BigEndian.Uint16(b[8+2*i:])
		if g >= 10000 {
			return nil, pgerror.New(pgerror.InvalidBinaryRepresentation, "invalid digit in external \"numeric\" value")
		}
		fmt.Fprintf(&sb, "%04d", g)
	}
	// The digits' value is coeff * 10^(4*(weight+1-n)).
	coeff := sb.String()
	if coeff == "" {
		coeff = "0"
	}
	d, _, err := apd.NewFromString(coeff + "E" + strconv.Itoa(4*(weight+1-n)))
	if err != nil {
		return nil, bad
	}
	d.Negative = sign == numericNeg
	r := new(apd.Decimal)
	NumericCtx.Quantize(r, d, int32(-dscale))
	return normalizeNumeric(r), nil
}

// NumericFromInt converts an integer.
func NumericFromInt(n int64) *apd.Decimal { return apd.New(n, 0) }

// NumericFromFloat converts a float as float8_numeric and float4_numeric
// do: rounded to 15 (float4: 6) significant digits.
func NumericFromFloat(f float64, bits int) *apd.Decimal {
	switch {
	case math.IsNaN(f):
		return &apd.Decimal{Form: apd.NaN}
	case math.IsInf(f, 1):
		return &apd.Decimal{Form: apd.Infinite}
	case math.IsInf(f, -1):
		return &apd.Decimal{Form: apd.Infinite, Negative: true}
	}
	digits := 15
	if bits == 32 {
		digits = 6
	}
	d, _, _ := apd.NewFromString(strconv.FormatFloat(f, 'g', digits, 64))
	// %g drops trailing zeros after the point already; keep the scale it
	// gives.
	return normalizeNumeric(d)
}

// NumericToFloat converts to float8.
func NumericToFloat(d *apd.Decimal) float64 {
	switch {
	case d.Form == apd.NaN || d.Form == apd.NaNSignaling:
		return math.NaN()
	case d.Form == apd.Infinite && d.Negative:
		return math.Inf(-1)
	case d.Form == apd.Infinite:
		return math.Inf(1)
	}
	f, _ := strconv.ParseFloat(d.Text('e'), 64)
	return f
}

// NumericToInt rounds to an integer (half away from zero) and range-checks
// it for type t.
func NumericToInt(d *apd.Decimal, t Oid) (int64, error) {
	_, _, name := intRange(t)
	if d.Form == apd.NaN || d.Form == apd.NaNSignaling {
		return 0, pgerror.New(pgerror.FeatureNotSupported, "cannot convert NaN to %s", name)
	}
	if d.Form == apd.Infinite {
		return 0, pgerror.New(pgerror.FeatureNotSupported, "cannot convert infinity to %s", name)
	}
	r := new(apd.Decimal)
	NumericCtx.Quantize(r, d, 0)
	n, err := r.Int64()
	if err != nil {
		return 0, pgerror.New(pgerror.NumericValueOutOfRange, "%s out of range", name)
	}
	v, err := checkIntRange(t, n)
	if err != nil {
		return 0, err
	}
	return v.(int64), nil
}

// NumericDivScale is the scale Postgres gives x / y (select_div_scale):
// at least 16 significant digits, and no less than either operand's
// scale.
func NumericDivScale(x, y *apd.Decimal) int32 {
	w1, f1 := numericWeight(x)
	w2, f2 := numericWeight(y)
	qweight := w1 - w2
	if f1 <= f2 {
		qweight--
	}
	rscale := numericMinSigDigits - qweight*4
	rscale = max(rscale, NumericScale(x), NumericScale(y), 0)
	return min(rscale, numericMaxDisplayScale)
}

// numericWeight gives the weight (power of 10000) and value of a finite
// value's first base-10000 digit; 0, 0 for zero.
func numericWeight(d *apd.Decimal) (int32, int64) {
	if d.Form != apd.Finite || d.IsZero() {
		return 0, 0
	}
	e := d.Exponent + int32(d.NumDigits()) - 1 // decimal exponent of the first digit
	w := e / 4
	if e < 0 && e%4 != 0 {
		w--
	}
	// The first group's value: the leading digits down to 10^(4w).
	digits := d.Coeff.String()
	n := int(e - 4*w + 1)
	if n > len(digits) {
		digits += strings.Repeat("0", n-len(digits))
	}
	v, _ := strconv.ParseInt(digits[:n], 10, 64)
	return w, v
}
