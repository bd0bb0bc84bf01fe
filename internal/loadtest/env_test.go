package loadtest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-auth/signet/internal/keygen"
	"github.com/signet-auth/signet/internal/keyring"
	"github.com/signet-auth/signet/internal/loadtest"
	"github.com/signet-auth/signet/internal/mgmt"
	"github.com/signet-auth/signet/internal/oauth"
	"github.com/signet-auth/signet/internal/ringtest"
	"github.com/signet-auth/signet/internal/server"
)

// pool pre-generates keys for every test of the package.
var pool = keygen.NewPool(4)

func TestMain(m *testing.M) { os.Exit(ringtest.Main(m, pool)) }

// host is the tenant's host: every replica is reached with it, as behind a
// load balancer.
const (
	host     = "signet.test"
	issuer   = "http://" + host + "/"
	audience = issuer + "api/v2/"
)

// fleet is one tenant served by several in-process replicas on one SQLite
// store: real rings, handlers and HTTP servers on loopback.
type fleet struct {
	env      *ringtest.Env
	replicas []*replica
	admin    loadtest.Credentials
}

// replica is one Ring behind a real HTTP server; requests counts the JWKS
// requests it answered.
type replica struct {
	ring     *keyring.Ring
	url      string
	requests atomic.Int64
}

// newFleet starts n replicas whose JWKS max-age is maxAge. The replicas
// listed in stalled never learn of changes made elsewhere (their ring does
// not run), as a replica that lost its change feed and resync.
func newFleet(t *testing.T, n int, maxAge time.Duration, stalled ...int) *fleet {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	env := ringtest.New(t, ringtest.Options{Pool: pool})
	if _, err := env.Ring.CreateTenant(ctx, "default", []string{host}, "", "test"); err != nil {
		t.Fatal(err)
	}
	f := &fleet{env: env}
	for i := range n {
		ring := env.Ring
		if i > 0 {
			ring = env.Replica()
		}
		if err := ring.Load(ctx); err != nil {
			t.Fatal(err)
		}
		isStalled := false
		for _, s := range stalled {
			isStalled = isStalled || s == i
		}
		if !isStalled {
			go ring.Run(ctx)
		}
		r := &replica{ring: ring}
		h := server.New(server.Config{Ring: ring, Handlers: []server.Registrar{
			oauth.New(oauth.Config{Ring: ring, Store: env.Store, JWKSMaxAge: maxAge}),
			mgmt.New(mgmt.Config{Ring: ring, Store: env.Store}),
		}}).Handler()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if req.URL.Path == "/.well-known/jwks.json" {
				r.requests.Add(1)
			}
			h.ServeHTTP(w, req)
		}))
		t.Cleanup(srv.Close)
		r.url = srv.URL
		f.replicas = append(f.replicas, r)
	}
	id, sec := env.AdminClient(t, "default", audience)
	f.admin = loadtest.Credentials{ClientID: id, ClientSecret: sec, Audience: audience}
	return f
}

// urls returns the replicas' base URLs.
func (f *fleet) urls() []string {
	var out []string
	for _, r := range f.replicas {
		out = append(out, r.url)
	}
	return out
}

// testClient makes the tests' own requests (each sets the Host header).
var testClient = &http.Client{Timeout: 10 * time.Second}

// token gets a client_credentials token from replica i.
func (f *fleet) token(t *testing.T, i int) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {f.admin.ClientID},
		"client_secret": {f.admin.ClientSecret}, "audience": {audience}}
	req, err := http.NewRequest(http.MethodPost, f.replicas[i].url+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != 200 {
		t.Fatalf("token: status %d, %v", resp.StatusCode, err)
	}
	return tok.AccessToken
}
