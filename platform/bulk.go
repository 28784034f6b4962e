package platform

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/objstorage/objstorageprovider"
	"github.com/cockroachdb/pebble/v2/sstable"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Bulk writes: an entry that writes more than should sit in memory (a
// large transaction's staged writes moved into place at its commit)
// writes them in key order through a BulkWriter instead of its
// transaction. The writer streams them into a table file in the store's
// scratch directory, and the entry's commit ingests that file into the
// store just before it commits the entry's transaction, so memory stays
// bounded however much the entry writes.
//
// The writes are noted in the entry's digest like any other, in order.
// They become visible when the entry commits: reads within the entry do
// not see them, and the entry's own Set and Delete of the same keys win.
//
// Crash safety: the table carries a marker (keyBulk, the entry's
// position) and the entry's transaction deletes it. If the node stops
// after the ingest and before the transaction commits, the entry is
// applied again over a store that already holds its bulk writes;
// BulkReplayed tells the applicator so, which must then write the same
// keys again (they are noted in the digest, not written) without
// re-deciding anything from state the ingest changed.
//
// Readers: a view taken between the ingest and the commit would see the
// bulk writes without the entry's cursor, so views taken in that window
// share a snapshot made just before the ingest.

var keyBulk = []byte("sys/base/bulk")

// testHookAfterIngest, set by tests, runs between a bulk ingest and the
// entry's commit; an error stops the apply loop there, as a crash would.
var testHookAfterIngest func() error

// ErrBulkOrder is returned by a bulk write out of key order.
var ErrBulkOrder = errors.New("platform: bulk writes must be in increasing key order")

// BulkWriter streams an entry's bulk writes. Keys are in the namespace of
// the transaction it was made from and must strictly increase.
type BulkWriter struct {
	t      *applyTxn
	prefix []byte
}

// Bulk returns txn's bulk writer. Every call for one entry shares one
// stream, so keys must increase across them.
func Bulk(txn Txn) (*BulkWriter, error) {
	root, prefix := txn, []byte(nil)
	if s, ok := txn.(*scopedTxn); ok {
		if s.prefix == nil {
			return nil, ErrNoNamespace
		}
		root, prefix = s.root, s.prefix
	}
	t, ok := root.(*applyTxn)
	if !ok {
		return nil, fmt.Errorf("platform: bulk writes need an entry's transaction, not %T", root)
	}
	return &BulkWriter{t: t, prefix: prefix}, nil
}

// BulkReplayed reports whether txn's entry is being applied again after
// its bulk writes reached the store (see Bulk writes above).
func BulkReplayed(txn Txn) bool {
	if s, ok := txn.(*scopedTxn); ok {
		txn = s.root
	}
	t, ok := txn.(*applyTxn)
	return ok && t.bulkReplayed
}

// Set writes key.
func (w *BulkWriter) Set(key, value []byte) error {
	return w.t.bulkAdd(prefixed(w.prefix, key), value, false)
}

// Delete deletes key.
func (w *BulkWriter) Delete(key []byte) error { return w.t.bulkAdd(prefixed(w.prefix, key), nil, true) }

// Discard drops every bulk write of the entry so far (they stay noted in
// its digest: every replica discards the same ones).
func (w *BulkWriter) Discard() {
	if t := w.t; t.bulk != nil {
		if t.bulk.w != nil {
			t.bulk.w.Close()
			t.scratch.fs.Remove(t.bulk.path)
			t.bulk.w = nil
		}
	}
}

// bulkState is an entry transaction's bulk stream.
type bulkState struct {
	path string
	w    *sstable.Writer
	last []byte
}

// bulkScratch is where bulk tables are built: the store's filesystem and
// a directory on it.
type bulkScratch struct {
	fs  vfs.FS
	dir string
	seq atomic.Uint64
}

func (t *applyTxn) bulkAdd(key, value []byte, del bool) error {
	if t.bulk != nil && bytes.Compare(key, t.bulk.last) <= 0 {
		return ErrBulkOrder
	}
	if bytes.Compare(key, keyBulk) >= 0 {
		return fmt.Errorf("platform: bulk write of %q outside the namespaces", key)
	}
	if del {
		t.note('d', key, nil)
	} else {
		t.note('s', key, value)
	}
	if t.bulk == nil {
		t.bulk = &bulkState{}
	}
	t.bulk.last = append(t.bulk.last[:0], key...)
	if t.bulkReplayed {
		return nil
	}
	if t.bulk.w == nil {
		if err := t.openBulk(); err != nil {
			return err
		}
	}
	if del {
		return t.bulk.w.Delete(key)
	}
	return t.bulk.w.Set(key, value)
}

// openBulk starts the entry's table in the scratch directory.
func (t *applyTxn) openBulk() error {
	s := t.scratch
	if s.dir == "" {
		return errors.New("platform: bulk writes need a scratch directory (BaseConfig.ScratchDir)")
	}
	if err := s.fs.MkdirAll(s.dir, 0o755); err != nil {
		return fmt.Errorf("bulk scratch directory: %w", err)
	}
	path := s.fs.PathJoin(s.dir, fmt.Sprintf("bulk-%d.sst", s.seq.Add(1)))
	f, err := s.fs.Create(path, vfs.WriteCategoryUnspecified)
	if err != nil {
		return fmt.Errorf("bulk table: %w", err)
	}
	t.bulk.path = path
	t.bulk.w = sstable.NewWriter(objstorageprovider.NewFileWritable(f), sstable.WriterOptions{TableFormat: t.db.TableFormat()})
	return nil
}

// resetBulk drops the stream (and its file) of an entry.
func (t *applyTxn) resetBulk() {
	if t.bulk != nil {
		(&BulkWriter{t: t}).Discard()
	}
	t.bulk = nil
	t.bulkReplayed = false
}

// pinnedSnap is a snapshot that views share while a bulk ingest is in
// flight; the last one to let go closes it.
type pinnedSnap struct {
	snap *pebble.Snapshot
	refs atomic.Int32
}

func (p *pinnedSnap) unref() error {
	if p.refs.Add(-1) == 0 {
		return p.snap.Close()
	}
	return nil
}

// pins is the BaseEngine's pinned snapshot, if an ingest is in flight.
type pins struct {
	mu     sync.Mutex
	pinned *pinnedSnap
}

// snapshot returns a snapshot of db for a view and how to release it.
func (p *pins) snapshot(db *pebble.DB) (*pebble.Snapshot, func() error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pinned != nil {
		p.pinned.refs.Add(1)
		return p.pinned.snap, p.pinned.unref
	}
	s := db.NewSnapshot()
	return s, s.Close
}

// commitEntry commits the entry's transaction. If it has a bulk table,
// it first ingests it (with the marker of pos), views meanwhile sharing
// a snapshot from before the ingest.
func (b *BaseEngine) commitEntry(pos Position) error {
	t := &b.txn
	if t.bulk == nil || t.bulk.w == nil {
		return t.b.Commit(pebble.NoSync)
	}
	var marker [8]byte
	binary.BigEndian.PutUint64(marker[:], pos)
	if err := t.bulk.w.Set(keyBulk, marker[:]); err != nil {
		return err
	}
	if err := t.bulk.w.Close(); err != nil {
		return fmt.Errorf("bulk table: %w", err)
	}
	t.bulk.w = nil
	pin := &pinnedSnap{snap: b.db.NewSnapshot()}
	pin.refs.Store(1)
	b.pins.mu.Lock()
	b.pins.pinned = pin
	b.pins.mu.Unlock()
	defer func() {
		b.pins.mu.Lock()
		b.pins.pinned = nil
		b.pins.mu.Unlock()
		pin.unref()
	}()
	err := b.db.Ingest(context.Background(), []string{t.bulk.path})
	t.scratch.fs.Remove(t.bulk.path)
	if err != nil {
		return fmt.Errorf("ingest bulk writes at %d: %w", pos, err)
	}
	if testHookAfterIngest != nil {
		if err := testHookAfterIngest(); err != nil {
			return err
		}
	}
	if err := t.b.Delete(keyBulk, nil); err != nil {
		return err
	}
	return t.b.Commit(pebble.NoSync)
}

// bulkReplay reports whether the entry at pos already ingested its bulk
// writes (the node stopped before the entry's transaction committed).
func (b *BaseEngine) bulkReplay(pos Position) (bool, error) {
	v, ok, err := b.txn.pebbleReader.Get(keyBulk)
	if err != nil || !ok {
		return false, err
	}
	if len(v) != 8 || binary.BigEndian.Uint64(v) != pos {
		// A marker of another entry: that entry's commit deleted it, so
		// this cannot be; say so rather than guess.
		return false, fmt.Errorf("bulk marker %x found applying %d", v, pos)
	}
	return true, nil
}
