package zk

import (
	"encoding/binary"
	"errors"
	"fmt"

	"hourglass/loglet"
)

// ErrCorrupt: a batch znode does not decode; something other than this
// package wrote it. Reported wrapped with loglet.ErrUnavailable.
var ErrCorrupt = errors.New("zk: corrupt batch")

// batchAppend is one append inside a batch znode.
type batchAppend struct {
	id      loglet.AppendID
	entries [][]byte
}

// appendBatch encodes appends: uvarint(count), then per append
// uvarint(client), uvarint(seq), uvarint(entries), and per entry
// uvarint(len) and its bytes.
func appendBatch(b []byte, appends []batchAppend) []byte {
	b = binary.AppendUvarint(b, uint64(len(appends)))
	for _, a := range appends {
		b = binary.AppendUvarint(b, a.id.Client)
		b = binary.AppendUvarint(b, a.id.Seq)
		b = binary.AppendUvarint(b, uint64(len(a.entries)))
		for _, e := range a.entries {
			b = binary.AppendUvarint(b, uint64(len(e)))
			b = append(b, e...)
		}
	}
	return b
}

// encodedSize is the bytes appendBatch adds for one append.
func encodedSize(a batchAppend) int {
	n := 3 * binary.MaxVarintLen64
	for _, e := range a.entries {
		n += binary.MaxVarintLen64 + len(e)
	}
	return n
}

// parseBatch decodes a batch znode. The entries alias b.
func parseBatch(b []byte) ([]batchAppend, error) {
	r := reader{b: b}
	count := r.uvarint()
	var out []batchAppend
	for i := uint64(0); i < count && r.err == nil; i++ {
		a := batchAppend{id: loglet.AppendID{Client: r.uvarint(), Seq: r.uvarint()}}
		n := r.uvarint()
		for j := uint64(0); j < n && r.err == nil; j++ {
			a.entries = append(a.entries, r.bytes(r.uvarint()))
		}
		out = append(out, a)
	}
	if r.err == nil && len(r.b) != 0 {
		r.err = errors.New("trailing bytes")
	}
	if r.err != nil {
		return nil, fmt.Errorf("%w: %w: %w", loglet.ErrUnavailable, ErrCorrupt, r.err)
	}
	return out, nil
}

// reader decodes uvarints and byte strings, remembering the first error.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errors.New("bad uvarint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = errors.New("entry beyond the batch")
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

// flatten returns a batch's entries in position order.
func flatten(appends []batchAppend) [][]byte {
	var out [][]byte
	for _, a := range appends {
		out = append(out, a.entries...)
	}
	return out
}
