package sql

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"slices"
	"time"

	"hourglass/personalities/sql/sqlpb"
	"hourglass/personalities/sql/store"
	"hourglass/platform"
)

// Large transactions. A transaction whose buffered writes pass
// Config.StageBytes spills them into its staging area through a Stage
// entry (see store/staging.go) and goes on reading them from there; its
// commit entry carries only what it wrote since, and at apply moves the
// staged writes into place through the platform's bulk writer, which
// streams them into a table the store ingests at once. No entry, and no
// node's memory, holds more than StageBytes of the transaction, and the
// commit is atomic: a reader sees none of its writes or all of them.

// stageMeta keys a staging area's owner: 'T' and the transaction id.
func stageMeta(txid []byte) []byte { return append([]byte{'T'}, txid...) }

// DefaultStageBytes is Config.StageBytes's default.
const DefaultStageBytes = 8 << 20

// stage applies a Stage entry: the writes go into the staging area.
func (a *applicator) stage(base store.Store, x *sqlpb.Stage) *applied {
	owner := binary.BigEndian.AppendUint32(nil, x.OwnerNode)
	if err := base.Set(stageMeta(x.Txid), append(owner, x.OwnerBoot...)); err != nil {
		return fatal(err)
	}
	prefix := store.StageGen(x.Txid, x.Gen)
	for _, w := range x.Writes {
		v := store.EncodeStaged(stagedOf(w))
		if err := base.Set(append(bytes.Clone(prefix), w.Key...), v); err != nil {
			return fatal(err)
		}
	}
	return &applied{}
}

func stagedOf(w *sqlpb.Write) store.StagedWrite {
	s := store.StagedWrite{Key: w.Key, Value: w.Value, Del: w.Delete, Checked: w.Checked}
	if w.Checked && len(w.Expect) > 0 {
		s.Expect = w.Expect
	}
	return s
}

// unstage applies an Unstage entry.
func (a *applicator) unstage(txn platform.Txn, base store.Store, x *sqlpb.Unstage) *applied {
	if len(x.Txid) > 0 {
		return a.dropArea(txn, base, x.Txid, nil)
	}
	// Every area of owner_node but keep_boot's: the staging metas are
	// few (one per open large transaction).
	it, err := base.Scan([]byte{'T'}, []byte{'U'}, false)
	if err != nil {
		return fatal(err)
	}
	var drop [][]byte
	for it.Next() {
		v := it.Value()
		if len(v) >= 4 && binary.BigEndian.Uint32(v) == x.OwnerNode && !bytes.Equal(v[4:], x.KeepBoot) {
			drop = append(drop, bytes.Clone(it.Key()[1:]))
		}
	}
	if err := it.Close(); err != nil {
		return fatal(err)
	}
	for _, txid := range drop {
		if r := a.dropArea(txn, base, txid, nil); r.err != nil {
			return r
		}
	}
	return &applied{}
}

// dropArea deletes a staging area and answers with err.
func (a *applicator) dropArea(txn platform.Txn, base store.Store, txid []byte, err error) *applied {
	area := store.StageArea(txid)
	if e := txn.DeleteRange(area, platform.PrefixEnd(area)); e != nil {
		return fatal(e)
	}
	if e := base.Delete(stageMeta(txid)); e != nil {
		return fatal(e)
	}
	return &applied{err: err}
}

// commitStaged validates and applies a staged transaction: its read set,
// then every staged write's expectation (those of dropped generations
// too) as the writes stream in key order into the bulk writer.
func (a *applicator) commitStaged(txn platform.Txn, base store.Store, c *sqlpb.Commit) *applied {
	// Applied again after its bulk writes reached the store (the node
	// stopped before the entry committed): it was valid then, and the
	// state it would check now includes its own writes.
	replayed := platform.BulkReplayed(txn)
	fatal := func(err error) *applied { return fatal(err) }
	if !replayed {
		if err := store.Validate(base, readSetOf(c)); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return a.dropArea(txn, base, c.Txid, errSerialization)
			}
			return fatal(err)
		}
	}
	bw, err := platform.Bulk(txn)
	if err != nil {
		return fatal(err)
	}
	live := map[uint32]bool{}
	for _, g := range c.Gens {
		live[g] = true
	}
	gens := slices.Sorted(slices.Values(append(slices.Clone(c.Gens), c.Dropped...)))
	g, err := store.NewGenIter(base, c.Txid, gens, nil, nil, false)
	if err != nil {
		return fatal(err)
	}
	defer g.Close()
	conflict := false
	check := func(w store.StagedWrite) error {
		if replayed || conflict {
			return nil
		}
		ok, err := store.CheckExpect(base, w)
		conflict = err == nil && !ok
		return err
	}
	emit := func(w store.StagedWrite) error {
		if conflict {
			return nil
		}
		if w.Del {
			return bw.Delete(w.Key)
		}
		return bw.Set(w.Key, w.Value)
	}
	writes := c.Writes
	own := func() error { // the commit's own next write
		w := stagedOf(writes[0])
		writes = writes[1:]
		if err := check(w); err != nil {
			return err
		}
		return emit(w)
	}
	for !conflict {
		ok, err := g.Next()
		if err != nil {
			return fatal(err)
		}
		if !ok {
			break
		}
		key := g.Key()
		for len(writes) > 0 && bytes.Compare(writes[0].Key, key) < 0 {
			if err := own(); err != nil {
				return fatal(err)
			}
		}
		var last *store.StagedWrite
		for _, gw := range g.Writes() {
			if err := check(gw.StagedWrite); err != nil {
				return fatal(err)
			}
			if live[gw.Gen] {
				w := gw.StagedWrite
				last = &w
			}
		}
		if len(writes) > 0 && bytes.Equal(writes[0].Key, key) {
			if err := own(); err != nil {
				return fatal(err)
			}
			continue
		}
		if last != nil {
			if err := emit(*last); err != nil {
				return fatal(err)
			}
		}
	}
	for len(writes) > 0 && !conflict {
		if err := own(); err != nil {
			return fatal(err)
		}
	}
	if conflict {
		bw.Discard()
		return a.dropArea(txn, base, c.Txid, errSerialization)
	}
	return a.dropArea(txn, base, c.Txid, nil)
}

// stager is the store.Stager of the session's open transaction, for a
// statement running under ctx: it proposes the Stage entry and reads the
// staging area from a view that includes it.
func (ss *session) stager(ctx context.Context) store.Stager {
	return func(txid []byte, gen uint32, writes []store.StagedWrite) (store.Store, error) {
		x := &sqlpb.Stage{Txid: txid, Gen: gen, OwnerNode: uint32(ss.s.cfg.Node), OwnerBoot: ss.s.boot[:], Writes: writeProtos(writes)}
		r, err := ss.propose(ctx, &sqlpb.Entry{Kind: &sqlpb.Entry_Stage{Stage: x}})
		if err == nil {
			err = r.err
		}
		if err != nil {
			return nil, err
		}
		sctx, cancel := context.WithTimeout(ctx, ss.s.cfg.ProposeTimeout)
		defer cancel()
		v, err := ss.s.engine.Sync(sctx)
		if err != nil {
			return nil, stackError(err)
		}
		if ss.tx.stageView != nil {
			ss.tx.stageView.Close()
		}
		ss.tx.stageView = v
		return store.FromReader(v), nil
	}
}

// writeProtos is staged writes as an entry carries them.
func writeProtos(ws []store.StagedWrite) []*sqlpb.Write {
	out := make([]*sqlpb.Write, len(ws))
	for i, w := range ws {
		out[i] = &sqlpb.Write{Key: w.Key, Value: w.Value, Delete: w.Del, Checked: w.Checked, Expect: w.Expect}
	}
	return out
}

// maybeSpill spills the open transaction's writes to its staging area
// once they pass StageBytes.
func (ss *session) maybeSpill(ctx context.Context) error {
	o := ss.tx.overlay
	if o == nil || o.Bytes() < ss.s.cfg.StageBytes || ss.s.enabled.Load() < stagingVersion {
		return nil
	}
	if ss.tx.txid == nil {
		ss.tx.txid = make([]byte, 16)
		rand.Read(ss.tx.txid)
	}
	ss.tx.replay.disable()
	ss.tx.stagedBytes += o.Bytes()
	return o.Spill(ss.tx.txid, ss.stager(ctx))
}

// unstage drops the staging area of a transaction that ends without
// committing it; a failure leaves it to the next start's sweep.
func (ss *session) unstage(txid []byte) {
	ss.s.wg.Add(1)
	go func() {
		defer ss.s.wg.Done()
		if _, err := ss.propose(ss.s.ctx, &sqlpb.Entry{Kind: &sqlpb.Entry_Unstage{Unstage: &sqlpb.Unstage{Txid: txid}}}); err != nil {
			ss.s.cfg.Logger.Warn("dropping a rolled-back transaction's staged writes failed; the next start drops them", "err", err)
		}
	}()
}

// sweepStaged drops what this node's previous runs left staged: their
// connections are gone, and so are their transactions.
func (s *Server) sweepStaged() {
	defer s.wg.Done()
	ss := newSession(s, "postgres", "postgres")
	for s.ctx.Err() == nil {
		// Refused while version 2 is off, when nothing can be staged.
		_, err := ss.propose(s.ctx, &sqlpb.Entry{Kind: &sqlpb.Entry_Unstage{Unstage: &sqlpb.Unstage{OwnerNode: uint32(s.cfg.Node), KeepBoot: s.boot[:]}}})
		if err == nil {
			return
		}
		s.cfg.Logger.Debug("sweeping staged writes of earlier runs failed; retrying", "err", err)
		select {
		case <-s.ctx.Done():
		case <-time.After(time.Second):
		}
	}
}
