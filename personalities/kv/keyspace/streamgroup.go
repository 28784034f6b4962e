package keyspace

import (
	"bytes"
	"encoding/binary"
)

// Consumer groups, their consumers and pending entries (see stream.go
// for where they live).

// invalidEntriesRead is Redis's SCG_INVALID_ENTRIES_READ: the group's
// count of entries read is unknown.
const invalidEntriesRead = -1

// streamGroup is a consumer group: 'g' name -> lastID(16) entriesRead(8).
type streamGroup struct {
	name        []byte
	lastID      streamID
	entriesRead int64
}

func (g *streamGroup) encode() []byte {
	return binary.BigEndian.AppendUint64(g.lastID.bytes(), uint64(g.entriesRead))
}

func groupKey(name []byte) []byte { return sub(subGroup, name) }

// group returns the group called name, nil if there is none.
func (s *stream) group(name []byte) (*streamGroup, error) {
	b, ok, err := s.ks.getElem(s.rec.gen, groupKey(name))
	if err != nil || !ok {
		return nil, err
	}
	if len(b) != 24 {
		return nil, errCorrupt
	}
	return &streamGroup{name: name, lastID: decodeStreamID(b), entriesRead: int64(binary.BigEndian.Uint64(b[16:]))}, nil
}

func (s *stream) saveGroup(g *streamGroup) error {
	return s.ks.setElem(s.rec.gen, groupKey(g.name), g.encode())
}

// groups returns every group, in name order.
func (s *stream) groups() ([]*streamGroup, error) {
	var out []*streamGroup
	err := s.scanPrefix([]byte{subGroup}, func(k, v []byte) (bool, error) {
		if len(v) != 24 {
			return false, errCorrupt
		}
		out = append(out, &streamGroup{name: bytes.Clone(k[1:]), lastID: decodeStreamID(v), entriesRead: int64(binary.BigEndian.Uint64(v[16:]))})
		return true, nil
	})
	return out, err
}

// destroyGroup deletes the group with its consumers and pending entries.
func (s *stream) destroyGroup(g *streamGroup) error {
	if err := s.ks.delElem(s.rec.gen, groupKey(g.name)); err != nil {
		return err
	}
	e := esc(g.name)
	for _, p := range []byte{subConsumer, subPEL, subOwned} {
		if err := s.deletePrefix(sub(p, e)); err != nil {
			return err
		}
	}
	return nil
}

// Consumers: 'c' esc(group) name -> seen time(8).

func consumerKey(g *streamGroup, name []byte) []byte { return sub(subConsumer, esc(g.name), name) }

// consumerSeen returns when the consumer was last seen; ok false if the
// group has no such consumer.
func (s *stream) consumerSeen(g *streamGroup, name []byte) (int64, bool, error) {
	b, ok, err := s.ks.getElem(s.rec.gen, consumerKey(g, name))
	if err != nil || !ok {
		return 0, false, err
	}
	if len(b) != 8 {
		return 0, false, errCorrupt
	}
	return int64(binary.BigEndian.Uint64(b)), true, nil
}

// touchConsumer creates the consumer if need be and marks it seen now;
// it reports whether it created it, and notifies "xgroup-createconsumer"
// if so, as Redis's streamCreateConsumer.
func (s *stream) touchConsumer(g *streamGroup, name []byte) (bool, error) {
	_, ok, err := s.consumerSeen(g, name)
	if err != nil {
		return false, err
	}
	if !ok {
		s.ks.notify(EventStream, "xgroup-createconsumer", s.key)
	}
	return !ok, s.ks.setElem(s.rec.gen, consumerKey(g, name), beUint64(uint64(s.ks.now)))
}

// createConsumer is XGROUP CREATECONSUMER's touchConsumer: a consumer
// the group has already is left as it is.
func (s *stream) createConsumer(g *streamGroup, name []byte) (bool, error) {
	if _, ok, err := s.consumerSeen(g, name); err != nil || ok {
		return false, err
	}
	return s.touchConsumer(g, name)
}

// consumerInfo is a consumer as XINFO CONSUMERS and XPENDING see it.
type consumerInfo struct {
	name    []byte
	seen    int64
	pending int64
}

// consumers returns the group's consumers in name order with their
// pending counts.
func (s *stream) consumers(g *streamGroup) ([]consumerInfo, error) {
	var out []consumerInfo
	prefix := sub(subConsumer, esc(g.name))
	err := s.scanPrefix(prefix, func(k, v []byte) (bool, error) {
		if len(v) != 8 {
			return false, errCorrupt
		}
		out = append(out, consumerInfo{name: bytes.Clone(k[len(prefix):]), seen: int64(binary.BigEndian.Uint64(v))})
		return true, nil
	})
	for i := range out {
		if err != nil {
			break
		}
		err = s.scanPrefix(ownedPrefix(g, out[i].name), func(_, _ []byte) (bool, error) {
			out[i].pending++
			return true, nil
		})
	}
	return out, err
}

// deleteConsumer deletes the consumer and its pending entries, and
// returns how many it had.
func (s *stream) deleteConsumer(g *streamGroup, name []byte) (int64, error) {
	var ids []streamID
	prefix := ownedPrefix(g, name)
	err := s.scanPrefix(prefix, func(k, _ []byte) (bool, error) {
		ids = append(ids, decodeStreamID(k[len(prefix):]))
		return true, nil
	})
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		if err := s.ks.delElem(s.rec.gen, pelKey(g, id)); err != nil {
			return 0, err
		}
	}
	if err := s.deletePrefix(prefix); err != nil {
		return 0, err
	}
	return int64(len(ids)), s.ks.delElem(s.rec.gen, consumerKey(g, name))
}

// Pending entries: 'p' esc(group) id -> delivery time(8) count(8)
// consumer, and 'q' esc(group) esc(consumer) id -> empty.

type nack struct {
	id        streamID
	delivered int64 // log time of the last delivery, ms
	count     int64
	consumer  []byte
}

func pelPrefix(g *streamGroup) []byte             { return sub(subPEL, esc(g.name)) }
func pelKey(g *streamGroup, id streamID) []byte   { return sub(subPEL, esc(g.name), id.bytes()) }
func ownedPrefix(g *streamGroup, c []byte) []byte { return sub(subOwned, esc(g.name), esc(c)) }
func ownedKey(g *streamGroup, c []byte, id streamID) []byte {
	return sub(subOwned, esc(g.name), esc(c), id.bytes())
}

func decodeNACK(id streamID, v []byte) (nack, error) {
	if len(v) < 16 {
		return nack{}, errCorrupt
	}
	return nack{id, int64(binary.BigEndian.Uint64(v)), int64(binary.BigEndian.Uint64(v[8:])), bytes.Clone(v[16:])}, nil
}

// pending returns the group's pending entry id; ok false if there is
// none.
func (s *stream) pending(g *streamGroup, id streamID) (nack, bool, error) {
	v, ok, err := s.ks.getElem(s.rec.gen, pelKey(g, id))
	if err != nil || !ok {
		return nack{}, false, err
	}
	n, err := decodeNACK(id, v)
	return n, err == nil, err
}

// setPending stores n, moving it from the consumer owner (nil: none) to
// n.consumer.
func (s *stream) setPending(g *streamGroup, n nack, owner []byte) error {
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 16+len(n.consumer)), uint64(n.delivered))
	v = binary.BigEndian.AppendUint64(v, uint64(n.count))
	if err := s.ks.setElem(s.rec.gen, pelKey(g, n.id), append(v, n.consumer...)); err != nil {
		return err
	}
	if owner != nil && bytes.Equal(owner, n.consumer) {
		return nil
	}
	if owner != nil {
		if err := s.ks.delElem(s.rec.gen, ownedKey(g, owner, n.id)); err != nil {
			return err
		}
	}
	return s.ks.setElem(s.rec.gen, ownedKey(g, n.consumer, n.id), nil)
}

// dropPending deletes the pending entry n.
func (s *stream) dropPending(g *streamGroup, n nack) error {
	if err := s.ks.delElem(s.rec.gen, pelKey(g, n.id)); err != nil {
		return err
	}
	return s.ks.delElem(s.rec.gen, ownedKey(g, n.consumer, n.id))
}

// scanPending calls f for the group's pending entries with IDs from
// start on, in order, until f returns false.
func (s *stream) scanPending(g *streamGroup, start streamID, f func(n nack) (bool, error)) error {
	prefix := pelPrefix(g)
	return s.scanSub(append(prefix, start.bytes()...), prefixEnd(prefix), false, func(k, v []byte) (bool, error) {
		n, err := decodeNACK(decodeStreamID(k[len(prefix):]), v)
		if err != nil {
			return false, err
		}
		return f(n)
	})
}

// scanOwned calls f for the IDs the consumer has pending from start on,
// in order, until f returns false.
func (s *stream) scanOwned(g *streamGroup, consumer []byte, start streamID, f func(id streamID) (bool, error)) error {
	prefix := ownedPrefix(g, consumer)
	return s.scanSub(append(prefix, start.bytes()...), prefixEnd(prefix), false, func(k, _ []byte) (bool, error) {
		return f(decodeStreamID(k[len(prefix):]))
	})
}

// Entries read and lag, as Redis 7.0 estimates them.

// hasTombstones is Redis's streamRangeHasTombstones from start to the end.
func (s *stream) hasTombstones(start streamID) (bool, error) {
	if s.rec.count == 0 || s.meta.maxDeleted.isZero() {
		return false, nil
	}
	first, err := s.firstID()
	if err != nil || first.cmp(s.meta.maxDeleted) > 0 {
		return false, err
	}
	return start.cmp(s.meta.maxDeleted) <= 0, nil
}

// entriesReadAt is Redis's streamEstimateDistanceFromFirstEverEntry: the
// number of entries added up to id, or invalidEntriesRead.
func (s *stream) entriesReadAt(id streamID) (int64, error) {
	m := s.meta
	if m.entriesAdded == 0 {
		return 0, nil
	}
	if s.rec.count == 0 && id.cmp(m.lastID) < 1 {
		return int64(m.entriesAdded), nil
	}
	switch c := id.cmp(m.lastID); {
	case c == 0:
		return int64(m.entriesAdded), nil
	case c > 0:
		return invalidEntriesRead, nil
	}
	first, err := s.firstID()
	if err != nil {
		return 0, err
	}
	if m.maxDeleted.isZero() || m.maxDeleted.cmp(first) < 0 {
		switch c := id.cmp(first); {
		case c < 0:
			return int64(m.entriesAdded) - s.rec.count, nil
		case c == 0:
			return int64(m.entriesAdded) - s.rec.count + 1, nil
		}
	}
	return invalidEntriesRead, nil
}

// lag returns the group's lag, ok false when it cannot be known.
func (s *stream) lag(g *streamGroup) (int64, bool, error) {
	if s.meta.entriesAdded == 0 {
		return 0, true, nil
	}
	if g.entriesRead != invalidEntriesRead {
		t, err := s.hasTombstones(g.lastID)
		if err != nil {
			return 0, false, err
		}
		if !t {
			return int64(s.meta.entriesAdded) - g.entriesRead, true, nil
		}
	}
	read, err := s.entriesReadAt(g.lastID)
	if err != nil || read == invalidEntriesRead {
		return 0, false, err
	}
	return int64(s.meta.entriesAdded) - read, true, nil
}

// delivered moves the group's last delivered ID to id, a new entry it
// hands out, counting it as read as Redis does.
func (s *stream) delivered(g *streamGroup, id streamID) error {
	if id.cmp(g.lastID) <= 0 {
		return nil
	}
	t, err := s.hasTombstones(id)
	if err != nil {
		return err
	}
	switch {
	case g.entriesRead != invalidEntriesRead && !t:
		g.entriesRead++
	case s.meta.entriesAdded != 0:
		if g.entriesRead, err = s.entriesReadAt(id); err != nil {
			return err
		}
	}
	g.lastID = id
	return nil
}
