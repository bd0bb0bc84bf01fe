package postgres_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/postgres"
)

// migrationFiles counts the embedded migrations.
func migrationFiles(t *testing.T) int {
	t.Helper()
	names, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("migrations: %v %v", names, err)
	}
	return len(names)
}

func count(t *testing.T, dsn, query string) int {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(t.Context(), query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestOpenConcurrently opens one empty schema from several goroutines at
// once, as replicas starting together do: every Open succeeds and each
// migration is applied once.
func TestOpenConcurrently(t *testing.T) {
	dsn := freshDSN(t)
	const replicas = 6
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range replicas {
		wg.Go(func() {
			<-start
			db, err := postgres.Open(t.Context(), dsn)
			if err == nil {
				_, err = db.Tenants(t.Context())
				db.Close()
			}
			errs[i] = err
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
		}
	}
	if n, want := count(t, dsn, `SELECT count(*) FROM schema_migrations`), migrationFiles(t); n != want {
		t.Errorf("schema_migrations: %d rows, want %d (each migration once)", n, want)
	}
}

func TestReopen(t *testing.T) {
	dsn := freshDSN(t)
	db, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	ks := createTenant(t, db, "acme")
	db.Close()

	db = open(t, dsn)
	got, err := db.Keyset(t.Context(), "acme")
	if err != nil {
		t.Fatalf("Keyset after reopening: %v", err)
	}
	if len(got.Keys) != len(ks.Keys) {
		t.Errorf("Keyset after reopening: %d keys, want %d", len(got.Keys), len(ks.Keys))
	}
	// Nanoseconds survive, not only the microseconds the suite asks for.
	if c := got.Current(); !c.CurrentSince.Equal(ks.Current().CurrentSince) {
		t.Errorf("CurrentSince: got %v, want %v", c.CurrentSince, ks.Current().CurrentSince)
	}
	if n, want := count(t, dsn, `SELECT count(*) FROM schema_migrations`), migrationFiles(t); n != want {
		t.Errorf("schema_migrations: %d rows, want %d (each migration once)", n, want)
	}
}

func TestOpenFails(t *testing.T) {
	for _, dsn := range []string{"postgres://127.0.0.1:1/nothing?connect_timeout=2", "postgres://%zz", "host=/nonexistent connect_timeout=1"} {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		db, err := postgres.Open(ctx, dsn)
		cancel()
		if err == nil {
			db.Close()
			t.Errorf("Open(%q): got no error", dsn)
		}
	}
}

// TestTextPostgresCannotStore checks text PostgreSQL refuses (a NUL byte):
// a lookup finds nothing, as with SQLite, and a write is invalid input, not
// an internal error.
func TestTextPostgresCannotStore(t *testing.T) {
	db := open(t, freshDSN(t))
	createTenant(t, db, "acme")
	ctx := t.Context()
	const bad = "a\x00b"

	lookups := []struct {
		name string
		err  error
		want error
	}{}
	add := func(name string, err, want error) {
		lookups = append(lookups, struct {
			name string
			err  error
			want error
		}{name, err, want})
	}
	_, err := db.Tenant(ctx, bad)
	add("Tenant", err, signet.ErrTenantNotFound)
	_, err = db.Keyset(ctx, bad)
	add("Keyset", err, signet.ErrTenantNotFound)
	_, err = db.UpdateKeyset(ctx, bad, func(*signet.Keyset) error { return nil })
	add("UpdateKeyset", err, signet.ErrTenantNotFound)
	_, err = db.UpdateTenant(ctx, bad, "test", func(*signet.Tenant) error { return nil })
	add("UpdateTenant", err, signet.ErrTenantNotFound)
	_, err = db.Client(ctx, "acme", bad)
	add("Client", err, signet.ErrNotFound)
	_, err = db.UpdateClient(ctx, "acme", bad, func(*signet.Client) error { return nil })
	add("UpdateClient", err, signet.ErrNotFound)
	add("DeleteClient", db.DeleteClient(ctx, "acme", bad), signet.ErrNotFound)
	_, err = db.ResourceServerByIdentifier(ctx, "acme", bad)
	add("ResourceServerByIdentifier", err, signet.ErrNotFound)
	add("DeleteResourceServer", db.DeleteResourceServer(ctx, "acme", bad), signet.ErrNotFound)
	_, err = db.ClientGrant(ctx, "acme", bad)
	add("ClientGrant", err, signet.ErrNotFound)
	add("DeleteClientGrant", db.DeleteClientGrant(ctx, "acme", bad), signet.ErrNotFound)
	add("CreateClient", db.CreateClient(ctx, signet.Client{Tenant: "acme", ClientID: "c1", Name: bad}), signet.ErrInvalid)
	for _, l := range lookups {
		if !errors.Is(l.err, l.want) {
			t.Errorf("%s with a NUL: got %v, want %v", l.name, l.err, l.want)
		}
	}
	if cs, err := db.ClientGrants(ctx, "acme", signet.GrantFilter{ClientID: bad}); err != nil || len(cs) != 0 {
		t.Errorf("ClientGrants with a NUL: %v, %v; want none", cs, err)
	}
	if evs, err := db.Events(ctx, bad, signet.EventFilter{}); err != nil || len(evs) != 0 {
		t.Errorf("Events with a NUL: %v, %v; want none", evs, err)
	}
}
