package mgmt_test

import (
	"strings"
	"testing"
)

// TestClientTokenSettings checks jwt_configuration and refresh_token as
// node-auth0 sends and reads them: alg is the tenant's algorithm (shown,
// and the only one accepted), and the refresh-token modes Signet does not
// implement are refused rather than ignored.
func TestClientTokenSettings(t *testing.T) {
	e := newEnv(t)
	tok := e.token("")
	rec := e.do(req{method: "POST", path: "/api/v2/clients", token: tok, contentType: "application/json",
		body: `{"name":"Web","app_type":"regular_web","jwt_configuration":{"lifetime_in_seconds":7200,"alg":"RS256"},` +
			`"refresh_token":{"rotation_type":"rotating","expiration_type":"expiring","token_lifetime":86400}}`})
	type settings struct {
		ClientID string `json:"client_id"`
		JWT      struct {
			Lifetime int    `json:"lifetime_in_seconds"`
			Alg      string `json:"alg"`
		} `json:"jwt_configuration"`
		Refresh struct {
			Rotation   string `json:"rotation_type"`
			Expiration string `json:"expiration_type"`
			Lifetime   int    `json:"token_lifetime"`
		} `json:"refresh_token"`
	}
	c := decode[settings](t, rec)
	if rec.Code != 201 || c.JWT.Lifetime != 7200 || c.JWT.Alg != "RS256" || c.Refresh.Rotation != "rotating" ||
		c.Refresh.Expiration != "expiring" || c.Refresh.Lifetime != 86400 {
		t.Fatalf("create = %d %s", rec.Code, rec.Body)
	}
	for _, path := range []string{"/api/v2/clients/" + c.ClientID, "/api/v2/clients?include_totals=true"} {
		if rec := e.do(req{method: "GET", path: path, token: tok}); !strings.Contains(rec.Body.String(), `"alg":"RS256"`) {
			t.Errorf("GET %s: %s", path, rec.Body)
		}
	}

	for _, tt := range []struct {
		name, body string
		status     int
		message    string
	}{
		{"same alg", `{"jwt_configuration":{"alg":"RS256"}}`, 200, ""},
		{"rotating, expiring", `{"refresh_token":{"rotation_type":"rotating","expiration_type":"expiring"}}`, 200, ""},
		{"HS256", `{"jwt_configuration":{"alg":"HS256"}}`, 400,
			`Payload validation error: 'Unsupported value "HS256": this tenant signs with RS256 only' on property jwt_configuration.alg.`},
		{"alg not a string", `{"jwt_configuration":{"alg":256}}`, 400, ""},
		{"non-rotating", `{"refresh_token":{"rotation_type":"non-rotating"}}`, 400,
			`Payload validation error: 'Unsupported value "non-rotating": Signet always rotates refresh tokens' on property refresh_token.rotation_type.`},
		{"non-expiring", `{"refresh_token":{"expiration_type":"non-expiring"}}`, 400, ""},
		{"empty rotation type", `{"refresh_token":{"rotation_type":""}}`, 400, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.do(req{method: "PATCH", path: "/api/v2/clients/" + c.ClientID, token: tok, contentType: "application/json", body: tt.body})
			if tt.status == 200 {
				if rec.Code != 200 {
					t.Errorf("%d %s", rec.Code, rec.Body)
				}
				return
			}
			wantError(t, rec, tt.status, tt.message, "invalid_body")
		})
	}
	// A refused update changed nothing.
	if got := decode[settings](t, e.do(req{method: "GET", path: "/api/v2/clients/" + c.ClientID, token: tok})); got.JWT.Lifetime != 7200 || got.Refresh.Lifetime != 86400 {
		t.Errorf("after refused updates: %+v", got)
	}
}
