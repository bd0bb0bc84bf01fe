package main

import (
	"database/sql"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDamagedKeyOfOneTenant flips one byte of one tenant's sealed signing
// key in the SQLite database: the server starts, logs which key of which
// tenant cannot be opened, answers that tenant's host with 503, and serves
// the other tenant.
func TestDamagedKeyOfOneTenant(t *testing.T) {
	dir := t.TempDir()
	in := start(t, dir)
	port := in.addr[strings.LastIndex(in.addr, ":")+1:]
	acmeHost := "acme.localhost:" + port
	if _, err := in.run("tenants", "create", "acme", "--host", acmeHost); err != nil {
		t.Fatal(err)
	}
	addr := in.addr
	if code := in.stop(); code != 0 {
		t.Fatalf("stop: exit %d", code)
	}

	db, err := sql.Open("sqlite", filepath.Join(dir, "signet.db"))
	if err != nil {
		t.Fatal(err)
	}
	var kid string
	var sealed []byte
	if err := db.QueryRow(`SELECT kid, sealed_private_key FROM signing_keys WHERE tenant = 'acme' AND state = 'current'`).Scan(&kid, &sealed); err != nil {
		t.Fatal(err)
	}
	sealed[len(sealed)/2] ^= 0x01
	if _, err := db.Exec(`UPDATE signing_keys SET sealed_private_key = ? WHERE kid = ?`, sealed, kid); err != nil {
		t.Fatal(err)
	}
	db.Close()

	in = start(t, dir, "--addr", addr)
	if c := in.credentials(); in.token(c) == "" {
		t.Error("no token from tenant default")
	}
	logs := in.logs.String()
	if !strings.Contains(logs, `"level":"ERROR"`) || !strings.Contains(logs, `"tenant":"acme"`) || !strings.Contains(logs, kid) {
		t.Errorf("the logs do not name tenant acme and key %s at ERROR:\n%s", kid, logs)
	}
	req, _ := http.NewRequest("GET", "http://"+in.addr+"/.well-known/jwks.json", nil)
	req.Host = acmeHost
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 503 && strings.Contains(string(body), "signing key cannot be opened") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET acme's JWKS = %d %s, want 503 naming the key problem", resp.StatusCode, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
