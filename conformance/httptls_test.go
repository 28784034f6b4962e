package conformance

import (
	"crypto/tls"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// httpsGet fetches url with a client of cfg: its status and body, or
// the error.
func httpsGet(cfg *tls.Config, url string) (int, string, error) {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
	defer c.CloseIdleConnections()
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b), err
}

// TestTLSHTTPListener: with TLS files the HTTP listener (metrics,
// health, the status page and the AdminServer) serves HTTPS with the
// node's certificate; with --http-tls-auth-clients yes only clients with
// a certificate of the CA get an answer; a SIGHUP reloads the files for
// the next handshake. Without the flag no client certificate is asked.
func TestTLSHTTPListener(t *testing.T) {
	dir := certDir(t, "n1", "client")
	other := certDir(t, "n1", "client") // another CA, with the same names
	tlsFlags := []string{"--tls-cert-file", filepath.Join(dir, "n1.crt"), "--tls-key-file", filepath.Join(dir, "n1.key"),
		"--tls-ca-cert-file", filepath.Join(dir, "ca.crt"), "--http-addr", "127.0.0.1:0"}
	g := startGateway(t, append(tlsFlags, "--http-tls-auth-clients", "yes")...)
	base := "https://" + g.addr("http")

	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ok", "/metrics": "hourglass_applied_position",
		"/": "<html", "/commands/ruok": `"command": "ruok"`, "/status.json": "chain"} {
		status, body, err := httpsGet(clientTLS(t, dir, dir, "client"), base+path)
		if err != nil || status != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("GET %s with a client certificate: %d %v %.200q", path, status, err, body)
		}
	}
	if _, _, err := httpsGet(clientTLS(t, dir, dir, ""), base+"/healthz"); err == nil {
		t.Error("a client without a certificate got an answer")
	}
	if _, _, err := httpsGet(clientTLS(t, dir, other, "client"), base+"/healthz"); err == nil {
		t.Error("a client with another CA's certificate got an answer")
	}
	if status, _, err := httpsGet(nil, "http://"+g.addr("http")+"/healthz"); err == nil && status == http.StatusOK {
		t.Error("plain HTTP answered")
	}

	// SIGHUP: the node's files now hold the other CA's material.
	reloadTLS(t, g, other, dir)
	waitFor(t, "the new CA's client to be served after SIGHUP", 10*time.Second, func() bool {
		status, _, err := httpsGet(clientTLS(t, other, other, "client"), base+"/healthz")
		return err == nil && status == http.StatusOK
	})

	// Without --http-tls-auth-clients: HTTPS, no client certificate asked.
	dir2 := certDir(t, "n1")
	tlsFlags = []string{"--tls-cert-file", filepath.Join(dir2, "n1.crt"), "--tls-key-file", filepath.Join(dir2, "n1.key"),
		"--tls-ca-cert-file", filepath.Join(dir2, "ca.crt"), "--http-addr", "127.0.0.1:0"}
	g2 := startGateway(t, tlsFlags...)
	if status, body, err := httpsGet(clientTLS(t, dir2, dir2, ""), "https://"+g2.addr("http")+"/metrics"); err != nil || status != http.StatusOK || !strings.Contains(body, "hourglass_") {
		t.Errorf("GET /metrics without a client certificate: %d %v", status, err)
	}
}
