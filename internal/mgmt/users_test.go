package mgmt_test

import (
	"bytes"
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/password"
	"github.com/signet-auth/signet/internal/secret"
)

// userJSON is the user object as go-auth0 decodes it.
type userJSON struct {
	UserID        string     `json:"user_id"`
	Email         string     `json:"email"`
	EmailVerified bool       `json:"email_verified"`
	Name          string     `json:"name"`
	Nickname      string     `json:"nickname"`
	Blocked       bool       `json:"blocked"`
	LoginsCount   int        `json:"logins_count"`
	CreatedAt     *time.Time `json:"created_at"`
	UpdatedAt     *time.Time `json:"updated_at"`
	Identities    []struct {
		Connection string `json:"connection"`
		UserID     string `json:"user_id"`
		Provider   string `json:"provider"`
	} `json:"identities"`
}

func TestUsers(t *testing.T) {
	e := newEnv(t)
	tok := e.token("")
	ctx := context.Background()

	rec := e.do(req{method: "POST", path: "/api/v2/users", token: tok, contentType: "application/json",
		body: `{"email":"Alice@Example.com","password":"correct horse","connection":"Username-Password-Authentication","name":"Alice","email_verified":true}`})
	if rec.Code != 201 {
		t.Fatalf("create = %d %s", rec.Code, rec.Body)
	}
	for _, secretish := range []string{"password", "argon2", "correct horse", "hash"} {
		if bytes.Contains(rec.Body.Bytes(), []byte(secretish)) {
			t.Errorf("create answer contains %q: %s", secretish, rec.Body)
		}
	}
	alice := decode[userJSON](t, rec)
	if !strings.HasPrefix(alice.UserID, "auth0|") || len(alice.UserID) != 30 || alice.Email != "alice@example.com" ||
		!alice.EmailVerified || alice.Name != "Alice" || alice.Nickname != "alice" || alice.CreatedAt == nil ||
		len(alice.Identities) != 1 || alice.Identities[0].Connection != "Username-Password-Authentication" ||
		alice.Identities[0].Provider != "auth0" || "auth0|"+alice.Identities[0].UserID != alice.UserID {
		t.Errorf("created user = %+v", alice)
	}
	stored, err := e.store.User(ctx, "default", alice.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := password.Verify(stored.PasswordHash, "correct horse"); !ok || err != nil {
		t.Errorf("stored hash does not verify: %v", err)
	}

	errs := []struct {
		name, body string
		status     int
		message    string
	}{
		{"taken email (any case)", `{"connection":"Username-Password-Authentication","email":"ALICE@example.com","password":"another one"}`, 409, "The user already exists."},
		{"weak password", `{"connection":"Username-Password-Authentication","email":"bob@example.com","password":"short"}`, 400, "PasswordStrengthError: Password is too weak: use at least 8 characters."},
		{"no password", `{"connection":"Username-Password-Authentication","email":"bob@example.com"}`, 400, "Payload validation error: 'Missing required property: password'."},
		{"no email", `{"connection":"Username-Password-Authentication","password":"long enough"}`, 400, "Payload validation error: 'Missing required property: email'."},
		{"bad email", `{"connection":"Username-Password-Authentication","email":"bob","password":"long enough"}`, 400, ""},
		{"other connection", `{"email":"bob@example.com","password":"long enough","connection":"google-oauth2"}`, 400, ""},
		{"password hash smuggled", `{"connection":"Username-Password-Authentication","email":"bob@example.com","password":"long enough","password_hash":"x"}`, 400, ""},
		{"blocked not a boolean", `{"connection":"Username-Password-Authentication","email":"bob@example.com","password":"long enough","blocked":"yes"}`, 400, ""},
		{"no connection", `{"email":"bob@example.com","password":"long enough"}`, 400, "Payload validation error: 'Missing required property: connection'."},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.do(req{method: "POST", path: "/api/v2/users", token: tok, contentType: "application/json", body: tt.body})
			wantError(t, rec, tt.status, tt.message, "")
		})
	}

	// Reads.
	rec = e.do(req{method: "GET", path: "/api/v2/users/" + url.PathEscape(alice.UserID), token: tok})
	if got := decode[userJSON](t, rec); rec.Code != 200 || got.UserID != alice.UserID {
		t.Errorf("get = %d %s", rec.Code, rec.Body)
	}
	wantError(t, e.do(req{method: "GET", path: "/api/v2/users/auth0%7Cnope", token: tok}), 404, "The user does not exist.", "inexistent_user")
	for _, email := range []string{"b@example.com", "c@example.com"} {
		if rec := e.do(req{method: "POST", path: "/api/v2/users", token: tok, body: `{"connection":"Username-Password-Authentication","email":"` + email + `","password":"long enough"}`}); rec.Code != 201 {
			t.Fatalf("create %s = %d", email, rec.Code)
		}
	}
	rec = e.do(req{method: "GET", path: "/api/v2/users?per_page=2&page=0&include_totals=true", token: tok})
	page := decode[struct {
		Users []userJSON `json:"users"`
		Total int        `json:"total"`
		Limit int        `json:"limit"`
	}](t, rec)
	if rec.Code != 200 || page.Total != 3 || len(page.Users) != 2 || page.Limit != 2 || page.Users[0].UserID != alice.UserID {
		t.Errorf("list = %d %s", rec.Code, rec.Body)
	}
	if list := decode[[]userJSON](t, e.do(req{method: "GET", path: "/api/v2/users?page=1&per_page=2", token: tok})); len(list) != 1 {
		t.Errorf("second page = %+v", list)
	}
	wantError(t, e.do(req{method: "GET", path: "/api/v2/users?per_page=1000", token: tok}), 400, "", "invalid_query_string")
	if list := decode[[]userJSON](t, e.do(req{method: "GET", path: "/api/v2/users-by-email?email=ALICE%40example.com", token: tok})); len(list) != 1 || list[0].UserID != alice.UserID {
		t.Errorf("users-by-email = %+v", list)
	}
	if list := decode[[]userJSON](t, e.do(req{method: "GET", path: `/api/v2/users?q=email:"c@example.com"`, token: tok})); len(list) != 1 {
		t.Errorf("q=email = %+v", list)
	}

	// Tenant isolation.
	other := e.tokenFor(otherHost, "http://"+otherHost+"/api/v2/", e.otherID, e.otherSecret, "")
	wantError(t, e.do(req{method: "GET", path: "/api/v2/users/" + url.PathEscape(alice.UserID), token: other, host: otherHost}), 404, "", "inexistent_user")

	// A new password or a block ends the user's sessions and refresh tokens.
	session := func() []byte {
		_, digest := secret.New()
		if err := e.store.CreateSession(ctx, signet.LoginSession{Tenant: "default", IDHash: digest, UserID: alice.UserID, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		return digest
	}
	s1 := session()
	rec = e.do(req{method: "PATCH", path: "/api/v2/users/" + url.PathEscape(alice.UserID), token: tok, body: `{"name":"Alice L."}`})
	if got := decode[userJSON](t, rec); rec.Code != 200 || got.Name != "Alice L." || got.Email != "alice@example.com" {
		t.Errorf("patch name = %d %s", rec.Code, rec.Body)
	}
	if _, err := e.store.Session(ctx, "default", s1, time.Now()); err != nil {
		t.Errorf("a name change ended the session: %v", err)
	}
	rec = e.do(req{method: "PATCH", path: "/api/v2/users/" + url.PathEscape(alice.UserID), token: tok, body: `{"password":"a new password"}`})
	if rec.Code != 200 {
		t.Fatalf("patch password = %d %s", rec.Code, rec.Body)
	}
	if _, err := e.store.Session(ctx, "default", s1, time.Now()); err == nil {
		t.Error("a password change left the session")
	}
	stored, _ = e.store.User(ctx, "default", alice.UserID)
	if ok, _ := password.Verify(stored.PasswordHash, "a new password"); !ok {
		t.Error("the new password does not verify")
	}
	s2 := session()
	rec = e.do(req{method: "PATCH", path: "/api/v2/users/" + url.PathEscape(alice.UserID), token: tok, body: `{"blocked":true}`})
	if got := decode[userJSON](t, rec); rec.Code != 200 || !got.Blocked {
		t.Errorf("block = %d %s", rec.Code, rec.Body)
	}
	if _, err := e.store.Session(ctx, "default", s2, time.Now()); err == nil {
		t.Error("a block left the session")
	}
	wantError(t, e.do(req{method: "PATCH", path: "/api/v2/users/" + url.PathEscape(alice.UserID), token: tok, body: `{"email":"b@example.com"}`}), 409, "The user already exists.", "")
	wantError(t, e.do(req{method: "PATCH", path: "/api/v2/users/" + url.PathEscape(alice.UserID), token: tok, body: `{"password":"short"}`}), 400, "", "")

	// Delete.
	if rec := e.do(req{method: "DELETE", path: "/api/v2/users/" + url.PathEscape(alice.UserID), token: tok}); rec.Code != 204 {
		t.Errorf("delete = %d %s", rec.Code, rec.Body)
	}
	wantError(t, e.do(req{method: "DELETE", path: "/api/v2/users/" + url.PathEscape(alice.UserID), token: tok}), 404, "", "inexistent_user")
}

func TestUserScopes(t *testing.T) {
	e := newEnv(t)
	read := e.token("read:users")
	wantError(t, e.do(req{method: "POST", path: "/api/v2/users", token: read, body: `{"email":"x@example.com","password":"long enough"}`}),
		403, "Insufficient scope, expected any of: create:users", "insufficient_scope")
	wantError(t, e.do(req{method: "PATCH", path: "/api/v2/users/auth0%7Cx", token: read, body: `{}`}), 403, "Insufficient scope, expected any of: update:users", "")
	wantError(t, e.do(req{method: "DELETE", path: "/api/v2/users/auth0%7Cx", token: read}), 403, "Insufficient scope, expected any of: delete:users", "")
	wantError(t, e.do(req{method: "GET", path: "/api/v2/users", token: e.token("read:clients")}), 403, "Insufficient scope, expected any of: read:users", "")
	if rec := e.do(req{method: "GET", path: "/api/v2/users", token: read}); rec.Code != 200 || rec.Body.String() != "[]" {
		t.Errorf("list with read:users = %d %s", rec.Code, rec.Body)
	}
	wantError(t, e.do(req{method: "GET", path: "/api/v2/users"}), 401, "Invalid token", "")
}
