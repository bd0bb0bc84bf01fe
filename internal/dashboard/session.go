package dashboard

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/password"
	"github.com/signet-auth/signet/internal/secret"
	"github.com/signet-auth/signet/internal/throttle"
)

// Cookie names. Over http the session cookie is scoped to the dashboard's
// paths; over https (Config.Secure) both take the __Host- prefix, which
// browsers accept only with Secure, Path=/ and no Domain, so that no other
// host (a tenant's sibling under a shared parent domain) can set or shadow
// them. See cookieName.
const (
	sessionCookie = "signet_dashboard"
	signInCookie  = "signet_dashboard_signin"
)

// touchEvery is how often a session in use has its idle deadline moved:
// at most one write a minute per session, not one per request.
const touchEvery = time.Minute

// maxForm bounds the body of every dashboard form.
const maxForm = 64 << 10

// visit is a request from a signed-in administrator.
type visit struct {
	admin   signet.Admin
	session signet.AdminSession
	// csrf is the token every form of the session carries.
	csrf string
}

// visitHandler serves a signed-in request.
type visitHandler func(w http.ResponseWriter, r *http.Request, v *visit)

// newID returns a fresh random session id or token: 256 bits, base64url.
func newID() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// csrfToken derives a session's CSRF token from its id. Only the holder of
// the session cookie can compute it; the store, which keeps a digest of the
// id, cannot.
func csrfToken(sessionID string) string {
	m := hmac.New(sha256.New, []byte(sessionID))
	m.Write([]byte("signet dashboard csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// tokenEqual compares two tokens in time independent of their content.
func tokenEqual(a, b string) bool {
	return a != "" && hmac.Equal([]byte(a), []byte(b))
}

// sameOrigin reports whether a state-changing request may come from the
// page that sent it: an Origin header, when the browser sends one, names
// this host; Sec-Fetch-Site, when sent, is not cross-site. The CSRF token is
// the real check; this refuses obvious cross-site posts early.
func sameOrigin(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || !strings.EqualFold(u.Host, r.Host) {
			return false
		}
	}
	return r.Header.Get("Sec-Fetch-Site") != "cross-site"
}

// cookieName returns the name the cookie name goes by: __Host-name when
// Secure.
func (h *Handler) cookieName(name string) string {
	if h.cfg.Secure {
		return "__Host-" + name
	}
	return name
}

// setCookie sets a dashboard cookie: HttpOnly, SameSite=Lax, host-only;
// when Secure, Secure with a __Host- name on path / (which the prefix
// requires) instead of path. maxAge < 0 deletes it; 0 makes a
// browser-session cookie.
func (h *Handler) setCookie(w http.ResponseWriter, name, value, path string, maxAge int) {
	if h.cfg.Secure {
		path = "/"
	}
	http.SetCookie(w, &http.Cookie{
		Name: h.cookieName(name), Value: value, Path: path, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.cfg.Secure,
	})
}

// load returns the request's visit, or nil if it carries no live session.
// It moves the session's idle deadline at most once a minute and deletes a
// session found expired.
func (h *Handler) load(w http.ResponseWriter, r *http.Request) (*visit, error) {
	c, err := r.Cookie(h.cookieName(sessionCookie))
	if err != nil || c.Value == "" {
		return nil, nil
	}
	ctx := r.Context()
	digest := secret.Digest(c.Value)
	s, err := h.cfg.Store.AdminSession(ctx, digest)
	if errors.Is(err, signet.ErrAdminSessionNotFound) {
		h.setCookie(w, sessionCookie, "", "/dashboard", -1)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	now := h.cfg.Now()
	if s.Expired(now) {
		if err := h.cfg.Store.DeleteAdminSession(ctx, digest); err != nil && !errors.Is(err, signet.ErrAdminSessionNotFound) {
			return nil, err
		}
		h.setCookie(w, sessionCookie, "", "/dashboard", -1)
		return nil, nil
	}
	a, err := h.cfg.Store.Admin(ctx, s.AdminID)
	if errors.Is(err, signet.ErrAdminNotFound) {
		return nil, nil // deleted since; its sessions went with it
	}
	if err != nil {
		return nil, err
	}
	if now.Sub(s.LastSeenAt) >= touchEvery {
		s, err = h.cfg.Store.UpdateAdminSession(ctx, digest, func(s *signet.AdminSession) error {
			s.LastSeenAt = now.UTC()
			s.ExpiresAt = h.expiry(s.CreatedAt, now)
			return nil
		})
		if errors.Is(err, signet.ErrAdminSessionNotFound) {
			return nil, nil // signed out meanwhile (another tab, another replica)
		}
		if err != nil {
			return nil, err
		}
	}
	return &visit{admin: a, session: s, csrf: csrfToken(c.Value)}, nil
}

// expiry is when a session created at created and used at now ends: the
// earlier of its idle deadline and its absolute one.
func (h *Handler) expiry(created, now time.Time) time.Time {
	idle, end := now.Add(h.cfg.IdleTimeout), created.Add(h.cfg.MaxAge)
	if end.Before(idle) {
		return end.UTC()
	}
	return idle.UTC()
}

// signedIn runs next for a signed-in request; any other is sent to the
// sign-in page (which brings a GET back afterwards). A POST must carry the
// session's CSRF token and come from this site, or it is refused with 403
// and nothing changes.
func (h *Handler) signedIn(next visitHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := h.load(w, r)
		if err != nil {
			h.internalError(w, r, view{}, err)
			return
		}
		if v == nil {
			target := "/dashboard/signin"
			if r.Method == http.MethodGet && r.URL.Path != Prefix {
				target += "?next=" + url.QueryEscape(r.URL.RequestURI())
			}
			redirect(w, r, target)
			return
		}
		if r.Method == http.MethodPost && !h.csrfOK(w, r, v) {
			h.problem(w, http.StatusForbidden, h.baseView(v), "Request refused",
				"The form did not carry a valid security token, so nothing was changed. Reload the page and try again.")
			return
		}
		next(w, r, v)
	}
}

// csrfOK checks a POST's origin and its CSRF token against the session's.
func (h *Handler) csrfOK(w http.ResponseWriter, r *http.Request, v *visit) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		return false
	}
	return sameOrigin(r) && tokenEqual(r.PostForm.Get("csrf"), v.csrf)
}

// baseView is the part of every signed-in page's view that comes from the visit.
func (h *Handler) baseView(v *visit) view {
	if v == nil {
		return view{}
	}
	var tenants []string
	for _, t := range v.admin.Tenants {
		if _, ok := h.cfg.Ring.View(t); ok {
			tenants = append(tenants, t)
		}
	}
	return view{Admin: &v.admin, CSRF: v.csrf, Tenants: tenants}
}

// flash stores a notice for the session's next page.
func (h *Handler) flash(ctx context.Context, v *visit, n notice) error {
	b, err := json.Marshal(n)
	if err != nil {
		return err
	}
	_, err = h.cfg.Store.UpdateAdminSession(ctx, v.session.IDHash, func(s *signet.AdminSession) error {
		s.Flash = string(b)
		return nil
	})
	return err
}

// takeNotice returns the notice flashed for this page, if any, and clears it.
func (h *Handler) takeNotice(ctx context.Context, v *visit) *notice {
	if v.session.Flash == "" {
		return nil
	}
	var n notice
	if err := json.Unmarshal([]byte(v.session.Flash), &n); err != nil {
		h.cfg.Logger.Warn("dashboard: unreadable flash", "err", err)
		return nil
	}
	_, err := h.cfg.Store.UpdateAdminSession(ctx, v.session.IDHash, func(s *signet.AdminSession) error {
		s.Flash = ""
		return nil
	})
	if err != nil {
		h.cfg.Logger.Warn("dashboard: clear flash", "err", err)
	}
	return &n
}

// signInData is the sign-in page's.
type signInData struct {
	Email, Next, Token string
	// Error is why the last attempt failed; Info a note (signed out, expired).
	Error, Info string
}

// signInPage shows the sign-in form, with a fresh double-submit token in a
// cookie and the form. A signed-in administrator goes to the dashboard.
func (h *Handler) signInPage(w http.ResponseWriter, r *http.Request) {
	if v, err := h.load(w, r); err == nil && v != nil {
		redirect(w, r, Prefix)
		return
	}
	d := signInData{Next: safeNext(r.URL.Query().Get("next"))}
	switch r.URL.Query().Get("info") {
	case "signed-out":
		d.Info = "You have signed out."
	}
	if r.URL.Query().Get("next") != "" && d.Info == "" {
		d.Info = "Sign in to continue."
	}
	h.renderSignIn(w, http.StatusOK, d)
}

// renderSignIn renders the sign-in form with a fresh double-submit token.
func (h *Handler) renderSignIn(w http.ResponseWriter, status int, d signInData) {
	d.Token = newID()
	h.setCookie(w, signInCookie, d.Token, "/dashboard/signin", 3600)
	h.render(w, status, "signin", view{Title: "Sign in", Data: d})
}

// errBadCredentials is the one answer to a wrong e-mail or password: it
// does not tell which.
const errBadCredentials = "Wrong e-mail address or password."

// signIn checks the form's e-mail and password and starts a session.
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		h.renderSignIn(w, http.StatusBadRequest, signInData{Error: "The form could not be read. Try again."})
		return
	}
	d := signInData{Email: strings.TrimSpace(r.PostForm.Get("email")), Next: safeNext(r.PostForm.Get("next"))}
	c, err := r.Cookie(h.cookieName(signInCookie))
	if err != nil || !sameOrigin(r) || !tokenEqual(r.PostForm.Get("csrf"), c.Value) {
		d.Error = "The sign-in form had expired. Please sign in again."
		h.renderSignIn(w, http.StatusForbidden, d)
		return
	}
	// Unknown addresses are throttled alike, so the answers tell nothing
	// about which exist.
	key, ip := strings.ToLower(d.Email), throttle.IP(r)
	if wait := h.failures.Wait(key, ip); wait > 0 {
		h.cfg.Logger.Warn("dashboard: sign-in throttled", "email_hash", signet.EmailLogHash(d.Email), "ip", ip)
		secs := throttle.RetryAfter(wait)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		d.Error = "Too many failed sign-ins. Try again in " + humanDuration(time.Duration(secs)*time.Second) + "."
		h.renderSignIn(w, http.StatusTooManyRequests, d)
		return
	}
	a, ok, err := h.authenticate(r.Context(), d.Email, r.PostForm.Get("password"))
	if err != nil {
		h.internalError(w, r, view{}, err)
		return
	}
	if !ok {
		h.failures.Fail(key, ip)
		// Not the e-mail field itself: it may hold a password typed there.
		h.cfg.Logger.Info("dashboard: sign-in failed", "email_hash", signet.EmailLogHash(d.Email), "ip", ip)
		d.Error = errBadCredentials
		h.renderSignIn(w, http.StatusUnauthorized, d)
		return
	}
	h.failures.Succeed(key, ip)
	if err := h.startSession(w, r, a); err != nil {
		h.internalError(w, r, view{}, err)
		return
	}
	h.setCookie(w, signInCookie, "", "/dashboard/signin", -1)
	h.cfg.Logger.Info("dashboard: signed in", "admin", a.Email, "ip", ip)
	if d.Next != "" {
		redirect(w, r, d.Next)
		return
	}
	redirect(w, r, Prefix)
}

// authenticate checks an e-mail and password. An unknown e-mail costs the
// same time as a wrong password. On success it records the sign-in and
// upgrades the hash if its parameters are weaker than today's.
func (h *Handler) authenticate(ctx context.Context, email, pw string) (signet.Admin, bool, error) {
	if err := h.hashing.Enter(ctx); err != nil {
		return signet.Admin{}, false, err
	}
	defer h.hashing.Leave()
	norm, err := signet.NormalizeEmail(email)
	if err != nil || pw == "" {
		password.Burn(pw)
		return signet.Admin{}, false, nil
	}
	a, err := h.cfg.Store.AdminByEmail(ctx, norm)
	if errors.Is(err, signet.ErrAdminNotFound) {
		password.Burn(pw)
		return signet.Admin{}, false, nil
	}
	if err != nil {
		return signet.Admin{}, false, err
	}
	ok, err := password.Verify(a.PasswordHash, pw)
	if err != nil {
		return signet.Admin{}, false, fmt.Errorf("admin %s: stored password hash: %w", a.Email, err)
	}
	if !ok {
		return signet.Admin{}, false, nil
	}
	var rehash string
	if password.NeedsRehash(a.PasswordHash) {
		if rehash, err = password.Hash(pw); err != nil {
			return signet.Admin{}, false, err
		}
	}
	now := h.cfg.Now().UTC()
	a, err = h.cfg.Store.UpdateAdmin(ctx, a.ID, func(a *signet.Admin) error {
		a.LastSignInAt = now
		if rehash != "" {
			a.PasswordHash, a.UpdatedAt = rehash, now
		}
		return nil
	})
	if err != nil {
		return signet.Admin{}, false, err
	}
	return a, true, nil
}

// startSession stores a new session for a and sets its cookie. It also
// deletes sessions that have expired, so that the table does not grow.
func (h *Handler) startSession(w http.ResponseWriter, r *http.Request, a signet.Admin) error {
	ctx := r.Context()
	now := h.cfg.Now()
	if _, err := h.cfg.Store.DeleteExpiredAdminSessions(ctx, now); err != nil {
		h.cfg.Logger.Warn("dashboard: delete expired sessions", "err", err)
	}
	id := newID()
	err := h.cfg.Store.CreateAdminSession(ctx, signet.AdminSession{
		IDHash: secret.Digest(id), AdminID: a.ID,
		CreatedAt: now.UTC(), LastSeenAt: now.UTC(), ExpiresAt: h.expiry(now, now),
	})
	if err != nil {
		return err
	}
	h.setCookie(w, sessionCookie, id, "/dashboard", 0)
	return nil
}

// signOut ends the session.
func (h *Handler) signOut(w http.ResponseWriter, r *http.Request, v *visit) {
	err := h.cfg.Store.DeleteAdminSession(r.Context(), v.session.IDHash)
	if err != nil && !errors.Is(err, signet.ErrAdminSessionNotFound) {
		h.internalError(w, r, h.baseView(v), err)
		return
	}
	h.setCookie(w, sessionCookie, "", "/dashboard", -1)
	h.cfg.Logger.Info("dashboard: signed out", "admin", v.admin.Email)
	redirect(w, r, "/dashboard/signin?info=signed-out")
}
