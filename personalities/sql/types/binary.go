package types

import (
	"encoding/binary"
	"math"

	"hourglass/personalities/sql/pgerror"
)

// EncodeBinary returns d's binary wire form (the type's send function).
// REQUIRES: d is not nil and is t's representation.
func EncodeBinary(t Type, d any) ([]byte, error) {
	switch t.Oid {
	case OidBool:
		if d.(bool) {
			return []byte{1}, nil
		}
		return []byte{0}, nil
	case OidInt2:
		return binary.BigEndian.AppendUint16(nil, uint16(d.(int64))), nil
	case OidInt4, OidOid, OidRegclass, OidRegtype, OidRegproc, OidRegnamespace, OidRegrole, OidXid, OidCid:
		return binary.BigEndian.AppendUint32(nil, uint32(d.(int64))), nil
	case OidInt8:
		return binary.BigEndian.AppendUint64(nil, uint64(d.(int64))), nil
	case OidFloat4:
		return binary.BigEndian.AppendUint32(nil, math.Float32bits(float32(d.(float64)))), nil
	case OidFloat8:
		return binary.BigEndian.AppendUint64(nil, math.Float64bits(d.(float64))), nil
	case OidText, OidVarchar, OidBpchar, OidName, OidUnknown, OidChar:
		return []byte(d.(string)), nil
	case OidBytea:
		return d.([]byte), nil
	}
	return encodeBinaryOther(t, d)
}

// DecodeBinary reads a value from its binary wire form (the type's
// receive function), applying t's modifier. A malformed value fails with
// 22P03.
func DecodeBinary(t Type, b []byte) (any, error) {
	bad := func() (any, error) {
		return nil, pgerror.New(pgerror.InvalidBinaryRepresentation, "incorrect binary data format")
	}
	switch t.Oid {
	case OidBool:
		if len(b) != 1 {
			return bad()
		}
		return b[0] != 0, nil
	case OidInt2:
		if len(b) != 2 {
			return bad()
		}
		return int64(int16(binary.BigEndian.Uint16(b))), nil
	case OidInt4:
		if len(b) != 4 {
			return bad()
		}
		return int64(int32(binary.BigEndian.Uint32(b))), nil
	case OidOid, OidRegclass, OidRegtype, OidRegproc, OidRegnamespace, OidRegrole, OidXid, OidCid:
		if len(b) != 4 {
			return bad()
		}
		return int64(binary.BigEndian.Uint32(b)), nil
	case OidInt8:
		if len(b) != 8 {
			return bad()
		}
		return int64(binary.BigEndian.Uint64(b)), nil
	case OidFloat4:
		if len(b) != 4 {
			return bad()
		}
		return float64(math.Float32frombits(binary.BigEndian.Uint32(b))), nil
	case OidFloat8:
		if len(b) != 8 {
			return bad()
		}
		return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
	case OidText, OidVarchar, OidBpchar, OidName, OidUnknown, OidChar:
		return Parse(t, string(b), nil)
	case OidBytea:
		return append([]byte(nil), b...), nil
	}
	return decodeBinaryOther(t, b)
}
