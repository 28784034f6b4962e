package types

import (
	"encoding/binary"
	"encoding/hex"
	"strings"
	"time"

	"github.com/cockroachdb/apd/v3"

	"hourglass/personalities/sql/pgerror"
)

// The types beyond the scalar ones io.go, compare.go, key.go, row.go,
// cast.go and binary.go handle inline: numeric, the date/time types,
// uuid, json, jsonb and arrays. Each hook below dispatches on the
// representation; the type-specific work is in numeric.go, datetime.go,
// json.go and array.go.

func settingsLoc(s *Settings) *time.Location {
	if s == nil || s.Location == nil {
		return time.UTC
	}
	return s.Location
}

// formatOther prints the types io.go leaves to the type-specific files.
func formatOther(t Type, d any, s *Settings) string {
	switch v := d.(type) {
	case *apd.Decimal:
		return formatNumeric(v)
	case Date:
		return FormatDate(v)
	case TimeOfDay:
		return FormatTime(v)
	case Timestamp:
		return FormatTimestamp(v, t.Oid == OidTimestamptz, settingsLoc(s))
	case Interval:
		return FormatInterval(v)
	case UUID:
		return FormatUUID(v)
	case JSON:
		return string(v)
	case JSONB:
		return string(v)
	case *Array:
		return FormatArray(v, s)
	case Record:
		return formatRecord(v, s)
	}
	return "?"
}

// formatRecord prints a row value as record_out does, with each field as
// text (field types are not kept, so values print by their Go form).
func formatRecord(r Record, s *Settings) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, f := range r {
		if i > 0 {
			b.WriteByte(',')
		}
		if f == nil {
			continue
		}
		txt := Format(recordFieldType(f), f, s)
		if txt == "" || strings.ContainsAny(txt, "(),\"\\ \t\n") {
			b.WriteByte('"')
			for j := 0; j < len(txt); j++ {
				if txt[j] == '"' || txt[j] == '\\' {
					b.WriteByte(txt[j])
				}
				b.WriteByte(txt[j])
			}
			b.WriteByte('"')
		} else {
			b.WriteString(txt)
		}
	}
	b.WriteByte(')')
	return b.String()
}

// recordFieldType guesses a field's type from its representation.
func recordFieldType(d any) Type {
	switch d.(type) {
	case int64:
		return Int8Type
	case float64:
		return Float8Type
	case Timestamp:
		return TimestampType
	}
	return UnknownType
}

// parseOther reads the types io.go leaves to the type-specific files.
func parseOther(t Type, text string, s *Settings) (any, error) {
	switch Kind(t.Oid) {
	case KindNumeric:
		d, err := ParseNumeric(text)
		if err != nil {
			return nil, err
		}
		return Coerce(t, d, false)
	case KindDate:
		d, err := ParseDate(text)
		if err != nil {
			return nil, err
		}
		return d, nil
	case KindTime:
		v, err := ParseTime(text)
		if err != nil {
			return nil, err
		}
		return Coerce(t, v, false)
	case KindTimestamp:
		v, err := ParseTimestamp(text, t.Oid == OidTimestamptz, settingsLoc(s))
		if err != nil {
			return nil, err
		}
		return Coerce(t, v, false)
	case KindInterval:
		v, err := ParseInterval(text)
		if err != nil {
			return nil, err
		}
		return Coerce(t, v, false)
	case KindUUID:
		return ParseUUID(text)
	case KindJSON:
		if _, err := ParseJSONValue(text, "json"); err != nil {
			return nil, err
		}
		return JSON(text), nil
	case KindJSONB:
		return ParseJSONB(text)
	case KindArray:
		return ParseArray(t, text, s)
	}
	return nil, pgerror.New(pgerror.FeatureNotSupported, "type %s is not supported", FormatType(t.Oid, t.Mod))
}

// coerceOther applies modifiers of the types Coerce leaves to the
// type-specific files.
func coerceOther(t Type, d any, explicit bool) (any, error) {
	switch v := d.(type) {
	case *apd.Decimal:
		return coerceNumeric(v, t.Mod)
	case TimeOfDay:
		return TimeOfDay(roundMicros(int64(v), t.Mod)), nil
	case Timestamp:
		if !v.IsFinite() {
			return v, nil
		}
		return Timestamp(roundMicros(int64(v), t.Mod)), nil
	case Interval:
		return coerceInterval(v, t.Mod), nil
	case *Array:
		out := &Array{Elem: v.Elem, Dims: v.Dims, Lbounds: v.Lbounds, Elems: make([]any, len(v.Elems))}
		et := Type{Oid: v.Elem, Mod: t.Mod}
		for i, e := range v.Elems {
			c, err := Coerce(et, e, explicit)
			if err != nil {
				return nil, err
			}
			out.Elems[i] = c
		}
		return out, nil
	}
	return d, nil
}

// coerceInterval applies an interval's precision (the low 16 bits of its
// modifier; 0xffff means full precision). Field restrictions (YEAR TO
// MONTH and the like) are not applied.
func coerceInterval(v Interval, mod int32) Interval {
	p := mod & 0xffff
	if p == 0xffff || mod < 0 {
		return v
	}
	v.Micros = roundMicros(v.Micros, p)
	return v
}

// compareOther orders the types Compare leaves to the type-specific files.
func compareOther(t Oid, a, b any) int {
	switch x := a.(type) {
	case *apd.Decimal:
		return compareNumeric(x, b.(*apd.Decimal))
	case Date:
		return cmpOrdered(x, b.(Date))
	case TimeOfDay:
		return cmpOrdered(x, b.(TimeOfDay))
	case Timestamp:
		return cmpOrdered(x, b.(Timestamp))
	case Interval:
		return CompareInterval(x, b.(Interval))
	case UUID:
		y := b.(UUID)
		return strings.Compare(string(x[:]), string(y[:]))
	case JSONB:
		return CompareJSONB(x.Value(), b.(JSONB).Value())
	case JSON:
		return strings.Compare(string(x), string(b.(JSON)))
	case *Array:
		return CompareArray(x, b.(*Array))
	}
	return 0
}

func cmpOrdered[T ~int32 | ~int64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// appendKeyOther key-encodes the types appendKeyValue leaves to the
// type-specific files.
func appendKeyOther(b []byte, t Oid, d any) ([]byte, error) {
	switch v := d.(type) {
	case *apd.Decimal:
		return appendKeyNumeric(b, v), nil
	case Date:
		return binary.BigEndian.AppendUint64(b, uint64(int64(v))^(1<<63)), nil
	case TimeOfDay:
		return binary.BigEndian.AppendUint64(b, uint64(int64(v))^(1<<63)), nil
	case Timestamp:
		return binary.BigEndian.AppendUint64(b, uint64(int64(v))^(1<<63)), nil
	case Interval:
		hi, lo := IntervalSpan(v)
		b = binary.BigEndian.AppendUint64(b, uint64(hi)^(1<<63))
		return binary.BigEndian.AppendUint64(b, lo), nil
	case UUID:
		return append(b, v[:]...), nil
	case JSONB:
		return appendKeyJSON(b, v.Value()), nil
	case *Array:
		return appendKeyArray(b, v)
	}
	return b, errKeyType(t)
}

// appendKeyJSON orders as CompareJSONB: the kind's rank, then the value;
// arrays and objects lead with their length.
func appendKeyJSON(b []byte, v JSONValue) []byte {
	b = append(b, byte(jsonbRank(v)))
	switch x := v.(type) {
	case string:
		return appendKeyBytes(b, []byte(x))
	case *apd.Decimal:
		return appendKeyNumeric(b, x)
	case bool:
		if x {
			return append(b, 1)
		}
		return append(b, 0)
	case []JSONValue:
		b = binary.BigEndian.AppendUint32(b, uint32(len(x)))
		for _, e := range x {
			b = appendKeyJSON(b, e)
		}
	case *JSONObject:
		b = binary.BigEndian.AppendUint32(b, uint32(len(x.Keys)))
		for i, k := range x.Keys {
			b = appendKeyBytes(b, []byte(k))
			b = appendKeyJSON(b, x.Vals[i])
		}
	}
	return b
}

// appendValueOther row-encodes the types AppendValue leaves to the
// type-specific files.
func appendValueOther(b []byte, t Oid, d any) ([]byte, error) {
	switch v := d.(type) {
	case *apd.Decimal:
		s := formatNumeric(v)
		b = binary.AppendUvarint(b, uint64(len(s)))
		return append(b, s...), nil
	case Date:
		return binary.AppendVarint(b, int64(v)), nil
	case TimeOfDay:
		return binary.AppendVarint(b, int64(v)), nil
	case Timestamp:
		return binary.AppendVarint(b, int64(v)), nil
	case Interval:
		b = binary.AppendVarint(b, int64(v.Months))
		b = binary.AppendVarint(b, int64(v.Days))
		return binary.AppendVarint(b, v.Micros), nil
	case UUID:
		return append(b, v[:]...), nil
	case JSON:
		b = binary.AppendUvarint(b, uint64(len(v)))
		return append(b, v...), nil
	case JSONB:
		b = binary.AppendUvarint(b, uint64(len(v)))
		return append(b, v...), nil
	case *Array:
		return appendValueArray(b, v)
	}
	return b, errKeyType(t)
}

// decodeValueOther decodes the types DecodeValue leaves to the
// type-specific files.
func decodeValueOther(b []byte, t Oid) (any, []byte, error) {
	varint := func() (int64, bool) {
		v, n := binary.Varint(b)
		if n <= 0 {
			return 0, false
		}
		b = b[n:]
		return v, true
	}
	str := func() (string, bool) {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return "", false
		}
		s := string(b[k : k+int(n)])
		b = b[k+int(n):]
		return s, true
	}
	switch Kind(t) {
	case KindNumeric:
		s, ok := str()
		if !ok {
			return nil, nil, errCorrupt
		}
		d, err := ParseNumeric(s)
		if err != nil {
			return nil, nil, errCorrupt
		}
		return d, b, nil
	case KindDate:
		v, ok := varint()
		if !ok {
			return nil, nil, errCorrupt
		}
		return Date(v), b, nil
	case KindTime:
		v, ok := varint()
		if !ok {
			return nil, nil, errCorrupt
		}
		return TimeOfDay(v), b, nil
	case KindTimestamp:
		v, ok := varint()
		if !ok {
			return nil, nil, errCorrupt
		}
		return Timestamp(v), b, nil
	case KindInterval:
		m, ok1 := varint()
		d, ok2 := varint()
		us, ok3 := varint()
		if !ok1 || !ok2 || !ok3 {
			return nil, nil, errCorrupt
		}
		return Interval{Months: int32(m), Days: int32(d), Micros: us}, b, nil
	case KindUUID:
		if len(b) < 16 {
			return nil, nil, errCorrupt
		}
		var u UUID
		copy(u[:], b)
		return u, b[16:], nil
	case KindJSON:
		s, ok := str()
		if !ok {
			return nil, nil, errCorrupt
		}
		return JSON(s), b, nil
	case KindJSONB:
		s, ok := str()
		if !ok {
			return nil, nil, errCorrupt
		}
		return JSONB(s), b, nil
	case KindArray:
		return decodeValueArray(b, t)
	}
	return nil, nil, errCorrupt
}

// castOther converts between the types Cast leaves to the type-specific
// files.
func castOther(d any, from, to Type, explicit bool, s *Settings) (any, error) {
	fk, tk := Kind(from.Oid), Kind(to.Oid)
	loc := settingsLoc(s)
	switch {
	case fk == KindInt && tk == KindNumeric:
		return Coerce(to, NumericFromInt(d.(int64)), explicit)
	case fk == KindFloat && tk == KindNumeric:
		bits := 64
		if from.Oid == OidFloat4 {
			bits = 32
		}
		return Coerce(to, NumericFromFloat(d.(float64), bits), explicit)
	case fk == KindNumeric && tk == KindInt:
		return NumericToInt(d.(*apd.Decimal), to.Oid)
	case fk == KindNumeric && tk == KindFloat:
		return Cast(NumericToFloat(d.(*apd.Decimal)), Float8Type, to, explicit, s)
	case fk == KindDate && tk == KindTimestamp:
		v := d.(Date)
		switch v {
		case DatePosInfinity:
			return TimestampPosInfinity, nil
		case DateNegInfinity:
			return TimestampNegInfinity, nil
		}
		ts := Timestamp(int64(v) * usPerDay)
		if to.Oid == OidTimestamptz {
			t := v.Time()
			ts = TimestampOf(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc))
		}
		if !TimestampInRange(ts) {
			return nil, pgerror.New(pgerror.DatetimeFieldOverflow, "date out of range for timestamp")
		}
		return ts, nil
	case fk == KindTimestamp && tk == KindDate:
		v := d.(Timestamp)
		switch v {
		case TimestampPosInfinity:
			return DatePosInfinity, nil
		case TimestampNegInfinity:
			return DateNegInfinity, nil
		}
		if from.Oid == OidTimestamptz {
			return DateOf(v.TimeOf(loc)), nil
		}
		return Date(floorDiv(int64(v), usPerDay)), nil
	case fk == KindTimestamp && tk == KindTimestamp:
		v := d.(Timestamp)
		if !v.IsFinite() {
			return v, nil
		}
		if from.Oid == OidTimestamp {
			// Wall clock in the session's zone to an instant.
			t := v.TimeOf(time.UTC)
			return Coerce(to, TimestampOf(time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc)), explicit)
		}
		return Coerce(to, WallTimestamp(v.TimeOf(loc)), explicit)
	case fk == KindTimestamp && tk == KindTime:
		v := d.(Timestamp)
		if !v.IsFinite() {
			return nil, pgerror.New(pgerror.DatetimeFieldOverflow, "timestamp out of range")
		}
		if from.Oid == OidTimestamptz {
			v = WallTimestamp(v.TimeOf(loc))
		}
		us := int64(v) % usPerDay
		if us < 0 {
			us += usPerDay
		}
		return Coerce(to, TimeOfDay(us), explicit)
	case fk == KindTime && tk == KindInterval:
		return Interval{Micros: int64(d.(TimeOfDay))}, nil
	case fk == KindInterval && tk == KindTime:
		us := d.(Interval).Micros % usPerDay
		if us < 0 {
			us += usPerDay
		}
		return TimeOfDay(us), nil
	case fk == KindJSON && tk == KindJSONB:
		return ParseJSONB(string(d.(JSON)))
	case fk == KindJSONB && tk == KindJSON:
		return JSON(d.(JSONB)), nil
	case fk == KindJSONB && (tk == KindNumeric || tk == KindInt || tk == KindFloat || tk == KindBool):
		return castFromJSONB(d.(JSONB), to, explicit, s)
	case fk == KindArray && tk == KindArray:
		a := d.(*Array)
		out := &Array{Elem: ElemOf(to.Oid), Dims: a.Dims, Lbounds: a.Lbounds, Elems: make([]any, len(a.Elems))}
		et := Type{Oid: out.Elem, Mod: to.Mod}
		for i, e := range a.Elems {
			c, err := Cast(e, T(a.Elem), et, explicit, s)
			if err != nil {
				return nil, err
			}
			out.Elems[i] = c
		}
		return out, nil
	}
	return nil, errNoCast(from, to)
}

// castFromJSONB converts a jsonb scalar to numeric, an integer, a float
// or boolean, as Postgres's jsonb casts do.
func castFromJSONB(j JSONB, to Type, explicit bool, s *Settings) (any, error) {
	v := j.Value()
	kind := "number"
	if to.Oid == OidBool {
		kind = "boolean"
	}
	switch x := v.(type) {
	case *apd.Decimal:
		if kind == "number" {
			return Cast(x, NumericType, to, explicit, s)
		}
	case bool:
		if kind == "boolean" {
			return x, nil
		}
	}
	return nil, pgerror.New(pgerror.InvalidParameterValue, "cannot cast jsonb %s to type %s", jsonTypeName(v), FormatType(to.Oid, -1))
}

// jsonTypeName is jsonb_typeof's answer.
func jsonTypeName(v JSONValue) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case *apd.Decimal:
		return "number"
	case []JSONValue:
		return "array"
	}
	return "object"
}

// JSONTypeName is jsonb_typeof / json_typeof of a parsed value.
func JSONTypeName(v JSONValue) string { return jsonTypeName(v) }

// encodeBinaryOther sends the types EncodeBinary leaves to the
// type-specific files.
func encodeBinaryOther(t Type, d any) ([]byte, error) {
	switch v := d.(type) {
	case *apd.Decimal:
		return encodeNumericBinary(v), nil
	case Date:
		return binary.BigEndian.AppendUint32(nil, uint32(int32(v))), nil
	case TimeOfDay:
		return binary.BigEndian.AppendUint64(nil, uint64(v)), nil
	case Timestamp:
		return binary.BigEndian.AppendUint64(nil, uint64(v)), nil
	case Interval:
		b := binary.BigEndian.AppendUint64(nil, uint64(v.Micros))
		b = binary.BigEndian.AppendUint32(b, uint32(v.Days))
		return binary.BigEndian.AppendUint32(b, uint32(v.Months)), nil
	case UUID:
		return append([]byte(nil), v[:]...), nil
	case JSON:
		return []byte(v), nil
	case JSONB:
		return append([]byte{1}, v...), nil
	case *Array:
		return encodeArrayBinary(v)
	}
	return nil, pgerror.New(pgerror.FeatureNotSupported, "binary output of type %s is not supported", FormatType(t.Oid, t.Mod))
}

// decodeBinaryOther receives the types DecodeBinary leaves to the
// type-specific files.
func decodeBinaryOther(t Type, b []byte) (any, error) {
	bad := pgerror.New(pgerror.InvalidBinaryRepresentation, "incorrect binary data format")
	switch Kind(t.Oid) {
	case KindNumeric:
		d, err := decodeNumericBinary(b)
		if err != nil {
			return nil, err
		}
		return Coerce(t, d, false)
	case KindDate:
		if len(b) != 4 {
			return nil, bad
		}
		return Date(int32(binary.BigEndian.Uint32(b))), nil
	case KindTime:
		if len(b) != 8 {
			return nil, bad
		}
		us := int64(binary.BigEndian.Uint64(b))
		if us < 0 || us > usPerDay {
			return nil, pgerror.New(pgerror.DatetimeFieldOverflow, "time out of range")
		}
		return Coerce(t, TimeOfDay(us), false)
	case KindTimestamp:
		if len(b) != 8 {
			return nil, bad
		}
		ts := Timestamp(int64(binary.BigEndian.Uint64(b)))
		if ts.IsFinite() && !TimestampInRange(ts) {
			return nil, errTimestampRange
		}
		return Coerce(t, ts, false)
	case KindInterval:
		if len(b) != 16 {
			return nil, bad
		}
		return Coerce(t, Interval{
			Micros: int64(binary.BigEndian.Uint64(b)),
			Days:   int32(binary.BigEndian.Uint32(b[8:])),
			Months: int32(binary.BigEndian.Uint32(b[12:])),
		}, false)
	case KindUUID:
		if len(b) != 16 {
			return nil, pgerror.New(pgerror.InvalidBinaryRepresentation, "insufficient data left in message")
		}
		var u UUID
		copy(u[:], b)
		return u, nil
	case KindJSON:
		return Parse(t, string(b), nil)
	case KindJSONB:
		if len(b) == 0 || b[0] != 1 {
			return nil, pgerror.New(pgerror.InvalidBinaryRepresentation, "unsupported jsonb version number")
		}
		return ParseJSONB(string(b[1:]))
	case KindArray:
		return decodeArrayBinary(t, b)
	}
	return nil, pgerror.New(pgerror.FeatureNotSupported, "binary input of type %s is not supported", FormatType(t.Oid, t.Mod))
}

// FormatUUID prints a uuid as uuid_out does.
func FormatUUID(u UUID) string {
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// ParseUUID reads uuid_in's forms: 32 hex digits, optionally in braces,
// with a hyphen allowed after any group of four digits.
func ParseUUID(text string) (UUID, error) {
	var u UUID
	s := text
	bad := pgerror.New(pgerror.InvalidTextRepresentation, "invalid input syntax for type uuid: \"%s\"", text)
	braces := strings.HasPrefix(s, "{")
	if braces {
		if !strings.HasSuffix(s, "}") {
			return u, bad
		}
		s = s[1 : len(s)-1]
	}
	var digits []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '-' {
			if len(digits) == 0 || len(digits)%4 != 0 || i+1 >= len(s) || s[i+1] == '-' {
				return u, bad
			}
			continue
		}
		digits = append(digits, c)
	}
	if len(digits) != 32 {
		return u, bad
	}
	if _, err := hex.Decode(u[:], digits); err != nil {
		return u, bad
	}
	return u, nil
}
