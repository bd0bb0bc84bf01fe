package postgres_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/signet-auth/signet/internal/postgres"
)

// defaultServer is the server the tests use unless SIGNET_TEST_POSTGRES names
// another: CI's PostgreSQL, trust authentication, database "test".
const defaultServer = "postgres://127.0.0.1:5432/test?sslmode=disable"

// testDSN is the DSN of the database this test run created, or "" if there
// is no server (outside CI only; see TestMain).
var testDSN string

// unreachable says why there is no database, for the skip message.
var unreachable error

// TestMain creates a fresh database signet_test_<random> on the server for
// the run and drops it at the end. Under CI=true a server that cannot be
// reached fails the run; elsewhere the tests that need it skip.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	server := os.Getenv("SIGNET_TEST_POSTGRES")
	if server == "" {
		server = defaultServer
	}
	dsn, drop, err := createDatabase(server)
	if err != nil {
		if os.Getenv("CI") == "true" {
			fmt.Fprintf(os.Stderr, "postgres tests: %v (CI=true: a PostgreSQL server is required; set SIGNET_TEST_POSTGRES)\n", err)
			return 1
		}
		unreachable = err
		return m.Run()
	}
	defer drop()
	testDSN = dsn
	return m.Run()
}

// createDatabase creates a database with a random name on server and
// returns its DSN and a function that drops it.
func createDatabase(server string) (string, func(), error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		return "", nil, fmt.Errorf("connect to %s: %w", redact(server), err)
	}
	defer admin.Close(context.Background())
	name := "signet_test_" + strings.ToLower(rand.Text()[:12])
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", nil, fmt.Errorf("create database %s: %w", name, err)
	}
	u, err := url.Parse(server)
	if err != nil {
		return "", nil, err
	}
	u.Path = "/" + name
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin, err := pgx.Connect(ctx, server)
		if err != nil {
			fmt.Fprintf(os.Stderr, "drop database %s: %v\n", name, err)
			return
		}
		defer admin.Close(context.Background())
		if _, err := admin.Exec(ctx, "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			fmt.Fprintf(os.Stderr, "drop database %s: %v\n", name, err)
		}
	}
	return u.String(), drop, nil
}

// redact drops the password of a URL DSN for messages.
func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		return u.String()
	}
	return dsn
}

var schemas atomic.Int64

// freshDSN returns the DSN of a new, empty schema in the run's database:
// each store of the suite gets one (cheaper than a database each, and
// isolated all the same, change feed included). It skips the test if there
// is no server.
func freshDSN(t testing.TB) string {
	t.Helper()
	if testDSN == "" {
		t.Skipf("no PostgreSQL server (%v): set SIGNET_TEST_POSTGRES to run these tests", unreachable)
	}
	schema := fmt.Sprintf("s%d", schemas.Add(1))
	conn, err := pgx.Connect(t.Context(), testDSN)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	u, err := url.Parse(testDSN)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// open opens dsn and closes the store when the test ends.
func open(t testing.TB, dsn string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}
