package conformance

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestPostgresPasswordRoles: a role created with a password (CREATE
// ROLE ... PASSWORD) logs in with SCRAM-SHA-256 against its own
// verifier, on the node it was created on and, the role being replicated
// state, on every other node; a wrong password is 28P01, a user that is
// no role 28000, a role without LOGIN 28000; a role without a password
// of its own still logs in with --pg-password, and so does postgres.
func TestPostgresPasswordRoles(t *testing.T) {
	t.Run("single", func(t *testing.T) {
		t.Parallel()
		g := startGateway(t, "--pg-password", "s3cret")
		checkRoleLogins(t, g, g)
	})
	t.Run("ensemble", func(t *testing.T) {
		t.Parallel()
		e := startEnsemble(t, 3, "--pg-password", "s3cret")
		checkRoleLogins(t, e.nodes[0], e.nodes[2])
	})
}

// checkRoleLogins creates roles on first and logs in as them on other.
func checkRoleLogins(t *testing.T, first, other *gateway) {
	ctx := testCtx(t)
	dsn := func(g *gateway, user, pw string) string {
		return fmt.Sprintf("postgres://%s:%s@127.0.0.1:%s/postgres?sslmode=disable", user, pw, g.port("postgres"))
	}
	admin, err := pgx.Connect(ctx, dsn(first, "postgres", "s3cret"))
	if err != nil {
		t.Fatalf("postgres with --pg-password: %v", err)
	}
	defer admin.Close(ctx)
	for _, sql := range []string{
		"CREATE ROLE alice LOGIN PASSWORD 'wonderland'",
		"CREATE USER bob",
		"CREATE ROLE carol PASSWORD 'x'",
	} {
		if _, err := admin.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	var stored string
	if err := admin.QueryRow(ctx, "SELECT rolpassword FROM pg_authid WHERE rolname = 'alice'").Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stored, "SCRAM-SHA-256$4096:") || strings.Contains(stored, "wonderland") {
		t.Errorf("alice's stored password %q: want a SCRAM-SHA-256 verifier only", stored)
	}

	login := func(user, pw, wantCode, wantMsg string) {
		t.Helper()
		conn, err := pgx.Connect(ctx, dsn(other, user, pw))
		if wantCode == "" {
			if err != nil {
				t.Errorf("%s/%s: %v, want a session", user, pw, err)
				return
			}
			var who string
			if err := conn.QueryRow(ctx, "SELECT current_user").Scan(&who); err != nil || who != user {
				t.Errorf("%s/%s: current_user %q %v", user, pw, who, err)
			}
			conn.Close(ctx)
			return
		}
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != wantCode || pe.Message != wantMsg || pe.Severity != "FATAL" {
			t.Errorf("%s/%s: %v, want FATAL %s %s", user, pw, err, wantCode, wantMsg)
		}
		if conn != nil {
			conn.Close(ctx)
		}
	}
	login("alice", "wonderland", "", "")
	login("alice", "wrong", "28P01", `password authentication failed for user "alice"`)
	login("alice", "s3cret", "28P01", `password authentication failed for user "alice"`)
	login("mallory", "s3cret", "28000", `role "mallory" does not exist`)
	login("carol", "x", "28000", `role "carol" is not permitted to log in`)
	login("bob", "s3cret", "", "")
	login("bob", "wrong", "28P01", `password authentication failed for user "bob"`)
	login("postgres", "s3cret", "", "")

	// PASSWORD NULL removes alice's own password: --pg-password again.
	if _, err := admin.Exec(ctx, "ALTER ROLE alice PASSWORD NULL"); err != nil {
		t.Fatal(err)
	}
	login("alice", "s3cret", "", "")
	login("alice", "wonderland", "28P01", `password authentication failed for user "alice"`)
	// A renamed role logs in under its new name, with its password.
	for _, sql := range []string{"ALTER ROLE alice PASSWORD 'looking-glass'", "ALTER ROLE alice RENAME TO alicia"} {
		if _, err := admin.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	login("alicia", "looking-glass", "", "")
	login("alice", "looking-glass", "28000", `role "alice" does not exist`)
	if _, err := admin.Exec(ctx, "DROP ROLE alicia"); err != nil {
		t.Fatal(err)
	}
	login("alicia", "looking-glass", "28000", `role "alicia" does not exist`)
}
