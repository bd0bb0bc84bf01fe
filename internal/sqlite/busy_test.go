package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/signet-auth/signet"
)

// TestBusyTimeout: while another process holds the write lock, a write
// fails once SetBusyTimeout's wait has passed, and succeeds after the lock
// is released.
func TestBusyTimeout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signet.db")
	db := open(t, path)
	createTenant(t, db, "acme")
	const wait = 300 * time.Millisecond
	if err := db.SetBusyTimeout(t.Context(), wait); err != nil {
		t.Fatal(err)
	}
	other := raw(t, path)
	conn, err := other.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	write := func() error {
		return db.CreateClient(context.Background(), signet.Client{Tenant: "acme", ClientID: "c1", Name: "c"})
	}
	start := time.Now()
	err = write()
	if took := time.Since(start); err == nil || took > wait+2*time.Second {
		t.Errorf("write while another process holds the lock: %v after %s, want an error within %s", err, took, wait)
	}
	if _, err := conn.ExecContext(t.Context(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if err := write(); err != nil && !errors.Is(err, signet.ErrConflict) {
		t.Errorf("write after the lock was released: %v", err)
	}
}
