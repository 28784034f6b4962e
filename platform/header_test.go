package platform_test

import (
	"bytes"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"hourglass/platform"
)

// mapForm encodes headers as a protobuf map<string, bytes> field 1 (the
// entries' form before the headers became a list), keys in order.
func mapForm(kv ...string) []byte {
	var out []byte
	for i := 0; i < len(kv); i += 2 {
		var rec []byte
		rec = protowire.AppendTag(rec, 1, protowire.BytesType)
		rec = protowire.AppendString(rec, kv[i])
		rec = protowire.AppendTag(rec, 2, protowire.BytesType)
		rec = protowire.AppendString(rec, kv[i+1])
		out = protowire.AppendTag(out, 1, protowire.BytesType)
		out = protowire.AppendBytes(out, rec)
	}
	return out
}

// TestHeadersKeepTheMapWireForm: entries written to logs by earlier
// versions (headers as a map) decode, and new entries encode the same
// bytes, whatever order the headers were set in.
func TestHeadersKeepTheMapWireForm(t *testing.T) {
	old := mapForm("base", "b", "route", "redis", "time", "t")
	var e platform.Entry
	if err := proto.Unmarshal(old, &e); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"base": "b", "route": "redis", "time": "t", "none": ""} {
		if got := platform.HeaderValue(&e, name); string(got) != want {
			t.Errorf("header %q = %q, want %q", name, got, want)
		}
	}
	n := &platform.Entry{}
	platform.SetHeader(n, "time", []byte("x"))
	platform.SetHeader(n, "base", []byte("b"))
	platform.SetHeader(n, "route", []byte("redis"))
	platform.SetHeader(n, "time", []byte("t")) // replaces
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, old) {
		t.Fatalf("encoded %x, want the map form %x", raw, old)
	}
}

// TestInheritHeaders: a batched proposal takes the entry's headers it
// lacks, keeps its own, never takes the BaseEngine's, and stays sorted.
func TestInheritHeaders(t *testing.T) {
	parent, sub := &platform.Entry{}, &platform.Entry{}
	platform.SetHeader(parent, platform.HeaderBase, []byte("id"))
	platform.SetHeader(parent, "time", []byte("t1"))
	platform.SetHeader(parent, "a", []byte("pa"))
	platform.SetHeader(sub, platform.HeaderRoute, []byte("kv"))
	platform.SetHeader(sub, "time", []byte("own"))
	platform.InheritHeaders(sub, parent)
	var names []string
	for _, h := range sub.Headers {
		names = append(names, h.Name)
	}
	if got := strings.Join(names, ","); got != "a,route,time" {
		t.Fatalf("headers %s, want a,route,time", got)
	}
	if got := platform.HeaderValue(sub, "time"); string(got) != "own" {
		t.Fatalf("time = %q, want the proposal's own", got)
	}
}
