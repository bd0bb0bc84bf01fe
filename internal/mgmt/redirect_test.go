package mgmt_test

import (
	"encoding/json"
	"fmt"
	"testing"
)

// TestClientURLSchemes checks that callbacks and allowed_logout_urls refuse
// the schemes a browser runs or reads (javascript:, data:, vbscript:,
// file:, in any case and with the tabs, newlines and leading controls
// browsers ignore) with Auth0's 400 naming the property, on create and on
// update, and keep http(s) and native apps' custom schemes.
func TestClientURLSchemes(t *testing.T) {
	e := newEnv(t)
	tok := e.token("create:clients update:clients")
	rec := e.do(req{method: "POST", path: "/api/v2/clients", token: tok, contentType: "application/json", body: `{"name":"app"}`})
	if rec.Code != 201 {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	id := decode[clientJSON](t, rec).ClientID
	for _, tc := range []struct {
		url    string
		scheme string // "" = accepted
	}{
		{"https://app.example/callback", ""},
		{"http://127.0.0.1:3000/cb", ""},
		{"com.example.app://callback", ""},
		{"com.example.app:/oauth2redirect", ""},
		{"javascript:alert(1)", "javascript:"},
		{"JavaScript:alert(document.domain)", "javascript:"},
		{" javascript:alert(1)", "javascript:"},
		{"\x01javascript:alert(1)", "javascript:"},
		{"java\tscript:alert(1)", "javascript:"},
		{"java\nscript:alert(1)", "javascript:"},
		{"javascript://%0aalert(1)", "javascript:"},
		{"data:text/html,<script>alert(1)</script>", "data:"},
		{"DATA:text/html;base64,PHNjcmlwdD4=", "data:"},
		{"vbscript:msgbox(1)", "vbscript:"},
		{"file:///etc/passwd", "file:"},
	} {
		for _, field := range []string{"callbacks", "allowed_logout_urls"} {
			body, _ := json.Marshal(map[string]any{"name": "x", field: []string{"https://ok.example/", tc.url}})
			patch, _ := json.Marshal(map[string]any{field: []string{"https://ok.example/", tc.url}})
			for _, call := range []req{
				{method: "POST", path: "/api/v2/clients", body: string(body)},
				{method: "PATCH", path: "/api/v2/clients/" + id, body: string(patch)},
			} {
				t.Run(fmt.Sprintf("%s %s %q", call.method, field, tc.url), func(t *testing.T) {
					call.token, call.contentType = tok, "application/json"
					rec := e.do(call)
					if tc.scheme == "" {
						if rec.Code != 200 && rec.Code != 201 {
							t.Fatalf("%d %s, want it accepted", rec.Code, rec.Body)
						}
						return
					}
					wantError(t, rec, 400, fmt.Sprintf("Payload validation error: 'URL scheme %s is not allowed: "+
						"browsers run or read it instead of going to it' on property %s[1].", tc.scheme, field), "invalid_body")
				})
			}
		}
	}
}
