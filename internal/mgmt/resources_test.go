package mgmt_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

type clientJSON struct {
	ClientID                string     `json:"client_id"`
	Tenant                  string     `json:"tenant"`
	Name                    string     `json:"name"`
	Description             string     `json:"description"`
	AppType                 string     `json:"app_type"`
	GrantTypes              []string   `json:"grant_types"`
	TokenEndpointAuthMethod string     `json:"token_endpoint_auth_method"`
	IsFirstParty            *bool      `json:"is_first_party"`
	ClientSecret            string     `json:"client_secret"`
	CreatedAt               *time.Time `json:"created_at"`
	UpdatedAt               *time.Time `json:"updated_at"`
}

// tokenStatus is the status of a client-credentials request.
func (e *env) tokenStatus(id, sec, aud string) int {
	v := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {sec}, "audience": {aud}}
	r := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(v.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.serve(r).Code
}

func TestClients(t *testing.T) {
	e := newEnv(t)
	tok := e.token("")
	create := func(body string) *httptest.ResponseRecorder {
		return e.do(req{method: "POST", path: "/api/v2/clients", token: tok, body: body, contentType: "application/json"})
	}

	rec := create(`{"name":"Billing","description":"bills"}`)
	if rec.Code != 201 {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	c := decode[clientJSON](t, rec)
	if len(c.ClientID) != 32 || c.Tenant != "default" || c.Name != "Billing" || c.Description != "bills" ||
		c.AppType != "non_interactive" || !equal(c.GrantTypes, []string{"authorization_code", "implicit", "refresh_token", "client_credentials"}) ||
		c.TokenEndpointAuthMethod != "client_secret_post" || c.IsFirstParty == nil || !*c.IsFirstParty ||
		len(c.ClientSecret) != 43 || c.CreatedAt == nil || c.UpdatedAt == nil {
		t.Errorf("created client = %+v", c)
	}

	// The secret works once the client has a grant.
	grant := e.do(req{method: "POST", path: "/api/v2/client-grants", token: tok, contentType: "application/json",
		body: `{"client_id":"` + c.ClientID + `","audience":"` + mgmtAud + `","scope":["read:clients"]}`})
	if grant.Code != 201 {
		t.Fatalf("grant: %d %s", grant.Code, grant.Body)
	}
	if st := e.tokenStatus(c.ClientID, c.ClientSecret, mgmtAud); st != 200 {
		t.Errorf("token with the new client: %d", st)
	}

	// Read: the secret is never shown again.
	rec = e.do(req{method: "GET", path: "/api/v2/clients/" + c.ClientID, token: tok})
	if got := decode[clientJSON](t, rec); rec.Code != 200 || got.ClientSecret != "" || got.Name != "Billing" {
		t.Errorf("get: %d %s", rec.Code, rec.Body)
	}
	if strings.Contains(rec.Body.String(), "client_secret\"") {
		t.Errorf("get shows a client_secret member: %s", rec.Body)
	}
	rec = e.do(req{method: "GET", path: "/api/v2/clients", token: tok})
	list := decode[[]clientJSON](t, rec)
	if len(list) != 2 || strings.Contains(rec.Body.String(), c.ClientSecret) {
		t.Errorf("list: %s", rec.Body)
	}

	// Update.
	rec = e.do(req{method: "PATCH", path: "/api/v2/clients/" + c.ClientID, token: tok, contentType: "application/json",
		body: `{"name":"Billing 2","app_type":"regular_web","grant_types":["client_credentials","authorization_code"]}`})
	if got := decode[clientJSON](t, rec); rec.Code != 200 || got.Name != "Billing 2" || got.AppType != "regular_web" ||
		len(got.GrantTypes) != 2 || got.Description != "bills" {
		t.Errorf("patch: %d %s", rec.Code, rec.Body)
	}

	// Interactive settings round-trip; a SPA defaults to a public client.
	rec = e.do(req{method: "PATCH", path: "/api/v2/clients/" + c.ClientID, token: tok, contentType: "application/json",
		body: `{"callbacks":["https://app.example/cb","com.example.app:/cb"],"allowed_logout_urls":["https://app.example/"],` +
			`"token_endpoint_auth_method":"client_secret_basic","jwt_configuration":{"lifetime_in_seconds":600},` +
			`"refresh_token":{"token_lifetime":3600}}`})
	if rec.Code != 200 {
		t.Fatalf("patch interactive settings: %d %s", rec.Code, rec.Body)
	}
	rec = e.do(req{method: "GET", path: "/api/v2/clients/" + c.ClientID, token: tok})
	for _, want := range []string{`"callbacks":["https://app.example/cb","com.example.app:/cb"]`,
		`"allowed_logout_urls":["https://app.example/"]`, `"token_endpoint_auth_method":"client_secret_basic"`,
		`"jwt_configuration":{"lifetime_in_seconds":600,"alg":"RS256"}`, `"token_lifetime":3600`} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("get after patch lacks %s: %s", want, rec.Body)
		}
	}
	rec = e.do(req{method: "POST", path: "/api/v2/clients", token: e.token("create:clients"), contentType: "application/json",
		body: `{"name":"Spa","app_type":"spa"}`})
	if rec.Code != 201 || !strings.Contains(rec.Body.String(), `"token_endpoint_auth_method":"none"`) {
		t.Errorf("create spa: %d %s", rec.Code, rec.Body)
	}

	// Rotate the secret: the old one stops working, the new one works.
	rec = e.do(req{method: "POST", path: "/api/v2/clients/" + c.ClientID + "/rotate-secret", token: e.token("update:client_keys")})
	rotated := decode[clientJSON](t, rec)
	if rec.Code != 200 || len(rotated.ClientSecret) != 43 || rotated.ClientSecret == c.ClientSecret {
		t.Fatalf("rotate-secret: %d %s", rec.Code, rec.Body)
	}
	if st := e.tokenStatus(c.ClientID, c.ClientSecret, mgmtAud); st != 401 {
		t.Errorf("old secret: %d, want 401", st)
	}
	if st := e.tokenStatus(c.ClientID, rotated.ClientSecret, mgmtAud); st != 200 {
		t.Errorf("new secret: %d, want 200", st)
	}
	wantError(t, e.do(req{method: "POST", path: "/api/v2/clients/" + c.ClientID + "/rotate-secret", token: e.token("update:clients")}),
		403, "Insufficient scope, expected any of: update:client_keys", "insufficient_scope")

	// Errors.
	errs := []struct {
		name, method, path, body string
		status                   int
		message, code            string
	}{
		{"unknown field", "POST", "/api/v2/clients", `{"name":"x","initiate_login_uri":""}`, 400, "Payload validation error: 'Additional properties not allowed: initiate_login_uri'.", "invalid_body"},
		{"relative callback", "POST", "/api/v2/clients", `{"name":"x","callbacks":["/cb"]}`, 400, "Payload validation error: 'Object didn't pass validation for format absolute-uri: /cb' on property callbacks[0].", "invalid_body"},
		{"callback without host", "POST", "/api/v2/clients", `{"name":"x","callbacks":["https:///cb"]}`, 400, "Payload validation error: 'Object didn't pass validation for format absolute-uri: https:///cb' on property callbacks[0].", "invalid_body"},
		{"callback with fragment", "POST", "/api/v2/clients", `{"name":"x","callbacks":["https://a.example/cb#x"]}`, 400, "Payload validation error: 'URL must not contain a fragment: https://a.example/cb#x' on property callbacks[0].", "invalid_body"},
		{"logout url not a string", "POST", "/api/v2/clients", `{"name":"x","allowed_logout_urls":[true]}`, 400, "Payload validation error: 'Expected type string but found type boolean' on property allowed_logout_urls[0].", "invalid_body"},
		{"bad auth method", "POST", "/api/v2/clients", `{"name":"x","token_endpoint_auth_method":"private_key_jwt"}`, 400, `Payload validation error: 'No enum match for: "private_key_jwt"' on property token_endpoint_auth_method.`, "invalid_body"},
		{"jwt configuration not an object", "POST", "/api/v2/clients", `{"name":"x","jwt_configuration":3}`, 400, "Payload validation error: 'Expected type object but found type integer' on property jwt_configuration.", "invalid_body"},
		{"jwt lifetime too long", "POST", "/api/v2/clients", `{"name":"x","jwt_configuration":{"lifetime_in_seconds":2592001}}`, 400, "Payload validation error: 'Value 2592001 is out of range (1..2592000)' on property jwt_configuration.lifetime_in_seconds.", "invalid_body"},
		{"jwt configuration unknown field", "POST", "/api/v2/clients", `{"name":"x","jwt_configuration":{"secret_encoded":true}}`, 400, "Payload validation error: 'Additional properties not allowed: secret_encoded'.", "invalid_body"},
		{"bad json", "POST", "/api/v2/clients", `{"name":`, 400, "Payload validation error: 'Invalid JSON'.", "invalid_body"},
		{"no name", "POST", "/api/v2/clients", `{"description":"x"}`, 400, "Payload validation error: 'Missing required property: name'.", "invalid_body"},
		{"no body", "POST", "/api/v2/clients", ``, 400, "Payload validation error: 'Missing required property: name'.", "invalid_body"},
		{"empty name", "POST", "/api/v2/clients", `{"name":""}`, 400, "Payload validation error: 'String is too short (0 chars), minimum 1' on property name.", "invalid_body"},
		{"long name", "POST", "/api/v2/clients", `{"name":"` + strings.Repeat("n", 129) + `"}`, 400, "Payload validation error: 'String is too long (129 chars), maximum 128' on property name.", "invalid_body"},
		{"name not a string", "POST", "/api/v2/clients", `{"name":12}`, 400, "Payload validation error: 'Expected type string but found type integer' on property name.", "invalid_body"},
		{"name null", "POST", "/api/v2/clients", `{"name":null}`, 400, "Payload validation error: 'Expected type string but found type null' on property name.", "invalid_body"},
		{"bad app_type", "POST", "/api/v2/clients", `{"name":"x","app_type":"robot"}`, 400, `Payload validation error: 'No enum match for: "robot"' on property app_type.`, "invalid_body"},
		{"bad grant type", "POST", "/api/v2/clients", `{"name":"x","grant_types":["magic"]}`, 400, `Payload validation error: 'No enum match for: "magic"' on property grant_types.`, "invalid_body"},
		{"grant types not strings", "POST", "/api/v2/clients", `{"name":"x","grant_types":[1]}`, 400, "Payload validation error: 'Expected type string but found type integer' on property grant_types[0].", "invalid_body"},
		{"body too large", "POST", "/api/v2/clients", `{"name":"` + strings.Repeat("n", 70<<10) + `"}`, 400, "Payload content length greater than maximum allowed: 65536.", "invalid_body"},
		{"patch unknown field", "PATCH", "/api/v2/clients/" + c.ClientID, `{"client_secret":"mine"}`, 400, "Payload validation error: 'Additional properties not allowed: client_secret'.", "invalid_body"},
		{"get unknown", "GET", "/api/v2/clients/nope", ``, 404, "The client does not exist", "inexistent_client"},
		{"patch unknown", "PATCH", "/api/v2/clients/nope", `{"name":"x"}`, 404, "The client does not exist", "inexistent_client"},
		{"rotate unknown", "POST", "/api/v2/clients/nope/rotate-secret", ``, 404, "The client does not exist", "inexistent_client"},
		{"delete unknown", "DELETE", "/api/v2/clients/nope", ``, 404, "The client does not exist", "inexistent_client"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, e.do(req{method: tt.method, path: tt.path, token: tok, body: tt.body, contentType: "application/json"}), tt.status, tt.message, tt.code)
		})
	}

	// Delete: the client and its grants go.
	if rec := e.do(req{method: "DELETE", path: "/api/v2/clients/" + c.ClientID, token: tok}); rec.Code != 204 || rec.Body.Len() != 0 {
		t.Errorf("delete: %d %s", rec.Code, rec.Body)
	}
	wantError(t, e.do(req{method: "GET", path: "/api/v2/clients/" + c.ClientID, token: tok}), 404, "The client does not exist", "inexistent_client")
	if st := e.tokenStatus(c.ClientID, rotated.ClientSecret, mgmtAud); st != 401 {
		t.Errorf("token of a deleted client: %d, want 401", st)
	}
}

type rsJSON struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Identifier string `json:"identifier"`
	Scopes     []struct {
		Value       string `json:"value"`
		Description string `json:"description"`
	} `json:"scopes"`
	SigningAlg    string `json:"signing_alg"`
	TokenLifetime int    `json:"token_lifetime"`
	IsSystem      *bool  `json:"is_system"`
}

func TestResourceServers(t *testing.T) {
	e := newEnv(t)
	tok := e.token("")
	const aud = "https://api.example.com/"
	rec := e.do(req{method: "POST", path: "/api/v2/resource-servers", token: tok, contentType: "application/json",
		body: `{"name":"Things","identifier":"` + aud + `","scopes":[{"value":"read:things","description":"Read"},{"value":"write:things"}]}`})
	if rec.Code != 201 {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	rs := decode[rsJSON](t, rec)
	if rs.ID == "" || rs.Name != "Things" || rs.Identifier != aud || len(rs.Scopes) != 2 || rs.Scopes[0].Description != "Read" ||
		rs.SigningAlg != "RS256" || rs.TokenLifetime != 86400 || rs.IsSystem == nil || *rs.IsSystem {
		t.Errorf("created = %+v", rs)
	}

	// List: the Management API first, marked system.
	rec = e.do(req{method: "GET", path: "/api/v2/resource-servers", token: tok})
	list := decode[[]rsJSON](t, rec)
	if len(list) != 2 || !*list[0].IsSystem || list[0].Identifier != mgmtAud || len(list[0].Scopes) == 0 {
		t.Fatalf("list = %s", rec.Body)
	}
	system := list[0]

	// Get by id and by identifier.
	for _, id := range []string{rs.ID, url.PathEscape(aud)} {
		rec = e.do(req{method: "GET", path: "/api/v2/resource-servers/" + id, token: tok})
		if got := decode[rsJSON](t, rec); rec.Code != 200 || got.ID != rs.ID {
			t.Errorf("get %s: %d %s", id, rec.Code, rec.Body)
		}
	}

	// Patch.
	rec = e.do(req{method: "PATCH", path: "/api/v2/resource-servers/" + rs.ID, token: tok, contentType: "application/json",
		body: `{"name":"Things 2","token_lifetime":600,"scopes":[{"value":"read:things"}]}`})
	if got := decode[rsJSON](t, rec); rec.Code != 200 || got.Name != "Things 2" || got.TokenLifetime != 600 || len(got.Scopes) != 1 || got.Identifier != aud {
		t.Errorf("patch: %d %s", rec.Code, rec.Body)
	}

	errs := []struct {
		name, method, path, body string
		status                   int
		message, code            string
	}{
		{"duplicate identifier", "POST", "/api/v2/resource-servers", `{"identifier":"` + aud + `"}`, 409, "A resource server with the same identifier already exists", "conflict"},
		{"management identifier", "POST", "/api/v2/resource-servers", `{"identifier":"` + mgmtAud + `"}`, 409, "A resource server with the same identifier already exists", "conflict"},
		{"management alias identifier", "POST", "/api/v2/resource-servers", `{"identifier":"http://` + aliasHost + `/api/v2/"}`, 409, "A resource server with the same identifier already exists", "conflict"},
		{"no identifier", "POST", "/api/v2/resource-servers", `{"name":"x"}`, 400, "Payload validation error: 'Missing required property: identifier'.", "invalid_body"},
		{"unknown field", "POST", "/api/v2/resource-servers", `{"identifier":"x","allow_offline_access":true}`, 400, "Payload validation error: 'Additional properties not allowed: allow_offline_access'.", "invalid_body"},
		{"other alg", "POST", "/api/v2/resource-servers", `{"identifier":"x","signing_alg":"HS256"}`, 400, `Payload validation error: 'Invalid signing_alg "HS256": this tenant signs with RS256 only' on property signing_alg.`, "invalid_body"},
		{"lifetime too long", "POST", "/api/v2/resource-servers", `{"identifier":"x","token_lifetime":2592001}`, 400, "Payload validation error: 'Value 2592001 is out of range (1..2592000)' on property token_lifetime.", "invalid_body"},
		{"lifetime zero", "POST", "/api/v2/resource-servers", `{"identifier":"x","token_lifetime":0}`, 400, "", "invalid_body"},
		{"lifetime fraction", "POST", "/api/v2/resource-servers", `{"identifier":"x","token_lifetime":1.5}`, 400, "Payload validation error: 'Expected type integer but found type number' on property token_lifetime.", "invalid_body"},
		{"scope field", "POST", "/api/v2/resource-servers", `{"identifier":"x","scopes":[{"value":"a","x":1}]}`, 400, "Payload validation error: 'Additional properties not allowed: x'.", "invalid_body"},
		{"scope with space", "POST", "/api/v2/resource-servers", `{"identifier":"x","scopes":[{"value":"a b"}]}`, 400, "", "invalid_body"},
		{"duplicate scope", "POST", "/api/v2/resource-servers", `{"identifier":"x","scopes":[{"value":"a"},{"value":"a"}]}`, 400, "", "invalid_body"},
		{"patch identifier", "PATCH", "/api/v2/resource-servers/" + rs.ID, `{"identifier":"y"}`, 400, "Payload validation error: 'Additional properties not allowed: identifier'.", "invalid_body"},
		{"patch system", "PATCH", "/api/v2/resource-servers/" + system.ID, `{"name":"mine"}`, 400, "You cannot update the Auth0 Management API: it is a system resource server.", "operation_not_supported"},
		{"delete system", "DELETE", "/api/v2/resource-servers/" + system.ID, ``, 400, "You cannot delete the Auth0 Management API: it is a system resource server.", "operation_not_supported"},
		{"get unknown", "GET", "/api/v2/resource-servers/nope", ``, 404, "The resource server does not exist", "inexistent_resource_server"},
		{"patch unknown", "PATCH", "/api/v2/resource-servers/nope", `{"name":"x"}`, 404, "The resource server does not exist", "inexistent_resource_server"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, e.do(req{method: tt.method, path: tt.path, token: tok, body: tt.body, contentType: "application/json"}), tt.status, tt.message, tt.code)
		})
	}

	if rec := e.do(req{method: "DELETE", path: "/api/v2/resource-servers/" + rs.ID, token: tok}); rec.Code != 204 {
		t.Errorf("delete: %d %s", rec.Code, rec.Body)
	}
	wantError(t, e.do(req{method: "DELETE", path: "/api/v2/resource-servers/" + rs.ID, token: tok}), 404, "The resource server does not exist", "inexistent_resource_server")
}

type grantJSON struct {
	ID       string   `json:"id"`
	ClientID string   `json:"client_id"`
	Audience string   `json:"audience"`
	Scope    []string `json:"scope"`
}

func TestClientGrants(t *testing.T) {
	e := newEnv(t)
	tok := e.token("")
	const aud = "https://api.example.com/"
	if rec := e.do(req{method: "POST", path: "/api/v2/resource-servers", token: tok, contentType: "application/json",
		body: `{"identifier":"` + aud + `","token_lifetime":60,"scopes":[{"value":"read:things"},{"value":"write:things"}]}`}); rec.Code != 201 {
		t.Fatalf("rs: %d %s", rec.Code, rec.Body)
	}
	rec := e.do(req{method: "POST", path: "/api/v2/clients", token: tok, contentType: "application/json", body: `{"name":"worker"}`})
	cl := decode[clientJSON](t, rec)

	// No grant yet: the token endpoint refuses.
	if st := e.tokenStatus(cl.ClientID, cl.ClientSecret, aud); st != 403 {
		t.Errorf("token without grant: %d, want 403", st)
	}
	rec = e.do(req{method: "POST", path: "/api/v2/client-grants", token: tok, contentType: "application/json",
		body: `{"client_id":"` + cl.ClientID + `","audience":"` + aud + `","scope":["read:things","read:things"]}`})
	if rec.Code != 201 {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	g := decode[grantJSON](t, rec)
	if !strings.HasPrefix(g.ID, "cgr_") || g.ClientID != cl.ClientID || g.Audience != aud || !equal(g.Scope, []string{"read:things"}) {
		t.Errorf("grant = %+v", g)
	}
	if st := e.tokenStatus(cl.ClientID, cl.ClientSecret, aud); st != 200 {
		t.Errorf("token with grant: %d", st)
	}
	// A Management API grant through an alias audience is stored under the
	// Management API's identifier.
	rec = e.do(req{method: "POST", path: "/api/v2/client-grants", token: tok, contentType: "application/json",
		body: `{"client_id":"` + cl.ClientID + `","audience":"http://` + aliasHost + `/api/v2/","scope":[]}`})
	if got := decode[grantJSON](t, rec); rec.Code != 201 || got.Audience != mgmtAud || got.Scope == nil {
		t.Errorf("management grant via alias: %d %s", rec.Code, rec.Body)
	}

	// List and filters.
	count := func(query string) int {
		rec := e.do(req{method: "GET", path: "/api/v2/client-grants" + query, token: tok})
		if rec.Code != 200 {
			t.Fatalf("list %s: %d", query, rec.Code)
		}
		return len(decode[[]grantJSON](t, rec))
	}
	if n := count(""); n != 3 { // admin's, and the two above
		t.Errorf("all grants: %d, want 3", n)
	}
	if n := count("?client_id=" + cl.ClientID); n != 2 {
		t.Errorf("grants of the client: %d, want 2", n)
	}
	if n := count("?client_id=" + cl.ClientID + "&audience=" + url.QueryEscape(aud)); n != 1 {
		t.Errorf("grants of the client for aud: %d, want 1", n)
	}
	if n := count("?audience=" + url.QueryEscape(mgmtAud)); n != 2 {
		t.Errorf("management grants: %d, want 2", n)
	}

	// Patch the scope.
	rec = e.do(req{method: "PATCH", path: "/api/v2/client-grants/" + g.ID, token: tok, contentType: "application/json",
		body: `{"scope":["write:things"]}`})
	if got := decode[grantJSON](t, rec); rec.Code != 200 || !equal(got.Scope, []string{"write:things"}) {
		t.Errorf("patch: %d %s", rec.Code, rec.Body)
	}

	errs := []struct {
		name, method, path, body string
		status                   int
		message, code            string
	}{
		{"unknown client", "POST", "/api/v2/client-grants", `{"client_id":"nope","audience":"` + aud + `","scope":[]}`, 404, "The client does not exist", "inexistent_client"},
		{"unknown audience", "POST", "/api/v2/client-grants", `{"client_id":"` + cl.ClientID + `","audience":"https://nope/","scope":[]}`, 404, "No resource server found by specified identifier", "inexistent_resource_server"},
		{"undefined scope", "POST", "/api/v2/client-grants", `{"client_id":"` + e.adminID + `","audience":"` + aud + `","scope":["delete:things"]}`, 400,
			"Payload validation error: 'Scope not found: delete:things (not defined by the resource server " + aud + ")' on property scope.", "invalid_body"},
		{"duplicate", "POST", "/api/v2/client-grants", `{"client_id":"` + cl.ClientID + `","audience":"` + aud + `","scope":[]}`, 409, "A client grant for this client and audience already exists", "conflict"},
		{"missing audience", "POST", "/api/v2/client-grants", `{"client_id":"x","scope":[]}`, 400, "Payload validation error: 'Missing required property: audience'.", "invalid_body"},
		{"scope not array", "POST", "/api/v2/client-grants", `{"client_id":"x","audience":"y","scope":"read:things"}`, 400, "Payload validation error: 'Expected type array but found type string' on property scope.", "invalid_body"},
		{"patch undefined scope", "PATCH", "/api/v2/client-grants/" + g.ID, `{"scope":["x"]}`, 400, "", "invalid_body"},
		{"patch unknown field", "PATCH", "/api/v2/client-grants/" + g.ID, `{"audience":"x"}`, 400, "Payload validation error: 'Additional properties not allowed: audience'.", "invalid_body"},
		{"patch unknown", "PATCH", "/api/v2/client-grants/nope", `{"scope":[]}`, 404, "The client grant does not exist", "inexistent_client_grant"},
		{"delete unknown", "DELETE", "/api/v2/client-grants/nope", ``, 404, "The client grant does not exist", "inexistent_client_grant"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, e.do(req{method: tt.method, path: tt.path, token: tok, body: tt.body, contentType: "application/json"}), tt.status, tt.message, tt.code)
		})
	}

	if rec := e.do(req{method: "DELETE", path: "/api/v2/client-grants/" + g.ID, token: tok}); rec.Code != 204 {
		t.Errorf("delete: %d", rec.Code)
	}
	if st := e.tokenStatus(cl.ClientID, cl.ClientSecret, aud); st != 403 {
		t.Errorf("token after deleting the grant: %d, want 403", st)
	}
}
