package platform_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"hourglass/internal/pebbledb"
	"hourglass/platform"
	"hourglass/platform/platformtest"
)

// bulker writes keys b00000.. (d00000.. for "discard") of an entry
// "bulk N" or "discard N" (bulk writes, then discarded), through its bulk
// writer, or through Set if plain.
type bulker struct{ plain bool }

func (b *bulker) Apply(txn platform.Txn, e *platform.Entry, at platform.Version) (platform.Result, error) {
	f := strings.Fields(string(e.Body))
	n, _ := strconv.Atoi(f[1])
	bw, err := platform.Bulk(txn)
	if err != nil {
		return platform.Result{}, err
	}
	for i := range n {
		k, v := []byte(fmt.Sprintf("%c%05d", f[0][0], i)), []byte(fmt.Sprintf("v%d", i))
		if b.plain {
			err = txn.Set(k, v)
		} else {
			err = bw.Set(k, v)
		}
		if err != nil {
			return platform.Result{}, err
		}
	}
	if f[0] == "discard" {
		bw.Discard()
	}
	return platform.Result{}, txn.Set([]byte("last"), []byte(f[0]))
}

func (b *bulker) PostApply(*platform.Entry, platform.Version) {}

// bulkEngine is a started engine with a bulker mounted as "m", its store
// on a filesystem of its own with a scratch directory.
func bulkEngine(t *testing.T, log platform.Log, plain bool) (*platform.BaseEngine, *platform.Mount, *bulker) {
	t.Helper()
	fs := vfs.NewMem()
	db, err := pebbledb.Open("store", pebbledb.Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	base, err := platform.NewBase(platform.BaseConfig{Log: log, Store: db, ScratchFS: fs, ScratchDir: "scratch"})
	if err != nil {
		t.Fatal(err)
	}
	b := &bulker{plain: plain}
	m := platform.NewRouter(base).Mount("m")
	m.RegisterUpcall(b)
	if err := base.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		base.Close()
		db.Close()
	})
	return base, m, b
}

// TestBulkWrites: bulk writes land at the entry's commit, in the digest
// exactly as the same Sets would, and a discarded stream leaves nothing.
func TestBulkWrites(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bulkBase, bulkMount, _ := bulkEngine(t, platformtest.NewMemLog(), false)
	plainBase, plainMount, _ := bulkEngine(t, platformtest.NewMemLog(), true)
	for _, m := range []*platform.Mount{bulkMount, plainMount} {
		if _, err := m.Propose(ctx, &platform.Entry{Body: []byte("bulk 3000")}); err != nil {
			t.Fatal(err)
		}
	}
	v, err := bulkMount.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 1234, 2999} {
		got, ok, err := v.Get([]byte(fmt.Sprintf("b%05d", i)))
		if err != nil || !ok || string(got) != fmt.Sprintf("v%d", i) {
			t.Fatalf("key %d after the bulk entry: %q, %v, %v", i, got, ok, err)
		}
	}
	v.Close()
	_, bulkSum, err := bulkBase.Checksum(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	_, plainSum, err := plainBase.Checksum(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if string(bulkSum) != string(plainSum) {
		t.Fatal("bulk writes and the same Sets give different checksums")
	}
	if _, err := bulkMount.Propose(ctx, &platform.Entry{Body: []byte("discard 10")}); err != nil {
		t.Fatal(err)
	}
	v, err = bulkMount.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if _, ok, err := v.Get([]byte("d00003")); ok || err != nil {
		t.Fatalf("a discarded bulk write is in the store (%v)", err)
	}
	if last, _, _ := v.Get([]byte("last")); string(last) != "discard" {
		t.Fatalf("the discarding entry's own write: %q", last)
	}
}
