package kv

import (
	"testing"

	"hourglass/personalities/kv/keyspace"
)

func TestRespPairs(t *testing.T) {
	r := keyspace.Pairs{[]byte("f"), []byte("v"), []byte("g"), []byte("w")}
	if got := string(appendReply(nil, r, 2)); got != "*4\r\n$1\r\nf\r\n$1\r\nv\r\n$1\r\ng\r\n$1\r\nw\r\n" {
		t.Fatalf("RESP2 pairs = %q", got)
	}
	if got := string(appendReply(nil, r, 3)); got != "*2\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$1\r\ng\r\n$1\r\nw\r\n" {
		t.Fatalf("RESP3 pairs = %q", got)
	}
	if got := string(appendReply(nil, keyspace.Pairs{}, 3)); got != "*0\r\n" {
		t.Fatalf("RESP3 empty pairs = %q", got)
	}
}
func TestNullArrayReply(t *testing.T) {
	if got := string(appendReply(nil, keyspace.NullArray{}, 2)); got != "*-1\r\n" {
		t.Fatalf("RESP2 null array = %q", got)
	}
	if got := string(appendReply(nil, keyspace.NullArray{}, 3)); got != "_\r\n" {
		t.Fatalf("RESP3 null array = %q", got)
	}
}
