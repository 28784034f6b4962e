package zk

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"testing"

	"hourglass/personalities/zk/jute"
)

// FuzzRequests decodes arbitrary bytes as every request a client or the
// log can carry: no panic, and a bounded multi.
func FuzzRequests(f *testing.F) {
	create := jute.AppendString(nil, "/a")
	create = jute.AppendBuffer(create, []byte("d"))
	create = appendACLs(create, []ACL{{permAll, worldAnyone}})
	create = jute.AppendInt(create, 0)
	f.Add(create)
	multi := appendMultiHeader(nil, opCreate, false, -1)
	multi = append(multi, create...)
	multi = appendMultiHeader(multi, -1, true, -1)
	f.Add(multi)
	f.Add(appendConnectResponse(nil, 4000, 1, make([]byte, 16), false))
	f.Fuzz(func(t *testing.T, b []byte) {
		decodeConnectRequest(b)
		for _, op := range []int32{opCreate, opCreateTTL, opDelete, opSetData, opSetACL, opCheck} {
			decodeWrite(op, jute.NewDecoder(b))
		}
		ops, _ := decodeMulti(jute.NewDecoder(b), 100)
		if len(ops) > 100 {
			t.Fatalf("multi of %d ops past the bound", len(ops))
		}
		if n, err := decodeZnode(b); err == nil {
			decodeZnode(n.encode())
		}
		decodeSession(b)
		d := jute.NewDecoder(b)
		d.Int()
		d.Long()
		decodeIDs(d)
	})
}

func TestValidatePath(t *testing.T) {
	for path, ok := range map[string]bool{
		"/": true, "/a": true, "/a/b-1": true, "/a/.b": true, "/a/b.": true, "/ä": true,
		"": false, "a": false, "/a/": false, "//a": false, "/a//b": false, "/a/./b": false,
		"/a/../b": false, "/..": false, "/.": false, "/a\x00": false, "/a\x01": false, "/\u0085": false,
		"/\ufff5": false,
	} {
		if validatePath(path) != ok {
			t.Errorf("validatePath(%q) = %v", path, !ok)
		}
	}
}

func TestACLHelpers(t *testing.T) {
	if id := digestID("super:secret"); id != "super:lK75jTNcA+U9vtVEw5vB51mj/w4=" {
		t.Fatalf("digestID = %q", id)
	}
	ipACL := []ACL{{permRead, ID{"ip", "10.0.0.0/8"}}}
	if !allowed(ipACL, permRead, []ID{{"ip", "10.1.2.3"}}) || allowed(ipACL, permRead, []ID{{"ip", "11.1.2.3"}}) {
		t.Fatal("ip ACL with a mask")
	}
	if allowed(ipACL, permWrite, []ID{{"ip", "10.1.2.3"}}) {
		t.Fatal("ip ACL granted a permission it lacks")
	}
	if _, ok := fixupACL([]ACL{{permAll, ID{"ip", "10.0.0.0/33"}}}, nil); ok {
		t.Fatal("an ip mask past 32 bits is valid")
	}
	if _, ok := fixupACL([]ACL{{permAll, ID{"world", "someone"}}}, nil); ok {
		t.Fatal("world:someone is valid")
	}
	out, ok := fixupACL([]ACL{{permAll, ID{"auth", ""}}, {permAll, ID{"auth", ""}}}, []ID{{"ip", "1.2.3.4"}, {"digest", "u:h"}})
	if !ok || len(out) != 1 || out[0].ID != (ID{"digest", "u:h"}) {
		t.Fatalf("auth expanded to %+v", out)
	}
	if got := redactACL([]ACL{{permAll, ID{"digest", "u:h:h"}}})[0].ID.ID; got != "u:x" {
		t.Fatalf("redacted %q", got)
	}
}

func TestJavaRFC2253(t *testing.T) {
	name := pkix.Name{CommonName: `a,b+c`, Organization: []string{"Org"}, OrganizationalUnit: []string{" ou "}, SerialNumber: "42"}
	raw, err := asn1.Marshal(name.ToRDNSequence())
	if err != nil {
		t.Fatal(err)
	}
	want := `2.5.4.5=#13023432,CN=a\,b\+c,OU=\ ou\ ,O=Org`
	if got := javaRFC2253(raw); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := javaRFC2253([]byte{1, 2}); got != "" {
		t.Fatalf("bad DER gave %q", got)
	}
}

func TestJavaSetOrder(t *testing.T) {
	// String.hashCode of "a" is 97; of "" is 0.
	if javaStringHash("a") != 97 || javaStringHash("") != 0 || javaStringHash("ab") != 97*31+98 {
		t.Fatal("javaStringHash")
	}
	ids := []ID{{"ip", "127.0.0.1"}, {"sasl", "bob"}}
	if got := javaSetOrder(ids); got[0] != ids[1] {
		t.Fatalf("order %v; ZooKeeper lists sasl first", got)
	}
}

func TestStatsTrack(t *testing.T) {
	for _, tc := range []struct{ in, out string }{
		{"", "count=-1,bytes=-1"},
		{"count=2,bytes=1", "count=2,bytes=1"},
		{"count=5,bytes=-1=;byteHardLimit=10;countHardLimit=3", "count=5,bytes=-1=;byteHardLimit=10;countHardLimit=3"},
		{"countHardLimit=3;;count=,bytes=7", "count=-1,bytes=7=;countHardLimit=3"},
		{"count=x,bytes,junk=;=4", "count=-1,bytes=-1=;=4"},
	} {
		if got := parseStatsTrack([]byte(tc.in)).String(); got != tc.out {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.out)
		}
	}
}
