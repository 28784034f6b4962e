package types

import (
	"bytes"
	"testing"
)

// samples lists values of every type in text form; the test parses them.
var samples = map[Oid][]string{
	OidBool:        {"f", "t"},
	OidInt2:        {"-32768", "-1", "0", "7", "32767"},
	OidInt4:        {"-2147483648", "-5", "0", "1", "2147483647"},
	OidInt8:        {"-9223372036854775808", "-1", "0", "42", "9223372036854775807"},
	OidFloat4:      {"-Infinity", "-1.5", "-0", "0", "1e-30", "3.25", "Infinity", "NaN"},
	OidFloat8:      {"-Infinity", "-1e+300", "-2.5", "0", "5e-324", "1", "1.0000000000000002", "Infinity", "NaN"},
	OidNumeric:     {"-Infinity", "-1000.5", "-1000", "-999.99", "-1", "-0.001", "0", "0.00", "0.0001", "0.001", "1", "1.0", "1.5", "2", "10", "99.9", "100", "123456789012345678901234567890.123", "Infinity", "NaN"},
	OidText:        {"", "a", "a\x00b", "ab", "b", "é"},
	OidBpchar:      {"", "a", "a  ", "ab"},
	OidBytea:       {`\x`, `\x00`, `\x0000`, `\x01`, `\xff`},
	OidDate:        {"-infinity", "4713-11-24 BC", "0001-12-31 BC", "1999-12-31", "2000-01-01", "2024-02-29", "5874897-12-31", "infinity"},
	OidTime:        {"00:00:00", "00:00:00.000001", "12:30:00", "23:59:59.999999", "24:00:00"},
	OidTimestamp:   {"-infinity", "1900-01-01 00:00:00", "1999-12-31 23:59:59.999999", "2000-01-01 00:00:00", "2024-05-01 10:00:00.5", "infinity"},
	OidTimestamptz: {"-infinity", "1969-12-31 23:59:59+00", "2000-01-01 00:00:00+00", "2024-05-01 10:00:00.5+00", "infinity"},
	OidInterval:    {"-1 years", "-1 days", "-00:00:01", "00:00:00", "00:00:01", "1 day", "1 mon", "30 days 00:00:01", "1 year", "178956970 years 7 mons 2147483647 days 2562047788:00:54.775807"},
	OidUUID:        {"00000000-0000-0000-0000-000000000000", "00000000-0000-0000-0000-000000000001", "7fffffff-ffff-ffff-ffff-ffffffffffff", "80000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"},
	OidJsonb:       {`null`, `""`, `"a"`, `"b"`, `-1`, `0`, `1.5`, `false`, `true`, `[]`, `[1]`, `[2]`, `[1, 2]`, `{}`, `{"a": 1}`, `{"b": 1}`, `{"a": 1, "b": 2}`},
	1007:           {"{}", "{0}", "{1}", "{1,2}", "{{1,2},{3,4}}", "{1,NULL}", "{2}"},
	1009:           {"{}", `{""}`, "{a}", `{"a b",NULL}`, "{b}"},
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// TestTypesRoundTrip checks, for every type, that text, binary and row
// encodings read back what they wrote, and that key encodings order as
// Compare does (ascending, descending, NULL last).
func TestTypesRoundTrip(t *testing.T) {
	s := DefaultSettings()
	for oid, texts := range samples {
		typ := T(oid)
		var vals []any
		for _, txt := range texts {
			v, err := Parse(typ, txt, s)
			if err != nil {
				t.Fatalf("%s: parse %q: %v", typ, txt, err)
			}
			vals = append(vals, v)
			if oid != OidBpchar && oid != OidFloat4 {
				if got := Format(typ, v, s); got != txt && oid != OidJsonb {
					t.Errorf("%s: %q prints as %q", typ, txt, got)
				}
			}
			back, err := Parse(typ, Format(typ, v, s), s)
			if err != nil || Compare(oid, back, v) != 0 {
				t.Errorf("%s: %q does not read back its output (%v)", typ, txt, err)
			}
			bin, err := EncodeBinary(typ, v)
			if err != nil {
				t.Fatalf("%s: binary of %q: %v", typ, txt, err)
			}
			dec, err := DecodeBinary(typ, bin)
			if err != nil || Compare(oid, dec, v) != 0 || Format(typ, dec, s) != Format(typ, v, s) {
				t.Errorf("%s: binary round trip of %q gave %v (%v)", typ, txt, dec, err)
			}
			row, err := AppendValue(nil, oid, v)
			if err != nil {
				t.Fatalf("%s: row encoding of %q: %v", typ, txt, err)
			}
			got, rest, err := DecodeValue(row, oid)
			if err != nil || len(rest) != 0 || Format(typ, got, s) != Format(typ, v, s) {
				t.Errorf("%s: row round trip of %q gave %v (%v)", typ, txt, got, err)
			}
		}
		vals = append(vals, nil)
		for i, a := range vals {
			for j, b := range vals {
				var want int
				switch {
				case a == nil && b == nil:
				case a == nil:
					want = 1
				case b == nil:
					want = -1
				default:
					want = Compare(oid, a, b)
				}
				for _, desc := range []bool{false, true} {
					ka, err1 := AppendKey(nil, oid, a, desc)
					kb, err2 := AppendKey(nil, oid, b, desc)
					if err1 != nil || err2 != nil {
						t.Fatalf("%s: key: %v %v", typ, err1, err2)
					}
					w := want
					if desc {
						w = -w
					}
					if got := sign(bytes.Compare(ka, kb)); got != sign(w) {
						t.Errorf("%s (desc %v): keys of %v and %v compare %d, values %d", typ, desc, vals[i], vals[j], got, w)
					}
				}
			}
		}
	}
}

// TestCompareOrder checks that each sample list is in ascending order.
func TestCompareOrder(t *testing.T) {
	s := DefaultSettings()
	for oid, texts := range samples {
		for i := 1; i < len(texts); i++ {
			a, _ := Parse(T(oid), texts[i-1], s)
			b, _ := Parse(T(oid), texts[i], s)
			if Compare(oid, a, b) > 0 {
				t.Errorf("%s: %q sorts after %q", T(oid), texts[i-1], texts[i])
			}
		}
	}
}
