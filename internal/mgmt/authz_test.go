package mgmt_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signet-auth/signet/internal/keygen"
	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/mgmt"
	"github.com/signet-auth/signet/internal/token"
)

// rule is who may call one Management API route, as Auth0 has it.
type rule struct {
	scopes []string // one of them suffices, or all of them with all
	all    bool
	// message is the 403's message.
	message string
	// open routes answer the same whatever the token (the catch-all's 404).
	open bool
	// public routes need no token: 200 whatever the token.
	public bool
}

// anyScope is a rule with Auth0's usual message.
func anyScope(scopes ...string) rule {
	return rule{scopes: scopes, message: "Insufficient scope, expected any of: " + strings.Join(scopes, ",")}
}

// authz is the authorization of every route API.Register adds, by pattern.
// TestAuthorizationMatrix fails if a route has no entry here.
var authz = map[string]rule{
	"GET /api/v2/keys/signing":          anyScope("read:signing_keys"),
	"GET /api/v2/keys/signing/{kid}":    anyScope("read:signing_keys"),
	"GET /api/v2/keys/signing/policy":   anyScope("read:signing_keys"),
	"GET /api/v2/keys/signing/events":   anyScope("read:signing_keys"),
	"PATCH /api/v2/keys/signing/policy": {scopes: []string{"update:signing_keys"}, message: "Insufficient scope; expected any of: update:signing_keys."},
	"POST /api/v2/keys/signing/rotate": {scopes: []string{"create:signing_keys", "update:signing_keys"}, all: true,
		message: "Insufficient scope; expected create:signing_keys and update:signing_keys."},
	"PUT /api/v2/keys/signing/{kid}/revoke": {scopes: []string{"update:signing_keys"}, message: "Insufficient scope; expected any of: update:signing_keys."},

	"POST /api/v2/clients":                    anyScope("create:clients"),
	"GET /api/v2/clients":                     anyScope("read:clients"),
	"GET /api/v2/clients/{id}":                anyScope("read:clients"),
	"PATCH /api/v2/clients/{id}":              anyScope("update:clients", "update:client_keys"),
	"DELETE /api/v2/clients/{id}":             anyScope("delete:clients"),
	"POST /api/v2/clients/{id}/rotate-secret": anyScope("update:client_keys"),

	"POST /api/v2/resource-servers":        anyScope("create:resource_servers"),
	"GET /api/v2/resource-servers":         anyScope("read:resource_servers"),
	"GET /api/v2/resource-servers/{id}":    anyScope("read:resource_servers"),
	"PATCH /api/v2/resource-servers/{id}":  anyScope("update:resource_servers"),
	"DELETE /api/v2/resource-servers/{id}": anyScope("delete:resource_servers"),

	"POST /api/v2/users":         anyScope("create:users"),
	"GET /api/v2/users":          anyScope("read:users"),
	"GET /api/v2/users-by-email": anyScope("read:users"),
	"GET /api/v2/users/{id}":     anyScope("read:users"),
	"PATCH /api/v2/users/{id}":   anyScope("update:users"),
	"DELETE /api/v2/users/{id}":  anyScope("delete:users"),

	"POST /api/v2/client-grants":        anyScope("create:client_grants"),
	"GET /api/v2/client-grants":         anyScope("read:client_grants"),
	"GET /api/v2/client-grants/{id}":    anyScope("read:client_grants"),
	"PATCH /api/v2/client-grants/{id}":  anyScope("update:client_grants"),
	"DELETE /api/v2/client-grants/{id}": anyScope("delete:client_grants"),

	"GET /api/v2/openapi.json": {public: true},

	"/api/v2/": {open: true},
}

// allows reports whether a token granted scopes passes r.
func (r rule) allows(scopes []string) bool {
	has := func(s string) bool { return slices.Contains(scopes, s) }
	if r.all {
		return !slices.ContainsFunc(r.scopes, func(s string) bool { return !has(s) })
	}
	return slices.ContainsFunc(r.scopes, has)
}

// bearer is one kind of token the matrix presents; scopes is nil for a
// token that must be refused whatever it grants.
type bearer struct {
	name   string
	scopes []string
	token  func() string
}

// TestAuthorizationMatrix walks every route API.Register adds with tokens
// holding each Management API scope alone, none, all of them, and with
// tokens that must not authenticate (another tenant's, expired, signed by a
// revoked or the next key, alg none, HS256 keyed by the public key). Each
// answer must be Auth0's: 401 for a bad token, 403 with the route's message
// for a missing scope, and neither otherwise.
func TestAuthorizationMatrix(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var all []string
	for _, s := range keyring.ManagementScopes {
		all = append(all, s.Value)
	}
	now := time.Now().Unix()
	full := func() token.Claims {
		return token.Claims{Issuer: issuer, Subject: e.adminID + "@clients", AuthorizedParty: e.adminID,
			Audience: token.Audience{mgmtAud}, IssuedAt: now, Expiry: now + 3600, Scope: strings.Join(all, " ")}
	}

	// A token of the key that is about to be revoked.
	revoked := e.signed(full())
	if _, err := e.ring.Rotate(ctx, "default", keyring.RotateOptions{RevokeCurrent: true, Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	other := e.tokenFor(otherHost, "http://"+otherHost+"/api/v2/", e.otherID, e.otherSecret, "")
	expired := e.signed(token.Claims{Scope: strings.Join(all, " "), IssuedAt: now - 7200, Expiry: now - 3600})

	bearers := []bearer{
		{"no scope", []string{}, func() string { return e.signed(token.Claims{}) }},
		{"all scopes", all, func() string { return e.signed(full()) }},
		{"no token", nil, func() string { return "" }},
		{"other tenant", nil, func() string { return other }},
		{"expired", nil, func() string { return expired }},
		{"revoked key", nil, func() string { return revoked }},
		// The key a rotation promotes changes as the matrix rotates: sign
		// with whichever is next at the time.
		{"next key", nil, func() string { return e.signedByNext(full()) }},
		{"alg none", nil, func() string { return unsigned(t, "none", full(), e.view("default").Current.KID, nil) }},
		{"HS256 keyed by the public key PEM", nil, func() string {
			cur := e.view("default").Current
			cert, err := x509.ParseCertificate(cur.Certificate)
			if err != nil {
				t.Fatal(err)
			}
			der, err := x509.MarshalPKIXPublicKey(cert.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			return unsigned(t, "HS256", full(), cur.KID, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
		}},
		{"HS256 keyed by the certificate PEM", nil, func() string {
			cur := e.view("default").Current
			return unsigned(t, "HS256", full(), cur.KID, []byte(keygen.CertPEM(cur.Certificate)))
		}},
		{"HS256 keyed by the JWK", nil, func() string {
			cur := e.view("default").Current
			return unsigned(t, "HS256", full(), cur.KID, publishedJWK(t, e.view("default").JWKS, cur.KID))
		}},
	}
	for _, s := range all {
		bearers = append(bearers, bearer{s, []string{s}, func() string { return e.signed(token.Claims{Scope: s}) }})
	}

	patterns := mgmt.Patterns(mgmt.New(mgmt.Config{}))
	for p := range authz {
		if !slices.Contains(patterns, p) {
			t.Errorf("authz has %q, which API.Register does not add", p)
		}
	}
	fill := strings.NewReplacer("{kid}", "nope", "{id}", "nope")
	for _, p := range patterns {
		rl, ok := authz[p]
		if !ok {
			t.Errorf("route %q has no entry in authz: say who may call it", p)
			continue
		}
		method, path, ok := strings.Cut(p, " ")
		if !ok {
			method, path = http.MethodGet, p
		}
		path = fill.Replace(path)
		body := ""
		if method == http.MethodPost || method == http.MethodPatch || method == http.MethodPut {
			body = "{}"
		}
		for _, b := range bearers {
			t.Run(p+"/"+b.name, func(t *testing.T) {
				rec := e.do(req{method: method, path: path, token: b.token(), body: body, contentType: "application/json"})
				switch {
				case rl.open:
					wantError(t, rec, http.StatusNotFound, "Not Found", "")
				case rl.public:
					if rec.Code != http.StatusOK {
						t.Errorf("public route: status %d, want 200: %.200s", rec.Code, rec.Body)
					}
				case b.scopes == nil:
					wantError(t, rec, http.StatusUnauthorized, "Invalid token", "")
				case !rl.allows(b.scopes):
					wantError(t, rec, http.StatusForbidden, rl.message, "insufficient_scope")
				case rec.Code == http.StatusUnauthorized || rec.Code == http.StatusForbidden:
					t.Errorf("status %d, want the route's answer: %s", rec.Code, rec.Body)
				}
			})
		}
	}
}

// unsigned builds a JWT of claims c with header alg and kid: with alg
// "none" and no signature, or with alg "HS256" and an HMAC keyed by key.
func unsigned(t *testing.T, alg string, c token.Claims, kid string, key []byte) string {
	t.Helper()
	head, _ := json.Marshal(map[string]string{"alg": alg, "typ": "JWT", "kid": kid})
	payload, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	in := base64.RawURLEncoding.EncodeToString(head) + "." + base64.RawURLEncoding.EncodeToString(payload)
	if key == nil {
		return in + "."
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(in))
	return in + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// publishedJWK returns the bytes of the JWK with kid in a JWKS.
func publishedJWK(t *testing.T, jwks []byte, kid string) []byte {
	t.Helper()
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(jwks, &set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		var id struct {
			KID string `json:"kid"`
		}
		json.Unmarshal(k, &id)
		if id.KID == kid {
			return k
		}
	}
	t.Fatalf("no JWK %s in %s", kid, jwks)
	return nil
}
