package sql

import (
	"crypto/rand"
	"sync"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/xdg-go/scram"

	"hourglass/personalities/sql/pgerror"
)

// Authentication. Without Config.Password every client is trusted (as
// Postgres's "trust"). With it, every client authenticates with
// SCRAM-SHA-256 against that password whatever its user name; the server
// keeps only the password's SCRAM verifier (salted, 4096 iterations),
// made once at start. The user name of the SCRAM exchange is ignored (libpq
// sends an empty one): the startup packet's user is the one checked.
// md5 and cleartext passwords are never offered. Roles with passwords of
// their own (CREATE ROLE ... PASSWORD) are not supported yet.

const scramIterations = 4096

// verifier returns the configured password's SCRAM-SHA-256 credentials,
// computed on first use.
func (s *Server) verifier() (scram.StoredCredentials, error) {
	s.scramOnce.Do(func() {
		salt := make([]byte, 16)
		rand.Read(salt)
		client, err := scram.SHA256.NewClient("", s.cfg.Password, "")
		if err != nil {
			s.scramErr = err
			return
		}
		s.scramCreds = client.GetStoredCredentials(scram.KeyFactors{Salt: string(salt), Iters: scramIterations})
	})
	return s.scramCreds, s.scramErr
}

// scramState is a Server's cached SCRAM verifier.
type scramState struct {
	scramOnce  sync.Once
	scramCreds scram.StoredCredentials
	scramErr   error
}

// authenticate checks the client's credentials: trust without a
// configured password, else a SCRAM-SHA-256 exchange. A failure is sent
// as FATAL and ends the connection.
func (c *conn) authenticate(user string) bool {
	if c.s.cfg.Password == "" {
		return true
	}
	failed := func() bool {
		c.fatal(pgerror.New(pgerror.InvalidPassword, "password authentication failed for user \"%s\"", user))
		return false
	}
	creds, err := c.s.verifier()
	if err != nil {
		return failed()
	}
	srv, err := scram.SHA256.NewServer(func(string) (scram.StoredCredentials, error) { return creds, nil })
	if err != nil {
		return failed()
	}
	conv := srv.NewConversation()
	c.be.Send(&pgproto3.AuthenticationSASL{AuthMechanisms: []string{"SCRAM-SHA-256"}})
	if c.be.Flush() != nil {
		return false
	}
	typ, body, err := c.fr.readMessage()
	if err != nil || typ != 'p' {
		if err == nil {
			c.fatal(pgerror.New(pgerror.ProtocolViolation, "expected SASL response, got message type %d", typ))
		}
		return false
	}
	var first pgproto3.SASLInitialResponse
	if err := first.Decode(body); err != nil {
		c.fatal(pgerror.New(pgerror.ProtocolViolation, "invalid message format"))
		return false
	}
	if first.AuthMechanism != "SCRAM-SHA-256" {
		c.fatal(pgerror.New(pgerror.ProtocolViolation, "client selected an invalid SASL authentication mechanism"))
		return false
	}
	serverFirst, err := conv.Step(string(first.Data))
	if err != nil {
		return failed()
	}
	c.be.Send(&pgproto3.AuthenticationSASLContinue{Data: []byte(serverFirst)})
	if c.be.Flush() != nil {
		return false
	}
	typ, body, err = c.fr.readMessage()
	if err != nil || typ != 'p' {
		return false
	}
	serverFinal, err := conv.Step(string(body))
	if err != nil || !conv.Valid() {
		return failed()
	}
	c.be.Send(&pgproto3.AuthenticationSASLFinal{Data: []byte(serverFinal)})
	return true
}
