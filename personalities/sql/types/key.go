package types

import (
	"encoding/binary"
	"math"

	"hourglass/personalities/sql/pgerror"
)

// Key encoding: values in an order-preserving, prefix-free byte form, for
// primary and index keys. bytes.Compare of two encodings orders the values
// as Compare does, with NULL after every value (Postgres's ASC NULLS
// LAST); a descending column's bytes are inverted. Equal values of one
// type always encode the same (bpchar without its trailing spaces, NaN as
// one NaN, numerics without their scale).
const (
	keyValue byte = 0x01
	keyNull  byte = 0x02
)

// AppendKey appends d's key encoding to b. desc inverts it (a DESC index
// column).
func AppendKey(b []byte, t Oid, d any, desc bool) ([]byte, error) {
	start := len(b)
	var err error
	if d == nil {
		b = append(b, keyNull)
	} else {
		b = append(b, keyValue)
		b, err = appendKeyValue(b, t, d)
	}
	if desc {
		for i := start; i < len(b); i++ {
			b[i] = ^b[i]
		}
	}
	return b, err
}

func appendKeyValue(b []byte, t Oid, d any) ([]byte, error) {
	switch v := d.(type) {
	case bool:
		if v {
			return append(b, 1), nil
		}
		return append(b, 0), nil
	case int64:
		return binary.BigEndian.AppendUint64(b, uint64(v)^(1<<63)), nil
	case float64:
		return appendKeyFloat(b, v), nil
	case string:
		if t == OidBpchar {
			for len(v) > 0 && v[len(v)-1] == ' ' {
				v = v[:len(v)-1]
			}
		}
		return appendKeyBytes(b, []byte(v)), nil
	case []byte:
		return appendKeyBytes(b, v), nil
	}
	return appendKeyOther(b, t, d)
}

// appendKeyFloat orders floats by their IEEE bits: negative ones
// inverted, positive ones with the sign bit set; -0 as 0; NaN last.
func appendKeyFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) {
		return binary.BigEndian.AppendUint64(b, math.MaxUint64)
	}
	if f == 0 {
		f = 0
	}
	u := math.Float64bits(f)
	if u&(1<<63) != 0 {
		u = ^u
	} else {
		u |= 1 << 63
	}
	return binary.BigEndian.AppendUint64(b, u)
}

// appendKeyBytes escapes 0x00 as 0x00 0xff and ends with 0x00 0x01, so
// that a shorter string sorts before any it is a prefix of.
func appendKeyBytes(b, s []byte) []byte {
	for _, c := range s {
		if c == 0 {
			b = append(b, 0, 0xff)
		} else {
			b = append(b, c)
		}
	}
	return append(b, 0, 1)
}

// errKeyType reports a value no key encoding exists for.
func errKeyType(t Oid) error {
	return pgerror.New(pgerror.FeatureNotSupported, "type %s cannot be part of a key", FormatType(t, -1))
}
