package main

import (
	"strings"
	"testing"
)

// TestMetrics checks that `signet serve` answers GET /metrics with the
// requests it served and the key changes it made.
func TestMetrics(t *testing.T) {
	in := start(t, t.TempDir())
	in.jwks()
	tok := in.token(in.credentials())
	if status, body, _ := in.call("POST", "/api/v2/keys/signing/rotate", tok, nil); status != 201 {
		t.Fatalf("rotate = %d %s", status, body)
	}

	status, body, h := in.call("GET", "/metrics", "", nil)
	if status != 200 {
		t.Fatalf("GET /metrics = %d %s", status, body)
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("GET /metrics Content-Type = %q", ct)
	}
	text := string(body)
	for _, line := range []string{
		`signet_http_requests_total{code="200",route="GET /.well-known/jwks.json"} 1`,
		`signet_http_requests_total{code="200",route="POST /oauth/token"} 1`,
		`signet_signing_key_changes_total{actor_kind="api",change="rotate"} 1`,
		`signet_tenants 1`,
	} {
		if !strings.Contains(text, "\n"+line+"\n") {
			t.Errorf("the metrics lack %q:\n%s", line, text)
		}
	}
	if !strings.Contains(text, "\nsignet_key_pool_ready{alg=\"RS256\"} ") {
		t.Errorf("the metrics lack signet_key_pool_ready for RS256:\n%s", text)
	}
}
