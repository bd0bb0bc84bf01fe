package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
)

// TestActors checks the actors docs/api.md promises, with `signet serve`
// and the CLI: the first start creates tenant default as "system", the CLI
// acts as "cli", a Management API client by its client id, the dashboard
// as "admin:<email>"; /metrics counts the dashboard's rotation as
// actor_kind="dashboard" and the API's as "api".
func TestActors(t *testing.T) {
	in := start(t, t.TempDir())
	creds := in.credentials()
	tok := in.token(creds)

	if _, err := in.run("tenants", "update", "default", "--revoke-previous-after", "48h"); err != nil {
		t.Fatal(err)
	}
	if status, body, _ := in.call("PATCH", "/api/v2/keys/signing/policy", tok, strings.NewReader(`{"revoke_previous_after":86400}`)); status != 200 {
		t.Fatalf("PATCH policy = %d %s", status, body)
	}
	if status, body, _ := in.call("POST", "/api/v2/keys/signing/rotate", tok, nil); status != 201 {
		t.Fatalf("rotate = %d %s", status, body)
	}
	in.dashboardRotate(t, creds.Dashboard.Email, creds.Dashboard.Password)

	status, body, _ := in.call("GET", "/api/v2/keys/signing/events", tok, nil)
	if status != 200 {
		t.Fatalf("events = %d %s", status, body)
	}
	var evs []struct {
		Type  string  `json:"type"`
		Actor *string `json:"actor"`
	}
	if err := json.Unmarshal(body, &evs); err != nil {
		t.Fatal(err)
	}
	var got []string // oldest first
	for i := len(evs) - 1; i >= 0; i-- {
		actor := "<null>"
		if evs[i].Actor != nil {
			actor = *evs[i].Actor
		}
		got = append(got, evs[i].Type+" by "+actor)
	}
	want := []string{
		"signing_keys.created by system",
		"tenant.updated by cli",
		"tenant.updated by " + creds.ClientID,
		"signing_key.rotated by " + creds.ClientID,
		"signing_key.rotated by admin:" + creds.Dashboard.Email,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	_, metrics, _ := in.call("GET", "/metrics", "", nil)
	for _, line := range []string{
		`signet_signing_key_changes_total{actor_kind="api",change="rotate"} 1`,
		`signet_signing_key_changes_total{actor_kind="dashboard",change="rotate"} 1`,
	} {
		if !strings.Contains(string(metrics), "\n"+line+"\n") {
			t.Errorf("the metrics lack %q:\n%s", line, metrics)
		}
	}
}

// dashboardRotate signs in to the dashboard over HTTP and rotates tenant
// default's keys there.
func (in *instance) dashboardRotate(t *testing.T, email, password string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	csrf := func(path string) string {
		t.Helper()
		resp, err := c.Get(in.base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := signInToken.FindSubmatch(body)
		if m == nil {
			t.Fatalf("GET %s: %d, no CSRF token:\n%s", path, resp.StatusCode, body)
		}
		return string(m[1])
	}
	post := func(path string, form url.Values) {
		t.Helper()
		resp, err := c.PostForm(in.base+path, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("POST %s = %d", path, resp.StatusCode)
		}
	}
	post("/dashboard/signin", url.Values{"email": {email}, "password": {password}, "csrf": {csrf("/dashboard/signin")}})
	keys := "/dashboard/tenants/default/settings/signing-keys"
	post(keys+"/rotate", url.Values{"csrf": {csrf(keys)}})
}
