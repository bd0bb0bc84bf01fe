package oauth_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/oauth"
	"github.com/signet-auth/signet/internal/reqctx"
	"github.com/signet-auth/signet/internal/token"
)

// tokenCase is one request to /oauth/token.
type tokenCase struct {
	name string
	// contentType "" means form; body is sent as is.
	contentType string
	body        string
	// auth is a raw Authorization header value.
	auth       string
	wantStatus int
	// For errors: the RFC 6749 error code and description ("" = not checked).
	wantError string
	wantDesc  string
	// wantChallenge expects a WWW-Authenticate: Basic header.
	wantChallenge bool
	// For successes: the token's audience and scope.
	wantAud   string
	wantScope string
	wantLife  int
}

func form(kv ...string) string {
	v := url.Values{}
	for i := 0; i < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}

func basic(id, sec string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(sec)))
}

func TestToken(t *testing.T) {
	e := newEnv(t)
	// A client whose id and secret need form-URL-escaping in Basic credentials.
	oddID, oddSecret := e.addClient("odd:id+/ä", "s3:cr+t/ %&=?", []string{"client_credentials"})
	e.grant(oddID, apiAud, []string{"read:things"})

	big := form("grant_type", "client_credentials", "client_id", e.clientID, "client_secret", e.secret,
		"audience", apiAud, "pad", strings.Repeat("x", 70<<10))

	tests := []tokenCase{
		{name: "form post", body: form("grant_type", "client_credentials", "client_id", e.clientID, "client_secret", e.secret, "audience", apiAud),
			wantStatus: 200, wantAud: apiAud, wantScope: "read:things write:things", wantLife: 3600},
		{name: "json post", contentType: "application/json",
			body:       `{"grant_type":"client_credentials","client_id":"` + e.clientID + `","client_secret":"` + e.secret + `","audience":"` + apiAud + `"}`,
			wantStatus: 200, wantAud: apiAud, wantScope: "read:things write:things", wantLife: 3600},
		{name: "json with charset", contentType: "application/json; charset=utf-8",
			body:       `{"grant_type":"client_credentials","client_id":"` + e.clientID + `","client_secret":"` + e.secret + `","audience":"` + apiAud + `","extra":[1]}`,
			wantStatus: 200, wantAud: apiAud, wantScope: "read:things write:things", wantLife: 3600},
		{name: "basic", auth: basic(e.clientID, e.secret), body: form("grant_type", "client_credentials", "audience", apiAud),
			wantStatus: 200, wantAud: apiAud, wantScope: "read:things write:things", wantLife: 3600},
		{name: "basic with escaped characters", auth: basic(oddID, oddSecret), body: form("grant_type", "client_credentials", "audience", apiAud),
			wantStatus: 200, wantAud: apiAud, wantScope: "read:things", wantLife: 3600},
		{name: "basic and same client_id in body", auth: basic(e.clientID, e.secret),
			body:       form("grant_type", "client_credentials", "client_id", e.clientID, "audience", apiAud),
			wantStatus: 200, wantAud: apiAud, wantScope: "read:things write:things", wantLife: 3600},
		{name: "post with escaped characters", body: form("grant_type", "client_credentials", "client_id", oddID, "client_secret", oddSecret, "audience", apiAud),
			wantStatus: 200, wantAud: apiAud, wantScope: "read:things", wantLife: 3600},
		{name: "management api", body: form("grant_type", "client_credentials", "client_id", e.clientID, "client_secret", e.secret, "audience", mgmtAud),
			wantStatus: 200, wantAud: mgmtAud, wantLife: 86400},
		{name: "management api through the 127.0.0.1 alias", body: form("grant_type", "client_credentials", "client_id", e.clientID, "client_secret", e.secret, "audience", "http://"+aliasHost+"/api/v2/"),
			wantStatus: 200, wantAud: "http://" + aliasHost + "/api/v2/", wantLife: 86400},
		{name: "scope subset", body: form("grant_type", "client_credentials", "client_id", e.clientID, "client_secret", e.secret, "audience", apiAud, "scope", "write:things"),
			wantStatus: 200, wantAud: apiAud, wantScope: "write:things", wantLife: 3600},
		{name: "scope not granted is dropped", body: form("grant_type", "client_credentials", "client_id", e.clientID, "client_secret", e.secret, "audience", apiAud, "scope", "bogus write:things read:things"),
			wantStatus: 200, wantAud: apiAud, wantScope: "read:things write:things", wantLife: 3600},

		{name: "no granted scope requested", body: form("grant_type", "client_credentials", "client_id", e.clientID, "client_secret", e.secret, "audience", apiAud, "scope", "bogus"),
			wantStatus: 403, wantError: "access_denied", wantDesc: "Client has not been granted scopes: bogus"},
		{name: "bad json", contentType: "application/json", body: `{"grant_type":`,
			wantStatus: 400, wantError: "invalid_request"},
		{name: "json array", contentType: "application/json", body: `["client_credentials"]`,
			wantStatus: 400, wantError: "invalid_request"},
		{name: "json number parameter", contentType: "application/json", body: `{"grant_type":"client_credentials","client_id":12}`,
			wantStatus: 400, wantError: "invalid_request", wantDesc: "Parameter client_id must be a string."},
		{name: "oversize body", body: big, wantStatus: 413, wantError: "invalid_request"},
		{name: "unsupported content type", contentType: "text/plain", body: "grant_type=client_credentials",
			wantStatus: 400, wantError: "invalid_request"},
		{name: "repeated parameter", body: "grant_type=client_credentials&audience=a&audience=b",
			wantStatus: 400, wantError: "invalid_request", wantDesc: "Parameter audience must not be repeated."},
		{name: "wrong secret", body: form("grant_type", "client_credentials", "client_id", e.clientID, "client_secret", e.secret+"x", "audience", apiAud),
			wantStatus: 401, wantError: "invalid_client", wantDesc: "Client authentication failed"},
		{name: "wrong secret basic", auth: basic(e.clientID, "nope"), body: form("grant_type", "client_credentials", "audience", apiAud),
			wantStatus: 401, wantError: "invalid_client", wantDesc: "Client authentication failed", wantChallenge: true},
		{name: "unescaped basic secret", auth: "Basic " + base64.StdEncoding.EncodeToString([]byte(oddID+":"+oddSecret)), body: form("grant_type", "client_credentials", "audience", apiAud),
			wantStatus: 401, wantError: "invalid_client", wantChallenge: true},
		{name: "unknown client", body: form("grant_type", "client_credentials", "client_id", "nobody", "client_secret", "x", "audience", apiAud),
			wantStatus: 401, wantError: "invalid_client", wantDesc: "Client authentication failed"},
		{name: "no client authentication", body: form("grant_type", "client_credentials", "audience", apiAud),
			wantStatus: 401, wantError: "invalid_client"},
		{name: "no secret", body: form("grant_type", "client_credentials", "client_id", e.clientID, "audience", apiAud),
			wantStatus: 401, wantError: "invalid_client"},
		{name: "basic and other client_id in body", auth: basic(e.clientID, e.secret),
			body:       form("grant_type", "client_credentials", "client_id", e.nograntID, "audience", apiAud),
			wantStatus: 400, wantError: "invalid_request"},
		{name: "basic and other secret in body", auth: basic(e.clientID, e.secret),
			body:       form("grant_type", "client_credentials", "client_secret", "other", "audience", apiAud),
			wantStatus: 400, wantError: "invalid_request"},
		{name: "malformed basic", auth: "Basic !!!", body: form("grant_type", "client_credentials", "audience", apiAud),
			wantStatus: 400, wantError: "invalid_request"},
		{name: "bearer authorization", auth: "Bearer abc", body: form("grant_type", "client_credentials", "audience", apiAud),
			wantStatus: 400, wantError: "invalid_request"},
		{name: "no grant for audience", body: form("grant_type", "client_credentials", "client_id", e.nograntID, "client_secret", e.nograntSecret, "audience", apiAud),
			wantStatus: 403, wantError: "access_denied",
			wantDesc: `Client is not authorized to access "` + apiAud + `". You need to create a "client-grant" associated to this API.`},
		{name: "client may not use client_credentials", body: form("grant_type", "client_credentials", "client_id", e.noccID, "client_secret", e.noccSecret, "audience", apiAud),
			wantStatus: 403, wantError: "unauthorized_client"},
		{name: "unknown audience", body: form("grant_type", "client_credentials", "client_id", e.clientID, "client_secret", e.secret, "audience", "https://nope/"),
			wantStatus: 403, wantError: "access_denied", wantDesc: "Service not found: https://nope/"},
		{name: "other host's management api", body: form("grant_type", "client_credentials", "client_id", e.clientID, "client_secret", e.secret, "audience", "http://evil.example/api/v2/"),
			wantStatus: 403, wantError: "access_denied", wantDesc: "Service not found: http://evil.example/api/v2/"},
		{name: "missing audience", body: form("grant_type", "client_credentials", "client_id", e.clientID, "client_secret", e.secret),
			wantStatus: 400, wantError: "invalid_request", wantDesc: "audience is required"},
		{name: "unsupported grant type", body: form("grant_type", "password", "client_id", e.clientID, "client_secret", e.secret, "audience", apiAud),
			wantStatus: 400, wantError: "unsupported_grant_type", wantDesc: "Unsupported grant type: password"},
		{name: "missing grant type", body: form("client_id", e.clientID, "client_secret", e.secret, "audience", apiAud),
			wantStatus: 400, wantError: "invalid_request", wantDesc: "Missing required parameter: grant_type"},
		{name: "empty body", body: "", wantStatus: 400, wantError: "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(tt.body))
			ct := tt.contentType
			if ct == "" {
				ct = "application/x-www-form-urlencoded"
			}
			r.Header.Set("Content-Type", ct)
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			rec := e.do(r)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if got := rec.Header().Get("Content-Type"); got != "application/json; charset=utf-8" {
				t.Errorf("Content-Type = %q", got)
			}
			if got := rec.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			if tt.wantStatus != 200 {
				checkOAuthError(t, rec, tt)
				return
			}
			checkToken(t, e, rec, tt)
		})
	}
}

func checkOAuthError(t *testing.T, rec *httptest.ResponseRecorder, tt tokenCase) {
	t.Helper()
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("error body %q: %v", rec.Body, err)
	}
	if body["error"] != tt.wantError {
		t.Errorf("error = %v, want %s (%s)", body["error"], tt.wantError, rec.Body)
	}
	if d, _ := body["error_description"].(string); d == "" || (tt.wantDesc != "" && d != tt.wantDesc) {
		t.Errorf("error_description = %q, want %q", d, tt.wantDesc)
	}
	for k := range body {
		if k != "error" && k != "error_description" {
			t.Errorf("unexpected member %q in %s", k, rec.Body)
		}
	}
	ch := rec.Header().Get("WWW-Authenticate")
	if tt.wantChallenge != (ch != "") || (ch != "" && !strings.HasPrefix(ch, `Basic realm="`)) {
		t.Errorf("WWW-Authenticate = %q, want challenge %v", ch, tt.wantChallenge)
	}
}

func checkToken(t *testing.T, e *env, rec *httptest.ResponseRecorder, tt tokenCase) {
	t.Helper()
	if got := rec.Header().Get("Pragma"); got != "no-cache" {
		t.Errorf("Pragma = %q", got)
	}
	var resp struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
		Scope       string `json:"scope"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	if resp.TokenType != "Bearer" || resp.ExpiresIn != tt.wantLife {
		t.Errorf("token_type %q expires_in %d, want Bearer %d", resp.TokenType, resp.ExpiresIn, tt.wantLife)
	}
	v := e.view()
	claims, err := token.Verify(resp.AccessToken, v.VerifyKey, token.Expect{
		Issuers: []string{issuer}, Audiences: []string{tt.wantAud}, Now: time.Now(),
	})
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	clientID := claims.AuthorizedParty
	if claims.Subject != clientID+"@clients" || claims.GrantType != "client-credentials" || len(claims.ID) != 22 {
		t.Errorf("claims = %+v", claims)
	}
	if claims.Expiry-claims.IssuedAt != int64(tt.wantLife) {
		t.Errorf("lifetime = %d, want %d", claims.Expiry-claims.IssuedAt, tt.wantLife)
	}
	if tt.wantScope != "" && (claims.Scope != tt.wantScope || resp.Scope != tt.wantScope) {
		t.Errorf("scope claim %q, response %q, want %q", claims.Scope, resp.Scope, tt.wantScope)
	}
	if tt.wantAud == mgmtAud && !strings.Contains(claims.Scope, "create:signing_keys") {
		t.Errorf("management scope = %q", claims.Scope)
	}
	// The header names the current key.
	hdr, _, _ := strings.Cut(resp.AccessToken, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(hdr)
	var h struct{ Alg, Typ, Kid string }
	json.Unmarshal(raw, &h)
	if h.Alg != "RS256" || h.Typ != "JWT" || h.Kid != v.Current.KID {
		t.Errorf("header = %+v, want RS256 JWT %s", h, v.Current.KID)
	}
}

func TestTokenMethodNotAllowed(t *testing.T) {
	e := newEnv(t)
	rec := e.do(httptest.NewRequest(http.MethodGet, "/oauth/token", nil))
	if rec.Code != http.StatusMethodNotAllowed || !strings.Contains(rec.Header().Get("Allow"), "POST") {
		t.Errorf("GET /oauth/token = %d Allow %q, want 405 with POST", rec.Code, rec.Header().Get("Allow"))
	}
}

func TestTokenIssuerFollowsHost(t *testing.T) {
	e := newEnv(t)
	r := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(
		form("grant_type", "client_credentials", "client_id", e.clientID, "client_secret", e.secret, "audience", apiAud)))
	r.Host = aliasHost
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := e.do(r)
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var resp struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal(rec.Body.Bytes(), &resp)
	if _, err := token.Verify(resp.AccessToken, e.view().VerifyKey, token.Expect{
		Issuers: []string{"http://" + aliasHost + "/"}, Audiences: []string{apiAud}, Now: time.Now(),
	}); err != nil {
		t.Errorf("token via %s: %v", aliasHost, err)
	}
}

// TestTokenInternalError checks that a store failure answers server_error
// without details, is logged, and that the log holds no credential; and
// that user errors are not logged.
func TestTokenInternalError(t *testing.T) {
	e := newEnv(t)
	var logs bytes.Buffer
	mux := http.NewServeMux()
	oauth.New(oauth.Config{Ring: e.ring, Store: e.store, Logger: slog.New(slog.NewTextHandler(&logs, nil))}).Register(mux)
	post := func(body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, e.withTenant(r))
		return rec
	}
	if rec := post(form("grant_type", "client_credentials", "client_id", e.clientID, "client_secret", "wrong", "audience", apiAud)); rec.Code != 401 {
		t.Fatalf("wrong secret: %d", rec.Code)
	}
	if logs.Len() != 0 {
		t.Errorf("a user error was logged: %s", logs.String())
	}
	e.store.Close()
	rec := post(form("grant_type", "client_credentials", "client_id", e.clientID, "client_secret", e.secret, "audience", apiAud))
	if rec.Code != 500 || rec.Body.String() != `{"error":"server_error","error_description":"Internal error."}` {
		t.Errorf("store failure: %d %s", rec.Code, rec.Body)
	}
	if !strings.Contains(logs.String(), "level=ERROR") || strings.Contains(logs.String(), e.secret) {
		t.Errorf("log = %q", logs.String())
	}
}

// TestTokenRefusedWhenStale checks that a replica whose view of the tenant
// is older than keyring.Config.MaxStaleness answers 503
// temporarily_unavailable instead of signing.
func TestTokenRefusedWhenStale(t *testing.T) {
	e := newEnv(t)
	ring := keyring.New(keyring.Config{Store: e.store, Sealer: e.sealer, Pool: pool, MaxStaleness: time.Millisecond})
	if err := ring.Load(t.Context()); err != nil { // no Run: the view ages
		t.Fatal(err)
	}
	// Wait for the view itself to age past the bound: the ring's readiness
	// fails at once (its feed never confirmed), but the view was refreshed
	// by Load and is fresh for MaxStaleness after it.
	v, _ := ring.ViewByHost(host)
	for deadline := time.Now().Add(5 * time.Second); v.Fresh() == nil; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the view never went stale")
		}
	}
	mux := http.NewServeMux()
	oauth.New(oauth.Config{Ring: ring, Store: e.store}).Register(mux)
	r := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(form("grant_type", "client_credentials",
		"client_id", e.clientID, "client_secret", e.secret, "audience", apiAud)))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r = r.WithContext(reqctx.With(r.Context(), reqctx.Request{View: v, Issuer: "http://" + host + "/"}))
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, r)
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), `"error":"temporarily_unavailable"`) {
		t.Errorf("token from a stale view: %d %s", rec.Code, rec.Body)
	}
}
