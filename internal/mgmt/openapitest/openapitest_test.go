package openapitest_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/signet-auth/signet/internal/mgmt/openapitest"
)

// TestCheck checks that the validator accepts answers as the document
// describes them and refuses any other: it is what makes the API tests
// fail when the code and the document drift apart.
func TestCheck(t *testing.T) {
	v := openapitest.New(t)
	const jsonCT = "application/json; charset=utf-8"
	key := `{"kid":"k1","cert":"c","pkcs7":"p","current":true,"next":false,"previous":false,` +
		`"fingerprint":"f","thumbprint":"t","revoked":false,"current_since":"2026-01-02T03:04:05Z"}`
	tests := []struct {
		name         string
		method, path string
		status       int
		ct           string
		body         string
		ok           bool
	}{
		{"key list", "GET", "/api/v2/keys/signing", 200, jsonCT, "[" + key + "]", true},
		{"one key", "GET", "/api/v2/keys/signing/k1", 200, jsonCT, key, true},
		{"policy, not a key", "GET", "/api/v2/keys/signing/policy", 200, jsonCT,
			`{"rotation_period":0,"revoke_previous_after":0,"min_next_age":0}`, true},
		{"key where the policy goes", "GET", "/api/v2/keys/signing/policy", 200, jsonCT, key, false},
		{"undocumented field", "GET", "/api/v2/keys/signing/k1", 200, jsonCT, strings.Replace(key, `"kid"`, `"private":"x","kid"`, 1), false},
		{"missing field", "GET", "/api/v2/keys/signing/k1", 200, jsonCT, strings.Replace(key, `"revoked":false,`, "", 1), false},
		{"wrong type", "GET", "/api/v2/keys/signing/k1", 200, jsonCT, strings.Replace(key, `"current":true`, `"current":"yes"`, 1), false},
		{"timestamp not a date-time", "GET", "/api/v2/keys/signing/k1", 200, jsonCT, strings.Replace(key, "2026-01-02T03:04:05Z", "", 1), false},
		{"undocumented status", "GET", "/api/v2/keys/signing/k1", 418, jsonCT, `{"statusCode":418,"error":"I'm a teapot","message":"x"}`, false},
		{"error body", "GET", "/api/v2/keys/signing/k1", 404, jsonCT,
			`{"statusCode":404,"error":"Not Found","message":"x","errorCode":"inexistent_signing_key"}`, true},
		{"error body with extra field", "GET", "/api/v2/keys/signing/k1", 404, jsonCT,
			`{"statusCode":404,"error":"Not Found","message":"x","detail":"y"}`, false},
		{"wrong content type", "GET", "/api/v2/keys/signing/k1", 200, "text/plain", key, false},
		{"body where none is documented", "DELETE", "/api/v2/clients/x", 204, "", "{}", false},
		{"no content", "DELETE", "/api/v2/clients/x", 204, "", "", true},
		{"catch-all 404", "GET", "/api/v2/nope", 404, jsonCT, `{"statusCode":404,"error":"Not Found","message":"Not Found"}`, true},
		{"catch-all 404, not Auth0's body", "GET", "/api/v2/nope", 404, "text/plain", "404 page not found", false},
		{"undocumented path answered 200", "GET", "/api/v2/nope", 200, jsonCT, `{}`, false},
		{"mux 404 outside /api/v2", "GET", "/nope", 404, "text/plain; charset=utf-8", "404 page not found\n", true},
		{"jwks", "GET", "/.well-known/jwks.json", 200, jsonCT, `{"keys":[{"kty":"RSA","kid":"k","use":"sig","alg":"RS256","n":"x","e":"AQAB"}]}`, true},
		{"jwks with a private member", "GET", "/.well-known/jwks.json", 200, jsonCT, `{"keys":[{"kty":"RSA","kid":"k","use":"sig","alg":"RS256","n":"x","e":"AQAB","d":"x"}]}`, false},
		{"token error", "POST", "/oauth/token", 401, jsonCT, `{"error":"invalid_client","error_description":"x"}`, true},
		{"pem", "GET", "/pem/some-client", 200, "application/x-pem-file", "-----BEGIN CERTIFICATE-----\n", true},
		{"login page", "GET", "/login", 200, "text/html; charset=utf-8", "<!doctype html><form></form>", true},
		{"login page as JSON", "GET", "/login", 200, jsonCT, "{}", false},
		{"userinfo", "GET", "/userinfo", 200, jsonCT, `{"sub":"u1","email":"a@example.com","email_verified":true}`, true},
		{"userinfo with an undocumented claim", "GET", "/userinfo", 200, jsonCT, `{"sub":"u1","picture":"x"}`, false},
		{"userinfo without sub", "GET", "/userinfo", 200, jsonCT, `{"email":"a@example.com"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path, nil)
			r.Host = "localhost:8080"
			h := http.Header{}
			if tt.ct != "" {
				h.Set("Content-Type", tt.ct)
			}
			err := v.Check(r, tt.status, h, []byte(tt.body))
			if (err == nil) != tt.ok {
				t.Errorf("Check = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

// TestCheckRedirect checks redirects: Location is required, and only a
// redirect may come without a body or Content-Type (as http.Redirect
// answers a POST).
func TestCheckRedirect(t *testing.T) {
	v := openapitest.New(t)
	const htmlCT = "text/html; charset=utf-8"
	tests := []struct {
		name         string
		method, path string
		status       int
		location, ct string
		body         string
		ok           bool
	}{
		{"GET redirect", "GET", "/authorize", 302, "http://app.example/cb?code=x", htmlCT, `<a href="http://app.example/cb?code=x">Found</a>.`, true},
		{"POST redirect without a body", "POST", "/login", 303, "/authorize?client_id=x", "", "", true},
		{"redirect without Location", "GET", "/authorize", 302, "", htmlCT, `<a href="">Found</a>.`, false},
		{"undocumented redirect status", "POST", "/login", 302, "/", "", "", false},
		{"page without Content-Type", "GET", "/login", 200, "", "", "<form>", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path, nil)
			r.Host = "localhost:8080"
			h := http.Header{}
			if tt.ct != "" {
				h.Set("Content-Type", tt.ct)
			}
			if tt.location != "" {
				h.Set("Location", tt.location)
			}
			err := v.Check(r, tt.status, h, []byte(tt.body))
			if (err == nil) != tt.ok {
				t.Errorf("Check = %v, want ok %v", err, tt.ok)
			}
		})
	}
}
