package platform_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"hourglass/internal/faultfs"
	"hourglass/internal/pebbledb"
	"hourglass/platform"
	"hourglass/platform/platformtest"
)

// checksumOf replays log into a fresh store and returns the digest at its
// tail: the state every replica must reach.
func checksumOf(t *testing.T, s *stack, tail platform.Position) []byte {
	t.Helper()
	pos, digest, err := s.base.Checksum(ctxFor(t), tail)
	if err != nil || pos != tail {
		t.Fatalf("checksum at %d = %d, %v", tail, pos, err)
	}
	return digest
}

// TestStoreCrashReplaysToSameChecksum: the LocalStore is crashed at
// random moments, keeping a random part of what was not fsynced (state
// is made durable only now and then); each crashed store, reopened,
// replays the log from its cursor to exactly the checksum of a store that
// applied the whole log without a crash.
func TestStoreCrashReplaysToSameChecksum(t *testing.T) {
	ctx := ctxFor(t)
	rng := rand.New(rand.NewPCG(3, 4))
	log := platformtest.NewMemLog()
	fs := vfs.NewCrashableMem()
	s := newStack(t, log, openStore(t, fs), "kv", "zk")
	var crashed []*vfs.MemFS
	for i := range 200 {
		mount := []string{"kv", "zk"}[rng.IntN(2)]
		propose(t, ctx, s.mounts[mount], fmt.Sprintf("incr k%d", rng.IntN(7)))
		if i%50 == 25 {
			if err := s.base.MakeDurable(); err != nil {
				t.Fatal(err)
			}
		}
		if i%40 == 39 {
			crashed = append(crashed, fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: rng.IntN(100), RNG: rng}))
		}
	}
	tail, err := log.CheckTail(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := checksumOf(t, s, tail)
	s.base.Close()
	fresh := newStack(t, log, openStore(t, vfs.NewMem()), "kv", "zk")
	if got := checksumOf(t, fresh, tail); !bytes.Equal(got, want) {
		t.Fatalf("a fresh replay's checksum %x differs from the live store's %x", got, want)
	}
	for i, c := range crashed {
		r := newStack(t, log, openStore(t, c), "kv", "zk")
		if got := checksumOf(t, r, tail); !bytes.Equal(got, want) {
			t.Fatalf("crash %d: replayed checksum %x, want %x", i, got, want)
		}
		r.base.Close()
	}
}

// TestStoreFsyncErrorStopsApply: when making the applied state durable
// fails (an fsync error), the engine stops applying with an error that
// says so, refuses proposals, and never trims the log below the state it
// failed to make durable. Restarted over what the store had synced, it
// replays to the same checksum as a replica that never failed.
func TestStoreFsyncErrorStopsApply(t *testing.T) {
	ctx := ctxFor(t)
	log := platformtest.NewMemLog()
	mem := vfs.NewCrashableMem()
	var fail atomic.Bool
	s := newStack(t, log, openStore(t, faultfs.FailSync(mem, fail.Load)), "kv")
	for range 20 {
		propose(t, ctx, s.mounts["kv"], "incr a")
	}
	fail.Store(true)
	s.mounts["kv"].SetTrimPrefix("test", 15) // the trim loop makes state durable first
	deadline := time.Now().Add(10 * time.Second)
	for s.base.Err() == nil {
		if time.Now().After(deadline) {
			t.Fatal("apply never stopped after the store's fsync failed")
		}
		time.Sleep(time.Millisecond)
	}
	if err := s.base.Err(); !errors.Is(err, pebbledb.ErrFailed) || !errors.Is(err, syscall.EIO) {
		t.Fatalf("engine stopped with %v, want pebbledb.ErrFailed with EIO", err)
	}
	if _, err := s.mounts["kv"].Propose(ctx, &platform.Entry{Body: []byte("incr a")}); !errors.Is(err, platform.ErrStopped) {
		t.Fatalf("proposal after the failure: %v, want ErrStopped", err)
	}
	if _, err := log.ReadNext(ctx, 0, 1); err != nil {
		t.Fatalf("log trimmed although the store failed to make its state durable: %v", err)
	}
	// Another replica appends on; the restarted one catches up to the
	// same state.
	other := newStack(t, log, openStore(t, vfs.NewMem()), "kv")
	for range 5 {
		propose(t, ctx, other.mounts["kv"], "incr a")
	}
	tail, err := log.CheckTail(ctx)
	if err != nil {
		t.Fatal(err)
	}
	crashed := mem.CrashClone(vfs.CrashCloneCfg{})
	s.base.Close()
	fail.Store(false)
	r := newStack(t, log, openStore(t, crashed), "kv")
	if got, want := checksumOf(t, r, tail), checksumOf(t, other, tail); !bytes.Equal(got, want) {
		t.Fatalf("restarted replica's checksum %x, want %x", got, want)
	}
	v, err := r.mounts["kv"].Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if got := get(t, v, "a"); got != 25 {
		t.Fatalf("a = %d after restart, want 25", got)
	}
}
