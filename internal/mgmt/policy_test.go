package mgmt_test

import (
	"net/http"
	"testing"
	"time"
)

type policyJSON struct {
	RotationPeriod      *int64     `json:"rotation_period"`
	RevokePreviousAfter *int64     `json:"revoke_previous_after"`
	MinNextAge          *int64     `json:"min_next_age"`
	NextRotation        *time.Time `json:"next_rotation"`
	RotationHeld        string     `json:"rotation_held"`
}

func TestPolicy(t *testing.T) {
	e := newEnv(t)
	all := e.token("")
	const path = "/api/v2/keys/signing/policy"

	got := decode[policyJSON](t, e.do(req{method: "GET", path: path, token: all}))
	if got.RotationPeriod == nil || *got.RotationPeriod != 0 || got.NextRotation != nil {
		t.Fatalf("default policy = %+v, want manual only (Auth0's behaviour)", got)
	}

	rec := e.do(req{method: "PATCH", path: path, token: all, contentType: "application/json",
		body: `{"rotation_period":2592000,"revoke_previous_after":604800}`})
	if rec.Code != http.StatusOK {
		t.Fatalf("PATCH = %d %s", rec.Code, rec.Body)
	}
	got = decode[policyJSON](t, rec)
	if *got.RotationPeriod != 2592000 || *got.RevokePreviousAfter != 604800 || *got.MinNextAge != 0 || got.NextRotation == nil {
		t.Errorf("after PATCH = %+v", got)
	}
	if p := e.view("default").Tenant.Policy; p.RotationPeriod != 30*24*time.Hour || p.RevokePreviousAfter != 7*24*time.Hour {
		t.Errorf("stored policy = %+v", p)
	}
	// A partial PATCH keeps the other fields.
	got = decode[policyJSON](t, e.do(req{method: "PATCH", path: path, token: all, body: `{"min_next_age":600}`}))
	if *got.RotationPeriod != 2592000 || *got.MinNextAge != 600 {
		t.Errorf("after partial PATCH = %+v", got)
	}

	for _, tt := range []struct {
		name, body string
		status     int
	}{
		{"negative", `{"rotation_period":-1}`, 400},
		{"not an integer", `{"rotation_period":"30d"}`, 400},
		{"unknown field", `{"rotation":1}`, 400},
		{"next age not shorter than the period", `{"rotation_period":600}`, 400},
		{"not JSON", `{`, 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.do(req{method: "PATCH", path: path, token: all, contentType: "application/json", body: tt.body})
			if rec.Code != tt.status {
				t.Errorf("PATCH %s = %d %s, want %d", tt.body, rec.Code, rec.Body, tt.status)
			}
		})
	}
	if p := e.view("default").Tenant.Policy; p.RotationPeriod != 30*24*time.Hour || p.MinNextAge != 10*time.Minute {
		t.Errorf("refused PATCHes changed the policy: %+v", p)
	}

	read := e.token("read:signing_keys")
	if rec := e.do(req{method: "PATCH", path: path, token: read, body: `{"rotation_period":0}`}); rec.Code != http.StatusForbidden {
		t.Errorf("PATCH with read:signing_keys = %d, want 403", rec.Code)
	}
	if rec := e.do(req{method: "GET", path: path, token: read}); rec.Code != http.StatusOK {
		t.Errorf("GET with read:signing_keys = %d, want 200", rec.Code)
	}
	if rec := e.do(req{method: "GET", path: path}); rec.Code != http.StatusUnauthorized {
		t.Errorf("GET without a token = %d, want 401", rec.Code)
	}
	// The other tenant's policy is untouched.
	if p := e.view("other").Tenant.Policy; p.RotationPeriod != 0 {
		t.Errorf("tenant other's policy changed: %+v", p)
	}
}
