package oidc

import (
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/password"
	"github.com/signet-auth/signet/internal/reqctx"
	"github.com/signet-auth/signet/internal/secret"
	"github.com/signet-auth/signet/internal/theme"
	"github.com/signet-auth/signet/internal/throttle"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages are the login and message pages; {{theme}} inlines the look they
// share with the dashboard (the CSP admits only the nonce'd style element).
var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"theme": func() template.CSS { return template.CSS(theme.CSS) },
}).ParseFS(templateFS, "templates/*.html"))

// maxFormBytes caps the login form's body.
const maxFormBytes = 16 << 10

// Messages of the login page. The wrong-credentials message is the same
// whether or not the email is registered.
const (
	msgWrongCredentials = "Wrong email or password."
	msgBlocked          = "Your account is blocked. Contact your administrator."
	msgExpiredForm      = "Your sign-in form expired. Please try again."
	msgMissing          = "Enter your email address and password."
)

// page is the data of every template.
type page struct {
	Title  string
	Tenant string
	// App is the name of the application the sign-in continues to, if the
	// return path names one.
	App      string
	Nonce    string // the CSP nonce of the inline style
	Error    string
	Notice   string
	CSRF     string
	ReturnTo string
	Email    string
}

// render writes a template with the security headers every page carries.
func (h *Handler) render(w http.ResponseWriter, status int, name string, p page) {
	p.Nonce = secret.ID(22)
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Pragma", "no-cache")
	hdr.Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+p.Nonce+"'; base-uri 'none'; frame-ancestors 'none'")
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name, p); err != nil {
		h.logger.Error("render page", "page", name, "err", err)
	}
}

// errorPage answers with a page that explains a refused request and links
// nowhere: used whenever redirecting would be unsafe.
func (h *Handler) errorPage(w http.ResponseWriter, req reqctx.Request, status int, title, message string) {
	h.render(w, status, "message", page{Title: title, Tenant: tenantLabel(req), Error: message})
}

func tenantLabel(req reqctx.Request) string {
	if req.View == nil {
		return "Signet"
	}
	return req.View.Tenant.Name
}

// csrfToken binds the login form to the browser (its login cookie) and to
// the return path: HMAC-SHA256 keyed with the cookie's random value.
func csrfToken(cookie, tenant, returnTo string) string {
	m := hmac.New(sha256.New, []byte(cookie))
	m.Write([]byte("signet-login\x00" + tenant + "\x00" + returnTo))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// loginCookie returns the browser's login cookie, setting a fresh one if it
// has none.
func loginCookie(w http.ResponseWriter, r *http.Request, req reqctx.Request) string {
	if c, err := r.Cookie(cookieName(req, csrfCookie)); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	v, _ := secret.New()
	setCookie(w, req, csrfCookie, v, 0)
	return v
}

// serveLoginForm answers GET /login[?return_to=PATH].
func (h *Handler) serveLoginForm(w http.ResponseWriter, r *http.Request) {
	req, ok := request(w, r)
	if !ok {
		return
	}
	returnTo := r.URL.Query().Get("return_to")
	if returnTo != "" && !validReturnPath(returnTo) {
		h.errorPage(w, req, http.StatusBadRequest, "Invalid request", "The page to return to after signing in is not a path on this site.")
		return
	}
	hint := r.URL.Query().Get("login_hint")
	if len(hint) > 254 {
		hint = ""
	}
	h.loginForm(w, r, req, http.StatusOK, returnTo, hint, "")
}

// loginForm renders the login form with a CSRF token for returnTo.
func (h *Handler) loginForm(w http.ResponseWriter, r *http.Request, req reqctx.Request, status int, returnTo, email, msg string) {
	c := loginCookie(w, r, req)
	h.render(w, status, "login", page{
		Title: "Sign in", Tenant: tenantLabel(req), App: h.appName(r, req, returnTo), Error: msg, ReturnTo: returnTo, Email: email,
		CSRF: csrfToken(c, req.View.Tenant.Name, returnTo),
	})
}

// appName returns the name of the application a (valid) return path leads
// to: the client_id of /authorize, or the client of /samlp/{id} and
// /wsfed/{id}. It returns "" when the path names none or the client is
// unknown; the page then names only the tenant.
func (h *Handler) appName(r *http.Request, req reqctx.Request, returnTo string) string {
	u, err := url.Parse(returnTo)
	if err != nil || returnTo == "" {
		return ""
	}
	var id string
	switch seg := strings.Split(strings.TrimPrefix(u.Path, "/"), "/"); {
	case u.Path == "/authorize":
		id = u.Query().Get("client_id")
	case len(seg) == 2 && (seg[0] == "samlp" || seg[0] == "wsfed"):
		id = seg[1]
	}
	if id == "" || len(id) > 128 {
		return ""
	}
	c, err := h.store.Client(r.Context(), req.View.Tenant.Name, id)
	if err != nil {
		return ""
	}
	return c.Name
}

// serveLogin answers POST /login: it checks the CSRF token and the rate
// limits, then the credentials; on success it starts a session and
// redirects (303) to the return path, or shows a "signed in" page.
func (h *Handler) serveLogin(w http.ResponseWriter, r *http.Request) {
	req, ok := request(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.errorPage(w, req, http.StatusBadRequest, "Invalid request", "The sign-in form could not be read.")
		return
	}
	form := r.PostForm
	returnTo := form.Get("return_to")
	if returnTo != "" && !validReturnPath(returnTo) {
		h.errorPage(w, req, http.StatusBadRequest, "Invalid request", "The page to return to after signing in is not a path on this site.")
		return
	}
	tenant := req.View.Tenant.Name
	email, pw := form.Get("email"), form.Get("password")
	c, err := r.Cookie(cookieName(req, csrfCookie))
	if err != nil || !hmac.Equal([]byte(form.Get("csrf")), []byte(csrfToken(c.Value, tenant, returnTo))) {
		h.loginForm(w, r, req, http.StatusForbidden, returnTo, email, msgExpiredForm)
		return
	}
	if email == "" || pw == "" {
		h.loginForm(w, r, req, http.StatusBadRequest, returnTo, email, msgMissing)
		return
	}
	ip := throttle.IP(r)
	norm, emailErr := signet.NormalizeEmail(email)
	account := tenant + "\x00" + norm
	if emailErr != nil {
		account = tenant + "\x00" + email
	}
	ipKey := tenant + "\x00" + ip
	if d := h.limits.Wait(account, ipKey); d > 0 {
		h.logger.Info("sign-in refused: rate limited", "tenant", tenant, "ip", ip)
		secs := throttle.RetryAfter(d)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		h.loginForm(w, r, req, http.StatusTooManyRequests, returnTo, email,
			fmt.Sprintf("Too many failed sign-in attempts. Try again in %s.", humanDuration(secs)))
		return
	}

	u, err := h.checkPassword(r, tenant, norm, emailErr == nil, pw)
	if err != nil {
		h.logger.Error("sign-in", "tenant", tenant, "err", err)
		h.errorPage(w, req, http.StatusInternalServerError, "Something went wrong", "Please try again later.")
		return
	}
	if u == nil {
		h.limits.Fail(account, ipKey)
		h.logger.Info("sign-in refused: wrong credentials", "tenant", tenant, "ip", ip)
		h.loginForm(w, r, req, http.StatusUnauthorized, returnTo, email, msgWrongCredentials)
		return
	}
	h.limits.Succeed(account, ipKey)
	if u.Blocked {
		h.logger.Info("sign-in refused: user blocked", "tenant", tenant, "user_id", u.ID)
		h.loginForm(w, r, req, http.StatusForbidden, returnTo, email, msgBlocked)
		return
	}
	if err := h.startSession(w, r, req, *u); err != nil {
		h.logger.Error("start session", "tenant", tenant, "err", err)
		h.errorPage(w, req, http.StatusInternalServerError, "Something went wrong", "Please try again later.")
		return
	}
	h.recordLogin(r, *u, pw)
	if returnTo != "" {
		http.Redirect(w, r, returnTo, http.StatusSeeOther)
		return
	}
	h.render(w, http.StatusOK, "message", page{Title: "Signed in", Tenant: tenantLabel(req), Notice: "You are signed in as " + u.Email + "."})
}

// checkPassword returns the user whose email and password these are, or
// nil. For an unknown (or malformed) email it burns the time of a password
// check, so that the answer's timing does not tell whether the email exists.
// It waits for a slot of h.hashing first; the error is the request
// context's if that ends meanwhile.
func (h *Handler) checkPassword(r *http.Request, tenant, email string, valid bool, pw string) (*signet.User, error) {
	if err := h.hashing.Enter(r.Context()); err != nil {
		return nil, err
	}
	defer h.hashing.Leave()
	if !valid {
		password.Burn(pw)
		return nil, nil
	}
	u, err := h.users.UserByEmail(r.Context(), tenant, email)
	if errors.Is(err, signet.ErrNotFound) {
		password.Burn(pw)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	ok, err := password.Verify(u.PasswordHash, pw)
	if err != nil {
		// A hash this build cannot read: nobody can sign in with it.
		h.logger.Error("stored password hash unreadable", "tenant", tenant, "user_id", u.ID)
		return nil, nil
	}
	if !ok {
		return nil, nil
	}
	return &u, nil
}

// recordLogin counts the sign-in and upgrades a hash weaker than the
// current parameters. Failures are logged: the user is signed in anyway.
func (h *Handler) recordLogin(r *http.Request, u signet.User, pw string) {
	var rehash string
	if password.NeedsRehash(u.PasswordHash) && h.hashing.Enter(r.Context()) == nil {
		rehash, _ = password.Hash(pw)
		h.hashing.Leave()
	}
	now := h.now().UTC()
	_, err := h.users.UpdateUser(r.Context(), u.Tenant, u.ID, func(u *signet.User) error {
		u.LastLogin = now
		u.LoginsCount++
		if rehash != "" {
			u.PasswordHash = rehash
		}
		return nil
	})
	if err != nil {
		h.logger.Error("record sign-in", "tenant", u.Tenant, "user_id", u.ID, "err", err)
	}
}

// humanDuration renders whole seconds as "N seconds" or "N minutes".
func humanDuration(secs int) string {
	if secs < 60 {
		if secs == 1 {
			return "1 second"
		}
		return strconv.Itoa(secs) + " seconds"
	}
	m := (secs + 59) / 60
	if m == 1 {
		return "1 minute"
	}
	return strconv.Itoa(m) + " minutes"
}
