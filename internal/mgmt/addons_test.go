package mgmt_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// addonsJSON is the addons of a client object.
type addonsJSON struct {
	Addons map[string]map[string]any `json:"addons"`
}

func TestClientAddons(t *testing.T) {
	e := newEnv(t)
	tok := e.token("")
	rec := e.do(req{method: "POST", path: "/api/v2/clients", token: tok, contentType: "application/json",
		body: `{"name":"SP","app_type":"regular_web","callbacks":["https://sp.example.com/acs"],
		"addons":{"samlp":{"audience":"urn:sp","recipient":"https://sp.example.com/acs","signResponse":true,
		"mappings":{"email":"mail"},"nameIdentifierProbes":["mail"],"lifetimeInSeconds":600,
		"logout":{"callback":"https://sp.example.com/slo","slo_enabled":true}},"wsfed":{}}}`})
	if rec.Code != 201 {
		t.Fatalf("create = %d %s", rec.Code, rec.Body)
	}
	c := decode[clientJSON](t, rec)
	got := decode[addonsJSON](t, rec).Addons
	if got["samlp"]["audience"] != "urn:sp" || got["samlp"]["signResponse"] != true || got["samlp"]["lifetimeInSeconds"] != float64(600) ||
		got["samlp"]["mappings"].(map[string]any)["email"] != "mail" || got["wsfed"] == nil {
		t.Fatalf("addons = %v", got)
	}
	// GET shows the same; PATCH replaces the whole addons value.
	rec = e.do(req{method: "GET", path: "/api/v2/clients/" + c.ClientID, token: tok})
	if again := decode[addonsJSON](t, rec).Addons; again["samlp"]["recipient"] != "https://sp.example.com/acs" {
		t.Fatalf("GET addons = %v", again)
	}
	rec = e.do(req{method: "PATCH", path: "/api/v2/clients/" + c.ClientID, token: tok, contentType: "application/json",
		body: `{"addons":{"wsfed":{"realm":"urn:rp"}}}`})
	if got := decode[addonsJSON](t, rec).Addons; rec.Code != 200 || got["samlp"] != nil || got["wsfed"]["realm"] != "urn:rp" {
		t.Fatalf("PATCH = %d %v", rec.Code, got)
	}
	rec = e.do(req{method: "PATCH", path: "/api/v2/clients/" + c.ClientID, token: tok, contentType: "application/json", body: `{"addons":null}`})
	var raw map[string]json.RawMessage
	json.Unmarshal(rec.Body.Bytes(), &raw)
	if rec.Code != 200 || string(raw["addons"]) != "{}" {
		t.Fatalf("PATCH null = %d addons %s", rec.Code, raw["addons"])
	}

	for _, tc := range []struct {
		name, addons, message string
	}{
		{"unknown add-on", `{"aws":{}}`, "Payload validation error: 'Additional properties not allowed: aws'."},
		{"unknown samlp option", `{"samlp":{"createUpnClaim":true}}`, "Payload validation error: 'Additional properties not allowed: createUpnClaim'."},
		{"unknown logout option", `{"samlp":{"logout":{"url":"x"}}}`, "Payload validation error: 'Additional properties not allowed: url' on property addons.samlp."},
		{"wrong type", `{"samlp":{"signResponse":"yes"}}`, "Payload validation error: 'Expected type boolean but found type string' on property addons.samlp.signResponse."},
		{"not an object", `{"samlp":[]}`, "Payload validation error: 'Expected type object but found type array' on property addons.samlp."},
		{"sha1 refused", `{"samlp":{"signatureAlgorithm":"rsa-sha1","digestAlgorithm":"sha1"}}`,
			"Payload validation error: 'addons.samlp: SHA-1 signatures are refused; use rsa-sha256 and sha256, or set allowSHA1 to true to accept the risk.'"},
		{"mixed hashes", `{"samlp":{"signatureAlgorithm":"rsa-sha256","digestAlgorithm":"sha1","allowSHA1":true}}`,
			"Payload validation error: 'addons.samlp.digestAlgorithm sha1 does not match signatureAlgorithm rsa-sha256: Signet signs with one hash for both.'"},
		{"unknown algorithm", `{"samlp":{"signatureAlgorithm":"rsa-md5"}}`,
			"Payload validation error: 'addons.samlp.signatureAlgorithm must be rsa-sha256 or rsa-sha1, not \"rsa-md5\".'"},
		{"relative recipient", `{"samlp":{"recipient":"/acs"}}`,
			"Payload validation error: 'addons.samlp.recipient must be an absolute http or https URL without a fragment, of at most 2048 bytes.'"},
		{"javascript callback", `{"samlp":{"logout":{"callback":"javascript:alert(1)"}}}`,
			"Payload validation error: 'addons.samlp.logout.callback must be an absolute http or https URL without a fragment, of at most 2048 bytes.'"},
		{"lifetime", `{"samlp":{"lifetimeInSeconds":999999999}}`,
			"Payload validation error: 'addons.samlp.lifetimeInSeconds must be between 1 and 604800.'"},
		{"unknown profile field", `{"samlp":{"mappings":{"password":"pw"}}}`,
			"Payload validation error: 'addons.samlp.mappings: \"password\" is not a profile field; use one of user_id, email, email_verified, name, nickname, given_name, family_name, upn.'"},
		{"control character", `{"samlp":{"audience":"urn:a\u0000b"}}`,
			"Payload validation error: 'addons.samlp.audience must be at most 1024 characters without control characters.'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := e.do(req{method: "PATCH", path: "/api/v2/clients/" + c.ClientID, token: tok, contentType: "application/json",
				body: `{"addons":` + tc.addons + `}`})
			wantError(t, rec, 400, tc.message, "")
			if strings.Contains(tc.name, "sha1") {
				ok := e.do(req{method: "PATCH", path: "/api/v2/clients/" + c.ClientID, token: tok, contentType: "application/json",
					body: `{"addons":{"samlp":{"signatureAlgorithm":"rsa-sha1","digestAlgorithm":"sha1","allowSHA1":true}}}`})
				if ok.Code != 200 {
					t.Fatalf("allowSHA1 = %d %s", ok.Code, ok.Body)
				}
			}
		})
	}
}
