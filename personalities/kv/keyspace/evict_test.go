package keyspace

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"hourglass/platform"
)

// applier applies command lines to one in-memory store as the apply
// loop does: one log entry each, at a log time the test moves.
type applier struct {
	t   *testing.T
	txn memTxn
	fx  Effects
	pos platform.Position
	now int64 // ms
}

func newApplier(t *testing.T) *applier {
	return &applier{t: t, txn: newMemTxn(t), now: 1_000_000}
}

func (a *applier) body(body []byte) any {
	a.t.Helper()
	a.pos++
	r, err := Apply(a.txn, platform.Version{Pos: a.pos}, time.UnixMilli(a.now), body, &a.fx)
	if err != nil {
		a.t.Fatal(err)
	}
	if err := ExpireCycle(a.txn, platform.Version{Pos: a.pos, Sub: 1}, time.UnixMilli(a.now), &a.fx); err != nil {
		a.t.Fatal(err)
	}
	return r
}

func (a *applier) do(words ...string) any {
	a.t.Helper()
	return a.body(EncodeCommand(0, uint64(a.pos)*7919+1, argv(words)))
}

// read runs a read command on a view of the store at the log time.
func (a *applier) read(words ...string) any {
	a.t.Helper()
	args := argv(words)
	r, err := Lookup(args[0]).Exec(NewView(a.txn, 0, time.UnixMilli(a.now), 1), args)
	if _, ok := err.(Error); err != nil && !ok {
		a.t.Fatal(err)
	}
	if err != nil {
		return err
	}
	return r
}

func (a *applier) config(pairs ...string) {
	a.t.Helper()
	if r := a.body(ConfigBody(pairs)); r != OK {
		a.t.Fatalf("config %q: %v", pairs, r)
	}
}

func (a *applier) used() int64 {
	a.t.Helper()
	n, err := UsedMemory(a.txn)
	if err != nil {
		a.t.Fatal(err)
	}
	return n
}

// recount adds up the estimate of every stored entry, and checks the
// sampling indexes against the live keys.
func (a *applier) recount() int64 {
	a.t.Helper()
	var total int64
	live, volatile := map[string]bool{}, map[string]bool{}
	it, err := a.txn.NewIter(nil, nil)
	if err != nil {
		a.t.Fatal(err)
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		k, v := it.Key(), it.Value()
		total += entrySize(k, v)
		if k[0] == prefixKey {
			if l, vol := liveness(v, true); l {
				live[string(sampleKey(prefixSample, k))] = true
				if vol {
					volatile[string(sampleKey(prefixVolatile, k))] = true
				}
			}
		}
	}
	for it.First(); it.Valid(); it.Next() {
		k := string(it.Key())
		switch k[0] {
		case prefixSample:
			if !live[k] {
				a.t.Fatalf("sampling index holds %q, no live key", k)
			}
			delete(live, k)
		case prefixVolatile:
			if !volatile[k] {
				a.t.Fatalf("volatile index holds %q", k)
			}
			delete(volatile, k)
		}
	}
	if len(live)+len(volatile) != 0 {
		a.t.Fatalf("keys missing from the sampling indexes: %d, %d", len(live), len(volatile))
	}
	return total
}

// TestMemoryAccounting: the stored used memory is the sum of the
// estimates of what is stored, whatever the writes.
func TestMemoryAccounting(t *testing.T) {
	a := newApplier(t)
	script := [][]string{
		{"SET", "s", "hello"}, {"APPEND", "s", " world"}, {"SET", "n", "10", "EX", "100"},
		{"HSET", "h", "a", "1", "b", "2", "c", "3"}, {"HDEL", "h", "b"},
		{"RPUSH", "l", "x", "y", "z"}, {"LPOP", "l"}, {"SADD", "set", "1", "2", "3"},
		{"ZADD", "z", "1", "a", "2", "b"}, {"XADD", "st", "1-1", "f", "v"},
		{"RENAME", "h", "h2"}, {"MOVE", "s", "3"}, {"SWAPDB", "0", "3"}, {"SWAPDB", "0", "3"},
		{"EXPIRE", "l", "50"}, {"PERSIST", "l"}, {"DEL", "set"}, {"SET", "z", "over"},
		{"COPY", "h2", "h3"}, {"FLUSHDB"}, {"SET", "again", "1"},
	}
	for _, words := range script {
		a.do(words...)
		if got, want := a.used(), a.recount(); got != want {
			t.Fatalf("after %q: used %d, entries add up to %d", words, got, want)
		}
	}
	a.do("RPUSH", "l2", "a", "b", "c")
	a.do("XADD", "st2", "1-1", "f", "v")
	// MEMORY USAGE of every key adds up to the used memory.
	var sum int64
	it, err := a.txn.NewIter([]byte{prefixKey}, []byte{prefixKey + 1})
	if err != nil {
		t.Fatal(err)
	}
	for it.First(); it.Valid(); it.Next() {
		if live, _ := liveness(it.Value(), true); live {
			n, ok, err := NewView(a.txn, int(it.Key()[1]), time.UnixMilli(a.now), 1).MemoryUsage(it.Key()[2:], 0)
			if err != nil || !ok {
				t.Fatalf("MEMORY USAGE %q: %v %v", it.Key(), ok, err)
			}
			sum += n
		}
	}
	it.Close()
	if sum != a.used() {
		t.Fatalf("MEMORY USAGE adds up to %d, used memory %d", sum, a.used())
	}
	a.do("FLUSHALL")
	if a.used() != 0 || a.recount() != 0 {
		t.Fatalf("after FLUSHALL: used %d", a.used())
	}
}

// fill writes n string keys of about size bytes each, with a TTL on
// every other one if ttl.
func (a *applier) fill(n, size int, ttl bool) {
	a.t.Helper()
	for i := range n {
		args := []string{"SET", fmt.Sprintf("key:%d", i), string(bytes.Repeat([]byte{'v'}, size))}
		if ttl && i%2 == 0 {
			args = append(args, "EX", fmt.Sprint(1000+i))
		}
		if r, ok := a.do(args...).(Error); ok {
			a.t.Fatalf("%s: %v", args[1], r)
		}
		a.now++
	}
}

func (a *applier) exists(key string) bool {
	a.t.Helper()
	return a.read("EXISTS", key) == int64(1)
}

func TestEvictionNoEvictionOOM(t *testing.T) {
	a := newApplier(t)
	a.fill(20, 100, false)
	a.config("maxmemory", fmt.Sprint(a.used()-1))
	if r := a.do("SET", "more", "x"); r != ErrOOM {
		t.Fatalf("SET over maxmemory: %v", r)
	}
	if r := a.read("GET", "key:1"); r == ErrOOM {
		t.Fatal("GET refused")
	}
	if r := a.do("DEL", "key:1"); r != int64(1) {
		t.Fatalf("DEL over maxmemory: %v", r)
	}
	if r := a.do("SET", "more", "x"); r != OK {
		t.Fatalf("SET under maxmemory: %v", r)
	}
	exec := EncodeExec(0, nil, "", [][]byte{EncodeCommand(0, 0, argv([]string{"SET", "a", "b"}))})
	a.config("maxmemory", fmt.Sprint(a.used()-1))
	if r := a.body(exec); r != ErrOOM {
		t.Fatalf("EXEC with SET over maxmemory: %v", r)
	}
}

func TestEvictionPolicies(t *testing.T) {
	for _, policy := range []string{"allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"} {
		t.Run(policy, func(t *testing.T) {
			a := newApplier(t)
			a.fill(100, 200, true)
			limit := a.used() / 2
			a.config("maxmemory", fmt.Sprint(limit), "maxmemory-policy", policy)
			a.fill(100, 200, true) // the same keys again: over the limit at once
			if a.used() > limit+400 {
				t.Fatalf("used %d, limit %d", a.used(), limit)
			}
			if a.fx.Evicted == 0 {
				t.Fatal("nothing evicted")
			}
			kept := 0
			for i := range 100 {
				if !a.exists(fmt.Sprintf("key:%d", i)) {
					if i%2 == 1 && policy[0] == 'v' {
						t.Fatalf("%s evicted key:%d, which has no TTL", policy, i)
					}
					continue
				}
				kept++
			}
			if policy == "volatile-ttl" {
				// The nearest expiries went first: the kept volatile
				// keys are the ones with the latest.
				for i := 0; i < 100; i += 2 {
					if a.exists(fmt.Sprintf("key:%d", i)) {
						for j := i + 2; j < 100; j += 2 {
							if !a.exists(fmt.Sprintf("key:%d", j)) {
								t.Fatalf("key:%d kept, key:%d (later TTL) evicted", i, j)
							}
						}
						break
					}
				}
			}
			if got, want := a.used(), a.recount(); got != want {
				t.Fatalf("used %d, entries add up to %d", got, want)
			}
		})
	}
}

// TestEvictionLRUKeepsTouched: keys touched (by a touch entry, as reads
// on any node send them) survive an allkeys-lru eviction far more than
// the others.
func TestEvictionLRUKeepsTouched(t *testing.T) {
	a := newApplier(t)
	a.config("maxmemory-policy", "allkeys-lru", "maxmemory-samples", "10")
	a.fill(200, 100, false)
	a.now += 10_000
	var hot []DBKey
	for i := 0; i < 200; i += 4 {
		hot = append(hot, DBKey{0, fmt.Sprintf("key:%d", i)})
	}
	a.body(TouchBody(1, hot))
	a.now += 1000
	a.config("maxmemory", fmt.Sprint(a.used()*6/10))
	hotKept, coldKept := 0, 0
	for i := range 200 {
		if a.exists(fmt.Sprintf("key:%d", i)) {
			if i%4 == 0 {
				hotKept++
			} else {
				coldKept++
			}
		}
	}
	if hotKept < 45 || float64(hotKept)/50 < 2*float64(coldKept)/150 {
		t.Fatalf("hot keys kept %d/50, cold %d/150", hotKept, coldKept)
	}
}

// TestObjectAccessInformation: IDLETIME counts from the last write or
// touch at log time; FREQ grows with touches under an LFU policy.
func TestObjectAccessInformation(t *testing.T) {
	a := newApplier(t)
	a.do("SET", "k", "v")
	a.now += 5000
	if r := a.read("OBJECT", "IDLETIME", "k"); r != int64(5) {
		t.Fatalf("IDLETIME = %v", r)
	}
	a.body(TouchBody(3, []DBKey{{0, "k"}}))
	if r := a.read("OBJECT", "IDLETIME", "k"); r != int64(0) {
		t.Fatalf("IDLETIME after a touch = %v", r)
	}
	if _, ok := a.read("OBJECT", "FREQ", "k").(Error); !ok {
		t.Fatal("FREQ answered under noeviction")
	}
	a.config("maxmemory-policy", "allkeys-lfu", "lfu-log-factor", "0")
	if r := a.read("OBJECT", "FREQ", "k"); r != int64(lfuInitVal+1) {
		t.Fatalf("FREQ = %v", r)
	}
	for range 10 {
		a.body(TouchBody(uint64(a.pos), []DBKey{{0, "k"}}))
	}
	if r := a.read("OBJECT", "FREQ", "k"); r != int64(lfuInitVal+11) {
		t.Fatalf("FREQ after 10 touches = %v", r)
	}
	a.now += 3 * 60_000 // decays one per minute
	if r := a.read("OBJECT", "FREQ", "k"); r != int64(lfuInitVal+8) {
		t.Fatalf("FREQ 3 minutes later = %v", r)
	}
	if _, ok := a.read("OBJECT", "IDLETIME", "k").(Error); !ok {
		t.Fatal("IDLETIME answered under LFU")
	}
}

// TestMalformedInternalEntries: a touch or config entry that does not
// parse is an error reply that changes nothing, never a crash.
func TestMalformedInternalEntries(t *testing.T) {
	a := newApplier(t)
	a.do("SET", "k", "v")
	for _, args := range [][]string{
		{cmdTouch, "k"}, {cmdTouch, "\x20", "k"}, {cmdTouch, "ab", "k"},
		{cmdConfig, "maxmemory"}, {cmdConfig, "maxmemory", "-5"}, {cmdConfig, "nosuch", "1"},
		{cmdConfig, "maxmemory-policy", "lru"}, {cmdConfig, "maxmemory", "1", "lfu-log-factor", "x"},
	} {
		if _, ok := a.body(EncodeCommand(0, 1, argv(args))).(Error); !ok {
			t.Errorf("%q applied", args)
		}
	}
	if cfg, err := ReadEvictionConfig(a.txn); err != nil || cfg != DefaultEvictionConfig {
		t.Fatalf("settings changed: %+v, %v", cfg, err)
	}
}

// TestEvictionNotifies: each eviction publishes "evicted" (class e)
// before the command's own events.
func TestEvictionNotifies(t *testing.T) {
	a := newApplier(t)
	a.do("SET", "old", "v")
	a.now++
	a.do("SET", "older", "v")
	a.config("maxmemory", fmt.Sprint(a.used()), "maxmemory-policy", "allkeys-lru")
	a.do("SET", "new", "v") // over maxmemory now: the next command evicts
	a.fx.Observers = notifyObservers{EventEvicted | EventString | EventKeyevent}
	a.fx.Reset()
	a.now++
	a.do("SET", "newer", "v")
	var got []string
	for _, m := range a.fx.Published {
		got = append(got, string(m.Channel)+" "+string(m.Message))
	}
	want := []string{"__keyevent@0__:evicted old", "__keyevent@0__:set newer"}
	if !slices.Equal(got, want) {
		t.Fatalf("published %q, want %q", got, want)
	}
}

// TestRestoreAccessInformation: RESTORE's IDLETIME sets the idle time
// under an LRU policy, FREQ the counter under an LFU one.
func TestRestoreAccessInformation(t *testing.T) {
	a := newApplier(t)
	a.do("SET", "k", "v")
	payload := a.read("DUMP", "k").([]byte)
	a.do("RESTORE", "r1", "0", string(payload), "IDLETIME", "100")
	if r := a.read("OBJECT", "IDLETIME", "r1"); r != int64(100) {
		t.Fatalf("IDLETIME after RESTORE IDLETIME 100: %v", r)
	}
	a.config("maxmemory-policy", "allkeys-lfu")
	a.do("RESTORE", "r2", "0", string(payload), "FREQ", "42")
	if r := a.read("OBJECT", "FREQ", "r2"); r != int64(42) {
		t.Fatalf("FREQ after RESTORE FREQ 42: %v", r)
	}
}
