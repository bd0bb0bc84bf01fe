package oidc_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
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
	"github.com/signet-auth/signet/internal/oidc"
	"github.com/signet-auth/signet/internal/password"
	"github.com/signet-auth/signet/internal/ringtest"
	"github.com/signet-auth/signet/internal/secret"
	"github.com/signet-auth/signet/internal/server"
	"github.com/signet-auth/signet/internal/sqlite"
)

var pool *keygen.Pool

func TestMain(m *testing.M) {
	// Cheap hashes: the tests sign in hundreds of times. The parameters are
	// recorded in each hash, so Verify is unchanged.
	password.Default = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	pool = keygen.NewPool(4)
	os.Exit(ringtest.Main(m, pool))
}

// clock is a settable clock for the handlers.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// registrar adapts a function to server.Registrar.
type registrar func(*http.ServeMux)

func (f registrar) Register(mux *http.ServeMux) { f(mux) }

// env is one tenant served by the real server on loopback, with the oidc
// handler (and whatever extra tests mount) on real parts under it.
type env struct {
	t     *testing.T
	store *sqlite.DB
	ring  *keyring.Ring
	h     *oidc.Handler
	clock *clock
	srv   *httptest.Server
	base  string // http://127.0.0.1:PORT
	host  string
}

type envOptions struct {
	limits oidc.Limits
	// extra handlers on the tenant mux.
	extra []server.Registrar
}

func newEnv(t *testing.T, opt envOptions) *env {
	t.Helper()
	re := ringtest.New(t, ringtest.Options{Pool: pool})
	e := &env{t: t, store: re.Store, ring: re.Ring, clock: &clock{t: time.Now().UTC().Truncate(time.Second)}}
	e.h = oidc.New(oidc.Config{Ring: re.Ring, Store: re.Store, Users: re.Store, Now: e.clock.Now, Limits: opt.limits})
	handlers := append([]server.Registrar{e.h, registrar(func(mux *http.ServeMux) {
		mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
			u, at, ok := e.h.Session(r)
			if !ok {
				http.Error(w, "no session", http.StatusUnauthorized)
				return
			}
			io.WriteString(w, u.Email+" "+at.UTC().Format(time.RFC3339))
		})
	})}, opt.extra...)
	e.srv = httptest.NewUnstartedServer(nil)
	e.host = e.srv.Listener.Addr().String()
	e.base = "http://" + e.host
	if _, err := re.Ring.CreateTenant(context.Background(), "default", []string{e.host}, ""); err != nil {
		t.Fatal(err)
	}
	e.srv.Config.Handler = server.New(server.Config{Ring: re.Ring, Handlers: handlers}).Handler()
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	return e
}

// user creates a user of the tenant with a password.
func (e *env) user(email, pw string) signet.User {
	e.t.Helper()
	hash, err := password.Hash(pw)
	if err != nil {
		e.t.Fatal(err)
	}
	now := e.clock.Now()
	u := signet.User{Tenant: "default", ID: secret.UserID(),
		Email: email, Name: "User " + email, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	if err := e.store.CreateUser(context.Background(), u); err != nil {
		e.t.Fatal(err)
	}
	return u
}

// browser is an HTTP client with a cookie jar that does not follow redirects.
type browser struct {
	t   *testing.T
	e   *env
	c   *http.Client
	jar *cookiejar.Jar
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, e: e, jar: jar, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
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
func csrf(t *testing.T, page string) string {
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
