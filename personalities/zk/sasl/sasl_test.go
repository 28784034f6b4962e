package sasl

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// clientResponse computes a DIGEST-MD5 client's response (RFC 2831
// 2.1.2) to challenge, and the rspauth it expects back.
func clientResponse(t *testing.T, challenge, user, pass, uri string) (string, string) {
	t.Helper()
	d, err := parseDirectives(challenge)
	if err != nil {
		t.Fatal(err)
	}
	h := func(s string) string { x := md5.Sum([]byte(s)); return hex.EncodeToString(x[:]) }
	raw := md5.Sum([]byte(user + ":" + d["realm"] + ":" + pass))
	cnonce := "OA6MHXh6VqTrRk"
	ha1 := h(string(raw[:]) + ":" + d["nonce"] + ":" + cnonce)
	kd := func(a2 string) string { return h(ha1 + ":" + d["nonce"] + ":00000001:" + cnonce + ":auth:" + h(a2)) }
	rsp := fmt.Sprintf(`charset=utf-8,username="%s",realm="%s",nonce="%s",nc=00000001,cnonce="%s",digest-uri="%s",maxbuf=65536,response=%s,qop=auth`,
		user, d["realm"], d["nonce"], cnonce, uri, kd("AUTHENTICATE:"+uri))
	return rsp, "rspauth=" + kd(":"+uri)
}

func users(name string) (string, bool) {
	p, ok := map[string]string{"bob": "secret", "al\"ice": "pw"}[name]
	return p, ok
}

func TestDigestMD5Exchange(t *testing.T) {
	for _, tc := range []struct {
		name, user, pass, uri string
		ok                    bool
	}{
		{"good", "bob", "secret", "zookeeper/zk-sasl-md5", true},
		{"quoted user", `al"ice`, "pw", "zookeeper/zk-sasl-md5", true},
		{"wrong password", "bob", "wrong", "zookeeper/zk-sasl-md5", false},
		{"unknown user", "eve", "secret", "zookeeper/zk-sasl-md5", false},
		{"wrong service", "bob", "secret", "ldap/zk-sasl-md5", false},
		{"wrong host", "bob", "secret", "zookeeper/localhost", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewDigestMD5(users, bytes.NewReader(make([]byte, 64)))
			ch, err := s.Evaluate(nil)
			if err != nil || !strings.Contains(string(ch), `realm="zk-sasl-md5"`) {
				t.Fatalf("challenge %q, %v", ch, err)
			}
			user := strings.ReplaceAll(tc.user, `"`, `\"`)
			rsp, want := clientResponse(t, string(ch), user, tc.pass, tc.uri)
			if tc.user != user {
				// The response's hash is over the unescaped name.
				rsp, want = clientResponseUnescaped(t, string(ch), tc.user, tc.pass, tc.uri)
			}
			got, err := s.Evaluate([]byte(rsp))
			if !tc.ok {
				if !errors.Is(err, ErrAuthFailed) || s.Complete() {
					t.Fatalf("accepted: %q, %v", got, err)
				}
				return
			}
			if err != nil || string(got) != want || !s.Complete() || s.AuthorizationID() != tc.user {
				t.Fatalf("got %q, %v (complete %v, id %q); want %q", got, err, s.Complete(), s.AuthorizationID(), want)
			}
			if _, err := s.Evaluate(nil); err == nil {
				t.Fatal("a token after completion was accepted")
			}
		})
	}
}

// clientResponseUnescaped is clientResponse for a user name that needs
// escaping inside its quoted string.
func clientResponseUnescaped(t *testing.T, challenge, user, pass, uri string) (string, string) {
	rsp, want := clientResponse(t, challenge, user, pass, uri)
	return strings.Replace(rsp, `username="`+user+`"`, `username="`+strings.ReplaceAll(user, `"`, `\"`)+`"`, 1), want
}

func TestDigestMD5Refusals(t *testing.T) {
	s := NewDigestMD5(users, bytes.NewReader(make([]byte, 64)))
	if _, err := s.Evaluate([]byte("x")); !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("initial response accepted: %v", err)
	}
	for _, bad := range []string{
		`username="bob`, `username`, `username="a",username="b"`, strings.Repeat("a=b,", 40),
		`username="bob" x`, strings.Repeat("x", MaxToken+1),
	} {
		s := NewDigestMD5(users, bytes.NewReader(make([]byte, 64)))
		s.Evaluate(nil)
		if _, err := s.Evaluate([]byte(bad)); !errors.Is(err, ErrAuthFailed) {
			t.Errorf("%.40q: %v", bad, err)
		}
	}
}

func TestServerUsers(t *testing.T) {
	jaas := `/* ZooKeeper's server section */
Server {
       org.apache.zookeeper.server.auth.DigestLoginModule required
       user_super="adminsecret"
       user_bob="bob\"secret";   // a comment
};
Client {
       org.apache.zookeeper.server.auth.DigestLoginModule required
       username="bob"
       password="bobsecret";
};
`
	u, err := ServerUsers([]byte(jaas), "Server")
	if err != nil || len(u) != 2 || u["super"] != "adminsecret" || u["bob"] != `bob"secret` {
		t.Fatalf("%v, %v", u, err)
	}
	if _, err := ServerUsers([]byte(jaas), "Other"); err == nil {
		t.Fatal("a missing section was accepted")
	}
	for _, bad := range []string{"Server {", "Server { m required user_a=\"x\" };", "Server { m maybe; };", `Server { m required a="x; };`, "/* x"} {
		if _, err := ServerUsers([]byte(bad), "Server"); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func FuzzDirectives(f *testing.F) {
	f.Add(`username="bob",realm="zk-sasl-md5",nc=00000001`)
	f.Add(`Server { m required user_a="b"; };`)
	f.Fuzz(func(t *testing.T, s string) {
		parseDirectives(s)
		ServerUsers([]byte(s), "Server")
		d := NewDigestMD5(users, bytes.NewReader(make([]byte, 64)))
		d.Evaluate(nil)
		d.Evaluate([]byte(s))
	})
}
