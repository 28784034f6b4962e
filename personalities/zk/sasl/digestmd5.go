package sasl

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrAuthFailed is every failed exchange; the wrapping error says why.
var ErrAuthFailed = errors.New("sasl: authentication failed")

// The names ZooKeeper's SaslServer uses for DIGEST-MD5: the client's
// digest-uri is Protocol/ServerName, and the realm is the server name.
const (
	Mechanism  = "DIGEST-MD5"
	Protocol   = "zookeeper"
	ServerName = "zk-sasl-md5"
)

// MaxToken bounds a client token (RFC 2831 limits a response to 4096
// bytes).
const MaxToken = 4096

// maxDirectives bounds the directives of one response.
const maxDirectives = 32

// DigestMD5 is one DIGEST-MD5 exchange, server side. It is not safe for
// concurrent use.
type DigestMD5 struct {
	users    func(name string) (password string, ok bool)
	nonce    string
	step     int // 0: nothing seen; 1: challenge sent; 2: complete; 3: failed
	authzID  string
	randFail error
}

// NewDigestMD5 starts an exchange whose users' passwords users looks up;
// random supplies the nonce.
func NewDigestMD5(users func(name string) (string, bool), random io.Reader) *DigestMD5 {
	s := &DigestMD5{users: users}
	var b [24]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		s.randFail = err
	}
	s.nonce = base64.StdEncoding.EncodeToString(b[:])
	return s
}

// Complete reports whether the client has authenticated.
func (s *DigestMD5) Complete() bool { return s.step == 2 }

// AuthorizationID is the authenticated user; "" until Complete.
func (s *DigestMD5) AuthorizationID() string { return s.authzID }

// Evaluate takes the client's next token and returns the server's: the
// challenge for the first (empty) token, rspauth for the digest
// response. An error ends the exchange; so does a token after Complete.
func (s *DigestMD5) Evaluate(token []byte) ([]byte, error) {
	switch {
	case s.randFail != nil:
		s.step = 3
		return nil, fmt.Errorf("%w: no nonce: %v", ErrAuthFailed, s.randFail)
	case len(token) > MaxToken:
		s.step = 3
		return nil, fmt.Errorf("%w: DIGEST-MD5: token of %d bytes", ErrAuthFailed, len(token))
	}
	switch s.step {
	case 0:
		if len(token) != 0 {
			s.step = 3
			return nil, fmt.Errorf("%w: DIGEST-MD5 must not have an initial response", ErrAuthFailed)
		}
		s.step = 1
		return []byte(`realm="` + ServerName + `",nonce="` + s.nonce + `",qop="auth",charset=utf-8,algorithm=md5-sess`), nil
	case 1:
		rsp, err := s.verify(token)
		if err != nil {
			s.step = 3
			return nil, fmt.Errorf("%w: %v", ErrAuthFailed, err)
		}
		s.step = 2
		return []byte("rspauth=" + rsp), nil
	}
	s.step = 3
	return nil, fmt.Errorf("%w: DIGEST-MD5 authentication already complete or failed", ErrAuthFailed)
}

// verify checks the client's digest response and returns rspauth.
func (s *DigestMD5) verify(token []byte) (string, error) {
	d, err := parseDirectives(string(token))
	if err != nil {
		return "", err
	}
	user, ok := d["username"]
	if !ok {
		return "", errors.New("DIGEST-MD5: missing username")
	}
	realm := d["realm"]
	if _, given := d["realm"]; given && realm != ServerName {
		return "", fmt.Errorf("DIGEST-MD5: nonexistent realm %q", realm)
	}
	if d["nonce"] != s.nonce {
		return "", errors.New("DIGEST-MD5: nonce mismatch")
	}
	cnonce, ok := d["cnonce"]
	if !ok || cnonce == "" {
		return "", errors.New("DIGEST-MD5: missing cnonce")
	}
	if d["nc"] != "00000001" {
		return "", errors.New("DIGEST-MD5: nonce count does not match")
	}
	qop, ok := d["qop"]
	if !ok {
		qop = "auth"
	}
	if qop != "auth" {
		return "", fmt.Errorf("DIGEST-MD5: qop %q was not offered", qop)
	}
	uri := d["digest-uri"]
	parts := strings.Split(uri, "/")
	if len(parts) < 2 || len(parts) > 3 || !strings.EqualFold(parts[0], Protocol) || !strings.EqualFold(parts[1], ServerName) {
		return "", fmt.Errorf("DIGEST-MD5: mismatched URI %q; expecting %s/%s", uri, Protocol, ServerName)
	}
	pass, ok := s.users(user)
	if !ok {
		return "", fmt.Errorf("DIGEST-MD5: no password for user %q", user)
	}
	authz, hasAuthz := d["authzid"]
	a1 := md5Sum(user + ":" + realm + ":" + pass)
	a1 += ":" + s.nonce + ":" + cnonce
	if hasAuthz {
		a1 += ":" + authz
	}
	ha1 := hexMD5(a1)
	kd := func(a2 string) string {
		return hexMD5(ha1 + ":" + s.nonce + ":00000001:" + cnonce + ":" + qop + ":" + hexMD5(a2))
	}
	if d["response"] != kd("AUTHENTICATE:"+uri) {
		return "", errors.New("DIGEST-MD5: mismatched response")
	}
	// ZooKeeper authorizes the authenticated user whatever authzid says.
	s.authzID = user
	return kd(":" + uri), nil
}

func md5Sum(s string) string {
	sum := md5.Sum([]byte(s))
	return string(sum[:])
}

func hexMD5(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// parseDirectives reads a digest response: name=value pairs separated
// by commas, values as tokens or quoted strings with backslash escapes.
// A directive given twice is an error, as RFC 2831 asks.
func parseDirectives(s string) (map[string]string, error) {
	out := map[string]string{}
	for {
		s = strings.TrimLeft(s, " \t\r\n,")
		if s == "" {
			return out, nil
		}
		if len(out) == maxDirectives {
			return nil, errors.New("DIGEST-MD5: too many directives")
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil, errors.New("DIGEST-MD5: directive without a value")
		}
		name := strings.ToLower(strings.TrimSpace(s[:eq]))
		s = strings.TrimLeft(s[eq+1:], " \t")
		var val strings.Builder
		if strings.HasPrefix(s, `"`) {
			i, closed := 1, false
			for ; i < len(s); i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
					val.WriteByte(s[i])
					continue
				}
				if s[i] == '"' {
					closed = true
					break
				}
				val.WriteByte(s[i])
			}
			if !closed {
				return nil, errors.New("DIGEST-MD5: unterminated quoted string")
			}
			s = s[i+1:]
		} else {
			end := strings.IndexByte(s, ',')
			if end < 0 {
				end = len(s)
			}
			val.WriteString(strings.TrimSpace(s[:end]))
			s = s[end:]
		}
		s = strings.TrimLeft(s, " \t\r\n")
		if s != "" && s[0] != ',' {
			return nil, errors.New("DIGEST-MD5: expected a comma between directives")
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("DIGEST-MD5: directive %q given twice", name)
		}
		out[name] = val.String()
	}
}
