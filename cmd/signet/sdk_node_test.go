package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// TestNodeSDK runs Auth0's own Node SDK (npm auth0, ManagementClient) against
// the real server over HTTPS: users (create, get, paged list, search, by
// email, update with block and password, delete), a regular web application
// with callbacks, token settings and a SAML add-on, a resource server and a
// client grant (create, get, list, update, delete), the signing keys (list,
// get, rotate, revoke), and the errors the SDK maps. Then the user the SDK
// made signs in through the OIDC login with the application the SDK made.
// .ci/run installs the SDK with `npm ci --prefix cmd/signet/testdata/node-sdk`;
// elsewhere the test skips when Node.js or the SDK is missing (under CI it fails).
func TestNodeSDK(t *testing.T) {
	dir := filepath.Join("testdata", "node-sdk")
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "node_modules", "auth0"))
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Node.js and the auth0 SDK are needed under CI: %v", err)
		}
		t.Skipf("Node.js or the SDK is missing (npm ci --prefix %s): %v", dir, err)
	}

	tmp := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, tmp)
	in := start(t, filepath.Join(tmp, "data"), "--tls-cert", certFile, "--tls-key", keyFile)
	creds := in.credentials()
	base := "https://" + strings.TrimPrefix(in.base, "http://")
	httpc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "sdk.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"DOMAIN="+strings.TrimPrefix(in.base, "http://"),
		"CLIENT_ID="+creds.ClientID,
		"CLIENT_SECRET="+creds.ClientSecret,
		"NODE_EXTRA_CA_CERTS="+certFile,
	)
	b, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("node sdk.mjs: %v\n%s\nserver log:\n%s", err, stderr, in.logs.String())
	}
	type key struct {
		KID       string     `json:"kid"`
		Current   bool       `json:"current"`
		Next      bool       `json:"next"`
		Previous  bool       `json:"previous"`
		Revoked   bool       `json:"revoked"`
		RevokedAt *time.Time `json:"revoked_at"`
	}
	var got struct {
		Before, After, Final                                 []key
		Get, GetFingerprint, Rotated, OldNext                string
		Revoked, OldCurrent                                  string
		StaleTokenStatus, UnknownStatus, RevokeCurrentStatus int

		Users           sdkUsers
		Clients         sdkClients
		ResourceServers sdkResourceServers
		Grants          sdkGrants
		Login           struct{ ClientID, ClientSecret, Email, Password, OldPassword string }
	}
	if os.Getenv("SDK_DUMP") != "" {
		t.Logf("%s", b)
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("sdk output: %v\n%s", err, b)
	}
	if len(got.Before) != 2 || !got.Before[0].Current || !got.Before[1].Next {
		t.Errorf("list before rotation = %+v, want current then next", got.Before)
	}
	if got.Get != got.OldCurrent || len(got.GetFingerprint) != 59 {
		t.Errorf("get = %q (fingerprint %q), want %q", got.Get, got.GetFingerprint, got.OldCurrent)
	}
	if got.Rotated != got.OldNext {
		t.Errorf("rotate answered %q, want the former next key %q", got.Rotated, got.OldNext)
	}
	if len(got.After) != 3 || got.After[0].KID != got.OldNext || !got.After[2].Previous {
		t.Errorf("list after rotation = %+v", got.After)
	}
	if got.Revoked != got.OldCurrent {
		t.Errorf("revoke answered %q, want %q", got.Revoked, got.OldCurrent)
	}
	if got.StaleTokenStatus != 401 {
		t.Errorf("the SDK's token signed by the revoked key got %d, want 401", got.StaleTokenStatus)
	}
	if n := len(got.Final); n != 3 || !got.Final[2].Revoked || got.Final[2].RevokedAt == nil {
		t.Errorf("final list = %+v, want the revoked key last with revoked_at", got.Final)
	}
	if got.UnknownStatus != 404 || got.RevokeCurrentStatus != 409 {
		t.Errorf("unknown kid = %d (want 404), revoke current = %d (want 409)", got.UnknownStatus, got.RevokeCurrentStatus)
	}

	got.Users.check(t, b)
	got.ResourceServers.check(t)
	got.Clients.check(t)
	got.Grants.check(t, got.Clients.Created.ClientID)

	// A user the SDK created, blocked, unblocked and gave a new password
	// signs in through the OIDC login with the client the SDK created.
	l := got.Login
	conf := oauth2.Config{ClientID: l.ClientID, ClientSecret: l.ClientSecret, RedirectURL: sdkCallback,
		Endpoint: oauth2.Endpoint{AuthURL: base + "/authorize", TokenURL: base + "/oauth/token"},
		Scopes:   []string{"openid", "email", "profile"}}
	if st := oidcSignIn(t, httpc, conf, l.Email, l.OldPassword); st != "" {
		t.Errorf("the password the SDK replaced still signs in")
	}
	code := oidcSignIn(t, httpc, conf, l.Email, l.Password)
	if code == "" {
		t.Fatalf("the SDK-created user cannot sign in with the password the SDK set\nserver log:\n%s", in.logs.String())
	}
	tok, err := conf.Exchange(context.WithValue(ctx, oauth2.HTTPClient, httpc), code)
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	var claims struct{ Sub, Email, Name string }
	idt, _ := tok.Extra("id_token").(string)
	if parts := strings.Split(idt, "."); len(parts) == 3 {
		raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
		json.Unmarshal(raw, &claims)
	}
	if claims.Sub != got.Users.Created.UserID || claims.Email != l.Email || claims.Name != "Alice L." {
		t.Errorf("ID token claims = %+v, want the SDK's user %s", claims, got.Users.Created.UserID)
	}
}

// sdkCallback is the callback of the web application sdk.mjs creates.
const sdkCallback = "https://app.example/callback"

// oidcSignIn runs /authorize and the login page with email and password and
// returns the authorization code, or "" if the sign-in was refused.
func oidcSignIn(t *testing.T, httpc *http.Client, conf oauth2.Config, email, password string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	browser := *httpc
	browser.Jar = jar
	browser.CheckRedirect = func(r *http.Request, _ []*http.Request) error {
		if r.URL.Host == "app.example" {
			return http.ErrUseLastResponse
		}
		return nil
	}
	state := oauth2.GenerateVerifier()[:16]
	res, err := browser.Get(conf.AuthCodeURL(state, oidc.Nonce("n-"+state)))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := csrfInput.FindSubmatch(page)
	if res.StatusCode != 200 || m == nil {
		t.Fatalf("login page = %d %s", res.StatusCode, page)
	}
	u := res.Request.URL
	res, err = browser.PostForm(u.Scheme+"://"+u.Host+"/login", url.Values{"csrf": {string(m[1])},
		"return_to": {u.Query().Get("return_to")}, "email": {email}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	back, err := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusFound || err != nil || back.Host != "app.example" {
		return ""
	}
	if back.Query().Get("state") != state {
		t.Errorf("callback state = %q, want %q", back.Query().Get("state"), state)
	}
	return back.Query().Get("code")
}

// sdkError is what sdk.mjs records of an error the SDK threw.
type sdkError struct {
	Status int
	Body   struct {
		StatusCode                int
		Error, Message, ErrorCode string
	}
}

// want reports whether e is an Auth0 error body with status and errorCode.
func (e sdkError) want(t *testing.T, what string, status int, errorCode string) {
	t.Helper()
	if e.Status != status || e.Body.StatusCode != status || e.Body.Message == "" || e.Body.Error != http.StatusText(status) ||
		e.Body.ErrorCode != errorCode {
		t.Errorf("%s: SDK error %+v, want %d %s", what, e, status, errorCode)
	}
}

type sdkUser struct {
	UserID        string `json:"user_id"`
	Email         string
	EmailVerified bool `json:"email_verified"`
	Name          string
	Nickname      string
	Blocked       *bool
	Identities    []struct {
		Connection, Provider string
		UserID               string `json:"user_id"`
		IsSocial             *bool  `json:"isSocial"`
	}
	LoginsCount *int       `json:"logins_count"`
	CreatedAt   *time.Time `json:"created_at"`
	UpdatedAt   *time.Time `json:"updated_at"`
}

type sdkUsers struct {
	Created, Get, Renamed, Blocked, Unblocked              sdkUser
	Duplicate, NoConnection, OtherConnection, WeakPassword sdkError
	UpdateWeak, UpdateUnknown, AfterDelete                 sdkError
	Page0                                                  struct {
		IDs                 []string
		Total, Start, Limit int
		HasNext             bool
	}
	Page1 struct {
		IDs     []string
		Start   int
		HasNext bool
	}
	All, DefaultList, Search, ByEmail, ByEmailNone []string
	Count                                          int
}

func (u sdkUsers) check(t *testing.T, raw []byte) {
	t.Helper()
	c := u.Created
	if !strings.HasPrefix(c.UserID, "auth0|") || c.Email != "alice@example.com" || !c.EmailVerified || c.Name != "Alice" ||
		c.Nickname != "alice" || c.Blocked == nil || *c.Blocked || len(c.Identities) != 1 ||
		c.Identities[0].Connection != "Username-Password-Authentication" || c.Identities[0].Provider != "auth0" ||
		"auth0|"+c.Identities[0].UserID != c.UserID || c.Identities[0].IsSocial == nil || c.LoginsCount == nil ||
		c.CreatedAt == nil || c.UpdatedAt == nil {
		t.Errorf("users.create = %+v", c)
	}
	// sdk.mjs prints the old password once, for the sign-in check.
	if bytes.Count(raw, []byte("correct horse battery")) != 1 || bytes.Contains(raw, []byte("argon2")) {
		t.Error("a password or its hash reached the SDK")
	}
	if u.Get.UserID != c.UserID || u.Get.Email != c.Email {
		t.Errorf("users.get = %+v", u.Get)
	}
	u.Duplicate.want(t, "users.create of a taken email", 409, "auth0_idp_error")
	u.NoConnection.want(t, "users.create without connection", 400, "invalid_body")
	u.OtherConnection.want(t, "users.create with another connection", 400, "invalid_body")
	u.WeakPassword.want(t, "users.create with a weak password", 400, "invalid_body")
	u.UpdateWeak.want(t, "users.update with a weak password", 400, "invalid_body")
	u.UpdateUnknown.want(t, "users.update of an unknown user", 404, "inexistent_user")
	u.AfterDelete.want(t, "users.get after users.delete", 404, "inexistent_user")
	if len(u.Page0.IDs) != 2 || u.Page0.IDs[0] != c.UserID || u.Page0.Total != 3 || u.Page0.Start != 0 ||
		u.Page0.Limit != 2 || !u.Page0.HasNext {
		t.Errorf("users.list page 0 = %+v", u.Page0)
	}
	if len(u.Page1.IDs) != 1 || u.Page1.Start != 2 || u.Page1.HasNext {
		t.Errorf("users.list page 1 = %+v", u.Page1)
	}
	want := []string{"alice@example.com", "bob@example.com", "carol@example.com"}
	if !slices.Equal(u.All, want) || !slices.Equal(u.DefaultList, want) {
		t.Errorf("users.list iterated = %q, default = %q, want %q", u.All, u.DefaultList, want)
	}
	if !slices.Equal(u.Search, []string{"bob@example.com"}) || !slices.Equal(u.ByEmail, []string{"carol@example.com"}) ||
		u.ByEmailNone == nil || len(u.ByEmailNone) != 0 {
		t.Errorf("q=email = %q, by email = %q, unknown email = %q", u.Search, u.ByEmail, u.ByEmailNone)
	}
	if u.Renamed.Name != "Alice L." || u.Blocked.Blocked == nil || !*u.Blocked.Blocked || u.Unblocked.Blocked == nil ||
		*u.Unblocked.Blocked || !u.Unblocked.UpdatedAt.After(*c.UpdatedAt) {
		t.Errorf("users.update: renamed %+v, blocked %+v, unblocked %+v", u.Renamed, u.Blocked, u.Unblocked)
	}
	if u.Count != 2 {
		t.Errorf("users after a delete: total %d, want 2", u.Count)
	}
}

type sdkClient struct {
	ClientID                string  `json:"client_id"`
	ClientSecret            *string `json:"client_secret"`
	Name, Description       string
	AppType                 string   `json:"app_type"`
	GrantTypes              []string `json:"grant_types"`
	Callbacks               []string
	AllowedLogoutURLs       []string `json:"allowed_logout_urls"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	JWTConfiguration        struct {
		LifetimeInSeconds int `json:"lifetime_in_seconds"`
		Alg               string
	} `json:"jwt_configuration"`
	RefreshToken struct {
		RotationType   string `json:"rotation_type"`
		ExpirationType string `json:"expiration_type"`
		TokenLifetime  int    `json:"token_lifetime"`
	} `json:"refresh_token"`
	Addons struct {
		SAMLP *struct {
			Audience, Recipient  string
			Mappings             map[string]string
			NameIdentifierFormat string
			SignatureAlgorithm   string
			DigestAlgorithm      string
			LifetimeInSeconds    int
		}
		WSFed *struct{}
	}
}

type sdkClients struct {
	Created, Get, Updated                         sdkClient
	BadCallback, BadAlg, BadRotation, AfterDelete sdkError
	Spa                                           struct {
		TokenEndpointAuthMethod string `json:"token_endpoint_auth_method"`
	}
	Listed   []string
	ListPage struct {
		N, Total    int
		SecretShown bool
	}
	DeleteAgain int
}

func (cs sdkClients) check(t *testing.T) {
	t.Helper()
	c := cs.Created
	if len(c.ClientID) != 32 || c.ClientSecret == nil || len(*c.ClientSecret) != 43 || c.Name != "Web App" ||
		c.AppType != "regular_web" || !slices.Equal(c.GrantTypes, []string{"authorization_code", "refresh_token"}) ||
		!slices.Equal(c.Callbacks, []string{sdkCallback}) || !slices.Equal(c.AllowedLogoutURLs, []string{"https://app.example/"}) ||
		c.TokenEndpointAuthMethod != "client_secret_post" || c.JWTConfiguration.LifetimeInSeconds != 7200 ||
		c.JWTConfiguration.Alg != "RS256" || c.RefreshToken.RotationType != "rotating" || c.RefreshToken.ExpirationType != "expiring" ||
		c.RefreshToken.TokenLifetime != 86400 || c.Addons.SAMLP == nil || c.Addons.SAMLP.Audience != "urn:sp.example" ||
		c.Addons.SAMLP.Recipient != "https://sp.example/acs" || c.Addons.SAMLP.LifetimeInSeconds != 3600 ||
		c.Addons.SAMLP.SignatureAlgorithm != "rsa-sha256" || len(c.Addons.SAMLP.Mappings) != 1 {
		t.Errorf("clients.create = %+v", c)
	}
	if g := cs.Get; g.ClientSecret != nil || g.ClientID != c.ClientID || g.Addons.SAMLP == nil || !slices.Equal(g.Callbacks, c.Callbacks) {
		t.Errorf("clients.get = %+v", g)
	}
	if u := cs.Updated; len(u.Callbacks) != 2 || u.JWTConfiguration.LifetimeInSeconds != 3600 || u.Addons.SAMLP == nil ||
		u.Addons.SAMLP.LifetimeInSeconds != 0 || u.Addons.WSFed == nil || u.Name != "Web App" {
		t.Errorf("clients.update = %+v", u)
	}
	cs.BadCallback.want(t, "clients.update with a bad callback", 400, "invalid_body")
	cs.BadAlg.want(t, "clients.update with HS256", 400, "invalid_body")
	cs.BadRotation.want(t, "clients.update with non-rotating refresh tokens", 400, "invalid_body")
	cs.AfterDelete.want(t, "clients.get after clients.delete", 404, "inexistent_client")
	if cs.Spa.TokenEndpointAuthMethod != "none" {
		t.Errorf("an SPA's token_endpoint_auth_method = %q, want none", cs.Spa.TokenEndpointAuthMethod)
	}
	if len(cs.Listed) != 3 || !slices.Contains(cs.Listed, c.ClientID) || cs.ListPage.N != 1 || cs.ListPage.Total != 3 || cs.ListPage.SecretShown {
		t.Errorf("clients.list = %q, one per page = %+v", cs.Listed, cs.ListPage)
	}
	if cs.DeleteAgain != 404 {
		t.Errorf("clients.delete of a deleted client = %d, want 404", cs.DeleteAgain)
	}
}

type sdkRS struct {
	ID, Name, Identifier string
	Scopes               []struct{ Value, Description string }
	SigningAlg           string `json:"signing_alg"`
	TokenLifetime        int    `json:"token_lifetime"`
	IsSystem             *bool  `json:"is_system"`
}

type sdkResourceServers struct {
	Created, Get, Updated sdkRS
	GetByIdentifier       string
	List                  []struct {
		Identifier string
		IsSystem   bool `json:"is_system"`
	}
	Duplicate, Unknown, AfterDelete sdkError
}

func (r sdkResourceServers) check(t *testing.T) {
	t.Helper()
	c := r.Created
	if c.ID == "" || c.Name != "Orders" || c.Identifier != "https://orders.example/api" || len(c.Scopes) != 2 ||
		c.Scopes[0].Value != "read:orders" || c.Scopes[0].Description != "Read orders" || c.SigningAlg != "RS256" ||
		c.TokenLifetime != 3600 || c.IsSystem == nil || *c.IsSystem {
		t.Errorf("resourceServers.create = %+v", c)
	}
	if r.Get.ID != c.ID || r.GetByIdentifier != c.ID {
		t.Errorf("resourceServers.get = %+v, by identifier %q", r.Get, r.GetByIdentifier)
	}
	if len(r.List) != 2 || !r.List[0].IsSystem || r.List[1].Identifier != c.Identifier {
		t.Errorf("resourceServers.list = %+v, want the Management API and Orders", r.List)
	}
	if r.Updated.Name != "Orders API" || len(r.Updated.Scopes) != 3 || r.Updated.Identifier != c.Identifier {
		t.Errorf("resourceServers.update = %+v", r.Updated)
	}
	r.Duplicate.want(t, "resourceServers.create of a taken identifier", 409, "conflict")
	r.Unknown.want(t, "resourceServers.get of an unknown id", 404, "inexistent_resource_server")
	r.AfterDelete.want(t, "resourceServers.get after delete", 404, "inexistent_resource_server")
}

type sdkGrant struct {
	ID       string
	ClientID string `json:"client_id"`
	Audience string
	Scope    []string
}

type sdkGrants struct {
	Created, Get, Updated                           sdkGrant
	ByClient, ByAudience                            []string
	All                                             int
	Duplicate, DeletedClient, BadScope, AfterDelete sdkError
}

func (g sdkGrants) check(t *testing.T, clientID string) {
	t.Helper()
	c := g.Created
	if !strings.HasPrefix(c.ID, "cgr_") || c.ClientID != clientID || c.Audience != "https://orders.example/api" ||
		!slices.Equal(c.Scope, []string{"read:orders"}) {
		t.Errorf("clientGrants.create = %+v", c)
	}
	if g.Get.ID != c.ID || !slices.Equal(g.Get.Scope, c.Scope) {
		t.Errorf("clientGrants.get = %+v", g.Get)
	}
	if !slices.Equal(g.ByClient, []string{c.ID}) || !slices.Equal(g.ByAudience, []string{c.ID}) || g.All != 2 {
		t.Errorf("clientGrants.list: by client %q, by audience %q, all %d (want 2: the admin's and this)", g.ByClient, g.ByAudience, g.All)
	}
	if !slices.Equal(g.Updated.Scope, []string{"read:orders", "write:orders"}) {
		t.Errorf("clientGrants.update = %+v", g.Updated)
	}
	g.Duplicate.want(t, "clientGrants.create of a second grant", 409, "conflict")
	g.DeletedClient.want(t, "clientGrants.create for a deleted client", 404, "inexistent_client")
	g.BadScope.want(t, "clientGrants.update with an undefined scope", 400, "invalid_body")
	g.AfterDelete.want(t, "clientGrants.get after delete", 404, "inexistent_client_grant")
}
