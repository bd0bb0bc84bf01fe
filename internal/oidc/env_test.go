package oidc_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/keygen"
	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/mgmt"
	"github.com/signet-auth/signet/internal/mgmt/openapitest"
	"github.com/signet-auth/signet/internal/oauth"
	"github.com/signet-auth/signet/internal/oidc"
	"github.com/signet-auth/signet/internal/password"
	"github.com/signet-auth/signet/internal/ringtest"
	"github.com/signet-auth/signet/internal/secret"
	"github.com/signet-auth/signet/internal/server"
	"github.com/signet-auth/signet/internal/sqlite"
)

var pool = keygen.NewPool(4)

// productionParams are the Argon2id parameters of a real deployment, for
// the benchmarks.
var productionParams = password.Default

func TestMain(m *testing.M) {
	// Cheap hashes: the tests sign in hundreds of times.
	password.Default = ringtest.FastPasswords
	os.Exit(ringtest.Main(m, pool))
}

// registrar adapts a function to server.Registrar.
type registrar func(*http.ServeMux)

func (f registrar) Register(mux *http.ServeMux) { f(mux) }

// env is one tenant served by the real server on loopback, with the oidc
// handler (and whatever extra tests mount) on real parts under it.
type env struct {
	t     testing.TB
	store *sqlite.DB
	ring  *keyring.Ring
	h     *oidc.Handler
	clock *ringtest.Clock
	srv   *httptest.Server
	base  string // http://127.0.0.1:PORT
	host  string
	re    *ringtest.Env
}

type envOptions struct {
	limits oidc.Limits
	// logs, if set, receives the handler's log (text).
	logs *ringtest.Buffer
	// extra handlers on the tenant mux.
	extra []server.Registrar
	// mgmt mounts the Management API too.
	mgmt bool
}

func newEnv(t testing.TB, opt envOptions) *env {
	t.Helper()
	re := ringtest.New(t, ringtest.Options{Pool: pool})
	e := &env{t: t, store: re.Store, ring: re.Ring, re: re, clock: ringtest.NewClock(time.Now().UTC().Truncate(time.Second))}
	cfg := oidc.Config{Ring: re.Ring, Store: re.Store, Users: re.Store, Now: e.clock.Now, Limits: opt.limits}
	if opt.logs != nil {
		cfg.Logger = slog.New(slog.NewTextHandler(opt.logs, nil))
	}
	e.h = oidc.New(cfg)
	handlers := append([]server.Registrar{e.h, oauth.New(oauth.Config{Ring: re.Ring, Store: re.Store, Now: e.clock.Now, Provider: e.h}), registrar(func(mux *http.ServeMux) {
		mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
			u, at, ok := e.h.Session(r)
			if !ok {
				http.Error(w, "no session", http.StatusUnauthorized)
				return
			}
			io.WriteString(w, u.Email+" "+at.UTC().Format(time.RFC3339))
		})
	})}, opt.extra...)
	if opt.mgmt {
		handlers = append(handlers, mgmt.New(mgmt.Config{Ring: re.Ring, Store: re.Store, Now: e.clock.Now}))
	}
	// As ringtest.Env.Serve, with every answer checked against the
	// OpenAPI document.
	e.srv = httptest.NewUnstartedServer(nil)
	if _, err := re.Ring.CreateTenant(context.Background(), "default", []string{e.srv.Listener.Addr().String()}, "", "test"); err != nil {
		e.srv.Close()
		t.Fatal(err)
	}
	e.srv.Config.Handler = e.checked(server.New(server.Config{Ring: re.Ring, Handlers: handlers}).Handler())
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	e.host = e.srv.Listener.Addr().String()
	e.base = e.srv.URL
	return e
}

// contract is the OpenAPI document's validator, loaded once.
var contract = sync.OnceValues(openapitest.Load)

// testRoutes are the fixture's own routes, which the document does not have.
var testRoutes = map[string]bool{"/whoami": true}

// checked returns h behind a check of every answer, but those of
// testRoutes, against the OpenAPI document (mgmt.OpenAPI); a mismatch fails
// the test. Benchmarks get h as it is, so that they measure the handlers.
func (e *env) checked(h http.Handler) http.Handler {
	if _, ok := e.t.(*testing.B); ok {
		return h
	}
	v, err := contract()
	if err != nil {
		e.t.Fatal(err)
	}
	c := v.Handler(e.t, h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if testRoutes[r.URL.Path] {
			h.ServeHTTP(w, r)
			return
		}
		c.ServeHTTP(w, r)
	})
}

// user creates a user of the tenant with a password.
func (e *env) user(email, pw string) signet.User {
	e.t.Helper()
	now := e.clock.Now()
	return e.re.CreateUser(e.t, signet.User{Tenant: "default", Email: email, Name: "User " + email, CreatedAt: now, UpdatedAt: now}, pw)
}

// browser is an HTTP client with a cookie jar that does not follow redirects.
type browser struct {
	t testing.TB
	e *env
	c *http.Client
}

func (e *env) browser() *browser {
	return &browser{t: e.t, e: e, c: ringtest.Browser()}
}

// response is what a test looks at.
type response struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(method, path string, form url.Values) response {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	target := path
	if !strings.HasPrefix(path, "http") {
		target = b.e.base + path
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	rb, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: string(rb)}
}

var (
	csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	nonce     = regexp.MustCompile(`nonce="[^"]+"`)
)

// csrf returns the CSRF token of a rendered login form.
func csrf(t testing.TB, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf field in %s", page)
	}
	return m[1]
}

// login opens the login page for returnTo and submits email and password.
func (b *browser) login(returnTo, email, pw string) response {
	b.t.Helper()
	p := b.do("GET", oidc.LoginURL(returnTo), nil)
	if p.status != 200 {
		b.t.Fatalf("GET login page = %d %s", p.status, p.body)
	}
	return b.do("POST", "/login", url.Values{"csrf": {csrf(b.t, p.body)}, "return_to": {returnTo}, "email": {email}, "password": {pw}})
}

// whoami returns the session's email, or "" without a session.
func (b *browser) whoami() string {
	b.t.Helper()
	r := b.do("GET", "/whoami", nil)
	if r.status != 200 {
		return ""
	}
	email, _, _ := strings.Cut(r.body, " ")
	return email
}

// callback is the redirect URI of the test applications.
const callback = "http://app.example/callback"

// client creates an application of the tenant; public ones have no secret.
func (e *env) client(public bool, grantTypes ...string) (id, sec string) {
	e.t.Helper()
	if len(grantTypes) == 0 {
		grantTypes = []string{"authorization_code", "refresh_token"}
	}
	c := signet.Client{Tenant: "default", ClientID: secret.ClientID(), Name: "app", AppType: "regular_web",
		GrantTypes: grantTypes, Callbacks: []string{callback, "http://app.example/other"},
		AllowedLogoutURLs: []string{"http://app.example/bye"}, TokenEndpointAuthMethod: "client_secret_post"}
	if public {
		c.AppType, c.TokenEndpointAuthMethod = "spa", "none"
	} else {
		sec, c.SecretHash = secret.New()
	}
	if err := e.store.CreateClient(context.Background(), c); err != nil {
		e.t.Fatal(err)
	}
	return c.ClientID, sec
}

// api creates a resource server with two scopes.
func (e *env) api(identifier string) {
	e.t.Helper()
	rs := signet.ResourceServer{Tenant: "default", ID: secret.ID(24), Name: "API", Identifier: identifier,
		Scopes: []signet.Scope{{Value: "read:things"}, {Value: "write:things"}}, SigningAlg: "RS256", TokenLifetime: 3600}
	if err := e.store.CreateResourceServer(context.Background(), rs); err != nil {
		e.t.Fatal(err)
	}
}

// authorize drives a browser through /authorize with params: it follows
// redirects on the provider (signing in with email and pw on the login page
// if asked) and returns the final redirect to the application.
func (b *browser) authorize(params url.Values, email, pw string) *url.URL {
	b.t.Helper()
	next := "/authorize?" + params.Encode()
	for range 5 {
		r := b.do("GET", next, nil)
		if r.status == http.StatusOK && strings.Contains(r.body, `name="password"`) {
			u, _ := url.Parse(next)
			r = b.do("POST", "/login", url.Values{"csrf": {csrf(b.t, r.body)}, "return_to": {u.Query().Get("return_to")},
				"email": {email}, "password": {pw}})
		}
		if r.status != http.StatusFound && r.status != http.StatusSeeOther {
			b.t.Fatalf("GET %s = %d %s", next, r.status, r.body)
		}
		loc, err := url.Parse(r.header.Get("Location"))
		if err != nil {
			b.t.Fatal(err)
		}
		if loc.Host != "" && loc.Host != b.e.host {
			return loc
		}
		next = loc.RequestURI()
	}
	b.t.Fatal("too many redirects")
	return nil
}

// currentKID is the kid of the tenant's current key.
func (e *env) currentKID() string {
	e.t.Helper()
	v, ok := e.ring.View("default")
	if !ok {
		e.t.Fatal("no view")
	}
	return v.Current.KID
}

// kidOf returns the kid in a JWT's header.
func kidOf(t *testing.T, raw string) string {
	t.Helper()
	h, _, _ := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	var hdr struct {
		KID string `json:"kid"`
	}
	if err := json.Unmarshal(b, &hdr); err != nil {
		t.Fatal(err)
	}
	return hdr.KID
}
