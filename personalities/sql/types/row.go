package types

import (
	"encoding/binary"
	"math"

	"hourglass/personalities/sql/pgerror"
)

// Row encoding: a row's values in order, each a tag byte and a payload,
// compact but not ordered. Decoding needs the columns' types.
const (
	rowNull  byte = 0
	rowValue byte = 1
)

// AppendValue appends d's row encoding (a value of type t, or nil) to b.
func AppendValue(b []byte, t Oid, d any) ([]byte, error) {
	if d == nil {
		return append(b, rowNull), nil
	}
	b = append(b, rowValue)
	switch v := d.(type) {
	case bool:
		if v {
			return append(b, 1), nil
		}
		return append(b, 0), nil
	case int64:
		return binary.AppendVarint(b, v), nil
	case float64:
		return binary.BigEndian.AppendUint64(b, math.Float64bits(v)), nil
	case string:
		b = binary.AppendUvarint(b, uint64(len(v)))
		return append(b, v...), nil
	case []byte:
		b = binary.AppendUvarint(b, uint64(len(v)))
		return append(b, v...), nil
	}
	return appendValueOther(b, t, d)
}

// errCorrupt reports a row encoding that does not decode.
var errCorrupt = pgerror.New(pgerror.Internal, "corrupt row encoding")

// DecodeValue decodes one value of type t from b, and returns the rest.
func DecodeValue(b []byte, t Oid) (any, []byte, error) {
	if len(b) == 0 {
		return nil, nil, errCorrupt
	}
	tag, b := b[0], b[1:]
	if tag == rowNull {
		return nil, b, nil
	}
	switch Kind(t) {
	case KindBool:
		if len(b) < 1 {
			return nil, nil, errCorrupt
		}
		return b[0] == 1, b[1:], nil
	case KindInt:
		v, n := binary.Varint(b)
		if n <= 0 {
			return nil, nil, errCorrupt
		}
		return v, b[n:], nil
	case KindFloat:
		if len(b) < 8 {
			return nil, nil, errCorrupt
		}
		return math.Float64frombits(binary.BigEndian.Uint64(b)), b[8:], nil
	case KindString, KindBytes:
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return nil, nil, errCorrupt
		}
		v := b[k : k+int(n)]
		if Kind(t) == KindString {
			return string(v), b[k+int(n):], nil
		}
		return append([]byte(nil), v...), b[k+int(n):], nil
	}
	return decodeValueOther(b, t)
}

// ValueKind is the Go representation a type's values have.
type ValueKind int

// The representations.
const (
	KindOther ValueKind = iota
	KindBool
	KindInt
	KindFloat
	KindString
	KindBytes
	KindNumeric
	KindDate
	KindTime
	KindTimestamp
	KindInterval
	KindUUID
	KindJSON
	KindJSONB
	KindArray
	KindRecord
)

// Kind returns the representation of type t's values.
func Kind(t Oid) ValueKind {
	switch t {
	case OidBool:
		return KindBool
	case OidInt2, OidInt4, OidInt8, OidOid, OidRegproc, OidRegclass, OidRegtype, OidRegnamespace, OidRegrole, OidRegoper, OidRegprocedure, OidXid, OidCid:
		return KindInt
	case OidFloat4, OidFloat8:
		return KindFloat
	case OidText, OidVarchar, OidBpchar, OidName, OidChar, OidUnknown, OidCstring:
		return KindString
	case OidBytea:
		return KindBytes
	case OidNumeric:
		return KindNumeric
	case OidDate:
		return KindDate
	case OidTime:
		return KindTime
	case OidTimestamp, OidTimestamptz:
		return KindTimestamp
	case OidInterval:
		return KindInterval
	case OidUUID:
		return KindUUID
	case OidJSON:
		return KindJSON
	case OidJsonb:
		return KindJSONB
	case OidRecord:
		return KindRecord
	}
	if ElemOf(t) != 0 {
		return KindArray
	}
	return KindOther
}
