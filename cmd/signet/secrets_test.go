package main

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/signet-auth/signet/internal/keygen"
	"github.com/signet-auth/signet/internal/seal"
	"github.com/signet-auth/signet/internal/sqlite"
)

// TestNoPrivateKeyMaterialAtRest scans every file of the data dir (database,
// WAL, credentials) and the captured logs for the private keys in any
// encoding a leak would take.
func TestNoPrivateKeyMaterialAtRest(t *testing.T) {
	dir := t.TempDir()
	in := start(t, dir)
	tok := in.token(in.credentials())
	if status, body, _ := in.call("POST", "/api/v2/keys/signing/rotate", tok, nil); status != 201 {
		t.Fatalf("rotate = %d %s", status, body)
	}
	in.call("GET", "/api/v2/keys/signing", tok, nil)
	if _, err := in.run("keys", "rotate"); err != nil {
		t.Fatal(err)
	}
	// Capture the files while the server still runs (WAL not yet checkpointed), then after stop.
	snapshots := [][]byte{}
	read := func() {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if e.Name() == "master.key" {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err == nil {
				snapshots = append(snapshots, b)
			}
		}
	}
	read()
	in.stop()
	read()
	snapshots = append(snapshots, []byte(in.logs.String()))

	key, _, err := seal.LoadKey("", filepath.Join(dir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "signet.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ks, err := db.Keyset(context.Background(), "default")
	if err != nil {
		t.Fatal(err)
	}
	if len(ks.Keys) != 4 {
		t.Fatalf("%d keys, want 4 after two rotations", len(ks.Keys))
	}
	for _, k := range ks.Keys {
		signer, err := keygen.Open(k, "default", sealer)
		if err != nil {
			t.Fatalf("open key %s: %v", k.KID, err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(signer)
		if err != nil {
			t.Fatal(err)
		}
		needles := map[string][]byte{
			"PKCS#8 DER":       der,
			"PKCS#8 base64":    []byte(base64.StdEncoding.EncodeToString(der)[:64]),
			"PKCS#8 base64url": []byte(base64.RawURLEncoding.EncodeToString(der)[:64]),
			"PKCS#8 hex":       []byte(hex.EncodeToString(der)[:64]),
		}
		if rk, ok := signer.(*rsa.PrivateKey); ok {
			d := rk.D.Bytes()
			needles["RSA d"] = d[:32]
			needles["RSA d base64url"] = []byte(base64.RawURLEncoding.EncodeToString(d)[:32])
			needles["RSA p"] = rk.Primes[0].Bytes()[:32]
		}
		for i, hay := range snapshots {
			for what, needle := range needles {
				if bytes.Contains(hay, needle) {
					t.Errorf("key %s: %s found in data file/log #%d", k.KID, what, i)
				}
			}
		}
	}
}
