package mgmt_test

import (
	"strings"
	"testing"
)

// TestClientKeysScope checks that only update:client_keys changes a
// client's credentials: a client holding update:clients alone can neither
// rotate another client's secret (and get it) nor change how it
// authenticates, while it still updates the client's other settings.
func TestClientKeysScope(t *testing.T) {
	e := newEnv(t)
	// The victim is the admin client, granted every scope; the attacker a
	// client granted update:clients only.
	attackerID, attackerSecret := e.re.AdminClient(t, "default", "http://"+host+"/api/v2/")
	weak := e.tokenFor(host, mgmtAud, attackerID, attackerSecret, "update:clients")
	keys := e.tokenFor(host, mgmtAud, attackerID, attackerSecret, "update:client_keys")
	both := e.tokenFor(host, mgmtAud, attackerID, attackerSecret, "update:clients update:client_keys")
	victim := "/api/v2/clients/" + e.adminID
	const need = "Insufficient scope, expected any of: update:client_keys"

	tests := []struct {
		name, method, path, token, body string
		status                          int
		message                         string
	}{
		{"rotate-secret with update:clients", "POST", victim + "/rotate-secret", weak, "", 403, need},
		{"auth method with update:clients", "PATCH", victim, weak, `{"token_endpoint_auth_method":"none"}`, 403, need},
		{"auth method and name with update:clients", "PATCH", victim, weak, `{"name":"x","token_endpoint_auth_method":"client_secret_basic"}`, 403, need},
		{"secret with update:clients", "PATCH", victim, weak, `{"client_secret":"chosen-by-the-attacker-0123456789-0123456789"}`, 403, need},
		{"name with update:clients", "PATCH", victim, weak, `{"name":"renamed"}`, 200, ""},
		{"name with update:client_keys", "PATCH", victim, keys, `{"name":"admin"}`, 200, ""},
		{"auth method with update:client_keys", "PATCH", victim, keys, `{"token_endpoint_auth_method":"client_secret_basic"}`, 200, ""},
		{"auth method with both", "PATCH", victim, both, `{"token_endpoint_auth_method":"client_secret_post"}`, 200, ""},
		{"secret with update:client_keys", "PATCH", victim, keys, `{"client_secret":"chosen-0123456789-0123456789-0123456789"}`, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.do(req{method: tt.method, path: tt.path, token: tt.token, body: tt.body, contentType: "application/json"})
			if tt.status != 200 {
				code := ""
				if tt.status == 403 {
					code = "insufficient_scope"
				}
				wantError(t, rec, tt.status, tt.message, code)
				return
			}
			if rec.Code != 200 || strings.Contains(rec.Body.String(), "client_secret\"") {
				t.Errorf("%d %s", rec.Code, rec.Body)
			}
		})
	}
	// The victim's secret and settings survived: it still gets a token.
	if st := e.tokenStatus(e.adminID, e.adminSecret, mgmtAud); st != 200 {
		t.Errorf("the victim's secret: token status %d, want 200", st)
	}
	// update:client_keys rotates the secret.
	if rec := e.do(req{method: "POST", path: victim + "/rotate-secret", token: keys}); rec.Code != 200 {
		t.Errorf("rotate-secret with update:client_keys: %d %s", rec.Code, rec.Body)
	}
}
