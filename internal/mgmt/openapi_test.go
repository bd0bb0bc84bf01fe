package mgmt_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/signet-auth/signet/internal/mgmt"
	"github.com/signet-auth/signet/internal/mgmt/openapitest"
	"github.com/signet-auth/signet/internal/oidc"
)

// TestOpenAPIDocumentValid checks that the document is valid OpenAPI 3.1.
func TestOpenAPIDocumentValid(t *testing.T) {
	openapitest.New(t)
	var doc struct {
		OpenAPI string `json:"openapi"`
	}
	if err := json.Unmarshal(mgmt.OpenAPI(), &doc); err != nil || doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, %v", doc.OpenAPI, err)
	}
}

// TestOpenAPIServed checks that GET /api/v2/openapi.json serves the
// document, without a token, to every tenant.
func TestOpenAPIServed(t *testing.T) {
	e := newEnv(t)
	for _, h := range []string{host, otherHost} {
		rec := e.do(req{method: http.MethodGet, path: "/api/v2/openapi.json", host: h})
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d: %s", h, rec.Code, rec.Body)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Errorf("Content-Type = %q", ct)
		}
		if rec.Body.String() != string(mgmt.OpenAPI()) {
			t.Errorf("%s: served document differs from mgmt.OpenAPI()", h)
		}
	}
}

// TestOpenAPIRoutes checks that the document and the mux agree: every
// Management API route has an operation, and every operation reaches a
// route of its own (not the /api/v2/ catch-all, not a 404 or 405) on a mux
// with the oauth, mgmt and OpenID Connect handlers, as a server has.
func TestOpenAPIRoutes(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(mgmt.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths {
		for method := range item {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	for _, p := range mgmt.Patterns(mgmt.New(mgmt.Config{})) {
		if p == "/api/v2/" {
			continue // the catch-all
		}
		if !documented[p] {
			t.Errorf("route %q is not in the document", p)
		}
	}
	e := newEnv(t)
	oidc.New(oidc.Config{Ring: e.ring, Store: e.store}).Register(e.mux)
	fill := regexp.MustCompile(`\{[^}]+\}`)
	for op := range documented {
		method, path, _ := strings.Cut(op, " ")
		r := httptest.NewRequest(method, fill.ReplaceAllString(path, "x"), nil)
		r.Host = host
		if _, pattern := e.mux.Handler(r); pattern == "" || pattern == "/api/v2/" || !strings.HasPrefix(pattern, method+" ") {
			t.Errorf("%s reaches no route of its own (pattern %q)", op, pattern)
		}
	}
}
