package batching_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"hourglass/engines/batching"
	"hourglass/platform"
	"hourglass/platform/platformtest"
)

// counter applies "incr" proposals to one counter and records PostApply.
type counter struct {
	mu   sync.Mutex
	post int
}

func (c *counter) Apply(txn platform.Txn, e *platform.Entry, pos platform.Position) (any, error) {
	v, _, err := txn.Get([]byte("n"))
	if err != nil {
		return nil, err
	}
	var n uint64
	if len(v) == 8 {
		n = binary.BigEndian.Uint64(v)
	}
	n++
	return n, txn.Set([]byte("n"), binary.BigEndian.AppendUint64(nil, n))
}

func (c *counter) PostApply(e *platform.Entry, pos platform.Position) {
	c.mu.Lock()
	c.post++
	c.mu.Unlock()
}

func TestBatchesConcurrentProposals(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	base, log := platformtest.NewBase(t)
	b := batching.New(base, batching.Config{MaxProposals: 16})
	app := &counter{}
	b.RegisterUpcall(app)
	if err := base.Start(); err != nil {
		t.Fatal(err)
	}

	const proposers, each = 64, 20
	var mu sync.Mutex
	seen := map[uint64]bool{}
	var wg sync.WaitGroup
	for range proposers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				r, err := b.Propose(ctx, &platform.Entry{Body: []byte("incr")})
				if err != nil {
					t.Error(err)
					return
				}
				n := r.(uint64)
				mu.Lock()
				if seen[n] {
					t.Errorf("result %d returned twice", n)
				}
				seen[n] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != proposers*each {
		t.Fatalf("%d distinct results, want %d", len(seen), proposers*each)
	}
	entries, _ := log.CheckTail(ctx)
	if entries >= proposers*each {
		t.Fatalf("%d proposals took %d log entries: nothing was batched", proposers*each, entries)
	}
	// PostApply follows the results; the apply loop has run it for every
	// entry once it stops.
	base.Close()
	app.mu.Lock()
	defer app.mu.Unlock()
	if app.post != proposers*each {
		t.Fatalf("PostApply called %d times, want %d", app.post, proposers*each)
	}
	t.Logf("%d proposals in %d log entries", proposers*each, entries)
}

func TestEncodeDecode(t *testing.T) {
	in := [][]byte{[]byte("a"), {}, bytes.Repeat([]byte("z"), 300)}
	out, err := batching.Decode(batching.Encode(in))
	if err != nil || len(out) != 3 {
		t.Fatalf("Decode = %q, %v", out, err)
	}
	for i := range in {
		if !bytes.Equal(in[i], out[i]) {
			t.Fatalf("proposal %d = %q, want %q", i, out[i], in[i])
		}
	}
	for _, bad := range [][]byte{nil, {5, 'a'}, {0x80}} {
		if _, err := batching.Decode(bad); err == nil {
			t.Errorf("Decode(%q) accepted a malformed body", bad)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(batching.Encode([][]byte{[]byte("x"), []byte("yz")}))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, body []byte) {
		raws, err := batching.Decode(body)
		if err != nil {
			return
		}
		if !bytes.Equal(batching.Encode(raws), body) {
			t.Fatalf("Encode(Decode(%q)) differs", body)
		}
	})
}
