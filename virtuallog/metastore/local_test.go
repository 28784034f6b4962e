package metastore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"hourglass/internal/pebbledb"
	"hourglass/virtuallog"
	"hourglass/virtuallog/metastore"
)

func TestLocalConditionalWrites(t *testing.T) {
	fs := vfs.NewCrashableMem()
	db, err := pebbledb.Open("meta", pebbledb.Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	m := metastore.NewLocal(db)
	ctx := context.Background()
	if v, ver, err := m.Read(ctx); err != nil || v != nil || ver != 0 {
		t.Fatalf("fresh Read = %q, %d, %v", v, ver, err)
	}
	// Eight writers race from every version; exactly one wins each round.
	for round := range uint64(20) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		winners := 0
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := m.Write(ctx, fmt.Appendf(nil, "r%d-w%d", round, w), round)
				switch {
				case err == nil:
					mu.Lock()
					winners++
					mu.Unlock()
				case !errors.Is(err, virtuallog.ErrVersionMismatch):
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if winners != 1 {
			t.Fatalf("round %d: %d winners", round, winners)
		}
	}
	v, ver, err := m.Read(ctx)
	if err != nil || ver != 20 {
		t.Fatalf("Read = %q, %d, %v; want version 20", v, ver, err)
	}
	// The last write was synced: it survives a crash.
	crashed, err := pebbledb.Open("meta", pebbledb.Options{FS: fs.CrashClone(vfs.CrashCloneCfg{})})
	if err != nil {
		t.Fatal(err)
	}
	defer crashed.Close()
	db.Close()
	v2, ver2, err := metastore.NewLocal(crashed).Read(ctx)
	if err != nil || ver2 != 20 || string(v2) != string(v) {
		t.Fatalf("after crash Read = %q, %d, %v; want %q, 20", v2, ver2, err, v)
	}
}
