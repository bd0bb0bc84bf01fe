package dashboard_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/dashboard"
	"github.com/signet-auth/signet/internal/keygen"
	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/password"
	"github.com/signet-auth/signet/internal/ringtest"
)

var pool = keygen.NewPool(8)

// productionParams are password.Default as shipped, before TestMain lowers it.
var productionParams = password.Default

func TestMain(m *testing.M) {
	// Cheap hashes: these tests are about the dashboard, not Argon2id's cost.
	// Not ringtest.FastPasswords: passwordHashWith must stay weaker than these.
	password.Default = password.Params{Memory: 8 * 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	os.Exit(ringtest.Main(m, pool))
}

const (
	alicePassword = "correct horse battery staple"
	jwksMaxAge    = 5 * time.Minute
)

// env is the dashboard on real parts: a SQLite store, a keyring with two
// tenants (acme, rival), administrator alice granted acme only, and bob
// granted both, served over loopback HTTP.
type env struct {
	t     *testing.T
	rt    *ringtest.Env
	clock *ringtest.Clock
	srv   *httptest.Server
	logs  *ringtest.Buffer
	alice signet.Admin
	bob   signet.Admin
}

// newEnv starts the dashboard; opts, if given, changes its Config.
func newEnv(t *testing.T, opts ...func(*dashboard.Config)) *env {
	t.Helper()
	c := ringtest.NewClock(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC))
	rt := ringtest.New(t, ringtest.Options{Pool: pool, Now: c.Now, JWKSMaxAge: jwksMaxAge})
	e := &env{t: t, rt: rt, clock: c, logs: &ringtest.Buffer{}}
	ctx := t.Context()
	for _, name := range []string{"acme", "rival"} {
		if _, err := rt.Ring.CreateTenant(ctx, name, []string{name + ".example.com"}, "", "test"); err != nil {
			t.Fatal(err)
		}
	}
	e.alice = e.createAdmin("adm-alice", "alice@example.com", alicePassword, "acme")
	e.bob = e.createAdmin("adm-bob", "bob@example.com", "bob's password", "acme", "rival")
	cfg := dashboard.Config{Ring: rt.Ring, Store: rt.Store, JWKSMaxAge: jwksMaxAge, Now: c.Now,
		Logger: slog.New(slog.NewTextHandler(e.logs, nil))}
	for _, o := range opts {
		o(&cfg)
	}
	mux := http.NewServeMux()
	mux.Handle(dashboard.Prefix, dashboard.New(cfg))
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) createAdmin(id, email, pw string, tenants ...string) signet.Admin {
	e.t.Helper()
	hash, err := password.Hash(pw)
	if err != nil {
		e.t.Fatal(err)
	}
	a := signet.Admin{ID: id, Email: email, PasswordHash: hash, Tenants: tenants, CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()}
	if err := e.rt.Store.CreateAdmin(e.t.Context(), a); err != nil {
		e.t.Fatal(err)
	}
	return a
}

// keyset returns a tenant's stored keys.
func (e *env) keyset(tenant string) signet.Keyset {
	e.t.Helper()
	ks, err := e.rt.Store.Keyset(e.t.Context(), tenant)
	if err != nil {
		e.t.Fatal(err)
	}
	return ks
}

// events returns a tenant's audit events, newest first.
func (e *env) events(tenant string) []signet.Event {
	e.t.Helper()
	evs, err := e.rt.Store.Events(e.t.Context(), tenant, signet.EventFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}

// browser is a client with its own cookies that does not follow redirects.
type browser struct {
	e      *env
	client *http.Client
}

func (e *env) browser() *browser {
	return &browser{e: e, client: ringtest.Browser()}
}

// response is a finished request.
type response struct {
	status int
	header http.Header
	body   string
}

func (r response) location() string { return r.header.Get("Location") }

func (b *browser) do(req *http.Request) response {
	b.e.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

func (b *browser) get(path string) response {
	b.e.t.Helper()
	req, err := http.NewRequest("GET", b.e.srv.URL+path, nil)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return b.do(req)
}

// post sends a form; header, if given, adds headers.
func (b *browser) post(path string, form url.Values, header ...string) response {
	b.e.t.Helper()
	req, err := http.NewRequest("POST", b.e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the CSRF token of the first form on the page at path.
func (b *browser) csrf(path string) string {
	b.e.t.Helper()
	r := b.get(path)
	m := csrfField.FindStringSubmatch(r.body)
	if r.status != http.StatusOK || m == nil {
		b.e.t.Fatalf("GET %s = %d, no csrf field:\n%s", path, r.status, r.body)
	}
	return m[1]
}

// signIn signs in through the form and fails the test unless it works.
func (b *browser) signIn(email, pw string) {
	b.e.t.Helper()
	token := b.csrf("/dashboard/signin")
	r := b.post("/dashboard/signin", url.Values{"email": {email}, "password": {pw}, "csrf": {token}})
	if r.status != http.StatusSeeOther || r.location() != "/dashboard/" {
		b.e.t.Fatalf("sign-in as %s = %d → %q:\n%s", email, r.status, r.location(), r.body)
	}
}

// cookie returns the browser's cookie name for the dashboard, or nil.
func (b *browser) cookie(name string) *http.Cookie {
	u, _ := url.Parse(b.e.srv.URL + "/dashboard/")
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

const keysPage = "/dashboard/tenants/acme/settings/signing-keys"

// view returns the ring's current view of tenant.
func (e *env) view(tenant string) *keyring.View {
	e.t.Helper()
	v, ok := e.rt.Ring.View(tenant)
	if !ok {
		e.t.Fatalf("no view of %s", tenant)
	}
	return v
}

// passwordHashWith hashes pw with parameters weaker than the tests' default.
func passwordHashWith(t *testing.T, pw string) (string, error) {
	t.Helper()
	return password.HashWith(password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, pw)
}

// httptestServer serves h on loopback until the test ends and returns its URL.
func httptestServer(t *testing.T, h http.Handler) string {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s.URL
}
