package mgmt_test

import (
	"encoding/json"
	"fmt"
	"testing"
)

// TestListPaging checks the list shapes node-auth0 v5+ reads: it sends
// include_totals=true&page=0&per_page=50 (take=50 for client grants) and
// takes the items from clients, resource_servers or client_grants. Without
// paging parameters the lists stay bare arrays of every item.
func TestListPaging(t *testing.T) {
	e := newEnv(t)
	tok := e.token("")
	post := func(path, body string) map[string]any {
		t.Helper()
		rec := e.do(req{method: "POST", path: path, token: tok, contentType: "application/json", body: body})
		if rec.Code != 201 {
			t.Fatalf("POST %s: %d %s", path, rec.Code, rec.Body)
		}
		return decode[map[string]any](t, rec)
	}
	// The tenant starts with its admin client, the Management API and the
	// admin's grant: 4 clients, 3 resource servers, 4 grants after this.
	var clients []string
	for i := range 3 {
		clients = append(clients, post("/api/v2/clients", fmt.Sprintf(`{"name":"c%d"}`, i))["client_id"].(string))
	}
	for i := range 2 {
		post("/api/v2/resource-servers", fmt.Sprintf(`{"identifier":"https://api%d.example","scopes":[{"value":"read"}]}`, i))
	}
	for _, c := range clients {
		post("/api/v2/client-grants", `{"client_id":"`+c+`","audience":"https://api0.example","scope":["read"]}`)
	}

	for _, tt := range []struct {
		path, key string
		// want: items on the page; total, start, limit (-1: absent); next ("" absent)
		items, total, start, limit int
		next                       string
	}{
		{"/api/v2/clients", "", 4, -1, -1, -1, ""},
		{"/api/v2/clients?page=0&per_page=50&include_totals=true", "clients", 4, 4, 0, 50, ""},
		{"/api/v2/clients?page=1&per_page=3&include_totals=true", "clients", 1, 4, 3, 3, ""},
		{"/api/v2/clients?page=2&per_page=3&include_totals=true", "clients", 0, 4, 6, 3, ""},
		{"/api/v2/clients?per_page=3", "", 3, -1, -1, -1, ""},
		{"/api/v2/clients?include_totals=false&page=1&per_page=2", "", 2, -1, -1, -1, ""},
		{"/api/v2/resource-servers?page=0&per_page=50&include_totals=true", "resource_servers", 3, 3, 0, 50, ""},
		{"/api/v2/resource-servers?identifiers=https://api1.example&identifiers=https://api0.example&include_totals=true", "resource_servers", 2, 2, 0, 50, ""},
		{"/api/v2/resource-servers", "", 3, -1, -1, -1, ""},
		{"/api/v2/client-grants", "", 4, -1, -1, -1, ""},
		{"/api/v2/client-grants?include_totals=true&take=50", "client_grants", 4, 4, 0, 50, ""},
		{"/api/v2/client-grants?take=3", "client_grants", 3, -1, -1, -1, "3"},
		{"/api/v2/client-grants?take=3&from=3", "client_grants", 1, -1, -1, -1, ""},
		{"/api/v2/client-grants?include_totals=true&page=0&per_page=2&audience=https://api0.example", "client_grants", 2, 3, 0, 2, ""},
		{"/api/v2/client-grants?include_totals=true&client_id=" + clients[0], "client_grants", 1, 1, 0, 50, ""},
	} {
		t.Run(tt.path, func(t *testing.T) {
			rec := e.do(req{method: "GET", path: tt.path, token: tok})
			if rec.Code != 200 {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
			if tt.key == "" {
				if got := decode[[]json.RawMessage](t, rec); len(got) != tt.items {
					t.Errorf("%d items, want %d: %s", len(got), tt.items, rec.Body)
				}
				return
			}
			got := decode[map[string]json.RawMessage](t, rec)
			var items []json.RawMessage
			if err := json.Unmarshal(got[tt.key], &items); err != nil || items == nil || len(items) != tt.items {
				t.Errorf("%s = %s, want %d items", tt.key, got[tt.key], tt.items)
			}
			for name, want := range map[string]int{"total": tt.total, "start": tt.start, "limit": tt.limit} {
				v, ok := got[name]
				if want < 0 && ok || want >= 0 && string(v) != fmt.Sprint(want) {
					t.Errorf("%s = %s, want %d (-1: absent)", name, v, want)
				}
			}
			var next string
			json.Unmarshal(got["next"], &next)
			if next != tt.next {
				t.Errorf("next = %q, want %q", next, tt.next)
			}
		})
	}

	for _, path := range []string{
		"/api/v2/clients?include_totals=yes",
		"/api/v2/clients?per_page=101",
		"/api/v2/resource-servers?page=-1",
		"/api/v2/client-grants?take=0",
		"/api/v2/client-grants?from=cgr_x",
		"/api/v2/resource-servers?identifiers=1&identifiers=2&identifiers=3&identifiers=4&identifiers=5&identifiers=6&identifiers=7&identifiers=8&identifiers=9&identifiers=10&identifiers=11",
	} {
		wantError(t, e.do(req{method: "GET", path: path, token: tok}), 400, "", "invalid_query_string")
	}
}

// TestGetClientGrant checks GET /api/v2/client-grants/{id}, which
// node-auth0's clientGrants.get calls.
func TestGetClientGrant(t *testing.T) {
	e := newEnv(t)
	tok := e.token("")
	rec := e.do(req{method: "GET", path: "/api/v2/client-grants?include_totals=true", token: tok})
	list := decode[struct {
		Grants []struct {
			ID, ClientID, Audience string
			Scope                  []string
		} `json:"client_grants"`
	}](t, rec)
	if len(list.Grants) != 1 {
		t.Fatalf("grants: %s", rec.Body)
	}
	g := list.Grants[0]
	rec = e.do(req{method: "GET", path: "/api/v2/client-grants/" + g.ID, token: tok})
	got := decode[map[string]any](t, rec)
	if rec.Code != 200 || got["id"] != g.ID || got["audience"] != mgmtAud || got["client_id"] == "" || got["scope"] == nil {
		t.Errorf("get = %d %s", rec.Code, rec.Body)
	}
	wantError(t, e.do(req{method: "GET", path: "/api/v2/client-grants/cgr_nope", token: tok}), 404, "The client grant does not exist", "inexistent_client_grant")
	wantError(t, e.do(req{method: "GET", path: "/api/v2/client-grants/" + g.ID, token: e.token("read:clients")}), 403,
		"Insufficient scope, expected any of: read:client_grants", "insufficient_scope")
	other := e.tokenFor(otherHost, "http://"+otherHost+"/api/v2/", e.otherID, e.otherSecret, "")
	wantError(t, e.do(req{method: "GET", path: "/api/v2/client-grants/" + g.ID, token: other, host: otherHost}), 404, "", "inexistent_client_grant")
}
