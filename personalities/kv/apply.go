package kv

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"hourglass/engines/timekeeper"
	"hourglass/platform"
)

// cmdTick is the internal command a node proposes to advance the log
// time, so that keys expire; clients cannot name it (it starts with NUL).
const cmdTick = "\x00tick"

// applicator is the kv top-layer applicator: it decodes a command body and
// runs the write against the apply transaction at the entry's log time.
// Only the apply goroutine uses it.
type applicator struct {
	s *Server
	// pending are the messages published by the entry being applied,
	// delivered once it commits.
	pending []pubMsg
	// ready are the keys the entry being applied wrote that blocked
	// clients may wait on, woken once it commits.
	ready readyKeys
}

var _ platform.EntryApplicator = (*applicator)(nil)

// keyspace returns database db as the apply transaction holds it, at
// the entry's log time and version at.
func (a *applicator) keyspace(txn platform.Txn, e *platform.Entry, at platform.Version, db int, seed uint64) *keyspace {
	memo := &rawMemo{}
	return &keyspace{
		r: txn, w: memoWriter{txn, memo}, db: db, memo: memo,
		now:     timekeeper.Time(e).UnixMilli(),
		version: at.Packed(), // never 0, which means "never written"
		seed:    seed,
		publish: &a.pending,
		hub:     &a.s.hub,
		ready:   &a.ready,
	}
}

func (a *applicator) Apply(txn platform.Txn, e *platform.Entry, at platform.Version) (platform.Result, error) {
	db, seed, args, err := decodeCommand(e.Body)
	if err != nil {
		return platform.Result{Value: redisError("ERR " + err.Error())}, nil
	}
	r, err := applyCommand(a.keyspace(txn, e, at, db, seed), args)
	if err != nil {
		var re redisError
		if !errors.As(err, &re) {
			return platform.Result{}, err
		}
		r = re
	}
	return platform.Result{Value: r}, nil
}

// ApplyEntry runs active expiry, once per log entry: every replica
// expires the same keys at the same position because the time is the
// log's.
func (a *applicator) ApplyEntry(txn platform.Txn, e *platform.Entry, at platform.Version) error {
	return a.keyspace(txn, e, at, 0, 0).expireCycle()
}

// PostApply delivers what the command published to this node's
// subscribers, and wakes the clients blocked on keys it wrote.
func (a *applicator) PostApply(e *platform.Entry, at platform.Version) {
	if len(a.pending) > 0 {
		a.delivered(e)
	}
	a.ready.deliver()
}

// PostApplyEntry implements platform.EntryApplicator.
func (a *applicator) PostApplyEntry(e *platform.Entry, at platform.Version) {
	a.PostApply(e, at)
}

// applyCommand runs one write (or internal) command.
func applyCommand(ks *keyspace, args [][]byte) (any, error) {
	switch string(args[0]) {
	case cmdTick:
		return replyOK, nil
	case cmdExec:
		return applyExec(ks, args)
	}
	cmd := lookupCommand(args[0])
	if cmd == nil || cmd.kind != kindWrite || !cmd.arityOK(len(args)) {
		return nil, redisError(fmt.Sprintf("ERR command %q cannot be applied", args[0]))
	}
	return cmd.exec(ks, args)
}

// Active expiry bounds, per log entry.
const (
	expirePerEntry = 20
	// tombstoneHorizon is how many log positions a tombstone outlives
	// its key, for WATCH; an EXEC older than that aborts.
	tombstoneHorizon = 1 << 20
	gcPerEntry       = 20
)

// expireCycle deletes up to expirePerEntry keys whose expiry has passed,
// and up to gcPerEntry tombstones past the horizon.
func (ks *keyspace) expireCycle() error {
	type item struct {
		at  int64
		db  int
		key []byte
	}
	var due []item
	it, err := ks.r.NewIter([]byte{prefixExpiry}, []byte{prefixExpiry + 1})
	if err != nil {
		return err
	}
	for it.First(); it.Valid() && len(due) < expirePerEntry; it.Next() {
		k := it.Key()
		at := int64(binary.BigEndian.Uint64(k[1:]))
		if ks.now <= at {
			break
		}
		due = append(due, item{at, int(k[9]), bytes.Clone(k[10:])})
	}
	if err := it.Close(); err != nil {
		return err
	}
	for _, d := range due {
		kd := ks.withDB(d.db)
		rec, ok, err := kd.raw(d.key)
		if err != nil {
			return err
		}
		if ok && rec.typ != typeTombstone && rec.expireAt == d.at {
			if err := kd.remove(d.key, rec); err != nil {
				return err
			}
			continue
		}
		if err := ks.w.Delete(expiryKey(d.at, d.db, d.key)); err != nil {
			return err
		}
	}
	if ks.version < tombstoneHorizon<<20 {
		return nil
	}
	limit := ks.version - tombstoneHorizon<<20
	var old []item
	it, err = ks.r.NewIter([]byte{prefixTombstone}, tombstoneKey(limit, 0, nil))
	if err != nil {
		return err
	}
	for it.First(); it.Valid() && len(old) < gcPerEntry; it.Next() {
		k := it.Key()
		old = append(old, item{int64(binary.BigEndian.Uint64(k[1:])), int(k[9]), bytes.Clone(k[10:])})
	}
	if err := it.Close(); err != nil {
		return err
	}
	for _, o := range old {
		kd := ks.withDB(o.db)
		if rec, ok, err := kd.raw(o.key); err != nil {
			return err
		} else if ok && rec.typ == typeTombstone && rec.version == uint64(o.at) {
			if err := ks.w.Delete(dataKey(o.db, o.key)); err != nil {
				return err
			}
		}
		if err := ks.w.Delete(tombstoneKey(uint64(o.at), o.db, o.key)); err != nil {
			return err
		}
	}
	return nil
}

// tickLoop proposes a tick whenever keys are due to expire, so that active
// expiry runs even when nothing else is written. Every node may propose;
// a tick costs one small log entry.
func (s *Server) tickLoop(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		if due, err := s.expiryDue(); err == nil && due {
			ctx, cancel := context.WithTimeout(s.ctx, s.cfg.ProposeTimeout)
			_, err := s.engine.Propose(ctx, &platform.Entry{Body: encodeCommand(0, 0, [][]byte{[]byte(cmdTick)})})
			cancel()
			if err != nil && s.ctx.Err() == nil {
				s.log.Warn("proposing an expiry tick failed; retrying at the next", "err", err)
			}
		}
	}
}

// expiryDue reports whether the applied state holds a key whose expiry
// has passed by this node's clock.
func (s *Server) expiryDue() (bool, error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.ProposeTimeout)
	defer cancel()
	v, err := s.engine.Sync(ctx)
	if err != nil {
		return false, err
	}
	defer v.Close()
	it, err := v.NewIter([]byte{prefixExpiry}, []byte{prefixExpiry + 1})
	if err != nil {
		return false, err
	}
	defer it.Close()
	if !it.First() {
		return false, it.Error()
	}
	at := int64(binary.BigEndian.Uint64(it.Key()[1:]))
	return s.cfg.Clock().UnixMilli() > at, nil
}
