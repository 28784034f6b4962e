package types

import (
	"bytes"
	"cmp"
	"math"
	"strings"
)

// Compare orders two non-NULL values of one type as Postgres's default
// btree operator class does: -1, 0 or +1. For float8 and numeric, NaN
// sorts after every other value and equals itself; for bpchar, trailing
// spaces do not count; text compares bytes (the "C" collation).
func Compare(t Oid, a, b any) int {
	switch x := a.(type) {
	case bool:
		y := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case int64:
		return cmp.Compare(x, b.(int64))
	case float64:
		return compareFloat(x, b.(float64))
	case string:
		y := b.(string)
		if t == OidBpchar {
			x, y = strings.TrimRight(x, " "), strings.TrimRight(y, " ")
		}
		return strings.Compare(x, y)
	case []byte:
		return bytes.Compare(x, b.([]byte))
	}
	return compareOther(t, a, b)
}

func compareFloat(x, y float64) int {
	if c, ok := compareNaN(math.IsNaN(x), math.IsNaN(y)); ok {
		return c
	}
	return cmp.Compare(x, y)
}

// compareNaN orders two values of which either may be NaN (xn, yn): NaN
// after everything and equal to itself. ok is false when neither is NaN.
func compareNaN(xn, yn bool) (c int, ok bool) {
	switch {
	case xn && yn:
		return 0, true
	case xn:
		return 1, true
	case yn:
		return -1, true
	}
	return 0, false
}
