package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// users runs `signet users …` on the instance's data dir with stdin.
func (in *instance) users(stdin string, args ...string) (string, error) {
	var out, errb bytes.Buffer
	args = append(append([]string{"users"}, args...), "--data-dir", in.dataDir)
	code := Main(context.Background(), args, Env{Stdout: &out, Stderr: &errb, Stdin: strings.NewReader(stdin),
		Getenv: func(string) string { return "" }})
	if code != 0 {
		return out.String(), &cliError{code: code, stderr: errb.String()}
	}
	return out.String(), nil
}

type cliError struct {
	code   int
	stderr string
}

func (e *cliError) Error() string { return e.stderr }

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// TestOIDCLogin runs the whole product: a user created with the CLI, an SPA
// created with the Management API, and a relying party (go-oidc, x/oauth2
// with PKCE) logging the user in through the login page of the real binary.
func TestOIDCLogin(t *testing.T) {
	in := start(t, t.TempDir())
	if _, err := in.users("short\n", "create", "alice@example.com", "--password-stdin"); err == nil {
		t.Error("users create accepted a 5-character password")
	}
	out, err := in.users("correct horse battery\n", "create", "Alice@Example.com", "--name", "Alice", "--email-verified", "--password-stdin")
	if err != nil || !strings.Contains(out, "alice@example.com") || strings.Contains(out, "correct horse") {
		t.Fatalf("users create: %q, %v", out, err)
	}
	if _, err := in.users("", "create", "alice@example.com"); err == nil {
		t.Error("users create accepted a taken email")
	}
	gen, err := in.users("", "create", "bob@example.com")
	if err != nil || !strings.Contains(gen, "password") {
		t.Fatalf("users create with a generated password: %q, %v", gen, err)
	}

	const cb = "http://app.example/callback"
	mt := in.token(in.credentials())
	status, body, _ := in.call("POST", "/api/v2/clients", mt, strings.NewReader(
		`{"name":"SPA","app_type":"spa","callbacks":["`+cb+`"],"grant_types":["authorization_code","refresh_token"]}`))
	if status != 201 {
		t.Fatalf("create client = %d %s", status, body)
	}
	var client struct {
		ClientID string `json:"client_id"`
	}
	json.Unmarshal(body, &client)

	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, in.base+"/")
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	conf := oauth2.Config{ClientID: client.ClientID, Endpoint: provider.Endpoint(), RedirectURL: cb,
		Scopes: []string{oidc.ScopeOpenID, "email", "profile", oidc.ScopeOfflineAccess}}
	verifier, state, nonce := oauth2.GenerateVerifier(), "st-"+oauth2.GenerateVerifier()[:8], oauth2.GenerateVerifier()

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		if r.URL.Host == "app.example" {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	res, err := browser.Get(conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := csrfInput.FindSubmatch(page)
	if res.StatusCode != 200 || m == nil {
		t.Fatalf("login page = %d %s", res.StatusCode, page)
	}
	res, err = browser.PostForm(res.Request.URL.Scheme+"://"+res.Request.URL.Host+"/login", url.Values{
		"csrf": {string(m[1])}, "return_to": {res.Request.URL.Query().Get("return_to")},
		"email": {"alice@example.com"}, "password": {"correct horse battery"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	back, err := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusFound || err != nil || back.Query().Get("state") != state {
		t.Fatalf("after sign-in = %d Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	tok, err := conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	id, err := provider.Verifier(&oidc.Config{ClientID: client.ClientID}).Verify(ctx, tok.Extra("id_token").(string))
	if err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	var claims struct {
		Email string `json:"email"`
		Name  string `json:"name"`
	}
	id.Claims(&claims)
	if id.Nonce != nonce || claims.Email != "alice@example.com" || claims.Name != "Alice" {
		t.Errorf("ID token: nonce %q claims %+v", id.Nonce, claims)
	}
	if ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err != nil || ui.Email != "alice@example.com" || !ui.EmailVerified {
		t.Errorf("userinfo = %+v, %v", ui, err)
	}

	list, err := in.users("", "list")
	if err != nil || !strings.Contains(list, "alice@example.com") || !strings.Contains(list, "bob@example.com") {
		t.Errorf("users list: %q, %v", list, err)
	}
	// A blocked user's refresh token stops working.
	if _, err := in.users("", "block", "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
		t.Error("refresh for a blocked user succeeded")
	}
	if _, err := in.users("", "delete", "nobody@example.com"); err == nil {
		t.Error("users delete of an unknown user succeeded")
	}
	if _, err := in.users("", "delete", "bob@example.com"); err != nil {
		t.Errorf("users delete: %v", err)
	}
	if _, err := in.users("", "frobnicate"); err == nil {
		t.Error("unknown users subcommand accepted")
	}
}
