package sqlite_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/sqlite"
)

// TestOpenRefusesCorruptPages overwrites one page in the middle of a real
// database file (not the header or the schema) and checks that Open refuses
// it with the repair steps, instead of starting and accepting writes.
func TestOpenRefusesCorruptPages(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signet.db")
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	cert := bytes.Repeat([]byte("certificate "), 100)
	for i := range 200 {
		name := fmt.Sprintf("t%03d", i)
		ks, err := signet.NewKeyset(name, now,
			signet.Key{KID: name + "-1", Algorithm: "RS256", Certificate: cert, SealedPrivateKey: cert, CreatedAt: now},
			signet.Key{KID: name + "-2", Algorithm: "RS256", Certificate: cert, SealedPrivateKey: cert})
		if err != nil {
			t.Fatal(err)
		}
		tn := signet.Tenant{Name: name, Hosts: []string{name + ".example.com"}, Algorithm: "RS256", CreatedAt: now}
		if err := db.CreateTenant(t.Context(), tn, ks); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil { // checkpoints the WAL into the file
		t.Fatal(err)
	}

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pageSize := int(binary.BigEndian.Uint16(b[16:18]))
	pages := len(b) / pageSize
	if pages < 20 {
		t.Fatalf("the database has %d pages, want enough to corrupt one in the middle", pages)
	}
	mid := pages / 2 * pageSize
	copy(b[mid:mid+pageSize], bytes.Repeat([]byte{0xA5, 0x17, 0xFF, 0x00}, pageSize/4))
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}

	db, err = sqlite.Open(t.Context(), path)
	if err == nil {
		db.Close()
		t.Fatalf("Open of a database with a corrupt page %d of %d succeeded", pages/2+1, pages)
	}
	for _, want := range []string{"corrupt", "quick_check", "backup", `sqlite3 ` + path + ` ".recover" | sqlite3 ` + path + `.recovered`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open error lacks %q:\n%v", want, err)
		}
	}
}
