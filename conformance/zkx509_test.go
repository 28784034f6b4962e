package conformance

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-zookeeper/zk"
)

// TestZKX509ACL: on the secure port a client certificate's subject is the
// session's x509 identity, as ZooKeeper's X509AuthenticationProvider
// makes it: an x509 ACL admits that certificate's holder only, through
// go-zookeeper and zkCli.sh, "auth" ACLs expand to it, and the subject
// given as the x509 super user may do anything.
func TestZKX509ACL(t *testing.T) {
	dir := certDir(t, "n1", "client", "other", "admin")
	g := startGateway(t,
		"--tls-cert-file", filepath.Join(dir, "n1.crt"), "--tls-key-file", filepath.Join(dir, "n1.key"),
		"--tls-ca-cert-file", filepath.Join(dir, "ca.crt"), "--zk-secure-addr", "127.0.0.1:0",
		"--zk-x509-super-user", "CN=admin,O=Hourglass")
	addr := g.addr("zookeeper-secure")
	session := func(name string) *zk.Conn {
		c, ok := zkTLSSession(t, addr, clientTLS(t, dir, dir, name))
		if !ok {
			t.Fatalf("no session over TLS as %s", name)
		}
		return c
	}
	client, other, admin := session("client"), session("other"), session("admin")
	acl := zk.ACL{Perms: zk.PermAll, Scheme: "x509", ID: "CN=client,O=Hourglass"}
	if _, err := client.Create("/x509", []byte("mine"), 0, []zk.ACL{acl}); err != nil {
		t.Fatal(err)
	}
	if data, _, err := client.Get("/x509"); err != nil || string(data) != "mine" {
		t.Fatalf("the certificate's holder reads %q, %v", data, err)
	}
	if _, _, err := other.Get("/x509"); !errors.Is(err, zk.ErrNoAuth) {
		t.Fatalf("another certificate reads /x509: %v", err)
	}
	if _, err := admin.Set("/x509", []byte("admin's"), -1); err != nil {
		t.Fatalf("the x509 super user: %v", err)
	}
	if _, err := client.Create("/auth", nil, 0, zk.AuthACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	if got, _, err := client.GetACL("/auth"); err != nil || len(got) != 1 || got[0] != acl {
		t.Fatalf("auth ACL expanded to %v, %v", got, err)
	}

	outs, errs := parallel(
		func() (string, error) { return zkCliTLS(t, addr, dir, "client", "get", "/x509") },
		func() (string, error) { return zkCliTLS(t, addr, dir, "other", "get", "/x509") },
	)
	if errs[0] != nil || !strings.Contains(outs[0], "admin's") {
		t.Errorf("zkCli.sh as client: %v\n%s", errs[0], outs[0])
	}
	if !strings.Contains(outs[1], "Insufficient permission : /x509") {
		t.Errorf("zkCli.sh as other: %v\n%s", errs[1], outs[1])
	}
}
