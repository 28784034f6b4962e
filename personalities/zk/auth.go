package zk

import (
	"crypto/rand"
	"slices"
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
