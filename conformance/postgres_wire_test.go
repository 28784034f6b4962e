package conformance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// TestPostgresPassword: with --pg-password, clients authenticate with
// SCRAM-SHA-256 (pgx and libpq's psql); a wrong or missing password is
// 28P01 as Postgres words it.
func TestPostgresPassword(t *testing.T) {
	g := startGateway(t, "--pg-password", "s3cret")
	ctx := testCtx(t)
	dsn := func(pw string) string {
		return fmt.Sprintf("postgres://alice:%s@127.0.0.1:%s/postgres?sslmode=disable", pw, g.port("postgres"))
	}
	conn, err := pgx.Connect(ctx, dsn("s3cret"))
	if err != nil {
		t.Fatalf("right password: %v", err)
	}
	var user string
	if err := conn.QueryRow(ctx, "SHOW session_authorization").Scan(&user); err != nil || user != "alice" {
		t.Errorf("session_authorization %q %v", user, err)
	}
	conn.Close(ctx)
	for _, pw := range []string{"wrong", ""} {
		_, err = pgx.Connect(ctx, dsn(pw))
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "28P01" || pe.Message != `password authentication failed for user "alice"` {
			t.Errorf("password %q: %v, want 28P01", pw, err)
		}
	}
	cmd := exec.Command("psql", "-X", "-h", "127.0.0.1", "-p", g.port("postgres"), "-U", "bob", "-d", "postgres", "-Atc", "SELECT 40 + 2")
	cmd.Env = append(os.Environ(), "PGPASSWORD=s3cret", "PGCONNECT_TIMEOUT=10")
	if out, err := cmd.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "42" {
		t.Errorf("psql with the password: %v %s", err, out)
	}
}

// rawStartup opens a connection and sends a startup packet with the
// given protocol version and parameters; it returns the server's
// messages until ReadyForQuery, an ErrorResponse or EOF, as text.
func rawStartup(t *testing.T, addr string, version uint32, params map[string]string, after []byte) []string {
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	sm := &pgproto3.StartupMessage{ProtocolVersion: version, Parameters: params}
	b, err := sm.Encode(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nc.Write(b); err != nil {
		t.Fatal(err)
	}
	fe := pgproto3.NewFrontend(nc, nc)
	var out []string
	sentAfter := false
	for {
		msg, err := fe.Receive()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return append(out, "EOF")
			}
			return append(out, "error")
		}
		switch m := msg.(type) {
		case *pgproto3.NegotiateProtocolVersion:
			out = append(out, fmt.Sprintf("NegotiateProtocolVersion %d %v", m.NewestMinorProtocol, m.UnrecognizedOptions))
		case *pgproto3.ErrorResponse:
			return append(out, fmt.Sprintf("%s %s %s", m.Severity, m.Code, m.Message))
		case *pgproto3.ReadyForQuery:
			out = append(out, "ReadyForQuery")
			if after == nil || sentAfter {
				return out
			}
			sentAfter = true
			if _, err := nc.Write(after); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestPostgresStartup compares startup-phase behaviour with PostgreSQL
// 15: protocol 3.x minors and _pq_ options negotiated, other versions
// refused, unknown message types and bad lengths ending the connection.
func TestPostgresStartup(t *testing.T) {
	pg := startPostgres(t)
	g := startGateway(t)
	addrs := map[string]string{"gateway": g.addr("postgres"), "postgres15": "127.0.0.1:" + pg.port}
	user := map[string]string{"user": "postgres", "database": "postgres"}
	results := map[string][]string{}
	for name, addr := range addrs {
		var out []string
		out = append(out, rawStartup(t, addr, 3<<16, user, nil)...)
		out = append(out, rawStartup(t, addr, 3<<16|1, user, nil)...)
		out = append(out, rawStartup(t, addr, 3<<16, map[string]string{"user": "postgres", "database": "postgres", "_pq_.x": "1"}, nil)...)
		out = append(out, rawStartup(t, addr, 2<<16, user, nil)...)
		out = append(out, rawStartup(t, addr, 3<<16, map[string]string{"database": "postgres"}, nil)...)
		out = append(out, rawStartup(t, addr, 3<<16, user, []byte{'x', 0, 0, 0, 4})...)
		results[name] = out
	}
	if !reflect.DeepEqual(results["gateway"], results["postgres15"]) {
		t.Errorf("startup differs:\n%s", lineDiff(strings.Join(results["postgres15"], "\n"), strings.Join(results["gateway"], "\n")))
	}
	// A startup packet longer than 10000 bytes closes the connection.
	nc, err := net.Dial("tcp", g.addr("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	nc.Write([]byte{0, 0, 0x27, 0x11, 0, 3, 0, 0})
	if n, err := nc.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Errorf("long startup packet: read %d %v, want the connection closed", n, err)
	}
	_ = context.Background
}
