package ringtest

import (
	"bytes"
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/signet-auth/signet"
	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/password"
	"github.com/signet-auth/signet/internal/secret"
	"github.com/signet-auth/signet/internal/server"
)

// FastPasswords are Argon2id parameters cheap enough for tests that sign in
// hundreds of times. A TestMain sets password.Default to them; a hash
// records its parameters, so password.Verify checks it as any other.
var FastPasswords = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// Serve creates tenant (algorithm alg; "" means RS256) owning the loopback
// address of a new test server, and serves it there with the real
// internal/server handler over e.Ring and handlers until tb's test ends.
// The tenant's issuer is the server's URL with a trailing slash.
func (e *Env) Serve(tb testing.TB, tenant, alg string, handlers ...server.Registrar) *httptest.Server {
	tb.Helper()
	srv := httptest.NewUnstartedServer(nil)
	if _, err := e.Ring.CreateTenant(context.Background(), tenant, []string{srv.Listener.Addr().String()}, alg, "test"); err != nil {
		srv.Close()
		tb.Fatal(err)
	}
	srv.Config.Handler = server.New(server.Config{Ring: e.Ring, Handlers: handlers}).Handler()
	srv.Start()
	tb.Cleanup(srv.Close)
	return srv
}

// CreateUser stores u with the password pw, hashed with password.Default,
// and returns it. An empty ID gets a fresh one and zero CreatedAt and
// UpdatedAt get the Ring's clock.
func (e *Env) CreateUser(tb testing.TB, u signet.User, pw string) signet.User {
	tb.Helper()
	hash, err := password.Hash(pw)
	if err != nil {
		tb.Fatal(err)
	}
	u.PasswordHash = hash
	if u.ID == "" {
		u.ID = secret.UserID()
	}
	now := e.now()
	if u.CreatedAt.IsZero() {
		u.CreatedAt = now
	}
	if u.UpdatedAt.IsZero() {
		u.UpdatedAt = now
	}
	if err := e.Store.CreateUser(context.Background(), u); err != nil {
		tb.Fatal(err)
	}
	return u
}

// AdminClient stores a machine-to-machine client of tenant, granted every
// scope of keyring.ManagementScopes and then extra for audience, and
// returns its id and secret.
func (e *Env) AdminClient(tb testing.TB, tenant, audience string, extra ...string) (id, sec string) {
	tb.Helper()
	ctx := context.Background()
	id = secret.ClientID()
	sec, digest := secret.New()
	if err := e.Store.CreateClient(ctx, signet.Client{Tenant: tenant, ClientID: id, Name: "admin", AppType: "non_interactive",
		SecretHash: digest, GrantTypes: []string{"client_credentials"}}); err != nil {
		tb.Fatal(err)
	}
	var scopes []string
	for _, s := range keyring.ManagementScopes {
		scopes = append(scopes, s.Value)
	}
	if err := e.Store.CreateClientGrant(ctx, signet.ClientGrant{Tenant: tenant, ID: secret.GrantID(),
		ClientID: id, Audience: audience, Scope: append(scopes, extra...)}); err != nil {
		tb.Fatal(err)
	}
	return id, sec
}

// now reads the Ring's clock.
func (e *Env) now() time.Time {
	if e.cfg.Now != nil {
		return e.cfg.Now()
	}
	return time.Now()
}

// Clock is a settable clock for the parts under test, safe for concurrent
// use: hand them its Now and move it with Add.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock that reads t until it is moved.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock by d (back if d is negative).
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Buffer collects log output written from many goroutines, as a server's
// logger writes it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Browser returns an HTTP client with its own cookie jar that does not
// follow redirects, for a test that plays a browser and looks at each step.
func Browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
