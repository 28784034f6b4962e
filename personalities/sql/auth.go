package sql

import (
	"context"
	"crypto/rand"
	"sync"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/xdg-go/scram"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/store"
)

// Authentication. The startup packet's user is checked against the
// catalog's roles (read at a view synced with the log, so a role created
// on any node can log in on every node once its CREATE is acknowledged):
//
//   - Roles are in use once a role was created (CREATE ROLE or CREATE
//     USER). Then a user that is no role is refused with FATAL 28000
//     'role "x" does not exist', and a role without LOGIN with FATAL
//     28000 'role "x" is not permitted to log in'. The built-in postgres
//     role always exists and can log in. Before any role is created,
//     every user name is accepted, as before roles were stored.
//   - A role with a password of its own (CREATE/ALTER ROLE ... PASSWORD)
//     authenticates with SCRAM-SHA-256 against its stored verifier,
//     whatever Config.Password says; ALTER ROLE ... PASSWORD NULL
//     removes it.
//   - Any other user authenticates as before: trusted without
//     Config.Password (as Postgres's "trust"), else with SCRAM-SHA-256
//     against that password (its verifier, salted, 4096 iterations, is
//     made once at start).
//
// Unlike Postgres with password authentication, an unknown role is told
// apart from a wrong password (28000, not 28P01). If the log cannot be
// read (no quorum), the newest catalog this node loaded is used, and
// without one every user is treated as having no password of its own.
// The user name of the SCRAM exchange is ignored (libpq sends an empty
// one): the startup packet's user is the one checked. md5 and cleartext
// passwords are never offered.

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
		s.scramCreds = client.GetStoredCredentials(scram.KeyFactors{Salt: string(salt), Iters: catalog.ScramIterations})
	})
	return s.scramCreds, s.scramErr
}

// scramState is a Server's cached SCRAM verifier.
type scramState struct {
	scramOnce  sync.Once
	scramCreds scram.StoredCredentials
	scramErr   error
}

// roleCatalog returns the catalog to check a startup user against: read
// at a synced view, else the newest this node loaded (nil if none).
func (s *Server) roleCatalog() *catalog.Catalog {
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.ProposeTimeout)
	defer cancel()
	v, err := s.engine.Sync(ctx)
	if err == nil {
		defer v.Close()
		if cat, err := s.catalogs.Load(store.FromReader(v)); err == nil {
			return cat
		}
	}
	return s.catalogs.Latest()
}

// authenticate checks the client's credentials (see the rules above). A
// failure is sent as FATAL and ends the connection.
func (c *conn) authenticate(user string) bool {
	var own *catalog.Object // the user's role, if it has a password
	if cat := c.s.roleCatalog(); cat != nil {
		r := cat.Role(user)
		if cat.RolesInUse() {
			if r == nil {
				c.fatal(pgerror.New(pgerror.InvalidAuthorizationSpecification, "role \"%s\" does not exist", user))
				return false
			}
			if !r.Login {
				c.fatal(pgerror.New(pgerror.InvalidAuthorizationSpecification, "role \"%s\" is not permitted to log in", user))
				return false
			}
		}
		if r != nil && r.Password != "" {
			own = r
		}
	}
	if own == nil && c.s.cfg.Password == "" {
		return true
	}
	failed := func() bool {
		c.fatal(pgerror.New(pgerror.InvalidPassword, "password authentication failed for user \"%s\"", user))
		return false
	}
	var creds scram.StoredCredentials
	if own != nil {
		var ok bool
		if creds, ok = catalog.ParseVerifier(own.Password); !ok {
			return failed()
		}
	} else {
		var err error
		if creds, err = c.s.verifier(); err != nil {
			return failed()
		}
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
