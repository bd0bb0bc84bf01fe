package main

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
)

// TestGoOIDCAcrossRotation verifies access tokens with go-oidc, a verifier
// that discovers the JWKS, caches it and refetches it on an unknown kid: a
// client built before a rotation keeps accepting old tokens and picks up
// the new key by itself; after revocation a fresh client refuses the old one.
func TestGoOIDCAcrossRotation(t *testing.T) {
	in := start(t, t.TempDir())
	creds := in.credentials()
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, in.base+"/")
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	verifier := provider.Verifier(&oidc.Config{SkipClientIDCheck: true})
	check := func(v *oidc.IDTokenVerifier, raw string) error {
		tok, err := v.Verify(ctx, raw)
		if err != nil {
			return err
		}
		var claims struct {
			Aud string `json:"aud"`
		}
		if err := tok.Claims(&claims); err != nil {
			return err
		}
		if claims.Aud != creds.Audience {
			t.Errorf("aud = %q, want %q", claims.Aud, creds.Audience)
		}
		return nil
	}

	before := in.token(creds)
	if err := check(verifier, before); err != nil {
		t.Fatalf("go-oidc rejects a fresh token: %v", err)
	}
	status, body, _ := in.call("POST", "/api/v2/keys/signing/rotate", before, nil)
	if status != 201 {
		t.Fatalf("rotate = %d %s", status, body)
	}
	var rotated struct{ KID string }
	json.Unmarshal(body, &rotated)
	after := in.token(creds)
	for name, raw := range map[string]string{"before": before, "after": after} {
		if err := check(verifier, raw); err != nil {
			t.Errorf("go-oidc (cached JWKS) rejects the token issued %s the rotation: %v", name, err)
		}
	}

	oldKID := kidOf(t, before)
	if status, body, _ := in.call("PUT", "/api/v2/keys/signing/"+oldKID+"/revoke", after, nil); status != 200 {
		t.Fatalf("revoke = %d %s", status, body)
	}
	fresh := oidc.NewVerifier(in.base+"/", oidc.NewRemoteKeySet(ctx, in.base+"/.well-known/jwks.json"), &oidc.Config{SkipClientIDCheck: true})
	if err := check(fresh, before); err == nil {
		t.Error("a fresh go-oidc verifier accepts a token of the revoked key")
	}
	if err := check(fresh, after); err != nil {
		t.Errorf("a fresh go-oidc verifier rejects a token of the current key: %v", err)
	}
}
