package oidc_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestClientCreatedWithoutGrantTypes creates applications through the
// Management API without grant_types, as Auth0's quickstarts do, and signs a
// user in with each through the code flow, then refreshes the tokens: Auth0
// gives a confidential client authorization_code, implicit, refresh_token
// and client_credentials, a public one (token_endpoint_auth_method none) the
// first three.
func TestClientCreatedWithoutGrantTypes(t *testing.T) {
	e := newEnv(t, envOptions{mgmt: true})
	e.user("alice@example.com", "correct horse")
	aud := e.base + "/api/v2/"
	adminID, adminSecret := e.re.AdminClient(t, "default", aud)
	tok := (&oauth2.Token{AccessToken: e.clientCredentials(adminID, adminSecret, aud)})

	for _, tc := range []struct {
		name string
		body string
		want []string
	}{
		{"confidential", `{"name":"Web","app_type":"regular_web","callbacks":["` + callback + `"]}`,
			[]string{"authorization_code", "implicit", "refresh_token", "client_credentials"}},
		{"public", `{"name":"SPA","app_type":"spa","callbacks":["` + callback + `"]}`,
			[]string{"authorization_code", "implicit", "refresh_token"}},
		{"public by auth method", `{"name":"CLI","token_endpoint_auth_method":"none","callbacks":["` + callback + `"]}`,
			[]string{"authorization_code", "implicit", "refresh_token"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", aud+"clients", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			tok.SetAuthHeader(req)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusCreated {
				t.Fatalf("POST /api/v2/clients = %d %s", res.StatusCode, body)
			}
			var c struct {
				ClientID     string   `json:"client_id"`
				ClientSecret string   `json:"client_secret"`
				GrantTypes   []string `json:"grant_types"`
				AuthMethod   string   `json:"token_endpoint_auth_method"`
			}
			if err := json.Unmarshal(body, &c); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(c.GrantTypes, tc.want) {
				t.Errorf("grant_types = %q, want %q", c.GrantTypes, tc.want)
			}
			sec := c.ClientSecret
			if c.AuthMethod == "none" {
				sec = ""
			}
			p, b := e.rp(c.ClientID, sec), e.browser()
			p.t, b.t = t, t // fail the subtest, not the parent
			first, _ := p.login(b, "alice@example.com", "correct horse")
			if first.RefreshToken == "" {
				t.Fatal("no refresh token")
			}
			refreshed, err := p.conf.TokenSource(context.Background(), &oauth2.Token{RefreshToken: first.RefreshToken}).Token()
			if err != nil {
				t.Fatalf("refresh: %v", err)
			}
			if refreshed.AccessToken == "" || refreshed.AccessToken == first.AccessToken {
				t.Errorf("refresh gave access token %q", refreshed.AccessToken)
			}
		})
	}
}

// clientCredentials returns an access token for audience from the
// client-credentials grant.
func (e *env) clientCredentials(id, sec, audience string) string {
	e.t.Helper()
	res, err := http.PostForm(e.base+"/oauth/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {id}, "client_secret": {sec}, "audience": {audience}})
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || out.AccessToken == "" {
		e.t.Fatalf("client credentials: %d %v", res.StatusCode, err)
	}
	return out.AccessToken
}
