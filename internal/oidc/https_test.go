package oidc_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/signet-auth/signet/internal/reqctx"
)

// TestSecureCookies signs in on a tenant whose issuer is https: both
// cookies are Secure and carry the __Host- prefix, and the session works.
func TestSecureCookies(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.user("alice@example.com", "correct horse")
	mux := http.NewServeMux()
	e.h.Register(mux)
	view, _ := e.ring.View("default")
	serve := func(r *http.Request, cookies []*http.Cookie) *httptest.ResponseRecorder {
		for _, c := range cookies {
			r.AddCookie(c)
		}
		r = r.WithContext(reqctx.With(r.Context(), reqctx.Request{View: view, Issuer: "https://auth.example.com/"}))
		rec := httptest.NewRecorder()
		e.checked(mux).ServeHTTP(rec, r)
		return rec
	}
	rec := serve(httptest.NewRequest("GET", "/login?return_to=%2Fauthorize", nil), nil)
	login := rec.Result().Cookies()
	if len(login) != 1 || login[0].Name != "__Host-signet_login" || !login[0].Secure || !login[0].HttpOnly || login[0].Path != "/" {
		t.Fatalf("login cookie = %+v", login)
	}
	form := url.Values{"csrf": {csrf(t, rec.Body.String())}, "return_to": {"/authorize"}, "email": {"alice@example.com"}, "password": {"correct horse"}}
	req := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec = serve(req, login)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("sign-in = %d %s", rec.Code, rec.Body)
	}
	session := rec.Result().Cookies()
	if len(session) != 1 || session[0].Name != "__Host-signet_session" || !session[0].Secure || !session[0].HttpOnly ||
		session[0].SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie = %+v", session)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(session[0])
	r = r.WithContext(reqctx.With(r.Context(), reqctx.Request{View: view, Issuer: "https://auth.example.com/"}))
	if u, _, ok := e.h.Session(r); !ok || u.Email != "alice@example.com" {
		t.Error("Session does not see the __Host- cookie")
	}
	// The plain-http name is not accepted on https.
	r = httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: "signet_session", Value: session[0].Value})
	r = r.WithContext(reqctx.With(r.Context(), reqctx.Request{View: view, Issuer: "https://auth.example.com/"}))
	if _, _, ok := e.h.Session(r); ok {
		t.Error("Session accepts a cookie without the __Host- prefix on https")
	}
}
