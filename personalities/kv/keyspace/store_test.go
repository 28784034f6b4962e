package keyspace

import (
	"bytes"
	"errors"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"hourglass/internal/pebbledb"
	"hourglass/platform"
)

// memTxn is an apply transaction over an indexed pebble batch in memory.
type memTxn struct{ b *pebble.Batch }

// newMemTxn returns a transaction over an empty in-memory store, closed
// when the test ends.
func newMemTxn(t testing.TB) memTxn {
	t.Helper()
	db, err := pebbledb.Open("kv", pebbledb.Options{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	b := db.NewIndexedBatch()
	t.Cleanup(func() { b.Close(); db.Close() })
	return memTxn{b}
}

func (m memTxn) Get(key []byte) ([]byte, bool, error) {
	v, closer, err := m.b.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer closer.Close()
	return bytes.Clone(v), true, nil
}

func (m memTxn) NewIter(lo, hi []byte) (platform.Iterator, error) {
	return m.b.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
}
func (m memTxn) Set(k, v []byte) error           { return m.b.Set(k, v, nil) }
func (m memTxn) Delete(k []byte) error           { return m.b.Delete(k, nil) }
func (m memTxn) DeleteRange(lo, hi []byte) error { return m.b.DeleteRange(lo, hi, nil) }

// applyKeyspace returns database 0 of txn as apply sees it at log time
// now (ms), version version, with random seed seed.
func applyKeyspace(txn memTxn, now int64, version, seed uint64) *Keyspace {
	memo := &rawMemo{}
	return &Keyspace{r: txn, w: memoWriter{txn, memo, &accounting{r: txn}}, memo: memo, now: now, version: version, seed: seed}
}

// newTestKeyspace returns an apply keyspace over an empty in-memory
// store.
func newTestKeyspace(t testing.TB) *Keyspace {
	return applyKeyspace(newMemTxn(t), 1_000_000, 1<<20, 42)
}

// run runs one command line as the proposer and apply would, at the
// keyspace's next version: Check, then exec. A command's own failure is
// returned as its Error reply; a storage error fails the test.
func run(t testing.TB, ks *Keyspace, words ...string) any {
	t.Helper()
	args := argv(words)
	cmd := Lookup(args[0])
	if cmd == nil || !cmd.ArityOK(len(args)) {
		t.Fatalf("%q: no such command or wrong arity", words)
	}
	ks.version++
	if err := cmd.checkAt(args, ks.now); err != nil {
		return err
	}
	r, err := cmd.exec(ks, args)
	return replyOrFail(t, r, err)
}

// argv returns a command line's words as arguments.
func argv(words []string) [][]byte {
	args := make([][]byte, len(words))
	for i, w := range words {
		args[i] = []byte(w)
	}
	return args
}

// replyOrFail returns a command's reply, or its own failure as the
// Error reply; a storage error fails the test.
func replyOrFail(t testing.TB, r any, err error) any {
	t.Helper()
	var re Error
	if errors.As(err, &re) {
		return re
	}
	if err != nil {
		t.Fatalf("storage error: %v", err)
	}
	return r
}
