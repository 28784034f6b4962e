package striped

import (
	"encoding/binary"
	"errors"
	"fmt"

	"hourglass/loglet"
)

// ErrCorrupt: an inner entry does not carry a valid batch header, so the
// stripe holds something this package did not write. It is reported
// wrapped with loglet.ErrUnavailable.
var ErrCorrupt = errors.New("striped: corrupt inner entry")

// record is one decoded inner entry: a caller's entry and its place in the
// batch it was appended with.
type record struct {
	index, count uint64 // the entry is number index (from 0) of count
	data         []byte
}

// rest is the number of entries of the batch after this one.
func (r record) rest() uint64 { return r.count - 1 - r.index }

// appendRecord appends the inner encoding of entry number index of a batch
// of count entries to b: uvarint(index), uvarint(count), entry.
func appendRecord(b []byte, index, count int, entry []byte) []byte {
	b = binary.AppendUvarint(b, uint64(index))
	b = binary.AppendUvarint(b, uint64(count))
	return append(b, entry...)
}

// parseRecord decodes an inner entry. The record's data aliases b.
func parseRecord(b []byte) (record, error) {
	index, n := binary.Uvarint(b)
	if n <= 0 {
		return record{}, fmt.Errorf("%w: %w: bad batch index", loglet.ErrUnavailable, ErrCorrupt)
	}
	count, m := binary.Uvarint(b[n:])
	if m <= 0 || index >= count {
		return record{}, fmt.Errorf("%w: %w: bad batch count", loglet.ErrUnavailable, ErrCorrupt)
	}
	return record{index: index, count: count, data: b[n+m:]}, nil
}
