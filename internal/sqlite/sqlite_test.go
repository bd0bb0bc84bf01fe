package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/sqlite"
	"github.com/signet-auth/signet/internal/storetest"
)

func open(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), path)
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

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) signet.Store {
		return open(t, filepath.Join(t.TempDir(), "signet.db"))
	})
}

// raw opens the database file directly, to look at what is stored.
func raw(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func createTenant(t *testing.T, db *sqlite.DB, name string) signet.Keyset {
	t.Helper()
	now := time.Date(2025, 1, 2, 3, 4, 5, 123456789, time.UTC)
	current := signet.Key{KID: name + "-1", Algorithm: "RS256", Certificate: []byte("c1"), SealedPrivateKey: []byte("\x00sealed-1\xff"), CreatedAt: now}
	next := signet.Key{KID: name + "-2", Algorithm: "RS256", Certificate: []byte("c2"), SealedPrivateKey: []byte("\x00sealed-2\xff")}
	ks, err := signet.NewKeyset(name, now, current, next)
	if err != nil {
		t.Fatal(err)
	}
	tn := signet.Tenant{Name: name, Hosts: []string{name + ".example.com"}, Algorithm: "RS256", CreatedAt: now}
	if err := db.CreateTenant(t.Context(), tn, ks); err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	return ks
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signet.db")
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	ks := createTenant(t, db, "acme")
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	db = open(t, path)
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

	var migrations int
	if err := raw(t, path).QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&migrations); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("migrations/*.sql: %v, %d files", err, len(files))
	}
	if migrations != len(files) {
		t.Errorf("schema_migrations: %d rows, want %d (each migration once)", migrations, len(files))
	}
}

func TestPragmas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signet.db")
	open(t, path)
	var mode string
	if err := raw(t, path).QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Errorf("journal_mode = %q, want wal", mode)
	}
}

func TestStoredColumns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signet.db")
	db := open(t, path)
	ks := createTenant(t, db, "acme")
	rows, err := raw(t, path).Query(`SELECT kid, sealed_private_key, current_since FROM signing_keys ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var n int
	for rows.Next() {
		var (
			kid    string
			sealed []byte
			since  sql.NullInt64
		)
		if err := rows.Scan(&kid, &sealed, &since); err != nil {
			t.Fatal(err)
		}
		want, err := ks.Key(kid)
		if err != nil {
			t.Fatalf("stored key %s: %v", kid, err)
		}
		if !bytes.Equal(sealed, want.SealedPrivateKey) {
			t.Errorf("key %s: sealed_private_key holds %x, want exactly the sealed key %x", kid, sealed, want.SealedPrivateKey)
		}
		if want.CurrentSince.IsZero() != !since.Valid {
			t.Errorf("key %s: current_since = %v, want NULL exactly for the zero time", kid, since)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != len(ks.Keys) {
		t.Errorf("%d keys stored, want %d", n, len(ks.Keys))
	}
}

func TestCloseEndsWatch(t *testing.T) {
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "signet.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- db.Watch(context.Background(), func(string) {}, nil) }()
	time.Sleep(10 * time.Millisecond)
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-done:
		if err == nil || errors.Is(err, context.Canceled) {
			t.Errorf("Watch on a closed DB returned %v, want an error saying it is closed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Watch did not return after Close")
	}
	if err := db.Watch(context.Background(), func(string) {}, nil); err == nil {
		t.Error("Watch after Close: got no error")
	}
}

func TestOpenRefusesNonFiles(t *testing.T) {
	for _, path := range []string{"", ":memory:", "signet.db?mode=memory"} {
		if db, err := sqlite.Open(t.Context(), path); err == nil {
			db.Close()
			t.Errorf("Open(%q): got no error", path)
		}
	}
}

// TestFileMode checks that a new database and its WAL are private to the owner.
func TestFileMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "signet.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Tenants(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"signet.db", "signet.db-wal"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s mode = %v, want no group or other access", name, fi.Mode().Perm())
		}
	}
}

// TestWatchSeesOtherProcesses opens the file twice, as `signet serve` and the
// CLI do, and checks that Watch on one reports changes made through the other.
func TestWatchSeesOtherProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signet.db")
	server, cli := open(t, path), open(t, path)
	server.PollInterval = 20 * time.Millisecond

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	seen := make(chan string, 10)
	go server.Watch(ctx, func(tenant string) { seen <- tenant }, nil)
	time.Sleep(50 * time.Millisecond) // let Watch take its starting point

	now := time.Now()
	key := func(kid string) signet.Key {
		return signet.Key{KID: kid, Algorithm: "RS256", Certificate: []byte("cert-" + kid), SealedPrivateKey: []byte("sealed"), CreatedAt: now}
	}
	ks, err := signet.NewKeyset("acme", now, key("a"), key("b"))
	if err != nil {
		t.Fatal(err)
	}
	if err := cli.CreateTenant(ctx, signet.Tenant{Name: "acme", Hosts: []string{"acme.example"}, Algorithm: "RS256"}, ks); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.UpdateKeyset(ctx, "acme", func(ks *signet.Keyset) error {
		_, err := ks.Rotate(time.Now(), key("c"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-seen:
		if got != "acme" {
			t.Errorf("Watch reported %q, want acme", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Watch did not report a change made through another handle")
	}
}

// TestWatchSeesTenantUpdatesOfOtherProcesses checks that UpdateTenant through
// one handle reaches Watch on another, through the event it writes.
func TestWatchSeesTenantUpdatesOfOtherProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signet.db")
	server, cli := open(t, path), open(t, path)
	server.PollInterval = 20 * time.Millisecond
	when := time.Date(2025, 6, 7, 8, 9, 10, 0, time.UTC)
	cli.Now = func() time.Time { return when }
	createTenant(t, cli, "acme")

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	seen := make(chan string, 100)
	go server.Watch(ctx, func(tenant string) { seen <- tenant }, nil)
	// Watch has taken its starting point once it reports a change made
	// through its own handle.
	createTenant(t, server, "probe")
	select {
	case got := <-seen:
		if got != "probe" {
			t.Fatalf("Watch reported %q, want probe", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Watch did not report a change made through its own handle")
	}

	if _, err := cli.UpdateTenant(ctx, "acme", "cli", func(tn *signet.Tenant) error {
		tn.Hosts = []string{"login.acme.test", "acme.example.com"}
		tn.Policy = signet.Policy{RotationPeriod: 720 * time.Hour, RevokePreviousAfter: 48 * time.Hour, MinNextAge: 10 * time.Minute}
		return nil
	}); err != nil {
		t.Fatalf("UpdateTenant: %v", err)
	}
	// The poll may report probe again: its event is newer than the start.
	timeout := time.After(5 * time.Second)
	for got := ""; got != "acme"; {
		select {
		case got = <-seen:
			if got != "acme" && got != "probe" {
				t.Fatalf("Watch reported %q, want acme", got)
			}
		case <-timeout:
			t.Fatal("Watch did not report a tenant update made through another handle")
		}
	}

	evs, err := server.Events(ctx, "acme", signet.EventFilter{Type: signet.EventTenantUpdated})
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	if len(evs) != 1 {
		t.Fatalf("got %d %s events, want 1", len(evs), signet.EventTenantUpdated)
	}
	e := evs[0]
	if !e.Time.Equal(when) || e.Actor != "cli" || e.KID != "" {
		t.Errorf("event: Time %v, Actor %q, KID %q; want %v, actor cli and no kid", e.Time, e.Actor, e.KID, when)
	}
	wantData := map[string]string{
		"hosts":                 "login.acme.test,acme.example.com",
		"algorithm":             "RS256",
		"rotation_period":       "720h0m0s",
		"revoke_previous_after": "48h0m0s",
		"min_next_age":          "10m0s",
	}
	if !maps.Equal(e.Data, wantData) {
		t.Errorf("event Data = %v, want %v", e.Data, wantData)
	}
}
