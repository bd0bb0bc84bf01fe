package dashboard

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/theme"
	"github.com/signet-auth/signet/internal/throttle"
)

// Prefix is the path under which the dashboard is served.
const Prefix = "/dashboard/"

// Defaults of Config.
const (
	DefaultIdleTimeout = 30 * time.Minute
	DefaultMaxAge      = 12 * time.Hour
)

// Store is the part of signet.Store the dashboard uses: administrators,
// their sessions, and the keysets it lists (key changes go through the
// ring). See signet.Store for each method's contract.
type Store interface {
	Admin(ctx context.Context, id string) (signet.Admin, error)
	AdminByEmail(ctx context.Context, email string) (signet.Admin, error)
	UpdateAdmin(ctx context.Context, id string, fn func(*signet.Admin) error) (signet.Admin, error)
	AdminSession(ctx context.Context, idHash []byte) (signet.AdminSession, error)
	CreateAdminSession(ctx context.Context, s signet.AdminSession) error
	UpdateAdminSession(ctx context.Context, idHash []byte, fn func(*signet.AdminSession) error) (signet.AdminSession, error)
	DeleteAdminSession(ctx context.Context, idHash []byte) error
	DeleteExpiredAdminSessions(ctx context.Context, now time.Time) (int, error)
	Keyset(ctx context.Context, tenant string) (signet.Keyset, error)
}

var _ Store = signet.Store(nil)

// Config configures a Handler.
type Config struct {
	// Ring performs key changes and holds each tenant's view.
	Ring *keyring.Ring
	// Store holds administrators and their sessions, and the keys the
	// Signing Keys tab lists (read from the store, not the ring's view, so
	// that a change made through another replica shows at once).
	Store Store
	// JWKSMaxAge is how long clients may cache the JWKS: the Signing Keys
	// tab warns while the next key has been published for less (or less than
	// the tenant's MinNextAge, if longer).
	JWKSMaxAge time.Duration
	// Secure marks cookies Secure: set it when the public URL is https.
	Secure bool
	// IdleTimeout ends a session that has not been used for this long;
	// 0 means DefaultIdleTimeout.
	IdleTimeout time.Duration
	// MaxAge ends a session this long after sign-in whatever its use;
	// 0 means DefaultMaxAge.
	MaxAge time.Duration
	// Limits slow down password guessing per e-mail address and per client
	// IP; zero fields take throttle.DefaultLimits'.
	Limits throttle.Limits
	// Hashing bounds the password checks running at once; share one Gate
	// among every sign-in form of the process. Nil means a Gate of
	// throttle.DefaultHashes for this handler alone.
	Hashing *throttle.Gate
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives internal errors and sign-in events; nil discards them.
	Logger *slog.Logger
}

// Handler serves the dashboard. Create it with New; mount it at Prefix.
type Handler struct {
	cfg   Config
	mux   *http.ServeMux
	pages map[string]*template.Template
	// hashing bounds concurrent password checks: each Argon2id run takes
	// 64 MiB, so a burst of sign-in attempts must queue, not exhaust memory.
	hashing *throttle.Gate
	// failures throttles password guessing per e-mail address and per IP.
	failures *throttle.Guard
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// New returns a Handler for cfg. It panics if the embedded templates do not
// parse, which the package's tests rule out.
func New(cfg Config) *Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.Hashing == nil {
		cfg.Hashing = throttle.NewGate(throttle.DefaultHashes)
	}
	h := &Handler{cfg: cfg, mux: http.NewServeMux(), pages: parsePages(),
		hashing: cfg.Hashing, failures: throttle.New(cfg.Limits, cfg.Now)}
	h.routes()
	return h
}

// routes registers every path. Tenant routes check the session, the grant
// and, for POST, the CSRF token before their handler runs.
func (h *Handler) routes() {
	m := h.mux
	assets, _ := fs.Sub(assetFS, "assets")
	m.Handle("GET /dashboard/assets/", http.StripPrefix("/dashboard/assets/", assetServer(assets)))
	m.HandleFunc("GET /dashboard/assets/theme.css", serveTheme)

	m.HandleFunc("GET /dashboard/{$}", h.signedIn(h.home))
	m.HandleFunc("GET /dashboard/signin", h.signInPage)
	m.HandleFunc("POST /dashboard/signin", h.signIn)
	m.HandleFunc("POST /dashboard/signout", h.signedIn(h.signOut))
	m.HandleFunc("GET /dashboard/switch", h.signedIn(h.switchTenant))

	m.HandleFunc("GET /dashboard/tenants/{tenant}/{$}", h.tenant(h.tenantHome))
	m.HandleFunc("GET /dashboard/tenants/{tenant}/settings", h.tenant(h.general))
	m.HandleFunc("GET /dashboard/tenants/{tenant}/settings/signing-keys", h.tenant(h.signingKeys))
	m.HandleFunc("GET /dashboard/tenants/{tenant}/settings/signing-keys/rotate", h.tenant(h.confirmRotate))
	m.HandleFunc("POST /dashboard/tenants/{tenant}/settings/signing-keys/rotate", h.tenant(h.rotate))
	m.HandleFunc("GET /dashboard/tenants/{tenant}/settings/signing-keys/revoke-previous", h.tenant(h.confirmRevokePrevious))
	m.HandleFunc("POST /dashboard/tenants/{tenant}/settings/signing-keys/revoke-previous", h.tenant(h.revokePrevious))
	m.HandleFunc("GET /dashboard/tenants/{tenant}/settings/signing-keys/{kid}/revoke", h.tenant(h.confirmRevoke))
	m.HandleFunc("POST /dashboard/tenants/{tenant}/settings/signing-keys/{kid}/revoke", h.tenant(h.revoke))
	m.HandleFunc("GET /dashboard/tenants/{tenant}/settings/signing-keys/{kid}/certificate.pem", h.tenant(h.certificatePEM))
	m.HandleFunc("GET /dashboard/tenants/{tenant}/settings/signing-keys/{kid}/certificate.cer", h.tenant(h.certificateCER))

	m.HandleFunc("/dashboard/", h.notFound)
}

// ServeHTTP serves a dashboard request with the headers every answer carries.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "+
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "same-origin")
	h.mux.ServeHTTP(w, r)
}

// assetServer serves the embedded assets; they change only with the binary.
func assetServer(assets fs.FS) http.Handler {
	files := http.FileServerFS(assets)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no directory listings
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}

// serveTheme serves theme.CSS, the look the dashboard shares with the
// login page, like the embedded assets.
func serveTheme(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	http.ServeContent(w, r, "theme.css", time.Time{}, strings.NewReader(theme.CSS))
}

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"stamp":    stamp,
	"iso":      func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) },
	"second":   func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") },
	"duration": humanDuration,
	"short":    shortKID,
	"args":     args,
}

// args makes a map of alternating keys and values, to hand several values
// to a sub-template.
func args(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, fmt.Errorf("args: odd number of arguments")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("args: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

// parsePages parses each page template with the shared layout.
func parsePages() map[string]*template.Template {
	base := template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/parts.html"))
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, name := range names {
		short := strings.TrimSuffix(strings.TrimPrefix(name, "templates/"), ".html")
		if short == "layout" || short == "parts" {
			continue
		}
		pages[short] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, name))
	}
	return pages
}

// view is what every page template gets.
type view struct {
	Title string
	// Admin is the signed-in administrator; nil on the sign-in page.
	Admin *signet.Admin
	// CSRF is the session's CSRF token for forms.
	CSRF string
	// Tenant is the tenant the page is about ("" for none), Tab the active
	// tab of Tenant Settings.
	Tenant string
	Tab    string
	// Tenants are the tenants the admin may switch to.
	Tenants []string
	// Notice is the outcome of the last action, shown once.
	Notice *notice
	// Data is the page's own.
	Data any
}

// render writes page with status, or a plain 500 if it fails.
func (h *Handler) render(w http.ResponseWriter, status int, page string, v view) {
	t, ok := h.pages[page]
	if !ok {
		panic("dashboard: no page " + page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		h.cfg.Logger.Error("dashboard: render page", "page", page, "err", err)
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// problem renders an error page with status: title and message are shown
// to the administrator as they are.
func (h *Handler) problem(w http.ResponseWriter, status int, v view, title, message string) {
	v.Title = title
	v.Data = struct{ Title, Message string }{title, message}
	h.render(w, status, "problem", v)
}

// notFound answers any other path under /dashboard/.
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.problem(w, http.StatusNotFound, view{}, "Page not found", "There is no dashboard page at this address.")
}

// internalError logs err and renders a page that says nothing changed
// where that is so.
func (h *Handler) internalError(w http.ResponseWriter, r *http.Request, v view, err error) {
	h.cfg.Logger.Error("dashboard: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	h.problem(w, http.StatusInternalServerError, v, "Something went wrong",
		"The dashboard could not complete the request. Try again; if it keeps failing, the server log has the details.")
}

// redirect answers 303 See Other to a path of the dashboard.
func redirect(w http.ResponseWriter, r *http.Request, path string) {
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// keysPath is the Signing Keys tab of tenant.
func keysPath(tenant string) string {
	return "/dashboard/tenants/" + tenant + "/settings/signing-keys"
}

// safeNext returns next if it is a path of the dashboard on this host —
// no scheme, host or user, no backslashes or control characters, no dot
// segments (encoded or not) — else "".
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix) || strings.ContainsFunc(next, func(r rune) bool { return r == '\\' || r < ' ' || r == 0x7f }) {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return ""
	}
	if clean := path.Clean(u.Path); clean != u.Path && clean+"/" != u.Path || !strings.HasPrefix(clean+"/", Prefix) {
		return ""
	}
	return next
}

// stamp formats a time for people: UTC to the second; "—" for the zero time.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// humanDuration renders d in the largest whole unit that keeps it exact
// enough to read: "less than a second", "45 seconds", "5 minutes",
// "2 hours 5 minutes", "3 days".
func humanDuration(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return strconv.FormatInt(n, 10) + " " + unit + "s"
	}
	switch {
	case d < time.Second:
		return "less than a second"
	case d < time.Minute:
		return plural(int64(d/time.Second), "second")
	case d < time.Hour:
		return plural(int64(d/time.Minute), "minute")
	case d < 24*time.Hour:
		s := plural(int64(d/time.Hour), "hour")
		if m := int64(d%time.Hour) / int64(time.Minute); m > 0 {
			s += " " + plural(m, "minute")
		}
		return s
	}
	return plural(int64(d/(24*time.Hour)), "day")
}

// shortKID abbreviates a kid for headings and notices: its first 12
// characters and an ellipsis; the full kid is always on the page too.
func shortKID(kid string) string {
	if len(kid) <= 16 {
		return kid
	}
	return kid[:12] + "…"
}
