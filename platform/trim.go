package platform

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"hourglass/internal/pebbledb"
)

// SetTrimPrefix implements Engine: it records voter's vote. At its next
// trim tick the engine trims the log below the lowest vote and below what
// its durable applied state covers.
func (b *BaseEngine) SetTrimPrefix(voter string, pos Position) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.mu.votes[voter] = pos
}

// TrimVotes returns a copy of the trim votes, by voter: the engine trims
// below the lowest of them (and below its durable applied state).
func (b *BaseEngine) TrimVotes() map[string]Position {
	b.mu.Lock()
	defer b.mu.Unlock()
	return maps.Clone(b.mu.votes)
}

// trimPoint is the lowest vote, and false if nobody voted.
func (b *BaseEngine) trimPoint() (Position, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var low Position
	first := true
	for _, v := range b.mu.votes {
		if first || v < low {
			low, first = v, false
		}
	}
	return low, !first
}

// trimLoop periodically makes the applied state durable and trims the log
// below both the durable applied position and the lowest vote.
func (b *BaseEngine) trimLoop(ctx context.Context, trimmed *Position) {
	t := time.NewTicker(b.trimEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		vote, ok := b.trimPoint()
		target := min(vote, b.applied.Load())
		if !ok || target <= *trimmed {
			continue
		}
		if err := b.makeDurable(target); err != nil {
			if errors.Is(err, pebbledb.ErrFailed) {
				return // apply stopped (see makeDurable)
			}
			b.logger.Warn("making applied state durable failed", "err", err)
			continue
		}
		if err := b.log.PrefixTrim(ctx, target); err != nil {
			if ctx.Err() == nil {
				b.logger.Warn("trimming the log failed", "pos", target, "err", err)
			}
			continue
		}
		*trimmed = target
		b.logger.Debug("log trimmed", "below", target)
	}
}

// makeDurable fsyncs the store's WAL with a synced write of the durable
// mark: every apply before it, up to pos at least, survives a crash of
// the machine. If the write or the fsync fails, the store can no longer
// be trusted to make anything durable: the apply loop stops (with an
// error matching pebbledb.ErrFailed), and the node, restarted, replays
// the log from what the store had synced.
func (b *BaseEngine) makeDurable(pos Position) error {
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], pos)
	err := b.WithStore(func(db *pebble.DB) error {
		return pebbledb.Write(func() error { return db.Set(keyDurable, v[:], pebble.Sync) })
	})
	if errors.Is(err, pebbledb.ErrFailed) {
		b.fail(fmt.Errorf("making applied state durable: %w", err))
	}
	return err
}

// MakeDurable fsyncs the applied state (SAVE): after it returns, a crash
// of the machine loses no applied entry, and the log below it may be
// trimmed.
func (b *BaseEngine) MakeDurable() error { return b.makeDurable(b.applied.Load()) }
