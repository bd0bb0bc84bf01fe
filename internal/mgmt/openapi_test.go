package mgmt_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/signet-auth/signet/internal/mgmt"
	"github.com/signet-auth/signet/internal/mgmt/openapitest"
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
		if string(rec.Body.Bytes()) != string(mgmt.OpenAPI()) {
			t.Errorf("%s: served document differs from mgmt.OpenAPI()", h)
		}
	}
}
