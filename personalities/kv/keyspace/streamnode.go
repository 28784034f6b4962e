package keyspace

import (
	"bytes"
	"encoding/binary"
)

// A stream's nodes mirror the listpacks Redis keeps a stream in, so that
// approximate trimming (MAXLEN ~, MINID ~) removes what Redis removes,
// only whole nodes, and XINFO STREAM counts what Redis counts. A new entry
// starts a new node when the last one holds stream-node-max-entries
// entries (deleted ones included) or when its listpack's size plus the
// entry's field and value lengths reaches stream-node-max-bytes; the
// size is Redis's listpack encoding's, computed here. A node goes when
// its last live entry does.

// StreamNodeMaxEntries and StreamNodeMaxBytes are Redis's defaults of
// stream-node-max-entries and stream-node-max-bytes, the limits of a
// stream's nodes. They are fixed: every replica must group alike.
const (
	StreamNodeMaxEntries = 100
	StreamNodeMaxBytes   = 4096
)

// streamNode is a node's record: 'n' masterID -> live(8) total(8)
// last(16) body(8), then the master entry's fields (encodeFields).
type streamNode struct {
	master streamID
	live   int64    // entries not deleted
	total  int64    // entries appended, deleted or not
	last   streamID // the last entry appended, deleted or not
	// body is the listpack's size in bytes but for its two counters
	// (live and deleted entries), whose sizes vary with their values.
	body   int64
	fields [][]byte // the master entry's fields: those of the first entry
}

func (n streamNode) encode() []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 48), uint64(n.live))
	b = binary.BigEndian.AppendUint64(b, uint64(n.total))
	b = append(b, n.last.bytes()...)
	b = binary.BigEndian.AppendUint64(b, uint64(n.body))
	return append(b, encodeFields(n.fields)...)
}

func decodeStreamNode(master streamID, b []byte) (streamNode, error) {
	if len(b) < 40 {
		return streamNode{}, errCorrupt
	}
	fs, err := decodeFields(b[40:])
	if err != nil {
		return streamNode{}, err
	}
	fields := make([][]byte, len(fs))
	for i, f := range fs {
		fields[i] = f.([]byte)
	}
	return streamNode{master, int64(binary.BigEndian.Uint64(b)), int64(binary.BigEndian.Uint64(b[8:])),
		decodeStreamID(b[16:]), int64(binary.BigEndian.Uint64(b[32:])), fields}, nil
}

// lpBytes is the node's listpack size, as Redis's lpBytes.
func (n streamNode) lpBytes() int64 { return n.body + lpIntSize(n.live) + lpIntSize(n.total-n.live) }

// Listpack element sizes (listpack.c): an encoding, the data, and the
// element's length again backwards, in 1 to 5 bytes.

func lpBacklen(l int64) int64 {
	switch {
	case l <= 127:
		return 1
	case l < 16383:
		return 2
	case l < 2097151:
		return 3
	case l < 268435455:
		return 4
	}
	return 5
}

func lpIntSize(v int64) int64 {
	var l int64
	switch {
	case v >= 0 && v <= 127:
		l = 1
	case v >= -4096 && v <= 4095:
		l = 2
	case v >= -32768 && v <= 32767:
		l = 3
	case v >= -8388608 && v <= 8388607:
		l = 4
	case v >= -2147483648 && v <= 2147483647:
		l = 5
	default:
		l = 9
	}
	return l + lpBacklen(l)
}

// lpStrSize is the size of a string element; one that reads as an
// integer is stored as one.
func lpStrSize(b []byte) int64 {
	if v, ok := ParseInt(b); ok {
		return lpIntSize(v)
	}
	l := int64(len(b))
	switch {
	case l <= 63:
		l++
	case l <= 4095:
		l += 2
	default:
		l += 5
	}
	return l + lpBacklen(l)
}

// lpHeader is a listpack's header (total bytes, element count) and end
// byte.
const lpHeader = 6 + 1

func nodeKey(master streamID) []byte { return sub(subNode, master.bytes()) }

// nodeAt returns the node that holds id (the last one whose master is at
// most id), ok false if there is none.
func (s *stream) nodeAt(id streamID) (n streamNode, ok bool, err error) {
	err = s.scanSub([]byte{subNode}, prefixEnd(nodeKey(id)), true, func(k, v []byte) (bool, error) {
		n, err = decodeStreamNode(decodeStreamID(k[1:]), v)
		ok = err == nil
		return false, err
	})
	return n, ok, err
}

func (s *stream) saveNode(n streamNode) error {
	if n.live == 0 {
		return s.ks.delElem(s.rec.gen, nodeKey(n.master))
	}
	return s.ks.setElem(s.rec.gen, nodeKey(n.master), n.encode())
}

// appendEntry adds the entry id, above every ID of the stream, with
// args its fields and values, as Redis's streamAppendItem.
func (s *stream) appendEntry(id streamID, args [][]byte) error {
	n, ok, err := s.nodeAt(maxStreamID)
	if err != nil {
		return err
	}
	var argBytes int64
	for _, a := range args {
		argBytes += int64(len(a))
	}
	numFields := int64(len(args) / 2)
	if !ok || n.lpBytes()+argBytes >= StreamNodeMaxBytes || n.total >= StreamNodeMaxEntries {
		// A new listpack with the master entry: the counters, the
		// number of fields, the fields and a terminating 0.
		n = streamNode{master: id, body: lpHeader + lpIntSize(numFields) + lpIntSize(0)}
		for i := 0; i < len(args); i += 2 {
			n.fields = append(n.fields, bytes.Clone(args[i]))
			n.body += lpStrSize(args[i])
		}
	}
	same := int64(len(n.fields)) == numFields
	for i := 0; same && i < len(args); i += 2 {
		same = bytes.Equal(n.fields[i/2], args[i])
	}
	// flags, ms and seq from the master's, the fields unless the same as
	// the master's, the values, and the count of those elements.
	count, flags := 3+numFields, int64(0)
	n.body += lpIntSize(int64(id.ms-n.master.ms)) + lpIntSize(int64(id.seq-n.master.seq))
	if same {
		flags = 2
	} else {
		n.body += lpIntSize(numFields)
		count += numFields + 1
	}
	for i := 0; i < len(args); i += 2 {
		if !same {
			n.body += lpStrSize(args[i])
		}
		n.body += lpStrSize(args[i+1])
	}
	n.body += lpIntSize(flags) + lpIntSize(count)
	n.live++
	n.total++
	n.last = id
	if err := s.saveNode(n); err != nil {
		return err
	}
	s.rec.count++
	s.meta.lastID = id
	s.meta.entriesAdded++
	return s.ks.setElem(s.rec.gen, entryKey(id), encodeFields(args))
}

// deleteEntry deletes the entry id; it reports whether there was one.
// Redis only flags it deleted in its listpack, whose size stays but for
// the counters.
func (s *stream) deleteEntry(id streamID) (bool, error) {
	if _, ok, err := s.entry(id); err != nil || !ok {
		return false, err
	}
	n, ok, err := s.nodeAt(id)
	if err != nil {
		return false, err
	}
	if !ok {
		return false, errCorrupt
	}
	n.live--
	if err := s.saveNode(n); err != nil {
		return false, err
	}
	s.rec.count--
	return true, s.ks.delElem(s.rec.gen, entryKey(id))
}
