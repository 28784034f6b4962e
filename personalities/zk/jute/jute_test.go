package jute

import (
	"bytes"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	var b []byte
	b = AppendInt(b, -7)
	b = AppendLong(b, 1<<40)
	b = AppendBool(b, true)
	b = AppendBuffer(b, nil)
	b = AppendBuffer(b, []byte("data"))
	b = AppendString(b, "path")
	b = AppendStrings(b, []string{"a", "", "c"})
	b = AppendStrings(b, nil)
	d := NewDecoder(b)
	if d.Int() != -7 || d.Long() != 1<<40 || !d.Bool() || d.Buffer() != nil || string(d.Buffer()) != "data" || d.String() != "path" {
		t.Fatal("scalars do not round-trip")
	}
	if ss := d.Strings(); len(ss) != 3 || ss[2] != "c" {
		t.Fatalf("strings = %q", ss)
	}
	if ss := d.Strings(); ss != nil {
		t.Fatalf("null vector = %q", ss)
	}
	if d.Err() != nil || d.Remaining() != 0 {
		t.Fatalf("err %v, %d left", d.Err(), d.Remaining())
	}
}

func TestBadLengths(t *testing.T) {
	for name, frame := range map[string][]byte{
		"short int":         {0, 0, 1},
		"negative length":   AppendInt(nil, -2),
		"length past end":   append(AppendInt(nil, 10), "abc"...),
		"huge vector":       AppendInt(nil, 1<<30),
		"vector past end":   append(AppendInt(nil, 2), AppendString(nil, "x")...),
		"bool out of range": {2},
	} {
		d := NewDecoder(frame)
		switch name {
		case "short int":
			d.Int()
		case "bool out of range":
			d.Bool()
		case "huge vector", "vector past end":
			d.Strings()
		default:
			d.Buffer()
		}
		if d.Err() == nil {
			t.Errorf("%s: no error", name)
		}
		// After an error every read is a zero value.
		if d.Long() != 0 || d.String() != "" {
			t.Errorf("%s: reads after an error are not zero", name)
		}
	}
}

// FuzzDecoder reads arbitrary frames with every field type: it must never
// panic, never allocate beyond the frame, and re-encode what it decoded
// to the bytes it consumed.
func FuzzDecoder(f *testing.F) {
	f.Add([]byte{0, 0, 0, 3, 'a', 'b', 'c', 1})
	f.Add(AppendStrings(nil, []string{"x", "yz"}))
	f.Add(AppendInt(nil, -1))
	f.Fuzz(func(t *testing.T, frame []byte) {
		d := NewDecoder(frame)
		var re []byte
		for d.Err() == nil && d.Remaining() > 0 {
			switch d.Remaining() % 4 {
			case 0:
				v := d.Strings()
				if d.Err() == nil {
					re = AppendStrings(re, v)
				}
			case 1:
				v := d.Buffer()
				if d.Err() == nil {
					re = AppendBuffer(re, v)
				}
			case 2:
				v := d.Int()
				if d.Err() == nil {
					re = AppendInt(re, v)
				}
			default:
				v := d.Long()
				if d.Err() == nil {
					re = AppendLong(re, v)
				}
			}
		}
		if d.Err() == nil && !bytes.Equal(re, frame) {
			t.Fatalf("re-encoded %x, read %x", re, frame)
		}
	})
}
