package mgmt_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/keygen"
	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/secret"
)

// TestRotateWarning rotates a tenant whose next key is younger than its
// policy's minimum next-key age: the answer carries a Warning header and
// still only {cert, kid}.
func TestRotateWarning(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const h = "young.localhost:8080"
	now := time.Now().UTC()
	tenant := signet.Tenant{Name: "young", Hosts: []string{h}, Algorithm: "RS256", CreatedAt: now,
		Policy: signet.Policy{MinNextAge: time.Hour}}
	var keys []signet.Key
	for range 2 {
		s, err := pool.Get(ctx, "RS256")
		if err != nil {
			t.Fatal(err)
		}
		k, err := keygen.NewKey(s, "RS256", h, tenant.Name, now, e.sealer)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	ks, err := signet.NewKeyset(tenant.Name, now, keys[0], keys[1])
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.CreateTenant(ctx, tenant, ks); err != nil {
		t.Fatal(err)
	}
	aud := "http://" + h + "/api/v2/"
	if err := e.store.CreateResourceServer(ctx, signet.ResourceServer{Tenant: tenant.Name, ID: secret.ID(24),
		Name: keyring.ManagementAPIName, Identifier: aud, Scopes: keyring.ManagementScopes, SigningAlg: "RS256",
		TokenLifetime: 86400, System: true, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := e.ring.Refresh(ctx, tenant.Name); err != nil {
		t.Fatal(err)
	}
	id, sec := e.admin(tenant.Name, aud)
	tok := e.tokenFor(h, aud, id, sec, "create:signing_keys update:signing_keys")

	rec := e.do(req{method: "POST", path: "/api/v2/keys/signing/rotate", host: h, token: tok})
	if rec.Code != 201 {
		t.Fatalf("rotate: %d %s", rec.Code, rec.Body)
	}
	w := rec.Header().Get("Warning")
	if !strings.HasPrefix(w, `299 - "`) || !strings.HasSuffix(w, `"`) || !strings.Contains(w, "minimum next-key age") {
		t.Errorf("Warning = %q", w)
	}
	if got := decode[map[string]any](t, rec); len(got) != 2 || got["kid"] != keys[1].KID {
		t.Errorf("body = %s", rec.Body)
	}
}

// TestListWarning lists the keys of a tenant with five, then six previous
// keys: only the second list carries a Warning header (the one rotate's has:
// 299 and a quoted text) naming the growth; a single key's answer never does,
// and revoking the old previous keys ends the warning.
func TestListWarning(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	list := func() string {
		t.Helper()
		rec := e.do(req{method: "GET", path: "/api/v2/keys/signing", token: e.token("read:signing_keys")})
		if rec.Code != 200 {
			t.Fatalf("list: %d %s", rec.Code, rec.Body)
		}
		if n := len(decode[[]map[string]any](t, rec)); n != len(e.view("default").Keyset.Keys) {
			t.Errorf("list has %d keys, want %d", n, len(e.view("default").Keyset.Keys))
		}
		return rec.Header().Get("Warning")
	}
	var last signet.Key
	for i := range 6 {
		rot, err := e.ring.Rotate(ctx, "default", keyring.RotateOptions{Actor: "cli"})
		if err != nil {
			t.Fatal(err)
		}
		last = rot.Previous
		w := list()
		if previous := i + 1; previous <= 5 {
			if w != "" {
				t.Errorf("%d previous keys: Warning = %q, want none", previous, w)
			}
			continue
		}
		if !strings.HasPrefix(w, `299 - "`) || !strings.HasSuffix(w, `"`) ||
			!strings.Contains(w, "6 previous signing keys, more than 5") || !strings.Contains(w, "revoke_previous_after") {
			t.Errorf("6 previous keys: Warning = %q", w)
		}
	}
	rec := e.do(req{method: "GET", path: "/api/v2/keys/signing/" + last.KID, token: e.token("read:signing_keys")})
	if rec.Code != 200 || rec.Header().Get("Warning") != "" {
		t.Errorf("get one key: %d, Warning %q", rec.Code, rec.Header().Get("Warning"))
	}
	if _, err := e.ring.RevokePreviousBefore(ctx, "default", last.CurrentUntil, "cli"); err != nil {
		t.Fatal(err)
	}
	if w := list(); w != "" {
		t.Errorf("after revoking the old previous keys: Warning = %q", w)
	}
}
