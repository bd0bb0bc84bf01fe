package oidc

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/reqctx"
	"github.com/signet-auth/signet/internal/secret"
)

const (
	// loginPath is the login page.
	loginPath = "/login"
	// maxReturnPath caps the length of a return path (an /authorize URL with
	// its query fits easily).
	maxReturnPath = 8192
)

// Session returns the user signed in on r's tenant and when they
// authenticated; ok is false when there is no valid session (no cookie, an
// unknown or expired session, a deleted or blocked user). Store failures
// are logged and count as no session.
//
// The session cookie is SameSite=Lax: a browser sends it on top-level GET
// navigations from other sites, not on their cross-site POSTs.
func (h *Handler) Session(r *http.Request) (u signet.User, authTime time.Time, ok bool) {
	req, found := reqctx.From(r.Context())
	if !found || req.View == nil {
		return signet.User{}, time.Time{}, false
	}
	s, ok := h.session(r, req)
	if !ok {
		return signet.User{}, time.Time{}, false
	}
	u, err := h.users.User(r.Context(), req.View.Tenant.Name, s.UserID)
	if err != nil {
		if !errors.Is(err, signet.ErrNotFound) {
			h.logger.Error("session user", "tenant", req.View.Tenant.Name, "err", err)
		}
		return signet.User{}, time.Time{}, false
	}
	if u.Blocked {
		return signet.User{}, time.Time{}, false
	}
	return u, s.AuthTime, true
}

// session returns the stored session the request's cookie names.
func (h *Handler) session(r *http.Request, req reqctx.Request) (signet.LoginSession, bool) {
	c, err := r.Cookie(cookieName(req, sessionCookie))
	if err != nil || c.Value == "" || len(c.Value) > 128 {
		return signet.LoginSession{}, false
	}
	s, err := h.users.Session(r.Context(), req.View.Tenant.Name, secret.Digest(c.Value), h.now())
	if err != nil {
		if !errors.Is(err, signet.ErrNotFound) {
			h.logger.Error("session lookup", "tenant", req.View.Tenant.Name, "err", err)
		}
		return signet.LoginSession{}, false
	}
	return s, true
}

// LoginURL returns the path of the login page that, after a successful
// sign-in, redirects to returnTo (a same-origin relative path, validated).
// An invalid returnTo is dropped: the page then stays on a "signed in"
// message. The page asks for the password even when the browser has a
// session, and a sign-in there starts a new session with a new auth time,
// so it also serves a caller that needs a fresh sign-in (prompt=login,
// SAML ForceAuthn): such a caller tells, by the auth time Session returns,
// whether the sign-in came after its request.
func LoginURL(returnTo string) string {
	if !validReturnPath(returnTo) {
		return loginPath
	}
	return loginPath + "?" + url.Values{"return_to": {returnTo}}.Encode()
}

// validReturnPath reports whether p is a same-origin path to redirect to
// after sign-in: it starts with one "/" (not "//" or "/\", which browsers
// read as another host), has no scheme, host, backslash, white space or
// control character, and is at most maxReturnPath bytes long.
func validReturnPath(p string) bool {
	if p == "" || len(p) > maxReturnPath || p[0] != '/' {
		return false
	}
	if len(p) > 1 && (p[1] == '/' || p[1] == '\\') {
		return false
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c <= ' ' || c == 0x7f || c == '\\' {
			return false
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") {
		return false
	}
	// The decoded path must not start with "//" either: some servers and
	// proxies decode before redirecting.
	return !strings.HasPrefix(u.Path, "//") && !strings.HasPrefix(u.Path, "/\\")
}

// Cookie names. With an https issuer they carry the __Host- prefix, which
// browsers accept only with Secure, Path=/ and no Domain: no other host can
// set them.
const (
	sessionCookie = "signet_session"
	csrfCookie    = "signet_login"
)

// secure reports whether the request's issuer is https.
func secure(req reqctx.Request) bool { return strings.HasPrefix(req.Issuer, "https://") }

func cookieName(req reqctx.Request, name string) string {
	if secure(req) {
		return "__Host-" + name
	}
	return name
}

// setCookie sets an HttpOnly, SameSite=Lax, host-only cookie on path /;
// maxAge < 0 deletes it.
func setCookie(w http.ResponseWriter, req reqctx.Request, name, value string, maxAge time.Duration) {
	c := &http.Cookie{
		Name:     cookieName(req, name),
		Value:    value,
		Path:     "/",
		HttpOnly: true,
		Secure:   secure(req),
		SameSite: http.SameSiteLaxMode,
	}
	if maxAge < 0 {
		c.MaxAge = -1
	} else {
		c.MaxAge = int(maxAge / time.Second)
	}
	http.SetCookie(w, c)
}

// startSession signs u in: a fresh session id (never one the browser
// brought, so a planted id is useless), stored as its digest, and the
// cookie. It ends the session the request came with, if any.
func (h *Handler) startSession(w http.ResponseWriter, r *http.Request, req reqctx.Request, u signet.User) error {
	tenant := req.View.Tenant.Name
	if old, ok := h.session(r, req); ok {
		if err := h.users.DeleteSession(r.Context(), tenant, old.IDHash); err != nil {
			return err
		}
	}
	id, digest := secret.New()
	now := h.now().UTC()
	s := signet.LoginSession{Tenant: tenant, IDHash: digest, UserID: u.ID, AuthTime: now, ExpiresAt: now.Add(h.sessionLifetime)}
	if err := h.users.CreateSession(r.Context(), s); err != nil {
		return err
	}
	setCookie(w, req, sessionCookie, id, h.sessionLifetime)
	return nil
}

// endSession deletes the request's session, if any, and its cookie.
func (h *Handler) endSession(w http.ResponseWriter, r *http.Request, req reqctx.Request) error {
	if c, err := r.Cookie(cookieName(req, sessionCookie)); err == nil && c.Value != "" {
		if err := h.users.DeleteSession(r.Context(), req.View.Tenant.Name, secret.Digest(c.Value)); err != nil {
			return err
		}
	}
	setCookie(w, req, sessionCookie, "", -1)
	return nil
}
