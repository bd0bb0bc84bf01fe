// Package pgtest gives tests a fresh PostgreSQL database, and a Proxy that
// passes, refuses or black-holes the traffic to it.
//
// The server is SIGNET_TEST_POSTGRES, by default DefaultServer (CI's
// PostgreSQL: 127.0.0.1:5432, trust authentication, database "test"). Under
// CI=true a server that cannot be reached fails the test; elsewhere the test
// is skipped with a message that says how to run it.
package pgtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultServer is the server used unless SIGNET_TEST_POSTGRES names another.
const DefaultServer = "postgres://127.0.0.1:5432/test?sslmode=disable"

// Server returns the DSN of the test server.
func Server() string {
	if s := os.Getenv("SIGNET_TEST_POSTGRES"); s != "" {
		return s
	}
	return DefaultServer
}

// Required reports whether a missing server is a failure rather than a
// reason to skip: it is under CI=true.
func Required() bool { return os.Getenv("CI") == "true" }

// Database creates a database signet_test_<random> on the test server and
// returns its DSN; it is dropped (its connections closed by force) when the
// test and its subtests end. Without a server it fails the test under
// CI=true and skips it otherwise.
func Database(t testing.TB) string {
	t.Helper()
	dsn, drop, err := CreateDatabase(t.Context())
	if err != nil {
		if Required() {
			t.Fatalf("PostgreSQL: %v (CI=true: a server is required; set SIGNET_TEST_POSTGRES)", err)
		}
		t.Skipf("no PostgreSQL server (%v): set SIGNET_TEST_POSTGRES to run this test", err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Errorf("PostgreSQL: %v", err)
		}
	})
	return dsn
}

// CreateDatabase creates a database signet_test_<random> on the test server
// and returns its DSN and a function that drops it. For a TestMain; tests
// use Database.
func CreateDatabase(ctx context.Context) (dsn string, drop func() error, err error) {
	server := Server()
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", nil, fmt.Errorf("SIGNET_TEST_POSTGRES=%q: want a postgres:// URL", server)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		return "", nil, fmt.Errorf("connect to %s: %w", u.Redacted(), err)
	}
	defer admin.Close(context.Background())
	name := "signet_test_" + strings.ToLower(rand.Text()[:12])
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, fmt.Errorf("create database %s: %w", name, err)
	}
	u.Path = "/" + name
	drop = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin, err := pgx.Connect(ctx, server)
		if err != nil {
			return fmt.Errorf("drop database %s: %w", name, err)
		}
		defer admin.Close(context.Background())
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("drop database %s: %w", name, err)
		}
		return nil
	}
	return u.String(), drop, nil
}

// WithApp returns dsn with application_name set to app, which tells a
// store's connections apart in pg_stat_activity (to terminate them, say).
func WithApp(t testing.TB, dsn, app string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	return u.String()
}
