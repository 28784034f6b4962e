package keyspace

import (
	"bytes"
	"encoding/binary"
	"math"
	"strconv"

	"hourglass/internal/uvarint"
)

// Streams: a stream is a collection (type 'X') whose record counts its
// live entries; everything else hangs off its generation:
//
//	'e' id(16)                      -> an entry: uvarint field count, then
//	                                   uvarint length and bytes of each
//	                                   field and value
//	'm'                             -> the stream's metadata (streamMeta)
//	'n' masterID(16)                -> a node: the entries from masterID on
//	                                   that Redis would keep in one
//	                                   listpack, for ~ trimming (streamNode)
//	'g' group                       -> a consumer group (streamGroup)
//	'c' esc(group) consumer         -> a consumer: its seen time
//	'p' esc(group) id(16)           -> the group's pending entry (streamNACK)
//	'q' esc(group) esc(consumer) id -> empty: the consumer's pending entry
//
// with ids big endian ms then seq, so entries and pending lists are in ID
// order, and esc an order-preserving escape (0 -> 0 0xff, ending 0 1), so
// groups and consumers come in name order. An empty stream stays, as in
// Redis; deleting the key drops all of it with the generation.
const typeStream = 'X'

// Sub-key prefixes of a stream's elements.
const (
	subEntry    = 'e'
	subMeta     = 'm'
	subNode     = 'n'
	subGroup    = 'g'
	subConsumer = 'c'
	subPEL      = 'p'
	subOwned    = 'q'
)

// streamID is a stream entry ID.
type streamID struct{ ms, seq uint64 }

var maxStreamID = streamID{math.MaxUint64, math.MaxUint64}

func (a streamID) cmp(b streamID) int {
	switch {
	case a.ms < b.ms:
		return -1
	case a.ms > b.ms:
		return 1
	case a.seq < b.seq:
		return -1
	case a.seq > b.seq:
		return 1
	}
	return 0
}

func (a streamID) isZero() bool { return a.ms == 0 && a.seq == 0 }

// incr returns the next ID; ok false past the last one.
func (a streamID) incr() (streamID, bool) {
	switch {
	case a.seq < math.MaxUint64:
		return streamID{a.ms, a.seq + 1}, true
	case a.ms < math.MaxUint64:
		return streamID{a.ms + 1, 0}, true
	}
	return a, false
}

// decr returns the previous ID; ok false before 0-0.
func (a streamID) decr() (streamID, bool) {
	switch {
	case a.seq > 0:
		return streamID{a.ms, a.seq - 1}, true
	case a.ms > 0:
		return streamID{a.ms - 1, math.MaxUint64}, true
	}
	return a, false
}

func (a streamID) bytes() []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 16), a.ms)
	return binary.BigEndian.AppendUint64(b, a.seq)
}

func decodeStreamID(b []byte) streamID {
	if len(b) < 16 {
		return streamID{}
	}
	return streamID{binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:])}
}

// reply is the ID as Redis writes it, ms-seq.
func (a streamID) reply() []byte {
	b := strconv.AppendUint(nil, a.ms, 10)
	return strconv.AppendUint(append(b, '-'), a.seq, 10)
}

const errInvalidID = Error("ERR Invalid stream ID specified as stream command argument")

// parseStreamID parses an ID argument as Redis's
// streamGenericParseIDOrReply: "-" and "+" (unless strict), ms, or
// ms-seq, and ms-* where autoSeq is allowed (auto true then). A missing
// seq is missingSeq.
func parseStreamID(b []byte, missingSeq uint64, strict, autoSeqOK bool) (id streamID, auto bool, err error) {
	if len(b) > 127 {
		return id, false, errInvalidID
	}
	if len(b) == 1 && (b[0] == '-' || b[0] == '+') {
		if strict {
			return id, false, errInvalidID
		}
		if b[0] == '-' {
			return streamID{}, false, nil
		}
		return maxStreamID, false, nil
	}
	msPart, seqPart, hasSeq := bytes.Cut(b, []byte{'-'})
	ms, ok := string2ull(msPart)
	if !ok {
		return id, false, errInvalidID
	}
	if !hasSeq {
		return streamID{ms, missingSeq}, false, nil
	}
	if autoSeqOK && len(seqPart) == 1 && seqPart[0] == '*' {
		return streamID{ms, 0}, true, nil
	}
	seq, ok := string2ull(seqPart)
	if !ok {
		return id, false, errInvalidID
	}
	return streamID{ms, seq}, false, nil
}

// strictID parses an ID that must be explicit (no "-" or "+").
func strictID(b []byte) (streamID, error) {
	id, _, err := parseStreamID(b, 0, true, false)
	return id, err
}

// parseIntervalID parses a range bound: an ID, "-" or "+", or "(" and a
// strict ID for an exclusive bound, which is moved inwards; Redis's
// errors when it cannot be.
func parseIntervalID(b []byte, end bool) (streamID, error) {
	missing := uint64(0)
	if end {
		missing = math.MaxUint64
	}
	if len(b) > 1 && b[0] == '(' {
		id, _, err := parseStreamID(b[1:], missing, true, false)
		if err != nil {
			return id, err
		}
		var ok bool
		if end {
			if id, ok = id.decr(); !ok {
				return id, Error("ERR invalid end ID for the interval")
			}
		} else if id, ok = id.incr(); !ok {
			return id, Error("ERR invalid start ID for the interval")
		}
		return id, nil
	}
	id, _, err := parseStreamID(b, missing, false, false)
	return id, err
}

// string2ull parses an unsigned 64-bit number as Redis's string2ull: a
// strict integer that is not negative, or else whatever strtoull accepts
// whole (leading spaces, a sign, leading zeros; a '-' wraps around).
func string2ull(b []byte) (uint64, bool) {
	if v, ok := ParseInt(b); ok {
		return uint64(v), v >= 0
	}
	i := 0
	for i < len(b) && (b[i] == ' ' || (b[i] >= '\t' && b[i] <= '\r')) {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	if i == len(b) {
		return 0, false
	}
	var v uint64
	for ; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > (math.MaxUint64-uint64(c-'0'))/10 {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

// streamMeta is what a stream keeps besides its entries.
type streamMeta struct {
	lastID       streamID // the last ID ever added (or set by XSETID)
	entriesAdded uint64
	maxDeleted   streamID // the largest ID deleted by XDEL
}

func (m streamMeta) encode() []byte {
	b := append(m.lastID.bytes(), make([]byte, 8)...)
	binary.BigEndian.PutUint64(b[16:], m.entriesAdded)
	return append(b, m.maxDeleted.bytes()...)
}

func decodeStreamMeta(b []byte) (streamMeta, error) {
	if len(b) != 40 {
		return streamMeta{}, errCorrupt
	}
	return streamMeta{decodeStreamID(b), binary.BigEndian.Uint64(b[16:]), decodeStreamID(b[24:])}, nil
}

// stream is a stream key opened by a command: its record and metadata.
type stream struct {
	ks     *Keyspace
	key    []byte
	rec    record
	stored bool // the key holds the stream already
	meta   streamMeta
}

// openStream returns the stream at key; ok false if there is none, and
// errWrongType if key holds another type.
func (ks *Keyspace) openStream(key []byte) (*stream, bool, error) {
	rec, ok, err := ks.lookupType(key, typeStream)
	if err != nil || !ok {
		return nil, false, err
	}
	s := &stream{ks: ks, key: key, rec: rec, stored: true}
	b, found, err := ks.getElem(rec.gen, []byte{subMeta})
	if err != nil {
		return nil, false, err
	}
	if found {
		if s.meta, err = decodeStreamMeta(b); err != nil {
			return nil, false, err
		}
	}
	return s, true, nil
}

// newStream returns a fresh, empty stream for key, not yet stored.
func (ks *Keyspace) newStream(key []byte) (*stream, error) {
	rec, err := ks.newCollection(typeStream)
	if err != nil {
		return nil, err
	}
	return &stream{ks: ks, key: key, rec: rec}, nil
}

// save stores the record and metadata; an empty stream stays. The key
// counts as modified (for WATCH and blocked readers).
func (s *stream) save() error {
	if err := s.saveMeta(); err != nil {
		return err
	}
	if s.stored {
		return s.ks.update(s.key, s.rec)
	}
	s.stored = true
	return s.ks.put(s.key, s.rec, false, record{})
}

// saveMeta stores the metadata only: a change that leaves the key
// unmodified for WATCH and blocked readers, as in Redis (XSETID).
//
// REQUIRES: the stream is stored and its record unchanged.
func (s *stream) saveMeta() error {
	return s.ks.setElem(s.rec.gen, []byte{subMeta}, s.meta.encode())
}

// sub returns a sub-key: prefix then the parts.
func sub(prefix byte, parts ...[]byte) []byte {
	n := 1
	for _, p := range parts {
		n += len(p)
	}
	b := make([]byte, 1, n)
	b[0] = prefix
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// esc escapes a name so that names keep their order as sub-key prefixes.
func esc(name []byte) []byte {
	b := make([]byte, 0, len(name)+2)
	for _, c := range name {
		b = append(b, c)
		if c == 0 {
			b = append(b, 0xff)
		}
	}
	return append(b, 0, 1)
}

// scanSub calls f for the elements of the stream whose sub-keys lie in
// [lo, hi), forwards or backwards, until f returns false. The slices are
// valid only during the call.
func (s *stream) scanSub(lo, hi []byte, reverse bool, f func(sub, v []byte) (bool, error)) error {
	gen := s.rec.gen
	it, err := s.ks.r.NewIter(elemKey(gen, lo), elemKey(gen, hi))
	if err != nil {
		return err
	}
	defer it.Close()
	skip := len(elemPrefix(gen))
	step, ok := it.Next, it.First()
	if reverse {
		step, ok = it.Prev, it.Last()
	}
	for ; ok && it.Valid(); ok = step() {
		more, err := f(it.Key()[skip:], it.Value())
		if err != nil {
			return err
		}
		if !more {
			break
		}
	}
	return it.Error()
}

// scanPrefix is scanSub over every sub-key that starts with prefix.
func (s *stream) scanPrefix(prefix []byte, f func(sub, v []byte) (bool, error)) error {
	return s.scanSub(prefix, prefixEnd(prefix), false, f)
}

// deletePrefix deletes every element whose sub-key starts with prefix.
func (s *stream) deletePrefix(prefix []byte) error {
	return s.ks.w.DeleteRange(elemKey(s.rec.gen, prefix), prefixEnd(elemKey(s.rec.gen, prefix)))
}

// Entries.

func entryKey(id streamID) []byte { return sub(subEntry, id.bytes()) }

func encodeFields(fields [][]byte) []byte {
	n := binary.MaxVarintLen64
	for _, f := range fields {
		n += binary.MaxVarintLen64 + len(f)
	}
	b := binary.AppendUvarint(make([]byte, 0, n), uint64(len(fields)))
	for _, f := range fields {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

// decodeFields returns an entry's fields and values as a reply; they are
// copies.
func decodeFields(b []byte) ([]any, error) {
	n, k, ok := uvarint.Read(b)
	if !ok || n > uint64(len(b)) {
		return nil, errCorrupt
	}
	b = b[k:]
	out := make([]any, n)
	for i := range out {
		var f []byte
		if f, b, ok = uvarint.ReadBytes(b); !ok {
			return nil, errCorrupt
		}
		out[i] = bytes.Clone(f)
	}
	return out, nil
}

// entryReply is one entry as Redis replies it: [id, [field, value, ...]].
func entryReply(id streamID, v []byte) (any, error) {
	fields, err := decodeFields(v)
	if err != nil {
		return nil, err
	}
	return []any{id.reply(), fields}, nil
}

// rangeEntries returns up to count entries (0: all) with IDs in
// [start, end], in order or in reverse, as replies.
func (s *stream) rangeEntries(start, end streamID, count int64, reverse bool) ([]any, error) {
	out := []any{}
	if start.cmp(end) > 0 {
		return out, nil
	}
	hi := prefixEnd(entryKey(end))
	err := s.scanSub(entryKey(start), hi, reverse, func(k, v []byte) (bool, error) {
		e, err := entryReply(decodeStreamID(k[1:]), v)
		if err != nil {
			return false, err
		}
		out = append(out, e)
		return count == 0 || int64(len(out)) < count, nil
	})
	return out, err
}

// entry returns the stored fields of id, ok false if there is none.
func (s *stream) entry(id streamID) ([]byte, bool, error) {
	return s.ks.getElem(s.rec.gen, entryKey(id))
}

// firstID returns the first live entry's ID, 0-0 for an empty stream.
func (s *stream) firstID() (streamID, error) {
	return s.edgeID(false)
}

// lastLiveID returns the last live entry's ID, 0-0 for an empty stream.
func (s *stream) lastLiveID() (streamID, error) {
	return s.edgeID(true)
}

func (s *stream) edgeID(last bool) (streamID, error) {
	var id streamID
	err := s.scanSub([]byte{subEntry}, []byte{subEntry + 1}, last, func(k, _ []byte) (bool, error) {
		id = decodeStreamID(k[1:])
		return false, nil
	})
	return id, err
}
