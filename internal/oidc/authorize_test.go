package oidc_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestAuthorizeErrors(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.user("alice@example.com", "correct horse")
	e.api("https://api.example.com/")
	clientID, _ := e.client(false)
	m2m, _ := e.client(false, "client_credentials")
	_, challenge := pkce("v")
	base := func(mod func(url.Values)) string {
		q := url.Values{"client_id": {clientID}, "redirect_uri": {callback}, "response_type": {"code"}, "scope": {"openid"}, "state": {"xyz"}}
		if mod != nil {
			mod(q)
		}
		return "/authorize?" + q.Encode()
	}

	// Errors shown on a page: the client or redirect URI cannot be trusted.
	pages := []struct {
		name string
		path string
	}{
		{"unknown client", base(func(q url.Values) { q.Set("client_id", "nope") })},
		{"no client_id", base(func(q url.Values) { q.Del("client_id") })},
		{"unregistered redirect_uri", base(func(q url.Values) { q.Set("redirect_uri", "https://evil.example/callback") })},
		{"redirect_uri with a suffix", base(func(q url.Values) { q.Set("redirect_uri", callback+"/x") })},
		{"redirect_uri with another query", base(func(q url.Values) { q.Set("redirect_uri", callback+"?next=https://evil.example") })},
		{"redirect_uri differing in case", base(func(q url.Values) { q.Set("redirect_uri", strings.ToUpper(callback)) })},
		{"no redirect_uri", base(func(q url.Values) { q.Del("redirect_uri") })},
		{"repeated redirect_uri", base(func(q url.Values) { q.Add("redirect_uri", "https://evil.example/") })},
		{"repeated client_id", base(func(q url.Values) { q.Add("client_id", clientID) })},
		{"malformed query", "/authorize?client_id=%zz"},
	}
	for _, tt := range pages {
		t.Run(tt.name, func(t *testing.T) {
			r := e.browser().do("GET", tt.path, nil)
			if r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
				t.Errorf("= %d Location %q, want a 400 page and no redirect", r.status, r.header.Get("Location"))
			}
			if !strings.Contains(r.header.Get("Content-Type"), "text/html") {
				t.Errorf("Content-Type %q", r.header.Get("Content-Type"))
			}
		})
	}

	// Errors sent back to the verified redirect URI with state.
	redirects := []struct {
		name, path, code string
	}{
		{"response_type token", base(func(q url.Values) { q.Set("response_type", "token") }), "unsupported_response_type"},
		{"no response_type", base(func(q url.Values) { q.Del("response_type") }), "invalid_request"},
		{"plain PKCE", base(func(q url.Values) { q.Set("code_challenge", challenge); q.Set("code_challenge_method", "plain") }), "invalid_request"},
		{"PKCE without method", base(func(q url.Values) { q.Set("code_challenge", challenge) }), "invalid_request"},
		{"short challenge", base(func(q url.Values) { q.Set("code_challenge", "abc"); q.Set("code_challenge_method", "S256") }), "invalid_request"},
		{"repeated scope", base(func(q url.Values) { q.Add("scope", "email") }), "invalid_request"},
		{"unknown prompt", base(func(q url.Values) { q.Set("prompt", "everything") }), "invalid_request"},
		{"prompt none and login", base(func(q url.Values) { q.Set("prompt", "none login") }), "invalid_request"},
		{"negative max_age", base(func(q url.Values) { q.Set("max_age", "-1") }), "invalid_request"},
		{"form_post", base(func(q url.Values) { q.Set("response_mode", "form_post") }), "invalid_request"},
		{"prompt none without a session", base(func(q url.Values) { q.Set("prompt", "none") }), "login_required"},
		{"unknown audience", base(func(q url.Values) { q.Set("audience", "https://nope.example/") }), "access_denied"},
		{"Management API audience", base(func(q url.Values) { q.Set("audience", e.base+"/api/v2/") }), "access_denied"},
	}
	for _, tt := range redirects {
		t.Run(tt.name, func(t *testing.T) {
			r := e.browser().do("GET", tt.path, nil)
			loc, _ := url.Parse(r.header.Get("Location"))
			if r.status != http.StatusFound || loc == nil || !strings.HasPrefix(loc.String(), callback+"?") {
				t.Fatalf("= %d Location %q, want a redirect to the callback", r.status, r.header.Get("Location"))
			}
			q := loc.Query()
			if q.Get("error") != tt.code || q.Get("error_description") == "" || q.Get("state") != "xyz" || q.Get("code") != "" {
				t.Errorf("redirect query = %v, want error %s with state", q, tt.code)
			}
		})
	}

	t.Run("client without authorization_code", func(t *testing.T) {
		q := url.Values{"client_id": {m2m}, "redirect_uri": {callback}, "response_type": {"code"}, "scope": {"openid"}}
		r := e.browser().do("GET", "/authorize?"+q.Encode(), nil)
		loc, _ := url.Parse(r.header.Get("Location"))
		if loc.Query().Get("error") != "unauthorized_client" {
			t.Errorf("Location %s", loc)
		}
	})

	t.Run("prompt=login asks again", func(t *testing.T) {
		b := e.browser()
		b.codeFor(clientID, "", "openid") // signed in
		r := b.do("GET", base(func(q url.Values) { q.Set("prompt", "login") }), nil)
		loc := r.header.Get("Location")
		if r.status != http.StatusFound || !strings.HasPrefix(loc, "/login?") || strings.Contains(loc, "prompt") {
			t.Errorf("prompt=login with a session = %d %s, want the login page (without prompt in the return path)", r.status, loc)
		}
	})

	t.Run("max_age", func(t *testing.T) {
		b := e.browser()
		b.codeFor(clientID, "", "openid") // signed in now
		e.clock.Add(10 * 60e9)
		r := b.do("GET", base(func(q url.Values) { q.Set("max_age", "60") }), nil)
		if !strings.HasPrefix(r.header.Get("Location"), "/login?") {
			t.Errorf("max_age=60, authenticated 10 minutes ago: Location %q, want the login page", r.header.Get("Location"))
		}
		r = b.do("GET", base(func(q url.Values) { q.Set("max_age", "3600") }), nil)
		if !strings.HasPrefix(r.header.Get("Location"), callback+"?code=") {
			t.Errorf("max_age=3600: Location %q, want a code", r.header.Get("Location"))
		}
	})
}

// TestAPIAccessToken asks for an API audience: the access token carries
// the user's sub, the granted API scopes and both audiences.
func TestAPIAccessToken(t *testing.T) {
	e := newEnv(t, envOptions{})
	alice := e.user("alice@example.com", "correct horse")
	e.api("https://api.example.com/")
	clientID, sec := e.client(false)
	b := e.browser()
	back := b.authorize(url.Values{"client_id": {clientID}, "redirect_uri": {callback}, "response_type": {"code"},
		"scope": {"openid read:things delete:things"}, "audience": {"https://api.example.com/"}}, "alice@example.com", "correct horse")
	r := e.exchange(clientID, sec, back.Query().Get("code"), "")
	if r.status != 200 || r.str("scope") != "openid read:things" || r.body["expires_in"] != float64(3600) {
		t.Fatalf("exchange = %d %v", r.status, r.body)
	}
	var claims struct {
		Sub   string   `json:"sub"`
		Aud   []string `json:"aud"`
		Scope string   `json:"scope"`
		Azp   string   `json:"azp"`
	}
	payload(t, r.str("access_token"), &claims)
	if claims.Sub != alice.ID || claims.Scope != "openid read:things" || claims.Azp != clientID ||
		!slices.Equal(claims.Aud, []string{"https://api.example.com/", e.base + "/userinfo"}) {
		t.Errorf("access token claims = %+v", claims)
	}
	// The same token works at /userinfo (its second audience).
	ui := e.userinfo(r.str("access_token"))
	if ui.status != 200 || ui.body["sub"] != alice.ID {
		t.Errorf("userinfo = %d %v", ui.status, ui.body)
	}
	if _, ok := ui.body["email"]; ok {
		t.Error("userinfo has email without the email scope")
	}
}

func (e *env) userinfo(tok string) tokenResult {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.base+"/userinfo", nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	out := tokenResult{status: res.StatusCode}
	json.NewDecoder(res.Body).Decode(&out.body)
	return out
}

func payload(t *testing.T, raw string, v any) {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", raw)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func TestUserinfoRefusals(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.user("alice@example.com", "correct horse")
	e.api("https://api.example.com/")
	clientID, sec := e.client(false)
	b := e.browser()
	at := func(scope, audience string) string {
		q := url.Values{"client_id": {clientID}, "redirect_uri": {callback}, "response_type": {"code"}, "scope": {scope}}
		if audience != "" {
			q.Set("audience", audience)
		}
		back := b.authorize(q, "alice@example.com", "correct horse")
		return e.exchange(clientID, sec, back.Query().Get("code"), "").str("access_token")
	}
	apiOnly := at("read:things", "https://api.example.com/")
	noOpenID := at("email", "")
	good := at("openid email", "")
	if r := e.userinfo(good); r.status != 200 || r.body["email"] != "alice@example.com" || r.body["email_verified"] != false {
		t.Fatalf("userinfo = %d %v", r.status, r.body)
	}
	tests := []struct {
		name, tok string
		status    int
	}{
		{"no token", "", 401},
		{"garbage", "abc", 401},
		{"API token without the userinfo audience", apiOnly, 401},
		{"token without openid", noOpenID, 403},
		{"tampered", good[:len(good)-4] + "AAAA", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r := e.userinfo(tt.tok); r.status != tt.status {
				t.Errorf("userinfo = %d %v, want %d", r.status, r.body, tt.status)
			}
		})
	}
	t.Run("deleted user", func(t *testing.T) {
		u, _ := e.store.UserByEmail(context.Background(), "default", "alice@example.com")
		if err := e.store.DeleteUser(context.Background(), "default", u.ID); err != nil {
			t.Fatal(err)
		}
		if r := e.userinfo(good); r.status != 401 {
			t.Errorf("userinfo of a deleted user = %d", r.status)
		}
	})
	t.Run("expired", func(t *testing.T) {
		e.clock.Add(25 * 3600e9)
		if r := e.userinfo(good); r.status != 401 {
			t.Errorf("userinfo with an expired token = %d", r.status)
		}
	})
}

func TestLogout(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.user("alice@example.com", "correct horse")
	clientID, sec := e.client(false)

	signedIn := func() *browser {
		b := e.browser()
		b.login("/", "alice@example.com", "correct horse")
		if b.whoami() == "" {
			t.Fatal("not signed in")
		}
		return b
	}
	tests := []struct {
		name     string
		path     string
		status   int
		location string
	}{
		{"no returnTo", "/v2/logout", 200, ""},
		{"allowed returnTo", "/v2/logout?" + url.Values{"client_id": {clientID}, "returnTo": {"http://app.example/bye"}}.Encode(), 302, "http://app.example/bye"},
		{"returnTo not allowed", "/v2/logout?" + url.Values{"client_id": {clientID}, "returnTo": {"https://evil.example/"}}.Encode(), 400, ""},
		{"returnTo without client_id", "/v2/logout?" + url.Values{"returnTo": {"http://app.example/bye"}}.Encode(), 400, ""},
		{"returnTo with an unknown client", "/v2/logout?" + url.Values{"client_id": {"nope"}, "returnTo": {"http://app.example/bye"}}.Encode(), 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := signedIn()
			r := b.do("GET", tt.path, nil)
			if r.status != tt.status || r.header.Get("Location") != tt.location {
				t.Errorf("= %d Location %q, want %d %q", r.status, r.header.Get("Location"), tt.status, tt.location)
			}
			if b.whoami() != "" {
				t.Error("still signed in after logout")
			}
		})
	}

	t.Run("end_session_endpoint", func(t *testing.T) {
		b := signedIn()
		p := e.rp(clientID, sec, "openid")
		back := b.authorize(url.Values{"client_id": {clientID}, "redirect_uri": {callback}, "response_type": {"code"}, "scope": {"openid"}}, "", "")
		tok, err := p.conf.Exchange(context.Background(), back.Query().Get("code"))
		if err != nil {
			t.Fatal(err)
		}
		hint := tok.Extra("id_token").(string)
		r := b.do("GET", "/oidc/logout?"+url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {"http://app.example/bye"}, "state": {"s1"}}.Encode(), nil)
		if r.status != 302 || r.header.Get("Location") != "http://app.example/bye?state=s1" {
			t.Errorf("= %d Location %q", r.status, r.header.Get("Location"))
		}
		if b.whoami() != "" {
			t.Error("still signed in")
		}
		// A forged hint is refused.
		r = signedIn().do("GET", "/oidc/logout?"+url.Values{"id_token_hint": {hint[:len(hint)-4] + "AAAA"}, "post_logout_redirect_uri": {"http://app.example/bye"}}.Encode(), nil)
		if r.status != 400 || r.header.Get("Location") != "" {
			t.Errorf("forged hint = %d Location %q", r.status, r.header.Get("Location"))
		}
		// A redirect without a hint or client is not followed.
		r = signedIn().do("GET", "/oidc/logout?"+url.Values{"post_logout_redirect_uri": {"http://app.example/bye"}}.Encode(), nil)
		if r.status != 400 || r.header.Get("Location") != "" {
			t.Errorf("no hint = %d Location %q", r.status, r.header.Get("Location"))
		}
	})
}

func TestDiscovery(t *testing.T) {
	e := newEnv(t, envOptions{})
	res, err := http.Get(e.base + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var doc map[string]any
	json.NewDecoder(res.Body).Decode(&doc)
	iss := e.base + "/"
	want := map[string]any{
		"issuer":                 iss,
		"authorization_endpoint": iss + "authorize",
		"token_endpoint":         iss + "oauth/token",
		"userinfo_endpoint":      iss + "userinfo",
		"jwks_uri":               iss + ".well-known/jwks.json",
		"end_session_endpoint":   iss + "oidc/logout",
	}
	for k, v := range want {
		if doc[k] != v {
			t.Errorf("%s = %v, want %v", k, doc[k], v)
		}
	}
	lists := map[string][]string{
		"code_challenge_methods_supported":      {"S256"},
		"id_token_signing_alg_values_supported": {"RS256"},
		"response_types_supported":              {"code"},
		"grant_types_supported":                 {"client_credentials", "authorization_code", "refresh_token"},
		"scopes_supported":                      {"openid", "profile", "email", "offline_access"},
		"token_endpoint_auth_methods_supported": {"client_secret_basic", "client_secret_post", "none"},
	}
	for k, v := range lists {
		var got []string
		for _, x := range doc[k].([]any) {
			got = append(got, x.(string))
		}
		if !slices.Equal(got, v) {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	for _, c := range []string{"sub", "email", "email_verified", "name", "nonce", "auth_time", "at_hash"} {
		if !slices.ContainsFunc(doc["claims_supported"].([]any), func(x any) bool { return x == c }) {
			t.Errorf("claims_supported lacks %s", c)
		}
	}
	if doc["request_uri_parameter_supported"] != false {
		t.Errorf("request_uri_parameter_supported = %v", doc["request_uri_parameter_supported"])
	}
	// Every advertised endpoint answers (not 404/405).
	for _, k := range []string{"authorization_endpoint", "userinfo_endpoint", "end_session_endpoint", "jwks_uri"} {
		r, err := http.Get(doc[k].(string))
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode == 404 || r.StatusCode == 405 {
			t.Errorf("%s answers %d", k, r.StatusCode)
		}
	}
}
