package oidc_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/signet-auth/signet"
)

// TestUnsafeStoredRedirects checks that URLs of a refused scheme stored
// before registration refused them (written to the store directly) are
// never followed: logout answers 400 instead of a 302 to them, and
// /authorize shows an error page instead of redirecting.
func TestUnsafeStoredRedirects(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.user("alice@example.com", "correct horse")
	bad := []string{
		"javascript:alert(document.domain)",
		"JavaScript://app.example/%0aalert(document.domain)",
		"data:text/html,<script>alert(1)</script>",
		"vbscript:msgbox(1)",
		"file:///etc/passwd",
	}
	clientID, _ := e.client(false)
	_, err := e.store.UpdateClient(context.Background(), "default", clientID, func(c *signet.Client) error {
		c.Callbacks = append(c.Callbacks, bad...)
		c.AllowedLogoutURLs = append(c.AllowedLogoutURLs, bad...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	signedIn := func() *browser {
		b := e.browser()
		b.login("/", "alice@example.com", "correct horse")
		if b.whoami() == "" {
			t.Fatal("not signed in")
		}
		return b
	}
	for _, target := range bad {
		for _, path := range []string{
			"/v2/logout?" + url.Values{"client_id": {clientID}, "returnTo": {target}}.Encode(),
			"/oidc/logout?" + url.Values{"client_id": {clientID}, "post_logout_redirect_uri": {target}, "state": {"s"}}.Encode(),
		} {
			t.Run(path, func(t *testing.T) {
				b := signedIn()
				r := b.do("GET", path, nil)
				if r.status != 400 || r.header.Get("Location") != "" || !strings.Contains(r.body, "You are signed out") {
					t.Errorf("= %d Location %q, want 400 without a redirect:\n%s", r.status, r.header.Get("Location"), r.body)
				}
				if b.whoami() != "" {
					t.Error("still signed in after logout")
				}
			})
		}
		t.Run("authorize "+target, func(t *testing.T) {
			b := signedIn()
			q := url.Values{"client_id": {clientID}, "redirect_uri": {target}, "response_type": {"code"}, "scope": {"openid"}}
			r := b.do("GET", "/authorize?"+q.Encode(), nil)
			if r.status != 400 || r.header.Get("Location") != "" {
				t.Errorf("= %d Location %q, want 400 without a redirect:\n%s", r.status, r.header.Get("Location"), r.body)
			}
		})
	}
	// The safe URLs stored with them still work.
	r := signedIn().do("GET", "/v2/logout?"+url.Values{"client_id": {clientID}, "returnTo": {"http://app.example/bye"}}.Encode(), nil)
	if r.status != 302 || r.header.Get("Location") != "http://app.example/bye" {
		t.Errorf("allowed logout URL = %d Location %q", r.status, r.header.Get("Location"))
	}
}
