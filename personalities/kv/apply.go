package kv

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"hourglass/engines/batching"
	"hourglass/engines/timekeeper"
	"hourglass/platform"
)

// Internal commands the personality proposes itself; clients cannot name
// them (a NUL byte starts every one).
const (
	cmdTick = "\x00tick" // advance the log time, so that keys expire
	cmdPipe = "\x00pipe" // a connection's pipelined writes, in order
)

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

func (a *applicator) Apply(txn platform.Txn, e *platform.Entry, pos platform.Position) (any, error) {
	db, seed, args, err := decodeCommand(e.Body)
	if err != nil {
		return redisError("ERR " + err.Error()), nil
	}
	memo := &rawMemo{}
	ks := &keyspace{
		r: txn, w: memoWriter{txn, memo}, db: db, memo: memo,
		now:     timekeeper.Time(e).UnixMilli(),
		version: (pos+1)<<20 | batching.Index(e), // never 0, which means "never written"
		seed:    seed,
		publish: &a.pending,
		hub:     &a.s.hub,
		ready:   &a.ready,
	}
	r, err := applyCommand(ks, args)
	if err != nil {
		var re redisError
		if !errors.As(err, &re) {
			return nil, err
		}
		r = re
	}
	// Active expiry, once per log entry: every replica expires the same
	// keys at the same position because the time is the log's.
	if batching.Index(e) == 0 {
		if err := ks.expireCycle(); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// PostApply delivers what the entry published to this node's subscribers.
func (a *applicator) PostApply(e *platform.Entry, pos platform.Position) {
	if len(a.pending) > 0 {
		a.delivered(e)
	}
	a.ready.deliver()
}

// applyCommand runs one write (or internal) command.
func applyCommand(ks *keyspace, args [][]byte) (any, error) {
	switch string(args[0]) {
	case cmdTick:
		return replyOK, nil
	case cmdExec:
		return applyExec(ks, args)
	case cmdPipe:
		return applyPipe(ks, args)
	}
	cmd := lookupCommand(args[0])
	if cmd == nil || cmd.kind != kindWrite || !cmd.arityOK(len(args)) {
		return nil, redisError(fmt.Sprintf("ERR command %q cannot be applied", args[0]))
	}
	return cmd.exec(ks, args)
}

// pipeReplies are the replies of a cmdPipe entry, one per write.
type pipeReplies []any

// applyPipe runs a connection's pipelined writes in order. Unlike EXEC's,
// each write stands alone: one failing does not stop the next.
func applyPipe(ks *keyspace, args [][]byte) (any, error) {
	replies := make(pipeReplies, 0, len(args)-1)
	for _, body := range args[1:] {
		db, seed, cargs, err := decodeCommand(body)
		if err != nil || string(cargs[0]) == cmdPipe {
			return nil, redisError("ERR malformed pipeline")
		}
		sub := ks.withDB(db)
		sub.seed, sub.rng = seed, nil
		r, err := applyCommand(sub, cargs)
		if err != nil {
			if _, ok := err.(redisError); !ok {
				return nil, err
			}
			r = err
		}
		if wb, ok := r.(wouldBlock); ok {
			r = wb.timeoutReply
		}
		replies = append(replies, r)
	}
	return replies, nil
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
			s.engine.Propose(ctx, &platform.Entry{Body: encodeCommand(0, 0, [][]byte{[]byte(cmdTick)})})
			cancel()
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
