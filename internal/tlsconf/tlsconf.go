// Package tlsconf holds a node's TLS material: its certificate and key
// and the CA that signs its peers' and clients' certificates, loaded from
// PEM files and reloaded in place (on SIGHUP), so that every listener and
// dialer built from it picks up renewed certificates for new connections.
//
//	m, err := tlsconf.Load(tlsconf.Files{Cert: "n1.crt", Key: "n1.key", CA: "ca.crt"})
//	ln = tls.NewListener(ln, m.Server(tlsconf.RequireClient))
//	...
//	err = m.Reload() // on SIGHUP
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
)

// Files names the PEM files of a node's TLS material.
type Files struct {
	// Cert and Key are the node's certificate (chain) and private key.
	Cert, Key string
	// CA holds the certificates that sign acceptable peer and client
	// certificates (and, for a dialer, servers' certificates).
	CA string
}

// Set reports whether any file is named.
func (f Files) Set() bool { return f.Cert != "" || f.Key != "" || f.CA != "" }

// ClientAuth says what a server asks of its clients' certificates, as
// redis-server's tls-auth-clients does.
type ClientAuth int

const (
	// RequireClient: a client must present a certificate the CA signed.
	RequireClient ClientAuth = iota
	// OptionalClient: a client may present one; if it does, the CA must
	// have signed it.
	OptionalClient
	// NoClient: client certificates are not asked for.
	NoClient
)

// ParseClientAuth reads "yes", "optional" or "no".
func ParseClientAuth(s string) (ClientAuth, error) {
	switch s {
	case "yes", "":
		return RequireClient, nil
	case "optional":
		return OptionalClient, nil
	case "no":
		return NoClient, nil
	}
	return 0, fmt.Errorf("tls-auth-clients %q: want yes, optional or no", s)
}

// material is one loaded generation of the files.
type material struct {
	cert *tls.Certificate
	pool *x509.CertPool
}

// Material is a node's TLS material. Its configs read the current
// generation at every handshake.
type Material struct {
	files Files
	cur   atomic.Pointer[material]
}

// Load reads files; Cert, Key and CA are all required.
func Load(files Files) (*Material, error) {
	m := &Material{files: files}
	if err := m.Reload(); err != nil {
		return nil, err
	}
	return m, nil
}

// Reload reads the files again. On error the material in use stays.
func (m *Material) Reload() error {
	f := m.files
	if f.Cert == "" || f.Key == "" || f.CA == "" {
		return errors.New("tls: the certificate, key and CA files are all required")
	}
	cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		return fmt.Errorf("tls: %w", err)
	}
	caPEM, err := os.ReadFile(f.CA)
	if err != nil {
		return fmt.Errorf("tls: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return fmt.Errorf("tls: no certificate in %s", f.CA)
	}
	m.cur.Store(&material{cert: &cert, pool: pool})
	return nil
}

// Server returns a server config that presents the current certificate
// and checks clients' certificates as auth says.
func (m *Material) Server(auth ClientAuth) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			cur := m.cur.Load()
			c := &tls.Config{
				MinVersion:   tls.VersionTLS12,
				Certificates: []tls.Certificate{*cur.cert},
				ClientCAs:    cur.pool,
			}
			switch auth {
			case RequireClient:
				c.ClientAuth = tls.RequireAndVerifyClientCert
			case OptionalClient:
				c.ClientAuth = tls.VerifyClientCertIfGiven
			default:
				c.ClientAuth = tls.NoClientCert
			}
			return c, nil
		},
	}
}

// Client returns a dialer's config: it presents the current certificate
// when asked and accepts only servers whose certificate the CA signed
// (for any of the names in its SANs: peers are dialed by address, and a
// node's certificate names its hosts).
func (m *Material) Client() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return m.cur.Load().cert, nil
		},
		// The CA pool may change on reload; verify against the current
		// one rather than a pool fixed in the config.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			return m.verifyPeer(cs, x509.ExtKeyUsageServerAuth)
		},
	}
}

// verifyPeer checks the peer's chain against the current CA pool, and
// the server's name when it has one.
func (m *Material) verifyPeer(cs tls.ConnectionState, usage x509.ExtKeyUsage) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("tls: the peer presented no certificate")
	}
	opts := x509.VerifyOptions{
		Roots:         m.cur.Load().pool,
		Intermediates: x509.NewCertPool(),
		KeyUsages:     []x509.ExtKeyUsage{usage},
		DNSName:       cs.ServerName,
	}
	for _, c := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(opts)
	return err
}
