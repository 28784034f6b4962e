package platform

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"google.golang.org/protobuf/proto"

	"hourglass/internal/pebbledb"
)

// digestSize is the size of the state digest (SHA-256).
const digestSize = sha256.Size

// applyTxn is an entry's whole transaction: one indexed Pebble batch.
// Every write is also fed, in order, to the entry's hash, from which the
// state digest moves on (see Checksum). Only the apply goroutine uses it;
// layers reach it through their scoped transactions.
type applyTxn struct {
	pebbleReader
	b   *pebble.Batch
	h   hash.Hash
	buf []byte
	// db is the store the batch writes to; scratch where bulk tables are
	// built; bulk the entry's bulk stream, if it has one; bulkReplayed
	// that the entry's bulk writes already reached the store.
	db           *pebble.DB
	scratch      *bulkScratch
	bulk         *bulkState
	bulkReplayed bool
}

// The apply loop's retries of a failed read, and how often a read that
// keeps failing is logged.
const (
	readRetryMin        = 10 * time.Millisecond
	readRetryMax        = 100 * time.Millisecond
	readFailureLogEvery = 5 * time.Second
)

func (t *applyTxn) note(op byte, a, b []byte) {
	t.buf = append(t.buf[:0], op)
	t.buf = binary.AppendUvarint(t.buf, uint64(len(a)))
	t.buf = append(t.buf, a...)
	t.buf = binary.AppendUvarint(t.buf, uint64(len(b)))
	t.h.Write(t.buf)
	t.h.Write(b)
}

func (t *applyTxn) Set(key, value []byte) error {
	t.note('s', key, value)
	return t.b.Set(key, value, nil)
}

func (t *applyTxn) Delete(key []byte) error {
	t.note('d', key, nil)
	return t.b.Delete(key, nil)
}

func (t *applyTxn) DeleteRange(start, end []byte) error {
	t.note('r', start, end)
	return t.b.DeleteRange(start, end, nil)
}

// reset readies the transaction for the next entry.
func (t *applyTxn) reset(db *pebble.DB) {
	if t.b == nil {
		t.b = db.NewIndexedBatch()
		t.h = sha256.New()
	}
	t.b.Reset()
	t.h.Reset()
	t.pebbleReader = pebbleReader{t.b}
	t.db = db
	t.resetBulk()
}

// drop releases the batch (the store is about to be replaced).
func (t *applyTxn) drop() {
	t.resetBulk()
	if t.b != nil {
		t.b.Close()
		t.b = nil
	}
}

// run is the apply loop.
func (b *BaseEngine) run() {
	defer close(b.done)
	defer b.txn.drop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-b.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	var trimmed Position
	go b.trimLoop(ctx, &trimmed)
	// Read failures back off (10 ms doubling to 100 ms) and are logged
	// when they begin and then every 5 s while they last, not per retry.
	backoff := readRetryMin
	var failingSince, lastLogged time.Time
	failures := 0
	for {
		next := b.applied.Load()
		raws, err := b.log.ReadNext(ctx, next, b.readBatch)
		if err == nil && failures > 0 {
			b.logger.Info("reading the log works again", "pos", next, "failures", failures, "after", time.Since(failingSince).Round(time.Millisecond))
			failures, backoff = 0, readRetryMin
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if errors.Is(err, ErrTrimmed) {
				if b.restore == nil {
					b.fail(fmt.Errorf("log trimmed below this node's applied position %d; the node must be restored from a checkpoint", next))
					return
				}
				b.restoreStore(ctx, next)
				continue
			}
			if failures++; failures == 1 {
				failingSince = time.Now()
			}
			if failures == 1 || time.Since(lastLogged) >= readFailureLogEvery {
				lastLogged = time.Now()
				b.logger.Warn("reading the log failed; retrying", "pos", next, "failures", failures, "err", err)
			}
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return
			}
			backoff = min(2*backoff, readRetryMax)
			continue
		}
		if b.Err() != nil {
			return // the store failed (see makeDurable)
		}
		for i, raw := range raws {
			if err := b.applyOne(raw, next+Position(i)); err != nil {
				b.fail(err)
				return
			}
		}
		b.advanced()
	}
}

// restoreStore replaces the LocalStore with a replica's checkpoint, the
// log having been trimmed past this node's position next. It retries until
// it works or the engine stops.
func (b *BaseEngine) restoreStore(ctx context.Context, next Position) {
	b.logger.Warn("the log was trimmed past this node's applied state; restoring from a replica", "applied", next)
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		b.storeMu.Lock()
		b.txn.drop()
		db, err := b.restore(ctx, b.db)
		if db != nil {
			b.db = db
			b.bulkChecked = false
		}
		var applied Position
		if err == nil {
			applied, err = readUint(b.db, keyApplied)
		}
		b.storeMu.Unlock()
		if err == nil && applied > next {
			b.applied.Store(applied)
			b.advanced() // wake Syncs waiting for what the checkpoint holds
			b.logger.Info("restored the applied state from a replica", "applied", applied)
			return
		}
		if err == nil {
			err = fmt.Errorf("the checkpoint is at %d, not past %d", applied, next)
		}
		b.logger.Warn("restoring from a replica failed; retrying", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// applyOne applies the entry at pos in its own LocalStore transaction: the
// stack's Apply for the entry, then its per-entry hook, the applied cursor
// and the digest; it commits, routes the result to a local proposer, and
// runs the post-apply calls.
func (b *BaseEngine) applyOne(raw []byte, pos Position) error {
	e := &Entry{}
	decodeErr := proto.Unmarshal(raw, e)
	txn := &b.txn
	txn.reset(b.db)
	at := Version{Pos: pos}
	end := Version{Pos: pos, Sub: 1}
	var result Result
	// Only the first entry applied on a store can find its bulk writes
	// already there (the node stopped between their ingest and commit).
	replayed := false
	if !b.bulkChecked {
		var err error
		if replayed, err = b.bulkReplay(pos); err != nil {
			return err
		}
		b.bulkChecked = true
	}
	txn.bulkReplayed = replayed
	if decodeErr != nil {
		// Every replica sees the same bytes and skips them the same way.
		b.logger.Error("skipping undecodable log entry", "pos", pos, "err", decodeErr)
	} else {
		var err error
		if result, err = b.up.Apply(txn, e, at); err != nil {
			return fmt.Errorf("apply at %d: %w", pos, err)
		}
		if err := b.up.ApplyEntry(txn, e, end); err != nil {
			return fmt.Errorf("apply at %d: %w", pos, err)
		}
	}
	if err := b.advanceDigest(pos); err != nil {
		return err
	}
	var cursor [8]byte
	binary.BigEndian.PutUint64(cursor[:], pos+1)
	if err := txn.b.Set(keyApplied, cursor[:], nil); err != nil {
		return err
	}
	if replayed {
		if err := txn.b.Delete(keyBulk, nil); err != nil {
			return err
		}
	}
	if err := pebbledb.Write(func() error { return b.commitEntry(pos) }); err != nil {
		return fmt.Errorf("commit apply at %d: %w", pos, err)
	}
	if decodeErr != nil {
		b.applied.Store(pos + 1)
		return nil
	}
	// What the entry published (messages, keyspace notifications, watch
	// events) is delivered before the entry counts as applied and before
	// its proposer hears its result: a read that sees the entry, and a
	// client that saw it acknowledged, come after its events.
	b.up.PostApply(e, at)
	b.up.PostApplyEntry(e, end)
	b.applied.Store(pos + 1)
	if h := HeaderValue(e, HeaderBase); len(h) == 16 {
		b.checkOnce(h, pos)
		if binary.BigEndian.Uint64(h[:8]) == b.incarnation {
			b.route(binary.BigEndian.Uint64(h[8:]), result)
		}
	}
	return nil
}

// advanceDigest moves the state digest on by the writes of the entry at
// pos: digest' = SHA-256(digest, pos, SHA-256(writes)).
func (b *BaseEngine) advanceDigest(pos Position) error {
	txn := &b.txn
	writes := txn.h.Sum(nil)
	prev, _, err := txn.pebbleReader.Get(keyDigest)
	if err != nil {
		return err
	}
	h := sha256.New()
	h.Write(prev)
	h.Write(binary.BigEndian.AppendUint64(nil, pos))
	h.Write(writes)
	return txn.b.Set(keyDigest, h.Sum(nil), nil)
}

// route hands the result of the local proposal seq to its waiter.
func (b *BaseEngine) route(seq uint64, r Result) {
	b.mu.Lock()
	ch := b.mu.waiters[seq]
	b.mu.Unlock()
	if ch != nil {
		select {
		case ch <- r:
		default: // a duplicate of an entry already answered
		}
	}
}

// checkOnce logs an entry proposed once but applied twice (the log holds
// it at two positions), which must never happen.
func (b *BaseEngine) checkOnce(h []byte, pos Position) {
	id := string(h)
	if prev, ok := b.recentIDs[id]; ok {
		b.logger.Error("proposal applied twice", "first", prev, "again", pos, "inc", binary.BigEndian.Uint64(h[:8]), "seq", binary.BigEndian.Uint64(h[8:]))
	}
	if b.recentIDs == nil {
		b.recentIDs = map[string]Position{}
	}
	b.recentIDs[id] = pos
	if len(b.recentIDs) > 100000 {
		clear(b.recentIDs)
	}
}

// fail stops the engine with err; the first error stays.
func (b *BaseEngine) fail(err error) {
	b.mu.Lock()
	first := b.mu.fatal == nil
	if first {
		b.mu.fatal = err
	}
	b.mu.Unlock()
	if first {
		b.logger.Error("apply loop stopped", "err", err)
	}
	b.advanced()
}
