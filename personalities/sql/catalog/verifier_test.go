package catalog

import (
	"strings"
	"testing"

	"github.com/xdg-go/scram"
)

// TestVerifier: a stored verifier parses back to credentials a SCRAM
// server accepts the right password against and refuses a wrong one;
// what is not a verifier does not parse.
func TestVerifier(t *testing.T) {
	v, err := NewVerifier("wonderland", []byte("0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(v, "SCRAM-SHA-256$4096:") || strings.Contains(v, "wonderland") {
		t.Fatalf("verifier %q", v)
	}
	creds, ok := ParseVerifier(v)
	if !ok || FormatVerifier(creds) != v {
		t.Fatalf("ParseVerifier(%q) = %v, %v", v, creds, ok)
	}
	for pw, want := range map[string]bool{"wonderland": true, "wrong": false} {
		srv, _ := scram.SHA256.NewServer(func(string) (scram.StoredCredentials, error) { return creds, nil })
		cl, _ := scram.SHA256.NewClient("", pw, "")
		sc, cc := srv.NewConversation(), cl.NewConversation()
		msg, _ := cc.Step("")
		msg, err = sc.Step(msg)
		if err == nil {
			msg, _ = cc.Step(msg)
			_, err = sc.Step(msg)
		}
		if got := err == nil && sc.Valid(); got != want {
			t.Errorf("password %q: accepted %v, want %v", pw, got, want)
		}
	}
	for _, bad := range []string{"", "secret", "md5abc", "SCRAM-SHA-256$x:c2FsdA==$a:b", "SCRAM-SHA-256$4096:c2FsdA=="} {
		if _, ok := ParseVerifier(bad); ok {
			t.Errorf("ParseVerifier(%q) ok", bad)
		}
	}
}
