// Package sasl is the server side of the SASL exchange ZooKeeper 3.8
// offers its clients: the DIGEST-MD5 mechanism of RFC 2831 as Java's
// SaslServer runs it for ZooKeeper (protocol "zookeeper", server name and
// realm "zk-sasl-md5", qop auth, md5-sess), and the users of a JAAS
// file's Server section (DigestLoginModule's user_<name>="<password>"
// options).
//
// A DigestMD5 is one connection's exchange: Evaluate takes each client
// token in turn (the first is empty) and returns the server's; once
// Complete, AuthorizationID is the user the session acts as. Every
// failure is ErrAuthFailed (wrapped with the reason): the caller answers
// AuthFailed and closes the connection, as ZooKeeper does.
//
//	s := sasl.NewDigestMD5(users, rand.Reader)
//	challenge, err := s.Evaluate(nil)       // the client's empty token
//	rspauth, err := s.Evaluate(clientReply) // the digest response
//	if s.Complete() { id := s.AuthorizationID() }
//
// Limits: a token longer than MaxToken bytes or with more than
// maxDirectives directives fails; nothing is allocated beyond the token.
package sasl
