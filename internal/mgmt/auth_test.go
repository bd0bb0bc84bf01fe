package mgmt_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/signet-auth/signet/internal/token"
)

func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	good := e.token("")
	head, _, _ := strings.Cut(good, ".")
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))
	now := time.Now().Unix()

	tests := []struct {
		name, auth string
		host       string
		wantStatus int
	}{
		{"valid", "Bearer " + good, "", 200},
		{"lower-case scheme", "bearer " + good, "", 200},
		{"alias host, token from the primary host", "Bearer " + good, aliasHost, 200},
		{"token minted at the alias host", "Bearer " + e.tokenFor(aliasHost, "http://"+aliasHost+"/api/v2/", e.adminID, e.adminSecret, ""), "", 200},
		{"no token", "", "", 401},
		{"empty bearer", "Bearer ", "", 401},
		{"basic scheme", "Basic YTpi", "", 401},
		{"garbage", "Bearer not.a.jwt", "", 401},
		{"header only", "Bearer " + head, "", 401},
		{"bad signature", "Bearer " + tampered, "", 401},
		{"expired", "Bearer " + e.signed(token.Claims{Scope: "read:signing_keys", IssuedAt: now - 7200, Expiry: now - 3600}), "", 401},
		{"issued in the future", "Bearer " + e.signed(token.Claims{Scope: "read:signing_keys", IssuedAt: now + 3600, Expiry: now + 7200}), "", 401},
		{"wrong audience", "Bearer " + e.signed(token.Claims{Scope: "read:signing_keys", Audience: token.Audience{"https://api.example.com/"}}), "", 401},
		{"other host's audience", "Bearer " + e.signed(token.Claims{Scope: "read:signing_keys", Audience: token.Audience{"http://evil.example/api/v2/"}}), "", 401},
		{"wrong issuer", "Bearer " + e.signed(token.Claims{Scope: "read:signing_keys", Issuer: "http://evil.example/"}), "", 401},
		{"other tenant's token", "Bearer " + e.tokenFor(otherHost, "http://"+otherHost+"/api/v2/", e.otherID, e.otherSecret, ""), "", 401},
		{"this tenant's token at the other tenant", "Bearer " + good, otherHost, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := req{method: "GET", path: "/api/v2/keys/signing", host: tt.host}
			if tt.auth != "" {
				r.header = map[string]string{"Authorization": tt.auth}
			}
			rec := e.do(r)
			if tt.wantStatus == 200 {
				if rec.Code != 200 {
					t.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
				return
			}
			wantError(t, rec, 401, "Invalid token", "")
			if got := rec.Body.String(); got != `{"statusCode":401,"error":"Unauthorized","message":"Invalid token","attributes":{"error":"Invalid token"}}` {
				t.Errorf("body = %s", got)
			}
			ch := rec.Header().Get("WWW-Authenticate")
			if !strings.HasPrefix(ch, `Bearer realm="http://`) {
				t.Errorf("WWW-Authenticate = %q", ch)
			}
			if presented := strings.HasPrefix(strings.ToLower(tt.auth), "bearer ") && len(tt.auth) > 7; presented != strings.Contains(ch, `error="invalid_token"`) {
				t.Errorf("WWW-Authenticate = %q (token presented: %v)", ch, presented)
			}
		})
	}
	// The other tenant's own token works there.
	if rec := e.do(req{method: "GET", path: "/api/v2/keys/signing", host: otherHost,
		token: e.tokenFor(otherHost, "http://"+otherHost+"/api/v2/", e.otherID, e.otherSecret, "")}); rec.Code != 200 {
		t.Errorf("other tenant with its own token: %d", rec.Code)
	}
}

func TestScopes(t *testing.T) {
	e := newEnv(t)
	kid := e.view("default").Current.KID
	// A token with every scope but the ones each endpoint needs is simulated
	// by a token with an unrelated scope.
	weak := e.signed(token.Claims{Scope: "read:stats"})
	tests := []struct {
		method, path, message string
	}{
		{"GET", "/api/v2/keys/signing", "Insufficient scope, expected any of: read:signing_keys"},
		{"GET", "/api/v2/keys/signing/" + kid, "Insufficient scope, expected any of: read:signing_keys"},
		{"POST", "/api/v2/keys/signing/rotate", "Insufficient scope; expected create:signing_keys and update:signing_keys."},
		{"PUT", "/api/v2/keys/signing/" + kid + "/revoke", "Insufficient scope; expected any of: update:signing_keys."},
		{"POST", "/api/v2/clients", "Insufficient scope, expected any of: create:clients"},
		{"GET", "/api/v2/clients", "Insufficient scope, expected any of: read:clients"},
		{"GET", "/api/v2/clients/x", "Insufficient scope, expected any of: read:clients"},
		{"PATCH", "/api/v2/clients/x", "Insufficient scope, expected any of: update:clients,update:client_keys"},
		{"DELETE", "/api/v2/clients/x", "Insufficient scope, expected any of: delete:clients"},
		{"POST", "/api/v2/clients/x/rotate-secret", "Insufficient scope, expected any of: update:client_keys"},
		{"POST", "/api/v2/resource-servers", "Insufficient scope, expected any of: create:resource_servers"},
		{"GET", "/api/v2/resource-servers", "Insufficient scope, expected any of: read:resource_servers"},
		{"GET", "/api/v2/resource-servers/x", "Insufficient scope, expected any of: read:resource_servers"},
		{"PATCH", "/api/v2/resource-servers/x", "Insufficient scope, expected any of: update:resource_servers"},
		{"DELETE", "/api/v2/resource-servers/x", "Insufficient scope, expected any of: delete:resource_servers"},
		{"POST", "/api/v2/client-grants", "Insufficient scope, expected any of: create:client_grants"},
		{"GET", "/api/v2/client-grants", "Insufficient scope, expected any of: read:client_grants"},
		{"GET", "/api/v2/client-grants/x", "Insufficient scope, expected any of: read:client_grants"},
		{"PATCH", "/api/v2/client-grants/x", "Insufficient scope, expected any of: update:client_grants"},
		{"DELETE", "/api/v2/client-grants/x", "Insufficient scope, expected any of: delete:client_grants"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := e.do(req{method: tt.method, path: tt.path, token: weak})
			wantError(t, rec, 403, tt.message, "insufficient_scope")
		})
	}
	// Rotate needs both scopes: either alone is not enough.
	for _, s := range []string{"create:signing_keys", "update:signing_keys", "read:signing_keys update:signing_keys"} {
		wantError(t, e.do(req{method: "POST", path: "/api/v2/keys/signing/rotate", token: e.token(s)}), 403,
			"Insufficient scope; expected create:signing_keys and update:signing_keys.", "insufficient_scope")
	}
	if rec := e.do(req{method: "POST", path: "/api/v2/keys/signing/rotate", token: e.token("create:signing_keys update:signing_keys")}); rec.Code != 201 {
		t.Errorf("rotate with both scopes: %d %s", rec.Code, rec.Body)
	}
	// A scope check comes before a 404: read:signing_keys on an unknown kid.
	wantError(t, e.do(req{method: "GET", path: "/api/v2/keys/signing/nope", token: e.token("read:signing_keys")}), 404, "Signing key not found.", "")
}

func TestUnknownRoutes(t *testing.T) {
	e := newEnv(t)
	tok := e.token("")
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/api/v2/nope", 404, ""},
		{"GET", "/api/v2/keys/signing/a/b", 404, ""},
		{"DELETE", "/api/v2/keys/signing", 405, "GET, HEAD"},
		{"GET", "/api/v2/keys/signing/x/revoke", 405, "PUT"},
		{"PUT", "/api/v2/clients", 405, "GET, HEAD, POST"},
		{"POST", "/api/v2/client-grants/x", 405, "GET, HEAD, PATCH, DELETE"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := e.do(req{method: tt.method, path: tt.path, token: tok})
			wantError(t, rec, tt.status, http.StatusText(tt.status), "")
			if got := rec.Header().Get("Allow"); got != tt.allow {
				t.Errorf("Allow = %q, want %q", got, tt.allow)
			}
		})
	}
}
