package keyspace

import (
	"bytes"
	"testing"

	"hourglass/personalities/kv/rdb"
)

// TestRestoreTTLFromLogTime checks that RESTORE's time to live counts
// from the keyspace's log time, ABSTTL's is taken as is, and a past one
// leaves no key.
func TestRestoreTTLFromLogTime(t *testing.T) {
	ks := newTestKeyspace(t) // log time 1_000_000 ms
	payload := string(rdb.Dump(&rdb.Value{Kind: rdb.KindHash, Items: [][]byte{[]byte("f"), []byte("v")}}))
	if got := run(t, ks, "RESTORE", "k", "5000", payload); got != OK {
		t.Fatalf("RESTORE = %v", got)
	}
	if got := run(t, ks, "PEXPIRETIME", "k"); got != int64(1_005_000) {
		t.Fatalf("PEXPIRETIME after RESTORE 5000 = %v", got)
	}
	if got := run(t, ks, "RESTORE", "k", "2000000", payload, "ABSTTL", "REPLACE"); got != OK {
		t.Fatalf("RESTORE ABSTTL = %v", got)
	}
	if got := run(t, ks, "PEXPIRETIME", "k"); got != int64(2_000_000) {
		t.Fatalf("PEXPIRETIME after ABSTTL = %v", got)
	}
	if got := run(t, ks, "RESTORE", "k", "999999", payload, "ABSTTL", "REPLACE"); got != OK {
		t.Fatalf("RESTORE of a past ABSTTL = %v", got)
	}
	if got := run(t, ks, "EXISTS", "k"); got != int64(0) {
		t.Fatal("a RESTORE already expired left the key")
	}
	if got := run(t, ks, "RESTORE", "k", "0", payload); got != OK {
		t.Fatalf("RESTORE = %v", got)
	}
	d, ok := run(t, ks, "DUMP", "k").([]byte)
	if !ok || !bytes.Equal(d, []byte(payload)) {
		t.Fatalf("DUMP = %q, want %q", d, payload)
	}
}
