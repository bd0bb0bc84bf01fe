package oidc_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/signet-auth/signet/internal/keygen"
	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/token"
)

// TestUserinfoRefusesNextKey checks that /userinfo refuses a token signed by
// the tenant's next key, which is published but never signs, and accepts
// the same claims once a rotation has made that key current.
func TestUserinfoRefusesNextKey(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.user("alice@example.com", "correct horse")
	clientID, sec := e.client(false)
	q := url.Values{"client_id": {clientID}, "redirect_uri": {callback}, "response_type": {"code"}, "scope": {"openid email"}}
	back := e.browser().authorize(q, "alice@example.com", "correct horse")
	good := e.exchange(clientID, sec, back.Query().Get("code"), "").str("access_token")
	if r := e.userinfo(good); r.status != 200 {
		t.Fatalf("userinfo = %d %v", r.status, r.body)
	}
	var c token.Claims
	payload(t, good, &c)
	v, _ := e.ring.View("default")
	next := v.Keyset.Next()
	priv, err := keygen.Open(next, "default", e.re.Sealer)
	if err != nil {
		t.Fatal(err)
	}
	s, err := token.NewSigner(priv, next.Algorithm, next.KID)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := s.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	if r := e.userinfo(forged); r.status != 401 {
		t.Errorf("userinfo with a next-key token = %d %v, want 401", r.status, r.body)
	}
	if _, err := e.ring.Rotate(context.Background(), "default", keyring.RotateOptions{}); err != nil {
		t.Fatal(err)
	}
	if r := e.userinfo(forged); r.status != 200 {
		t.Errorf("userinfo once that key is current = %d %v, want 200", r.status, r.body)
	}
}
