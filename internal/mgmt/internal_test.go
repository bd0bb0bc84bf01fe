package mgmt_test

import (
	"strings"
	"testing"
)

// TestInternalError checks that user errors are not logged, and that an
// internal error is logged and answered without details.
func TestInternalError(t *testing.T) {
	e := newEnv(t)
	tok := e.token("")
	wantError(t, e.do(req{method: "GET", path: "/api/v2/clients/nope", token: tok}), 404, "The client does not exist", "")
	wantError(t, e.do(req{method: "POST", path: "/api/v2/clients", token: tok, body: "{"}), 400, "", "")
	wantError(t, e.do(req{method: "GET", path: "/api/v2/keys/signing", token: "x"}), 401, "", "")
	if logs := e.logged(); logs != "" {
		t.Errorf("user errors were logged: %s", logs)
	}

	e.checkNoPrivateMaterial() // the store is about to go
	e.store.Close()
	rec := e.do(req{method: "GET", path: "/api/v2/clients", token: tok})
	wantError(t, rec, 500, "Internal error.", "")
	if got := rec.Body.String(); got != `{"statusCode":500,"error":"Internal Server Error","message":"Internal error."}` {
		t.Errorf("body = %s", got)
	}
	logs := e.logged()
	if !strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, "/api/v2/clients") {
		t.Errorf("internal error not logged: %q", logs)
	}
	if strings.Contains(logs, tok) || strings.Contains(logs, e.adminSecret) {
		t.Errorf("log holds a credential: %q", logs)
	}
}
