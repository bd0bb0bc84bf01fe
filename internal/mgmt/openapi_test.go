package mgmt_test

import (
	"encoding/json"
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
