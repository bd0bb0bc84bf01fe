package oidc_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/signet-auth/signet/internal/keyring"
)

// rp is a relying party built from certified client libraries: go-oidc for
// discovery and ID-token verification, x/oauth2 for the code exchange with
// PKCE.
type rp struct {
	t        testing.TB
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	conf     oauth2.Config
}

func (e *env) rp(clientID, clientSecret string, scopes ...string) *rp {
	e.t.Helper()
	ctx := context.Background()
	p, err := oidc.NewProvider(ctx, e.base+"/")
	if err != nil {
		e.t.Fatalf("discovery: %v", err)
	}
	if len(scopes) == 0 {
		scopes = []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess}
	}
	return &rp{t: e.t, provider: p, verifier: p.Verifier(&oidc.Config{ClientID: clientID}), conf: oauth2.Config{
		ClientID: clientID, ClientSecret: clientSecret, Endpoint: p.Endpoint(), RedirectURL: callback, Scopes: scopes,
	}}
}

// login runs the whole flow for a user in browser b and returns the tokens
// and the verified ID token.
func (p *rp) login(b *browser, email, pw string, opts ...oauth2.AuthCodeOption) (*oauth2.Token, *oidc.IDToken) {
	p.t.Helper()
	ctx := context.Background()
	state, nonce, verifier := oauth2.GenerateVerifier(), oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
	authURL, _ := url.Parse(p.conf.AuthCodeURL(state, append(opts, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce))...))
	back := b.authorize(authURL.Query(), email, pw)
	if got := back.Query().Get("state"); got != state {
		p.t.Fatalf("state = %q, want %q (redirect %s)", got, state, back)
	}
	code := back.Query().Get("code")
	if code == "" {
		p.t.Fatalf("no code in %s", back)
	}
	tok, err := p.conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		p.t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	id, err := p.verifier.Verify(ctx, raw)
	if err != nil {
		p.t.Fatalf("verify ID token: %v", err)
	}
	if id.Nonce != nonce {
		p.t.Errorf("nonce = %q, want %q", id.Nonce, nonce)
	}
	if err := id.VerifyAccessToken(tok.AccessToken); err != nil {
		p.t.Errorf("at_hash: %v", err)
	}
	return tok, id
}

// TestRelyingParty logs a user in with go-oidc and x/oauth2 (PKCE, public
// client), before and after a rotation, and after rotate-and-revoke.
func TestRelyingParty(t *testing.T) {
	e := newEnv(t, envOptions{})
	alice := e.user("alice@example.com", "correct horse")
	clientID, _ := e.client(true)
	p := e.rp(clientID, "")
	b := e.browser()
	ctx := context.Background()

	tok1, id1 := p.login(b, "alice@example.com", "correct horse")
	var claims struct {
		Sub           string `json:"sub"`
		Email         string `json:"email"`
		EmailVerified *bool  `json:"email_verified"`
		Name          string `json:"name"`
		Azp           string `json:"azp"`
		AuthTime      int64  `json:"auth_time"`
	}
	if err := id1.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims.Sub != alice.ID || claims.Email != alice.Email || claims.EmailVerified == nil || claims.Name != alice.Name ||
		claims.Azp != clientID || claims.AuthTime == 0 {
		t.Errorf("ID token claims = %+v", claims)
	}
	if tok1.RefreshToken == "" || tok1.TokenType != "Bearer" || tok1.Expiry.IsZero() {
		t.Errorf("token response: %+v", tok1)
	}
	ui, err := p.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok1))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	if ui.Subject != alice.ID || ui.Email != alice.Email {
		t.Errorf("userinfo = %+v", ui)
	}

	// The session signs the user in silently the second time.
	if back := b.authorize(url.Values{"client_id": {clientID}, "redirect_uri": {callback}, "response_type": {"code"},
		"scope": {"openid"}, "prompt": {"none"}, "code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}}, "", ""); back.Query().Get("code") == "" {
		t.Errorf("prompt=none with a session: %s", back)
	}

	// Rotation: the old ID token still verifies, a new flow gets the new key.
	oldKID := e.currentKID()
	if _, err := e.ring.Rotate(ctx, "default", keyring.RotateOptions{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	_, id2 := p.login(e.browser(), "alice@example.com", "correct horse")
	raw1, raw2 := tok1.Extra("id_token").(string), ""
	if kidOf(t, raw1) != oldKID {
		t.Fatalf("first ID token kid %s, want %s", kidOf(t, raw1), oldKID)
	}
	tok2, _ := p.login(e.browser(), "alice@example.com", "correct horse")
	raw2 = tok2.Extra("id_token").(string)
	if kidOf(t, raw2) == oldKID {
		t.Fatal("an ID token issued after the rotation is signed by the old key")
	}
	for name, raw := range map[string]string{"before": raw1, "after": raw2} {
		if _, err := p.verifier.Verify(ctx, raw); err != nil {
			t.Errorf("ID token issued %s the rotation: %v", name, err)
		}
	}
	_ = id2
	if _, err := p.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok1)); err != nil {
		t.Errorf("userinfo with an access token of the previous key: %v", err)
	}

	// Rotate and revoke the key that signed tok2: its tokens are refused by
	// a fresh verifier and by /userinfo; a new flow works.
	if _, err := e.ring.Rotate(ctx, "default", keyring.RotateOptions{Actor: "test", RevokeCurrent: true}); err != nil {
		t.Fatal(err)
	}
	fresh := e.rp(clientID, "")
	if _, err := fresh.verifier.Verify(ctx, raw2); err == nil {
		t.Error("a fresh verifier accepts an ID token of the revoked key")
	}
	if _, err := fresh.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok2)); err == nil {
		t.Error("/userinfo accepts an access token of the revoked key")
	}
	tok3, _ := fresh.login(e.browser(), "alice@example.com", "correct horse")
	if _, err := fresh.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok3)); err != nil {
		t.Errorf("userinfo after rotate-and-revoke: %v", err)
	}

	// The refresh token of the first flow still works (it is not a JWT) and
	// yields tokens of the current key.
	refreshed, err := p.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok1.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if raw, _ := refreshed.Extra("id_token").(string); raw == "" {
		t.Error("no ID token from the refresh")
	} else if _, err := fresh.verifier.Verify(ctx, raw); err != nil {
		t.Errorf("refreshed ID token: %v", err)
	}
}

// TestConfidentialClient logs in with a client secret (HTTP Basic, as
// x/oauth2 tries first) and without PKCE.
func TestConfidentialClient(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.user("alice@example.com", "correct horse")
	clientID, sec := e.client(false)
	p := e.rp(clientID, sec, oidc.ScopeOpenID, "email")
	b := e.browser()
	ctx := context.Background()
	back := b.authorize(url.Values{"client_id": {clientID}, "redirect_uri": {callback}, "response_type": {"code"},
		"scope": {"openid email"}, "state": {"s"}}, "alice@example.com", "correct horse")
	tok, err := p.conf.Exchange(ctx, back.Query().Get("code"))
	if err != nil {
		t.Fatalf("exchange without PKCE: %v", err)
	}
	if tok.RefreshToken != "" {
		t.Error("a refresh token without offline_access")
	}
	if _, err := p.verifier.Verify(ctx, tok.Extra("id_token").(string)); err != nil {
		t.Error(err)
	}

	// A wrong secret is invalid_client.
	back = b.authorize(url.Values{"client_id": {clientID}, "redirect_uri": {callback}, "response_type": {"code"},
		"scope": {"openid"}}, "", "")
	bad := p.conf
	bad.ClientSecret = "wrong"
	_, err = bad.Exchange(ctx, back.Query().Get("code"))
	if re, ok := err.(*oauth2.RetrieveError); !ok || re.ErrorCode != "invalid_client" || re.Response.StatusCode != http.StatusUnauthorized {
		t.Errorf("exchange with a wrong secret: %v", err)
	}
}
