package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/keygen"
	"github.com/signet-auth/signet/internal/oauth"
	"github.com/signet-auth/signet/internal/oidc"
	"github.com/signet-auth/signet/internal/ringtest"
	"github.com/signet-auth/signet/internal/secret"
)

// TestExample runs the example application against a real Signet tenant
// on loopback and signs a user in and out through it with a browser-like
// client (cookie jar, following redirects).
func TestExample(t *testing.T) {
	ctx := context.Background()
	re := ringtest.New(t, ringtest.Options{Pool: keygen.NewPool(0)})
	provider := oidc.New(oidc.Config{Ring: re.Ring, Store: re.Store})
	idp := re.Serve(t, "default", "", provider, oauth.New(oauth.Config{Ring: re.Ring, Store: re.Store, Provider: provider}))
	idpHost := idp.Listener.Addr().String()

	rp := httptest.NewUnstartedServer(nil)
	rpBase := "http://" + rp.Listener.Addr().String()
	re.CreateUser(t, signet.User{Tenant: "default", Email: "alice@example.com"}, "correct horse battery")
	client := signet.Client{Tenant: "default", ClientID: secret.ClientID(), Name: "example", AppType: "spa",
		TokenEndpointAuthMethod: "none", GrantTypes: []string{"authorization_code"},
		Callbacks: []string{rpBase + "/callback"}, AllowedLogoutURLs: []string{rpBase + "/"}}
	if err := re.Store.CreateClient(ctx, client); err != nil {
		t.Fatal(err)
	}
	h, err := newApp(ctx, "http://"+idpHost+"/", client.ClientID, "", rpBase)
	if err != nil {
		t.Fatal(err)
	}
	rp.Config.Handler = h
	rp.Start()
	defer rp.Close()

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	get := func(u string) (*http.Response, string) {
		t.Helper()
		res, err := browser.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	res, body := get(rpBase + "/login")
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if res.Request.URL.Host != idpHost || m == nil {
		t.Fatalf("sign-in did not reach the login page: %s %s", res.Request.URL, body)
	}
	res, err = browser.PostForm("http://"+idpHost+"/login", url.Values{"csrf": {m[1]},
		"return_to": {res.Request.URL.Query().Get("return_to")}, "email": {"alice@example.com"}, "password": {"correct horse battery"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(b), "Signed in as <b>alice@example.com</b>") {
		t.Fatalf("after sign-in: %d %s\n%s", res.StatusCode, res.Request.URL, b)
	}

	res, body = get(rpBase + "/logout")
	if res.Request.URL.String() != rpBase+"/" || !strings.Contains(body, "Sign in with Signet") {
		t.Errorf("after logout: %s %s", res.Request.URL, body)
	}
	// The Signet session is over: signing in again shows the login page.
	if res, _ := get(rpBase + "/login"); res.Request.URL.Path != "/login" || res.Request.URL.Host != idpHost {
		t.Errorf("after logout, sign-in went to %s", res.Request.URL)
	}
}
