package catalog

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/xdg-go/scram"
)

// A role's password is stored only as a SCRAM-SHA-256 verifier, in
// Postgres's rolpassword format:
//
//	SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>
//
// (salt and keys in base64), so pg_authid shows what Postgres shows and
// a verifier copied from Postgres (CREATE ROLE ... PASSWORD
// 'SCRAM-SHA-256$...') is taken as it is.

// ScramIterations is the PBKDF2 iteration count of new verifiers
// (Postgres's scram_iterations default).
const ScramIterations = 4096

const scramPrefix = "SCRAM-SHA-256$"

// NewVerifier returns the SCRAM-SHA-256 verifier of password with salt.
// It is deterministic given its arguments: the caller chooses the salt.
func NewVerifier(password string, salt []byte) (string, error) {
	client, err := scram.SHA256.NewClient("", password, "")
	if err != nil {
		return "", err
	}
	creds := client.GetStoredCredentials(scram.KeyFactors{Salt: string(salt), Iters: ScramIterations})
	return FormatVerifier(creds), nil
}

// FormatVerifier formats SCRAM credentials as rolpassword.
func FormatVerifier(c scram.StoredCredentials) string {
	b64 := base64.StdEncoding.EncodeToString
	return scramPrefix + strconv.Itoa(c.Iters) + ":" + b64([]byte(c.Salt)) + "$" + b64(c.StoredKey) + ":" + b64(c.ServerKey)
}

// ParseVerifier parses a rolpassword SCRAM-SHA-256 verifier; ok is false
// if s is not one.
func ParseVerifier(s string) (c scram.StoredCredentials, ok bool) {
	rest, found := strings.CutPrefix(s, scramPrefix)
	if !found {
		return c, false
	}
	factors, keys, found := strings.Cut(rest, "$")
	if !found {
		return c, false
	}
	iters, salt, found := strings.Cut(factors, ":")
	stored, server, found2 := strings.Cut(keys, ":")
	if !found || !found2 {
		return c, false
	}
	n, err := strconv.Atoi(iters)
	if err != nil || n <= 0 {
		return c, false
	}
	dec := base64.StdEncoding.DecodeString
	saltB, err1 := dec(salt)
	storedB, err2 := dec(stored)
	serverB, err3 := dec(server)
	if err1 != nil || err2 != nil || err3 != nil || len(saltB) == 0 || len(storedB) != 32 || len(serverB) != 32 {
		return c, false
	}
	c.KeyFactors = scram.KeyFactors{Salt: string(saltB), Iters: n}
	c.StoredKey, c.ServerKey = storedB, serverB
	return c, true
}
