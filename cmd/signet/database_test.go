package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDatabaseFlag checks what --database accepts: a bare name is refused
// instead of becoming a new SQLite file in the working directory.
func TestDatabaseFlag(t *testing.T) {
	tests := []struct {
		database string
		want     string // SQLite path; "" for PostgreSQL
		wantErr  bool
	}{
		{"", filepath.Join("data", "signet.db"), false},
		{"signet.db", "signet.db", false},
		{"./signet", "./signet", false},
		{"/var/lib/signet/db", "/var/lib/signet/db", false},
		{"dir/signet.sqlite", "dir/signet.sqlite", false},
		{"sqlite:signet", "signet", false},
		{"sqlite:/tmp/x.db", "/tmp/x.db", false},
		{"postgres://u@h/db", "", false},
		{"postgresql://u@h/db?sslmode=disable", "", false},
		{"signet", "", true},
		{"prod", "", true},
		{"postgres", "", true},
		{"sqlite:", "", true},
		{"mysql://u@h/db", "", true},
		{"host=localhost dbname=signet", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.database, func(t *testing.T) {
			c := config{DataDir: "data", Database: tt.database}
			got, err := c.sqlitePath()
			if tt.wantErr {
				if err == nil {
					t.Fatalf("sqlitePath = %q, want an error", got)
				}
				if !strings.Contains(err.Error(), "--database") {
					t.Errorf("error %q does not name --database", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("sqlitePath = %q, %v; want %q", got, err, tt.want)
			}
		})
	}

	// End to end: a bare name makes no file in the working directory.
	code, _, stderr := runMain(t, nil, "tenants", "list", "--database", "signet-test-bare-name", "--data-dir", t.TempDir())
	if code == 0 || !strings.Contains(stderr, "bare name") {
		t.Errorf("tenants list --database signet-test-bare-name: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat("signet-test-bare-name"); !os.IsNotExist(err) {
		os.Remove("signet-test-bare-name")
		t.Errorf("a database file was made in the working directory (stat: %v)", err)
	}
}
