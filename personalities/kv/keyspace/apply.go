package keyspace

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"time"

	"hourglass/platform"
)

// cmdTick is the internal command a node proposes to advance the log
// time, so that keys expire; clients cannot name it (it starts with NUL).
const cmdTick = "\x00tick"

// TickBody returns the log body of a tick: a command that changes
// nothing, proposed so that an entry, and with it the active expiry
// cycle, runs at the log time when keys are due.
func TickBody() []byte { return EncodeCommand(0, 0, [][]byte{[]byte(cmdTick)}) }

// Apply runs the command body holds (EncodeCommand's, EncodeExec's or
// TickBody's) as transaction at of the log, against txn, at log time now.
// It returns the command's reply, its own failures included (as an
// Error); an error means the store failed, and is fatal to the apply
// loop. What the command publishes and the keys it makes ready for
// blocked clients are appended to fx, for the caller to deliver once the
// transaction commits.
//
// Apply is deterministic: the same state, body, version and log time give
// the same reply and the same writes on every replica. It reads no clock
// and draws no randomness but the body's seed; only fx.Observers, which
// shape replies and never writes, may differ between nodes.
func Apply(txn platform.Txn, at platform.Version, now time.Time, body []byte, fx *Effects) (any, error) {
	db, seed, args, err := decodeCommand(body)
	if err != nil {
		return Error("ERR " + err.Error()), nil
	}
	ks := forApply(txn, at, now.UnixMilli(), db, seed, fx)
	room, err := ks.evict()
	if err != nil {
		return nil, err
	}
	var r any
	if !room && deniedOnOOM(args) {
		r = ErrOOM
	} else if r, err = applyCommand(ks, args); err != nil {
		var re Error
		if !errors.As(err, &re) {
			return nil, err
		}
		r = re
	}
	if string(args[0]) == cmdConfig {
		if _, err := ks.evict(); err != nil { // a lower maxmemory applies at once
			return nil, err
		}
	}
	return r, fx.storeAccounting(txn)
}

// deniedOnOOM reports whether the command line is refused when memory
// cannot be freed: a command flagged denyoom, or a transaction holding
// one, as Redis's processCommand decides.
func deniedOnOOM(args [][]byte) bool {
	if string(args[0]) == cmdExec {
		_, queued := scriptEntryLine(args[2:])
		for _, body := range queued {
			if _, _, cargs, err := decodeCommand(body); err == nil && deniedOnOOM(cargs) {
				return true
			}
		}
		return false
	}
	cmd := Lookup(args[0])
	return cmd != nil && slices.Contains(cmd.Flags, "denyoom")
}

// applyCommand runs one write (or internal) command.
func applyCommand(ks *Keyspace, args [][]byte) (any, error) {
	switch string(args[0]) {
	case cmdTick:
		return OK, nil
	case cmdExec:
		return applyExec(ks, args)
	case cmdScript:
		return applyScriptEntry(ks, args)
	case cmdScriptLoad:
		return applyScriptLoad(ks, args)
	case cmdScriptFlush:
		return applyScriptFlush(ks)
	case cmdFunctionLoad:
		return applyFunctionLoad(ks, args)
	case cmdFunctionDelete:
		return applyFunctionDelete(ks, args)
	case cmdFunctionFlush:
		return applyFunctionFlush(ks)
	case cmdFunctionRestore:
		return applyFunctionRestore(ks, args)
	case cmdTouch:
		return applyTouch(ks, args)
	case cmdConfig:
		return applyConfig(ks, args)
	}
	cmd := Lookup(args[0])
	if cmd == nil || !cmd.ArityOK(len(args)) || !cmd.appliesWith(args) {
		return nil, Errorf("ERR command %q cannot be applied", args[0])
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

// ExpireCycle runs active expiry as transaction at of the log, against
// txn, at log time now: it deletes up to 20 keys whose expiry has passed
// (from the front of the expiry index, in any database) and up to 20
// tombstones older than 2^20 log positions. Like Apply it is
// deterministic, and an error means the store failed. It is meant to run
// once per log entry, after the entry's commands.
func ExpireCycle(txn platform.Txn, at platform.Version, now time.Time, fx *Effects) error {
	ks := forApply(txn, at, now.UnixMilli(), 0, 0, fx)
	if err := ks.expireCycle(); err != nil {
		return err
	}
	cfg, err := ks.evictionConfig()
	if err != nil {
		return err
	}
	fx.Eviction = *cfg
	return fx.storeAccounting(txn)
}

func (ks *Keyspace) expireCycle() error {
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
			kd.notify(EventExpired, "expired", d.key)
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

// ExpiryDue reports whether the applied state r holds a key whose expiry
// is before now: a tick (TickBody) would expire it.
func ExpiryDue(r platform.Reader, now time.Time) (bool, error) {
	it, err := r.NewIter([]byte{prefixExpiry}, []byte{prefixExpiry + 1})
	if err != nil {
		return false, err
	}
	defer it.Close()
	if !it.First() {
		return false, it.Error()
	}
	at := int64(binary.BigEndian.Uint64(it.Key()[1:]))
	return now.UnixMilli() > at, nil
}

// DBStat counts one database's keys, for INFO's Keyspace section.
type DBStat struct {
	// Keys counts the keys stored, expired ones not yet deleted
	// included, as DBSIZE does.
	Keys int64
	// Expires counts the keys with an expiry.
	Expires int64
}

// Stats returns every database's DBStat in the applied state r.
func Stats(r platform.Reader) ([Databases]DBStat, error) {
	var out [Databases]DBStat
	it, err := r.NewIter([]byte{prefixExpiry}, []byte{prefixExpiry + 1})
	if err != nil {
		return out, err
	}
	for it.First(); it.Valid(); it.Next() {
		if db := int(it.Key()[9]); db < Databases {
			out[db].Expires++
		}
	}
	if err := it.Close(); err != nil {
		return out, err
	}
	for db := range Databases {
		n, err := (&Keyspace{r: r, db: db}).size()
		if err != nil {
			return out, err
		}
		out[db].Keys = n
	}
	return out, nil
}
