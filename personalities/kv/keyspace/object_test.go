package keyspace

import "testing"

// TestObjectNodeConfig checks OBJECT under a node's thresholds.
func TestObjectNodeConfig(t *testing.T) {
	ks := newTestKeyspace(t)
	run(t, ks, "HSET", "h", "a", "1", "b", "2")
	run(t, ks, "SADD", "s", "1", "2")
	if got := run(t, ks, "OBJECT", "ENCODING", "h"); string(got.([]byte)) != "listpack" {
		t.Fatalf("default encoding %q", got)
	}
	if got := run(t, ks, "OBJECT", "IDLETIME", "h"); got != int64(0) {
		t.Fatalf("IDLETIME = %v", got)
	}
	cfg := DefaultNodeConfig
	cfg.HashMaxListpackEntries, cfg.SetMaxIntsetEntries = 1, 1
	lfu := ks.WithNodeConfig(&cfg)
	for key, want := range map[string]string{"h": "hashtable", "s": "hashtable"} {
		if got := run(t, lfu, "OBJECT", "ENCODING", key); string(got.([]byte)) != want {
			t.Errorf("OBJECT ENCODING %s = %q, want %q", key, got, want)
		}
	}
	if got := run(t, lfu, "OBJECT", "IDLETIME", "nokey"); got != nil {
		t.Fatalf("IDLETIME of no key = %v", got)
	}
}
