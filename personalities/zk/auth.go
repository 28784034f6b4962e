package zk

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"slices"
	"strings"
	"unicode/utf16"

	"hourglass/personalities/zk/jute"
	"hourglass/personalities/zk/sasl"
)

// addAuth handles an auth packet: digest credentials add an identity
// (and the super user's when they match SuperDigest). Another scheme
// fails and closes the connection, as in ZooKeeper.
func (c *conn) addAuth(body []byte) (code int32, ok bool) {
	d := jute.NewDecoder(body)
	d.Int() // type, unused
	scheme, cred := d.String(), d.Buffer()
	if d.Err() != nil || scheme != "digest" {
		c.s.stats.authFailed.Add(1)
		return errAuthFailed, false
	}
	id := ID{"digest", digestID(string(cred))}
	if !containsID(c.auth, id) {
		c.auth = append(c.auth, id)
	}
	if c.s.cfg.SuperDigest != "" && id.ID == c.s.cfg.SuperDigest && !containsID(c.auth, ID{"super", ""}) {
		c.auth = append(c.auth, ID{"super", ""})
	}
	return errOK, true
}

func containsID(ids []ID, id ID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// saslStep runs one SASL packet (GetSASLRequest) of the connection's
// DIGEST-MD5 exchange and returns the server's token. Once the exchange
// completes the session holds the sasl identity of its user. A failure
// is AuthFailed and closes the connection (ok false), as ZooKeeper's
// processSasl does. Without SASL users the server answers as a
// ZooKeeper without a JAAS Server section: OK with no token.
func (c *conn) saslStep(body []byte) (token []byte, code int32, ok bool) {
	d := jute.NewDecoder(body)
	in := d.Buffer()
	if d.Err() != nil {
		c.s.stats.authFailed.Add(1)
		return nil, errAuthFailed, false
	}
	if c.s.cfg.SASLUsers == nil {
		return nil, errOK, true
	}
	if c.sasl == nil {
		c.sasl = sasl.NewDigestMD5(func(name string) (string, bool) {
			p, ok := c.s.cfg.SASLUsers[name]
			return p, ok
		}, rand.Reader)
	}
	out, err := c.sasl.Evaluate(in)
	if err != nil {
		c.s.stats.authFailed.Add(1)
		c.s.log.Warn("client failed to SASL authenticate", "remote", c.nc.RemoteAddr().String(), "err", err)
		code := int32(errAuthFailed)
		if c.s.saslRequired() {
			code = errSessionClosedRequireSASLAuth
		}
		return nil, code, false
	}
	if c.sasl.Complete() {
		id := ID{"sasl", c.sasl.AuthorizationID()}
		c.s.log.Info("adding SASL authorization", "session", c.sessionID(), "id", id.ID)
		if !containsID(c.auth, id) {
			c.auth = append(c.auth, id)
		}
		if su := c.s.cfg.SASLSuperUser; su != "" && id.ID == su && !containsID(c.auth, ID{"super", ""}) {
			c.auth = append(c.auth, ID{"super", ""})
		}
	}
	return out, errOK, true
}

// authenticated reports whether the connection may send requests: it
// holds an identity of one of the EnforceAuthSchemes, or none are
// enforced.
func (c *conn) authenticated() bool {
	schemes := c.s.cfg.EnforceAuthSchemes
	if len(schemes) == 0 {
		return true
	}
	for _, id := range c.auth {
		if slices.Contains(schemes, id.Scheme) {
			return true
		}
	}
	return false
}

// saslRequired reports whether SASL is among the enforced schemes.
func (s *Server) saslRequired() bool { return slices.Contains(s.cfg.EnforceAuthSchemes, "sasl") }

// javaSetOrder returns ids in the order ZooKeeper lists a connection's
// identities (whoAmI): the iteration order of the Java ConcurrentHashMap
// that holds them, by bucket of the jute Id's hashCode, in insertion
// order within a bucket.
func javaSetOrder(ids []ID) []ID {
	n := 16
	for len(ids) > n*3/4 {
		n *= 2
	}
	bucket := func(id ID) int {
		h := 37*(37*17+javaStringHash(id.Scheme)) + javaStringHash(id.ID)
		spread := (h ^ int32(uint32(h)>>16)) & 0x7fffffff
		return int(spread) & (n - 1)
	}
	out := slices.Clone(ids)
	slices.SortStableFunc(out, func(a, b ID) int { return bucket(a) - bucket(b) })
	return out
}

// javaStringHash is Java's String.hashCode: over UTF-16 code units.
func javaStringHash(s string) int32 {
	var h int32
	for _, u := range utf16.Encode([]rune(s)) {
		h = 31*h + int32(u)
	}
	return h
}

// addX509 gives a TLS connection whose client presented a certificate
// the x509 identity of its subject, as ZooKeeper's
// X509AuthenticationProvider does after the handshake; false when the
// handshake fails (the connection is then closed).
func (c *conn) addX509() bool {
	tc, ok := c.nc.(*tls.Conn)
	if !ok {
		return true
	}
	ctx, cancel := context.WithTimeout(c.s.ctx, c.s.cfg.MaxSessionTimeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		return false
	}
	if certs := tc.ConnectionState().PeerCertificates; len(certs) > 0 {
		id := ID{"x509", javaRFC2253(certs[0].RawSubject)}
		c.auth = append(c.auth, id)
		if s := c.s.cfg.X509SuperUser; s != "" && id.ID == s {
			c.auth = append(c.auth, ID{"super", s})
		}
	}
	return true
}

// javaRFC2253Keywords are the attribute types Java's X500Principal
// names in its RFC 2253 form; others are written as OIDs.
var javaRFC2253Keywords = map[string]string{
	"2.5.4.3": "CN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O",
	"2.5.4.11": "OU", "2.5.4.9": "STREET", "0.9.2342.19200300.100.1.25": "DC",
	"0.9.2342.19200300.100.1.1": "UID",
}

// javaRFC2253 renders a certificate's DER subject as Java's
// X500Principal.getName() does: the RDNs last to first, comma
// separated, multi-valued ones joined by "+", special characters
// escaped, and unknown attribute types as OID=#hex of the value's DER.
func javaRFC2253(rawSubject []byte) string {
	var seq pkix.RDNSequence
	if rest, err := asn1.Unmarshal(rawSubject, &seq); err != nil || len(rest) != 0 {
		return ""
	}
	var b strings.Builder
	for i := len(seq) - 1; i >= 0; i-- {
		if i != len(seq)-1 {
			b.WriteByte(',')
		}
		for j, ava := range seq[i] {
			if j > 0 {
				b.WriteByte('+')
			}
			oid := ava.Type.String()
			key, known := javaRFC2253Keywords[oid]
			s, isString := ava.Value.(string)
			if !known || !isString {
				der, err := asn1.Marshal(ava.Value)
				if err != nil {
					return ""
				}
				if !known {
					key = oid
				}
				b.WriteString(key + "=#" + hex.EncodeToString(der))
				continue
			}
			b.WriteString(key + "=" + escapeRFC2253(s))
		}
	}
	return b.String()
}

// escapeRFC2253 escapes an attribute value for RFC 2253.
func escapeRFC2253(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case strings.ContainsRune(`,+"\<>;`, r),
			i == 0 && (r == ' ' || r == '#'),
			i == len(s)-1 && r == ' ':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
