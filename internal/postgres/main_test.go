package postgres_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/signet-auth/signet/internal/postgres"
	"github.com/signet-auth/signet/internal/postgres/pgtest"
)

// testDSN is the DSN of the database this test run created, or "" if there
// is no server (outside CI only; see TestMain).
var testDSN string

// unreachable says why there is no database, for the skip message.
var unreachable error

// TestMain creates a fresh database signet_test_<random> on the server for
// the run (see pgtest) and drops it at the end. Under CI=true a server that
// cannot be reached fails the run; elsewhere the tests that need it skip.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dsn, drop, err := pgtest.CreateDatabase(context.Background())
	if err != nil {
		if pgtest.Required() {
			fmt.Fprintf(os.Stderr, "postgres tests: %v (CI=true: a PostgreSQL server is required; set SIGNET_TEST_POSTGRES)\n", err)
			return 1
		}
		unreachable = err
		return m.Run()
	}
	defer func() {
		if err := drop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}()
	testDSN = dsn
	return m.Run()
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
