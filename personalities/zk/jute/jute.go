// Package jute encodes and decodes the ZooKeeper wire format, Apache
// Jute's binary archive: big-endian 32- and 64-bit integers, booleans as
// one byte, buffers and strings as a 4-byte length (-1 for null) followed
// by their bytes, vectors as a 4-byte count (-1 for null) followed by their
// elements.
//
// Encoding appends to a byte slice; decoding reads from one with a sticky
// error, so a message decoder reads every field and checks Err once:
//
//	d := jute.NewDecoder(frame)
//	path, watch := d.String(), d.Bool()
//	if err := d.Err(); err != nil { ... }
//
// A decoder never allocates more than the frame it reads could hold: a
// length or a count larger than the bytes left is an error, not an
// allocation.
package jute

import (
	"encoding/binary"
	"errors"
)

// Errors a Decoder reports.
var (
	// ErrShort means the frame ended inside a field.
	ErrShort = errors.New("jute: frame too short")
	// ErrLength means a length or count is negative (other than -1 for
	// null) or larger than what is left of the frame.
	ErrLength = errors.New("jute: bad length")
	// ErrBool means a boolean byte other than 0 or 1.
	ErrBool = errors.New("jute: bad boolean")
)

// AppendInt appends a 32-bit integer.
func AppendInt(b []byte, v int32) []byte { return binary.BigEndian.AppendUint32(b, uint32(v)) }

// AppendLong appends a 64-bit integer.
func AppendLong(b []byte, v int64) []byte { return binary.BigEndian.AppendUint64(b, uint64(v)) }

// AppendBool appends a boolean.
func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// AppendBuffer appends a buffer; nil is encoded as null (-1).
func AppendBuffer(b, v []byte) []byte {
	if v == nil {
		return AppendInt(b, -1)
	}
	return append(AppendInt(b, int32(len(v))), v...)
}

// AppendString appends a string.
func AppendString(b []byte, s string) []byte {
	return append(AppendInt(b, int32(len(s))), s...)
}

// AppendStrings appends a vector of strings; nil is encoded as null.
func AppendStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return AppendInt(b, -1)
	}
	b = AppendInt(b, int32(len(ss)))
	for _, s := range ss {
		b = AppendString(b, s)
	}
	return b
}

// Decoder reads fields from one frame. After the first error every read
// returns a zero value and Err reports that error.
type Decoder struct {
	buf []byte
	err error
}

// NewDecoder returns a decoder over b. Buffers it returns alias b.
func NewDecoder(b []byte) *Decoder { return &Decoder{buf: b} }

// Err returns the first error met, or nil.
func (d *Decoder) Err() error { return d.err }

// Remaining returns how many bytes are left.
func (d *Decoder) Remaining() int { return len(d.buf) }

// Rest returns the bytes left, without consuming them.
func (d *Decoder) Rest() []byte { return d.buf }

func (d *Decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
	d.buf = nil
}

func (d *Decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n > len(d.buf) {
		d.fail(ErrShort)
		return nil
	}
	b := d.buf[:n:n]
	d.buf = d.buf[n:]
	return b
}

// Int reads a 32-bit integer.
func (d *Decoder) Int() int32 {
	b := d.take(4)
	if b == nil {
		return 0
	}
	return int32(binary.BigEndian.Uint32(b))
}

// Long reads a 64-bit integer.
func (d *Decoder) Long() int64 {
	b := d.take(8)
	if b == nil {
		return 0
	}
	return int64(binary.BigEndian.Uint64(b))
}

// Bool reads a boolean.
func (d *Decoder) Bool() bool {
	b := d.take(1)
	if b == nil {
		return false
	}
	switch b[0] {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail(ErrBool)
	return false
}

// length reads a length or count: -1 is null (ok false); elemSize is the
// least number of bytes each unit takes, to bound it by what is left.
func (d *Decoder) length(elemSize int) (n int, ok bool) {
	v := d.Int()
	if d.err != nil {
		return 0, false
	}
	if v == -1 {
		return 0, false
	}
	if v < 0 || int(v) > len(d.buf)/elemSize {
		d.fail(ErrLength)
		return 0, false
	}
	return int(v), true
}

// Buffer reads a buffer; null is nil. The result aliases the frame.
func (d *Decoder) Buffer() []byte {
	n, ok := d.length(1)
	if !ok {
		return nil
	}
	return d.take(n)
}

// String reads a string; null is "".
func (d *Decoder) String() string {
	return string(d.Buffer())
}

// Strings reads a vector of strings; null is nil.
func (d *Decoder) Strings() []string {
	n, ok := d.length(4)
	if !ok {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.String()
	}
	if d.err != nil {
		return nil
	}
	return out
}

// Count reads a vector's element count; elemSize is the least number of
// bytes an element takes. Null is -1.
func (d *Decoder) Count(elemSize int) int {
	n, ok := d.length(elemSize)
	if !ok {
		return -1
	}
	return n
}
